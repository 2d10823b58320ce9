//! Tags reach tag storage through the linear map, and a mismatch is caught.

use aarch64_cpu::registers::TCR_EL1;
use tock_registers::interfaces::Readable;

use super::{Check, Outcome};
use crate::arch::aarch64::esr::{ExceptionClass, FaultKind};
use crate::arch::aarch64::mmu::layout::phys_to_virt;
use crate::arch::aarch64::mte::{self, GRANULE};
use crate::arch::aarch64::regs::{GCR_EL1, RGSR_EL1, SCTLR_EL1_EXT};
use crate::ensure;
use crate::mm::addr::VirtAddr;
use crate::mm::frame;

pub const CHECKS: &[Check] = &[
    Check { name: "mte_control_registers_are_set", run: mte_control_registers_are_set },
    Check { name: "stg_through_linear_map_is_read_back_by_ldg", run: stg_through_linear_map_is_read_back_by_ldg },
    Check { name: "dc_gzva_clears_data_and_tags", run: dc_gzva_clears_data_and_tags },
    Check {
        name: "stz2g_clears_data_and_tags_where_dc_gzva_is_prohibited",
        run: stz2g_clears_data_and_tags_where_dc_gzva_is_prohibited,
    },
    Check { name: "tag_mismatch_in_el1_is_a_sync_tag_check_fault", run: tag_mismatch_in_el1_is_a_sync_tag_check_fault },
];

/// Runs `f` on a tagged, zeroed frame, or skips when tagging is off.
fn with_tagged_page(f: impl FnOnce(VirtAddr) -> Outcome) -> Outcome {
    if !mte::tagging_enabled() {
        return Outcome::Skip("tagging is off");
    }
    let Some(frame) = frame::alloc_zeroed(frame::Clear::DataAndTags) else {
        return Outcome::Fail("no frame".into());
    };
    let page = phys_to_virt(frame.start());
    let outcome = f(page);
    // SAFETY: as above; leave no tags behind for the next user.
    unsafe { crate::arch::aarch64::page_fill::zero_page_with_tags(page) };
    frame::put(frame);
    outcome
}

fn mte_control_registers_are_set() -> Outcome {
    if !mte::tagging_enabled() {
        return Outcome::Skip("tagging is off");
    }
    use crate::arch::aarch64::regs::{GCR_EL1 as G, RGSR_EL1 as R, SCTLR_EL1_EXT as S};
    ensure!(SCTLR_EL1_EXT.is_set(S::ATA) && SCTLR_EL1_EXT.is_set(S::ATA0), "SCTLR_EL1.ATA/ATA0 not both set");
    // EL1 checks follow kasan= (mm/kasan.rs): the heap's tags are checked,
    // every other kernel pointer has the match-all tag (TCR_EL1.TCMA1).
    let want_tcf = match crate::mm::kasan::mode() {
        crate::mm::kasan::Mode::Off => 0,
        crate::mm::kasan::Mode::Sync => 1,
        crate::mm::kasan::Mode::Async => 2,
        crate::mm::kasan::Mode::Asymm => 3,
    };
    let tcf = SCTLR_EL1_EXT.read(S::TCF);
    ensure!(tcf == want_tcf, "SCTLR_EL1.TCF {} with kasan={}", tcf, crate::mm::kasan::mode().name());
    let tcma1 = crate::arch::aarch64::regs::TCR_EL1_EXT.is_set(crate::arch::aarch64::regs::TCR_EL1_EXT::TCMA1);
    ensure!(tcma1 == (want_tcf != 0), "TCR_EL1.TCMA1 {} with kasan={}", tcma1, crate::mm::kasan::mode().name());
    ensure!(TCR_EL1.is_set(TCR_EL1::TBI0) && TCR_EL1.is_set(TCR_EL1::TBI1), "TCR_EL1.TBI0/TBI1 not both set");
    ensure!(GCR_EL1.is_set(G::RRND) && GCR_EL1.read(G::Exclude) == 1, "GCR_EL1 = {:#x}", GCR_EL1.get());
    ensure!(RGSR_EL1.read(R::SEED) != 0, "RGSR_EL1 seed is zero");
    Outcome::Pass
}

