//! /proc/<pid>/maps: one line per area, as Linux 6.1's show_map_vma
//! (fs/proc/task_mmu.c) prints it, and the VmFlags line smaps adds.
//!
//! What an area is called depends on its kind ([`name`]):
//!
//! | area | name | dev, inode, offset |
//! |---|---|---|
//! | anonymous, in the program break | `[heap]` | 0 |
//! | anonymous, holding the initial stack pointer | `[stack]` | 0 |
//! | other anonymous memory (ELF segments too: they are private copies) | none | 0 |
//! | a refpage_create(2) descriptor | `anon_inode:[refpage]` | 00:00, the st_ino fstat gives, the mmap offset |
//! | a /dev/shm file | `/dev/shm/NAME` | 00:00, its st_ino, the mmap offset |
//! | MAP_SHARED\|MAP_ANONYMOUS (or an unlinked /dev/shm file) | `/dev/zero (deleted)` | 00:00, 0, the offset |
//! | the vDSO's data and text | `[vvar]`, `[vdso]` (`Backing::special_name`) | 0 |
//! | file bytes past the end of the file (SIGBUS) | none | 0 |
//!
//! A refpage descriptor is what Linux calls an anonymous-inode file (no
//! path; the kind of file `anon_inode_getfile("[refpage]", ...)` makes),
//! and Linux names such mappings `anon_inode:[name]`; the inode number is
//! the one fstat reports on the descriptor, so a program can match the two.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt::Write;

use super::Text;
use crate::fs::tmpfs;
use crate::mm::addr::PAGE_SIZE;
use crate::mm::address_space::AddressSpace;
use crate::mm::vma::{Area, AreaFlags, Backing, Prot};
use crate::process::{Process, State};
use crate::sync::rw_lock::ReadGuard;
use crate::syscall::errno::Errno;

/// The address space of a task that still has one: a zombie's memory is
/// gone as far as /proc shows (Linux drops the mm at exit).
/// Under the shared side of its lock, given back when the guard drops:
/// before any copy to the reader's buffer (a /proc file's text is made in
/// kernel memory first, fs/procfs/mod.rs).
pub fn live_space(task: &Process) -> Option<ReadGuard<'_, AddressSpace>> {
    (task.state.get() != State::Zombie).then(|| task.mm.read())
}

/// The areas from where the text resumes (all of them at first).
pub fn areas_from<'a>(space: &'a AddressSpace, out: &Text) -> impl Iterator<Item = &'a Area> {
    let from = out.resume_key().unwrap_or(0);
    space.areas().iter().skip_while(move |a| a.start.as_u64() < from)
}

/// The name column of an area, and the inode number shown with it.
fn name(space: &AddressSpace, area: &Area) -> (Option<Cow<'static, str>>, u64) {
    let page = PAGE_SIZE as u64;
    match &area.backing {
        Backing::Anonymous => {
            let brk = space.brk;
            let heap_start = brk.start.checked_align_up(page).unwrap_or(brk.start);
            let heap_end = brk.end.checked_align_up(page).unwrap_or(brk.end);
            // Linux's tests: the area overlaps [start_brk, brk] (the
            // break's own areas), or holds mm->start_stack.
            let stack = space.layout.start_stack;
            if area.start >= heap_start && area.end <= heap_end {
                (Some(Cow::Borrowed("[heap]")), 0)
            } else if area.start.as_u64() <= stack && stack < area.end.as_u64() {
                (Some(Cow::Borrowed("[stack]")), 0)
            } else {
                (None, 0)
            }
        }
        Backing::RefPage(r) => (Some(Cow::Borrowed("anon_inode:[refpage]")), r.ino()),
        Backing::SharedMemory(pages) | Backing::PrivateFile(pages) => match tmpfs::path_of_pages(pages) {
            Some((path, ino)) => (Some(Cow::Owned(path)), ino),
            None => (Some(Cow::Borrowed("/dev/zero (deleted)")), 0),
        },
        Backing::VdsoData | Backing::VdsoText => (area.backing.special_name().map(Cow::Borrowed), 0),
        // Like the rest of an ELF segment (copied at exec), nameless.
        Backing::PastEndOfFile => (None, 0),
    }
}

