//! Where a program's pieces go in the user half (TTBR0): the loaded image
//! at the bottom, then the program break, mmap's region growing down from
//! below the stack, the stack, and the vDSO at the very top.
//! Linux's arm64 layout for 48-bit virtual addresses, without randomisation.

/// First address a segment may use (Linux's default mmap_min_addr).
pub const MIN_USER_ADDR: u64 = 0x1_0000;
/// End of the user half: 48-bit addresses through TTBR0.
pub const USER_END: u64 = 1 << 48;
/// Where a static-PIE is placed (Linux's ELF_ET_DYN_BASE for 48-bit VAs).
pub const PIE_BIAS: u64 = 0xaaaa_aaaa_0000;
/// Top of the user stack, below a 64 KiB gap at the end of the user half.
pub const STACK_TOP: u64 = USER_END - 0x1_0000;
/// Where the vDSO's text goes (its two [vvar] pages right below), in the
/// gap above the stack where nothing else goes. Linux places it like the
/// first mmap, at a random address; the address is no ABI (programs find
/// it through AT_SYSINFO_EHDR), and up here it leaves mmap's placements,
/// and so the page tables they need, as they were before the vDSO.
pub const VDSO_TEXT: u64 = USER_END - 0x8000;
/// Size of the stack area (the RLIMIT_STACK soft limit); below it an
/// unmapped guard gap, then mmap's region.
pub const STACK_SIZE: u64 = 8 << 20;
/// mmap places areas top-down from here (Linux: below the stack's limit
/// and a gap of at least 128 MiB). It is also the end of the space an ELF
/// image may take: above it is the stack, which every process gets, and
/// the program break may not grow past it.
pub const MMAP_BASE: u64 = STACK_TOP - STACK_SIZE - (128 << 20);
