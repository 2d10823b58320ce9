//! The kernel's own tags: hardware tag-based KASAN for the kernel heap, as
//! Linux's mm/kasan/hw_tags.c and common.c do it for slab on arm64's MTE.
//!
//! Every heap allocation made with tagging on is a *tagged block*:
//!
//! ```text
//! | data: size rounded up to 16, random tag T | record: 32 bytes, tag 0 |
//! ^ the pointer handed out carries T           ^ size, state, call sites
//! ```
//!
//! - The data granules get a random tag (IRG, never 0 or 0xF, and not the
//!   tag of the granules on either side), which the returned pointer
//!   carries; an access through any other tag faults.
//! - The record after the data holds the allocation's size, whether it is
//!   live or freed, and the return addresses of its allocation and free.
//!   It is tagged 0, a tag no heap pointer ever carries, so it is also a
//!   16-byte right redzone: an overrun past the last granule always faults.
//!   It lives inside the block, so keeping it allocates nothing.
//! - Freeing checks the pointer (a start of a live allocation, with the
//!   data's tag) and retags the data with a fresh tag, so a stale pointer
//!   faults; the record stays (state freed) until the memory is reused.
//! - linked_list_allocator keeps its free list *inside* free memory and
//!   would trip over those tags; it only ever sees pointers with the
//!   match-all tag 0xF (TCR_EL1.TCMA1: never checked), as does the record
//!   keeping, so the allocator's own accesses are never checked.
//!
//! Allocations made before tagging is switched on at boot, or with
//! `kasan=off`, are untagged: their pointer keeps the match-all tag, which
//! is how `dealloc` tells the two kinds apart.

use core::alloc::Layout;
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use crate::arch::aarch64::mmu::layout::KIMAGE_VADDR;
use crate::arch::aarch64::mte::{self, KernelCheckMode, GRANULE, MATCH_ALL_TAG};
use crate::mm::addr::VirtAddr;

/// `kasan=` on the command line (Linux's kasan= and kasan.mode=).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Off,
    Sync,
    Async,
    Asymm,
}

impl Mode {
    /// The mode `kasan=` asks for: sync when not given (Linux's default
    /// kasan.mode), `None` for a word it does not know.
    pub fn parse(arg: Option<&str>) -> Option<Mode> {
        match arg {
            None | Some("on") | Some("sync") => Some(Mode::Sync),
            Some("off") => Some(Mode::Off),
            Some("async") => Some(Mode::Async),
            Some("asymm") => Some(Mode::Asymm),
            Some(_) => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Sync => "sync",
            Mode::Async => "async",
            Mode::Asymm => "asymm",
        }
    }

    fn from_u8(v: u8) -> Mode {
        match v {
            1 => Mode::Sync,
            2 => Mode::Async,
            3 => Mode::Asymm,
            _ => Mode::Off,
        }
    }
}

static MODE: AtomicU8 = AtomicU8::new(0);
/// The heap's bounds, `[start, end)` with the match-all tag.
static HEAP_START: AtomicU64 = AtomicU64::new(0);
static HEAP_END: AtomicU64 = AtomicU64::new(0);

/// The mode in force (off until `init`).
#[inline]
pub fn mode() -> Mode {
    Mode::from_u8(MODE.load(Ordering::Relaxed))
}

/// Whether new heap allocations are tagged.
#[inline]
pub fn tagging_heap() -> bool {
    mode() != Mode::Off
}

/// Switches heap tagging and the kernel's tag checks on as `arg` asks
/// (`kasan=`), once MTE is enabled, and says so in one line. Without tag
/// storage, or with an unknown word, the heap stays untagged.
pub fn init(arg: Option<&str>, heap: core::ops::Range<u64>, mte_level: u8) {
    let asked = Mode::parse(arg);
    let mode = match asked {
        _ if !mte::tagging_enabled() => Mode::Off,
        // Asymmetric checking is FEAT_MTE3; Linux falls back to sync.
        Some(Mode::Asymm) if mte_level < 3 => Mode::Sync,
        Some(m) => m,
        None => Mode::Off,
    };
    HEAP_START.store(heap.start, Ordering::Relaxed);
    HEAP_END.store(heap.end, Ordering::Relaxed);
    let check = match mode {
        Mode::Off => None,
        Mode::Sync => Some(KernelCheckMode::Sync),
        Mode::Async => Some(KernelCheckMode::Async),
        Mode::Asymm => Some(KernelCheckMode::Asymmetric),
    };
    if let Some(check) = check {
        mte::enable_kernel_checks(check);
    }
    MODE.store(mode as u8, Ordering::Relaxed);
    crate::arch::aarch64::entry_work::refresh();
    match (mode, asked) {
        (Mode::Off, _) if !mte::tagging_enabled() => log::info!("heap tags: off (no MTE tag storage): heap untagged"),
        (Mode::Off, None) => log::warn!("heap tags: off: unknown kasan={}; heap untagged", arg.unwrap_or("")),
        (Mode::Off, _) => log::info!("heap tags: off (kasan=off): heap untagged"),
        (m, _) => log::info!(
            "heap tags: on, {} mode{}: random tags on every heap allocation, retagged on free, kernel tag checks SCTLR_EL1.TCF={}",
            m.name(),
            if asked == Some(Mode::Asymm) && m == Mode::Sync { " (asymm needs MTE3)" } else { "" },
            m.name()
        ),
    }
}

