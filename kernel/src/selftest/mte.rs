//! Tags reach tag storage through the linear map, and a mismatch is caught.

use aarch64_cpu::registers::TCR_EL1;
use tock_registers::interfaces::Readable;

use super::{Check, Outcome};
use crate::arch::aarch64::esr::{ExceptionClass, FaultKind};
use crate::arch::aarch64::mte::{self, GRANULE};
use crate::arch::aarch64::regs::{GCR_EL1, RGSR_EL1, SCTLR_EL1_EXT};
use crate::ensure;
use crate::mm::frame;
use crate::mm::kernel_page::{KernelPage, PageTags, GRANULES};

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
fn with_tagged_page(f: impl FnOnce(&mut KernelPage) -> Outcome) -> Outcome {
    if !mte::tagging_enabled() {
        return Outcome::Skip("tagging is off");
    }
    let Some(mut page) = KernelPage::alloc_zeroed(frame::Clear::DataAndTags) else {
        return Outcome::Fail("no frame".into());
    };
    let outcome = f(&mut page);
    // Leave no tags behind for the next user.
    if let Some(mut tags) = page.tags() {
        tags.zero_with_tags();
    }
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
        let Some(mut tags) = page.tags() else { return Outcome::Skip("tagging is off") };
        for i in 0..16u8 {
            tags.store(i as usize, i);
        }
        for i in 0..16u8 {
            let tag = tags.load(i as usize);
            ensure!(tag == i, "granule {} reads tag {:#x} after STG of {:#x}", i, tag, i);
        }
        Outcome::Pass
    })
}

fn dc_gzva_clears_data_and_tags() -> Outcome {
    clears_data_and_tags(|tags| tags.zero_with_tags())
}

/// The DCZID_EL0.DZP fallback, called directly (QEMU never sets DZP).
fn stz2g_clears_data_and_tags_where_dc_gzva_is_prohibited() -> Outcome {
    clears_data_and_tags(|tags| tags.zero_with_tags_by_stores())
}

/// `zero` leaves no data byte and no tag of a dirtied tagged page.
fn clears_data_and_tags(zero: impl Fn(&mut PageTags<'_>)) -> Outcome {
    with_tagged_page(|page| {
        page.bytes_mut().fill(0xaa);
        let Some(mut tags) = page.tags() else { return Outcome::Skip("tagging is off") };
        tags.store(16 / GRANULE, 0x5);
        tags.store(4080 / GRANULE, 0x9);
        zero(&mut tags);
        let tagged = (0..GRANULES).find(|&g| tags.load(g) != 0);
        ensure!(tagged.is_none(), "granule {:?} kept a non-zero tag", tagged);
        let nonzero = page.bytes().iter().position(|&b| b != 0);
        ensure!(nonzero.is_none(), "byte {:?} survived the zeroing", nonzero);
        Outcome::Pass
    })
}

fn tag_mismatch_in_el1_is_a_sync_tag_check_fault() -> Outcome {
    with_tagged_page(|page| {
        let Some(mut tags) = page.tags() else { return Outcome::Skip("tagging is off") };
        let offset = 256;
        tags.store(offset / GRANULE, 0x5);
        // A fault is caught by the fixup table.
        let matching = tags.read_checked(offset, 0x5);
        ensure!(matching == Ok(0), "a read with the matching tag gave {:?}", matching);
        let mismatched = tags.read_checked(offset, 0x3);
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
