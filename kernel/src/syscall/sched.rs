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
fn find_task(pid: i32) -> Result<&'static process::Process, Errno> {
    let exists = |t: &process::Process| t.state.get() != State::Zombie || t.is_leader();
    match pid {
        0 => Ok(process::current()),
        p if p > 0 => process::get(p as u32).filter(|t| exists(t)).ok_or(Errno::ESRCH),
        _ => Err(Errno::ESRCH),
    }
}

/// sched_getaffinity(pid, len, mask): the CPUs `pid` may run on (its
/// affinity among the CPUs up, Linux's cpus_mask & cpu_active_mask);
/// returns the bytes copied.
pub fn sched_getaffinity(pid: i32, len: u32, mask: UserAddr) -> SysResult {
    let n = cpu_mask::get_len(len)?;
    let allowed = find_task(pid)?.affinity.get().and(CpuMask::active());
    copy_to_user(mask, &allowed.to_bytes()[..n])?;
    Ok(n as u64)
}

/// sched_setaffinity(pid, len, mask): EINVAL unless the mask names a CPU
/// that is up; the affinity is then every such CPU named. A runner takes
/// only tasks whose affinity has its CPU (process/scheduler.rs: pick), so
/// a task running where it may no longer run moves: the caller at once
/// (it yields, and another CPU's runner takes it, as Linux's
/// __set_cpus_allowed_ptr migrates the current task before returning),
/// another task running elsewhere is kicked with a Reschedule IPI and
/// leaves its CPU at once (process/scheduler.rs: on_reschedule).
pub fn sched_setaffinity(pid: i32, len: u32, mask: UserAddr) -> SysResult {
    let mut bytes = [0u8; MASK_BYTES];
    let n = (len as usize).min(MASK_BYTES);
    copy_from_user(&mut bytes[..n], mask)?;
    let task = find_task(pid)?;
    let allowed = cpu_mask::settable(CpuMask::from_bytes(&bytes))?;
    task.affinity.set(allowed);
    let tid = task.pid.0;
    if tid != process::current().pid.0 {
        process::affinity_changed(tid);
    } else if !allowed.contains(crate::arch::aarch64::cpu_local::this_cpu().index()) {
        process::yield_now();
    }
    Ok(0)
}

/// getcpu(cpu, node, cache): the CPU the caller runs on and its NUMA node,
/// each written if its pointer is not NULL; the cache is unused (Linux too).
pub fn getcpu(cpu: UserAddr, node: UserAddr) -> SysResult {
    // Both are written even if the first fails, as Linux does.
    let here = crate::arch::aarch64::cpu_local::this_cpu().index() as u32;
    let cpu_ok = cpu.is_null() || write_user(cpu, &here).is_ok();
    let node_ok = node.is_null() || write_user(node, &0u32).is_ok();
    if cpu_ok && node_ok {
        Ok(0)
    } else {
        Err(Errno::EFAULT)
    }
}
