//! Identity, limits and system information: uname, sysinfo, prlimit64,
//! getrandom, set_tid_address.

use linux_raw_sys::general::{rlimit64, GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM};
use linux_raw_sys::system::new_utsname;

use super::errno::{Errno, SysResult};
use crate::arch::aarch64::{cpu_features, timer};
use crate::mm::addr::PAGE_SIZE;
use crate::mm::frame;
use crate::mm::uaccess::{access_ok, copy_to_user, read_user, write_user, Pod, UserAddr};
use crate::process::{self, RLIMITS};

fn field(dst: &mut [core::ffi::c_char; 65], value: &str) {
    for (d, s) in dst.iter_mut().zip(value.bytes()) {
        *d = s as core::ffi::c_char;
    }
}

/// What programs see of this kernel. The release looks like a Linux
/// version because C libraries parse it.
pub fn uname(buf: UserAddr) -> SysResult {
    let mut u = new_utsname::zeroed();
    field(&mut u.sysname, "Linux");
    field(&mut u.nodename, "refpage");
    field(&mut u.release, "6.1.0-refpage");
    field(&mut u.version, concat!("#1 refpage kernel ", env!("CARGO_PKG_VERSION")));
    field(&mut u.machine, "aarch64");
    field(&mut u.domainname, "(none)");
    write_user(buf, &u)?;
    Ok(0)
}

/// struct sysinfo on arm64 with its padding named: linux-raw-sys's has 4
/// implicit bytes before totalhigh and 4 at the end, which Rust does not
/// keep zeroed, so it cannot be copied out byte for byte (Pod). Linux's
/// do_sysinfo clears the whole structure before filling it.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct Sysinfo {
    pub(crate) uptime: i64,
    pub(crate) loads: [u64; 3],
    pub(crate) totalram: u64,
    pub(crate) freeram: u64,
    pub(crate) sharedram: u64,
    pub(crate) bufferram: u64,
    pub(crate) totalswap: u64,
    pub(crate) freeswap: u64,
    pub(crate) procs: u16,
    pub(crate) pad: u16,
    pub(crate) pad_before_totalhigh: u32,
    pub(crate) totalhigh: u64,
    pub(crate) freehigh: u64,
    pub(crate) mem_unit: u32,
    pub(crate) pad_at_end: u32,
}
const _: () = assert!(core::mem::size_of::<Sysinfo>() == core::mem::size_of::<linux_raw_sys::system::sysinfo>());

/// Real memory figures from the frame allocator, in bytes (mem_unit 1).
pub fn sysinfo(buf: UserAddr) -> SysResult {
    let stats = frame::stats();
    let mut info = Sysinfo::zeroed();
    info.uptime = (timer::uptime_ns() / 1_000_000_000) as _;
    info.totalram = (stats.total * PAGE_SIZE) as _;
    info.freeram = (stats.free * PAGE_SIZE) as _;
    info.procs = 1;
    info.mem_unit = 1;
    write_user(buf, &info)?;
    Ok(0)
}

/// Reads and sets the calling process's limits (pid 0 or its own pid).
pub fn prlimit64(pid: i32, resource: u32, new: UserAddr, old: UserAddr) -> SysResult {
    let p = process::current();
    if pid != 0 && pid as u32 != p.pid.0 {
        return Err(Errno::ESRCH);
    }
    let index = resource as usize;
    if index >= RLIMITS {
        return Err(Errno::EINVAL);
    }
    let replacement = if new.is_null() { None } else { Some(read_user::<rlimit64>(new)?) };
    if let Some(r) = replacement {
        if r.rlim_cur > r.rlim_max {
            return Err(Errno::EINVAL);
        }
        // Raising the hard limit needs CAP_SYS_RESOURCE; everything runs as
        // root here, so it is allowed, as on Linux for root.
    }
    if !old.is_null() {
        write_user(old, &p.limits.get()[index])?;
    }
    if let Some(r) = replacement {
        p.limits.borrow_mut()[index] = r;
    }
    Ok(0)
}

/// getrandom(buf, len, flags), as Linux 6.1's sys_getrandom and
/// get_random_bytes_user: `len` is cut to INT_MAX and then to
/// MAX_RW_COUNT (import_single_range), which must lie in the user half
/// (access_ok: EFAULT); the bytes are then copied with no other limit,
/// and at every page copied the call stops, returning what it copied, if
/// a signal is pending (signal_pending: any unblocked signal; or the run's
/// time is up), else gives the CPU away if its slice is over
/// (cond_resched). A fault gives the bytes copied, EFAULT if none.
pub fn getrandom(buf: UserAddr, len: usize, flags: u32) -> SysResult {
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0 {
        return Err(Errno::EINVAL);
    }
    let len = len.min(i32::MAX as usize).min(super::io::MAX_RW_COUNT);
    access_ok(buf, len)?;
    let mut chunk = [0u8; 256];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(chunk.len());
        cpu_features::random_bytes(&mut chunk[..n]);
        if let Err(e) = copy_to_user(buf.offset(done as u64), &chunk[..n]) {
            return if done > 0 { Ok(done as u64) } else { Err(e) };
        }
        done += n;
        if done % PAGE_SIZE == 0 && done < len {
            if signal_pending() {
                break;
            }
            process::cond_resched();
        }
    }
    Ok(done as u64)
}

/// Linux's signal_pending(current) for a long copy: an unblocked signal
/// waits for the task (the copy stops so that it is delivered), or the
/// task must stop anyway (SIGKILL, the run's time limit).
fn signal_pending() -> bool {
    process::long_work_must_stop() || process::current().signals.borrow().any_deliverable()
}

/// set_robust_list(head, len) (Linux's sys_set_robust_list): `len` must
/// be sizeof(struct robust_list_head) (EINVAL); the head is not checked
/// until the thread ends.
pub fn set_robust_list(head: u64, len: usize) -> SysResult {
    if len != crate::process::robust_list::HEAD_SIZE {
        return Err(Errno::EINVAL);
    }
    process::current().robust_list.set(head);
    Ok(0)
}

/// get_robust_list(pid, head_ptr, len_ptr) (Linux's sys_get_robust_list):
/// the head task `pid` (0: the caller) registered, and its size. ESRCH for
/// no such task.
pub fn get_robust_list(pid: i32, head_out: UserAddr, len_out: UserAddr) -> SysResult {
    let head = match pid {
        0 => process::current().robust_list.get(),
        _ => u32::try_from(pid).ok().and_then(process::get).ok_or(Errno::ESRCH)?.robust_list.get(),
    };
    write_user(len_out, &(crate::process::robust_list::HEAD_SIZE as u64))?;
    write_user(head_out, &head)?;
    Ok(0)
}

/// Records where to clear the thread ID at exit; returns the caller's TID.
pub fn set_tid_address(addr: u64) -> SysResult {
    let p = process::current();
    p.clear_child_tid.set(addr);
    Ok(p.pid.0 as u64)
}
