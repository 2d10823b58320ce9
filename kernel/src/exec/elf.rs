//! Checking a static AArch64 ELF executable and planning its load.
//!
//! Accepted: 64-bit little-endian AArch64, ET_EXEC, or ET_DYN without
//! PT_INTERP (static-PIE, loaded at a fixed bias as Linux's
//! ELF_ET_DYN_BASE). Refused, with a one-line reason: anything else, a file
//! too short for its headers, more program headers than Linux takes,
//! segments that lie outside the space below mmap's region
//! (exec/layout.rs), or whose file and memory offsets do not agree modulo
//! the page size; a program header table that no segment loads. A PT_LOAD
//! with p_memsz 0 occupies nothing and is skipped, as Linux's elf_map()
//! does. Writable and executable segments, and a PT_GNU_STACK asking for an
//! executable stack, are taken as Linux takes them: such pages are mapped
//! writable and executable at once (SCTLR_EL1.WXN is off, mmu/kernel_map.rs).
//! Like Linux's binfmt_elf, only the ELF header and the program headers are
//! read (the section header table may be absent or corrupt), and a segment
//! without file bytes (p_filesz 0) may name any p_offset. File bytes may run
//! past the end of the file, as Linux maps them (a file mapping past EOF):
//! the loader zero-fills the last file page after the end of the file and
//! maps the pages wholly past it so that touching one raises SIGBUS
//! (BUS_ADRERR). Segments are kept in program header order, and a later one
//! replaces the pages of an earlier one it overlaps, as load_elf_binary()'s
//! MAP_FIXED maps it over them. Pure logic, tested on the host, and fuzzed
//! there (elf_fuzz.rs).

use alloc::vec::Vec;
use core::fmt;

use elf::abi;

use crate::mm::addr::{VirtAddr, PAGE_SIZE};
use crate::mm::vma::Prot;

use super::layout::MMAP_BASE;
pub use super::layout::{MIN_USER_ADDR, PIE_BIAS, USER_END};

/// Size of one ELF64 program header (e_phentsize; Linux's load_elf_phdrs()
/// refuses any other).
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

    /// How the segment's pages divide in a file of `file_len` bytes, as
    /// Linux's elf_load() maps them: see [`PageLayout`].
    pub fn layout(&self, file_len: u64) -> PageLayout {
        let page = PAGE_SIZE as u64;
        let (start, end) = self.pages();
        let file_end = if self.file_size == 0 {
            start
        } else {
            VirtAddr::new((self.vaddr.as_u64() + self.file_size).div_ceil(page) * page)
        };
        // Page `start` holds the file from `file_offset` rounded down to a
        // page (plan() keeps them congruent when there are file bytes).
        let first_byte = self.file_offset.saturating_sub(self.vaddr - start);
        let in_file = file_len.saturating_sub(first_byte).div_ceil(page) * page;
        let past_end = VirtAddr::new(start.as_u64().saturating_add(in_file)).min(file_end);
        PageLayout { copied: (start, past_end), past_end_of_file: (past_end, file_end), anonymous: (file_end, end) }
    }
}

/// A segment's pages, in order, covering [`Segment::pages`] (any part may
/// be empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLayout {
    /// Pages holding file bytes: a private copy of the file's pages, zeros
    /// after the segment's file bytes and after the end of the file.
    pub copied: (VirtAddr, VirtAddr),
    /// Pages of the file part wholly past the end of the file: touching
    /// one raises SIGBUS (filemap_fault's VM_FAULT_SIGBUS).
    pub past_end_of_file: (VirtAddr, VirtAddr),
    /// The rest (.bss): anonymous, zero-filled (Linux's vm_brk_flags).
    pub anonymous: (VirtAddr, VirtAddr),
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
    /// PT_INTERP names a program interpreter: its path (NUL included) is
    /// the `len` bytes at `offset` in the file (`interpreter_path`).
    Interpreter {
        offset: usize,
        len: usize,
    },
    /// PT_INTERP's path is not 2 to PATH_MAX bytes ending in NUL.
    BadInterpreterPath,
    Truncated,
    ProgramHeaderCount(u16),
    ProgramHeaderSize(u16),
    NoLoadSegments,
    SegmentOutOfRange(usize),
    Misaligned(usize),
    FileSizeExceedsMemSize(usize),
    FileRangeOverflows(usize),
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
            Self::Interpreter { .. } => write!(f, "has PT_INTERP: dynamically linked programs are not supported"),
            Self::BadInterpreterPath => write!(f, "PT_INTERP's path is not 2 to 4096 bytes ending in NUL"),
            Self::Truncated => {
                write!(f, "truncated: the ELF header or the program headers run past the end of the file")
            }
            Self::ProgramHeaderCount(n) => write!(f, "e_phnum {} is not between 1 and {}", n, MAX_PHNUM),
            Self::ProgramHeaderSize(n) => write!(f, "e_phentsize {} is not {}", n, PHDR_SIZE),
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
            Self::FileRangeOverflows(i) => write!(f, "segment {} has p_offset + p_filesz past 2^64", i),
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

