//! Kernel heap: `linked_list_allocator` over a fixed region of the image.
//!
//! The region lives in the `.heap` section (see linker.ld), which is not
//! cleared at boot. It must exist before anything else because the device-tree
//! walk and the frame allocator's buddy lists allocate.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use linked_list_allocator::hole::HoleList;

use crate::sync::{IrqSpinLock, Rank};

/// 48 MiB: the frame allocator's lists, and a few KiB per process or thread
/// for up to `process::MAX_PROCESSES` of them (a fork bomb must hit EAGAIN
/// before the heap runs out). Not cleared at boot, so it costs no time.
pub const HEAP_SIZE: usize = 48 << 20;

/// The heap, with a count of the bytes the frame allocator's own
/// bookkeeping holds (its buddy lists and cache grow and shrink as frames
/// come and go): the rest is what a program can leak.
///
/// The hole list is behind an `IrqSpinLock`, the innermost lock
/// (sync/lock_order.rs), so any CPU may allocate under any other lock, and
/// so may the interrupt handler (its log lines and the process it ends
/// free memory): interrupts are masked while the list is being changed.
/// (linked_list_allocator's own LockedHeap spins without masking them.)
/// The tags (mm/kasan.rs) are written outside the lock, on memory the
/// caller owns; what tagging is on is set once at boot. The per-CPU part
/// is `in_frame_allocator` below.
struct Heap {
    heap: IrqSpinLock<linked_list_allocator::Heap>,
    bookkeeping_bytes: AtomicUsize,
}

/// Set while the frame allocator runs on this CPU: a flag per CPU (in its
/// `CpuData`, arch/aarch64/cpu_local.rs), so that another CPU's heap use
/// meanwhile is not counted as the allocator's bookkeeping.
#[cfg(target_os = "none")]
fn in_frame_allocator() -> &'static AtomicBool {
    crate::arch::aarch64::cpu_local::this_cpu().in_frame_allocator()
}

/// The host unit tests run the frame allocator on one thread at a time.
#[cfg(not(target_os = "none"))]
fn in_frame_allocator() -> &'static AtomicBool {
    static IN_FRAME_ALLOCATOR: AtomicBool = AtomicBool::new(false);
    &IN_FRAME_ALLOCATOR
}

// SAFETY: allocation and deallocation are the hole list's; the wrapper counts
// bytes and, with heap tagging on, tags what it hands out (mm/kasan.rs):
// the block the hole list sees is always the same for the same pointer kind
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
        if in_frame_allocator().load(Ordering::Relaxed) {
            self.bookkeeping_bytes.fetch_sub(counted(block_layout), Ordering::Relaxed);
        }
        // SAFETY: as the caller guarantees to us; `block` is the block
        // alloc took from the hole list for this pointer and layout, so
        // non-null.
        unsafe { self.heap.lock().deallocate(core::ptr::NonNull::new_unchecked(block), block_layout) }
    }
}

impl Heap {
    /// # Safety
    /// As for `GlobalAlloc::alloc`.
    #[inline(always)]
    unsafe fn alloc_tagged(&self, layout: Layout, zero: bool, fp: u64) -> *mut u8 {
        let tagged = tagging_heap();
        let block_layout = if tagged { block_layout(layout) } else { layout };
        let Ok(p) = self.heap.lock().allocate_first_fit(block_layout) else { return core::ptr::null_mut() };
        let p = p.as_ptr();
        if in_frame_allocator().load(Ordering::Relaxed) {
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

    /// What the hole list was asked for, for an allocation of `layout` whose
    /// pointer is `ptr`: tagged pointers have the tagged block around them.
    pub fn block_of(ptr: *mut u8, layout: Layout) -> Layout {
        if kasan::is_tagged(ptr) {
            block_layout(layout)
        } else {
            layout
        }
    }

    /// The block (pointer and layout) to give back to the hole list for a
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

/// The bytes the hole list's `used()` counts for `layout` (its size rounded up
/// to the hole list's minimum and alignment).
pub fn counted(layout: Layout) -> usize {
    HoleList::align_layout(layout).map_or(layout.size(), |l| l.size())
}

#[cfg_attr(target_os = "none", global_allocator)]
static ALLOCATOR: Heap = Heap {
    heap: IrqSpinLock::new(Rank::Heap, linked_list_allocator::Heap::empty()),
    bookkeeping_bytes: AtomicUsize::new(0),
};

/// Runs `f`, the frame allocator at work: what it allocates and frees on
/// the heap counts as bookkeeping. Every allocation it makes is freed by it
/// too, so the count stays exact.
pub fn as_frame_bookkeeping<R>(f: impl FnOnce() -> R) -> R {
    let flag = in_frame_allocator();
    let outer = flag.swap(true, Ordering::Relaxed);
    let r = f();
    flag.store(outer, Ordering::Relaxed);
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
