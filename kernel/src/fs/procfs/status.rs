//! /proc/<pid>/status, in Linux 6.1's order and formats
//! (fs/proc/array.c proc_pid_status, fs/proc/task_mmu.c task_mem).

use core::fmt::Write;

use super::maps::live_space;
use super::smaps::{counts_for, space_usage, MapCounts};
use super::Text;
use crate::mm::address_space::AddressSpace;
use crate::mm::vma::{AreaFlags, Prot};
use crate::process::{self, Process, State};
use crate::signal::{Disposition, SigSet, MAX_QUEUED, NSIG};
use crate::syscall::errno::Errno;

/// The state as status and stat print it (Linux's task_state_array).
pub fn state_name(task: &Process) -> (char, &'static str) {
    match task.state.get() {
        State::Running | State::Runnable => ('R', "R (running)"),
        State::WaitingForChild | State::Sleeping | State::WaitingForFutex | State::Waiting => ('S', "S (sleeping)"),
        // wait_for_vfork_done sleeps killable, which Linux shows as D.
        State::WaitingForVfork => ('D', "D (disk sleep)"),
        State::Traced => ('t', "t (tracing stop)"),
        State::Zombie => ('Z', "Z (zombie)"),
    }
}

/// The parent as getppid() returns it: the thread group leader's parent
/// (0: the runner, which plays init).
pub fn parent_of(task: &Process) -> u32 {
    process::get(task.tgid).map_or(task.parent.get(), |leader| leader.parent.get())
}

/// Live threads of the task's process.
pub fn threads_of(task: &Process) -> usize {
    process::threads_of(task.tgid).count()
}

/// The signals with a handler, and those ignored (SigCgt, SigIgn).
pub fn caught_and_ignored(task: &Process) -> (SigSet, SigSet) {
    let (mut caught, mut ignored) = (SigSet::EMPTY, SigSet::EMPTY);
    for sig in 1..=NSIG {
        match task.signals.borrow().action(sig).disposition {
            Disposition::Handler(_) => caught.insert(sig),
            Disposition::Ignore => ignored.insert(sig),
            Disposition::Default => {}
        }
    }
    (caught, ignored)
}

/// Sizes of areas by kind, in bytes: (total, data, stack, exec), as Linux
/// counts total_vm, data_vm (private writable, not stack), stack_vm and
/// exec_vm (executable, not writable, not stack).
pub fn vm_sizes(space: &AddressSpace) -> (u64, u64, u64, u64) {
    let (mut total, mut data, mut stack, mut exec) = (0, 0, 0, 0);
    let start_stack = space.layout.start_stack;
    for a in space.areas().iter() {
        let size = a.end - a.start;
        let is_stack = a.start.as_u64() <= start_stack && start_stack < a.end.as_u64();
        total += size;
        if is_stack {
            stack += size;
        } else if a.prot.contains(Prot::WRITE) && !a.flags.contains(AreaFlags::SHARED) {
            data += size;
        } else if a.prot.contains(Prot::EXEC) && !a.prot.contains(Prot::WRITE) {
            exec += size;
        }
    }
    (total, data, stack, exec)
}

fn memory(space: &AddressSpace, counts: &mut MapCounts, out: &mut Text) {
    let usage = space_usage(space, counts);
    let (total, data, stack, exec) = vm_sizes(space);
    let l = space.layout;
    let page = crate::mm::addr::PAGE_SIZE as u64;
    let text = (l.end_code.next_multiple_of(page) - (l.start_code & !(page - 1))).min(exec);
    let (_, peak_owned) = space.owned_frames();
    let hwm = (peak_owned as u64 * page).max(usage.rss);
    let kb = |label: &str, bytes: u64, out: &mut Text| {
        let _ = writeln!(out, "{}:\t{:>8} kB", label, bytes >> 10);
    };
    // The peak virtual size is not tracked: VmPeak is the size now.
    kb("VmPeak", total, out);
    kb("VmSize", total, out);
    // Linux's locked_vm: the size of the locked areas.
    let locked: u64 =
        space.areas().iter().filter(|a| a.flags.contains(AreaFlags::LOCKED)).map(|a| a.end - a.start).sum();
    kb("VmLck", locked, out);
    kb("VmPin", 0, out);
    kb("VmHWM", hwm, out);
    kb("VmRSS", usage.rss, out);
    kb("RssAnon", usage.anonymous, out);
    kb("RssFile", usage.file, out);
    kb("RssShmem", usage.shmem, out);
    kb("VmData", data, out);
    kb("VmStk", stack, out);
    kb("VmExe", text, out);
    kb("VmLib", exec - text, out);
    kb("VmPTE", 0, out);
    kb("VmSwap", 0, out);
    kb("HugetlbPages", 0, out);
}