/// In async or asymm mode, reports (and panics on) an asynchronous tag
/// check fault the kernel's own accesses recorded in TFSR_EL1 (Linux's
/// mte_check_tfsr_entry/exit and mte_check_tfsr_el1 at a context switch).
/// Inlined: it runs on every kernel entry and exit, and in sync mode is
/// one load and a compare.
#[inline(always)]
pub fn check_async_fault(when: &str) {
    check_async_fault_in(mode(), when)
}

/// `check_async_fault` with the mode already read.
#[inline]
pub fn check_async_fault_in(mode: Mode, when: &str) {
    check_async_fault_if(matches!(mode, Mode::Async | Mode::Asymm), when)
}

/// `check_async_fault` when `async_mode` (the mode is async or
/// asymmetric), as the exception entry and exit read it once
/// (arch/aarch64/entry_work.rs).
#[inline(always)]
pub fn check_async_fault_if(async_mode: bool, when: &str) {
    if async_mode && mte::take_kernel_async_fault() {
        super::kasan_report::async_fault(when);
    }
}

/// Bytes of the record after each tagged allocation's data.
pub const RECORD_BYTES: usize = 32;
/// Return addresses kept for an allocation and for its free.
pub const SITES: usize = 3;
/// The memory tag of record granules; no heap pointer carries it.
const RECORD_TAG: u8 = 0;
const LIVE: u32 = 0x4b41_4c56;
const FREED: u32 = 0x4b41_4652;

/// One allocation's record, right after its data.
#[repr(C)]
#[derive(Clone, Copy)]
struct Record {
    magic: u32,
    size: u32,
    /// Return addresses as offsets from KIMAGE_VADDR; 0 = none.
    alloc_sites: [u32; SITES],
    free_sites: [u32; SITES],
}
const _: () = assert!(core::mem::size_of::<Record>() == RECORD_BYTES);

/// Whether `ptr` came from a tagged allocation: heap pointers handed out
/// untagged carry the match-all tag.
pub fn is_tagged(ptr: *mut u8) -> bool {
    mte::tag_of(VirtAddr::from_ptr(ptr)) != MATCH_ALL_TAG
}

/// What the heap allocator is asked for, for a tagged allocation of
/// `layout`: the data rounded up to whole granules, then the record.
pub fn block_layout(layout: Layout) -> Layout {
    let size = data_bytes(layout.size()) + RECORD_BYTES;
    Layout::from_size_align(size, layout.align().max(GRANULE)).unwrap_or(layout)
}

fn data_bytes(size: usize) -> usize {
    size.max(1).next_multiple_of(GRANULE)
}

pub fn in_heap(va: VirtAddr) -> bool {
    let v = va.with_match_all_tag().as_u64();
    (HEAP_START.load(Ordering::Relaxed)..HEAP_END.load(Ordering::Relaxed)).contains(&v)
}

/// The allocation tag of the granule at `va` if it lies in the heap.
pub fn heap_tag(va: VirtAddr) -> Option<u8> {
    // SAFETY: the heap is mapped Tagged; LDG only reads tag storage.
    in_heap(va).then(|| unsafe { mte::load_tag(va) })
}

/// The record at `rec` (any tag), read through the match-all tag.
///
/// # Safety
/// `rec` must be a granule-aligned heap address with RECORD_BYTES after it
/// inside the heap.
unsafe fn read_record(rec: VirtAddr) -> Record {
    // SAFETY: per the contract; unchecked through the match-all tag.
    unsafe { core::ptr::read_volatile(rec.with_match_all_tag().as_ptr::<Record>()) }
}

/// # Safety
/// As for [`read_record`], and the record must be the caller's.
unsafe fn write_record(rec: VirtAddr, r: Record) {
    // SAFETY: per the contract.
    unsafe { core::ptr::write_volatile(rec.with_match_all_tag().as_mut_ptr::<Record>(), r) }
}

