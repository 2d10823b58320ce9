//! The reset entry (boot/start.S) and what it hands to Rust.

core::arch::global_asm!(include_str!("../../../../boot/start.S"));

/// Exception level the CPU entered the kernel at (1, or 2 with
/// `-machine virt,virtualization=on`), as passed by start.S.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryLevel(pub u64);

/// Turns on Privileged Access Never (FEAT_PAN): EL1 accesses to EL0-accessible
/// memory fault unless made through the user-copy routines. start.S left
/// SCTLR_EL1.SPAN = 0, so every exception into EL1 sets PSTATE.PAN again.
pub fn enable_pan() {
    // SAFETY: sets PSTATE.PAN through its system-register form (S3_0_C4_C2_3,
    // bit 22), which assembles without FEAT_PAN being enabled for the target.
    unsafe { core::arch::asm!("msr S3_0_C4_C2_3, {0}", "isb", in(reg) 1u64 << 22, options(nostack)) };
}

/// Whether PSTATE.PAN is set.
pub fn pan_enabled() -> bool {
    let pan: u64;
    // SAFETY: reads PSTATE.PAN.
    unsafe { core::arch::asm!("mrs {0}, S3_0_C4_C2_3", out(reg) pan, options(nomem, nostack)) };
    pan & (1 << 22) != 0
}
