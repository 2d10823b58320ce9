//! /proc/<pid>/stat: Linux 6.1's 52 fields on one line (fs/proc/array.c
//! do_task_stat). What this kernel does not have is 0: process groups and
//! sessions, a terminal, CPU times, priorities beyond the default, flags.

use core::fmt::Write;

use linux_raw_sys::general::{RLIMIT_RSS, SIGKILL};

use super::maps::live_space;
use super::smaps::{counts_for, space_usage};
use super::status::{caught_and_ignored, parent_of, state_name, threads_of, vm_sizes};
use super::Text;
use crate::arch::aarch64::timer;
use crate::mm::addr::PAGE_SIZE;
use crate::process::outcome::Outcome;
use crate::process::{Process, State};
use crate::syscall::errno::Errno;

/// Linux's USER_HZ: the unit of stat's times.
const USER_HZ: u64 = 100;

/// exit_code as wait() would see it: the status << 8, or the signal.
fn exit_code(task: &Process) -> u32 {
    match &*task.outcome.borrow() {
        Some(Outcome::Exited(c)) => u32::from(*c) << 8,
        Some(Outcome::Killed { signal, .. }) => *signal,
        Some(Outcome::TimeLimit { .. }) => SIGKILL,
        _ => 0,
    }
}

pub fn show(task: &Process, out: &mut Text) -> Result<(), Errno> {
    let (state, _) = state_name(task);
    let comm = super::comm(task);
    let comm = core::str::from_utf8(&comm).unwrap_or("?");
    let minflt = task.faults.total();
    let start_time = timer::ticks_to_ns(task.started_at.get()) / (1_000_000_000 / USER_HZ);
    // The counts first, with no space's lock held (they read every space).
    // Then what comes from the space, under its lock, given back before the
    // signal state is read (its locks rank before the space's).
    let counts = counts_for(task);
    let (vsize, rss, l, start_brk) = match (live_space(task), counts) {
        (Some(s), Some(mut counts)) => (
            vm_sizes(&s).0,
            space_usage(&s, &mut counts).rss / PAGE_SIZE as u64,
            s.layout,
            s.brk.start.as_u64(),
        ),
        _ => (0, 0, Default::default(), 0),
    };
    let (caught, ignored) = caught_and_ignored(task);
    let rsslim = task.limits.get()[RLIMIT_RSS as usize].rlim_cur;
    let sleeping = !matches!(task.state.get(), State::Running | State::Runnable | State::Zombie);
    let _ = write!(out, "{} ({}) {} {} ", task.pid.0, comm, state, parent_of(task));
    // pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
    let _ = write!(out, "0 0 0 -1 0 {} 0 0 0 ", minflt);
    // utime stime cutime cstime priority nice num_threads itrealvalue
    let _ = write!(out, "0 0 0 0 20 0 {} 0 ", threads_of(task));
    let _ = write!(out, "{} {} {} {} ", start_time, vsize, rss, rsslim);
    let _ = write!(out, "{} {} {} 0 0 ", l.start_code, l.end_code, l.start_stack);
    // The thread's own pending set, as Linux's task->pending (not the
    // process's shared one).
    let _ = write!(out, "{} {} {} {} ", task.signals.borrow().pending_split().0 .0, task.signals.borrow().blocked.0, ignored.0, caught.0);
    // wchan nswap cnswap exit_signal processor rt_priority policy
    // delayacct_blkio_ticks guest_time cguest_time
    let _ = write!(out, "{} 0 0 {} 0 0 0 0 0 0 ", sleeping as u8, task.exit_signal.get());
    let _ = write!(
        out,
        "{} {} {} {} {} {} {} ",
        l.start_data, l.end_data, start_brk, l.arg_start, l.arg_end, l.env_start, l.env_end
    );
    let _ = writeln!(out, "{}", exit_code(task));
    Ok(())
}
