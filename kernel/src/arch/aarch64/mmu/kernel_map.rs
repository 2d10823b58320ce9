//! Building the kernel address space (TTBR1) and switching to it.
//!
//! boot/start.S turned the MMU on with two throw-away tables: an identity map
//! (TTBR0) and the image as 2 MiB RWX blocks (TTBR1). Here the real kernel
//! space is built (see `layout.rs`): the linear map of all RAM as Normal
//! Tagged memory, the image with per-section permissions and an unmapped
//! guard page below the boot stack, and MMIO as Device-nGnRE. Then TTBR1 is
//! replaced and TTBR0 retired, so the lower half is free for user spaces.

use core::sync::atomic::{AtomicBool, Ordering};

use aarch64_cpu::registers::{MAIR_EL1, TCR_EL1, TTBR0_EL1};
use crate::sync::{Rank, SpinLock};
use tock_registers::interfaces::{ReadWriteable, Writeable};

use alloc::vec::Vec;

use crate::bitmap::Bitmap;

use super::layout::{
    kimage_phys, phys_to_virt, virt_to_phys, KERNEL_STACKS_BASE, KERNEL_STACK_MAX, KERNEL_STACK_SLOT, KIMAGE_VADDR,
    MMIO_BASE,
};
use super::pte::{mair_value, Attributes, MapFlags, MemoryType};
use super::table::{MapError, PageTable, Table, TableMemory, ENTRIES};
use crate::mm::addr::{PhysAddr, PhysRange, VirtAddr, PAGE_SIZE};
use crate::mm::frame;

/// Tables for the boot-time build, inside the image (reachable before the
/// linear map exists). 32 pages cover the linear map of any `virt` memory
/// size with blocks, the image with pages, and the first MMIO windows.
const BOOT_TABLES: usize = 32;
static mut BOOT_TABLE_POOL: [Table; BOOT_TABLES] = [const { Table([0; ENTRIES]) }; BOOT_TABLES];
static mut BOOT_TABLES_USED: usize = 0;
/// An all-invalid table for TTBR1 while it is being replaced.
static RESERVED_TABLE: Table = Table([0; ENTRIES]);

/// Set once the linear map is live: new tables may then come from frames.
static LINEAR_MAP_LIVE: AtomicBool = AtomicBool::new(false);

/// Frames taken for kernel tables after boot (the kernel-stack and MMIO
/// windows grow with the most processes ever alive, and keep their tables
/// for reuse). Leak checks leave these out.
static TABLE_FRAMES: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

pub fn table_frames() -> usize {
    TABLE_FRAMES.load(Ordering::Relaxed)
}

/// How the kernel's own tables are reached and allocated.
struct KernelTables;

impl TableMemory for KernelTables {
    fn table(&mut self, pa: PhysAddr) -> *mut Table {
        let image = PhysAddr::new(kimage_phys().as_u64());
        let offset = pa.as_u64().wrapping_sub(image.as_u64());
        if offset < image_size() {
            (KIMAGE_VADDR + offset) as *mut Table
        } else {
            phys_to_virt(pa).as_mut_ptr()
        }
    }

    fn alloc_table(&mut self) -> Option<PhysAddr> {
        // SAFETY: boot is single-threaded and the pool is touched only here,
        // under the KERNEL_SPACE lock afterwards.
        unsafe {
            if BOOT_TABLES_USED < BOOT_TABLES {
                let t = core::ptr::addr_of_mut!(BOOT_TABLE_POOL[BOOT_TABLES_USED]);
                BOOT_TABLES_USED += 1;
                return virt_to_phys(VirtAddr::from_ptr(t));
            }
        }
        if !LINEAR_MAP_LIVE.load(Ordering::Relaxed) {
            return None;
        }
        let pa = frame::alloc_zeroed(frame::Clear::Data)?.start();
        TABLE_FRAMES.fetch_add(1, Ordering::Relaxed);
        Some(pa)
    }
    fn free_unlinked_table(&mut self, _: PhysAddr) {
        // The kernel's tables change only under KERNEL_SPACE's lock (and at
        // boot, on one CPU): no two walks race to install a table.
        unreachable!("kernel tables are built under one lock")
    }
}

/// The kernel's translation tables and the next free addresses of the
/// MMIO and kernel-stack windows.
pub struct KernelSpace {
    table: PageTable,
    next_mmio: u64,
    next_stack: u64,
    /// Freed stack slots, reused first (their tables exist).
    free_stacks: FreeSlots,
}

