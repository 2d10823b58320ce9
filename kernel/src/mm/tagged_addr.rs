//! Tags in addresses: reading, inserting and stripping the top byte's tag
//! (of any address), and, for user (TTBR0) addresses, which system-call
//! arguments may carry one. The one home of these rules: every other file
//! goes through the functions here (arch/aarch64/mte.rs wraps the bit
//! operations for `VirtAddr`, beside the instructions that need them: IRG,
//! STG, LDG; `VirtAddr::with_match_all_tag` is `with_match_all_tag`).
//!
//! A program may put anything in the top byte of its own pointers: TBI0
//! makes the MMU ignore it, and MTE reads bits 59:56 as the logical tag
//! (Documentation/arm64/tagged-pointers.rst). What a system call does with
//! such a pointer is Linux 6.1's tagged-address ABI
//! (Documentation/arm64/tagged-address-abi.rst), written down here once as
//! [`TagRule`]: one rule per kind of argument, applied by one function,
//! [`UserAddr::untagged`].
//!
//! Two types keep "the address as the program passed it" and "an untagged
//! user address" apart: a system call receives a [`UserAddr`] (tag and
//! all; the uaccess routines access memory through it, so the access is
//! tag-checked as the program's own would be), while areas and page tables
//! take a [`VirtAddr`], which a `UserAddr` only becomes through
//! [`UserAddr::untagged`]. A `UserAddr` has no public field: a tagged
//! address cannot reach an area lookup or a table walk by accident.
//!
//! The bit helpers (`mte_tag`, `with_mte_tag`, `with_match_all_tag`,
//! `sign_extend_from_bit_55`, `tag_check_fault_address`) are plain bit
//! operations on any address (the last serves EL0's and the kernel heap's
//! tag check faults); `untagged_addr`, `TagRule` and `UserAddr` are about
//! user addresses only. Which tag a kernel (TTBR1) pointer gets is
//! the kernel heap's business (mm/kasan.rs); how it is written is here.

/// The top byte starts here (TBI: bits 63:56 take no part in translation).
pub const TAG_SHIFT: u32 = 56;
/// The MTE logical tag: bits 59:56 (Linux's MTE_TAG_MASK).
pub const MTE_TAG_MASK: u64 = 0xf << TAG_SHIFT;
/// The tag a kernel pointer carries unless the heap gave it another:
/// TCR_EL1.TCMA1 leaves accesses through it unchecked (Linux's
/// KASAN_TAG_KERNEL, 0xFF, of which bits 59:56 are the MTE tag).
pub const MATCH_ALL_TAG: u8 = 0xf;

/// The MTE logical tag of `addr` (bits 59:56).
pub const fn mte_tag(addr: u64) -> u8 {
    ((addr & MTE_TAG_MASK) >> TAG_SHIFT) as u8
}

/// `addr` with its MTE logical tag (bits 59:56) replaced by `tag`'s low
/// four bits; the other bits, 63:60 included, stay as they were.
pub const fn with_mte_tag(addr: u64, tag: u8) -> u64 {
    (addr & !MTE_TAG_MASK) | (((tag & 0xf) as u64) << TAG_SHIFT)
}

/// `addr` with the match-all tag: the form of a kernel (TTBR1) pointer to
/// compare, translate or hand to the allocator, a heap pointer's random
/// tag dropped (Linux's kasan_reset_tag under KASAN_HW_TAGS). Not for user
/// addresses.
pub const fn with_match_all_tag(addr: u64) -> u64 {
    with_mte_tag(addr, MATCH_ALL_TAG)
}

/// Linux's `__untagged_addr`: the top byte replaced by copies of bit 55,
/// so the tag of an address in either half goes (0x5a00_ffff_f000_1234 ->
/// 0x0000_ffff_f000_1234, 0x5aff_8000_0000_0000 -> 0xffff_8000_0000_0000).
pub const fn sign_extend_from_bit_55(addr: u64) -> u64 {
    (((addr << 8) as i64) >> 8) as u64
}