/// The return addresses from the frame record at `fp` outwards (the
/// allocator's entry point's frame: the first is its caller's), as
/// offsets from the image base.
fn call_site_offsets(fp: u64) -> [u32; SITES] {
    let stack =
        crate::process::current_kernel_stack().unwrap_or_else(|| crate::arch::aarch64::cpu_local::this_cpu().boot_stack());
    let mut sites = [0u32; SITES];
    let mut n = 0;
    crate::arch::aarch64::backtrace::walk_from(fp, &[stack], SITES, |pc| {
        sites[n] = pc.wrapping_sub(KIMAGE_VADDR) as u32;
        n += 1;
    });
    sites
}

/// The return addresses from the frame record at `fp` outwards.
pub fn call_sites(fp: u64) -> [u64; SITES] {
    call_site_offsets(fp).map(|s| if s == 0 { 0 } else { KIMAGE_VADDR + s as u64 })
}

/// Tags a block the heap just handed out (match-all pointer `block`) for
/// an allocation of `layout`: its data gets a random tag, zeroed too if
/// `zero`, its record is written. Returns the pointer to hand out, which
/// carries the tag (Linux's kasan_unpoison / __kasan_kmalloc).
///
/// # Safety
/// `block` must be a fresh block of `block_layout(layout)` from the heap;
/// `fp` is the frame pointer of the allocator's entry (call sites).
pub unsafe fn tag_allocation(block: *mut u8, layout: Layout, zero: bool, fp: u64) -> *mut u8 {
    let data = VirtAddr::from_ptr(block);
    let len = data_bytes(layout.size());
    let rec = data + len as u64;
    // Neighbours: the granule before the block (when it is the record of
    // the allocation before, that allocation's last data granule) and the
    // one after this block's record.
    let before = VirtAddr::new(data.as_u64() - GRANULE as u64);
    let before = match heap_tag(before) {
        Some(RECORD_TAG) => heap_tag(VirtAddr::new(data.as_u64() - (GRANULE + RECORD_BYTES) as u64)),
        other => other,
    };
    let exclude = [before, heap_tag(rec + RECORD_BYTES as u64)].into_iter().flatten().fold(0u16, |m, t| m | 1 << t);
    let tagged = mte::with_tag(data, mte::random_kernel_tag(exclude));
    let sites = call_site_offsets(fp);
    // SAFETY: the block is ours, granule-aligned (block_layout), in the
    // Tagged heap; the record follows the data inside it.
    unsafe {
        mte::set_tags(tagged, len, zero);
        mte::set_tags(mte::with_tag(rec, RECORD_TAG), RECORD_BYTES, false);
        write_record(
            rec,
            Record { magic: LIVE, size: layout.size() as u32, alloc_sites: sites, free_sites: [0; SITES] },
        );
    }
    tagged.as_mut_ptr()
}

/// Why a free was refused (Linux's kasan_report_invalid_free).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadFree {
    /// The pointer is not the start of an allocation of that size.
    Invalid,
    /// The allocation was freed already: its memory's tag moved on.
    Double,
}

/// Checks and retags a tagged allocation being freed (Linux's
/// ____kasan_slab_free: invalid-free when the pointer is not an object's
/// start, double-free when its tag no longer matches the memory's).
/// Returns the block as the heap knows it (match-all tag), or why the free
/// is refused; a refused block is left as it is (leaked).
///
/// # Safety
/// `ptr` is what the caller of `dealloc` passed, with its `layout`.
pub unsafe fn untag_free(ptr: *mut u8, layout: Layout, fp: u64) -> Result<*mut u8, BadFree> {
    let va = VirtAddr::from_ptr(ptr);
    let len = data_bytes(layout.size());
    let rec = va + len as u64;
    if !va.is_aligned(GRANULE as u64) || !in_heap(va) || !in_heap(rec + (RECORD_BYTES - 1) as u64) {
        return Err(BadFree::Invalid);
    }
    if heap_tag(rec) != Some(RECORD_TAG) {
        return Err(BadFree::Invalid);
    }
    // SAFETY: rec is a granule in the heap with room for a record (checked).
    let mut r = unsafe { read_record(rec) };
    if (r.magic != LIVE && r.magic != FREED) || data_bytes(r.size as usize) != len {
        return Err(BadFree::Invalid);
    }
    if r.magic == FREED || heap_tag(va) != Some(mte::tag_of(va)) {
        return Err(BadFree::Double);
    }
    r.magic = FREED;
    r.free_sites = call_site_offsets(fp);
    let free_tag = mte::random_kernel_tag(1 << mte::tag_of(va));
    // SAFETY: the allocation is live and the caller's to free; the record
    // is its own.
    unsafe {
        write_record(rec, r);
        mte::set_tags(mte::with_tag(va, free_tag), len, false);
    }
    Ok(va.with_match_all_tag().as_mut_ptr())
}

