//! madvise (Linux 6.1's mm/madvise.c): the advice is applied area by area
//! over the range (madvise_walk_vmas); an area that refuses it ends the
//! call with its error, the areas before it keeping the advice, and holes
//! are passed over and reported as ENOMEM at the end.
//!
//! - MADV_DONTNEED (and MADV_DONTNEED_LOCKED, which also takes locked
//!   memory) drops the pages: the next touch maps the zero page, the
//!   reference page or the shared page again. EINVAL on locked memory and
//!   on [vvar] (VM_PFNMAP).
//! - MADV_FREE, private anonymous memory only: the pages go at once, as if
//!   memory were short the moment after the call (Linux frees them lazily,
//!   at reclaim, and a write before then keeps a page; here there is no
//!   reclaim to wait for). The next touch reads zeros.
//! - MADV_POPULATE_READ / MADV_POPULATE_WRITE fault the range in now
//!   (mm/populate.rs) with the area's own permissions: EINVAL where the
//!   access is not allowed or on [vvar], EFAULT for a page a program would
//!   get SIGBUS for, ENOMEM when memory runs out.
//! - MADV_DONTFORK / MADV_DOFORK, MADV_WIPEONFORK (private anonymous only)
//!   / MADV_KEEPONFORK: flags of the areas that fork honours
//!   (address_space.rs: the child gets no area, or an empty one).
//! - MADV_WILLNEED, MADV_COLD, MADV_PAGEOUT and the rest change nothing: there is no
//!   swap and no page cache to read ahead into (Linux's madvise_willneed
//!   maps nothing either). MADV_COLD and MADV_PAGEOUT are still EINVAL on
//!   locked memory and [vvar], as Linux's can_madv_lru_vma says.

use linux_raw_sys::general::{
    MADV_COLD, MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK, MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_FREE,
    MADV_HUGEPAGE, MADV_KEEPONFORK, MADV_MERGEABLE, MADV_NOHUGEPAGE, MADV_NORMAL, MADV_PAGEOUT, MADV_POPULATE_READ,
    MADV_POPULATE_WRITE, MADV_RANDOM, MADV_SEQUENTIAL, MADV_UNMERGEABLE, MADV_WILLNEED, MADV_WIPEONFORK,
};

use super::errno::{Errno, SysResult};
use crate::exec::elf::USER_END;
use crate::mm::addr::{VirtAddr, PAGE_SIZE};
use crate::mm::populate::{self, PopulateError, Touch};
use crate::mm::tagged_addr::{TagRule, UserAddr};
use crate::mm::vma::{Area, AreaFlags};
use crate::process;

const PAGE: u64 = PAGE_SIZE as u64;

/// What an advice does to each area.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Drop { locked_too: bool, anonymous_only: bool },
    Populate { write: bool },
    SetFlag(AreaFlags),
    ClearFlag(AreaFlags),
    DoDump,
    /// MADV_COLD, MADV_PAGEOUT: nothing to do (no LRU lists, no swap), but
    /// refused where Linux's can_madv_lru_vma refuses.
    LruHint,
    Nothing,
}

fn action(advice: u32) -> Result<Action, Errno> {
    Ok(match advice {
        MADV_DONTNEED => Action::Drop { locked_too: false, anonymous_only: false },
        MADV_DONTNEED_LOCKED => Action::Drop { locked_too: true, anonymous_only: false },
        MADV_FREE => Action::Drop { locked_too: false, anonymous_only: true },
        MADV_POPULATE_READ => Action::Populate { write: false },
        MADV_POPULATE_WRITE => Action::Populate { write: true },
        MADV_DONTFORK => Action::SetFlag(AreaFlags::DONT_COPY),
        MADV_DOFORK => Action::ClearFlag(AreaFlags::DONT_COPY),
        MADV_WIPEONFORK => Action::SetFlag(AreaFlags::WIPE_ON_FORK),
        MADV_KEEPONFORK => Action::ClearFlag(AreaFlags::WIPE_ON_FORK),
        MADV_DODUMP => Action::DoDump,
        MADV_COLD | MADV_PAGEOUT => Action::LruHint,
        MADV_NORMAL | MADV_RANDOM | MADV_SEQUENTIAL | MADV_WILLNEED | MADV_MERGEABLE | MADV_UNMERGEABLE
        | MADV_HUGEPAGE | MADV_NOHUGEPAGE | MADV_DONTDUMP => Action::Nothing,
        _ => return Err(Errno::EINVAL),
    })
}

/// Private anonymous memory, or a special mapping without a file
/// (Linux: no vm_file and not VM_SHARED; MADV_WIPEONFORK's and, without
/// the special mappings, MADV_FREE's test).
fn private_anonymous(area: &Area, specials_too: bool) -> bool {
    !area.flags.contains(AreaFlags::SHARED)
        && (area.backing.is_anonymous() || (specials_too && area.backing.is_special()))
}