fn stg_through_linear_map_is_read_back_by_ldg() -> Outcome {
    with_tagged_page(|page| {
        for i in 0..16u8 {
            let granule = mte::with_tag(page + (i as u64 * GRANULE as u64), i);
            // SAFETY: a granule of the page we own.
            unsafe { mte::store_tag(granule) };
        }
        for i in 0..16u8 {
            // SAFETY: as above.
            let tag = unsafe { mte::load_tag(page + (i as u64 * GRANULE as u64)) };
            ensure!(tag == i, "granule {} reads tag {:#x} after STG of {:#x}", i, tag, i);
        }
        Outcome::Pass
    })
}

fn dc_gzva_clears_data_and_tags() -> Outcome {
    clears_data_and_tags(|page| {
        // SAFETY: the caller's tagged page.
        unsafe { crate::arch::aarch64::page_fill::zero_page_with_tags(page) }
    })
}

/// The DCZID_EL0.DZP fallback, called directly (QEMU never sets DZP).
fn stz2g_clears_data_and_tags_where_dc_gzva_is_prohibited() -> Outcome {
    clears_data_and_tags(|page| {
        // SAFETY: the caller's tagged page, through a tag-0 pointer.
        unsafe { crate::arch::aarch64::page_fill::zero_page_with_tags_by_stores(mte::with_tag(page, 0)) }
    })
}

/// `zero` leaves no data byte and no tag of a dirtied tagged page.
fn clears_data_and_tags(zero: impl Fn(VirtAddr)) -> Outcome {
    with_tagged_page(|page| {
        let p = page.as_mut_ptr::<u8>();
        // SAFETY: the page is ours; STG/LDG/DC GZVA on its granules.
        unsafe {
            core::ptr::write_bytes(p, 0xaa, 4096);
            mte::store_tag(mte::with_tag(page + 16, 0x5));
            mte::store_tag(mte::with_tag(page + 4080, 0x9));
            zero(page);
            let tagged = (0..4096 / GRANULE).find(|&g| mte::load_tag(page + (g * GRANULE) as u64) != 0);
            ensure!(tagged.is_none(), "granule {:?} kept a non-zero tag", tagged);
            let nonzero = (0..4096).find(|&i| p.add(i).read_volatile() != 0);
            ensure!(nonzero.is_none(), "byte {:?} survived the zeroing", nonzero);
        }
        Outcome::Pass
    })
}

fn tag_mismatch_in_el1_is_a_sync_tag_check_fault() -> Outcome {
    with_tagged_page(|page| {
        let granule = page + 256;
        // SAFETY: a granule of the page we own.
        unsafe { mte::store_tag(mte::with_tag(granule, 0x5)) };
        // SAFETY: reads of our own page; a fault is caught by the fixup table.
        let matching = unsafe { mte::probe_read_checked(mte::with_tag(granule, 0x5)) };
        ensure!(matching == Ok(0), "a read with the matching tag gave {:?}", matching);
        // SAFETY: as above.
        let mismatched = unsafe { mte::probe_read_checked(mte::with_tag(granule, 0x3)) };
        match mismatched {
            Err(esr) => {
                ensure!(esr.class() == ExceptionClass::DataAbortSameEl, "fault class {}", esr);
                ensure!(esr.abort().map(|a| a.kind) == Some(FaultKind::TagCheck), "fault {}, want DFSC 0x11", esr);
                log::info!("tag mismatch caught: {}", esr);
            }
            Ok(v) => return Outcome::Fail(alloc::format!("a read with tag 3 of a tag-5 granule returned {:#x}", v)),
        }
        Outcome::Pass
    })
}
