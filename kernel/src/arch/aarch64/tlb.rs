//! TLB maintenance for user address spaces: the TLBI and barrier steps of
//! Arm ARM (DDI 0487K.a) D8.16.1, "Using break-before-make when updating
//! translation table entries", whose whole sequence is
//! `mm/address_space.rs: UserPage::replace`.

/// Drops the TLB entry for user page `va` in address space `asid`
/// (TLBI VALE1IS: last level, by VA and ASID). No ISB, as in Linux's
/// flush_tlb_page: the entry is a user one, used only after the exception
/// return (to EL0, or to the retried access of a kernel copy), which is
/// context-synchronizing.
pub fn flush_user_page(asid: u16, va: u64) {
    let arg = ((asid as u64) << 48) | ((va >> 12) & ((1 << 44) - 1));
    // SAFETY: TLB maintenance has no memory-safety effect; the DSB makes the
    // invalidation complete before later accesses.
    unsafe { core::arch::asm!("dsb ishst", "tlbi vale1is, {0}", "dsb ish", in(reg) arg, options(nostack)) };
}

/// Starts dropping the TLB entry for user page `va` after its entry was
/// changed (DSB ISHST orders that store first): for a range, one of these
/// per page and then a single [`wait_for_flushes`].
pub fn start_flush_user_page(asid: u16, va: u64) {
    let arg = ((asid as u64) << 48) | ((va >> 12) & ((1 << 44) - 1));
    // SAFETY: as above.
    unsafe { core::arch::asm!("dsb ishst", "tlbi vale1is, {0}", in(reg) arg, options(nostack)) };
}

/// Waits until the invalidations started so far are complete (DSB ISH),
/// and later instructions see it (ISB).
pub fn wait_for_flushes() {
    // SAFETY: barriers only.
    unsafe { core::arch::asm!("dsb ish", "isb", options(nostack)) };
}

/// Drops every TLB entry of address space `asid` (TLBI ASIDE1IS).
pub fn flush_asid(asid: u16) {
    let arg = (asid as u64) << 48;
    // SAFETY: as above.
    unsafe { core::arch::asm!("dsb ishst", "tlbi aside1is, {0}", "dsb ish", "isb", in(reg) arg, options(nostack)) };
}

/// Drops every entry of every address space, kernel ones too, from this
/// CPU's TLB only (TLBI VMALLE1, then DSB NSH: Linux's
/// local_flush_tlb_all): the flush a CPU owes after an ASID rollover
/// (mmu/asid.rs), done before it next runs a user space.
pub fn flush_all_local() {
    // SAFETY: as above.
    unsafe { core::arch::asm!("dsb nshst", "tlbi vmalle1", "dsb nsh", "isb", options(nostack)) };
}

/// Drops kernel (global) entries for `va` in every address space (TLBI VAAE1IS).
pub fn flush_kernel_page(va: u64) {
    let arg = (va >> 12) & ((1 << 44) - 1);
    // SAFETY: as above.
    unsafe { core::arch::asm!("dsb ishst", "tlbi vaae1is, {0}", "dsb ish", "isb", in(reg) arg, options(nostack)) };
}