/// One maps line: `start-end perms offset major:minor inode`, then the
/// name padded to column 73 (seq_setwidth(25 + 6 * sizeof(void *)) and
/// seq_pad), or a trailing space and no name.
pub fn line(space: &AddressSpace, area: &Area, out: &mut Text) {
    let (name, ino) = name(space, area);
    let offset = if matches!(
        area.backing,
        Backing::Anonymous | Backing::PastEndOfFile | Backing::VdsoData | Backing::VdsoText
    ) {
        0
    } else {
        area.pgoff * PAGE_SIZE as u64
    };
    let flag = |set: bool, c: char| if set { c } else { '-' };
    let mut head = String::new();
    let _ = write!(
        head,
        "{:08x}-{:08x} {}{}{}{} {:08x} 00:00 {} ",
        area.start.as_u64(),
        area.end.as_u64(),
        flag(area.prot.contains(Prot::READ), 'r'),
        flag(area.prot.contains(Prot::WRITE), 'w'),
        flag(area.prot.contains(Prot::EXEC), 'x'),
        if area.flags.contains(AreaFlags::SHARED) { 's' } else { 'p' },
        offset,
        ino
    );
    match name {
        Some(n) => {
            // "{:<72} {}", the padding in one piece.
            out.bytes(head.as_bytes());
            out.spaces(72usize.saturating_sub(head.chars().count()));
            let _ = writeln!(out, " {}", n);
        }
        None => {
            let _ = writeln!(out, "{}", head);
        }
    }
}

/// The VmFlags line: Linux's two-letter codes (show_smap_vma_flags) of the
/// VM_* flags this area would have, in Linux's bit order. mr and me are
/// always set (nothing here forbids reading or executing a mapping later);
/// mw unless it is a shared mapping of a read-only descriptor; sh only for
/// a shared mapping that may write, as Linux clears VM_SHARED otherwise;
/// ac for a private writable area (Linux charges those to the commit
/// count); de for [vvar] and [vdso] (special mappings); mt for PROT_MTE.
pub fn vm_flags(area: &Area, out: &mut Text) {
    let shared = area.flags.contains(AreaFlags::SHARED);
    let may_write = area.flags.contains(AreaFlags::MAY_WRITE);
    let codes = [
        (area.prot.contains(Prot::READ), "rd"),
        (area.prot.contains(Prot::WRITE), "wr"),
        (area.prot.contains(Prot::EXEC), "ex"),
        (shared && may_write, "sh"),
        (true, "mr"),
        (may_write, "mw"),
        (true, "me"),
        (shared, "ms"),
        (area.flags.contains(AreaFlags::LOCKED), "lo"),
        (area.flags.contains(AreaFlags::DONT_COPY), "dc"),
        (matches!(area.backing, Backing::VdsoData | Backing::VdsoText), "de"),
        (!shared && area.prot.contains(Prot::WRITE), "ac"),
        (area.flags.contains(AreaFlags::WIPE_ON_FORK), "wf"),
        (area.flags.contains(AreaFlags::MTE), "mt"),
    ];
    let _ = write!(out, "VmFlags: ");
    for (_, code) in codes.iter().filter(|(set, _)| *set) {
        let _ = write!(out, "{} ", code);
    }
    let _ = writeln!(out);
}

pub fn show(task: &Process, out: &mut Text) -> Result<(), Errno> {
    let Some(space) = live_space(task) else { return Ok(()) };
    for area in areas_from(&space, out) {
        if !out.record(area.start.as_u64()) {
            break;
        }
        line(&space, area, out);
    }
    Ok(())
}
