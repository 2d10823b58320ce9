//! What the kernel says about the system: uname(2), sysinfo(2),
//! getrandom(2).

use core::mem::MaybeUninit;

use bitflags::bitflags;
use linux_raw_sys::general::{__NR_getrandom, __NR_sysinfo, __NR_uname, GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM};
use linux_raw_sys::system::{new_utsname, sysinfo};

use crate::errno::Errno;
use crate::syscall::syscall3;

/// The names uname(2) reports, each read up to its NUL.
pub struct UtsName(new_utsname);

/// The text of a NUL-terminated `char[65]` field.
fn field(bytes: &[u8]) -> &str {
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    core::str::from_utf8(&bytes[..len]).unwrap_or("<not UTF-8>")
}

impl UtsName {
    /// "Linux" on Linux (and on a kernel that runs its binaries).
    pub fn sysname(&self) -> &str {
        field(&self.0.sysname)
    }
    pub fn nodename(&self) -> &str {
        field(&self.0.nodename)
    }
    pub fn release(&self) -> &str {
        field(&self.0.release)
    }
    pub fn version(&self) -> &str {
        field(&self.0.version)
    }
    /// "aarch64" on arm64.
    pub fn machine(&self) -> &str {
        field(&self.0.machine)
    }
    pub fn domainname(&self) -> &str {
        field(&self.0.domainname)
    }
}

pub fn uname() -> Result<UtsName, Errno> {
    let mut uts = MaybeUninit::<new_utsname>::zeroed();
    // SAFETY: the kernel writes one struct new_utsname into uts, which is
    // live for the call.
    unsafe { syscall3(__NR_uname, uts.as_mut_ptr() as usize, 0, 0) }?;
    // SAFETY: all-zero bytes are a valid new_utsname (arrays of u8), and
    // the kernel only stored more u8s over them.
    Ok(UtsName(unsafe { uts.assume_init() }))
}

/// Memory and load figures from sysinfo(2). The RAM fields count units of
/// `mem_unit` bytes; the accessors here give bytes.
pub struct SysInfo(sysinfo);

impl SysInfo {
    pub fn total_ram_bytes(&self) -> u64 {
        self.0.totalram * u64::from(self.0.mem_unit)
    }
    pub fn free_ram_bytes(&self) -> u64 {
        self.0.freeram * u64::from(self.0.mem_unit)
    }
    /// Seconds since boot.
    pub fn uptime(&self) -> i64 {
        self.0.uptime
    }
    pub fn procs(&self) -> u16 {
        self.0.procs
    }
    /// The kernel's struct as returned.
    pub fn raw(&self) -> &sysinfo {
        &self.0
    }
}

pub fn sysinfo() -> Result<SysInfo, Errno> {
    let mut info = MaybeUninit::<sysinfo>::zeroed();
    // SAFETY: the kernel writes one struct sysinfo into info, which is
    // live for the call.
    unsafe { syscall3(__NR_sysinfo, info.as_mut_ptr() as usize, 0, 0) }?;
    // SAFETY: every field of struct sysinfo is an integer (or an empty
    // array), so all-zero bytes and whatever the kernel wrote are valid.
    Ok(SysInfo(unsafe { info.assume_init() }))
}

bitflags! {
    /// getrandom(2) flags (`GRND_*`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct GrndFlags: u32 {
        const NONBLOCK = GRND_NONBLOCK;
        const RANDOM = GRND_RANDOM;
        const INSECURE = GRND_INSECURE;
    }
}

/// Fills up to `buf.len()` bytes with random bytes; returns how many.
pub fn getrandom(buf: &mut [u8], flags: GrndFlags) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most buf.len() bytes into buf, which is
    // exclusively borrowed for the call.
    unsafe { syscall3(__NR_getrandom, buf.as_mut_ptr() as usize, buf.len(), flags.bits() as usize) }
}
