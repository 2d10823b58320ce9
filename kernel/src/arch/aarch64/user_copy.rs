//! Copying between kernel and user memory with PAN on.
//!
//! The kernel never dereferences a user pointer. These routines use the
//! unprivileged LDTR/STTR, which the MMU checks as if EL0 made the access
//! (so a kernel address, or a page EL0 may not write, faults) and which PAN
//! does not block. Every such instruction has an `__ex_table` entry: a fault
//! resumes in the routine, which reports how many bytes were not copied —
//! no check-then-access window. A fault on a user page that is merely not
//! populated yet is first offered to the page-fault path, like any other
//! (see `exception.rs`).
//!
//! Sixteen bytes at a time (two 8-byte LDTR or STTR, as Linux's
//! copy_template.S with its user_ldp/user_stp), then the tail a byte at a
//! time. A fault in the 16-byte loop resumes in the byte loop at the start
//! of the chunk, which copies up to the exact byte that faults: the count
//! not copied is exact, as Linux's fixup makes it. Byte by byte throughout,
//! a 4.6 KiB signal frame took about 28,000 instructions to write and as
//! many to read back at sigreturn (`docs/bench/profile.md`).

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
    // SAFETY: the user side is accessed only through LDTR/LDTRB with a
    // fixup; the kernel side is valid per the contract. Both loads of a
    // chunk come before its store, so a chunk whose second load faults
    // stored nothing and the byte loop starts it again.
    unsafe {
        core::arch::asm!(
            "cmp {n}, #16",
            "b.lo 3f",
            "1: ldtr {a}, [{src}]",
            "2: ldtr {b}, [{src}, #8]",
            "stp {a}, {b}, [{dst}], #16",
            "add {src}, {src}, #16",
            "sub {n}, {n}, #16",
            "cmp {n}, #16",
            "b.hs 1b",
            "cbz {n}, 5f",
            "3:",
            "4: ldtrb {a:w}, [{src}]",
            "strb {a:w}, [{dst}], #1",
            "add {src}, {src}, #1",
            "subs {n}, {n}, #1",
            "b.ne 4b",
            "5:",
            ".pushsection __ex_table, \"a\"",
            ".balign 8",
            ".quad 1b, 3b",
            ".quad 2b, 3b",
            ".quad 4b, 5b",
            ".popsection",
            src = inout(reg) src => _,
            dst = inout(reg) dst => _,
            n = inout(reg) remaining,
            a = out(reg) _,
            b = out(reg) _,
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
    // SAFETY: as for raw_copy_from_user, with STTR/STTRB on the user side.
    // A chunk whose second store faults has its first 8 bytes written
    // already; the byte loop writes them again (the same bytes) and stops
    // at the exact byte that faults.
    unsafe {
        core::arch::asm!(
            "cmp {n}, #16",
            "b.lo 3f",
            "6: ldp {a}, {b}, [{src}]",
            "1: sttr {a}, [{dst}]",
            "2: sttr {b}, [{dst}, #8]",
            "add {src}, {src}, #16",
            "add {dst}, {dst}, #16",
            "sub {n}, {n}, #16",
            "cmp {n}, #16",
            "b.hs 6b",
            "cbz {n}, 5f",
            "3: ldrb {a:w}, [{src}]",
            "4: sttrb {a:w}, [{dst}]",
            "add {src}, {src}, #1",
            "add {dst}, {dst}, #1",
            "subs {n}, {n}, #1",
            "b.ne 3b",
            "5:",
            ".pushsection __ex_table, \"a\"",
            ".balign 8",
            ".quad 1b, 3b",
            ".quad 2b, 3b",
            ".quad 4b, 5b",
            ".popsection",
            src = inout(reg) src => _,
            dst = inout(reg) dst => _,
            n = inout(reg) remaining,
            a = out(reg) _,
            b = out(reg) _,
            out("x17") _,
            options(nostack),
        );
    }
    remaining
}
