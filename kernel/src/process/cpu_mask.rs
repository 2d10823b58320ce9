//! CPU sets as sched_getaffinity and sched_setaffinity pass them (Linux's
//! `struct cpumask`, kernel/sched/core.c), and how many CPUs there are.
//! Pure logic, tested on the host.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::syscall::errno::Errno;

/// The CPUs that run tasks, bit n for CPU n (Linux's cpu_online_mask):
/// the boot CPU, and each secondary as it comes up (arch/aarch64/smp.rs).
static ONLINE: AtomicU64 = AtomicU64::new(1);

/// CPU `cpu` is up and runs tasks from now on.
pub fn set_online(cpu: usize) {
    ONLINE.fetch_or(1 << cpu, Ordering::Relaxed);
}

/// How many CPUs run tasks.
pub fn online_count() -> usize {
    ONLINE.load(Ordering::Relaxed).count_ones() as usize
}

/// Linux's nr_cpu_ids: one more than the highest CPU number up.
pub fn nr_cpu_ids() -> usize {
    64 - ONLINE.load(Ordering::Relaxed).leading_zeros() as usize
}

/// Bits in the kernel's cpumask: Linux's arm64 default NR_CPUS, so
/// `cpumask_size()` (what sched_getaffinity copies at most) is 32 bytes
/// as on a defconfig arm64 Linux.
const MASK_BITS: usize = 256;
const WORDS: usize = MASK_BITS / 64;
/// Linux's cpumask_size().
pub const MASK_BYTES: usize = MASK_BITS / 8;

/// A set of CPUs, bit n for CPU n, in the user ABI's byte order (an array
/// of little-endian unsigned longs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuMask([u64; WORDS]);

impl CpuMask {
    /// Every CPU the kernel runs tasks on (Linux's cpu_active_mask).
    pub fn active() -> Self {
        let mut m = CpuMask::default();
        m.0[0] = ONLINE.load(Ordering::Relaxed);
        m
    }

    /// Whether CPU `cpu` is in the set.
    pub fn contains(&self, cpu: usize) -> bool {
        cpu < MASK_BITS && self.0[cpu / 64] & (1 << (cpu % 64)) != 0
    }

    /// The mask from the first `bytes.len()` bytes of a user buffer (at
    /// most MASK_BYTES); the rest is clear (Linux's get_user_cpu_mask).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut m = CpuMask::default();
        for (i, b) in bytes.iter().take(MASK_BYTES).enumerate() {
            m.0[i / 8] |= (*b as u64) << (8 * (i % 8));
        }
        m
    }

    pub fn to_bytes(self) -> [u8; MASK_BYTES] {
        let mut out = [0u8; MASK_BYTES];
        for (i, w) in self.0.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    pub fn and(self, other: Self) -> Self {
        let mut m = self;
        m.0.iter_mut().zip(other.0).for_each(|(a, b)| *a &= b);
        m
    }

    pub fn is_empty(self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
}

/// sched_getaffinity's checks on the buffer length: EINVAL when it cannot
/// hold every CPU or is not a whole number of longs; otherwise how many
/// bytes are copied out (and returned by the raw system call).
pub fn get_len(len: u32) -> Result<usize, Errno> {
    // Linux computes `len * BITS_PER_BYTE` in an unsigned int, which wraps
    // for len >= 2^29: such a length is refused the same way.
    if (len.wrapping_mul(8) as usize) < nr_cpu_ids() || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    Ok((len as usize).min(MASK_BYTES))
}

/// The affinity sched_setaffinity sets from `requested`: the CPUs asked for
/// that exist (Linux's __set_cpus_allowed_ptr), EINVAL if none.
pub fn settable(requested: CpuMask) -> Result<CpuMask, Errno> {
    let mask = requested.and(CpuMask::active());
    if mask.is_empty() {
        return Err(Errno::EINVAL);
    }
    Ok(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_len_follows_linux() {
        assert_eq!(get_len(0), Err(Errno::EINVAL));
        assert_eq!(get_len(4), Err(Errno::EINVAL));
        assert_eq!(get_len(12), Err(Errno::EINVAL));
        assert_eq!(get_len(8), Ok(8));
        assert_eq!(get_len(128), Ok(MASK_BYTES));
        assert_eq!(get_len(1 << 29), Err(Errno::EINVAL), "len * 8 wraps to 0 in an unsigned int");
        assert_eq!(get_len(0xffff_fff8), Ok(MASK_BYTES));
    }

    #[test]
    fn masks_round_trip_and_keep_only_active_cpus() {
        let bytes = [0x03u8, 0, 0, 0, 0, 0, 0, 0x80, 0x01];
        let m = CpuMask::from_bytes(&bytes);
        assert_eq!(&m.to_bytes()[..9], &bytes);
        assert!(m.to_bytes()[9..].iter().all(|b| *b == 0));
        assert_eq!(settable(m), Ok(m.and(CpuMask::active())));
        assert_eq!(settable(CpuMask::default()), Err(Errno::EINVAL));
        // Only CPUs that do not exist: nothing to run on.
        assert_eq!(settable(CpuMask::from_bytes(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff])), Err(Errno::EINVAL));
        assert_eq!(CpuMask::from_bytes(&[0xff; 64]).to_bytes(), [0xff; MASK_BYTES]);
    }

    #[test]
    fn a_cpu_brought_up_joins_the_active_mask() {
        set_online(3);
        assert!(CpuMask::active().contains(0) && CpuMask::active().contains(3));
        assert!(!CpuMask::active().contains(2) && !CpuMask::active().contains(300));
        assert_eq!(nr_cpu_ids(), 4);
        assert_eq!(get_len(8), Ok(8));
        // Only CPU 3 asked for: it exists now.
        assert_eq!(settable(CpuMask::from_bytes(&[0x08])), Ok(CpuMask::from_bytes(&[0x08])));
    }
}
