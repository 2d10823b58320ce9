//! A fixed-size set of small numbers, one bit each, with no heap: for
//! tables the kernel keeps for as long as it runs (the ASIDs in use, the
//! freed kernel-stack slots), which must not grow as processes come and go.

/// `WORDS * 64` bits, all clear at first.
#[derive(Debug)]
pub struct Bitmap<const WORDS: usize>([u64; WORDS]);

impl<const WORDS: usize> Bitmap<WORDS> {
    pub const BITS: usize = WORDS * 64;

    pub const fn new() -> Self {
        Self([0; WORDS])
    }

    /// Sets bit `i`; a bit past the end is ignored (`false`).
    pub fn set(&mut self, i: usize) -> bool {
        self.0.get_mut(i / 64).map(|w| *w |= 1 << (i % 64)).is_some()
    }

    pub fn clear(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w &= !(1 << (i % 64));
        }
    }

    pub fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// The lowest set bit.
    pub fn first_set(&self) -> Option<usize> {
        self.0.iter().enumerate().find(|(_, w)| **w != 0).map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
    }

    /// The first clear bit in `[low, end)` at or after `start`, wrapping
    /// round to `low` (bits outside the range are never handed out).
    pub fn first_clear_from(&self, start: usize, low: usize, end: usize) -> Option<usize> {
        let end = end.min(Self::BITS);
        (start.max(low)..end).chain(low..start.min(end)).find(|&i| !self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_set_and_clear_one_at_a_time_and_past_the_end_is_refused() {
        let mut b = Bitmap::<2>::new();
        assert!(b.set(3) && b.set(64) && b.set(127));
        assert!(!b.set(128), "past the end");
        assert!(b.get(3) && b.get(64) && !b.get(4));
        assert_eq!(b.first_set(), Some(3));
        b.clear(3);
        assert_eq!(b.first_set(), Some(64));
    }

    #[test]
    fn the_search_for_a_clear_bit_wraps_round_and_skips_the_reserved_low_bits() {
        let mut b = Bitmap::<1>::new();
        for i in 1..64 {
            b.set(i);
        }
        b.clear(5);
        assert_eq!(b.first_clear_from(40, 1, 64), Some(5), "wraps round");
        assert_eq!(b.first_clear_from(40, 6, 64), None, "bit 5 is below low");
        b.set(5);
        assert_eq!(b.first_clear_from(40, 1, 64), None, "bit 0 is below low");
        b.clear(50);
        assert_eq!(b.first_clear_from(40, 1, 50), None, "bit 50 is past the end");
        assert_eq!(b.first_clear_from(40, 1, 51), Some(50));
    }
}