/// Freed kernel-stack slots, one bit per slot number: a fixed table, not a
/// list on the heap, so that processes coming and going leave the heap as
/// they found it (the runner's leak check). 8192 slots, one per process
/// the scheduler allows (MAX_PROCESSES); a slot beyond that is not reused.
struct FreeSlots(Bitmap<128>);

impl FreeSlots {
    fn push(&mut self, bottom: VirtAddr) {
        self.0.set(((bottom.as_u64() - KERNEL_STACKS_BASE) / KERNEL_STACK_SLOT) as usize);
    }

    fn pop(&mut self) -> Option<VirtAddr> {
        let slot = self.0.first_set()?;
        self.0.clear(slot);
        Some(VirtAddr::new(KERNEL_STACKS_BASE + slot as u64 * KERNEL_STACK_SLOT))
    }
}

static KERNEL_SPACE: SpinLock<Option<KernelSpace>> = SpinLock::new(Rank::KernelSpace, None);

extern "C" {
    static __image_start: u8;
    static __text_end: u8;
    static __rodata_end: u8;
    static __data_end: u8;
    static __boot_stack_guard: u8;
    static __boot_stack_bottom: u8;
    static __boot_stack_top: u8;
    static __heap_start: u8;
    static __image_end: u8;
}

/// A linker-script symbol's address (taking it reads nothing).
macro_rules! sym {
    ($s:ident) => {
        VirtAddr::from_ptr(core::ptr::addr_of!($s))
    };
}

fn image_size() -> u64 {
    sym!(__image_end) - sym!(__image_start)
}

/// Physical memory the kernel image occupies, .bss, stack and heap included.
pub fn image_phys_range() -> PhysRange {
    PhysRange::from_start_size(kimage_phys(), image_size())
}

/// The boot stack, for backtraces and the guard-page check.
pub fn boot_stack() -> core::ops::Range<u64> {
    sym!(__boot_stack_bottom).as_u64()..sym!(__boot_stack_top).as_u64()
}

/// The page below the boot stack, deliberately left unmapped.
pub fn boot_stack_guard() -> VirtAddr {
    sym!(__boot_stack_guard)
}

