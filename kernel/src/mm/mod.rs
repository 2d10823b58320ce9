//! Generic memory management: address types, the physical memory map, the
//! frame allocator and the kernel heap.

pub mod addr;
#[cfg(target_os = "none")]
pub mod address_space;
pub mod fault;
pub mod frame;
pub mod heap;
#[cfg(target_os = "none")]
pub mod kasan;
#[cfg(target_os = "none")]
pub mod kasan_report;
#[cfg(target_os = "none")]
pub mod kernel_page;
pub mod memory_map;
#[cfg(target_os = "none")]
pub mod populate;
#[cfg(target_os = "none")]
pub mod refpage;
#[cfg(target_os = "none")]
pub mod remote;
#[cfg(target_os = "none")]
pub mod shared_memory;
pub mod tagged_addr;
#[cfg(target_os = "none")]
pub mod uaccess;
pub mod vma;
#[cfg(target_os = "none")]
pub mod zero_page;