/// Whether [`untag_free`] would refuse to free `ptr` with `layout`, found
/// by its checks without their effects (no record written, no retag): the
/// guard of heap::free_expecting_refusal. Only for tagged pointers with
/// heap tagging on.
pub fn free_would_be_refused(ptr: *mut u8, layout: Layout) -> bool {
    let va = VirtAddr::from_ptr(ptr);
    let rec = va + data_bytes(layout.size()) as u64;
    if !va.is_aligned(GRANULE as u64) || !in_heap(va) || !in_heap(rec + (RECORD_BYTES - 1) as u64) {
        return true;
    }
    if heap_tag(rec) != Some(RECORD_TAG) {
        return true;
    }
    // SAFETY: rec is a granule in the heap with room for a record (checked).
    let r = unsafe { read_record(rec) };
    r.magic != LIVE || data_bytes(r.size as usize) != data_bytes(layout.size()) || heap_tag(va) != Some(mte::tag_of(va))
}

/// Hands `ptr` and `layout` to the heap's free expecting its tag checks to
/// refuse them (the double-free and invalid-free probes, selftest/
/// heap_tags.rs): they report the misuse and free nothing. Returns `false`,
/// having done nothing, unless heap tagging is on, `ptr` is tagged and the
/// checks would refuse it ([`free_would_be_refused`]), so that nothing
/// live is ever freed. The check and the free are two steps: the
/// self-tests call this before any other task runs.
pub fn free_expecting_refusal(ptr: VirtAddr, layout: Layout) -> bool {
    let p = ptr.as_mut_ptr::<u8>();
    if !tagging_heap() || !is_tagged(p) || !free_would_be_refused(p, layout) {
        return false;
    }
    // SAFETY: the heap's checks refuse this pointer (checked just above):
    // dealloc reports it and frees nothing.
    unsafe { alloc::alloc::dealloc(p, layout) };
    true
}

/// Whether an allocation is in use or was freed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Live,
    Freed,
}

/// The allocation a heap address lies in or just after, from its record.
#[derive(Clone, Copy, Debug)]
pub struct Allocation {
    /// Its first byte (match-all tag).
    pub start: u64,
    pub size: usize,
    pub state: State,
    pub alloc_sites: [u64; SITES],
    pub free_sites: [u64; SITES],
}

/// How far the search for a record goes: 64 Ki granules (1 MiB).
const SEARCH_GRANULES: u64 = 1 << 16;

/// The allocation holding `addr`, or whose record (right redzone) it hits:
/// the first record at or after `addr` whose data starts at or before it.
/// Reads tags and records only (no heap allocation): safe in a report.
pub fn allocation_at(addr: u64) -> Option<Allocation> {
    let va = VirtAddr::new(addr).with_match_all_tag().align_down(GRANULE as u64);
    if !in_heap(va) {
        return None;
    }
    // An address in a record's second granule belongs to that record.
    let first = match heap_tag(VirtAddr::new(va.as_u64() - GRANULE as u64)) {
        Some(RECORD_TAG) if record_at(VirtAddr::new(va.as_u64() - 16)).is_some() => VirtAddr::new(va.as_u64() - 16),
        _ => va,
    };
    for i in 0..SEARCH_GRANULES {
        let g = first + i * GRANULE as u64;
        match heap_tag(g) {
            None => return None,
            Some(RECORD_TAG) => {}
            Some(_) => continue,
        }
        let Some((r, start)) = record_at(g) else { continue };
        if start > va.as_u64() {
            return None;
        }
        let site = |s: u32| if s == 0 { 0 } else { KIMAGE_VADDR + s as u64 };
        return Some(Allocation {
            start,
            size: r.size as usize,
            state: if r.magic == LIVE { State::Live } else { State::Freed },
            alloc_sites: r.alloc_sites.map(site),
            free_sites: r.free_sites.map(site),
        });
    }
    None
}

/// The record at granule `g` and its allocation's start, if there is one.
fn record_at(g: VirtAddr) -> Option<(Record, u64)> {
    if !in_heap(g + (RECORD_BYTES - 1) as u64) {
        return None;
    }
    // SAFETY: g is a heap granule with room for a record (checked).
    let r = unsafe { read_record(g) };
    if r.magic != LIVE && r.magic != FREED {
        return None;
    }
    let start = g.as_u64().checked_sub(data_bytes(r.size as usize) as u64)?;
    in_heap(VirtAddr::new(start)).then_some((r, start))
}
