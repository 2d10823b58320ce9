//! Process system calls: clone (fork), wait4, execve.

use crate::sync::{KernelLocked, TaskOwned};
use crate::arch::aarch64::context::TaskContext;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use aarch64_cpu::registers::TPIDR_EL0;
use linux_raw_sys::general::{
    CLD_EXITED, CLD_KILLED, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_FILES, CLONE_PARENT_SETTID, CLONE_SETTLS,
    CLONE_SIGHAND, CLONE_THREAD, CLONE_VFORK, CLONE_VM, SIGCHLD, WNOHANG, WUNTRACED, __WALL, __WCLONE, __WNOTHREAD,
};
use tock_registers::interfaces::Readable;

use super::errno::{Errno, SysResult};
use crate::arch::aarch64::mte_control::MteControl;
use crate::arch::aarch64::trap_frame::TrapFrame;
use crate::exec::elf;
use crate::fs::boot_initramfs;
use crate::mm::tagged_addr::TagRule;
use crate::mm::uaccess::{read_user, read_user_str, write_user, UserAddr};
use crate::process::outcome::Outcome;
use crate::mm::mmap_lock::MmLock;
use crate::process::{self, loader, Brk, Process, State};
use crate::signal::{Disposition, PendingFault, SignalState};

/// Free frames clone keeps in reserve (16 MiB), on top of what the new
/// task itself takes (`frames_for_task`).
const FORK_RESERVE_FRAMES: usize = 4096;
/// Kernel heap a new task takes at most: its Process (fd table handle,
/// saved FP/SIMD registers) boxed in the process table, and its share of
/// the table's nodes (an upper estimate, twice its size), and its boxed
/// signal state.
const TASK_HEAP_BYTES: usize =
    2 * core::mem::size_of::<crate::process::Process>() + core::mem::size_of::<SignalState>();

/// wait4's and waitid's Linux-only options (uapi linux/wait.h).
const WAIT_LINUX_ONLY: u32 = __WNOTHREAD | __WALL | __WCLONE;

/// Which children a wait may report, by the signal each sends its parent
/// at its end (Linux's eligible_child): with __WALL every child; with
/// __WCLONE only "clone" children, whose exit signal is not SIGCHLD (none,
/// or another); without either only the others. A tracee is eligible
/// whatever its signal (ptrace::wait_tracees looks at it apart).
/// __WNOTHREAD is accepted and waits as without it: a child's parent
/// here is a process, not the thread that made it
/// (scripts/known-differences.txt).
fn wait_eligible(options: u32) -> impl Fn(&Process) -> bool {
    move |child| options & __WALL != 0 || (child.exit_signal.get() != SIGCHLD) == (options & __WCLONE != 0)
}

