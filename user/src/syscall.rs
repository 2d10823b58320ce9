//! The one instruction every system call goes through: `svc #0` with the
//! Linux arm64 convention (arch/arm64/kernel/syscall.c, `man 2 syscall`):
//! the number in x8, up to six arguments in x0-x5, the result in x0, and a
//! result in `-4095..=-1` meaning `-errno`.
//!
//! The typed wrappers in the other modules are built on [`syscall6`]; it is
//! public so that a test can make a call the runtime has no wrapper for.

use core::arch::asm;

use crate::errno::Errno;

/// Makes system call `nr` with six arguments (pass 0 for the ones it does
/// not take) and decodes the result.
///
/// # Safety
///
/// The caller must uphold whatever system call `nr` requires of its
/// arguments: pointers valid for the reads and writes the kernel will do
/// through them, and no effect (unmapping, changing the break, writing to a
/// pointer later) that invalidates memory Rust still uses.
#[inline]
pub unsafe fn syscall6(
    nr: u32,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> Result<usize, Errno> {
    let ret: usize;
    // SAFETY: `svc #0` traps to the kernel, which reads x8 and x0-x5,
    // writes the result to x0 and preserves every other general register
    // (the Linux arm64 syscall ABI), so only x0 is clobbered. Memory may be
    // read or written through the arguments, so the asm is not `nomem`; the
    // caller vouches for those accesses (see # Safety).
    unsafe {
        asm!(
            "svc #0",
            in("x8") nr as usize,
            inlateout("x0") a0 => ret,
            in("x1") a1,
            in("x2") a2,
            in("x3") a3,
            in("x4") a4,
            in("x5") a5,
            options(nostack),
        );
    }
    Errno::from_syscall_result(ret)
}

/// [`syscall6`] for calls with fewer arguments.
///
/// # Safety
///
/// As for [`syscall6`].
#[inline]
pub(crate) unsafe fn syscall3(nr: u32, a0: usize, a1: usize, a2: usize) -> Result<usize, Errno> {
    // SAFETY: the caller upholds syscall6's contract for these arguments;
    // the unused argument registers are ignored by the kernel.
    unsafe { syscall6(nr, a0, a1, a2, 0, 0, 0) }
}

/// Makes a system call that does not return to the caller (`exit`,
/// `exit_group`).
pub(crate) fn syscall1_noreturn(nr: u32, a0: usize) -> ! {
    // SAFETY: exit and exit_group take a status by value and end the thread
    // or process, so no memory is accessed and nothing after the `svc` runs.
    unsafe {
        asm!(
            "svc #0",
            in("x8") nr as usize,
            in("x0") a0,
            options(noreturn, nostack),
        );
    }
}
