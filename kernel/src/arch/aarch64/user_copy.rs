//! Copying between kernel and user memory with PAN on.
//!
//! The kernel never dereferences a user pointer. These routines use the
//! unprivileged LDTRB/STTRB, which the MMU checks as if EL0 made the access
//! (so a kernel address, or a page EL0 may not write, faults) and which PAN
//! does not block. Every such instruction has an `__ex_table` entry: a fault
//! resumes after the loop, and the routine reports how many bytes were not
//! copied — no check-then-access window. A fault on a user page that is
//! merely not populated yet is first offered to the page-fault path, like
//! any other (see `exception.rs`).

/// Copies `len` bytes from user address `src` to kernel `dst`. Returns the
/// number of bytes NOT copied (0 on success).
///
/// # Safety
/// `dst` must be valid for `len` bytes of writes. `src` is untrusted.
pub unsafe fn raw_copy_from_user(dst: *mut u8, src: u64, len: usize) -> usize {
    let mut remaining = len;
    if remaining == 0 {
        return 0;
    }
    // SAFETY: the user side is accessed only through LDTRB with a fixup;
    // the kernel side is valid per the contract.
    unsafe {
        core::arch::asm!(
            "1: ldtrb {tmp:w}, [{src}]",
            "strb {tmp:w}, [{dst}], #1",
            "add {src}, {src}, #1",
            "subs {n}, {n}, #1",
            "b.ne 1b",
            "2:",
            ".pushsection __ex_table, \"a\"",
            ".balign 8",
            ".quad 1b, 2b",
            ".popsection",
            src = inout(reg) src => _,
            dst = inout(reg) dst => _,
            n = inout(reg) remaining,
            tmp = out(reg) _,
            out("x17") _,
            options(nostack),
        );
    }
    remaining
}

/// Copies `len` bytes from kernel `src` to user address `dst`. Returns the
/// number of bytes NOT copied (0 on success).
///
/// # Safety
/// `src` must be valid for `len` bytes of reads. `dst` is untrusted.
pub unsafe fn raw_copy_to_user(dst: u64, src: *const u8, len: usize) -> usize {
    let mut remaining = len;
    if remaining == 0 {
        return 0;
    }
    // SAFETY: as for raw_copy_from_user, with STTRB on the user side.
    unsafe {
        core::arch::asm!(
            "ldrb {tmp:w}, [{src}], #1",
            "1: sttrb {tmp:w}, [{dst}]",
            "add {dst}, {dst}, #1",
            "subs {n}, {n}, #1",
            "b.eq 2f",
            "ldrb {tmp:w}, [{src}], #1",
            "b 1b",
            "2:",
            ".pushsection __ex_table, \"a\"",
            ".balign 8",
            ".quad 1b, 2b",
            ".popsection",
            src = inout(reg) src => _,
            dst = inout(reg) dst => _,
            n = inout(reg) remaining,
            tmp = out(reg) _,
            out("x17") _,
            options(nostack),
        );
    }
    remaining
}
