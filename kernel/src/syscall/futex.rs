//! futex(2): the wait and wake operations glibc's threads are built on
//! (pthread_join, mutexes, condition variables, semaphores). Private ones
//! (FUTEX_PRIVATE_FLAG) meet in one address space, shared ones in the
//! shared memory they sit in (process/futex_key.rs).

use linux_raw_sys::general::{
    FUTEX_CLOCK_REALTIME, FUTEX_PRIVATE_FLAG, FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAKE, FUTEX_WAKE_BITSET,
};

use super::errno::{Errno, SysResult};
use crate::arch::aarch64::timer;
use crate::mm::uaccess::{read_user, UserAddr};
use crate::process::futex_key::{futex_key, NotMapped};
use crate::process::{self, State};
use crate::signal::RestartBlock;

pub fn futex(uaddr: UserAddr, op: u32, val: u32, timeout: UserAddr, val3: u32) -> SysResult {
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    if !uaddr.is_aligned(4) {
        return Err(Errno::EINVAL);
    }
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            if cmd == FUTEX_WAIT_BITSET && val3 == 0 {
                return Err(Errno::EINVAL);
            }
            let deadline = if timeout.is_null() {
                None
            } else {
                let ns = super::time::read_duration(timeout)?;
                // FUTEX_WAIT takes a relative time, FUTEX_WAIT_BITSET an
                // absolute one (both clocks count from boot here); `wait`
                // wants counter ticks, as `wake_at` holds them: rounded
                // up, so the wait never ends before the nanosecond asked
                // (Linux's hrtimer expires once now >= expiry).
                Some(timer::ns_to_ticks_up(if cmd == FUTEX_WAIT { timer::uptime_ns().saturating_add(ns) } else { ns }))
            };
            wait(uaddr, op, val, deadline)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            if cmd == FUTEX_WAKE_BITSET && val3 == 0 {
                return Err(Errno::EINVAL);
            }
            let key = futex_key(process::current(), uaddr, op & FUTEX_PRIVATE_FLAG == 0)
                .map_err(|NotMapped| Errno::EFAULT)?;
            Ok(process::futex_wake(&key, wake_count(val)) as u64)
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// How many waiters FUTEX_WAKE's `val` wakes at most: Linux's futex_wake
/// takes it as an int and stops once `++woken >= nr_wake`, so 0 and
/// negative counts wake one waiter, not none.
fn wake_count(val: u32) -> u32 {
    (val as i32).max(1) as u32
}

/// Linux's futex_wait: sleeps on the futex at `uaddr` while it holds
/// `val`, until woken or until the counter reaches `deadline` (ticks).
/// ETIMEDOUT only once the deadline has passed: a wake-up that is neither
/// a FUTEX_WAKE, nor a signal, nor the deadline (any other `wake` of the
/// task) goes back to the value check and sleeps again, as Linux's
/// futex_wait does `goto retry` when its hrtimer has not expired
/// (`to->task` still set) and no signal is pending.
fn wait(uaddr: UserAddr, op: u32, val: u32, deadline: Option<u64>) -> SysResult {
    let p = process::current();
    let key = futex_key(p, uaddr, op & FUTEX_PRIVATE_FLAG == 0).map_err(|NotMapped| Errno::EFAULT)?;
    loop {
        // Read and compare before sleeping: a wake between the caller's
        // check and this one is not lost (the kernel lock is held from
        // here until the task is off its CPU in `block`).
        let now: u32 = read_user(uaddr)?;
        if now != val {
            return Err(Errno::EAGAIN);
        }
        let p = process::current();
        p.wake_at.set(deadline);
        p.futex_key.set(Some(key.clone()));
        process::set_futex_waiting(p.pid.0, true);
        process::block(State::WaitingForFutex);
        let p = process::current();
        process::set_futex_waiting(p.pid.0, false);
        if p.futex_key.take().is_none() {
            // futex_wake took it: woken, whatever else happened.
            return Ok(0);
        }
        if p.interrupted.take() {
            // Linux's futex_wait: without a timeout ERESTARTSYS (restarted
            // after an SA_RESTART handler); with one ERESTART_RESTARTBLOCK:
            // EINTR after any handler, and a wait no handler saw goes on
            // through restart_syscall (futex_wait_restart) with the same
            // deadline, so interruptions cannot put the timeout off.
            let Some(deadline) = deadline else { return Err(Errno::ERESTARTSYS) };
            p.signals.borrow_mut().restart_block = Some(RestartBlock::Futex { uaddr: uaddr.raw_with_tag(), op, val, deadline });
            return Err(Errno::ERESTART_RESTARTBLOCK);
        }
        if p.outcome.borrow().is_some() {
            // Killed while asleep (another thread's exec, exit_group):
            // it exits on its way back to EL0 (Linux: a fatal signal is
            // pending, so no retry).
            return Err(Errno::EINTR);
        }
        if deadline.is_some_and(|d| timer::ticks() >= d) {
            return Err(Errno::ETIMEDOUT);
        }
    }
}

/// restart_syscall for a timed futex wait a signal cut short and no
/// handler saw (Linux's futex_wait_restart): the same wait, same deadline.
/// The block is used once (Linux resets it to do_no_restart_syscall
/// first): a later restart_syscall returns EINTR, unless this wait is cut
/// short again and leaves a new one.
pub fn wait_restart(uaddr: u64, op: u32, val: u32, deadline: u64) -> SysResult {
    process::current().signals.borrow_mut().restart_block = None;
    wait(UserAddr::new(uaddr), op, val, Some(deadline))
}
