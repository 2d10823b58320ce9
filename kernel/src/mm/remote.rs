//! Another process's memory, for a debugger: Linux's access_remote_vm with
//! FOLL_FORCE (PTRACE_PEEKDATA / POKEDATA) and arm64's __access_remote_tags
//! (PTRACE_PEEKMTETAGS / POKEMTETAGS).
//!
//! Each page is first resolved in the target's space as the target's own
//! access would be, but forced (`fault::handle_forced`): a read maps what a
//! read would map, a write to a private page gets the target its private
//! copy, even in a read-only area. The page is then read or written through
//! the kernel's linear map, never through the target's mapping (its TTBR0
//! is not live: the caller's is). The target thread is stopped, but the
//! other threads of its space may run on other CPUs, faulting under the
//! shared side of the space's lock as this does: a fault that lost its
//! race to one of theirs is made again (`resolve`), so that a write lands
//! in the target's own copy and never in a page the winner mapped (the
//! zero page). Pages shared with a running process (shared memory) may
//! change under the copy, as on Linux.
//!
//! Each function takes the target's space behind its lock and holds it
//! for one page at a time, between kernel buffers only: the caller copies
//! to or from its own user memory after the call, with the lock let go.
//! The target's space may be the caller's own (a CLONE_VM child traced by
//! its parent), and a user copy under that lock would fault into it
//! (Linux's access_remote_vm holds mmap_lock over kernel copies only, and
//! ptrace_readdata copies to the tracer's buffer after it).

use super::addr::{VirtAddr, PAGE_SIZE};
use super::address_space::AddressSpace;
use super::fault::{self, Access, Resolution};
use super::mmap_lock::MmLock;
use super::page_pin::PinnedPage;
use super::vma::Backing;
use crate::arch::aarch64::{cache, mte};
use crate::exec::elf::USER_END;
use crate::mm::tagged_addr::untagged_addr;

/// Why tags cannot be read or written at an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagAccessError {
    /// Nothing can be mapped there (Linux: get_user_pages_remote fails).
    Unmapped,
    /// The area was not mapped with PROT_MTE, or tagging is off
    /// (Linux's EOPNOTSUPP, reported by ptrace as EIO).
    NotTagged,
}

/// `addr` as a user address, if it is one (no tag allowed).
fn user_va(addr: u64) -> Option<VirtAddr> {
    (addr < USER_END).then(|| VirtAddr::new(addr))
}

/// The untagged user address of `addr`, if it is one: the tag requests
/// look pages up with get_user_pages_remote, which drops the tag
/// (untagged_addr: bits 63:56 from bit 55).
fn untagged_user_va(addr: u64) -> Option<VirtAddr> {
    user_va(untagged_addr(addr))
}

/// Resolves the page at `va` of `space` for `access` (forced); whether
/// its area is PROT_MTE. Nothing for `[vvar]`: Linux 6.1 maps it
/// VM_PFNMAP, which get_user_pages refuses (check_vma_flags), and its
/// special mapping has no `access` operation to fall back on, so
/// __access_remote_vm reads and writes nothing there.
fn fault_in(space: &AddressSpace, va: VirtAddr, access: Access) -> Option<bool> {
    if space.areas().find(va).is_some_and(|area| matches!(area.backing, Backing::VdsoData)) {
        return None;
    }
    // Faulted again while the fault lost its race to another (Linux's
    // __get_user_pages: faultin_page, then follow_page again, until the
    // page is there as this access needs it). A thread of the target
    // still running on another CPU may map something else first: its read
    // maps the shared zero page (or a reference page) where this write
    // would have mapped the target's private copy, and a write through
    // that mapping would change everyone's zero page. Each `Raced` is a
    // change of the entry by another fault, which only moves the page
    // forward (none, a shared page, a private one): this ends.
    let resolved = loop {
        let r = fault::handle_forced(space, va, access).ok()?;
        if r.what != Resolution::Raced {
            break r;
        }
    };
    Some(resolved.tagged)
}

/// The page at `va` of `space` after a forced write fault made it the
/// target's own, pinned as for a read; whether its area is PROT_MTE.
/// Pinned although the frame is now this space's only one, mapped
/// writable: another tracer's or /proc reader's pin of the same page
/// makes it look shared for a moment, and a sibling thread's spurious
/// fault then may write-protect it, its write copy it and drop the frame,
/// which that pin's drop would free under this write (found in review).
fn resolve_for_write(space: &AddressSpace, va: VirtAddr) -> Option<(PinnedPage, bool)> {
    let tagged = fault_in(space, va, Access::Write)?;
    Some((space.pin(va)?, tagged))
}

/// The page at `va` of `space` after a forced read fault, pinned
/// (mm/page_pin.rs: Linux's get_user_pages_remote takes a reference):
/// another thread of the target may copy it on write meanwhile and drop
/// the frame, which the process it was shared with may free. Whether its
/// area is PROT_MTE.
fn resolve_for_read(space: &AddressSpace, va: VirtAddr) -> Option<(PinnedPage, bool)> {
    let tagged = fault_in(space, va, Access::Read)?;
    // Not there any more (a racing MADV_DONTNEED cannot run under the
    // shared side; nothing else clears an entry): as if unmapped.
    Some((space.pin(va)?, tagged))
}

