//! Fuzzing the ELF loader's checks ([`elf::plan`]) with mutated images.
//!
//! Seeds: two hand-built images (elf.rs's test builder: ET_EXEC, and
//! ET_DYN with PT_PHDR), two files from a real linker
//! (tests/fixtures/minimal-static*.elf: ET_EXEC and a static-PIE), and the
//! must-accept files Linux 6.1 loads that this loader once refused: a
//! .bss-only segment whose p_offset lies past the end of the file (nolibc's
//! layout), a section header table that cannot be read, and a segment whose
//! file part ends at the last byte of the file. Every seed must be accepted.
//! Mutations (crate::fuzz): bit flips, bytes and 2/4/8-byte fields set to
//! edge values (0, 0x7f.., 0xff.., the file length and just
//! past it, 1 << 48), truncation, splicing, inserted and removed runs, half
//! of them inside the ELF and program headers; and, for a quarter of the
//! cases, one program-header field set to an edge value directly, so that
//! huge p_filesz/p_memsz, offsets past the end, overlapping and overflowing
//! segments and e_phnum/e_phentsize edge values are reached every run.
//!
//! The properties: `plan` never panics (host tests are debug builds, so an
//! arithmetic overflow panics too); a refusal is a one-line reason; an
//! accepted file satisfies every invariant the process loader relies on.

extern crate std;

use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use ::elf::abi;

use super::elf::{self, LoadPlan};
use super::layout::{MIN_USER_ADDR, MMAP_BASE};
use crate::fuzz::{mutate, Campaign, XorShift};
use crate::mm::addr::PAGE_SIZE;
use crate::mm::vma::Prot;

const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;

/// A static-PIE with PT_PHDR (the linker's PIE below has none).
fn pie_with_pt_phdr() -> Vec<u8> {
    let mut b = elf::tests::Builder::exec();
    b.e_type = abi::ET_DYN;
    b.phdrs.push([abi::PT_PHDR as u64 | (abi::PF_R as u64) << 32, 64, 0x40_0040, 0, 4 * 56, 4 * 56, 8]);
    b.build()
}

/// The linker's static executable cut to end where its last segment's file
/// bytes end.
fn cut_at_last_file_byte() -> Vec<u8> {
    let mut f = include_bytes!("../../../tests/fixtures/minimal-static.elf").to_vec();
    let plan = elf::plan(&f).expect("the fixture loads");
    let end = plan.segments.iter().map(|s| s.file_offset + s.file_size).max().expect("segments");
    f.truncate(end as usize);
    f
}

fn seeds() -> [Vec<u8>; 7] {
    [
        elf::tests::Builder::exec().build(),
        pie_with_pt_phdr(),
        include_bytes!("../../../tests/fixtures/minimal-static.elf").to_vec(),
        include_bytes!("../../../tests/fixtures/minimal-static-pie.elf").to_vec(),
        elf::tests::bss_only_segment_past_the_end(),
        elf::tests::with_corrupt_section_headers(include_bytes!("../../../tests/fixtures/minimal-static.elf").to_vec()),
        cut_at_last_file_byte(),
    ]
}

/// Sets one field of one program header (or of the ELF header's program
/// header fields) to an edge value: the structured half of the mutations.
fn poke_header_field(rng: &mut XorShift, file: &mut [u8]) {
    let len = file.len() as u64;
    let values = [
        0,
        1,
        0xfff,
        0x1000,
        len,
        len + 1,
        len - 1,
        1 << 47,
        1 << 48,
        MMAP_BASE,
        u64::MAX,
        u64::MAX - 0xfff,
        i64::MAX as u64,
        rng.next(),
    ];
    let value = values[rng.below(values.len())];
    let (at, width) = if rng.chance(4) {
        // e_entry, e_phoff, e_phentsize, e_phnum
        [(24, 8), (32, 8), (54, 2), (56, 2)][rng.below(4)]
    } else {
        let phoff = u64::from_le_bytes(file[32..40].try_into().expect("8 bytes")) as usize;
        let phnum = u16::from_le_bytes([file[56], file[57]]) as usize;
        // p_type|p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align
        let field = rng.below(7);
        let at = phoff.saturating_add(rng.below(phnum.max(1)) * PHDR_SIZE + field * 8);
        (at, if field == 0 { 4 << rng.below(2) } else { 8 })
    };
    if let Some(bytes) = file.get_mut(at..at.saturating_add(width)) {
        bytes.copy_from_slice(&value.to_le_bytes()[..width]);
    }
}