/// clone(flags, newsp, parent_tidptr, tls, child_tidptr), Linux's
/// copy_process: the child shares the address space with CLONE_VM (else it
/// gets a copy-on-write view: fork), the descriptor table with CLONE_FILES
/// and the dispositions with CLONE_SIGHAND (else copies), and with
/// CLONE_THREAD it is a thread of the caller's process (glibc's
/// pthread_create) rather than a new process. With CLONE_VFORK the caller
/// sleeps until the child execs or exits (vfork, glibc's posix_spawn:
/// CLONE_VM | CLONE_VFORK). The child starts from a copy of the caller's
/// registers with x0 = 0.
///
/// Never inlined: the new `Process` is built on its stack before it is
/// boxed, and inlined into `dispatch` that frame (with its cells' borrow
/// flags, 10 KiB) sat under every system call's, overflowing the 16 KiB
/// kernel stack in fork's `SignalState::for_fork`.
#[inline(never)]
pub fn clone(frame: &TrapFrame, flags: u64, newsp: u64, ptid: UserAddr, tls: u64, ctid: UserAddr) -> SysResult {
    let f = flags as u32;
    let thread = f & CLONE_THREAD != 0;
    // Linux's rules: a thread shares handlers, shared handlers need a
    // shared address space.
    if (thread && f & CLONE_SIGHAND == 0) || (f & CLONE_SIGHAND != 0 && f & CLONE_VM == 0) {
        return Err(Errno::EINVAL);
    }
    // The task limit, and reserves of free memory: a fork bomb gets EAGAIN
    // well before the kernel could run out of frames for page tables, or
    // run its heap (where every task lives) into the reserve that ending
    // tasks needs.
    let parent = process::current();
    if process::count() >= process::MAX_PROCESSES
        || crate::mm::frame::stats().free < FORK_RESERVE_FRAMES + frames_for_task(parent, thread)
        || !crate::mm::heap::can_spare(TASK_HEAP_BYTES)
    {
        return Err(Errno::EAGAIN);
    }
    let mut child_frame = TrapFrame { x: frame.x, ..*frame };
    child_frame.x[0] = 0;
    if newsp != 0 {
        child_frame.sp_el0 = newsp;
    }
    // A copied descriptor table is kernel heap: a table grown to a million
    // slots copied by every fork would exhaust it (ENOMEM first).
    if f & CLONE_FILES == 0 && !crate::mm::heap::can_spare(parent.files().heap_bytes()) {
        return Err(Errno::ENOMEM);
    }
    let tid = process::next_pid();
    let mm = if f & CLONE_VM != 0 {
        // Linux's schedule_tail: the child's put_user, whose failure
        // nobody sees (here and below: a bad or, ABI off, tagged pointer).
        if f & CLONE_CHILD_SETTID != 0 {
            let _ = write_user(ctid, &tid.0);
        }
        parent.mm.clone()
    } else {
        // Exclusive: fork write-protects the parent's private pages as it
        // shares them, which no fault (each holds the shared side) may
        // meet half done (mm/address_space.rs: `fork`).
        let mut space = parent.mm.write().fork().map_err(|_| Errno::ENOMEM)?;
        if f & CLONE_CHILD_SETTID != 0 {
            // The child's space, nobody else's yet: no lock.
            let _ = space.poke(ctid.untagged(TagRule::Access), &tid.0.to_le_bytes());
        }
        MmLock::new(space)
    };
    let fdt = if f & CLONE_FILES != 0 { parent.fdt.borrow().clone() } else { process::new_files(parent.files().try_clone()?) };
    let signals = child_signals(parent, f, thread);
    let (tgid, wait_parent) = if thread { (parent.tgid, parent.parent.get()) } else { (tid.0, parent.tgid) };
    let (kstack, context) = loader::kernel_stack_with(child_frame).map_err(|_| Errno::ENOMEM)?;
    parent.fp.borrow_mut().save();
    let child = Box::new(Process {
        pid: TaskOwned::new(tid),
        name: KernelLocked::new(parent.name.borrow().clone()),
        mm: TaskOwned::new(mm),
        tgid,
        limits: KernelLocked::new(parent.limits.get()),
        clear_child_tid: KernelLocked::new(if f & CLONE_CHILD_CLEARTID != 0 { ctid.raw_with_tag() } else { 0 }),
        // Linux's futex_init_task: a new task has no robust list.
        robust_list: KernelLocked::new(0),
        fdt: KernelLocked::new(fdt),
        faults: Default::default(),
        last_spurious: KernelLocked::new(None),
        signals: KernelLocked::new(signals),
        mte: TaskOwned::new(*parent.mte),
        pending_fault: KernelLocked::new(PendingFault::default()),
        mte_async_fault: KernelLocked::new(false),
        comm: KernelLocked::new(parent.comm.get()),
        tls: KernelLocked::new(if f & CLONE_SETTLS != 0 { tls } else { TPIDR_EL0.get() }),
        started_at: KernelLocked::new(crate::arch::aarch64::timer::ticks()),
        kstack,
        context: TaskContext::new(context),
        fp: KernelLocked::new(parent.fp.borrow().clone()),
        outcome: KernelLocked::new(None),
        parent: KernelLocked::new(wait_parent),
        state: KernelLocked::new(State::Runnable),
        wake_at: KernelLocked::new(None),
        interrupted: KernelLocked::new(false),
        in_wait: KernelLocked::new(false),
        exit_signal: KernelLocked::new(if thread { 0 } else { (flags & 0xff) as u32 }),
        futex_key: KernelLocked::new(None),
        vfork_parent: KernelLocked::new((f & CLONE_VFORK != 0).then_some(parent.pid.0)),
        // Linux's copy_process: not traced (no PTRACE_O_TRACEFORK here).
        ptrace: KernelLocked::new(Default::default()),
        on_cpu: KernelLocked::new(None),
        timer_cpu: KernelLocked::new(0),
        work: crate::process::task_work::TaskWork::new(),
        // Linux's dup_task_struct: the child may run where the parent may.
        affinity: KernelLocked::new(parent.affinity.get()),
    });
    // Linux's kernel_clone ignores put_user's result: the child exists.
    if f & CLONE_PARENT_SETTID != 0 {
        let _ = write_user(ptid, &tid.0);
    }
    log::debug!(
        "pid {} ({}) cloned {} {}",
        parent.pid.0,
        parent.name.borrow(),
        if thread { "thread" } else { "process" },
        tid.0
    );
    process::admit(child);
    if f & CLONE_VFORK != 0 {
        process::wait_for_vfork_done(tid.0);
    }
    Ok(tid.0 as u64)
}

