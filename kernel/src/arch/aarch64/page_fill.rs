//! Filling a new page: the inner loops of the write-fault paths.
//!
//! Each routine writes all 4096 bytes of a page the caller owns, through its
//! linear-map address. The tagged fills produce data and allocation tags in
//! the same pass with STGP (store pair and set the granule's tag from the
//! address's logical tag, FEAT_MTE), instead of a data sweep followed by a
//! tag sweep: every granule is touched once. The tagged copy moves the tags
//! a block at a time with LDGM/STGM, which touch tag storage only.
//!
//! Each routine is kept out of line (`#[inline(never)]`, a call and a return
//! per page) so that an instruction profile names the path a fault took
//! (scripts/fault-profile).

use super::mte::{self, GRANULE};
use crate::mm::addr::{VirtAddr, PAGE_SIZE};

const GRANULES: usize = PAGE_SIZE / GRANULE;

// Zeroing a page, without and with its allocation tags: the two side by
// side, as Linux's clear_page (arch/arm64/lib/clear_page.S) and
// mte_zero_clear_page_tags (arch/arm64/lib/mte.S). Both use the DC
// instruction that zeroes one DCZID_EL0 block (64 bytes on QEMU's max CPU)
// at a time, and both fall back to stores where DCZID_EL0.DZP says DC ZVA
// and DC GZVA are prohibited (a hypervisor may set it): STNP of zero pairs
// for data, STZ2G (zero data, set tags from the address) for both.

/// The DC ZVA / DC GZVA block size in bytes, or `None` when DCZID_EL0.DZP
/// prohibits them.
fn dc_zero_block() -> Option<usize> {
    use tock_registers::interfaces::Readable;

    use super::regs::{DCZID_EL0, DCZID_EL0 as D};
    (!DCZID_EL0.is_set(D::DZP)).then(|| 4usize << DCZID_EL0.read(D::BS))
}

/// Zeroes a page's data with DC ZVA, the cheapest way to produce 4096 zero
/// bytes; allocation tags are left as they were (Linux's clear_page).
///
/// # Safety
/// `page` must be the page-aligned address of a writable page the caller
/// owns, in Normal memory.
#[inline(never)]
pub unsafe fn zero_page(page: VirtAddr) {
    match dc_zero_block() {
        // SAFETY: per the function contract, `page` is the caller's page.
        Some(block) => unsafe { zero_blocks_with(page, block, false) },
        // SAFETY: as above.
        None => unsafe { zero_page_by_stores(page) },
    }
}

/// [`zero_page`] where DC ZVA is prohibited: STNP of zero pairs, 64 bytes
/// a turn (clear_page.S's fallback).
///
/// # Safety
/// As for [`zero_page`].
pub unsafe fn zero_page_by_stores(page: VirtAddr) {
    // SAFETY: PAGE_SIZE / 64 turns of four 16-byte stores cover exactly the
    // caller's page.
    unsafe {
        core::arch::asm!(
            "2:",
            "stnp xzr, xzr, [{p}]",
            "stnp xzr, xzr, [{p}, #16]",
            "stnp xzr, xzr, [{p}, #32]",
            "stnp xzr, xzr, [{p}, #48]",
            "add {p}, {p}, #64",
            "subs {n}, {n}, #1",
            "b.ne 2b",
            p = inout(reg) page.as_u64() => _,
            n = inout(reg) PAGE_SIZE / 64 => _,
            options(nostack),
        )
    }
}

/// Zeroes a page's data and allocation tags in one pass (DC GZVA), as
/// Linux does for new pages of a PROT_MTE area (mte_zero_clear_page_tags).
///
/// # Safety
/// `page` must be the page-aligned address of a mapped, writable, Tagged
/// page the caller owns.
#[inline(never)] // named in profiles, as the other routines here
pub unsafe fn zero_page_with_tags(page: VirtAddr) {
    // DC GZVA (and STZ2G) set the allocation tags to the *address's*
    // logical tag, so the address must carry tag 0: a plain kernel pointer
    // has 0xF in bits [59:56] and would leave every granule tagged 0xF
    // (mte_zero_clear_page_tags masks the tag for the same reason).
    let page = mte::with_tag(page, 0);
    match dc_zero_block() {
        // SAFETY: per the function contract; the page is Tagged.
        Some(block) => unsafe { zero_blocks_with(page, block, true) },
        // SAFETY: as above.
        None => unsafe { zero_page_with_tags_by_stores(page) },
    }
    // SAFETY: a barrier has no memory-safety effect.
    unsafe { core::arch::asm!("dsb ish", options(nostack)) };
}

