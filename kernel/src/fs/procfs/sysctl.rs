//! /proc/sys/vm: the two limits programs look up. Read-only here: the
//! values are this kernel's constants, which Linux lets root change.

use core::fmt::Write;

use super::Text;
use crate::exec::layout::MIN_USER_ADDR;
use crate::mm::vma::MAX_AREAS;
use crate::syscall::errno::Errno;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sysctl {
    /// vm.max_map_count: the most areas an address space may have.
    MaxMapCount,
    /// vm.mmap_min_addr: the lowest address mmap places or accepts.
    MmapMinAddr,
}

impl Sysctl {
    pub const ALL: [Sysctl; 2] = [Sysctl::MaxMapCount, Sysctl::MmapMinAddr];

    pub fn name(self) -> &'static str {
        match self {
            Sysctl::MaxMapCount => "max_map_count",
            Sysctl::MmapMinAddr => "mmap_min_addr",
        }
    }

    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// One decimal number and a newline (proc_dointvec / proc_doulongvec).
    pub fn show(self, out: &mut Text) -> Result<(), Errno> {
        let value = match self {
            Sysctl::MaxMapCount => MAX_AREAS as u64,
            Sysctl::MmapMinAddr => MIN_USER_ADDR,
        };
        let _ = writeln!(out, "{}", value);
        Ok(())
    }
}
