//! mincore (Linux 6.1's mm/mincore.c): one byte per page of a range, 1
//! where the page is resident.
//!
//! Resident, as Linux counts it (mincore_pte_range): a page whose entry is
//! present, whatever it maps — so the shared zero page and a reference
//! page count once a read has mapped them, though they are no memory of
//! the process's own. A page with no entry counts as Linux's
//! mincore_unmapped_range does: 0 in private anonymous memory and in a
//! refpage mapping (nothing there until a fault maps the reference page),
//! and for shared memory and /dev/shm or /tmp files (Linux's shmem, whose
//! pages sit in the page cache) 1 when the object holds the page. [vvar]
//! (VM_PFNMAP) is never resident: Linux's page walk skips it.

use alloc::vec::Vec;

use super::errno::{Errno, SysResult};
use crate::exec::elf::USER_END;
use crate::mm::addr::{VirtAddr, PAGE_SIZE};
use crate::mm::address_space::AddressSpace;
use crate::mm::tagged_addr::{TagRule, UserAddr};
use crate::mm::uaccess::copy_to_user;
use crate::mm::vma::{Area, Backing};
use crate::process;

const PAGE: u64 = PAGE_SIZE as u64;

/// Pages looked at per pass: one page of bytes, as Linux's buffer.
const CHUNK: usize = PAGE_SIZE;

/// The residency of `[start, start + out.len() pages)`, all inside `area`.
fn fill(space: &AddressSpace, area: &Area, start: VirtAddr, out: &mut [u8]) {
    // [vvar], a VM_PFNMAP area: the page walk passes over it as a hole
    // (walk_page_test calls pte_hole), and with no file behind it
    // __mincore_unmapped_range gives 0, mapped or not.
    if area.backing.is_pfn_map() {
        out.fill(0);
        return;
    }
    let end = start + out.len() as u64 * PAGE;
    let object = match &area.backing {
        Backing::SharedMemory(object) | Backing::PrivateFile(object) => Some(object),
        _ => None,
    };
    for (i, byte) in out.iter_mut().enumerate() {
        let va = start + i as u64 * PAGE;
        *byte = u8::from(object.is_some_and(|o| o.existing(area.page_index(va)).is_some()));
    }
    space.for_each_mapped(start, end, &mut |va, _, _| {
        out[((va - start) / PAGE) as usize] = 1;
    });
}

pub fn mincore(addr: UserAddr, len: u64, vec: UserAddr) -> SysResult {
    let start = addr.untagged(TagRule::AddressSpace).as_u64();
    if !start.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    // access_ok(start, len): the range must lie in the user half.
    if len > USER_END || start > USER_END - len {
        return Err(Errno::ENOMEM);
    }
    let mut pages = len.div_ceil(PAGE);
    let vec_end = vec.untagged(TagRule::Access).as_u64().checked_add(pages);
    if vec_end.is_none_or(|e| e > USER_END) {
        return Err(Errno::EFAULT);
    }
    // Linux's __get_free_page: EAGAIN when there is none.
    let mut buf = Vec::new();
    if buf.try_reserve_exact(CHUNK).is_err() || !crate::mm::heap::can_spare(CHUNK) {
        return Err(Errno::EAGAIN);
    }
    buf.resize(CHUNK, 0u8);
    let (mut at, mut vec) = (VirtAddr::new(start), vec);
    while pages > 0 {
        // do_mincore: the area at `at`, up to its end or a chunk.
        // Under the shared side of the space's lock, given back before the
        // copy to `vec`, which may fault and take it (Linux's do_mincore
        // and its caller's mmap_read_unlock before copy_to_user).
        let n = {
            let space = process::current().mm.read();
            let area = space.areas().find(at).ok_or(Errno::ENOMEM)?;
            let n = pages.min(CHUNK as u64).min((area.end - at) / PAGE) as usize;
            fill(&space, area, at, &mut buf[..n]);
            n
        };
        copy_to_user(vec, &buf[..n])?;
        pages -= n as u64;
        vec = vec.offset(n as u64);
        at = at + n as u64 * PAGE;
        if process::long_work_must_stop() {
            return Err(Errno::EINTR);
        }
    }
    Ok(0)
}