/// Everything process/loader.rs assumes of a plan it is given.
fn check_invariants(file: &[u8], plan: &LoadPlan) -> Result<(), String> {
    let page = PAGE_SIZE as u64;
    if plan.segments.is_empty() {
        return Err("no segments".into());
    }
    for (i, s) in plan.segments.iter().enumerate() {
        let start = s.vaddr.as_u64();
        let end = start.checked_add(s.mem_size).ok_or(format!("segment {} end overflows", i))?;
        if start < MIN_USER_ADDR || end > MMAP_BASE {
            return Err(format!("segment {} [{:#x}, {:#x}) is outside [MIN_USER_ADDR, MMAP_BASE)", i, start, end));
        }
        if s.mem_size == 0 {
            return Err(format!("segment {} is empty (its area would be refused as if out of memory)", i));
        }
        if s.file_size > s.mem_size {
            return Err(format!("segment {} file size {:#x} > memory size {:#x}", i, s.file_size, s.mem_size));
        }
        if s.file_offset.checked_add(s.file_size).is_none() {
            return Err(format!("segment {} file range overflows", i));
        }
        let l = s.layout(file.len() as u64);
        let (first, last) = s.pages();
        let cuts = [first, l.copied.0, l.copied.1, l.past_end_of_file.0, l.past_end_of_file.1, l.anonymous.0];
        if cuts[0] != cuts[1]
            || l.copied.1 != l.past_end_of_file.0
            || l.past_end_of_file.1 != l.anonymous.0
            || l.anonymous.1 != last
            || l.copied.0 > l.copied.1
            || l.past_end_of_file.0 > l.past_end_of_file.1
            || l.anonymous.0 > l.anonymous.1
            || cuts.iter().any(|c| !c.is_aligned(page))
        {
            return Err(format!(
                "segment {} layout {:?} does not cover [{:#x}, {:#x}) in order",
                i,
                l,
                first.as_u64(),
                last.as_u64()
            ));
        }
        if s.file_size > 0 && s.file_offset % page != start % page {
            return Err(format!("segment {} file offset and address differ modulo the page size", i));
        }
    }
    let inside = |a: u64, len: u64, exec: bool| {
        plan.segments.iter().any(|s| {
            (!exec || s.prot.contains(Prot::EXEC))
                && s.vaddr.as_u64() <= a
                && a.checked_add(len).is_some_and(|e| e <= s.vaddr.as_u64() + s.mem_size)
        })
    };
    if !inside(plan.entry.as_u64(), 1, true) {
        return Err(format!("entry {:#x} is not in an executable segment", plan.entry.as_u64()));
    }
    if plan.phent as usize != PHDR_SIZE || plan.phnum == 0 {
        return Err(format!(
            "AT_PHENT {} / AT_PHNUM {} do not describe a program header table",
            plan.phent, plan.phnum
        ));
    }
    if !inside(plan.phdr.as_u64(), plan.phnum as u64 * plan.phent as u64, false) {
        return Err(format!(
            "AT_PHDR {:#x} ({} headers) is not inside one loaded segment",
            plan.phdr.as_u64(),
            plan.phnum
        ));
    }
    Ok(())
}

/// Checks the properties; returns the outcome's kind for the tally.
fn check(file: &[u8]) -> String {
    match elf::plan(file) {
        Ok(plan) => {
            if let Err(broken) = check_invariants(file, &plan) {
                panic!("accepted a file that breaks an invariant: {}; plan {:x?}", broken, plan);
            }
            "accepted".into()
        }
        Err(e) => {
            let reason = e.to_string();
            assert!(
                !reason.is_empty() && !reason.contains('\n'),
                "refusal {:?} is not a one-line reason: {:?}",
                e,
                reason
            );
            let kind = format!("{:?}", e);
            kind.split('(').next().unwrap_or_default().into()
        }
    }
}

#[test]
fn seeds_are_accepted_and_satisfy_the_invariants() {
    for (i, seed) in seeds().iter().enumerate() {
        let plan = elf::plan(seed).unwrap_or_else(|e| panic!("seed {} refused: {}", i, e));
        check_invariants(seed, &plan).unwrap_or_else(|broken| panic!("seed {}: {}", i, broken));
    }
}

#[test]
fn fuzz_elf_mutated_images_are_planned_safely_or_refused_with_a_reason() {
    let seeds = seeds();
    Campaign::from_env("fuzz_elf").run(|rng, input| {
        let seed = &seeds[rng.below(seeds.len())];
        input.clone_from(seed);
        let phnum = u16::from_le_bytes([seed[56], seed[57]]) as usize;
        let hot = 0..EHDR_SIZE + phnum * PHDR_SIZE;
        let rounds = 1 + rng.below(3);
        for _ in 0..rounds {
            if rng.chance(4) && input.len() >= EHDR_SIZE {
                poke_header_field(rng, input);
            } else {
                let donor = &seeds[rng.below(seeds.len())];
                mutate(rng, input, hot.clone(), donor);
            }
        }
        check(input)
    });
}
