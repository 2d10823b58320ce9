//! Checking a static AArch64 ELF executable and planning its load.
//!
//! Accepted: 64-bit little-endian AArch64, ET_EXEC, or ET_DYN without
//! PT_INTERP (static-PIE, loaded at a fixed bias as Linux's
//! ELF_ET_DYN_BASE). Refused, with a one-line reason: anything else, a
//! truncated file, more program headers than Linux takes, segments that
//! overlap, lie outside the space below mmap's region (exec/layout.rs), or
//! whose file and memory offsets do not agree modulo the page size; a
//! program header table that no segment loads. A PT_LOAD with p_memsz 0
//! occupies nothing and is skipped, as Linux's elf_map() does. Writable and
//! executable segments, and a PT_GNU_STACK asking for an executable stack,
//! are taken as Linux takes them: such pages are mapped writable and
//! executable at once (SCTLR_EL1.WXN is off, mmu/kernel_map.rs).
//! Parsing uses the `elf` crate; the policy is here. Pure logic, tested on
//! the host, and fuzzed there (elf_fuzz.rs).

use alloc::vec::Vec;
use core::fmt;

use elf::abi;
use elf::endian::LittleEndian;
use elf::file::Class;
use elf::ElfBytes;

use crate::mm::addr::{VirtAddr, PAGE_SIZE};
use crate::mm::vma::Prot;

use super::layout::MMAP_BASE;
pub use super::layout::{MIN_USER_ADDR, PIE_BIAS, USER_END};

/// Size of one ELF64 program header (e_phentsize; the `elf` crate refuses
/// any other).
const PHDR_SIZE: u16 = 56;
/// Most program headers a file may have: Linux's binfmt_elf reads at most
/// 64 KiB of them.
const MAX_PHNUM: u16 = (65536 / PHDR_SIZE as u32) as u16;

/// One PT_LOAD segment, at its final (biased) address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: VirtAddr,
    pub mem_size: u64,
    pub file_offset: u64,
    pub file_size: u64,
    pub prot: Prot,
}

impl Segment {
    /// The page-aligned span the segment occupies.
    pub fn pages(&self) -> (VirtAddr, VirtAddr) {
        let page = PAGE_SIZE as u64;
        let start = self.vaddr.align_down(page);
        let end = VirtAddr::new((self.vaddr.as_u64() + self.mem_size).div_ceil(page) * page);
        (start, end)
    }
}

/// What the loader needs to build the process image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    pub entry: VirtAddr,
    pub segments: Vec<Segment>,
    /// Address of the program headers in the loaded image (AT_PHDR).
    pub phdr: VirtAddr,
    pub phnum: u16,
    pub phent: u16,
    /// Added to every address (0 for ET_EXEC).
    pub bias: u64,
    /// PT_GNU_STACK asks for an executable stack (PF_X).
    pub exec_stack: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    NotElf,
    Not64Bit,
    NotLittleEndian,
    WrongMachine(u16),
    WrongType(u16),
    Interpreter,
    Truncated,
    ProgramHeaderCount(u16),
    NoLoadSegments,
    SegmentOutOfRange(usize),
    Misaligned(usize),
    FileSizeExceedsMemSize(usize),
    Overlap(usize, usize),
    EntryOutsideText,
    PhdrsNotLoaded,
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotElf => write!(f, "not an ELF file"),
            Self::Not64Bit => write!(f, "not a 64-bit ELF (ELFCLASS32)"),
            Self::NotLittleEndian => write!(f, "not little-endian"),
            Self::WrongMachine(m) => write!(f, "machine {} is not AArch64 (EM_AARCH64 = 183)", m),
            Self::WrongType(t) => write!(f, "ELF type {} is neither ET_EXEC nor ET_DYN", t),
            Self::Interpreter => write!(f, "has PT_INTERP: dynamically linked programs are not supported"),
            Self::Truncated => write!(f, "truncated: headers or segment data run past the end of the file"),
            Self::ProgramHeaderCount(n) => write!(f, "e_phnum {} is not between 1 and {}", n, MAX_PHNUM),
            Self::NoLoadSegments => write!(f, "no PT_LOAD segment"),
            Self::SegmentOutOfRange(i) => {
                write!(
                    f,
                    "segment {} lies outside [{:#x}, {:#x}), where a program image may go",
                    i, MIN_USER_ADDR, MMAP_BASE
                )
            }
            Self::Misaligned(i) => write!(f, "segment {} has p_vaddr and p_offset differing modulo the page size", i),
            Self::FileSizeExceedsMemSize(i) => write!(f, "segment {} has p_filesz > p_memsz", i),
            Self::Overlap(a, b) => write!(f, "segments {} and {} overlap", a, b),
            Self::EntryOutsideText => write!(f, "entry point is not in an executable segment"),
            Self::PhdrsNotLoaded => write!(f, "the program header table (AT_PHDR) is not inside a loaded segment"),
        }
    }
}