/// Whether `area` refuses the advice (EINVAL), before anything is done to it.
fn refuses(action: Action, area: &Area) -> bool {
    match action {
        Action::Drop { locked_too, anonymous_only } => {
            area.backing.is_pfn_map()
                || (!locked_too && area.flags.contains(AreaFlags::LOCKED))
                || (anonymous_only && !private_anonymous(area, false))
        }
        Action::Populate { write } => !Touch { write, force: false }.allowed_in(area),
        Action::SetFlag(AreaFlags::WIPE_ON_FORK) => !private_anonymous(area, true),
        Action::DoDump => area.backing.is_special(),
        // can_madv_lru_vma: no VM_LOCKED, VM_PFNMAP (or VM_HUGETLB).
        Action::LruHint => area.backing.is_pfn_map() || area.flags.contains(AreaFlags::LOCKED),
        _ => false,
    }
}

/// Linux's madvise_walk_vmas over `[start, end)` (msync's loop is the
/// same): `visit` is called for each area's part of the range; its error
/// ends the walk, and a hole makes the answer ENOMEM once the rest is
/// done — at once with `hole_ends_it` (msync's plain MS_ASYNC).
pub(super) fn walk(
    start: VirtAddr,
    end: VirtAddr,
    hole_ends_it: bool,
    mut visit: impl FnMut(&Area, VirtAddr, VirtAddr) -> SysResult,
) -> SysResult {
    let mut at = start;
    let mut unmapped = false;
    loop {
        // A copy of the area, the lock let go: `visit` takes what it needs.
        let Some(area) = process::current().mm.read().areas().first_from(at).cloned() else {
            return Err(Errno::ENOMEM);
        };
        if at < area.start {
            if hole_ends_it {
                return Err(Errno::ENOMEM);
            }
            unmapped = true;
            at = area.start;
            if at >= end {
                break;
            }
        }
        let to = area.end.min(end);
        visit(&area, at, to)?;
        at = to;
        if at >= end {
            break;
        }
    }
    if unmapped {
        Err(Errno::ENOMEM)
    } else {
        Ok(0)
    }
}

pub fn madvise(addr: UserAddr, len: u64, advice: u32) -> SysResult {
    let start = addr.untagged(TagRule::AddressSpace).as_u64();
    let action = action(advice)?;
    if !start.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    let len = len.checked_add(PAGE - 1).ok_or(Errno::EINVAL)? & !(PAGE - 1);
    let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
    if end == start {
        return Ok(0);
    }
    // Above the user half there are no areas: a hole (ENOMEM), as on Linux.
    let (start, end) = (VirtAddr::new(start.min(USER_END)), VirtAddr::new(end.min(USER_END)));
    let beyond = end.as_u64() == USER_END && start.as_u64() + len > USER_END;
    let result = if start == end { Err(Errno::ENOMEM) } else { apply(action, start, end) };
    match result {
        Ok(_) if beyond => Err(Errno::ENOMEM),
        r => r,
    }
}

fn apply(action: Action, start: VirtAddr, end: VirtAddr) -> SysResult {
    match action {
        Action::Drop { .. } => walk(start, end, false, |area, from, to| {
            if refuses(action, area) {
                return Err(Errno::EINVAL);
            }
            // Exclusive: the walk clears entries and frees tables (Linux
            // takes the shared side and the page-table locks).
            process::current().mm.write().zap(from, to).map_err(|_| Errno::EINTR)?;
            Ok(0)
        }),
        Action::Populate { write } => walk(start, end, false, |area, from, to| {
            if refuses(action, area) {
                return Err(Errno::EINVAL);
            }
            populate::populate_pages(from, to, Touch { write, force: false }).map_err(|e| match e {
                PopulateError::OutOfMemory => Errno::ENOMEM,
                // VM_FAULT_SIGBUS or SIGSEGV, or the area went meanwhile.
                PopulateError::NoPage | PopulateError::NotPermitted => Errno::EFAULT,
                PopulateError::Interrupted => Errno::EINTR,
            })?;
            Ok(0)
        }),
        Action::SetFlag(_) | Action::ClearFlag(_) | Action::DoDump | Action::LruHint | Action::Nothing => {
            // Which area refuses first, if one does: the areas before it
            // take the advice, as Linux's walk leaves them.
            let mut stop = end;
            let result = walk(start, end, false, |area, from, _| {
                if refuses(action, area) {
                    stop = from;
                    return Err(Errno::EINVAL);
                }
                Ok(0)
            });
            let update = |a: &Area| match action {
                Action::SetFlag(f) => a.flags | f,
                Action::ClearFlag(f) => a.flags - f,
                _ => a.flags,
            };
            if matches!(action, Action::SetFlag(_) | Action::ClearFlag(_)) {
                // A split past the most areas: madvise's ENOMEM is EAGAIN.
                process::current().mm.write().update_area_flags(start, stop, update).map_err(|_| Errno::EAGAIN)?;
            }
            result
        }
    }
}