/// Named regions of the image with their permissions, in address order.
pub fn image_regions() -> [(&'static str, VirtAddr, VirtAddr, MapFlags); 5] {
    let rw = MapFlags::WRITE | MapFlags::GLOBAL;
    [
        ("text", sym!(__image_start), sym!(__text_end), MapFlags::KERNEL_EXEC | MapFlags::GLOBAL),
        ("rodata", sym!(__text_end), sym!(__rodata_end), MapFlags::GLOBAL),
        ("data", sym!(__rodata_end), sym!(__data_end), rw),
        ("stack", sym!(__boot_stack_bottom), sym!(__heap_start), rw),
        ("heap", sym!(__heap_start), sym!(__image_end), rw),
    ]
}

/// Builds the kernel space for `ram`, switches TTBR1 to it and retires the
/// boot identity map. Returns the MAIR/TCR summary for the boot log.
pub fn init(ram: &[PhysRange], tagging: bool) -> Result<(), MapError> {
    let mut mem = KernelTables;
    let mut table = PageTable::new(&mut mem)?;

    let linear = Attributes::new(MemoryType::NormalTagged, MapFlags::WRITE | MapFlags::GLOBAL);
    for r in ram {
        let start = r.start.align_down(PAGE_SIZE as u64);
        let end = r.end.checked_align_up(PAGE_SIZE as u64).ok_or(MapError::Misaligned)?;
        table.map_range(&mut mem, phys_to_virt(start), start, end - start, linear, true)?;
    }

    for (name, start, end, flags) in image_regions() {
        let pa = virt_to_phys(start).ok_or(MapError::Misaligned)?;
        // Writable regions (the 48 MiB heap above all) take 2 MiB blocks
        // where aligned: fewer tables. Text keeps pages, as small as it is.
        let blocks = flags.contains(MapFlags::WRITE);
        // The heap is Normal-Tagged: its allocations carry tags
        // (mm/kasan.rs). The rest of the image is never tagged.
        let memory = if name == "heap" { MemoryType::NormalTagged } else { MemoryType::Normal };
        table.map_range(&mut mem, start, pa, end - start, Attributes::new(memory, flags), blocks)?;
    }

    // MAIR first (index 2 becomes Tagged when tag storage exists; the boot
    // tables do not use index 2), then TCR: 16-bit ASIDs if the CPU has them.
    MAIR_EL1.set(mair_value(tagging));
    super::user_tables::init_asids();

    let root = table.root();
    *KERNEL_SPACE.lock() = Some(KernelSpace {
        table,
        next_mmio: MMIO_BASE,
        next_stack: KERNEL_STACKS_BASE,
        free_stacks: FreeSlots(Bitmap::new()),
    });
    replace_ttbr1(root);
    LINEAR_MAP_LIVE.store(true, Ordering::Relaxed);
    retire_identity_map();
    Ok(())
}

/// Installs a new TTBR1 table from the identity map, with an invalid table
/// in between (break-before-make for the whole kernel half, as Linux's
/// cpu_replace_ttbr1 does): the old and new trees map the image with
/// different block sizes, which must never be in the TLB together.
fn replace_ttbr1(root: PhysAddr) {
    extern "C" {
        fn idmap_replace_ttbr1(new: u64, reserved: u64);
    }
    let reserved = virt_to_phys(VirtAddr::from_ptr(&RESERVED_TABLE)).expect("reserved table is in the image");
    let func = virt_to_phys(VirtAddr::new(idmap_replace_ttbr1 as *const () as u64)).expect("function is in the image");
    // SAFETY: the boot identity map (TTBR0) still maps the image's physical
    // addresses executable, so the function can run while TTBR1 is invalid;
    // it touches no memory and returns to our (upper-half) link register,
    // which the new tables map exactly as the old ones did.
    unsafe {
        let f: unsafe extern "C" fn(u64, u64) = core::mem::transmute(func.as_usize());
        f(root.as_u64(), reserved.as_u64());
    }
}

core::arch::global_asm!(
    ".section .text.idmap, \"ax\"",
    ".balign 8",
    ".globl idmap_replace_ttbr1",
    "idmap_replace_ttbr1:",
    "    msr ttbr1_el1, x1",
    "    isb",
    "    tlbi vmalle1",
    "    dsb nsh",
    "    isb",
    "    msr ttbr1_el1, x0",
    "    isb",
    "    ret",
);

/// Stops TTBR0 walks (TCR_EL1.EPD0) and clears TTBR0, so nothing is mapped
/// in the lower half until a user address space is installed.
///
/// SCTLR_EL1.WXN stays off, as on Linux. WXN makes every writable page
/// execute-never at EL0 as well as at EL1, so a PROT_WRITE | PROT_EXEC page
/// (a JIT's code with its inline caches) could only be writable or
/// executable at a time, and code storing into its own page faulted between
/// the two forever. The kernel's own W^X comes from its mappings instead
/// (`image_regions`, the linear map, stacks and MMIO: nothing writable lacks
/// PXN; the selftests in selftest/mmu.rs check each), and user pages are
/// always PXN (pte.rs).
fn retire_identity_map() {
    TCR_EL1.modify(TCR_EL1::EPD0::DisableTTBR0Walks);
    TTBR0_EL1.set(0);
    // SAFETY: TLB maintenance only; the identity entries must not survive.
    unsafe { core::arch::asm!("isb", "tlbi vmalle1", "dsb nsh", "isb", options(nostack)) };
}

/// Maps `size` bytes of device registers at `pa` into the MMIO window.
pub fn map_mmio(pa: PhysAddr, size: u64) -> Result<VirtAddr, MapError> {
    let mut guard = KERNEL_SPACE.lock();
    let space = guard.as_mut().ok_or(MapError::OutOfTables)?;
    let start = pa.align_down(PAGE_SIZE as u64);
    let end = (pa + size).checked_align_up(PAGE_SIZE as u64).ok_or(MapError::Misaligned)?;
    let va = VirtAddr::new(space.next_mmio);
    let attrs = Attributes::new(MemoryType::Device, MapFlags::WRITE | MapFlags::GLOBAL);
    space.table.map_range(&mut KernelTables, va, start, end - start, attrs, false)?;
    space.next_mmio += end - start;
    Ok(va + (pa - start))
}

/// Software walk of the kernel tables, for the self-tests.
pub fn lookup(va: VirtAddr) -> Option<(PhysAddr, Attributes, u8)> {
    let guard = KERNEL_SPACE.lock();
    // A heap pointer's tag is not part of the address (TBI1).
    guard.as_ref()?.table.translate(&mut KernelTables, va.with_match_all_tag())
}

/// A kernel stack in the kernel-stack window, with an unmapped guard page
/// below it: an overflow faults instead of overwriting a neighbour.
pub struct KernelStack(StackPages);

/// A stack's slot and the frames mapped at its bottom, page after page.
struct StackPages {
    bottom: VirtAddr,
    frames: Vec<frame::Frame>,
}

impl KernelSpace {
    /// A slot for a new stack: a freed one (its tables exist), else the
    /// next one of the window, counted from here on so that giving it back
    /// to `free_stacks` can never hand it out twice.
    fn claim_stack_slot(&mut self) -> VirtAddr {
        if let Some(bottom) = self.free_stacks.pop() {
            return bottom;
        }
        self.next_stack += KERNEL_STACK_SLOT;
        VirtAddr::new(self.next_stack)
    }

    /// Unmaps a stack's pages, frees its frames and gives its slot back:
    /// the one way a stack goes, whole or half built.
    fn release_stack(&mut self, stack: StackPages) {
        for (i, f) in stack.frames.into_iter().enumerate() {
            let va = stack.bottom + (i * PAGE_SIZE) as u64;
            self.table.unmap_page(&mut KernelTables, va);
            crate::arch::aarch64::tlb::flush_kernel_page(va.as_u64());
            frame::put(f);
        }
        self.free_stacks.push(stack.bottom);
    }
}

/// A stack being built under the KERNEL_SPACE lock. It borrows the locked
/// space, so a failed build is undone through that borrow: the undoing
/// cannot take the lock again (it did once, when a half-built KernelStack
/// was dropped under the guard and its Drop spun on the lock forever, with
/// interrupts masked). The borrow checker keeps it from outliving the guard.
struct StackBuild<'a> {
    space: &'a mut KernelSpace,
    stack: Option<StackPages>,
}

