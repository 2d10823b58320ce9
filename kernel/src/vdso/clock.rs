//! Timekeeping: the counter turned into the clocks, in the form the vDSO
//! reads them (Linux's kernel/time/timekeeping.c and update_vsyscall in
//! kernel/time/vsyscall.c, without NTP adjustment or suspend).
//!
//! Time is kept as a base per clock in nanoseconds shifted left by
//! `shift`, plus the counter value it was taken at (`cycle_last`). Now is
//! `(base + (counter - cycle_last) * mult) >> shift`: the vDSO computes
//! exactly that from the data page, and the kernel's own clock_gettime(2)
//! computes the same from the same state, so the two never disagree.
//! `advance` folds the elapsed cycles into the bases with the same `mult`,
//! exact integer arithmetic: the time read is the same before and after.
//! Pure logic, tested on the host.

/// Nanoseconds in a second.
pub const NS_PER_S: u64 = 1_000_000_000;

/// The counter's width: the generic timer guarantees at least 56 bits
/// (Arm ARM (DDI 0487K.a), "The system counter"; Linux's arch timer registers CLOCKSOURCE_MASK(56)).
pub const COUNTER_MASK: u64 = (1 << 56) - 1;

/// How long a conversion must stay within 64 bits: Linux's clocksource
/// limit of 600 seconds. The data page is refreshed every time slice, far
/// more often.
const MAX_CONVERSION_S: u64 = 600;

/// How often the coarse clocks advance: the data page is refreshed when
/// the scheduler resumes a task, at the latest after its 10 ms slice
/// (process/scheduler.rs SLICE_NS). The vDSO's LOW_RES_NSEC says the same
/// (kernel/vdso/vgettimeofday.c); clock_getres reports it for them.
pub const COARSE_RESOLUTION_NS: u64 = 10_000_000;

/// Linux's clocks_calc_mult_shift(mult, shift, from, to, maxsec): the most
/// accurate `mult`/`shift` converting `from` Hz to `to` Hz such that
/// `maxsec` seconds of `from` ticks times `mult` fits in 64 bits.
pub fn mult_shift(from: u64, to: u64, maxsec: u64) -> (u32, u32) {
    let mut tmp = (maxsec * from) >> 32;
    let mut sftacc = 32u32;
    while tmp != 0 {
        tmp >>= 1;
        sftacc -= 1;
    }
    let mut sft = 32u32;
    loop {
        tmp = ((to << sft) + from / 2) / from;
        if tmp >> sftacc == 0 || sft == 1 {
            break;
        }
        sft -= 1;
    }
    (tmp as u32, sft)
}

/// A clock's value: whole seconds and nanoseconds, where `nsec` is shifted
/// left by the timekeeper's `shift` for the high-resolution bases (Linux's
/// struct vdso_timestamp holds it so).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timestamp {
    pub sec: u64,
    pub nsec: u64,
}

/// The clocks the vDSO reads, by how (Linux's VDSO_HRES, VDSO_COARSE,
/// VDSO_RAW); the others go to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    HighRes,
    Coarse,
    Raw,
}

/// The clock ids the data page holds, and how each is read.
pub fn kind(clock: i32) -> Option<Kind> {
    use linux_raw_sys::general::*;
    match u32::try_from(clock).ok()? {
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_TAI => Some(Kind::HighRes),
        CLOCK_REALTIME_COARSE | CLOCK_MONOTONIC_COARSE => Some(Kind::Coarse),
        CLOCK_MONOTONIC_RAW => Some(Kind::Raw),
        _ => None,
    }
}

/// The state behind every clock the vDSO serves.
#[derive(Clone, Copy, Debug)]
pub struct Timekeeper {
    pub mult: u32,
    pub shift: u32,
    pub mask: u64,
    /// Counter value the bases were taken at.
    pub cycle_last: u64,
    /// CLOCK_MONOTONIC at `cycle_last`, nsec shifted.
    pub mono: Timestamp,
    /// CLOCK_MONOTONIC_RAW at `cycle_last`, nsec shifted. The same as
    /// `mono` here (nothing adjusts the frequency), kept apart as Linux
    /// keeps tkr_raw.
    pub raw: Timestamp,
    /// CLOCK_REALTIME - CLOCK_MONOTONIC in seconds. 0: there is no
    /// real-time clock, so CLOCK_REALTIME counts from the epoch at reset.
    pub realtime_offset_s: u64,
    /// The high-resolution clocks' resolution: one counter period, rounded
    /// up to a nanosecond (Linux reports hrtimer_resolution).
    pub resolution_ns: u32,
}

