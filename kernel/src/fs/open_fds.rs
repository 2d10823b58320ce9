//! Which descriptors of a table are open, one bit each, and the lowest
//! free one at or above a minimum found a word at a time: Linux's
//! fdtable `open_fds` bitmap with its summary `full_fds_bits` (one bit
//! per word of `open_fds`, set when all 64 descriptors are open) and
//! find_next_fd (fs/file.c). A search skips 4,096 open descriptors per
//! summary word, so 45,000 dups cost microseconds each, not a walk of
//! every slot below. Grows fallibly with its table. Pure logic, tested
//! on the host.

use alloc::vec::Vec;

use crate::syscall::errno::Errno;

const BITS: usize = u64::BITS as usize;

#[derive(Clone, Debug, Default)]
pub struct OpenFds {
    /// Bit `fd % 64` of word `fd / 64`: descriptor `fd` is open.
    open: Vec<u64>,
    /// Bit `w % 64` of word `w / 64`: word `w` of `open` is all ones.
    full: Vec<u64>,
}

impl OpenFds {
    pub const fn new() -> Self {
        Self { open: Vec::new(), full: Vec::new() }
    }

    /// Makes room for descriptors below `fds` (ENOMEM if the heap cannot).
    pub fn grow_to(&mut self, fds: usize) -> Result<(), Errno> {
        let words = fds.div_ceil(BITS);
        if words <= self.open.len() {
            return Ok(());
        }
        let summary = words.div_ceil(BITS);
        self.open.try_reserve_exact(words - self.open.len()).map_err(|_| Errno::ENOMEM)?;
        self.full.try_reserve_exact(summary.saturating_sub(self.full.len())).map_err(|_| Errno::ENOMEM)?;
        self.open.resize(words, 0);
        self.full.resize(summary, 0);
        Ok(())
    }

    /// A copy, ENOMEM rather than a panic if the heap cannot hold it.
    pub fn try_clone(&self) -> Result<Self, Errno> {
        let mut copy = Self::new();
        copy.open.try_reserve_exact(self.open.len()).map_err(|_| Errno::ENOMEM)?;
        copy.full.try_reserve_exact(self.full.len()).map_err(|_| Errno::ENOMEM)?;
        copy.open.extend_from_slice(&self.open);
        copy.full.extend_from_slice(&self.full);
        Ok(copy)
    }

    /// The heap the bitmaps take.
    pub fn heap_bytes(&self) -> usize {
        (self.open.capacity() + self.full.capacity()) * core::mem::size_of::<u64>()
    }

    /// Marks `fd` open; it must lie below what `grow_to` made room for.
    pub fn set(&mut self, fd: usize) {
        let w = fd / BITS;
        self.open[w] |= 1 << (fd % BITS);
        if self.open[w] == u64::MAX {
            self.full[w / BITS] |= 1 << (w % BITS);
        }
    }

    /// Marks `fd` closed (nothing if it lies past the bitmap).
    pub fn clear(&mut self, fd: usize) {
        let w = fd / BITS;
        if let Some(word) = self.open.get_mut(w) {
            *word &= !(1 << (fd % BITS));
            self.full[w / BITS] &= !(1 << (w % BITS));
        }
    }

    #[cfg(test)]
    pub fn is_open(&self, fd: usize) -> bool {
        self.open.get(fd / BITS).is_some_and(|w| w & (1 << (fd % BITS)) != 0)
    }

    /// The lowest descriptor `>= min` that is not open (Linux's
    /// find_next_fd); past the bitmap everything is free.
    pub fn lowest_free_from(&self, min: usize) -> usize {
        let mut w = min / BITS;
        if w >= self.open.len() {
            return min;
        }
        // The first word, without the descriptors below `min`.
        let below = (1u64 << (min % BITS)) - 1;
        let first = self.open[w] | below;
        if first != u64::MAX {
            return w * BITS + (!first).trailing_zeros() as usize;
        }
        w += 1;
        // Then the first word not full, by the summary.
        while w < self.open.len() {
            let s = w / BITS;
            let skipped = self.full[s] | ((1u64 << (w % BITS)) - 1);
            if skipped == u64::MAX {
                w = (s + 1) * BITS;
                continue;
            }
            let word = s * BITS + (!skipped).trailing_zeros() as usize;
            if word >= self.open.len() {
                break;
            }
            return word * BITS + (!self.open[word]).trailing_zeros() as usize;
        }
        self.open.len() * BITS
    }

    /// Number of open descriptors.
    #[cfg(test)]
    pub fn count(&self) -> usize {
        self.open.iter().map(|w| w.count_ones() as usize).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lowest free descriptor >= min, the slow way.
    fn naive(fds: &OpenFds, min: usize) -> usize {
        (min..).find(|&fd| !fds.is_open(fd)).expect("unbounded")
    }

    #[test]
    fn the_lowest_free_descriptor_skips_full_words_and_honours_the_minimum() {
        let mut fds = OpenFds::new();
        fds.grow_to(10_000).unwrap();
        assert_eq!(fds.lowest_free_from(0), 0);
        for fd in 0..9_000 {
            fds.set(fd);
        }
        assert_eq!(fds.lowest_free_from(0), 9_000);
        assert_eq!(fds.lowest_free_from(9_500), 9_500, "F_DUPFD's minimum past the open ones");
        fds.clear(4_097);
        fds.clear(63);
        assert_eq!(fds.lowest_free_from(0), 63);
        assert_eq!(fds.lowest_free_from(64), 4_097);
        assert_eq!(fds.lowest_free_from(4_098), 9_000);
        fds.set(63);
        fds.set(4_097);
        for fd in 9_000..fds.open.len() * 64 {
            fds.set(fd);
        }
        assert_eq!(fds.lowest_free_from(0), fds.open.len() * 64, "all open: the first past the bitmap");
        assert_eq!(fds.lowest_free_from(1 << 20), 1 << 20);
        assert_eq!(fds.count(), fds.open.len() * 64);
    }

    #[test]
    fn the_search_agrees_with_a_walk_on_a_scattered_table() {
        let mut fds = OpenFds::new();
        fds.grow_to(20_000).unwrap();
        // Open most descriptors, leaving a scattered few free.
        let mut x: u32 = 12345;
        for fd in 0..20_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            if !(x >> 16).is_multiple_of(97) {
                fds.set(fd);
            }
        }
        for min in (0..20_100).step_by(7) {
            assert_eq!(fds.lowest_free_from(min), naive(&fds, min), "from {}", min);
        }
        let copy = fds.try_clone().unwrap();
        assert_eq!(copy.lowest_free_from(0), fds.lowest_free_from(0));
    }
}