fn prot_of(flags: u32) -> Prot {
    let mut prot = Prot::empty();
    prot.set(Prot::READ, flags & abi::PF_R != 0);
    prot.set(Prot::WRITE, flags & abi::PF_W != 0);
    prot.set(Prot::EXEC, flags & abi::PF_X != 0);
    prot
}

/// Checks `file` and returns how to load it.
pub fn plan(file: &[u8]) -> Result<LoadPlan, ElfError> {
    if file.len() < 4 || &file[..4] != b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    match file.get(abi::EI_CLASS) {
        Some(&abi::ELFCLASS64) => {}
        Some(_) => return Err(ElfError::Not64Bit),
        None => return Err(ElfError::Truncated),
    }
    if file.get(abi::EI_DATA) != Some(&abi::ELFDATA2LSB) {
        return Err(ElfError::NotLittleEndian);
    }
    let elf = ElfBytes::<LittleEndian>::minimal_parse(file).map_err(|_| ElfError::Truncated)?;
    let hdr = &elf.ehdr;
    debug_assert_eq!(hdr.class, Class::ELF64);
    if hdr.e_machine != abi::EM_AARCH64 {
        return Err(ElfError::WrongMachine(hdr.e_machine));
    }
    let bias = match hdr.e_type {
        abi::ET_EXEC => 0,
        abi::ET_DYN => PIE_BIAS,
        other => return Err(ElfError::WrongType(other)),
    };
    if hdr.e_phnum == 0 || hdr.e_phnum > MAX_PHNUM {
        return Err(ElfError::ProgramHeaderCount(hdr.e_phnum));
    }
    let phdrs = elf.segments().ok_or(ElfError::NoLoadSegments)?;

    let mut segments = Vec::new();
    let mut phdr_vaddr = None;
    let mut exec_stack = false;
    let page = PAGE_SIZE as u64;
    for (i, ph) in phdrs.iter().enumerate() {
        match ph.p_type {
            abi::PT_INTERP => return Err(ElfError::Interpreter),
            abi::PT_GNU_STACK => exec_stack = ph.p_flags & abi::PF_X != 0,
            abi::PT_PHDR => phdr_vaddr = Some(ph.p_vaddr),
            abi::PT_LOAD => {
                if ph.p_filesz > ph.p_memsz {
                    return Err(ElfError::FileSizeExceedsMemSize(i));
                }
                if ph.p_offset.checked_add(ph.p_filesz).is_none_or(|end| end > file.len() as u64) {
                    return Err(ElfError::Truncated);
                }
                if ph.p_memsz == 0 {
                    continue;
                }
                if ph.p_vaddr % page != ph.p_offset % page {
                    return Err(ElfError::Misaligned(i));
                }
                let start = ph.p_vaddr.checked_add(bias).ok_or(ElfError::SegmentOutOfRange(i))?;
                let end = start.checked_add(ph.p_memsz).ok_or(ElfError::SegmentOutOfRange(i))?;
                // Above MMAP_BASE is the stack, which the loader maps in
                // every process (the vDSO goes below, placed as mmap would).
                if start < MIN_USER_ADDR || end > MMAP_BASE {
                    return Err(ElfError::SegmentOutOfRange(i));
                }
                let prot = prot_of(ph.p_flags);
                segments.push((
                    i,
                    Segment {
                        vaddr: VirtAddr::new(start),
                        mem_size: ph.p_memsz,
                        file_offset: ph.p_offset,
                        file_size: ph.p_filesz,
                        prot,
                    },
                ));
            }
            _ => {}
        }
    }
    if segments.is_empty() {
        return Err(ElfError::NoLoadSegments);
    }
    // Segments may share no page: each page gets one set of permissions.
    segments.sort_by_key(|(_, s)| s.vaddr);
    for pair in segments.windows(2) {
        let ((a, sa), (b, sb)) = (pair[0], pair[1]);
        if sa.pages().1 > sb.pages().0 {
            return Err(ElfError::Overlap(a, b));
        }
    }
    let segments: Vec<Segment> = segments.into_iter().map(|(_, s)| s).collect();

    let entry = VirtAddr::new(hdr.e_entry.wrapping_add(bias));
    if !segments
        .iter()
        .any(|s| s.prot.contains(Prot::EXEC) && s.vaddr <= entry && entry.as_u64() < s.vaddr.as_u64() + s.mem_size)
    {
        return Err(ElfError::EntryOutsideText);
    }
    // AT_PHDR: PT_PHDR if present, else where the loaded file holds e_phoff.
    // Either way the whole table must be loaded: the C library reads it
    // there (for PT_TLS, say) before it could report a problem.
    let table_size = u64::from(hdr.e_phnum) * u64::from(hdr.e_phentsize);
    let phdr = match phdr_vaddr {
        Some(v) => v.checked_add(bias).filter(|&at| {
            let end = at.checked_add(table_size);
            segments
                .iter()
                .any(|s| s.vaddr.as_u64() <= at && end.is_some_and(|end| end <= s.vaddr.as_u64() + s.mem_size))
        }),
        None => {
            let end = hdr.e_phoff.checked_add(table_size);
            segments
                .iter()
                .find(|s| s.file_offset <= hdr.e_phoff && end.is_some_and(|end| end <= s.file_offset + s.file_size))
                .map(|s| s.vaddr.as_u64() + (hdr.e_phoff - s.file_offset))
        }
    }
    .ok_or(ElfError::PhdrsNotLoaded)?;
    Ok(LoadPlan {
        entry,
        segments,
        phdr: VirtAddr::new(phdr),
        phnum: hdr.e_phnum,
        phent: hdr.e_phentsize,
        bias,
        exec_stack,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;

    /// A minimal ELF64 image: header, program headers, then `code` at 0x1000.
    pub(crate) struct Builder {
        pub(crate) e_type: u16,
        pub(crate) machine: u16,
        pub(crate) entry: u64,
        pub(crate) phdrs: Vec<[u64; 7]>, // type|flags<<32, offset, vaddr, paddr, filesz, memsz, align
    }

    impl Builder {
        pub(crate) fn exec() -> Self {
            Self {
                e_type: abi::ET_EXEC,
                machine: abi::EM_AARCH64,
                entry: 0x40_1000,
                phdrs: std::vec![
                    [
                        abi::PT_LOAD as u64 | ((abi::PF_R | abi::PF_X) as u64) << 32,
                        0,
                        0x40_0000,
                        0,
                        0x1100,
                        0x1100,
                        0x1000
                    ],
                    [
                        abi::PT_LOAD as u64 | ((abi::PF_R | abi::PF_W) as u64) << 32,
                        0x2000,
                        0x41_2000,
                        0,
                        0x100,
                        0x3000,
                        0x1000
                    ],
                    [abi::PT_GNU_STACK as u64 | ((abi::PF_R | abi::PF_W) as u64) << 32, 0, 0, 0, 0, 0, 16],
                ],
            }
        }
        pub(crate) fn build(&self) -> Vec<u8> {
            let mut f = std::vec![0u8; 0x2100];
            f[..4].copy_from_slice(b"\x7fELF");
            f[4] = abi::ELFCLASS64;
            f[5] = abi::ELFDATA2LSB;
            f[6] = 1;
            f[16..18].copy_from_slice(&self.e_type.to_le_bytes());
            f[18..20].copy_from_slice(&self.machine.to_le_bytes());
            f[20..24].copy_from_slice(&1u32.to_le_bytes());
            f[24..32].copy_from_slice(&self.entry.to_le_bytes());
            f[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
            f[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
            f[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
            f[56..58].copy_from_slice(&(self.phdrs.len() as u16).to_le_bytes());
            f[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
            for (i, ph) in self.phdrs.iter().enumerate() {
                let at = 64 + i * 56;
                f[at..at + 8].copy_from_slice(&ph[0].to_le_bytes());
                for (j, v) in ph[1..].iter().enumerate() {
                    f[at + 8 + j * 8..at + 16 + j * 8].copy_from_slice(&v.to_le_bytes());
                }
            }
            f
        }
    }

    #[test]
    fn static_executable_is_planned_segment_by_segment() {
        let plan = plan(&Builder::exec().build()).unwrap();
        assert_eq!(plan.entry, VirtAddr::new(0x40_1000));
        assert_eq!(plan.segments.len(), 2);
        assert_eq!(plan.segments[0].prot, Prot::READ | Prot::EXEC);
        assert_eq!(plan.segments[1].prot, Prot::READ | Prot::WRITE);
        assert_eq!(plan.segments[1].pages(), (VirtAddr::new(0x41_2000), VirtAddr::new(0x41_5000)));
        assert_eq!(plan.phdr, VirtAddr::new(0x40_0040), "program headers follow the ELF header in segment 0");
        assert_eq!((plan.phnum, plan.phent, plan.bias), (3, 56, 0));
    }

    #[test]
    fn static_pie_is_loaded_at_the_bias() {
        let mut b = Builder::exec();
        b.e_type = abi::ET_DYN;
        let plan = plan(&b.build()).unwrap();
        assert_eq!(plan.entry, VirtAddr::new(PIE_BIAS + 0x40_1000));
        assert_eq!(plan.segments[0].vaddr, VirtAddr::new(PIE_BIAS + 0x40_0000));
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        let mut b = Builder::exec();
        b.machine = 62; // EM_X86_64
        assert_eq!(plan(&b.build()), Err(ElfError::WrongMachine(62)));

        let mut f = Builder::exec().build();
        f[4] = abi::ELFCLASS32;
        assert_eq!(plan(&f), Err(ElfError::Not64Bit));

        assert_eq!(plan(b"#!/bin/sh\n"), Err(ElfError::NotElf));
        assert_eq!(plan(&Builder::exec().build()[..100]), Err(ElfError::Truncated));

        let mut b = Builder::exec();
        b.phdrs.push([abi::PT_INTERP as u64, 0, 0, 0, 0, 0, 1]);
        assert_eq!(plan(&b.build()), Err(ElfError::Interpreter));

        let mut b = Builder::exec();
        b.phdrs[1][2] = 0x40_1000; // data page inside the text pages
        b.phdrs[1][1] = 0x1000;
        assert_eq!(plan(&b.build()), Err(ElfError::Overlap(0, 1)));

        let mut b = Builder::exec();
        b.phdrs[0][2] = 0xffff_8000_0000_0000;
        assert_eq!(plan(&b.build()), Err(ElfError::SegmentOutOfRange(0)));

        let mut b = Builder::exec();
        b.phdrs[1][4] = 0x4000; // filesz > memsz
        assert_eq!(plan(&b.build()), Err(ElfError::FileSizeExceedsMemSize(1)));

        let mut b = Builder::exec();
        b.entry = 0x41_2000;
        assert_eq!(plan(&b.build()), Err(ElfError::EntryOutsideText));
    }

    #[test]
    fn writable_executable_segments_and_an_executable_stack_are_taken_as_linux_takes_them() {
        let mut b = Builder::exec();
        b.phdrs[1][0] = abi::PT_LOAD as u64 | ((abi::PF_R | abi::PF_W | abi::PF_X) as u64) << 32;
        let p = plan(&b.build()).expect("an RWX segment loads");
        assert_eq!(p.segments[1].prot, Prot::READ | Prot::WRITE | Prot::EXEC);
        assert!(!p.exec_stack, "PT_GNU_STACK without PF_X");

        let mut b = Builder::exec();
        b.phdrs[2][0] = abi::PT_GNU_STACK as u64 | ((abi::PF_R | abi::PF_W | abi::PF_X) as u64) << 32;
        assert!(plan(&b.build()).expect("an executable stack is allowed").exec_stack);
    }

    /// Program header `i` of a built image, read back (type|flags, offset,
    /// vaddr, paddr, filesz, memsz, align).
    fn phdr(i: usize) -> [u64; 7] {
        Builder::exec().phdrs[i]
    }

    // The rules below were found by the fuzzer (elf_fuzz.rs): each file was
    // accepted, and the loader then failed on it with a wrong reason.

    #[test]
    fn empty_load_segment_is_skipped_not_mapped() {
        // p_memsz 0 used to become a zero-page area, which the area tree
        // refuses: the program was reported as "out of memory".
        let mut b = Builder::exec();
        b.phdrs[1][4] = 0;
        b.phdrs[1][5] = 0;
        let planned = plan(&b.build()).unwrap();
        assert_eq!(planned.segments.len(), 1, "the empty segment takes no space: {:x?}", planned.segments);
        let mut b = Builder::exec();
        b.phdrs[1][2] = USER_END; // nowhere at all, but empty
        b.phdrs[1][4] = 0;
        b.phdrs[1][5] = 0;
        assert_eq!(plan(&b.build()).unwrap().segments.len(), 1);
    }

    #[test]
    fn segments_must_end_below_the_mmap_region() {
        // Above MMAP_BASE is the stack: a segment there used to be
        // accepted and then collide with it (or the old trampoline page: "out of
        // memory"), or leave the program break above the mmap region.
        let mut b = Builder::exec();
        b.phdrs[1][5] = MMAP_BASE - phdr(1)[2] + 1; // memsz reaching one byte past
        assert_eq!(plan(&b.build()), Err(ElfError::SegmentOutOfRange(1)));
        let mut b = Builder::exec();
        b.phdrs[1][2] = super::super::layout::STACK_TOP - 0x1000; // in the stack (p_offset 0x2000: aligned)
        assert_eq!(plan(&b.build()), Err(ElfError::SegmentOutOfRange(1)));
        let mut b = Builder::exec();
        b.phdrs[1][5] = MMAP_BASE - phdr(1)[2]; // ends exactly at MMAP_BASE
        assert!(plan(&b.build()).is_ok());
    }

    #[test]
    fn program_header_table_must_lie_inside_a_loaded_segment() {
        // PT_PHDR naming an address no segment loads: AT_PHDR would send
        // the C library's startup code to unmapped memory.
        let mut b = Builder::exec();
        b.phdrs.push([abi::PT_PHDR as u64 | (abi::PF_R as u64) << 32, 64, 0x50_0040, 0, 4 * 56, 4 * 56, 8]);
        assert_eq!(plan(&b.build()), Err(ElfError::PhdrsNotLoaded));
        let mut b = Builder::exec();
        b.phdrs.push([abi::PT_PHDR as u64 | (abi::PF_R as u64) << 32, 64, 0x40_0040, 0, 4 * 56, 4 * 56, 8]);
        assert_eq!(plan(&b.build()).unwrap().phdr, VirtAddr::new(0x40_0040));
        // Without PT_PHDR: a table that starts in segment 0's file bytes but
        // runs past them.
        let mut b = Builder::exec();
        b.phdrs[0][4] = 64 + 56; // filesz: the ELF header and one program header
        assert_eq!(plan(&b.build()), Err(ElfError::PhdrsNotLoaded));
    }

    #[test]
    fn pt_phdr_near_the_top_of_the_address_space_is_refused_without_overflow() {
        // p_vaddr + the PIE bias used to be an unchecked addition.
        let mut b = Builder::exec();
        b.e_type = abi::ET_DYN;
        b.phdrs.push([abi::PT_PHDR as u64 | (abi::PF_R as u64) << 32, 64, u64::MAX - 8, 0, 4 * 56, 4 * 56, 8]);
        assert_eq!(plan(&b.build()), Err(ElfError::PhdrsNotLoaded));
    }

    #[test]
    fn program_header_count_is_limited_as_linux_does() {
        let mut f = Builder::exec().build();
        f[56..58].copy_from_slice(&0u16.to_le_bytes());
        assert_eq!(plan(&f), Err(ElfError::ProgramHeaderCount(0)));
        // PN_XNUM (count in section header 0) is more than Linux reads.
        let mut f = Builder::exec().build();
        f[56..58].copy_from_slice(&0xffffu16.to_le_bytes());
        assert!(plan(&f).is_err());
    }

    #[test]
    fn mutated_headers_never_panic() {
        let good = Builder::exec().build();
        let mut f = good.clone();
        for i in 0..(64 + 3 * 56) {
            for v in [0u8, 0xff, 0x80] {
                let old = f[i];
                f[i] = v;
                let _ = plan(&f);
                f[i] = old;
            }
        }
    }
}