impl StackBuild<'_> {
    /// Maps one more fresh frame on top of the stack; `None` when out of
    /// frames or tables (the build is then dropped and undone).
    fn add_page(&mut self) -> Option<()> {
        let stack = self.stack.as_mut().expect("a build holds its stack until finished");
        let f = frame::alloc()?;
        let va = stack.bottom + (stack.frames.len() * PAGE_SIZE) as u64;
        let attrs = Attributes::new(MemoryType::Normal, MapFlags::WRITE | MapFlags::GLOBAL);
        if self.space.table.map_range(&mut KernelTables, va, f.start(), PAGE_SIZE as u64, attrs, false).is_err() {
            frame::put(f);
            return None;
        }
        stack.frames.push(f);
        Some(())
    }

    /// The stack's entries visible to this CPU's walker (and every
    /// other's) before the stack is used: DSB ISHST, then ISB (Linux's
    /// set_pte for a valid kernel entry). Without them the first store to
    /// the new stack (a task's initial context, written right after) may
    /// walk the table before the entry is there: a translation fault at
    /// EL1. Nothing was invalidated for these addresses since they were
    /// mapped; the slot's earlier stack was flushed in `release_stack`.
    fn finish(mut self) -> KernelStack {
        // SAFETY: barriers only.
        unsafe { core::arch::asm!("dsb ishst", "isb", options(nostack)) };
        KernelStack(self.stack.take().expect("finished once"))
    }
}

impl Drop for StackBuild<'_> {
    fn drop(&mut self) {
        if let Some(stack) = self.stack.take() {
            self.space.release_stack(stack);
        }
    }
}

impl KernelStack {
    /// Maps `pages` fresh frames above a guard page, in a freed slot if
    /// there is one (all stacks have the same size). `None` when out of
    /// memory, with nothing kept.
    pub fn new(pages: usize) -> Option<Self> {
        // One slot per stack, its bottom aligned for the overflow check in
        // vectors.S (layout.rs, KERNEL_STACK_SHIFT); the guard page is the
        // top page of the slot below, never mapped.
        assert!((pages * PAGE_SIZE) as u64 <= KERNEL_STACK_MAX, "a kernel stack is at most {} bytes", KERNEL_STACK_MAX);
        let frames = Vec::with_capacity(pages);
        let mut guard = KERNEL_SPACE.lock();
        let space = guard.as_mut()?;
        let bottom = space.claim_stack_slot();
        let mut build = StackBuild { space, stack: Some(StackPages { bottom, frames }) };
        for _ in 0..pages {
            build.add_page()?;
        }
        Some(build.finish())
    }

    /// One past the highest byte: the initial stack pointer.
    pub fn top(&self) -> VirtAddr {
        self.0.bottom + (self.0.frames.len() * PAGE_SIZE) as u64
    }

    pub fn range(&self) -> core::ops::Range<u64> {
        self.0.bottom.as_u64()..self.top().as_u64()
    }
}

impl Drop for KernelStack {
    fn drop(&mut self) {
        let stack = StackPages { bottom: self.0.bottom, frames: core::mem::take(&mut self.0.frames) };
        KERNEL_SPACE.lock().as_mut().expect("kernel stacks exist only after boot").release_stack(stack);
    }
}
