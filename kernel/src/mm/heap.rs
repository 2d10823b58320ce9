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

// SAFETY: allocation and deallocation are LockedHeap's; the wrapper counts
// bytes and, with heap tagging on, tags what it hands out (mm/kasan.rs):
// the block LockedHeap sees is always the same for the same pointer kind
// and layout, so every dealloc gives back exactly what alloc took.
unsafe impl GlobalAlloc for Heap {
    // Inlined into the __rust_alloc family, so that the frame pointer read
    // here is theirs and the call sites kept start at their caller.
    #[inline(always)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the caller guarantees to us.
        unsafe { self.alloc_tagged(layout, false, frame_pointer()) }
    }

    #[inline(always)]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the caller guarantees to us.
        unsafe { self.alloc_tagged(layout, true, frame_pointer()) }
    }

    #[inline(always)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let (block, block_layout) = match heap_block(ptr, layout, frame_pointer()) {
            Ok(b) => b,
            // Reported (kasan_report.rs); a refused block is leaked.
            Err(()) => return,
        };
        if IN_FRAME_ALLOCATOR.load(Ordering::Relaxed) {
            self.bookkeeping_bytes.fetch_sub(counted(block_layout), Ordering::Relaxed);
        }
        // SAFETY: as the caller guarantees to us; `block` is the block
        // alloc took from LockedHeap for this pointer and layout.
        unsafe { self.heap.dealloc(block, block_layout) }
    }
}

impl Heap {
    /// # Safety
    /// As for `GlobalAlloc::alloc`.
    #[inline(always)]
    unsafe fn alloc_tagged(&self, layout: Layout, zero: bool, fp: u64) -> *mut u8 {
        let tagged = tagging_heap();
        let block_layout = if tagged { block_layout(layout) } else { layout };
        // SAFETY: as the caller guarantees to us.
        let p = unsafe { self.heap.alloc(block_layout) };
        if p.is_null() {
            return p;
        }
        if IN_FRAME_ALLOCATOR.load(Ordering::Relaxed) {
            self.bookkeeping_bytes.fetch_add(counted(block_layout), Ordering::Relaxed);
        }
        if !tagged {
            if zero {
                // SAFETY: a fresh block of layout.size() bytes.
                unsafe { core::ptr::write_bytes(p, 0, layout.size()) };
            }
            return p;
        }
        // SAFETY: a fresh block of block_layout(layout).
        unsafe { tag_allocation(p, layout, zero, fp) }
    }
}

use tags::{block_layout, block_of, frame_pointer, heap_block, tag_allocation, tagging_heap};

/// The heap's tags (mm/kasan.rs) as the allocator uses them.
#[cfg(target_os = "none")]
mod tags {
    use core::alloc::Layout;

    pub use crate::arch::aarch64::backtrace::frame_pointer;
    use crate::mm::{kasan, kasan_report};
    pub use kasan::{block_layout, tag_allocation, tagging_heap};

    /// What LockedHeap was asked for, for an allocation of `layout` whose
    /// pointer is `ptr`: tagged pointers have the tagged block around them.
    pub fn block_of(ptr: *mut u8, layout: Layout) -> Layout {
        if kasan::is_tagged(ptr) {
            block_layout(layout)
        } else {
            layout
        }
    }

    /// The block (pointer and layout) to give back to LockedHeap for a
    /// dealloc of `ptr`, after the tag checks; `Err` if they refused it
    /// (and reported why).
    #[inline(always)]
    pub fn heap_block(ptr: *mut u8, layout: Layout, fp: u64) -> Result<(*mut u8, Layout), ()> {
        if !kasan::is_tagged(ptr) {
            return Ok((ptr, layout));
        }
        // SAFETY: `ptr` and `layout` are what dealloc's caller passed.
        match unsafe { kasan::untag_free(ptr, layout, fp) } {
            Ok(block) => Ok((block, block_layout(layout))),
            Err(why) => {
                kasan_report::bad_free(ptr, why, kasan::call_sites(fp)[0]);
                Err(())
            }
        }
    }
}

/// Host tests allocate from the host's heap: nothing is tagged.
#[cfg(not(target_os = "none"))]
mod tags {
    use core::alloc::Layout;

    pub fn frame_pointer() -> u64 {
        0
    }
    pub fn tagging_heap() -> bool {
        false
    }
    pub fn block_layout(layout: Layout) -> Layout {
        layout
    }
    pub fn block_of(_ptr: *mut u8, layout: Layout) -> Layout {
        layout
    }
    pub fn heap_block(ptr: *mut u8, layout: Layout, _fp: u64) -> Result<(*mut u8, Layout), ()> {
        Ok((ptr, layout))
    }
    /// # Safety
    /// None needed: nothing is done.
    pub unsafe fn tag_allocation(p: *mut u8, _layout: Layout, _zero: bool, _fp: u64) -> *mut u8 {
        p
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

/// The heap's address range (match-all tag), for the tag checks.
#[cfg(target_os = "none")]
pub fn range() -> core::ops::Range<u64> {
    let start = core::ptr::addr_of!(HEAP_SPACE) as u64;
    start..start + HEAP_SIZE as u64
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
        Ok(layout) if s.capacity() > 0 => counted(block_of(s.as_ptr().cast_mut(), layout)),
        _ => 0,
    }
}

/// Bytes allocated from the kernel heap, less the frame allocator's
/// bookkeeping: what must come back when a program ends.
pub fn used_bytes_outside_frame_bookkeeping() -> usize {
    used_bytes() - ALLOCATOR.bookkeeping_bytes.load(Ordering::Relaxed)
}
