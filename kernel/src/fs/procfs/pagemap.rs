//! /proc/<pid>/pagemap (Linux 6.1's fs/proc/task_mmu.c, pagemap_read): a
//! binary file of one 64-bit entry per virtual page, read at any offset
//! that is a multiple of 8, in multiples of 8 (EINVAL otherwise); nothing
//! past the end of the user half; the offset's address untagged; a buffer
//! that faults anywhere is EFAULT. An entry is 0 for a page with nothing
//! mapped; for a mapped page it has bit 63 (present), the frame number in
//! bits 0-54 (shown: programs run as root, with CAP_SYS_ADMIN), bit 56 for
//! a private frame only this process maps (PM_MMAP_EXCLUSIVE) and bit 61
//! for a page of a file or of shared memory, reference pages included
//! (PM_FILE). The zero page is present with neither, as Linux's
//! vm_normal_page gives no page for it. [vvar] (VM_PFNMAP) reads as
//! unmapped: Linux's page walk skips such areas. No swap, and no soft-dirty bit
//! (arm64 has no CONFIG_MEM_SOFT_DIRTY).

use alloc::vec::Vec;

use super::maps::live_space;
use crate::exec::elf::USER_END;
use crate::mm::addr::{Frame, VirtAddr, PAGE_SIZE};
use crate::mm::address_space::Ownership;
use crate::mm::tagged_addr::untagged_addr;
use crate::mm::uaccess::{copy_to_user, UserAddr};
use crate::mm::{frame, zero_page};
use crate::process::Process;
use crate::syscall::errno::Errno;

const ENTRY: u64 = 8;
const PM_PRESENT: u64 = 1 << 63;
const PM_FILE: u64 = 1 << 61;
const PM_MMAP_EXCLUSIVE: u64 = 1 << 56;
const PM_PFRAME_MASK: u64 = (1 << 55) - 1;

/// Entries built per pass (Linux's PAGEMAP_WALK_SIZE: one table's worth).
const ENTRIES_PER_PASS: usize = 512;

pub fn read_at(task: &Process, offset: u64, buf: UserAddr, len: u64) -> Result<u64, Errno> {
    if !offset.is_multiple_of(ENTRY) || !len.is_multiple_of(ENTRY) {
        return Err(Errno::EINVAL);
    }
    if live_space(task).is_none() {
        return Ok(0);
    }
    let page = PAGE_SIZE as u64;
    let zero = zero_page::frame().start();
    // One pass's entries, as the bytes copied out: reserved once, so that
    // no allocation in the loop can fail (pagemap_read's kmalloc: ENOMEM).
    let mut bytes: Vec<u8> = Vec::new();
    bytes.try_reserve_exact(ENTRIES_PER_PASS * ENTRY as usize).map_err(|_| Errno::ENOMEM)?;
    // pagemap_read: the page number's address, untagged (untagged_addr: a
    // top byte is dropped when bit 55 is clear); one that wraps or lies past
    // the user half reads nothing.
    let mut va = (offset / ENTRY)
        .checked_mul(page)
        .map(untagged_addr)
        .filter(|&v| v < USER_END)
        .unwrap_or(USER_END);
    let mut done = 0;
    while done < len && va < USER_END {
        let n = ((len - done) / ENTRY).min(ENTRIES_PER_PASS as u64).min((USER_END - va) / page) as usize;
        bytes.clear();
        bytes.resize(n * ENTRY as usize, 0);
        let start = VirtAddr::new(va);
        // One pass under the shared side of the space's lock, given back
        // before the copy to `buf`, which may fault and take it (Linux's
        // pagemap_read: mmap_read_unlock before copy_to_user). A task that
        // ended meanwhile shows no more pages.
        let Some(space) = live_space(task) else { break };
        space.for_each_mapped(start, start + n as u64 * page, &mut |at, pa, ownership| {
            // [vvar] (VM_PFNMAP): the page walk passes over it as a hole
            // (walk_page_test calls pagemap_pte_hole), so its entries are 0.
            if space.areas().find(at).is_some_and(|a| a.backing.is_pfn_map()) {
                return;
            }
            let mut e = PM_PRESENT | ((pa.as_u64() / page) & PM_PFRAME_MASK);
            if pa != zero {
                match ownership {
                    Ownership::Owned if frame::owners(Frame::containing(pa)) == 1 => e |= PM_MMAP_EXCLUSIVE,
                    Ownership::Owned => {}
                    Ownership::Special => e |= PM_FILE,
                }
            }
            let i = ((at - start) / page * ENTRY) as usize;
            bytes[i..i + ENTRY as usize].copy_from_slice(&e.to_ne_bytes());
        });
        drop(space);
        // A buffer that faults is EFAULT, whatever went in before it
        // (pagemap_read: "ret = -EFAULT; goto out_free").
        copy_to_user(buf.offset(done), &bytes)?;
        done += bytes.len() as u64;
        va += n as u64 * page;
    }
    Ok(done)
}
