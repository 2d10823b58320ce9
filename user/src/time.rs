//! Clocks and sleeping: clock_gettime(2), nanosleep(2). Times are
//! `core::time::Duration`s; the kernel's `struct __kernel_timespec` is only
//! the wire format.

use core::ptr;
use core::time::Duration;

use linux_raw_sys::general::{
    __NR_clock_gettime, __NR_nanosleep, __kernel_timespec, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
    CLOCK_REALTIME,
};

use crate::errno::Errno;
use crate::syscall::syscall3;

/// A clock id for clock_gettime (`CLOCK_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock(pub u32);

impl Clock {
    pub const REALTIME: Clock = Clock(CLOCK_REALTIME);
    pub const MONOTONIC: Clock = Clock(CLOCK_MONOTONIC);
    pub const PROCESS_CPUTIME_ID: Clock = Clock(CLOCK_PROCESS_CPUTIME_ID);
    pub const BOOTTIME: Clock = Clock(CLOCK_BOOTTIME);
}

const NANOS_PER_SEC: u32 = 1_000_000_000;

fn to_timespec(d: Duration) -> __kernel_timespec {
    __kernel_timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 }
}

/// A timespec from the kernel; one outside the valid range (negative, or
/// nanoseconds of a second or more) is an `EINVAL` bug in the kernel.
fn from_timespec(ts: &__kernel_timespec) -> Result<Duration, Errno> {
    if ts.tv_sec < 0 || !(0..NANOS_PER_SEC as i64).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// The time on `clock` (for MONOTONIC, since an unspecified start).
pub fn clock_gettime(clock: Clock) -> Result<Duration, Errno> {
    let mut ts = __kernel_timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: the kernel writes one __kernel_timespec (the arm64
    // struct timespec) into ts, which is live for the call.
    unsafe { syscall3(__NR_clock_gettime, clock.0 as usize, &mut ts as *mut _ as usize, 0) }?;
    from_timespec(&ts)
}

/// Sleeps for at least `d`. A signal cuts the sleep short with `EINTR`;
/// the time left is not reported.
pub fn nanosleep(d: Duration) -> Result<(), Errno> {
    let req = to_timespec(d);
    // SAFETY: the kernel reads one timespec from req, and writes no
    // remainder because rem is null.
    unsafe { syscall3(__NR_nanosleep, &req as *const _ as usize, ptr::null::<u8>() as usize, 0) }.map(drop)
}
