//! Which CPUs a task may run on: sched_getaffinity, sched_setaffinity
//! (kernel/sched/core.c) and getcpu (kernel/sys.c), truthful for this
//! kernel's CPUs (process/cpu_mask.rs).

use super::errno::{Errno, SysResult};
use crate::mm::uaccess::{copy_from_user, copy_to_user, write_user, UserAddr};
use crate::process::cpu_mask::{self, CpuMask, MASK_BYTES};
use crate::process::{self, State};

/// Linux's find_process_by_pid: 0 is the caller, else any task by its id,
/// a zombie process not yet reaped included (an exited thread is released
/// at once on Linux, so it is not).
fn find_task(pid: i32) -> Result<(), Errno> {
    let exists = |t: &process::Process| t.state != State::Zombie || t.is_leader();
    match pid {
        0 => Ok(()),
        p if p > 0 && process::get(p as u32).is_some_and(|t| exists(t)) => Ok(()),
        _ => Err(Errno::ESRCH),
    }
}

/// sched_getaffinity(pid, len, mask): the CPUs `pid` may run on (every CPU:
/// with one CPU nothing narrower exists); returns the bytes copied.
pub fn sched_getaffinity(pid: i32, len: u32, mask: UserAddr) -> SysResult {
    let n = cpu_mask::get_len(len)?;
    find_task(pid)?;
    copy_to_user(mask, &CpuMask::active().to_bytes()[..n])?;
    Ok(n as u64)
}

/// sched_setaffinity(pid, len, mask): EINVAL unless the mask names a CPU
/// that exists; the affinity is then every such CPU named, which with
/// one CPU is the one there is.
pub fn sched_setaffinity(pid: i32, len: u32, mask: UserAddr) -> SysResult {
    let mut bytes = [0u8; MASK_BYTES];
    let n = (len as usize).min(MASK_BYTES);
    copy_from_user(&mut bytes[..n], mask)?;
    find_task(pid)?;
    cpu_mask::settable(CpuMask::from_bytes(&bytes))?;
    Ok(0)
}

/// getcpu(cpu, node, cache): the CPU the caller runs on and its NUMA node,
/// each written if its pointer is not NULL; the cache is unused (Linux too).
pub fn getcpu(cpu: UserAddr, node: UserAddr) -> SysResult {
    // Both are written even if the first fails, as Linux does.
    let here: u32 = 0;
    let cpu_ok = cpu.is_null() || write_user(cpu, &here).is_ok();
    let node_ok = node.is_null() || write_user(node, &0u32).is_ok();
    if cpu_ok && node_ok {
        Ok(0)
    } else {
        Err(Errno::EFAULT)
    }
}
