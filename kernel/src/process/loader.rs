//! Building a process from a static ELF executable: its address space, its
//! initial stack (Linux's layout, exec/stack.rs) and the register state its
//! first `eret` to EL0 restores.

use crate::sync::{KernelLocked, TaskOwned};
use crate::arch::aarch64::context::TaskContext;
use alloc::boxed::Box;
use alloc::string::ToString;
use core::fmt;

use linux_raw_sys::general::{rlimit64, RLIMIT_NOFILE, RLIMIT_SIGPENDING, RLIMIT_STACK};

use crate::mm::mmap_lock::MmLock;
use super::{next_pid, Brk, Process, RLIMITS};
use crate::arch::aarch64::context::KernelContext;
use crate::arch::aarch64::cpu_features;
use crate::arch::aarch64::fpsimd::FpState;
use crate::arch::aarch64::mmu::kernel_map::KernelStack;
use crate::arch::aarch64::trap_frame::TrapFrame;
use crate::exec::elf::{self, ElfError, LoadPlan};
use crate::exec::stack::{self, at};
use crate::fs::fd_table::{FdEntry, FdTable};
use crate::fs::file::OpenFile;
use crate::mm::addr::{VirtAddr, PAGE_SIZE};
use crate::mm::address_space::{AddressSpace, OutOfMemory, ProgramLayout};
use crate::mm::fault::FaultCounters;
use crate::mm::vma::{Area, Backing, Prot};
use crate::signal::PendingFault;

pub use crate::exec::layout::{MMAP_BASE, STACK_SIZE, STACK_TOP};
/// Pages of each process's kernel stack.
pub const KERNEL_STACK_PAGES: usize = 4;
/// Frames a new kernel stack takes at most: its pages, and the level-3 and
/// level-2 tables a fresh slot of the window may need.
pub const KERNEL_STACK_FRAMES: usize = KERNEL_STACK_PAGES + 2;
/// RLIM_INFINITY as rlimit64 holds it.
pub const RLIM_INFINITY: u64 = u64::MAX;

#[derive(Debug)]
pub enum LoadError {
    Elf(ElfError),
    OutOfMemory,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Elf(e) => write!(f, "bad executable: {}", e),
            LoadError::OutOfMemory => write!(f, "out of memory"),
        }
    }
}

impl From<OutOfMemory> for LoadError {
    fn from(_: OutOfMemory) -> Self {
        LoadError::OutOfMemory
    }
}

/// Linux's default limits for a new process (init's values).
fn default_limits() -> [rlimit64; RLIMITS] {
    let mut limits = [rlimit64 { rlim_cur: RLIM_INFINITY, rlim_max: RLIM_INFINITY }; RLIMITS];
    limits[RLIMIT_STACK as usize].rlim_cur = STACK_SIZE;
    limits[RLIMIT_NOFILE as usize] = rlimit64 { rlim_cur: 1024, rlim_max: 4096 };
    // What the real-time signal queues of the program's tasks hold at most,
    // together (signal/mod.rs).
    let queued = crate::signal::MAX_QUEUED as u64;
    limits[RLIMIT_SIGPENDING as usize] = rlimit64 { rlim_cur: queued, rlim_max: queued };
    limits
}

/// Maps a PT_LOAD segment as Linux's elf_load() does: its file part is a
/// private copy of the file's pages (copied now), the rest (.bss) an
/// anonymous area filled with zeros on first touch. File bytes past the end
/// of the file are zeros in the last page the file reaches (as a file
/// mapping's last page), and pages of the file part wholly past the end of
/// the file raise SIGBUS when touched (Backing::PastEndOfFile: filemap_fault's
/// VM_FAULT_SIGBUS). The segment replaces whatever an earlier segment
/// mapped in its pages (load_elf_binary maps each later one MAP_FIXED).
fn load_segment(space: &mut AddressSpace, file: &[u8], seg: &elf::Segment) -> Result<(), LoadError> {
    let page_size = PAGE_SIZE as u64;
    let (start, end) = seg.pages();
    space.unmap(start, end).map_err(|_| LoadError::OutOfMemory)?;
    let layout = seg.layout(file.len() as u64);
    let pieces = [
        Area::anonymous(layout.copied.0, layout.copied.1, seg.prot),
        Area {
            backing: Backing::PastEndOfFile,
            ..Area::anonymous(layout.past_end_of_file.0, layout.past_end_of_file.1, seg.prot)
        },
        Area::anonymous(layout.anonymous.0, layout.anonymous.1, seg.prot),
    ];
    for area in pieces.into_iter().filter(|a| a.start < a.end) {
        space.add_area(area).map_err(|_| LoadError::OutOfMemory)?;
    }
    let data_end = seg.vaddr.as_u64() + seg.file_size;
    let mut page = layout.copied.0;
    while page < layout.copied.1 {
        let from = seg.vaddr.max(page);
        let to = data_end.min(page.as_u64() + page_size);
        let file_at = usize::try_from(seg.file_offset + (from - seg.vaddr)).unwrap_or(usize::MAX);
        // In a page the file ends in, only the bytes before the end (none
        // if the segment starts past it): the rest of the frame stays zero.
        let rest = file.get(file_at..).unwrap_or_default();
        let bytes = &rest[..rest.len().min((to - from.as_u64()) as usize)];
        space.map_page_with(page, from - page, bytes)?;
        page = page + page_size;
    }
    Ok(())
}

