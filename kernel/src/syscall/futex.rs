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

pub fn futex(uaddr: UserAddr, op: u32, val: u32, timeout: UserAddr, val3: u32) -> SysResult {
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    if !uaddr.is_aligned(4) {
        return Err(Errno::EINVAL);
    }
    let p = process::current();
    let key = || futex_key(p, uaddr, op & FUTEX_PRIVATE_FLAG == 0).map_err(|NotMapped| Errno::EFAULT);
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            if cmd == FUTEX_WAIT_BITSET && val3 == 0 {
                return Err(Errno::EINVAL);
            }
            // Read and compare before sleeping: a wake between the caller's
            // check and this one is not lost (one CPU, no preemption here).
            let key = key()?;
            let now: u32 = read_user(uaddr)?;
            if now != val {
                return Err(Errno::EAGAIN);
            }
            p.wake_at = if timeout.is_null() {
                None
            } else {
                let t: timespec = read_user(timeout)?;
                if t.tv_sec < 0 || !(0..1_000_000_000).contains(&t.tv_nsec) {
                    return Err(Errno::EINVAL);
                }
                let ns = (t.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(t.tv_nsec as u64);
                // FUTEX_WAIT takes a relative time, FUTEX_WAIT_BITSET an
                // absolute one (both clocks count from boot here).
                Some(timer::ns_to_ticks(if cmd == FUTEX_WAIT { timer::uptime_ns().saturating_add(ns) } else { ns }))
            };
            p.futex_key = Some(key);
            process::block(State::WaitingForFutex);
            let p = process::current();
            let still_waiting = p.futex_key.take().is_some();
            if core::mem::take(&mut p.interrupted) {
                // Linux's futex_wait: without a timeout ERESTARTSYS
                // (restarted after an SA_RESTART handler); with one EINTR
                // after any handler. Linux then restarts a wait no handler
                // saw through restart_syscall with the same deadline; here
                // it is made again (ERESTARTNOHAND), so a relative
                // FUTEX_WAIT timeout starts over.
                return Err(if timeout.is_null() { Errno::ERESTARTSYS } else { Errno::ERESTARTNOHAND });
            }
            if still_waiting {
                return Err(Errno::ETIMEDOUT);
            }
            Ok(0)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => Ok(process::futex_wake(&key()?, val) as u64),
        _ => Err(Errno::ENOSYS),
    }
}
