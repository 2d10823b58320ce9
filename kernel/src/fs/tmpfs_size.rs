//! A tmpfs mount's size limit (Linux's shmem_sb_info max_blocks and
//! used_blocks): each of /dev/shm and /tmp may hold at most half of RAM
//! in pages, Linux's default for a tmpfs mounted without `size=`
//! (shmem_default_max_blocks: totalram_pages() / 2). A page of a file is
//! charged when it is first made (written, or faulted in by a mapping) and
//! given back when the file goes (its last name, descriptor and mapping);
//! a page that would pass the limit is not made: write() gets ENOSPC (after
//! the bytes it wrote), a fault SIGBUS (Linux's shmem_fault: vmf_error of
//! -ENOSPC). MAP_SHARED|MAP_ANONYMOUS memory and memfd files live on
//! Linux's internal shm mount, which has no limit, and have none here.

use core::sync::atomic::{AtomicU64, Ordering};

/// The pages one mount holds, against its limit.
pub struct SizeLimit {
    used: AtomicU64,
}

/// Half of the frames the kernel manages, once known (0 before the first
/// look; the count does not change after boot).
static HALF_OF_RAM: AtomicU64 = AtomicU64::new(0);

impl SizeLimit {
    pub const fn new() -> Self {
        Self { used: AtomicU64::new(0) }
    }

    /// The limit in pages: half of the frames the kernel manages (Linux's
    /// totalram_pages, counted the same way as MemTotal).
    pub fn max_pages(&self) -> u64 {
        match HALF_OF_RAM.load(Ordering::Relaxed) {
            0 => {
                let half = crate::mm::frame::stats().total as u64 / 2;
                HALF_OF_RAM.store(half, Ordering::Relaxed);
                half
            }
            half => half,
        }
    }


    /// Charges one page; `false`, nothing charged, if the mount is full
    /// (Linux's shmem_inode_acct_block: percpu_counter_compare against
    /// max_blocks, then add). One compare-and-swap: two CPUs filling the
    /// same mount cannot both take its last page.
    pub fn charge(&self) -> bool {
        let max = self.max_pages();
        self.used.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n < max).then_some(n + 1)).is_ok()
    }

    /// Gives `pages` back (the file that held them is gone).
    pub fn uncharge(&self, pages: u64) {
        self.used.fetch_sub(pages, Ordering::Relaxed);
    }
}

impl Default for SizeLimit {
    fn default() -> Self {
        Self::new()
    }
}
