//! Clocks and sleeping, all from the generic timer's counter.
//!
//! There is no real-time clock yet: CLOCK_REALTIME counts from the Unix
//! epoch at boot. The clocks the vDSO serves are read from the same
//! timekeeper (vdso/clock.rs), so the system call and the vDSO agree to the
//! nanosecond; the CPU-time clocks count from the process's start.

use linux_raw_sys::general::{
    timespec, timeval, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW,
    CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_TAI, CLOCK_THREAD_CPUTIME_ID, TIMER_ABSTIME,
};

use super::errno::{Errno, SysResult};
use crate::arch::aarch64::timer;
use crate::mm::uaccess::{read_user, write_user, UserAddr};
use crate::process;

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
            timer::ticks_to_ns(timer::ticks() - process::current().started_at)
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

fn read_duration(ts: UserAddr) -> Result<u64, Errno> {
    let t: timespec = read_user(ts)?;
    if t.tv_sec < 0 || !(0..NS_PER_S as i64).contains(&{ t.tv_nsec }) {
        return Err(Errno::EINVAL);
    }
    Ok((t.tv_sec as u64).saturating_mul(NS_PER_S).saturating_add(t.tv_nsec as u64))
}

/// Blocks until the counter passes `until`: the runner wakes the process
/// (and runs others meanwhile). EINTR if a signal cut the sleep short.
fn sleep_until(until_ns: u64) -> Result<(), Errno> {
    let until = timer::ns_to_ticks(until_ns);
    if timer::ticks() < until {
        process::current().wake_at = Some(until);
        process::block(process::State::Sleeping);
        if core::mem::take(&mut process::current().interrupted) {
            return Err(Errno::EINTR);
        }
    }
    Ok(())
}

pub fn nanosleep(req: UserAddr, _rem: UserAddr) -> SysResult {
    let ns = read_duration(req)?;
    sleep_until(timer::uptime_ns().saturating_add(ns))?;
    Ok(0)
}

pub fn clock_nanosleep(clock: i32, flags: u32, req: UserAddr, _rem: UserAddr) -> SysResult {
    known_clock(clock)?;
    let ns = read_duration(req)?;
    let until = if flags & TIMER_ABSTIME != 0 { ns } else { now_ns(clock).saturating_add(ns) };
    sleep_until(until)?;
    Ok(0)
}