/// The new task's signal state, boxed: built and copied here, out of
/// clone's frame, so that the 2.5 KiB state and `for_fork`'s frame are on
/// the kernel stack only while this runs, not beneath the new `Process`
/// that clone builds on its stack.
#[inline(never)]
fn child_signals(parent: &Process, f: u32, thread: bool) -> Box<SignalState> {
    let signals = parent.signals.borrow();
    if thread {
        return Box::new(signals.for_thread());
    }
    let mut child = Box::new(if f & CLONE_SIGHAND != 0 { signals.for_sighand_sharer() } else { signals.for_fork() });
    // Linux's copy_process: a child on the same memory but not stopping
    // its parent must not share its alternate signal stack.
    if f & (CLONE_VM | CLONE_VFORK) == CLONE_VM {
        child.altstack = None;
    }
    child
}

/// Frames clone itself may take for a new task: the copy of the parent's
/// page tables (a process), the kernel stack with the tables of its slot,
/// and the page CLONE_CHILD_SETTID may copy. The reserve comes on top: it
/// was once checked against what was free before the copy, and a parent
/// with more tables than the reserve left the kernel stack no frame.
fn frames_for_task(parent: &Process, thread: bool) -> usize {
    let tables = if thread { 0 } else { parent.mm.read().fork_table_frames() };
    tables + loader::KERNEL_STACK_FRAMES + 1
}

/// The status word wait4 reports (WIFEXITED / WIFSIGNALED encodings).
fn wait_status(outcome: &Outcome) -> u32 {
    match outcome {
        Outcome::Exited(code) => (*code as u32) << 8,
        Outcome::Killed { signal, .. } => *signal & 0x7f,
        Outcome::TimeLimit { .. } => linux_raw_sys::general::SIGKILL,
        Outcome::Refused(_) => 126 << 8,
        Outcome::NotStarted(_) => 127 << 8,
    }
}

/// What wait4 / waitid found.
enum Waited {
    /// A child (or a traced process) ended with this outcome.
    Ended(u32, Outcome),
    /// A tracee is in a ptrace-stop with this exit code (the signal, and
    /// the event above it).
    Stopped(u32, u32),
}