/// [`zero_page_with_tags`] where DC GZVA is prohibited: STZ2G, two
/// granules' data and tags a store (mte.S's fallback). `page` carries
/// tag 0 already.
///
/// # Safety
/// As for [`zero_page_with_tags`].
pub unsafe fn zero_page_with_tags_by_stores(page: VirtAddr) {
    // SAFETY: per the function contract: the caller's whole page, Tagged.
    unsafe { mte::set_tags(page, PAGE_SIZE, true) }
}

/// The DC ZVA (or, with `gzva`, DC GZVA) loop over one page: eight blocks
/// per turn where eight fit in a page (blocks of up to 512 bytes; 64 on
/// QEMU's max CPU), one otherwise. DC ZVA has no post-increment form, so
/// each block costs the instruction and an ADD; eight per turn keep the
/// loop test to a quarter instruction a block (144 instructions a page
/// with 64-byte blocks, where two per turn took 192).
///
/// # Safety
/// `page` must be the page-aligned address of a writable page the caller
/// owns, in Normal memory (Tagged for DC GZVA); `block` the DCZID_EL0 size.
pub(super) unsafe fn zero_blocks_with(page: VirtAddr, block: usize, gzva: bool) {
    macro_rules! zero_loop {
        ($op:literal, $per_turn:literal) => {
            // SAFETY: PAGE_SIZE / ($per_turn * block) turns of $per_turn
            // blocks cover exactly the caller's page.
            unsafe {
                core::arch::asm!(
                    ".arch_extension memtag",
                    "2:",
                    concat!(".rept ", $per_turn),
                    concat!("dc ", $op, ", {p}"),
                    "add {p}, {p}, {b}",
                    ".endr",
                    "subs {n}, {n}, #1",
                    "b.ne 2b",
                    p = inout(reg) page.as_u64() => _,
                    b = in(reg) block,
                    n = inout(reg) PAGE_SIZE / ($per_turn * block) => _,
                    options(nostack),
                )
            }
        };
    }
    match (gzva, PAGE_SIZE / block >= 8) {
        (false, true) => zero_loop!("zva", 8),
        (false, false) => zero_loop!("zva", 1),
        (true, true) => zero_loop!("gzva", 8),
        (true, false) => zero_loop!("gzva", 1),
    }
}

/// The 16-byte pattern store loop over one page, with `$store` (STP, or
/// STGP to set each granule's tag from the address in the same store).
/// Sixteen stores per turn, so the loop test costs an eighth of a store per
/// granule (four per turn made it 384 instructions a page, now 288).
macro_rules! fill_loop {
    ($store:literal, $page:expr, $pattern:expr) => {
        // SAFETY: 16 iterations of sixteen 16-byte stores cover exactly the
        // page, which the caller owns.
        unsafe {
            core::arch::asm!(
                ".arch_extension memtag",
                "2:",
                ".rept 16",
                concat!($store, " {lo}, {hi}, [{p}], #16"),
                ".endr",
                "subs {n}, {n}, #1",
                "b.ne 2b",
                p = inout(reg) $page => _,
                n = inout(reg) GRANULES / 16 => _,
                lo = in(reg) $pattern[0],
                hi = in(reg) $pattern[1],
                options(nostack),
            );
        }
    };
}

/// Writes the 16-byte `pattern` to every granule with 16-byte stores (STP):
/// the "memset" path for reference pages of size 16 or less.
///
/// # Safety
/// `page` must be the page-aligned address of a writable page the caller owns.
#[inline(never)]
pub unsafe fn fill_pattern16(page: VirtAddr, pattern: [u64; 2]) {
    fill_loop!("stp", page.as_u64(), pattern);
}

/// As [`fill_pattern16`], and sets every granule's allocation tag to `tag`
/// in the same store (STGP).
///
/// # Safety
/// As for [`fill_pattern16`]; the page must be Tagged memory and tagging on.
#[inline(never)]
pub unsafe fn fill_pattern16_tagged(page: VirtAddr, pattern: [u64; 2], tag: u8) {
    fill_loop!("stgp", mte::with_tag(page, tag).as_u64(), pattern);
}

