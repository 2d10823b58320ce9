//! Text generated for reading in pieces, as Linux's seq_file keeps it: of
//! everything a generator writes, only a window of bytes is kept, and
//! long generators mark their records so that the next window can resume
//! at a record instead of generating from the start (fs/procfs uses it).
//! Pure logic, tested on the host.

use alloc::vec::Vec;
use core::fmt::{self, Write};

/// Bytes of generated text kept between reads (and the most one read
/// returns): a seq_file buffer of 16 pages.
pub const WINDOW: usize = 64 * 1024;

/// Generated text, of which only the bytes `[from, from + WINDOW)` are
/// kept; `total` counts what was generated. Generators that can be long
/// (maps, smaps) mark each record with a key (its address) through
/// [`Text::record`]: generation stops once the window is full, and the
/// next read past the window resumes at the last record that started in
/// it (Linux's seq_file m->index, and maps' last_addr).
pub struct Text {
    from: u64,
    total: u64,
    kept: Vec<u8>,
    /// The key to start from (a resumed generation).
    resume_key: Option<u64>,
    /// (offset, key) of the last record that started inside the window.
    mark: Option<(u64, u64)>,
    /// Generation stopped at a full window: there is more text.
    stopped: bool,
}

impl Text {
    pub fn new(from: u64, resume: Option<(u64, u64)>) -> Self {
        Self {
            from,
            total: resume.map_or(0, |(offset, _)| offset),
            kept: Vec::new(),
            resume_key: resume.map(|(_, key)| key),
            mark: None,
            stopped: false,
        }
    }

    /// Whether the text is kept whole.
    pub fn whole(&self) -> bool {
        self.from == 0 && !self.stopped && self.total == self.kept.len() as u64
    }

    /// The offset of the first byte kept.
    pub fn from(&self) -> u64 {
        self.from
    }

    /// The bytes kept, from [`Text::from`] on.
    pub fn kept(&self) -> &[u8] {
        &self.kept
    }

    /// Where the next window may resume: (offset, key) of the last record
    /// that started in this one.
    pub fn mark(&self) -> Option<(u64, u64)> {
        self.mark
    }

    /// Whether `offset` lies in the kept bytes.
    pub fn holds(&self, offset: u64) -> bool {
        offset >= self.from && offset < self.from + self.kept.len() as u64
    }

    /// Where a resumed generation starts: records with keys below this are
    /// skipped.
    pub fn resume_key(&self) -> Option<u64> {
        self.resume_key
    }

    /// `v` in decimal, right-aligned in `width` columns (`{:>width$}`),
    /// in one piece.
    pub fn number(&mut self, v: u64, width: usize) {
        // u64::MAX has 20 digits.
        let mut digits = [b' '; 20];
        let mut at = digits.len();
        let mut v = v;
        loop {
            at -= 1;
            digits[at] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.spaces(width.saturating_sub(digits.len() - at));
        self.bytes(&digits[at..]);
    }

    /// `n` spaces, 32 at a time (a `{:<width$}`'s padding).
    pub fn spaces(&mut self, n: usize) {
        const SPACES: [u8; 32] = [b' '; 32];
        let mut left = n;
        while left > 0 {
            let k = left.min(SPACES.len());
            self.bytes(&SPACES[..k]);
            left -= k;
        }
    }

    /// Bytes still to generate before the window is full: a generator
    /// starts no record past them.
    pub fn left_to_fill(&self) -> u64 {
        (self.from + WINDOW as u64).saturating_sub(self.total)
    }

    /// Called before each record, keyed by its address: `false` when the
    /// window is full and the generator should stop.
    pub fn record(&mut self, key: u64) -> bool {
        let window_end = self.from + WINDOW as u64;
        if self.total >= window_end {
            self.stopped = true;
            return false;
        }
        self.mark = Some((self.total, key));
        true
    }

    /// Appends raw bytes (cmdline's NULs).
    pub fn bytes(&mut self, b: &[u8]) {
        let start = self.total;
        self.total += b.len() as u64;
        let lo = self.from.max(start);
        let hi = self.total.min(self.from + WINDOW as u64);
        if lo < hi {
            let wanted = (hi - lo) as usize;
            // The heap is asked (a lock) only when the buffer must grow:
            // formatting writes a field's padding one character at a time,
            // and smaps is megabytes of it.
            let room = self.kept.capacity() - self.kept.len() >= wanted;
            if room || (crate::mm::heap::can_spare(wanted) && self.kept.try_reserve(wanted).is_ok()) {
                self.kept.extend_from_slice(&b[(lo - start) as usize..(hi - start) as usize]);
            }
        }
    }
}

impl Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generator of `n` records "record <i>\n" keyed by i, honouring
    /// resume and stopping as the text asks.
    fn records(out: &mut Text, n: u64) {
        for i in out.resume_key().unwrap_or(0)..n {
            if !out.record(i) {
                break;
            }
            let _ = writeln!(out, "record {:05}", i);
        }
    }