/// Waits for a child of the caller's process that `matches` to become a
/// zombie, or for a tracee of the caller's process to stop (Linux's do_wait:
/// wait_consider_task and ptrace_do_wait); reaps the child unless `keep`
/// (WNOWAIT). `Ok(None)` with `nohang` when none has exited yet; ECHILD
/// when there is no such child or tracee at all. A wait for one pid
/// (`only`) looks that pid up rather than at every child (Linux's
/// do_wait_pid), so it costs the same however many children live.
fn wait_child(
    matches: impl Fn(&Process) -> bool,
    eligible: impl Fn(&Process) -> bool,
    only: Option<u32>,
    nohang: bool,
    keep: bool,
) -> Result<Option<Waited>, Errno> {
    let me = process::current().tgid;
    let mut interrupted = false;
    loop {
        let (mut any, event) = process::ptrace::wait_tracees(&matches, keep);
        match event {
            Some(process::ptrace::Event::Stopped { pid, code }) => return Ok(Some(Waited::Stopped(pid, code))),
            Some(process::ptrace::Event::Ended { pid, outcome }) => return Ok(Some(Waited::Ended(pid, outcome))),
            None => {}
        }
        let mut zombie = None;
        let one = only.map(|pid| process::get(pid).filter(|c| c.parent.get() == me));
        let all = one.is_none().then(|| process::children_of(me));
        for child in one.into_iter().flatten().chain(all.into_iter().flatten()) {
            if child.is_leader() && matches(child) && eligible(child) {
                any = true;
                if process::reapable(child) && !process::ptrace::held_by_tracer(child) {
                    zombie = Some((child.pid.0, child.outcome.borrow().clone().expect("a zombie has an outcome")));
                    break;
                }
            }
        }
        if !any {
            return Err(Errno::ECHILD);
        }
        if let Some((pid, outcome)) = zombie {
            if !keep {
                process::reap(pid);
            }
            return Ok(Some(Waited::Ended(pid, outcome)));
        }
        if nohang {
            return Ok(None);
        }
        // Linux's do_wait: the children are looked at once more after a
        // signal woke the caller (the child whose exit sent SIGCHLD is
        // reaped, the handler runs on the way out); only if none is ready
        // ERESTARTSYS, restarted after an SA_RESTART handler, EINTR after
        // another.
        if interrupted {
            return Err(Errno::ERESTARTSYS);
        }
        process::block(State::WaitingForChild);
        interrupted = process::current().interrupted.take();
    }
}

/// wait4(pid, wstatus, options, rusage): a child matching `pid` (-1 or any
/// group id: any child) that has exited is reaped and its status reported,
/// or a tracee's ptrace-stop (`(signal << 8) | 0x7f`); without one the
/// caller sleeps until a child exits (or returns 0 with WNOHANG).
pub fn wait4(pid: i32, wstatus: UserAddr, options: u32, rusage: UserAddr) -> SysResult {
    if options & !(WNOHANG | WUNTRACED | linux_raw_sys::general::WCONTINUED | WAIT_LINUX_ONLY) != 0 {
        return Err(Errno::EINVAL);
    }
    let only = (pid > 0).then_some(pid as u32);
    let found = wait_child(
        |p| pid <= 0 || p.pid.0 == pid as u32,
        wait_eligible(options),
        only,
        options & WNOHANG != 0,
        false,
    )?;
    let (child, status) = match found {
        None => return Ok(0),
        Some(Waited::Ended(child, outcome)) => (child, wait_status(&outcome)),
        Some(Waited::Stopped(child, code)) => (child, process::ptrace::stop_status(code)),
    };
    if !wstatus.is_null() {
        write_user(wstatus, &status)?;
    }
    if !rusage.is_null() {
        // struct rusage: 144 bytes, all zero (no accounting yet).
        for off in (0..144).step_by(8) {
            write_user(rusage.offset(off), &0u64)?;
        }
    }
    Ok(child as u64)
}

