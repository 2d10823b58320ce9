//! Generic memory management: address types, the physical memory map, the
//! frame allocator and the kernel heap.

pub mod addr;
#[cfg(target_os = "none")]
pub mod address_space;
#[cfg(target_os = "none")]
pub mod fault;
pub mod frame;
pub mod heap;
pub mod memory_map;
#[cfg(target_os = "none")]
pub mod uaccess;
pub mod vma;