/// The process name: the file name, cut to 15 bytes (Linux's TASK_COMM_LEN).
pub fn comm_of(path: &str) -> [u8; 16] {
    let mut comm = [0u8; 16];
    let name = path.rsplit('/').next().unwrap_or(path).as_bytes();
    let n = name.len().min(15);
    comm[..n].copy_from_slice(&name[..n]);
    comm
}

/// Descriptors 0, 1 and 2 on the console, as Linux gives init.
fn console_files() -> FdTable<crate::fs::file::FileRef> {
    let mut files = FdTable::new();
    let console = OpenFile::console();
    for _ in 0..3 {
        files.insert_lowest(0, FdEntry { file: console.clone(), cloexec: false }, 3).expect("three free slots");
    }
    files
}

/// Creates the process for `file` with `argv` and `envp`, ready to run.
/// A program image ready to run: its address space and where it starts.
pub struct Image {
    pub space: AddressSpace,
    pub entry: VirtAddr,
    pub sp: VirtAddr,
    /// End of the loaded segments: where the program break starts.
    pub brk: VirtAddr,
}

/// Builds the address space for `file`: its segments, the vDSO, and the stack with argv, envp and auxv (execve's work).
pub fn build_image(path: &str, file: &[u8], argv: &[&str], envp: &[&str], mte_level: u8) -> Result<Image, LoadError> {
    let plan: LoadPlan = elf::plan(file).map_err(LoadError::Elf)?;
    let mut space = AddressSpace::new()?;
    for seg in &plan.segments {
        load_segment(&mut space, file, seg)?;
    }
    let image_end = plan.segments.iter().map(|s| s.pages().1).max().expect("plan has segments");

    let vdso = crate::vdso::map_into(&mut space).map_err(|_| LoadError::OutOfMemory)?;
    // PT_GNU_STACK with PF_X: an executable stack, as Linux gives it.
    let stack_prot = if plan.exec_stack { Prot::READ | Prot::WRITE | Prot::EXEC } else { Prot::READ | Prot::WRITE };
    let stack_area = Area::anonymous(VirtAddr::new(STACK_TOP - STACK_SIZE), VirtAddr::new(STACK_TOP), stack_prot);
    space.add_area(stack_area).map_err(|_| LoadError::OutOfMemory)?;
    let (hwcap, hwcap2) = cpu_features::hwcaps(mte_level);
    // Linux's order (create_elf_tables): ARCH_DLINFO's AT_SYSINFO_EHDR first.
    let aux = [
        (at::SYSINFO_EHDR, vdso.as_u64()),
        (at::PHDR, plan.phdr.as_u64()),
        (at::PHENT, plan.phent as u64),
        (at::PHNUM, plan.phnum as u64),
        (at::PAGESZ, PAGE_SIZE as u64),
        (at::BASE, 0),
        (at::FLAGS, 0),
        (at::ENTRY, plan.entry.as_u64()),
        (at::UID, 0),
        (at::EUID, 0),
        (at::GID, 0),
        (at::EGID, 0),
        (at::SECURE, 0),
        (at::HWCAP, hwcap),
        (at::HWCAP2, hwcap2),
        (at::CLKTCK, 100),
    ];
    let mut random = [0u8; 16];
    cpu_features::random_bytes(&mut random);
    let image = stack::build(VirtAddr::new(STACK_TOP), argv, envp, &aux, random, path);
    // The image is written page by page from the top; its lowest page may
    // start below sp.
    let first_page = image.sp.align_down(PAGE_SIZE as u64);
    let mut page = first_page;
    while page.as_u64() < STACK_TOP {
        let from = image.sp.max(page);
        let to = (page.as_u64() + PAGE_SIZE as u64).min(STACK_TOP);
        let offset = (from - image.sp) as usize;
        let bytes = &image.bytes[offset..offset + (to - from.as_u64()) as usize];
        space.map_page_with(page, from - page, bytes)?;
        page = page + PAGE_SIZE as u64;
    }

    log::info!(
        "{} loaded: entry {:#x}, {} segments, {} areas, brk {:#x}, sp {:#x}",
        path,
        plan.entry.as_u64(),
        plan.segments.len(),
        space.areas().len(),
        image_end.as_u64(),
        image.sp.as_u64()
    );
    space.layout = program_layout(&plan, &image);
    Ok(Image { space, entry: plan.entry, sp: image.sp, brk: image_end })
}