/// waitid(idtype, id, infop, options): as wait4, reporting through a
/// siginfo (si_signo SIGCHLD, si_code CLD_EXITED, CLD_KILLED or, for a
/// ptrace-stop, CLD_TRAPPED; si_pid, si_status); WNOWAIT leaves the child
/// waitable.
pub fn waitid(idtype: u32, id: i32, infop: UserAddr, options: u32) -> SysResult {
    use linux_raw_sys::general::{P_ALL, P_PGID, P_PID, WCONTINUED, WEXITED, WNOWAIT, WSTOPPED};
    if options & !(WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT | WAIT_LINUX_ONLY) != 0
        || options & (WEXITED | WSTOPPED | WCONTINUED) == 0
    {
        return Err(Errno::EINVAL);
    }
    let filter = match idtype {
        P_ALL | P_PGID => None,
        P_PID if id > 0 => Some(id as u32),
        _ => return Err(Errno::EINVAL),
    };
    let found = wait_child(
        |p| filter.is_none_or(|f| p.pid.0 == f),
        wait_eligible(options),
        filter,
        options & WNOHANG != 0,
        options & WNOWAIT != 0,
    )?;
    if !infop.is_null() {
        let mut info = [0u32; 32];
        if let Some(found) = found {
            let (pid, code, status) = match found {
                Waited::Ended(pid, Outcome::Exited(c)) => (pid, CLD_EXITED, c as u32),
                Waited::Ended(pid, Outcome::Killed { signal, .. }) => (pid, CLD_KILLED, signal),
                Waited::Ended(pid, Outcome::TimeLimit { .. }) => (pid, CLD_KILLED, linux_raw_sys::general::SIGKILL),
                Waited::Ended(pid, Outcome::Refused(_)) => (pid, CLD_EXITED, 126),
                Waited::Ended(pid, Outcome::NotStarted(_)) => (pid, CLD_EXITED, 127),
                Waited::Stopped(pid, code) => (pid, linux_raw_sys::general::CLD_TRAPPED, code),
            };
            info[0] = linux_raw_sys::general::SIGCHLD;
            info[2] = code;
            info[4] = pid;
            info[6] = status;
        }
        let bytes: [u8; 128] = siginfo_bytes(&info);
        crate::mm::uaccess::copy_to_user(infop, &bytes)?;
    }
    Ok(0)
}

/// The bytes of a siginfo built as 32 words.
fn siginfo_bytes(words: &[u32; 32]) -> [u8; 128] {
    let mut out = [0u8; 128];
    for (i, w) in words.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    out
}

/// Reads a NULL-terminated array of string pointers (argv, envp).
fn read_strings(array: UserAddr) -> Result<Vec<String>, Errno> {
    let mut out = Vec::new();
    if array.is_null() {
        return Ok(out);
    }
    let mut total = 0;
    loop {
        let ptr: u64 = read_user(array.offset(out.len() as u64 * 8))?;
        if ptr == 0 {
            return Ok(out);
        }
        let s = read_user_str(UserAddr::new(ptr), 128 * 1024)?;
        total += s.len() + 1;
        // Linux's limit on argument space (a quarter of the stack limit).
        if total > 2 << 20 || out.len() > 0x7fff {
            return Err(Errno::E2BIG);
        }
        out.push(s);
    }
}