pub fn show(task: &Process, out: &mut Text) -> Result<(), Errno> {
    let comm = super::comm(task);
    let name = core::str::from_utf8(&comm).unwrap_or("?");
    // Linux's fdtable starts with 64 slots and doubles.
    let fds = task.files().capacity().next_power_of_two().max(64);
    let (caught, ignored) = caught_and_ignored(task);
    // Linux escapes a newline and a backslash in the name (proc_task_name).
    let _ = write!(out, "Name:\t");
    for c in name.chars() {
        let _ = match c {
            '\n' => write!(out, "\\n"),
            '\\' => write!(out, "\\\\"),
            c => write!(out, "{}", c),
        };
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Umask:\t0022");
    let _ = writeln!(out, "State:\t{}", state_name(task).1);
    let _ = writeln!(out, "Tgid:\t{}", task.tgid);
    let _ = writeln!(out, "Ngid:\t0");
    let _ = writeln!(out, "Pid:\t{}", task.pid.0);
    let _ = writeln!(out, "PPid:\t{}", parent_of(task));
    // Linux's ptrace_parent: the tracing task's pid, 0 when not traced.
    let _ = writeln!(out, "TracerPid:\t{}", task.ptrace.borrow().tracer.unwrap_or(0));
    let _ = writeln!(out, "Uid:\t0\t0\t0\t0");
    let _ = writeln!(out, "Gid:\t0\t0\t0\t0");
    let _ = writeln!(out, "FDSize:\t{}", fds);
    // No supplementary groups; Linux ends the list with a space.
    let _ = writeln!(out, "Groups:\t ");
    let _ = writeln!(out, "NStgid:\t{}", task.tgid);
    let _ = writeln!(out, "NSpid:\t{}", task.pid.0);
    let _ = writeln!(out, "NSpgid:\t0");
    let _ = writeln!(out, "NSsid:\t0");
    // The counts first, with no space's lock held (they read every space).
    if let Some(mut counts) = counts_for(task) {
        if let Some(space) = live_space(task) {
            memory(&space, &mut counts, out);
        }
    }
    let _ = writeln!(out, "CoreDumping:\t0");
    let _ = writeln!(out, "THP_enabled:\t0");
    let _ = writeln!(out, "Threads:\t{}", threads_of(task));
    let _ = writeln!(out, "SigQ:\t{}/{}", task.signals.borrow().queued_count(), MAX_QUEUED);
    let (own, shared) = task.signals.borrow().pending_split();
    let _ = writeln!(out, "SigPnd:\t{:016x}", own.0);
    let _ = writeln!(out, "ShdPnd:\t{:016x}", shared.0);
    let _ = writeln!(out, "SigBlk:\t{:016x}", task.signals.borrow().blocked.0);
    let _ = writeln!(out, "SigIgn:\t{:016x}", ignored.0);
    let _ = writeln!(out, "SigCgt:\t{:016x}", caught.0);
    for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        // Everything runs as root with every capability but none
        // inheritable or ambient (Linux's init).
        let set = if matches!(cap, "CapInh" | "CapAmb") { 0 } else { 0x1ff_ffff_ffffu64 };
        let _ = writeln!(out, "{}:\t{:016x}", cap, set);
    }
    let _ = writeln!(out, "NoNewPrivs:\t0");
    let _ = writeln!(out, "Seccomp:\t0");
    let _ = writeln!(out, "Seccomp_filters:\t0");
    let _ = writeln!(out, "Speculation_Store_Bypass:\tunknown");
    let _ = writeln!(out, "SpeculationIndirectBranch:\tunknown");
    let _ = writeln!(out, "Cpus_allowed:\t1");
    let _ = writeln!(out, "Cpus_allowed_list:\t0");
    let _ = writeln!(out, "Mems_allowed:\t1");
    let _ = writeln!(out, "Mems_allowed_list:\t0");
    let _ = writeln!(out, "voluntary_ctxt_switches:\t0");
    let _ = writeln!(out, "nonvoluntary_ctxt_switches:\t0");
    Ok(())
}