/// Linux's arm64 `untagged_addr` (arch/arm64/include/asm/memory.h, 6.1):
/// `addr & __untagged_addr(addr)`, so only a TTBR0 (bit 55 clear) address
/// loses its tag; a TTBR1 address is left exactly as it is, tag and all
/// (commit 597399d0cb91, "Preserve tags for addresses translated via
/// TTBR1"). Unconditional: the calling thread's ABI setting plays no part.
pub const fn untagged_addr(addr: u64) -> u64 {
    addr & sign_extend_from_bit_55(addr)
}

/// The fault address of a tag check fault as Linux reports it: FAR_EL1
/// bits 63:60 are UNKNOWN after one, so they come from the sign-extended
/// address while bits 59:56 (the logical tag) are kept (arm64's
/// do_tag_check_fault).
pub const fn tag_check_fault_address(far: u64) -> u64 {
    (sign_extend_from_bit_55(far) & !MTE_TAG_MASK) | (far & MTE_TAG_MASK)
}

/// How a system-call argument holding a user address is untagged: Linux
/// 6.1 treats the three kinds of argument differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagRule {
    /// The kernel reads or writes memory through it (read/write buffers,
    /// structures, strings, iovecs, futex words, refpage_create content).
    /// The tag is dropped for the range check only when the calling thread
    /// enabled the ABI (PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE);
    /// otherwise a tagged pointer lies outside the user half and the
    /// access fails with EFAULT (arm64's access_ok: untagged_addr only
    /// with TIF_TAGGED_ADDR). The access itself still goes through the
    /// tagged pointer, so it is tag-checked.
    Access,
    /// Address-space management that does not access the memory: munmap,
    /// mprotect, madvise, (mlock, msync, mincore, mremap's old_address),
    /// the page of a shared futex, a fault address. Always untagged, ABI
    /// on or off (6.1's SYSCALL munmap, do_mprotect_pkey, do_madvise,
    /// get_user_pages call untagged_addr unconditionally).
    AddressSpace,
    /// Where a new mapping goes: brk, mmap and mremap's new_address must be
    /// untagged even with the ABI on (since 5.6, so no alias of an existing
    /// address is made). Taken exactly as passed: a tag puts it above the
    /// user half, which those calls refuse or ignore as Linux does.
    NewMapping,
}

/// The address `rule` makes of `addr`, passed by a thread whose
/// tagged-address ABI is `abi_enabled`.
pub const fn untagged_by_rule(addr: u64, rule: TagRule, abi_enabled: bool) -> u64 {
    match rule {
        TagRule::Access if abi_enabled => untagged_addr(addr),
        TagRule::Access | TagRule::NewMapping => addr,
        TagRule::AddressSpace => untagged_addr(addr),
    }
}

/// An address in the calling process's address space exactly as the
/// program passed it: a system-call argument, an iovec's base, a stored
/// set_tid_address pointer. It may carry a tag; [`Self::untagged`] is the
/// only way to the address an area or a page table knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserAddr(u64);

impl UserAddr {
    /// The null pointer (an absent optional argument).
    pub const NULL: Self = Self(0);

    /// A system-call argument (or a pointer read from user memory) as it
    /// came, tag included.
    pub const fn new(as_passed: u64) -> Self {
        Self(as_passed)
    }

    /// The address with its tag, as the program passed it: what the
    /// uaccess routines access through, and what a program gets back.
    /// Not an address to look up (use [`Self::untagged`]).
    pub const fn raw_with_tag(self) -> u64 {
        self.0
    }

    pub const fn is_null(self) -> bool {
        self.0 == 0
    }

    /// `by` bytes further on, the tag kept.
    pub const fn offset(self, by: u64) -> Self {
        Self(self.0.wrapping_add(by))
    }

    /// Aligned to `align` (a power of two); the tag, in the top byte, does
    /// not change the answer.
    pub const fn is_aligned(self, align: u64) -> bool {
        self.0 & (align - 1) == 0
    }

