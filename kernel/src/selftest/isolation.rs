//! The kernel keeps out of user memory unless it means to go there:
//! Privileged Access Never stops a plain EL1 load from a user page, and
//! privileged-execute-never (PXN, set on every user page) stops EL1 running
//! one. Each is asked of the MMU with a probe under the fixup table, in a
//! throw-away user address space installed in TTBR0 for the check.

use super::{Check, Outcome};
use crate::arch::aarch64::boot;
use crate::arch::aarch64::esr::{Esr, ExceptionClass, FaultKind};
use crate::arch::aarch64::mmu::user_tables;
use crate::arch::aarch64::probe;
use crate::ensure;
use crate::mm::addr::VirtAddr;
use crate::mm::address_space::AddressSpace;
use crate::mm::vma::{Area, Prot};

pub const CHECKS: &[Check] = &[
    Check { name: "pan_stops_a_plain_el1_load_from_a_user_page", run: pan_stops_a_plain_el1_load_from_a_user_page },
    Check { name: "pxn_stops_el1_executing_a_user_page", run: pxn_stops_el1_executing_a_user_page },
];

/// Where the test page goes in the throw-away user space.
const USER_PAGE: u64 = 0x10_0000;
/// Its first byte (read back by the probes that may read it).
const MARKER: u8 = 0xa5;
/// A64 `RET`: what the executable test page holds, so that a kernel that
/// wrongly runs it comes straight back.
const RET: u32 = 0xd65f_03c0;

/// Runs `f` with a user address space whose page at USER_PAGE has `prot`
/// and holds `data`, installed in TTBR0; afterwards TTBR0 is empty again
/// (as the self-tests run before any process) and the space is freed.
fn with_user_page(prot: Prot, data: &[u8], f: impl FnOnce(VirtAddr) -> Outcome) -> Outcome {
    let Ok(mut space) = AddressSpace::new() else { return Outcome::Fail("no memory for a user address space".into()) };
    let va = VirtAddr::new(USER_PAGE);
    if space.add_area(Area::anonymous(va, va + 4096, prot)).is_err() || space.map_page_with(va, 0, data).is_err() {
        return Outcome::Fail("could not map the user page".into());
    }
    space.activate();
    let outcome = f(va);
    user_tables::uninstall();
    drop(space);
    outcome
}

/// `esr` is `class` with a level 3 permission fault.
fn is_permission_fault(esr: Esr, class: ExceptionClass) -> bool {
    esr.class() == class && esr.abort().map(|a| a.kind) == Some(FaultKind::Permission { level: 3 })
}

fn pan_stops_a_plain_el1_load_from_a_user_page() -> Outcome {
    ensure!(boot::pan_enabled(), "PSTATE.PAN is clear before the probe");
    with_user_page(Prot::READ | Prot::WRITE, &[MARKER], |va| {
        // A byte load from a page mapped above; a fault is caught.
        let plain = probe::read(va);
        match plain {
            Err(esr) => ensure!(
                is_permission_fault(esr, ExceptionClass::DataAbortSameEl),
                "a plain LDRB from user page {:#x} faulted with {}, want a level 3 permission fault (PAN)",
                va.as_u64(),
                esr
            ),
            Ok(v) => {
                return Outcome::Fail(alloc::format!(
                    "a plain LDRB from user page {:#x} read {:#x} with PAN on",
                    va.as_u64(),
                    v
                ))
            }
        }
        ensure!(boot::pan_enabled(), "PSTATE.PAN is clear after the fault was fixed up");
        let without_pan = probe::read_without_pan(va);
        ensure!(
            without_pan == Ok(MARKER),
            "LDRB with PSTATE.PAN cleared: {:?}, want Ok({:#x})",
            without_pan.map_err(|e| e.0),
            MARKER
        );
        ensure!(boot::pan_enabled(), "PSTATE.PAN was not set again after the probe");
        let unprivileged = probe::read_unprivileged(va);
        ensure!(unprivileged == Ok(MARKER), "LDTRB: {:?}, want Ok({:#x})", unprivileged.map_err(|e| e.0), MARKER);
        Outcome::Pass
    })
}

fn pxn_stops_el1_executing_a_user_page() -> Outcome {
    with_user_page(Prot::READ | Prot::EXEC, &RET.to_le_bytes(), |va| {
        // The page is EL0-executable and readable with LDTR: only PXN stands
        // between the kernel and running it.
        let unprivileged = probe::read_unprivileged(va);
        ensure!(unprivileged == Ok(RET as u8), "LDTRB of the user code page: {:?}", unprivileged.map_err(|e| e.0));
        // The target is a RET, so even a kernel that ran it would come
        // back; PXN should stop the fetch, caught by the fixup table.
        match probe::execute_ret(va) {
            Err(esr) => ensure!(
                is_permission_fault(esr, ExceptionClass::InstructionAbortSameEl),
                "BLR to user page {:#x} faulted with {}, want an instruction abort with a level 3 permission fault (PXN)", va.as_u64(), esr
            ),
            Ok(()) => return Outcome::Fail(alloc::format!("EL1 ran the user page at {:#x}", va.as_u64())),
        }
        Outcome::Pass
    })
}