/// execve(path, argv, envp): the current process becomes a new program from
/// the initramfs (Linux's begin_new_exec). The new image is built first:
/// anything that fails before it is ready fails the call and leaves the
/// caller as it was. Then, with no way back: the other threads end and a
/// non-leader caller takes the leader's pid (de_thread); the new address
/// space replaces the old one, which a vfork parent gets back (exec_mmap,
/// mm_release); the dispositions and the descriptor table become this
/// process's own (unshare_sighand, unshare_files) before caught signals are
/// reset and close-on-exec descriptors closed; the MTE control is reset.
pub fn execve(frame: &mut TrapFrame, path: UserAddr, argv: UserAddr, envp: UserAddr) -> SysResult {
    let path = read_user_str(path, 4096)?;
    let argv = read_strings(argv)?;
    let envp = read_strings(envp)?;
    let fs = boot_initramfs::global();
    let file = fs.file(&path).ok_or(Errno::ENOENT)?;
    let argv_refs: Vec<&str> = argv.iter().map(String::as_str).collect();
    let envp_refs: Vec<&str> = envp.iter().map(String::as_str).collect();
    let image = loader::build_image(&path, file.data, &argv_refs, &envp_refs, crate::arch::aarch64::mte::level())
        .map_err(|e| match e {
            // Linux's load_elf_binary opens the interpreter: ENOENT if it
            // is not there. This kernel loads none, so a dynamically
            // linked program whose interpreter exists is ENOEXEC.
            loader::LoadError::Elf(elf::ElfError::Interpreter { offset, len })
                if elf::interpreter_path(file.data, offset, len).is_none_or(|path| fs.file(path).is_none()) =>
            {
                Errno::ENOENT
            }
            loader::LoadError::Elf(_) => Errno::ENOEXEC,
            loader::LoadError::OutOfMemory => Errno::ENOMEM,
        })?;
    let p = process::current();
    // A descriptor table shared with another process (clone(CLONE_FILES)
    // without CLONE_THREAD) is unshared below: it is copied now, while the
    // call can still fail (ENOMEM).
    let mut unshared_files = None;
    if process::files_shared_outside_group(p) {
        if !crate::mm::heap::can_spare(p.files().heap_bytes()) {
            return Err(Errno::ENOMEM);
        }
        unshared_files = Some(p.files().try_clone()?);
    }

    let old_tid = p.pid.0;
    // Another thread's exec won, or the process ended meanwhile: this
    // thread was killed, and exits on its way back (the errno is never
    // seen, as Linux's -EAGAIN from de_thread).
    process::de_thread().map_err(|()| Errno::EAGAIN)?;
    // Linux's exec_mm_release -> futex_exec_release: the old program's
    // robust list is walked in its memory, still mapped, and forgotten.
    let p = process::current();
    process::robust_list::exit_robust_list(p.robust_list.take(), p.pid.0);
    // The new space goes live before the old one is freed: we are running
    // on the old one's TTBR0 until then.
    image.space.activate();
    let mut space = image.space;
    space.brk = Brk { start: image.brk, end: image.brk };
    // The old space goes with its last reference (its drop flushes its
    // ASID, then frees), emptied first in pieces that let other CPUs in
    // (`exec_mmput`); nobody else holds this task's `mm` meanwhile: the
    // siblings are gone (de_thread), and readers elsewhere (/proc, ptrace)
    // clone the Arc under the kernel lock this call holds.
    crate::mm::long_walk::exec_mmput(p.mm.replace(MmLock::new(space)));
    process::vfork_done(p);
    p.name.set(path.clone());
    // Linux's begin_new_exec: the name becomes the file's base name.
    p.comm.set(loader::comm_of(&path));
    p.signals.borrow_mut().unshare_actions();
    reset_signals(&mut p.signals.borrow_mut());
    if Arc::strong_count(&*p.fdt.borrow()) > 1 {
        let files = unshared_files.take().unwrap_or_else(|| p.files().clone());
        p.fdt.set(process::new_files(files));
    }
    p.files().close_on_exec();
    p.mte.replace(MteControl::default());
    p.mte.install();
    // A pending asynchronous tag fault belongs to the old program.
    p.mte_async_fault.set(false);
    crate::arch::aarch64::mte::clear_user_fault_status();
    p.clear_child_tid.set(0);
    // Linux's de_thread: whatever clone gave, the parent now gets SIGCHLD.
    p.exit_signal.set(linux_raw_sys::general::SIGCHLD);
    p.fp.set(Default::default());
    p.fp.borrow().restore();
    p.tls.set(0);
    tock_registers::interfaces::Writeable::set(&TPIDR_EL0, 0);
    *frame = loader::initial_frame(image.entry, image.sp);
    log::info!("pid {} exec {}", p.pid.0, path);
    process::ptrace::exec_done(p, frame, old_tid);
    Ok(0)
}

/// Caught signals revert to the default at exec; ignored ones stay ignored.
fn reset_signals(s: &mut SignalState) {
    for sig in 1..=crate::signal::NSIG {
        let a = s.action(sig);
        if let Disposition::Handler(_) = a.disposition {
            let _ = s.set_action(sig, Default::default());
        }
    }
    s.altstack = None;
}
