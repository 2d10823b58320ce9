//! msync (Linux 6.1's mm/msync.c). Every file here lives in memory (tmpfs,
//! refpage descriptors), whose fsync has nothing to write, so msync only
//! checks what Linux checks: the flags, the alignment, the range's areas
//! (holes are ENOMEM, after the rest is synced) and MS_INVALIDATE over
//! locked memory (EBUSY).

use linux_raw_sys::general::{MS_ASYNC, MS_INVALIDATE, MS_SYNC};

use super::errno::{Errno, SysResult};
use super::madvise::walk;
use crate::mm::addr::{VirtAddr, PAGE_SIZE};
use crate::mm::tagged_addr::{TagRule, UserAddr};
use crate::mm::vma::AreaFlags;

const PAGE: u64 = PAGE_SIZE as u64;

pub fn msync(addr: UserAddr, len: u64, flags: u32) -> SysResult {
    let start = addr.untagged(TagRule::AddressSpace).as_u64();
    if flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0
        || !start.is_multiple_of(PAGE)
        || (flags & MS_ASYNC != 0 && flags & MS_SYNC != 0)
    {
        return Err(Errno::EINVAL);
    }
    let len = len.wrapping_add(PAGE - 1) & !(PAGE - 1);
    let end = start.wrapping_add(len);
    if end < start {
        return Err(Errno::ENOMEM);
    }
    if end == start {
        return Ok(0);
    }
    // Linux's loop over find_vma, madvise's walk: a hole is skipped and
    // remembered, except that plain MS_ASYNC, which would do nothing else,
    // answers at once. A shared file mapping's vfs_fsync_range has nothing
    // to write back.
    walk(VirtAddr::new(start), VirtAddr::new(end), flags == MS_ASYNC, |area, _, _| {
        if flags & MS_INVALIDATE != 0 && area.flags.contains(AreaFlags::LOCKED) {
            return Err(Errno::EBUSY);
        }
        Ok(0)
    })
}