/// Reads `buf.len()` bytes at `addr` of `space`; returns how many could be
/// read (fewer at the first page that cannot be mapped). A tagged `addr`
/// reads nothing: Linux 6.1's __access_remote_vm looks its area up with
/// the tag still on (vma_lookup), and finds none.
pub fn read(mm: &MmLock, addr: u64, buf: &mut [u8]) -> usize {
    read_racing(mm, addr, buf, |_, _| {})
}

/// [`read`], with `between` called after each page is pinned and before
/// it is copied: where another CPU's copy-on-write and free would land
/// (selftest/page_pin.rs forces that interleaving; `read` passes nothing).
pub fn read_racing(mm: &MmLock, addr: u64, buf: &mut [u8], mut between: impl FnMut(&AddressSpace, VirtAddr)) -> usize {
    let mut done = 0;
    while done < buf.len() {
        let Some(va) = user_va(addr.wrapping_add(done as u64)) else { break };
        // The shared side, as a fault (mm/mmap_lock.rs).
        let space = mm.read();
        let Some((page, _)) = resolve_for_read(&space, va) else { break };
        between(&space, va);
        let n = (PAGE_SIZE - va.page_offset()).min(buf.len() - done);
        page.read(va.page_offset(), &mut buf[done..done + n]);
        done += n;
    }
    done
}

/// Writes `bytes` at `addr` of `space`, copy-on-write even where the area
/// is read-only (FOLL_FORCE); returns how many were written. The written
/// bytes are made visible to instruction fetches (a debugger's BRK), as
/// Linux's copy_to_user_page does.
pub fn write(mm: &MmLock, addr: u64, bytes: &[u8]) -> usize {
    let mut done = 0;
    while done < bytes.len() {
        let Some(va) = user_va(addr.wrapping_add(done as u64)) else { break };
        let space = mm.read();
        let Some((page, _)) = resolve_for_write(&space, va) else { break };
        let dst = page.linear(va.page_offset());
        let n = (PAGE_SIZE - va.page_offset()).min(bytes.len() - done);
        // SAFETY: `dst` is the linear-map address of a frame of `space`
        // the forced write fault made its own, pinned while `page` lives,
        // `n` bytes inside it.
        unsafe { core::ptr::copy_nonoverlapping(bytes[done..].as_ptr(), dst.as_mut_ptr::<u8>(), n) };
        cache::sync_icache(dst, n);
        done += n;
    }
    done
}

/// The untagged, granule-aligned user address of `addr` and the number of
/// granules left in its page, for a tag access.
fn tag_granules(addr: u64) -> Result<(VirtAddr, usize), TagAccessError> {
    let va = untagged_user_va(addr).ok_or(TagAccessError::Unmapped)?.align_down(mte::GRANULE as u64);
    Ok((va, (PAGE_SIZE - va.page_offset()) / mte::GRANULE))
}

/// Reads the allocation tags of the granules from `addr` (one per byte of
/// `out`) up to the end of its page; returns how many were read. A page
/// not present yet is faulted in as a read would (the zero page: tags 0).
/// The page is pinned while its tags are read, as for [`read`].
pub fn read_tags(mm: &MmLock, addr: u64, out: &mut [u8]) -> Result<usize, TagAccessError> {
    let (va, left) = tag_granules(addr)?;
    let space = mm.read();
    let (page, tagged) = resolve_for_read(&space, va).ok_or(TagAccessError::Unmapped)?;
    if !tagged {
        return Err(TagAccessError::NotTagged);
    }
    let n = left.min(out.len());
    for (i, tag) in out[..n].iter_mut().enumerate() {
        // SAFETY: a granule of a Tagged frame `space` mapped (the area is
        // PROT_MTE), held by the pin, through the linear map.
        *tag = unsafe { mte::load_tag(page.linear(va.page_offset()) + (i * mte::GRANULE) as u64) };
    }
    Ok(n)
}

/// Sets the allocation tags of the granules from `addr` from the low four
/// bits of each byte of `tags`, up to the end of its page (the page is
/// first made the target's own, as a write would); returns how many were
/// set.
pub fn write_tags(mm: &MmLock, addr: u64, tags: &[u8]) -> Result<usize, TagAccessError> {
    let (va, left) = tag_granules(addr)?;
    let space = mm.read();
    let (page, tagged) = resolve_for_write(&space, va).ok_or(TagAccessError::Unmapped)?;
    let granule = page.linear(va.page_offset());
    if !tagged {
        return Err(TagAccessError::NotTagged);
    }
    let n = left.min(tags.len());
    for (i, tag) in tags[..n].iter().enumerate() {
        let at = mte::with_tag(granule + (i * mte::GRANULE) as u64, *tag);
        // SAFETY: a granule of a private, Tagged frame of `space` (the
        // forced write fault made it so), pinned while `page` lives; only
        // the target sees its tags.
        unsafe { mte::store_tag(at) };
    }
    Ok(n)
}