/// Copies a page's data, 64 bytes per iteration (LDP/STP).
///
/// # Safety
/// `dst` must be a page-aligned writable page the caller owns, `src` 4096
/// readable bytes of Normal memory (any alignment: the loader copies file
/// data from the initramfs), not overlapping.
#[inline(never)]
pub unsafe fn copy_page(dst: VirtAddr, src: VirtAddr) {
    // SAFETY: 64 iterations of 64 bytes cover exactly one page each side.
    unsafe {
        core::arch::asm!(
            "2: ldp {a}, {b}, [{s}], #16",
            "ldp {c}, {d}, [{s}], #16",
            "stp {a}, {b}, [{t}], #16",
            "stp {c}, {d}, [{t}], #16",
            "ldp {a}, {b}, [{s}], #16",
            "ldp {c}, {d}, [{s}], #16",
            "stp {a}, {b}, [{t}], #16",
            "stp {c}, {d}, [{t}], #16",
            "subs {n}, {n}, #1",
            "b.ne 2b",
            s = inout(reg) src.as_u64() => _,
            t = inout(reg) dst.as_u64() => _,
            n = inout(reg) PAGE_SIZE / 64 => _,
            a = out(reg) _, b = out(reg) _, c = out(reg) _, d = out(reg) _,
            options(nostack),
        );
    }
}

/// Copies a page's data and allocation tags: the tags a GMID_EL1 block at
/// a time (LDGM reads the tags of one block of the source into a register,
/// STGM writes them to the same block of the destination; 256 bytes per
/// block on QEMU's max CPU, so 16 of each per page), then the data as
/// [`copy_page`] does. About 740 instructions, where LDG + LDP + STGP per
/// granule took 1,536: the tag pass touches tag storage only, one
/// register of tags per block, and no data.
///
/// # Safety
/// As for [`copy_page`]; both pages Tagged memory and tagging on (LDGM and
/// STGM exist from FEAT_MTE2, and are EL1-only).
#[inline(never)]
pub unsafe fn copy_page_with_tags(dst: VirtAddr, src: VirtAddr) {
    let block = mte::tag_block_bytes();
    // SAFETY: PAGE_SIZE / block turns of one block cover exactly one page
    // each side; both pages are page-aligned, so each block of one lines up
    // with a block of the other and its tags sit at the same bit positions
    // of the register (Arm ARM (DDI 0487K.a), LDGM: it writes the tag of address A to bits
    // [4 * A<7:4> + 3 : 4 * A<7:4>]).
    unsafe {
        core::arch::asm!(
            ".arch_extension memtag",
            "2: ldgm {g}, [{s}]",
            "stgm {g}, [{t}]",
            "add {s}, {s}, {b}",
            "add {t}, {t}, {b}",
            "subs {n}, {n}, #1",
            "b.ne 2b",
            s = inout(reg) src.as_u64() => _,
            t = inout(reg) dst.as_u64() => _,
            b = in(reg) block,
            n = inout(reg) PAGE_SIZE / block => _,
            g = out(reg) _,
            options(nostack),
        );
        copy_page(dst, src);
    }
}

/// Sets every granule's tag to 0 without touching the data (STG), for pages
/// that become tagged after they were written (mprotect adding PROT_MTE).
/// Ends with a DMB ISHST: the caller then writes the Normal-Tagged entry
/// in place (mprotect, a fault's `refresh`), with no TLBI before it, and a
/// thread at EL0 on another CPU may walk to that entry at once; its tag
/// checks must find these tags, not the stale ones (Linux's mte_sync_tags:
/// "ensure the tags are visible before the PTE is set", smp_wmb).
///
/// # Safety
/// `page` must be a Tagged page the caller owns; tagging on.
pub unsafe fn clear_tags(page: VirtAddr) {
    let base = mte::with_tag(page, 0);
    // SAFETY: 256 STGs of one granule cover exactly the caller's page.
    unsafe {
        core::arch::asm!(
            ".arch_extension memtag",
            "2: stg {p}, [{p}], #16",
            "subs {n}, {n}, #1",
            "b.ne 2b",
            "dmb ishst",
            p = inout(reg) base.as_u64() => _,
            n = inout(reg) GRANULES => _,
            options(nostack),
        );
    }
}

/// Writes one granule's data and tag (STGP), for building reference pages.
///
/// # Safety
/// `granule` must be a granule-aligned address in a Tagged page the caller
/// owns; tagging on.
pub unsafe fn store_granule_tagged(granule: VirtAddr, data: [u64; 2], tag: u8) {
    let p = mte::with_tag(granule, tag);
    // SAFETY: one 16-byte store inside the caller's page.
    unsafe {
        core::arch::asm!(".arch_extension memtag", "stgp {0}, {1}, [{2}]", in(reg) data[0], in(reg) data[1], in(reg) p.as_u64(),
            options(nostack));
    }
}