/// start_code .. end_data as Linux's load_elf_binary computes them (code:
/// the executable segments, data: the highest segment's file part), and
/// the stack, argv and envp from the stack image.
fn program_layout(plan: &LoadPlan, image: &stack::StackImage) -> ProgramLayout {
    let mut l = ProgramLayout { start_code: u64::MAX, ..ProgramLayout::default() };
    for seg in &plan.segments {
        let (start, file_end) = (seg.vaddr.as_u64(), seg.vaddr.as_u64() + seg.file_size);
        if seg.prot.contains(Prot::EXEC) {
            l.start_code = l.start_code.min(start);
            l.end_code = l.end_code.max(file_end);
        }
        l.start_data = l.start_data.max(start);
        l.end_data = l.end_data.max(file_end);
    }
    if l.start_code == u64::MAX {
        l.start_code = 0;
    }
    l.start_stack = image.sp.as_u64();
    (l.arg_start, l.arg_end) = (image.args.0.as_u64(), image.args.1.as_u64());
    (l.env_start, l.env_end) = (image.env.0.as_u64(), image.env.1.as_u64());
    l
}

/// The register state a new program starts with: all registers zero
/// (glibc's _start reads x0 as rtld_fini and must see NULL), SPSR = EL0t with
/// interrupts unmasked, at the entry point with the new stack.
pub fn initial_frame(entry: VirtAddr, sp: VirtAddr) -> TrapFrame {
    TrapFrame {
        x: [0; 31],
        sp_el0: sp.as_u64(),
        elr: entry.as_u64(),
        spsr: 0,
        esr: 0,
        far: 0,
        frame_record: [0; 2],
        entry_ticks: [0; 2],
    }
}

/// A kernel stack with `frame` at its top, and the context that returns to
/// EL0 through it.
pub fn kernel_stack_with(frame: TrapFrame) -> Result<(KernelStack, KernelContext), LoadError> {
    let kstack = KernelStack::new(KERNEL_STACK_PAGES).ok_or(LoadError::OutOfMemory)?;
    let context = KernelContext::new_user_entry(&kstack, frame);
    Ok((kstack, context))
}

/// Creates the process for `file` with `argv` and `envp`, ready to run.
pub fn load(path: &str, file: &[u8], argv: &[&str], envp: &[&str], mte_level: u8) -> Result<Box<Process>, LoadError> {
    let image = build_image(path, file, argv, envp, mte_level)?;
    let (kstack, context) = kernel_stack_with(initial_frame(image.entry, image.sp))?;
    let pid = next_pid();
    log::info!("pid {} ({}) created", pid.0, path);
    Ok(Box::new(Process {
        pid: TaskOwned::new(pid),
        name: KernelLocked::new(path.to_string()),
        mm: TaskOwned::new({
            let mut space = image.space;
            space.brk = Brk { start: image.brk, end: image.brk };
            MmLock::new(space)
        }),
        tgid: pid.0,
        limits: KernelLocked::new(default_limits()),
        clear_child_tid: KernelLocked::new(0),
        robust_list: KernelLocked::new(0),
        fdt: KernelLocked::new(super::new_files(console_files())),
        faults: FaultCounters::default(),
        last_spurious: KernelLocked::new(None),
        signals: KernelLocked::new(Default::default()),
        mte: TaskOwned::new(Default::default()),
        pending_fault: KernelLocked::new(PendingFault::default()),
        mte_async_fault: KernelLocked::new(false),
        comm: KernelLocked::new(comm_of(path)),
        tls: KernelLocked::new(0),
        parent: KernelLocked::new(0),
        state: KernelLocked::new(super::State::Runnable),
        wake_at: KernelLocked::new(None),
        interrupted: KernelLocked::new(false),
        in_wait: KernelLocked::new(false),
        exit_signal: KernelLocked::new(0),
        futex_key: KernelLocked::new(None),
        vfork_parent: KernelLocked::new(None),
        started_at: KernelLocked::new(0),
        context: TaskContext::new(context),
        kstack,
        fp: KernelLocked::new(FpState::default()),
        outcome: KernelLocked::new(None),
        ptrace: KernelLocked::new(Default::default()),
        on_cpu: KernelLocked::new(None),
        timer_cpu: KernelLocked::new(0),
        work: crate::process::task_work::TaskWork::new(),
        affinity: KernelLocked::new(super::cpu_mask::CpuMask::active()),
    }))
}