impl Timekeeper {
    /// The clocks for a counter of `freq` Hz that reads `now`: every clock
    /// starts at the counter's time since reset.
    pub fn new(freq: u64, now: u64) -> Self {
        let freq = freq.max(1);
        let (mult, shift) = mult_shift(freq, NS_PER_S, MAX_CONVERSION_S);
        let ns = (now as u128 * NS_PER_S as u128 / freq as u128) as u64;
        let start = Timestamp { sec: ns / NS_PER_S, nsec: (ns % NS_PER_S) << shift };
        Self {
            mult,
            shift,
            mask: COUNTER_MASK,
            cycle_last: now,
            mono: start,
            raw: start,
            realtime_offset_s: 0,
            resolution_ns: NS_PER_S.div_ceil(freq) as u32,
        }
    }

    /// `base` plus the cycles since `cycle_last`, normalised (sec, shifted
    /// nsec below one second). 64-bit division when the sum fits, as it
    /// does within the 600 s the shift was chosen for; 128-bit otherwise,
    /// so no number of cycles overflows.
    fn at(&self, base: Timestamp, now: u64) -> Timestamp {
        let delta = now.wrapping_sub(self.cycle_last) & self.mask;
        let sum = base.nsec as u128 + delta as u128 * self.mult as u128;
        let seconds = match u64::try_from(sum) {
            Ok(sum) => ((sum >> self.shift) / NS_PER_S) as u128,
            Err(_) => (sum >> self.shift) / NS_PER_S as u128,
        };
        Timestamp { sec: base.sec + seconds as u64, nsec: (sum - ((seconds * NS_PER_S as u128) << self.shift)) as u64 }
    }

    /// Folds the cycles up to `now` into the bases (Linux's
    /// timekeeping_advance). The clocks read the same afterwards.
    pub fn advance(&mut self, now: u64) {
        self.mono = self.at(self.mono, now);
        self.raw = self.at(self.raw, now);
        self.cycle_last = now;
    }

    /// A high-resolution base as the data page holds it.
    pub fn base(&self, clock: i32) -> Timestamp {
        use linux_raw_sys::general::{CLOCK_MONOTONIC_RAW, CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_TAI};
        let mut t = if clock as u32 == CLOCK_MONOTONIC_RAW { self.raw } else { self.mono };
        if matches!(clock as u32, CLOCK_REALTIME | CLOCK_TAI | CLOCK_REALTIME_COARSE) {
            t.sec += self.realtime_offset_s;
        }
        t
    }

    /// A coarse clock as the data page holds it: the base at the last
    /// advance, in plain nanoseconds (update_vsyscall's `nsec >> shift`).
    pub fn coarse(&self, clock: i32) -> Timestamp {
        let t = self.base(clock);
        Timestamp { sec: t.sec, nsec: t.nsec >> self.shift }
    }

    /// `clock` at counter value `now`, (seconds, nanoseconds): what the
    /// vDSO's do_hres and do_coarse compute from the data page. None for a
    /// clock the data page does not hold.
    pub fn read(&self, clock: i32, now: u64) -> Option<(u64, u64)> {
        match kind(clock)? {
            Kind::Coarse => {
                let t = self.coarse(clock);
                Some((t.sec, t.nsec))
            }
            Kind::HighRes | Kind::Raw => {
                let t = self.at(self.base(clock), now);
                Some((t.sec, t.nsec >> self.shift))
            }
        }
    }

    /// clock_getres for a clock the data page holds (the vDSO's
    /// __cvdso_clock_getres_common).
    pub fn resolution(&self, clock: i32) -> Option<u64> {
        match kind(clock)? {
            Kind::HighRes | Kind::Raw => Some(self.resolution_ns as u64),
            Kind::Coarse => Some(COARSE_RESOLUTION_NS),
        }
    }
}

