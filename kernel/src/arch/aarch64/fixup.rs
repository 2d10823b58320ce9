//! Exception fixups: resuming after an expected fault.
//!
//! Some instructions are allowed to fault: probes in the self-tests now, and
//! the user-memory copy routines later (PAN is on, so the kernel touches user
//! memory only through them). Each such instruction gets an entry in the
//! `__ex_table` section naming where to resume, as Linux's
//! arch/arm64/mm/extable.c does. On a fault at a listed instruction the
//! exception handler stores ESR_EL1 in x17 and resumes at the fixup address;
//! the code around the instruction declares x17 clobbered and reads it to
//! learn what happened (0 = no fault).

/// One `__ex_table` row: emitted by `.quad <insn>, <resume>`.
#[repr(C)]
struct ExTableEntry {
    insn: u64,
    fixup: u64,
}

/// Register the handler writes ESR_EL1 into before resuming.
pub const FIXUP_ESR_REGISTER: usize = 17;

/// The resume address for a fault at `pc`, if `pc` is allowed to fault.
#[cfg(target_os = "none")]
pub fn search(pc: u64) -> Option<u64> {
    extern "C" {
        static __ex_table_start: ExTableEntry;
        static __ex_table_end: ExTableEntry;
    }
    // SAFETY: the linker script places __ex_table_start/__ex_table_end around
    // the KEEP(*(__ex_table)) input sections, which hold only ExTableEntry rows
    // emitted as pairs of .quad in assembly.
    let table = unsafe {
        let start = core::ptr::addr_of!(__ex_table_start);
        let end = core::ptr::addr_of!(__ex_table_end);
        core::slice::from_raw_parts(start, end.offset_from(start) as usize)
    };
    table.iter().find(|e| e.insn == pc).map(|e| e.fixup)
}

/// Reads one byte at `va`, turning a fault into `Err(ESR_EL1)` instead of a
/// panic. The probe the self-tests use to show that a mapping is absent, or
/// that a tag check fires.
///
/// # Safety
/// The read itself must be harmless if it succeeds (no read side effects).
#[cfg(target_os = "none")]
pub unsafe fn probe_read(va: crate::mm::addr::VirtAddr) -> Result<u8, super::esr::Esr> {
    let value: u64;
    let esr: u64;
    // SAFETY: the load may fault; its __ex_table entry makes the handler
    // resume at label 2 with ESR_EL1 in x17, which is declared clobbered.
    unsafe {
        core::arch::asm!(
            "mov x17, xzr",
            "1: ldrb {value:w}, [{va}]",
            "2:",
            ".pushsection __ex_table, \"a\"",
            ".balign 8",
            ".quad 1b, 2b",
            ".popsection",
            va = in(reg) va.as_u64(),
            value = out(reg) value,
            out("x17") esr,
            options(nostack),
        );
    }
    if esr != 0 { Err(super::esr::Esr(esr)) } else { Ok(value as u8) }
}
