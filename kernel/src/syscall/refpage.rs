//! refpage_create(2): number 448, `(const void *content, unsigned int size,
//! unsigned long flags)`. The contract is docs/refpage.md; the checks
//! come in exactly its order.

use alloc::sync::Arc;
use alloc::vec;

use super::errno::{Errno, SysResult};
use super::fd::fd_limit;
use crate::fs::fd_table::FdEntry;
use crate::fs::file::OpenFile;
use crate::mm::addr::PAGE_SIZE;
use crate::mm::refpage::{self, RefPage};
use crate::mm::tagged_addr::TagRule;
use crate::mm::uaccess::{copy_from_user, UserAddr};
use crate::mm::vma::AreaFlags;
use crate::process;

/// The number asm-generic gives refpage_create in the v5 series.
pub const NR_REFPAGE_CREATE: u32 = 448;

pub fn refpage_create(content: UserAddr, size: u32, flags: u64) -> SysResult {
    // 1. Flags are for future extension: none is defined.
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    // 2. A power of two up to a page, with the content aligned to it.
    let size = size as usize;
    if size == 0 || !size.is_power_of_two() || size > PAGE_SIZE || !content.is_aligned(size as u64) {
        return Err(Errno::EINVAL);
    }
    // 3. Readable by the caller: copied now (later changes do not show).
    // A fault inside the copy comes back as EFAULT through the fixup table.
    let mut bytes = vec![0u8; size];
    copy_from_user(&mut bytes, content)?;
    // The tags travel with the data when the pattern covers a granule
    // (refpage::tags_travel) and the content lives in a PROT_MTE area
    // (elsewhere its tags mean nothing, as for Linux's pages without
    // PG_mte_tagged).
    let tags = refpage::tags_travel(size).then(|| content_tags(content, size)).flatten();
    // 4. Memory for the page and the descriptor.
    let page = RefPage::new(&bytes, tags.as_deref()).ok_or(Errno::ENOMEM)?;
    let p = process::current();
    log::debug!(
        "pid {}: refpage of {} bytes at {}, tags {}",
        p.pid.0,
        size,
        page.frame().start(),
        if page.is_tagged() { "replicated" } else { "0" }
    );
    let entry = FdEntry { file: OpenFile::refpage(Arc::new(page)), cloexec: true };
    let limit = fd_limit(p);
    p.files().insert_lowest(0, entry, limit).map(|fd| fd as u64)
}

/// The allocation tags of the content's granules, read through the linear
/// map of the (now faulted-in) user frame; `None` outside PROT_MTE areas.
fn content_tags(content: UserAddr, size: usize) -> Option<alloc::vec::Vec<u8>> {
    // The shared side: nothing here copies from the user (the tags are
    // read through the linear map).
    let space = process::current().mm.read();
    // The copy passed access_ok under the caller's ABI, so this is the
    // address the program's own access named (Linux finds the content's
    // page the same way, through get_user_pages, which untags).
    let va = content.untagged(TagRule::Access);
    if !space.areas().find(va)?.flags.contains(AreaFlags::MTE) {
        return None;
    }
    // Pinned (Linux's get_user_pages takes a reference): another thread
    // may copy the page on write meanwhile and drop this frame, which the
    // process a fork shared it with may free (mm/page_pin.rs).
    let page = space.pin(va)?;
    Some(refpage::read_tags(&page, va.page_offset(), size))
}