    const LINE: u64 = 13; // "record 00000\n"

    #[test]
    fn short_text_is_kept_whole() {
        let mut t = Text::new(0, None);
        records(&mut t, 10);
        assert!(t.whole());
        assert_eq!(t.kept.len() as u64, 10 * LINE);
        assert_eq!(&t.kept[..13], b"record 00000\n");
    }

    #[test]
    fn long_text_keeps_one_window_and_stops() {
        let n = 2 * WINDOW as u64 / LINE;
        let mut t = Text::new(0, None);
        records(&mut t, n);
        assert!(!t.whole(), "more than a window is not whole");
        assert_eq!(t.kept.len(), WINDOW);
        assert!(t.total < WINDOW as u64 + LINE, "generation stopped at the window ({} bytes)", t.total);
        let (at, key) = t.mark.expect("a record started in the window");
        assert_eq!(at, key * LINE, "the mark is the start of record {}", key);
        assert!(at < WINDOW as u64 && at + LINE >= WINDOW as u64, "the last record begun in the window");
    }

    #[test]
    fn resumed_windows_join_into_the_same_text() {
        let n = 3 * WINDOW as u64 / LINE + 7;
        let mut whole = Vec::new();
        let mut offset = 0u64;
        let mut mark = None;
        loop {
            let mut t = Text::new(offset, mark.filter(|&(at, _)| at <= offset));
            records(&mut t, n);
            let start = (offset - t.from) as usize;
            if start >= t.kept.len() {
                break;
            }
            // Read in odd pieces, as a program might.
            let piece = (t.kept.len() - start).min(4093);
            whole.extend_from_slice(&t.kept[start..start + piece]);
            offset += piece as u64;
            mark = t.mark;
        }
        assert_eq!(whole.len() as u64, n * LINE);
        for (i, line) in whole.chunks(LINE as usize).enumerate() {
            assert_eq!(line, alloc::format!("record {:05}\n", i).as_bytes(), "line {}", i);
        }
    }

    #[test]
    fn no_record_starts_past_what_is_left_to_fill() {
        for (offset, resume) in [(0, None), (3 * WINDOW as u64, Some((3 * WINDOW as u64 - 5, 100))), (70_000, None)] {
            let mut t = Text::new(offset, resume);
            let left = t.left_to_fill();
            let mut started = 0u64;
            while t.record(started) {
                started += 1;
                let _ = writeln!(t, "record {:05}", started);
            }
            assert!(started <= left / LINE + 1, "{} records started, {} bytes left to fill", started, left);
            assert!(started >= left / LINE, "generation stopped early: {} records", started);
        }
    }

    #[test]
    fn numbers_are_right_aligned_as_format_does() {
        let mut t = Text::new(0, None);
        let mut want = alloc::string::String::new();
        for (v, width) in [(0, 8), (4, 8), (12_345_678, 8), (123_456_789, 8), (u64::MAX, 8), (7, 0), (42, 70)] {
            t.number(v, width);
            let _ = write!(want, "{:>width$}", v, width = width);
        }
        assert_eq!(core::str::from_utf8(&t.kept).unwrap(), want);
    }

    #[test]
    fn a_window_past_the_end_keeps_nothing() {
        let mut t = Text::new(1000, None);
        records(&mut t, 10);
        assert!(t.kept.is_empty() && !t.holds(1000));
    }
}
