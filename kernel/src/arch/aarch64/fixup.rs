//! Exception fixups: resuming after an expected fault.
//!
//! Some instructions are allowed to fault: the LDTR/STTR loops of the
//! user-memory copies (arch/aarch64/uaccess.rs; PAN is on, so the kernel
//! touches user memory only through them), and the probes of the self-tests
//! and of the heap-tag checks below. Each such instruction gets an entry in
//! the `__ex_table` section naming where to resume, as Linux's
//! arch/arm64/mm/extable.c does. On a fault at a listed instruction,
//! exception.rs's kernel_sync first lets the page-fault path resolve a user
//! address (fault.rs: kernel_access_to_user) and retries; otherwise it stores
//! ESR_EL1 in x17 and resumes at the fixup address. The code around the
//! instruction declares x17 clobbered and reads it to learn what happened
//! (0 = no fault).

/// One `__ex_table` row: emitted by `.quad <insn>, <resume>`.
#[repr(C)]
struct ExTableEntry {
    insn: u64,
    fixup: u64,
}

/// Register the handler writes ESR_EL1 into before resuming.
pub const FIXUP_ESR_REGISTER: usize = 17;

/// The resume address for a fault at `pc`, if `pc` is allowed to fault.
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

/// The `__ex_table` row for a faulting instruction at local label 1 that
/// resumes at local label 2, as one asm! template string.
macro_rules! ex_table_entry {
    () => {
        ".pushsection __ex_table, \"a\"\n.balign 8\n.quad 1b, 2b\n.popsection"
    };
}

/// A one-byte load at `$va` with the given instructions around it, under
/// an __ex_table entry: `Ok(byte)`, or `Err(ESR_EL1)` if the load (label
/// 1) faults; the handler resumes at label 2 with ESR_EL1 in x17.
macro_rules! probe_load {
    ($va:expr, $($insn:literal),+) => {{
        let value: u64;
        let esr: u64;
        // SAFETY: the load may fault; its __ex_table entry makes the handler
        // resume at label 2 with ESR_EL1 in x17, which is declared clobbered.
        // The instructions around it only touch PSTATE.PAN, and restore it
        // on both paths (label 2 is where the load and its fixup continue).
        unsafe {
            core::arch::asm!(
                ".arch_extension pan",
                "mov x17, xzr",
                $($insn,)+
                ex_table_entry!(),
                va = in(reg) $va.as_u64(),
                value = out(reg) value,
                out("x17") esr,
                options(nostack),
            );
        }
        if esr != 0 { Err(super::esr::Esr(esr)) } else { Ok(value as u8) }
    }};
}

/// Reads one byte at `va`, turning a fault into `Err(ESR_EL1)` instead of a
/// panic. The probe the self-tests use to show that a mapping is absent, or
/// that a tag check fires.
///
/// # Safety
/// The read itself must be harmless if it succeeds (no read side effects).
pub unsafe fn probe_read(va: crate::mm::addr::VirtAddr) -> Result<u8, super::esr::Esr> {
    probe_load!(va, "1: ldrb {value:w}, [{va}]", "2:")
}

/// As [`probe_read`], with PSTATE.PAN cleared for the one load: an EL1
/// access to an EL0-accessible page is then permitted (Arm ARM (DDI 0487K.a),
/// "About PSTATE.PAN"). PAN is set again before returning, fault or not.
///
/// # Safety
/// As for [`probe_read`]; the caller must expect PAN to be on.
pub unsafe fn probe_read_without_pan(va: crate::mm::addr::VirtAddr) -> Result<u8, super::esr::Esr> {
    probe_load!(va, "msr pan, #0", "1: ldrb {value:w}, [{va}]", "2:", "msr pan, #1")
}

/// As [`probe_read`], with the unprivileged LDTRB: the access is checked as
/// if EL0 made it, so PAN does not apply (Arm ARM (DDI 0487K.a), "About PSTATE.PAN") and a page EL0
/// may read succeeds. The form the user-copy routines use.
///
/// # Safety
/// As for [`probe_read`].
pub unsafe fn probe_read_unprivileged(va: crate::mm::addr::VirtAddr) -> Result<u8, super::esr::Esr> {
    probe_load!(va, "1: ldtrb {value:w}, [{va}]", "2:")
}

/// Calls the code at `va` with BLR, turning an instruction abort on the
/// fetch of its first instruction into `Err(ESR_EL1)`. The abort's ELR is
/// the target, not a listed instruction, so the handler looks up the BLR
/// instead: the instruction before the return address in x30
/// ([`search_branch`]). `Ok` if the code ran and returned.
///
/// # Safety
/// If the fetch does not fault, the code at `va` runs as a C function of
/// no arguments: it must be one.
pub unsafe fn probe_execute(va: crate::mm::addr::VirtAddr) -> Result<(), super::esr::Esr> {
    let esr: u64;
    // SAFETY: the BLR has an __ex_table entry; a fetch fault at its target
    // resumes at label 2 with ESR_EL1 in x17. Everything a C call may
    // clobber is declared clobbered.
    unsafe {
        core::arch::asm!(
            "mov x17, xzr",
            "1: blr {va}",
            "2:",
            ex_table_entry!(),
            va = in(reg) va.as_u64(),
            out("x17") esr,
            clobber_abi("C"),
        );
    }
    fault_of(esr)
}

/// `Err(ESR_EL1)` if the fixup ran (x17 non-zero), else `Ok`.
fn fault_of(esr: u64) -> Result<(), super::esr::Esr> {
    if esr != 0 {
        Err(super::esr::Esr(esr))
    } else {
        Ok(())
    }
}

/// The resume address for an instruction abort on the fetch at `target`
/// itself (FAR == ELR), reached from a listed BLR whose return address is
/// `lr`: the branch is the instruction before `lr`.
pub fn search_branch(target: u64, far: u64, lr: u64) -> Option<u64> {
    if target != far {
        return None;
    }
    search(lr.wrapping_sub(4)).filter(|&resume| resume == lr)
}

/// Writes one byte at `va`, turning a fault into `Err(ESR_EL1)`: the
/// store-side twin of [`probe_read`], for the heap-tag probes.
///
/// # Safety
/// The write must be harmless if it succeeds (memory the caller owns or
/// has freed and no one has reused).
pub unsafe fn probe_write(va: crate::mm::addr::VirtAddr, byte: u8) -> Result<(), super::esr::Esr> {
    let esr: u64;
    // SAFETY: the store may fault; its __ex_table entry makes the handler
    // resume at label 2 with ESR_EL1 in x17, which is declared clobbered.
    unsafe {
        core::arch::asm!(
            "mov x17, xzr",
            "1: strb {byte:w}, [{va}]",
            "2:",
            ex_table_entry!(),
            va = in(reg) va.as_u64(),
            byte = in(reg) byte as u64,
            out("x17") esr,
            options(nostack),
        );
    }
    fault_of(esr)
}
