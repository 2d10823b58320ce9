//! Frame-pointer backtraces (AAPCS64 frame records: [x29] = caller's x29,
//! [x29 + 8] = return address). The kernel is built with
//! `-C force-frame-pointers=yes` (.cargo/config.toml) so every function keeps
//! a record. Addresses are printed raw; `scripts/symbolize` turns them into
//! function names with the kernel ELF.

/// Calls `f` with each return address, innermost first, up to `max` frames.
/// Stops at the first record outside every one of `stacks` or not strictly
/// above the last. (More than one stack: a panic on the overflow stack walks
/// from it onto the stack that overflowed, through the exception's frame
/// record; the overflow stack, in .bss, lies below every kernel stack.)
pub fn walk(stacks: &[core::ops::Range<u64>], max: usize, f: impl FnMut(u64)) {
    walk_from(frame_pointer(), stacks, max, f)
}

/// The frame pointer (x29) of the function this is inlined into: its
/// frame record holds the return address into its caller.
#[inline(always)]
pub fn frame_pointer() -> u64 {
    let fp: u64;
    // SAFETY: reads x29, no memory access.
    unsafe { core::arch::asm!("mov {}, x29", out(reg) fp, options(nomem, nostack)) };
    fp
}

/// As [`walk`], from the frame record at `fp`.
pub fn walk_from(mut fp: u64, stacks: &[core::ops::Range<u64>], max: usize, mut f: impl FnMut(u64)) {
    for _ in 0..max {
        if !fp.is_multiple_of(16) || !stacks.iter().any(|s| s.contains(&fp) && s.contains(&(fp + 8))) {
            break;
        }
        // SAFETY: fp lies inside a live kernel stack, checked above.
        let (next, lr) = unsafe { (*(fp as *const u64), *((fp + 8) as *const u64)) };
        if lr == 0 {
            break;
        }
        f(lr);
        if next <= fp {
            break;
        }
        fp = next;
    }
}