/// The fields of the ELF64 header the loader uses (System V gABI offsets).
struct Header {
    e_type: u16,
    e_machine: u16,
    e_entry: u64,
    e_phoff: u64,
    e_phentsize: u16,
    e_phnum: u16,
}

/// The fields of one ELF64 program header.
struct ProgramHeader {
    p_type: u32,
    p_flags: u32,
    p_offset: u64,
    p_vaddr: u64,
    p_filesz: u64,
    p_memsz: u64,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

impl Header {
    /// Size of the ELF64 header.
    const SIZE: usize = 64;

    fn read(file: &[u8]) -> Result<Self, ElfError> {
        let b = file.get(..Self::SIZE).ok_or(ElfError::Truncated)?;
        Ok(Self {
            e_type: u16_at(b, 16),
            e_machine: u16_at(b, 18),
            e_entry: u64_at(b, 24),
            e_phoff: u64_at(b, 32),
            e_phentsize: u16_at(b, 54),
            e_phnum: u16_at(b, 56),
        })
    }
}

impl ProgramHeader {
    fn read(b: &[u8]) -> Self {
        Self {
            p_type: u32_at(b, 0),
            p_flags: u32_at(b, 4),
            p_offset: u64_at(b, 8),
            p_vaddr: u64_at(b, 16),
            p_filesz: u64_at(b, 32),
            p_memsz: u64_at(b, 40),
        }
    }
}

/// The program header table: e_phnum entries of e_phentsize bytes at
/// e_phoff, all inside the file, as Linux's load_elf_phdrs() reads them
/// (a short read is -EIO there).
fn program_headers<'a>(file: &'a [u8], hdr: &Header) -> Result<impl Iterator<Item = ProgramHeader> + 'a, ElfError> {
    if hdr.e_phentsize != PHDR_SIZE {
        return Err(ElfError::ProgramHeaderSize(hdr.e_phentsize));
    }
    if hdr.e_phnum == 0 || hdr.e_phnum > MAX_PHNUM {
        return Err(ElfError::ProgramHeaderCount(hdr.e_phnum));
    }
    let size = usize::from(hdr.e_phnum) * usize::from(PHDR_SIZE);
    let start = usize::try_from(hdr.e_phoff).map_err(|_| ElfError::Truncated)?;
    let table = start.checked_add(size).and_then(|end| file.get(start..end)).ok_or(ElfError::Truncated)?;
    Ok(table.chunks_exact(usize::from(PHDR_SIZE)).map(ProgramHeader::read))
}

/// Linux's PATH_MAX: the longest interpreter path load_elf_binary reads.
const PATH_MAX: u64 = 4096;

/// What PT_INTERP `ph` makes of loading `file` (Linux's load_elf_binary):
/// a path of 2 to PATH_MAX bytes ending in NUL, read from the file, that
/// exec would open (`Interpreter`: this kernel loads no interpreter, so
/// the caller answers ENOENT if there is no such file, as open_exec does,
/// and ENOEXEC otherwise); ENOEXEC for a malformed one.
fn interpreter(file: &[u8], ph: &ProgramHeader) -> ElfError {
    if ph.p_filesz < 2 || ph.p_filesz > PATH_MAX {
        return ElfError::BadInterpreterPath;
    }
    let (Ok(offset), len) = (usize::try_from(ph.p_offset), ph.p_filesz as usize) else {
        return ElfError::Truncated;
    };
    match offset.checked_add(len).and_then(|end| file.get(offset..end)) {
        None => ElfError::Truncated,
        Some(path) if path[len - 1] != 0 => ElfError::BadInterpreterPath,
        Some(_) => ElfError::Interpreter { offset, len },
    }
}

