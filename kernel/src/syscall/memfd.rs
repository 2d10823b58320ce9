//! memfd_create (system call 279): an unnamed in-memory file, the same kind
//! of file as one in /dev/shm but in no directory (Linux 6.1's
//! mm/memfd.c). It can be read, written, truncated and mapped, shared or
//! private, like any tmpfs file here; seals are not offered
//! (scripts/known-differences.txt).

use linux_raw_sys::general::{
    MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_HUGETLB, MFD_HUGE_MASK, MFD_HUGE_SHIFT, O_CLOEXEC, O_RDWR,
};

use super::errno::{Errno, SysResult};
use super::io::install;
use crate::fs::file::OpenFile;
use crate::fs::tmpfs;
use crate::mm::uaccess::{copy_from_user, UserAddr};

/// The flags Linux 6.1 knows (MFD_ALL_FLAGS).
const ALL_FLAGS: u32 = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB;

/// Longest name: NAME_MAX less the "memfd:" prefix (MFD_NAME_MAX_LEN).
const NAME_MAX_LEN: u64 = 255 - 6;

pub fn memfd_create(name: UserAddr, flags: u32) -> SysResult {
    let allowed = if flags & MFD_HUGETLB != 0 { ALL_FLAGS | (MFD_HUGE_MASK << MFD_HUGE_SHIFT) } else { ALL_FLAGS };
    if flags & !allowed != 0 {
        return Err(Errno::EINVAL);
    }
    // strnlen_user(name, MFD_NAME_MAX_LEN + 1): EFAULT if unreadable,
    // EINVAL if longer. The name is not kept: /proc shows no path for it.
    let mut len = 0;
    loop {
        let mut byte = [0u8];
        copy_from_user(&mut byte, name.offset(len))?;
        if byte[0] == 0 {
            break;
        }
        len += 1;
        if len > NAME_MAX_LEN {
            return Err(Errno::EINVAL);
        }
    }
    // No huge pages here (no hugetlbfs).
    if flags & MFD_HUGETLB != 0 {
        return Err(Errno::EINVAL);
    }
    let file = tmpfs::create_memfd()?;
    install(OpenFile::tmp(file, O_RDWR), if flags & MFD_CLOEXEC != 0 { O_CLOEXEC } else { 0 })
}
