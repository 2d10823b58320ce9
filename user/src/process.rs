//! The process and its thread: exit(2), exit_group(2), getpid(2),
//! getppid(2), gettid(2), set_tid_address(2), sched_yield(2), prlimit64(2).

use core::ptr;

use linux_raw_sys::general::{
    __NR_exit, __NR_exit_group, __NR_getpid, __NR_getppid, __NR_gettid, __NR_prlimit64, __NR_sched_yield,
    __NR_set_tid_address, __kernel_pid_t, rlimit64, RLIMIT_AS, RLIMIT_CORE, RLIMIT_CPU, RLIMIT_DATA, RLIMIT_NOFILE,
    RLIMIT_STACK,
};

use crate::errno::Errno;
use crate::syscall::{syscall1_noreturn, syscall6};

/// A process or thread id.
pub type Pid = __kernel_pid_t;

/// Ends the calling thread. In a single-threaded program that ends the
/// process too, but [`exit_group`] is what a program's end should call.
pub fn exit(status: i32) -> ! {
    syscall1_noreturn(__NR_exit, status as usize)
}

/// Ends every thread of the process with `status` (its low 8 bits are what
/// the parent sees).
pub fn exit_group(status: i32) -> ! {
    syscall1_noreturn(__NR_exit_group, status as usize)
}

/// Makes a system call that takes no arguments.
fn syscall0(nr: u32) -> Result<usize, Errno> {
    // SAFETY: the calls this is used for take no arguments and touch no
    // user memory.
    unsafe { syscall6(nr, 0, 0, 0, 0, 0, 0) }
}

// getpid, getppid and gettid cannot fail on Linux; they still return a
// Result so that a kernel lacking one shows up as ENOSYS in a test rather
// than as a made-up id.

pub fn getpid() -> Result<Pid, Errno> {
    syscall0(__NR_getpid).map(|id| id as Pid)
}

pub fn getppid() -> Result<Pid, Errno> {
    syscall0(__NR_getppid).map(|id| id as Pid)
}

pub fn gettid() -> Result<Pid, Errno> {
    syscall0(__NR_gettid).map(|id| id as Pid)
}

/// Gives up the CPU to another runnable thread, if any.
pub fn sched_yield() -> Result<(), Errno> {
    syscall0(__NR_sched_yield).map(drop)
}

/// Sets `clear_child_tid`, the word the kernel zeroes (and futex-wakes) when
/// this thread exits; returns the caller's thread id.
///
/// # Safety
///
/// `tidptr` must be null or stay valid for writes of an `i32` until the
/// thread exits or sets another address: the kernel writes to it then.
pub unsafe fn set_tid_address(tidptr: *mut i32) -> Result<Pid, Errno> {
    // SAFETY: the caller keeps tidptr valid for the kernel's later write;
    // the call itself does not access it.
    unsafe { syscall6(__NR_set_tid_address, tidptr as usize, 0, 0, 0, 0, 0) }.map(|id| id as Pid)
}

/// A resource limit selector for [`prlimit64`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resource(pub u32);

impl Resource {
    pub const CPU: Resource = Resource(RLIMIT_CPU);
    pub const DATA: Resource = Resource(RLIMIT_DATA);
    pub const STACK: Resource = Resource(RLIMIT_STACK);
    pub const CORE: Resource = Resource(RLIMIT_CORE);
    pub const NOFILE: Resource = Resource(RLIMIT_NOFILE);
    pub const AS: Resource = Resource(RLIMIT_AS);
}

/// The soft and hard limit of one resource; `u64::MAX` is `RLIM_INFINITY`.
pub type Rlimit = rlimit64;

/// Reads and/or sets a resource limit of process `pid` (0 = the caller):
/// sets `new` if given, and returns the limit in force before the call.
pub fn prlimit64(pid: Pid, resource: Resource, new: Option<&Rlimit>) -> Result<Rlimit, Errno> {
    let mut old = Rlimit { rlim_cur: 0, rlim_max: 0 };
    let new_ptr = new.map_or(ptr::null(), |r| r as *const Rlimit);
    // SAFETY: new_ptr is null or a live rlimit64 the kernel only reads; old
    // is a live rlimit64 the kernel writes.
    unsafe {
        syscall6(
            __NR_prlimit64,
            pid as usize,
            resource.0 as usize,
            new_ptr as usize,
            &mut old as *mut Rlimit as usize,
            0,
            0,
        )
    }?;
    Ok(old)
}

/// The caller's current limit for `resource` (getrlimit(2)).
pub fn getrlimit(resource: Resource) -> Result<Rlimit, Errno> {
    prlimit64(0, resource, None)
}
