//! Kernel heap: `linked_list_allocator` over a fixed region of the image.
//!
//! The region lives in the `.heap` section (see linker.ld), which is not
//! cleared at boot. It must exist before anything else because the device-tree
//! walk and the frame allocator's buddy lists allocate.

use linked_list_allocator::LockedHeap;

/// 48 MiB: the frame allocator's lists, and a few KiB per process or thread
/// for up to `process::MAX_PROCESSES` of them (a fork bomb must hit EAGAIN
/// before the heap runs out). Not cleared at boot, so it costs no time.
pub const HEAP_SIZE: usize = 48 << 20;

#[cfg(target_os = "none")]
#[global_allocator]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

#[cfg(not(target_os = "none"))]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

#[cfg(target_os = "none")]
#[link_section = ".heap"]
static mut HEAP_SPACE: [u8; HEAP_SIZE] = [0; HEAP_SIZE];

/// Hands the heap region to the allocator. Called once, first thing at boot.
#[cfg(target_os = "none")]
pub fn init() {
    // SAFETY: HEAP_SPACE is used by nothing but this allocator, and init runs
    // once on the boot CPU before any allocation.
    unsafe {
        ALLOCATOR.lock().init(core::ptr::addr_of_mut!(HEAP_SPACE).cast(), HEAP_SIZE);
    }
}

/// Bytes currently allocated from the kernel heap.
pub fn used_bytes() -> usize {
    ALLOCATOR.lock().used()
}
