//! Generic memory management: address types, the physical memory map, the
//! frame allocator and the kernel heap.

pub mod addr;
pub mod frame;
pub mod heap;
pub mod memory_map;
