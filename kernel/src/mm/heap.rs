//! Kernel heap: `linked_list_allocator` over a fixed region of the image.
//!
//! The region lives in the `.heap` section (see linker.ld), which is not
//! cleared at boot. It must exist before anything else because the device-tree
//! walk and the frame allocator's buddy lists allocate.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use linked_list_allocator::{hole::HoleList, LockedHeap};

/// 48 MiB: the frame allocator's lists, and a few KiB per process or thread
/// for up to `process::MAX_PROCESSES` of them (a fork bomb must hit EAGAIN
/// before the heap runs out). Not cleared at boot, so it costs no time.
pub const HEAP_SIZE: usize = 48 << 20;

/// The heap, with a count of the bytes the frame allocator's own
/// bookkeeping holds (its buddy lists and cache grow and shrink as frames
/// come and go): the rest is what a program can leak.
struct Heap {
    heap: LockedHeap,
    bookkeeping_bytes: AtomicUsize,
}

/// Set while the frame allocator runs (one CPU: a flag is enough).
static IN_FRAME_ALLOCATOR: AtomicBool = AtomicBool::new(false);

// SAFETY: allocation and deallocation are LockedHeap's; the wrapper only
// counts bytes.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the caller guarantees to us.
        let p = unsafe { self.heap.alloc(layout) };
        if !p.is_null() && IN_FRAME_ALLOCATOR.load(Ordering::Relaxed) {
            self.bookkeeping_bytes.fetch_add(counted(layout), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if IN_FRAME_ALLOCATOR.load(Ordering::Relaxed) {
            self.bookkeeping_bytes.fetch_sub(counted(layout), Ordering::Relaxed);
        }
        // SAFETY: as the caller guarantees to us.
        unsafe { self.heap.dealloc(ptr, layout) }
    }
}

/// The bytes LockedHeap's `used()` counts for `layout` (its size rounded up
/// to the hole list's minimum and alignment).
pub fn counted(layout: Layout) -> usize {
    HoleList::align_layout(layout).map_or(layout.size(), |l| l.size())
}

#[cfg_attr(target_os = "none", global_allocator)]
static ALLOCATOR: Heap = Heap { heap: LockedHeap::empty(), bookkeeping_bytes: AtomicUsize::new(0) };

/// Runs `f`, the frame allocator at work: what it allocates and frees on
/// the heap counts as bookkeeping. Every allocation it makes is freed by it
/// too, so the count stays exact.
pub fn as_frame_bookkeeping<R>(f: impl FnOnce() -> R) -> R {
    let outer = IN_FRAME_ALLOCATOR.swap(true, Ordering::Relaxed);
    let r = f();
    IN_FRAME_ALLOCATOR.store(outer, Ordering::Relaxed);
    r
}

#[cfg(target_os = "none")]
#[link_section = ".heap"]
static mut HEAP_SPACE: [u8; HEAP_SIZE] = [0; HEAP_SIZE];

/// Hands the heap region to the allocator. Called once, first thing at boot.
#[cfg(target_os = "none")]
pub fn init() {
    // SAFETY: HEAP_SPACE is used by nothing but this allocator, and init runs
    // once on the boot CPU before any allocation.
    unsafe {
        ALLOCATOR.heap.lock().init(core::ptr::addr_of_mut!(HEAP_SPACE).cast(), HEAP_SIZE);
    }
}

/// Bytes currently allocated from the kernel heap.
pub fn used_bytes() -> usize {
    ALLOCATOR.heap.lock().used()
}

/// Heap kept back for the kernel's own work (ending processes, logging):
/// what programs ask for that would eat into it fails with ENOMEM instead,
/// as Linux keeps min_free_kbytes of pages back.
const RESERVE: usize = 4 << 20;

/// Whether `bytes` more can be allocated for a program and still leave the
/// reserve.
#[cfg(target_os = "none")]
pub fn can_spare(bytes: usize) -> bool {
    ALLOCATOR.heap.lock().free() >= bytes.saturating_add(RESERVE)
}

/// Host tests allocate from the host's heap: always room.
#[cfg(not(target_os = "none"))]
pub fn can_spare(_bytes: usize) -> bool {
    true
}

/// The heap bytes a string's buffer takes (none if it has no capacity).
pub fn bytes_of_string(s: &alloc::string::String) -> usize {
    match Layout::array::<u8>(s.capacity()) {
        Ok(layout) if s.capacity() > 0 => counted(layout),
        _ => 0,
    }
}

/// Bytes allocated from the kernel heap, less the frame allocator's
/// bookkeeping: what must come back when a program ends.
pub fn used_bytes_outside_frame_bookkeeping() -> usize {
    used_bytes() - ALLOCATOR.bookkeeping_bytes.load(Ordering::Relaxed)
}