    /// The untagged user address `rule` makes of this one, under the
    /// calling thread's tagged-address ABI: the one conversion from an
    /// address as passed to one an area or a page table may see. The
    /// result may still lie outside the user half (a tag the rule keeps);
    /// callers check the range as before.
    #[cfg(target_os = "none")]
    pub fn untagged(self, rule: TagRule) -> crate::mm::addr::VirtAddr {
        crate::mm::addr::VirtAddr::new(untagged_by_rule(self.0, rule, calling_thread_abi_enabled()))
    }
}

/// Whether the calling thread has enabled the tagged-address ABI
/// (PR_TAGGED_ADDR_ENABLE); false outside any process (boot-time tests).
#[cfg(target_os = "none")]
fn calling_thread_abi_enabled() -> bool {
    crate::process::has_current() && crate::process::current().mte.tagged_addr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untagged_addr_clears_only_a_user_address_tag_like_linux_6_1() {
        assert_eq!(untagged_addr(0x5a00_ffff_f000_1234), 0x0000_ffff_f000_1234, "a user address loses its tag");
        assert_eq!(untagged_addr(0x5aff_8000_0000_0000), 0x5aff_8000_0000_0000, "a TTBR1 address keeps its tag");
        assert_eq!(untagged_addr(0xffff_0000_4000_0000), 0xffff_0000_4000_0000, "an untagged kernel address");
        assert_eq!(untagged_addr(0x0080_0000_0000_0000), 0x0080_0000_0000_0000, "bit 55 set: not a user address");
        assert_eq!(untagged_addr(0x0000_0000_0040_0000), 0x0000_0000_0040_0000);
    }

    #[test]
    fn sign_extension_strips_the_tag_of_either_half() {
        assert_eq!(sign_extend_from_bit_55(0x5a00_ffff_f000_1234), 0x0000_ffff_f000_1234);
        assert_eq!(sign_extend_from_bit_55(0x5aff_8000_0000_0000), 0xffff_8000_0000_0000);
    }

    #[test]
    fn mte_tags_insert_and_read_back() {
        assert_eq!(with_mte_tag(0x0000_ffff_f000_1230, 0xb), 0x0b00_ffff_f000_1230);
        assert_eq!(with_mte_tag(0xf300_0000_0000_1000, 0x5), 0xf500_0000_0000_1000, "bits 63:60 stay");
        assert_eq!(mte_tag(0xf500_0000_0000_1000), 0x5);
        assert_eq!(with_match_all_tag(0xf3ff_0000_4000_0010), 0xffff_0000_4000_0010, "a heap pointer's tag goes");
        assert_eq!(with_match_all_tag(0xffff_0000_4000_0010), 0xffff_0000_4000_0010, "a plain kernel pointer");
    }

    #[test]
    fn a_tag_check_fault_address_keeps_its_tag_and_loses_the_unknown_bits() {
        assert_eq!(tag_check_fault_address(0xab00_0000_1234_5670), 0x0b00_0000_1234_5670);
        assert_eq!(tag_check_fault_address(0x0bff_8000_0000_0000), 0xfbff_8000_0000_0000);
    }

    #[test]
    fn each_rule_untags_as_linux_does() {
        let tagged = 0x3c00_0000_0041_2000;
        let plain = 0x0000_0000_0041_2000;
        assert_eq!(untagged_by_rule(tagged, TagRule::Access, false), tagged, "ABI off: access_ok sees the tag");
        assert_eq!(untagged_by_rule(tagged, TagRule::Access, true), plain, "ABI on: access_ok untags");
        assert_eq!(untagged_by_rule(tagged, TagRule::AddressSpace, false), plain, "munmap untags, ABI off too");
        assert_eq!(untagged_by_rule(tagged, TagRule::AddressSpace, true), plain);
        assert_eq!(untagged_by_rule(tagged, TagRule::NewMapping, true), tagged, "mmap/brk never untag");
        assert_eq!(untagged_by_rule(0x5aff_8000_0000_0000, TagRule::Access, true), 0x5aff_8000_0000_0000);
    }
}
