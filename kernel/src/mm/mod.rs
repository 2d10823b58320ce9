//! Generic memory management: address types, the physical memory map, the
//! frame allocator and the kernel heap.

pub mod addr;
pub mod fault;
pub mod frame;
pub mod frame_cache;
pub mod heap;
pub mod memory_map;
pub mod tagged_addr;
pub mod tlb_gather;
pub mod vma;

// Kernel-only: not built for the host unit tests (main.rs: kernel_only!).
kernel_only! {
    pub mod address_space;
    pub mod kasan;
    pub mod kasan_report;
    pub mod kernel_page;
    pub mod long_walk;
    pub mod mmap_lock;
    pub mod page_pin;
    pub mod page_table_lock;
    pub mod populate;
    pub mod refpage;
    pub mod remote;
    pub mod shared_memory;
    pub mod uaccess;
    pub mod zero_page;
}
