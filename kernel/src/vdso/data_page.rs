//! The vDSO's data page, [vvar]: Linux's `struct vdso_data _vdso_data[2]`
//! (include/vdso/datapage.h), which the vDSO reads and the kernel rewrites
//! under a sequence count (Linux's vdso_write_begin / vdso_write_end).
//!
//! The fields are atomics of the C field's size, so the kernel writes them
//! as plain stores and the layout is the C one; a reader in user space
//! retries while the count is odd or has changed. Pure logic, tested on the
//! host (a page in a Box stands in for the frame).

use core::sync::atomic::{fence, AtomicI32, AtomicU32, AtomicU64, Ordering::Relaxed, Ordering::Release};

use super::clock::{Kind, Timekeeper, Timestamp};

/// CLOCK_TAI + 1: the bases Linux keeps per vdso_data (VDSO_BASES).
const BASES: usize = 12;
/// Index of the data for every clock but the raw one, and of the raw one
/// (Linux's CS_HRES_COARSE, CS_RAW).
const CS_HRES_COARSE: usize = 0;
const CS_RAW: usize = 1;
/// arm64's VDSO_CLOCKMODE_ARCHTIMER: the vDSO may read CNTVCT_EL0.
/// VDSO_CLOCKMODE_NONE (0) would send every call to the kernel.
const CLOCKMODE_ARCHTIMER: i32 = 1;

#[repr(C)]
#[derive(Debug, Default)]
pub struct VdsoTimestamp {
    sec: AtomicU64,
    nsec: AtomicU64,
}

/// One `struct vdso_data`.
#[repr(C)]
#[derive(Debug, Default)]
pub struct VdsoData {
    seq: AtomicU32,
    clock_mode: AtomicI32,
    cycle_last: AtomicU64,
    mask: AtomicU64,
    mult: AtomicU32,
    shift: AtomicU32,
    basetime: [VdsoTimestamp; BASES],
    tz_minuteswest: AtomicI32,
    tz_dsttime: AtomicI32,
    hrtimer_res: AtomicU32,
    unused: AtomicU32,
}

// The C side asserts the same (kernel/vdso/vgettimeofday.c).
const _: () = {
    assert!(core::mem::offset_of!(VdsoData, cycle_last) == 8);
    assert!(core::mem::offset_of!(VdsoData, basetime) == 32);
    assert!(core::mem::offset_of!(VdsoData, tz_minuteswest) == 224);
    assert!(core::mem::size_of::<VdsoData>() == 240);
};

/// What the page holds: [CS_HRES_COARSE] and [CS_RAW].
pub type DataPage = [VdsoData; 2];

impl VdsoTimestamp {
    fn set(&self, t: Timestamp) {
        self.sec.store(t.sec, Relaxed);
        self.nsec.store(t.nsec, Relaxed);
    }
}

impl VdsoData {
    fn set_clocksource(&self, tk: &Timekeeper) {
        self.clock_mode.store(CLOCKMODE_ARCHTIMER, Relaxed);
        self.cycle_last.store(tk.cycle_last, Relaxed);
        self.mask.store(tk.mask, Relaxed);
        self.mult.store(tk.mult, Relaxed);
        self.shift.store(tk.shift, Relaxed);
    }
}

/// Writes `tk` into the page (Linux's update_vsyscall), inside the sequence
/// count of [CS_HRES_COARSE], which the vDSO checks for every clock. The
/// caller is the only writer (the timekeeper's lock).
pub fn publish(page: &DataPage, tk: &Timekeeper) {
    let head = &page[CS_HRES_COARSE];
    let seq = head.seq.load(Relaxed);
    // vdso_write_begin: odd, and visible before any field changes.
    head.seq.store(seq.wrapping_add(1), Relaxed);
    fence(Release);
    let raw = &page[CS_RAW];
    head.set_clocksource(tk);
    raw.set_clocksource(tk);
    for clock in 0..BASES {
        let id = clock as i32;
        match super::clock::kind(id) {
            Some(Kind::HighRes) => head.basetime[clock].set(tk.base(id)),
            Some(Kind::Coarse) => head.basetime[clock].set(tk.coarse(id)),
            Some(Kind::Raw) => raw.basetime[clock].set(tk.base(id)),
            None => {}
        }
    }
    head.hrtimer_res.store(tk.resolution_ns, Relaxed);
    // vdso_write_end: every field visible before the count is even again.
    fence(Release);
    head.seq.store(seq.wrapping_add(2), Relaxed);
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::boxed::Box;

    use linux_raw_sys::general::*;

    use super::*;

    /// What the vDSO's do_hres computes from the page (u64 arithmetic, as
    /// vgettimeofday.c does).
    fn vdso_read(page: &DataPage, clock: u32, now: u64) -> (u64, u64) {
        let vd = if clock == CLOCK_MONOTONIC_RAW { &page[CS_RAW] } else { &page[CS_HRES_COARSE] };
        let base = &vd.basetime[clock as usize];
        if clock == CLOCK_REALTIME_COARSE || clock == CLOCK_MONOTONIC_COARSE {
            return (base.sec.load(Relaxed), base.nsec.load(Relaxed));
        }
        let delta = now.wrapping_sub(vd.cycle_last.load(Relaxed)) & vd.mask.load(Relaxed);
        let ns = (base.nsec.load(Relaxed) + delta * vd.mult.load(Relaxed) as u64) >> vd.shift.load(Relaxed);
        (base.sec.load(Relaxed) + ns / 1_000_000_000, ns % 1_000_000_000)
    }

    #[test]
    fn the_page_gives_what_the_kernel_reads() {
        let page: Box<DataPage> = Box::default();
        let mut tk = Timekeeper::new(24_000_000, 1_000_000_007);
        publish(&page, &tk);
        assert_eq!(page[0].seq.load(Relaxed), 2, "even after a write");
        for now in [1_000_000_007u64, 1_000_000_100, 1_200_000_000] {
            tk.advance(now - 50);
            publish(&page, &tk);
            for clock in [
                CLOCK_REALTIME,
                CLOCK_MONOTONIC,
                CLOCK_MONOTONIC_RAW,
                CLOCK_BOOTTIME,
                CLOCK_TAI,
                CLOCK_REALTIME_COARSE,
                CLOCK_MONOTONIC_COARSE,
            ] {
                assert_eq!(Some(vdso_read(&page, clock, now)), tk.read(clock as i32, now), "clock {clock}");
            }
        }
        assert_eq!(page[0].clock_mode.load(Relaxed), CLOCKMODE_ARCHTIMER);
        assert_eq!(page[0].hrtimer_res.load(Relaxed), 42);
    }
}