/// The path an `ElfError::Interpreter` names, without its NUL; None if it
/// is not UTF-8 (no file of the initramfs has such a name).
pub fn interpreter_path(file: &[u8], offset: usize, len: usize) -> Option<&str> {
    core::str::from_utf8(file.get(offset..offset + len - 1)?).ok()
}

/// Checks `file` and returns how to load it.
///
/// Only the ELF header and the program headers are read, as Linux's
/// load_elf_binary() reads them: the section header table is never looked
/// at (stripped, absent or corrupt, the program loads all the same).
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
    let hdr = Header::read(file)?;
    if hdr.e_machine != abi::EM_AARCH64 {
        return Err(ElfError::WrongMachine(hdr.e_machine));
    }
    let bias = match hdr.e_type {
        abi::ET_EXEC => 0,
        abi::ET_DYN => PIE_BIAS,
        other => return Err(ElfError::WrongType(other)),
    };
    let phdrs = program_headers(file, &hdr)?;

    let mut segments = Vec::new();
    let mut phdr_vaddr = None;
    let mut exec_stack = false;
    let page = PAGE_SIZE as u64;
    for (i, ph) in phdrs.enumerate() {
        match ph.p_type {
            abi::PT_INTERP => return Err(interpreter(file, &ph)),
            abi::PT_GNU_STACK => exec_stack = ph.p_flags & abi::PF_X != 0,
            abi::PT_PHDR => phdr_vaddr = Some(ph.p_vaddr),
            abi::PT_LOAD => {
                if ph.p_filesz > ph.p_memsz {
                    return Err(ElfError::FileSizeExceedsMemSize(i));
                }
                // A segment without file bytes (p_filesz 0: .bss only) maps
                // no part of the file, so its p_offset may be anything, even
                // past the end of the file (nolibc's static programs have
                // one): Linux's elf_load() maps only anonymous memory for it.
                // File bytes may run past the end of the file (the loader
                // maps those pages to raise SIGBUS), but not past 2^64:
                // Linux's vm_mmap refuses that offset (EOVERFLOW).
                if ph.p_filesz > 0 {
                    if ph.p_offset.checked_add(ph.p_filesz).is_none() {
                        return Err(ElfError::FileRangeOverflows(i));
                    }
                    if ph.p_vaddr % page != ph.p_offset % page {
                        return Err(ElfError::Misaligned(i));
                    }
                }
                if ph.p_memsz == 0 {
                    continue;
                }
                let start = ph.p_vaddr.checked_add(bias).ok_or(ElfError::SegmentOutOfRange(i))?;
                let end = start.checked_add(ph.p_memsz).ok_or(ElfError::SegmentOutOfRange(i))?;
                // Above MMAP_BASE are the stack and, above it, the vDSO,
                // which the loader maps in every process (exec/layout.rs).
                if start < MIN_USER_ADDR || end > MMAP_BASE {
                    return Err(ElfError::SegmentOutOfRange(i));
                }
                let prot = prot_of(ph.p_flags);
                segments.push(Segment {
                    vaddr: VirtAddr::new(start),
                    mem_size: ph.p_memsz,
                    // Unused when there are no file bytes: 0 then, so
                    // that no offset past the end of the file is kept.
                    file_offset: if ph.p_filesz > 0 { ph.p_offset } else { 0 },
                    file_size: ph.p_filesz,
                    prot,
                });
            }
            _ => {}
        }
    }
    if segments.is_empty() {
        return Err(ElfError::NoLoadSegments);
    }
    // In program header order: where segments share pages, the later one's
    // mapping replaces the earlier one's (Linux maps each with MAP_FIXED).
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
        assert_eq!(plan(&b.build()), Err(ElfError::BadInterpreterPath), "p_filesz 0");

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

    // Files Linux 6.1's load_elf_binary() loads, which this loader refused
    // while it parsed with the `elf` crate (kselftest arm64/abi/tpidr2,
    // built with nolibc `-nostdlib -static -s`, is all three at once).

    /// The layout of that tpidr2 binary: text from offset 0, then a .bss-only
    /// segment whose p_offset (0xffe8) lies past the end of the 3,680-byte
    /// file, and the section header table as the last bytes of the file.
    pub(crate) fn bss_only_segment_past_the_end() -> Vec<u8> {
        let mut b = Builder::exec();
        b.phdrs[1] =
            [abi::PT_LOAD as u64 | ((abi::PF_R | abi::PF_W) as u64) << 32, 0xffe8, 0x41_ffe8, 0, 0, 0x18, 0x10000];
        b.build()
    }

    #[test]
    fn segment_without_file_bytes_may_name_an_offset_past_the_end_of_the_file() {
        let f = bss_only_segment_past_the_end();
        assert!(f.len() < 0xffe8);
        let p = plan(&f).expect("Linux maps only anonymous memory for a segment with p_filesz 0");
        assert_eq!(p.segments.len(), 2);
        assert_eq!((p.segments[1].vaddr, p.segments[1].mem_size), (VirtAddr::new(0x41_ffe8), 0x18));
        assert_eq!(p.segments[1].file_size, 0);
        // Nor need its p_offset agree with p_vaddr modulo the page size:
        // no file page is mapped.
        let mut b = Builder::exec();
        b.phdrs[1][1] = u64::MAX;
        b.phdrs[1][4] = 0;
        assert!(plan(&b.build()).is_ok());
        // With file bytes past the end of the file too (mapped to raise
        // SIGBUS), but not past 2^64.
        let mut b = Builder::exec();
        b.phdrs[1][1] = 0xffe8;
        b.phdrs[1][2] = 0x41_ffe8;
        b.phdrs[1][4] = 1;
        assert_eq!(plan(&b.build()).unwrap().segments[1].file_offset, 0xffe8);
        b.phdrs[1][1] = u64::MAX - 0xfff;
        b.phdrs[1][2] = 0x41_f000;
        b.phdrs[1][4] = 0x1000;
        assert_eq!(plan(&b.build()), Err(ElfError::FileRangeOverflows(1)));
    }

    #[test]
    fn layout_splits_pages_at_the_end_of_the_file_and_of_the_file_bytes() {
        let mk = |r: [u64; 6]| PageLayout {
            copied: (VirtAddr::new(r[0]), VirtAddr::new(r[1])),
            past_end_of_file: (VirtAddr::new(r[2]), VirtAddr::new(r[3])),
            anonymous: (VirtAddr::new(r[4]), VirtAddr::new(r[5])),
        };
        // Builder's data segment: file 0x2000 + 0x100 at 0x41_2000, memory 0x3000.
        let seg = plan(&Builder::exec().build()).unwrap().segments[1];
        let whole = [0x41_2000, 0x41_3000, 0x41_3000, 0x41_3000, 0x41_3000, 0x41_5000];
        assert_eq!(seg.layout(0x2100), mk(whole), "all in the file");
        assert_eq!(seg.layout(0x2001), mk(whole), "the file ends in the segment's first page");
        let gone = [0x41_2000, 0x41_2000, 0x41_2000, 0x41_3000, 0x41_3000, 0x41_5000];
        assert_eq!(seg.layout(0x2000), mk(gone), "the file ends where the segment's bytes start");
        assert_eq!(seg.layout(0), mk(gone));
        // File bytes over three pages, the file ending in the second.
        let seg = Segment { file_size: 0x2100, mem_size: 0x4000, ..seg };
        let split = [0x41_2000, 0x41_4000, 0x41_4000, 0x41_5000, 0x41_5000, 0x41_6000];
        assert_eq!(seg.layout(0x3001), mk(split));
        assert_eq!(seg.layout(0x4000), mk(split), "ends on the page boundary");
        // No file bytes: all anonymous, whatever p_offset says.
        let bss = Segment { vaddr: VirtAddr::new(0x41_2ff0), file_size: 0, file_offset: 0, mem_size: 0x20, ..seg };
        assert_eq!(bss.layout(0), mk([0x41_2000, 0x41_2000, 0x41_2000, 0x41_2000, 0x41_2000, 0x41_4000]));
    }

    #[test]
    fn overlapping_segments_are_kept_in_program_header_order() {
        // Data moved into the text's last page: both are kept, in header
        // order, and the loader maps the data over the text there (Linux's
        // MAP_FIXED).
        let mut b = Builder::exec();
        b.phdrs[1][1] = 0x1000;
        b.phdrs[1][2] = 0x40_1000;
        let p = plan(&b.build()).unwrap();
        assert_eq!(p.segments.iter().map(|s| s.vaddr.as_u64()).collect::<Vec<_>>(), [0x40_0000, 0x40_1000]);
        // Listed the other way round, they stay that way round.
        b.phdrs.swap(0, 1);
        let p = plan(&b.build()).unwrap();
        assert_eq!(p.segments.iter().map(|s| s.vaddr.as_u64()).collect::<Vec<_>>(), [0x40_1000, 0x40_0000]);
    }

    /// `f` with a section header table that cannot be read: e_shoff past the
    /// end of the file, e_shentsize and e_shnum nonsense.
    pub(crate) fn with_corrupt_section_headers(mut f: Vec<u8>) -> Vec<u8> {
        f[40..48].copy_from_slice(&0x7fff_ffff_0000u64.to_le_bytes()); // e_shoff
        f[58..60].copy_from_slice(&3u16.to_le_bytes()); // e_shentsize
        f[60..62].copy_from_slice(&0xfff0u16.to_le_bytes()); // e_shnum
        f[62..64].copy_from_slice(&0xfff1u16.to_le_bytes()); // e_shstrndx
        f
    }

    #[test]
    fn pt_interp_names_its_path_as_linux_reads_it() {
        // The path at 0x2000 of the 0x2100-byte file, NUL-terminated.
        let with_interp = |offset: u64, len: u64, path: &[u8]| {
            let mut b = Builder::exec();
            b.phdrs.push([abi::PT_INTERP as u64, offset, 0, 0, len, len, 1]);
            let mut f = b.build();
            f[0x2000..0x2000 + path.len()].copy_from_slice(path);
            f
        };
        let path = b"/lib/ld-linux-aarch64.so.1\0";
        let f = with_interp(0x2000, path.len() as u64, path);
        assert_eq!(plan(&f), Err(ElfError::Interpreter { offset: 0x2000, len: path.len() }));
        assert_eq!(interpreter_path(&f, 0x2000, path.len()), Some("/lib/ld-linux-aarch64.so.1"));
        let no_nul = with_interp(0x2000, 4, b"/lib");
        assert_eq!(plan(&no_nul), Err(ElfError::BadInterpreterPath), "not NUL-terminated");
        assert_eq!(plan(&with_interp(0x2000, 1, b"\0")), Err(ElfError::BadInterpreterPath), "under 2 bytes");
        assert_eq!(plan(&with_interp(0x2000, 4097, b"")), Err(ElfError::BadInterpreterPath), "over PATH_MAX");
        assert_eq!(plan(&with_interp(0x20f0, 0x20, b"")), Err(ElfError::Truncated), "past the end of the file");
        assert_eq!(plan(&with_interp(u64::MAX, 8, b"")), Err(ElfError::Truncated), "offset overflows");
    }

    #[test]
    fn section_header_table_is_never_read() {
        let good = plan(&Builder::exec().build()).unwrap();
        assert_eq!(plan(&with_corrupt_section_headers(Builder::exec().build())), Ok(good));
        // A table that runs exactly to the end of the file (strip's layout).
        let mut f = Builder::exec().build();
        let len = f.len() as u64;
        f[40..48].copy_from_slice(&(len - 2 * 64).to_le_bytes());
        f[60..62].copy_from_slice(&2u16.to_le_bytes());
        assert!(plan(&f).is_ok());
    }

    #[test]
    fn file_part_may_run_past_the_end_of_the_file() {
        let mut f = Builder::exec().build();
        let end = 0x2000 + 0x100; // segment 1: p_offset + p_filesz
        f.truncate(end);
        assert!(plan(&f).is_ok(), "ends at the last byte");
        f.truncate(end - 1);
        assert!(plan(&f).is_ok(), "one byte short");
        f.truncate(0x1000);
        let p = plan(&f).unwrap();
        assert_eq!((p.segments[1].file_offset, p.segments[1].file_size), (0x2000, 0x100), "wholly past the end");
    }

    #[test]
    fn program_header_table_must_be_in_the_file_with_linux_entry_size() {
        let mut f = Builder::exec().build();
        f[54..56].copy_from_slice(&64u16.to_le_bytes());
        assert_eq!(plan(&f), Err(ElfError::ProgramHeaderSize(64)));
        let mut f = Builder::exec().build();
        let len = f.len() as u64;
        f[32..40].copy_from_slice(&(len - 56).to_le_bytes()); // e_phoff: 3 headers, room for 1
        assert_eq!(plan(&f), Err(ElfError::Truncated));
        let mut f = Builder::exec().build();
        f[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(plan(&f), Err(ElfError::Truncated));
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
