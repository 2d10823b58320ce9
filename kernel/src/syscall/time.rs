//! Clocks and sleeping, all from the generic timer's counter.
//!
//! There is no real-time clock yet: CLOCK_REALTIME counts from the Unix
//! epoch at boot. The clocks the vDSO serves are read from the same
//! timekeeper (vdso/clock.rs), so the system call and the vDSO agree to the
//! nanosecond; the CPU-time clocks count from the process's start. A sleep
//! blocks until the runner wakes the caller at its time, or a signal does:
//! then nanosleep writes what is left and returns Linux's restart code
//! (restart_syscall finishes it if no handler runs).

use linux_raw_sys::general::{
    timespec, timeval, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW,
    CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_TAI, CLOCK_THREAD_CPUTIME_ID, TIMER_ABSTIME,
};

use super::errno::{Errno, SysResult};
use crate::arch::aarch64::timer;
use crate::mm::uaccess::{read_user, write_user, UserAddr};
use crate::process;
use crate::signal::RestartBlock;

const NS_PER_S: u64 = 1_000_000_000;

fn known_clock(clock: i32) -> Result<(), Errno> {
    match clock as u32 {
        CLOCK_REALTIME
        | CLOCK_MONOTONIC
        | CLOCK_PROCESS_CPUTIME_ID
        | CLOCK_THREAD_CPUTIME_ID
        | CLOCK_MONOTONIC_RAW
        | CLOCK_REALTIME_COARSE
        | CLOCK_MONOTONIC_COARSE
        | CLOCK_BOOTTIME
        | CLOCK_TAI => Ok(()),
        _ => Err(Errno::EINVAL),
    }
}

fn now_ns(clock: i32) -> u64 {
    if let Some((sec, nsec)) = crate::vdso::clock_now(clock) {
        return sec * NS_PER_S + nsec;
    }
    match clock as u32 {
        CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID => {
            timer::ticks_to_ns(timer::ticks() - process::current().started_at.get())
        }
        _ => timer::uptime_ns(),
    }
}

fn to_timespec(ns: u64) -> timespec {
    timespec { tv_sec: (ns / NS_PER_S) as _, tv_nsec: (ns % NS_PER_S) as _ }
}

pub fn clock_gettime(clock: i32, ts: UserAddr) -> SysResult {
    known_clock(clock)?;
    write_user(ts, &to_timespec(now_ns(clock)))?;
    Ok(0)
}

/// The counter's period, rounded up to a nanosecond; for the coarse clocks
/// how often they advance. The vDSO answers the same.
pub fn clock_getres(clock: i32, ts: UserAddr) -> SysResult {
    known_clock(clock)?;
    if !ts.is_null() {
        let ns = crate::vdso::clock_resolution(clock).unwrap_or_else(|| NS_PER_S.div_ceil(timer::frequency()));
        write_user(ts, &to_timespec(ns))?;
    }
    Ok(0)
}

/// CLOCK_REALTIME in microseconds, and the time zone Linux keeps (sys_tz:
/// zero, as the vDSO's data page holds it).
pub fn gettimeofday(tv: UserAddr, tz: UserAddr) -> SysResult {
    if !tv.is_null() {
        let ns = now_ns(CLOCK_REALTIME as i32);
        write_user(tv, &timeval { tv_sec: (ns / NS_PER_S) as _, tv_usec: ((ns % NS_PER_S) / 1000) as _ })?;
    }
    if !tz.is_null() {
        // struct timezone: tz_minuteswest and tz_dsttime, two zero ints.
        write_user(tz, &0u64)?;
    }
    Ok(0)
}

/// A timespec from user space as nanoseconds: EFAULT, or EINVAL for a
/// negative second or a nanosecond field outside 0..1e9 (timespec64_valid).
pub(super) fn read_duration(ts: UserAddr) -> Result<u64, Errno> {
    let t: timespec = read_user(ts)?;
    if t.tv_sec < 0 || !(0..NS_PER_S as i64).contains(&{ t.tv_nsec }) {
        return Err(Errno::EINVAL);
    }
    Ok((t.tv_sec as u64).saturating_mul(NS_PER_S).saturating_add(t.tv_nsec as u64))
}

/// A sleep cut short by a signal.
struct Interrupted;

/// Blocks until the counter passes `until_ns` (on the boot clock): the
/// runner wakes the process (and runs others meanwhile). A signal to
/// deliver cuts it short (Linux's do_nanosleep; the timer having fired
/// first wins).
fn sleep_until(until_ns: u64) -> Result<(), Interrupted> {
    let until = timer::ns_to_ticks(until_ns);
    loop {
        if timer::ticks() >= until {
            return Ok(());
        }
        let p = process::current();
        if p.interrupted.take() || p.signals.borrow().any_deliverable() {
            return Err(Interrupted);
        }
        p.wake_at.set(Some(until));
        process::block(process::State::Sleeping);
    }
}

/// The end of do_nanosleep for an interrupted relative sleep: what is left
/// goes to `rmtp` (if given; nothing left is success), then
/// ERESTART_RESTARTBLOCK with restart_syscall set to sleep on until
/// `until_ns` (hrtimer_nanosleep_restart). A handler turns that into EINTR.
fn interrupted_relative(until_ns: u64, rmtp: UserAddr) -> SysResult {
    if !rmtp.is_null() {
        let left = until_ns.saturating_sub(timer::uptime_ns());
        if left == 0 {
            return Ok(0);
        }
        write_user(rmtp, &to_timespec(left))?;
    }
    process::current().signals.borrow_mut().restart_block = Some(RestartBlock::Nanosleep { until_ns, rmtp: rmtp.raw_with_tag() });
    Err(Errno::ERESTART_RESTARTBLOCK)
}

pub fn nanosleep(req: UserAddr, rem: UserAddr) -> SysResult {
    let ns = read_duration(req)?;
    process::current().signals.borrow_mut().restart_block = None;
    let until_ns = timer::uptime_ns().saturating_add(ns);
    match sleep_until(until_ns) {
        Ok(()) => Ok(0),
        Err(Interrupted) => interrupted_relative(until_ns, rem),
    }
}

/// restart_syscall for an interrupted nanosleep: the rest of the sleep.
pub fn nanosleep_restart(until_ns: u64, rmtp: UserAddr) -> SysResult {
    match sleep_until(until_ns) {
        Ok(()) => Ok(0),
        Err(Interrupted) => interrupted_relative(until_ns, rmtp),
    }
}

/// clock_nanosleep: relative sleeps as nanosleep; an interrupted absolute
/// one writes nothing and returns ERESTARTNOHAND (restarted as it was
/// unless a handler ran: Linux's hrtimer_nanosleep).
pub fn clock_nanosleep(clock: i32, flags: u32, req: UserAddr, rem: UserAddr) -> SysResult {
    known_clock(clock)?;
    let ns = read_duration(req)?;
    process::current().signals.borrow_mut().restart_block = None;
    if flags & TIMER_ABSTIME != 0 {
        return match sleep_until(ns) {
            Ok(()) => Ok(0),
            Err(Interrupted) => Err(Errno::ERESTARTNOHAND),
        };
    }
    // The boot clock's instant at which the clock reads now + ns.
    let until_ns = timer::uptime_ns().saturating_add(ns);
    match sleep_until(until_ns) {
        Ok(()) => Ok(0),
        Err(Interrupted) => interrupted_relative(until_ns, rem),
    }
}
