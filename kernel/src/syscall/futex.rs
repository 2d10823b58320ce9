//! futex(2): the wait and wake operations glibc's threads are built on
//! (pthread_join, mutexes, condition variables, semaphores). Private ones
//! (FUTEX_PRIVATE_FLAG) meet in one address space, shared ones in the
//! shared memory they sit in (process/futex_key.rs).

use linux_raw_sys::general::{
    timespec, FUTEX_CLOCK_REALTIME, FUTEX_PRIVATE_FLAG, FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAKE, FUTEX_WAKE_BITSET,
};

use super::errno::{Errno, SysResult};
use crate::arch::aarch64::timer;
use crate::mm::uaccess::{read_user, UserAddr};
use crate::process::futex_key::{futex_key, NotMapped};
use crate::process::{self, State};
use crate::signal::RestartBlock;

pub fn futex(uaddr: UserAddr, op: u32, val: u32, timeout: UserAddr, val3: u32) -> SysResult {
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    if !uaddr.0.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let p = process::current();
    let key = || futex_key(p, uaddr.untagged(), op & FUTEX_PRIVATE_FLAG == 0).map_err(|NotMapped| Errno::EFAULT);
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            if cmd == FUTEX_WAIT_BITSET && val3 == 0 {
                return Err(Errno::EINVAL);
            }
            let until_ns = if timeout.is_null() {
                None
            } else {
                let t: timespec = read_user(timeout)?;
                if t.tv_sec < 0 || !(0..1_000_000_000).contains(&t.tv_nsec) {
                    return Err(Errno::EINVAL);
                }
                let ns = (t.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(t.tv_nsec as u64);
                // FUTEX_WAIT takes a relative time, FUTEX_WAIT_BITSET an
                // absolute one (both clocks count from boot here).
                Some(if cmd == FUTEX_WAIT { timer::uptime_ns().saturating_add(ns) } else { ns })
            };
            wait(uaddr, op, val, until_ns)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => Ok(process::futex_wake(&key()?, val) as u64),
        _ => Err(Errno::ENOSYS),
    }
}

/// Linux's futex_wait: sleeps while `*uaddr == val`, until woken, until
/// `until_ns` on the boot clock if given, or until a signal.
fn wait(uaddr: UserAddr, op: u32, val: u32, until_ns: Option<u64>) -> SysResult {
    let p = process::current();
    // Read and compare before sleeping: a wake between the caller's check
    // and this one is not lost (one CPU, no preemption here).
    let key = futex_key(p, uaddr.untagged(), op & FUTEX_PRIVATE_FLAG == 0).map_err(|NotMapped| Errno::EFAULT)?;
    let now: u32 = read_user(uaddr)?;
    if now != val {
        return Err(Errno::EAGAIN);
    }
    p.wake_at = until_ns.map(timer::ns_to_ticks);
    p.futex_key = Some(key);
    process::block(State::WaitingForFutex);
    let p = process::current();
    let still_waiting = p.futex_key.take().is_some();
    if core::mem::take(&mut p.interrupted) {
        // Without a timeout ERESTARTSYS (restarted after an SA_RESTART
        // handler). With one, ERESTART_RESTARTBLOCK: EINTR after any
        // handler; a wait no handler saw goes on through restart_syscall
        // to the same deadline (futex_wait_restart), so a relative
        // FUTEX_WAIT does not start its timeout over.
        let Some(until_ns) = until_ns else { return Err(Errno::ERESTARTSYS) };
        p.signals.restart_block = Some(RestartBlock::FutexWait { uaddr: uaddr.0, op, val, until_ns });
        return Err(Errno::ERESTART_RESTARTBLOCK);
    }
    if still_waiting {
        return Err(Errno::ETIMEDOUT);
    }
    Ok(0)
}

/// restart_syscall for a timed wait a signal interrupted and no handler
/// saw: Linux's futex_wait_restart, the same wait to the same deadline.
pub fn wait_restart(uaddr: u64, op: u32, val: u32, until_ns: u64) -> SysResult {
    process::current().signals.restart_block = None;
    wait(UserAddr(uaddr), op, val, Some(until_ns))
}
