//! The reset entry (boot/start.S) and what it hands to Rust.

core::arch::global_asm!(include_str!("../../../../boot/start.S"));

/// Exception level the CPU entered the kernel at (1, or 2 with
/// `-machine virt,virtualization=on`), as passed by start.S.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryLevel(pub u64);

static ENTRY_LEVEL: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);

impl EntryLevel {
    /// Remembers the level for [`EntryLevel::at_boot`] (once, at boot).
    pub fn record(self) -> Self {
        ENTRY_LEVEL.store(self.0, core::sync::atomic::Ordering::Relaxed);
        self
    }

    pub fn at_boot() -> Self {
        Self(ENTRY_LEVEL.load(core::sync::atomic::Ordering::Relaxed))
    }
}

/// Calls the EL2 stub start.S left in VBAR_EL2 (`hvc #0`, x0 = `call`);
/// returns x0 as it comes back. Only when the kernel was entered at EL2:
/// at EL1 without EL2, HVC is an undefined instruction.
pub fn hypervisor_call(call: u64) -> u64 {
    assert_eq!(EntryLevel::at_boot(), EntryLevel(2), "HVC needs EL2");
    let mut x0 = call;
    // SAFETY: the stub clobbers only x0 and returns to the next instruction.
    unsafe { core::arch::asm!("hvc #0", inout("x0") x0, options(nostack)) };
    x0
}

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
