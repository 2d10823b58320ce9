//! What the kernel leaves at EL2 when it was entered there and dropped to
//! EL1 (boot/start.S, Linux's init_el2_state and hyp stub). Run only when
//! entered at EL2.

use super::{Check, Outcome};
use crate::arch::aarch64::boot::hypervisor_call;
use crate::ensure;

pub const CHECKS: &[Check] =
    &[Check { name: "hvc_from_el1_returns_through_the_el2_stub", run: hvc_from_el1_returns_through_the_el2_stub }];

/// Linux's HVC_STUB_ERR: what the stub answers a call it does not offer.
const HVC_STUB_ERR: u64 = 0xbadca11;

/// VBAR_EL2 points at the stub: an HVC comes back with HVC_STUB_ERR. With
/// VBAR_EL2 at its reset value the CPU took the HVC to whatever was there
/// and never came back (the boot hung).
fn hvc_from_el1_returns_through_the_el2_stub() -> Outcome {
    let answer = hypervisor_call(0x1234);
    ensure!(answer == HVC_STUB_ERR, "hvc #0 with x0 = 0x1234 returned x0 = {:#x}, want {:#x}", answer, HVC_STUB_ERR);
    Outcome::Pass
}