#[cfg(test)]
mod tests {
    use linux_raw_sys::general::*;

    use super::*;

    fn ns(t: (u64, u64)) -> u128 {
        t.0 as u128 * NS_PER_S as u128 + t.1 as u128
    }

    #[test]
    fn mult_shift_matches_linux_for_the_qemu_frequencies() {
        // 1 GHz (QEMU 9+): one tick is one nanosecond.
        assert_eq!(mult_shift(1_000_000_000, NS_PER_S, 600), (1 << 23, 23));
        // 62.5 MHz (older QEMU): 16 ns a tick.
        assert_eq!(mult_shift(62_500_000, NS_PER_S, 600), (16 << 23, 23));
        // 24 MHz (many boards): 41.67 ns, not exact.
        let (mult, shift) = mult_shift(24_000_000, NS_PER_S, 600);
        let exact = (NS_PER_S as f64 / 24e6) * (1u64 << shift) as f64;
        assert!((mult as f64 - exact).abs() <= 0.5, "mult {mult} shift {shift}");
        // 600 s of ticks times mult fits in 64 bits.
        assert!(600u128 * 24_000_000 * (mult as u128) < 1u128 << 64);
    }

    #[test]
    fn clocks_start_at_the_time_since_reset() {
        let tk = Timekeeper::new(62_500_000, 62_500_000 * 3 + 5);
        assert_eq!(tk.read(CLOCK_MONOTONIC as i32, 62_500_000 * 3 + 5), Some((3, 80)));
        assert_eq!(tk.read(CLOCK_REALTIME as i32, 62_500_000 * 4), Some((4, 0)));
        assert_eq!(tk.read(CLOCK_MONOTONIC_RAW as i32, 62_500_000 * 4), Some((4, 0)));
        assert_eq!(tk.read(CLOCK_MONOTONIC_COARSE as i32, 62_500_000 * 4), Some((3, 80)));
        assert_eq!(tk.read(CLOCK_PROCESS_CPUTIME_ID as i32, 0), None);
        assert_eq!(tk.read(-1, 0), None);
    }

    #[test]
    fn advancing_changes_no_reading_and_coarse_never_passes_high_res() {
        for freq in [1_000_000_000u64, 62_500_000, 24_000_000, 19_200_000] {
            let mut tk = Timekeeper::new(freq, 12_345);
            let mut last = 0u128;
            let mut now = 12_345u64;
            for step in [1u64, 7, 999, 123_456, 10_000_000, 3, 1 << 33, 1 << 45] {
                now += step;
                let before = tk.read(CLOCK_MONOTONIC as i32, now).unwrap();
                tk.advance(now);
                let after = tk.read(CLOCK_MONOTONIC as i32, now).unwrap();
                assert_eq!(before, after, "freq {freq}: advancing moved the clock");
                assert!(ns(after) >= last, "freq {freq}: went backwards");
                assert!(after.1 < NS_PER_S);
                let coarse = tk.read(CLOCK_MONOTONIC_COARSE as i32, now + 5).unwrap();
                assert!(ns(coarse) <= ns(tk.read(CLOCK_MONOTONIC as i32, now + 5).unwrap()));
                last = ns(after);
                // Within a nanosecond a second of the exact conversion.
                let exact = now as u128 * NS_PER_S as u128 / freq as u128;
                let err = ns(after).abs_diff(exact);
                assert!(err <= 1 + exact / NS_PER_S as u128, "freq {freq}: {err} ns off");
            }
        }
    }

    #[test]
    fn resolutions() {
        let tk = Timekeeper::new(62_500_000, 0);
        assert_eq!(tk.resolution(CLOCK_MONOTONIC as i32), Some(16));
        assert_eq!(tk.resolution(CLOCK_REALTIME_COARSE as i32), Some(COARSE_RESOLUTION_NS));
        assert_eq!(tk.resolution(CLOCK_THREAD_CPUTIME_ID as i32), None);
    }
}
