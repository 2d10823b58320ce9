//! The Power State Coordination Interface (PSCI (DEN0022D)): the
//! firmware calls that start a secondary CPU. QEMU `virt` implements PSCI
//! itself and says in the device tree's /psci node how to call it: `hvc`
//! when the kernel enters at EL1, `smc` with `virtualization=on` (then EL2
//! belongs to the kernel and QEMU plays EL3).

use core::fmt;

/// How a PSCI call reaches the firmware: the conduit, SMC or HVC, under the
/// SMC Calling Convention (DEN0028), named by the /psci node's `method`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conduit {
    Hvc,
    Smc,
}

impl Conduit {
    /// The /psci node's `method` string.
    pub fn from_method(method: &str) -> Option<Self> {
        match method {
            "hvc" => Some(Self::Hvc),
            "smc" => Some(Self::Smc),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Hvc => "HVC",
            Self::Smc => "SMC",
        }
    }
}

/// An MPIDR_EL1 affinity value (Aff3 in bits [39:32], Aff2..Aff0 in
/// [23:0]): what the /cpus/cpu@N `reg` holds and what CPU_ON takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mpidr(pub u64);

/// The affinity fields of MPIDR_EL1 (Arm ARM (DDI 0487K.a), MPIDR_EL1):
/// the rest (U, MT, RES1 bit 31) is not part of a CPU's name.
pub const MPIDR_AFFINITY_MASK: u64 = 0xff_00ff_ffff;

impl fmt::Display for Mpidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// Function IDs used here (PSCI (DEN0022D), "PSCI_VERSION" and "CPU_ON"):
/// PSCI_VERSION (SMC32) and CPU_ON (SMC64, so the entry address is 64 bits).
pub const PSCI_VERSION: u32 = 0x8400_0000;
pub const CPU_ON_64: u32 = 0xc400_0003;

/// A PSCI return code other than SUCCESS (PSCI (DEN0022D), "Return error
/// codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsciError {
    NotSupported,
    InvalidParameters,
    Denied,
    AlreadyOn,
    OnPending,
    InternalFailure,
    NotPresent,
    Disabled,
    InvalidAddress,
    /// A value DEN0022 does not define.
    Unknown(i64),
}

impl PsciError {
    /// `Ok` for SUCCESS (0), the decoded error otherwise.
    pub fn check(ret: u64) -> Result<(), Self> {
        Err(match ret as i64 {
            0 => return Ok(()),
            -1 => Self::NotSupported,
            -2 => Self::InvalidParameters,
            -3 => Self::Denied,
            -4 => Self::AlreadyOn,
            -5 => Self::OnPending,
            -6 => Self::InternalFailure,
            -7 => Self::NotPresent,
            -8 => Self::Disabled,
            -9 => Self::InvalidAddress,
            other => Self::Unknown(other),
        })
    }
}

impl fmt::Display for PsciError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, code) = match *self {
            Self::NotSupported => ("NOT_SUPPORTED", -1),
            Self::InvalidParameters => ("INVALID_PARAMETERS", -2),
            Self::Denied => ("DENIED", -3),
            Self::AlreadyOn => ("ALREADY_ON", -4),
            Self::OnPending => ("ON_PENDING", -5),
            Self::InternalFailure => ("INTERNAL_FAILURE", -6),
            Self::NotPresent => ("NOT_PRESENT", -7),
            Self::Disabled => ("DISABLED", -8),
            Self::InvalidAddress => ("INVALID_ADDRESS", -9),
            Self::Unknown(code) => return write!(f, "unknown PSCI return {}", code),
        };
        write!(f, "{} ({})", name, code)
    }
}

/// A PSCI call: function `fid` with up to three arguments in x1..x3, the
/// result in x0 (the SMC Calling Convention, DEN0028: x0..x3 may be
/// clobbered, nothing else).
#[cfg(target_os = "none")]
pub fn call(conduit: Conduit, fid: u32, a1: u64, a2: u64, a3: u64) -> u64 {
    let mut x0 = fid as u64;
    // SAFETY: the firmware (QEMU's PSCI) preserves every register but
    // x0..x3 and touches no memory the kernel owns; CPU_ON starts another
    // CPU at `a2` (smp.rs owns what it runs there).
    unsafe {
        match conduit {
            Conduit::Hvc => core::arch::asm!("hvc #0", inout("x0") x0, inout("x1") a1 => _,
                inout("x2") a2 => _, inout("x3") a3 => _, options(nostack)),
            Conduit::Smc => core::arch::asm!("smc #0", inout("x0") x0, inout("x1") a1 => _,
                inout("x2") a2 => _, inout("x3") a3 => _, options(nostack)),
        }
    }
    x0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_codes_decode_as_den0022_names_them() {
        assert_eq!(PsciError::check(0), Ok(()));
        assert_eq!(PsciError::check(-4i64 as u64), Err(PsciError::AlreadyOn));
        assert_eq!(PsciError::check(-2i64 as u64), Err(PsciError::InvalidParameters));
        assert_eq!(alloc::format!("{}", PsciError::AlreadyOn), "ALREADY_ON (-4)");
        assert_eq!(alloc::format!("{}", PsciError::check(-42i64 as u64).unwrap_err()), "unknown PSCI return -42");
    }

    #[test]
    fn the_method_names_the_conduit() {
        assert_eq!(Conduit::from_method("hvc"), Some(Conduit::Hvc));
        assert_eq!(Conduit::from_method("smc"), Some(Conduit::Smc));
        assert_eq!(Conduit::from_method("spin-table"), None);
    }
}
