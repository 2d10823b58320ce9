//! /proc/meminfo in Linux 6.1's format (fs/proc/meminfo.c, show_val_kb:
//! a 16-column label, the value right-aligned in 8, " kB").
//!
//! From the frame allocator and the kernel's own counts: MemTotal (frames
//! given to the allocator at boot), MemFree and MemAvailable (frames free;
//! nothing here is reclaimable), Cached (frames of shared memory, /dev/shm
//! files and reference pages: Linux's file pages), Shmem (the first two),
//! AnonPages (private frames mapped by processes, each counted once),
//! KernelStack (each task's kernel stack), CommitLimit (half of RAM, no
//! swap), Mlocked and Unevictable (pages mapped in locked areas, smaps.rs's
//! locked_pages). The rest is 0: this kernel has no swap, page-cache
//! writeback, LRU lists, slab, vmalloc or huge pages.

use super::smaps::{address_spaces, locked_pages, space_usage, MapCounts};
use super::{kb, Text};
use crate::mm::addr::PAGE_SIZE;
use crate::mm::{frame, refpage, shared_memory};
use crate::process::{self, loader::KERNEL_STACK_PAGES};
use crate::syscall::errno::Errno;

pub fn show(out: &mut Text) -> Result<(), Errno> {
    let page_kb = (PAGE_SIZE / 1024) as u64;
    let stats = frame::stats();
    let spaces = address_spaces();
    let mut counts = MapCounts::new();
    // Each space under its lock in turn, never two at once.
    let anon: u64 = spaces.iter().map(|s| space_usage(&s.read(), &mut counts).anon_pages()).sum();
    let mlocked: u64 = spaces.iter().map(|s| locked_pages(&s.read(), &mut counts)).sum();
    let shmem = shared_memory::frames_in_use() as u64;
    let cached = shmem + refpage::frames_in_use();
    let tasks = process::tasks().count() as u64;
    let rows: [(&str, u64); 33] = [
        ("MemTotal:       ", stats.total as u64),
        ("MemFree:        ", stats.free as u64),
        ("MemAvailable:   ", stats.free as u64),
        ("Buffers:        ", 0),
        ("Cached:         ", cached),
        ("SwapCached:     ", 0),
        ("Active:         ", 0),
        ("Inactive:       ", 0),
        ("Active(anon):   ", 0),
        ("Inactive(anon): ", 0),
        ("Active(file):   ", 0),
        ("Inactive(file): ", 0),
        ("Unevictable:    ", mlocked),
        ("Mlocked:        ", mlocked),
        ("SwapTotal:      ", 0),
        ("SwapFree:       ", 0),
        ("Dirty:          ", 0),
        ("Writeback:      ", 0),
        ("AnonPages:      ", anon),
        ("Mapped:         ", 0),
        ("Shmem:          ", shmem),
        ("KReclaimable:   ", 0),
        ("Slab:           ", 0),
        ("SReclaimable:   ", 0),
        ("SUnreclaim:     ", 0),
        ("KernelStack:    ", tasks * KERNEL_STACK_PAGES as u64),
        ("PageTables:     ", 0),
        ("SecPageTables:  ", 0),
        ("NFS_Unstable:   ", 0),
        ("Bounce:         ", 0),
        ("WritebackTmp:   ", 0),
        ("CommitLimit:    ", stats.total as u64 / 2),
        ("Committed_AS:   ", 0),
    ];
    for (label, pages) in rows {
        kb(out, label, pages * page_kb);
    }
    for label in [
        "VmallocTotal:   ",
        "VmallocUsed:    ",
        "VmallocChunk:   ",
        "Percpu:         ",
        "AnonHugePages:  ",
        "ShmemHugePages: ",
        "ShmemPmdMapped: ",
        "FileHugePages:  ",
        "FilePmdMapped:  ",
    ] {
        kb(out, label, 0);
    }
    use core::fmt::Write;
    let _ = write!(
        out,
        "HugePages_Total:   {:>5}\nHugePages_Free:    {:>5}\nHugePages_Rsvd:    {:>5}\nHugePages_Surp:    {:>5}\n",
        0, 0, 0, 0
    );
    kb(out, "Hugepagesize:   ", 2048);
    kb(out, "Hugetlb:        ", 0);
    Ok(())
}
