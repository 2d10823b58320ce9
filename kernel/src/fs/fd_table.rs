//! The per-process file-descriptor table: small integers naming open files.
//!
//! Linux's rules: a new descriptor is the lowest free one at or above a
//! minimum; none may reach the RLIMIT_NOFILE soft limit (EMFILE); a bad
//! descriptor is EBADF. The open files themselves are shared (`Arc`), so
//! dup'ed descriptors and mappings keep a file alive after close. Generic
//! over the file type so the rules are tested on the host.

use alloc::vec::Vec;

use super::open_fds::OpenFds;
use crate::syscall::errno::Errno;

/// One slot: the open file and the descriptor's own flag.
#[derive(Clone, Debug, PartialEq)]
pub struct FdEntry<F> {
    pub file: F,
    /// FD_CLOEXEC: closed by execve.
    pub cloexec: bool,
}

#[derive(Clone, Debug)]
pub struct FdTable<F> {
    slots: Vec<Option<FdEntry<F>>>,
    /// Which slots hold a file: bit `fd` set iff `slots[fd]` is `Some`.
    open: OpenFds,
}

impl<F: Clone> FdTable<F> {
    pub fn new() -> Self {
        Self { slots: Vec::new(), open: OpenFds::new() }
    }

    fn index(fd: i32) -> Result<usize, Errno> {
        usize::try_from(fd).map_err(|_| Errno::EBADF)
    }

    pub fn get(&self, fd: i32) -> Result<&FdEntry<F>, Errno> {
        self.slots.get(Self::index(fd)?).and_then(Option::as_ref).ok_or(Errno::EBADF)
    }

    pub fn get_mut(&mut self, fd: i32) -> Result<&mut FdEntry<F>, Errno> {
        self.slots.get_mut(Self::index(fd)?).and_then(Option::as_mut).ok_or(Errno::EBADF)
    }

    /// Installs `entry` at the lowest free descriptor `>= min`, below
    /// `limit` (Linux's alloc_fd: find_next_fd over the open_fds bitmap,
    /// a word at a time, not a walk of every slot below).
    pub fn insert_lowest(&mut self, min: usize, entry: FdEntry<F>, limit: usize) -> Result<i32, Errno> {
        let fd = self.open.lowest_free_from(min);
        if fd >= limit {
            return Err(Errno::EMFILE);
        }
        self.grow_to(fd)?;
        self.slots[fd] = Some(entry);
        self.open.set(fd);
        Ok(fd as i32)
    }

    /// Makes slot `fd` exist. A table of a million slots is 16 MiB of
    /// kernel heap: growing fails with ENOMEM (Linux's expand_files) rather
    /// than take the heap the kernel keeps for itself. Growing allocates a
    /// whole new buffer while the old one is still held, so that buffer is
    /// what must be spared (twice the old one, the usual doubling, or just
    /// what is needed when that is all there is), and an allocation that
    /// fails anyway (a heap too fragmented for it) is ENOMEM too, never a
    /// kernel panic.
    fn grow_to(&mut self, fd: usize) -> Result<(), Errno> {
        if fd < self.slots.len() {
            return Ok(());
        }
        let needed = fd + 1;
        // Only past its capacity: doubling at every new slot made a table
        // of 20 descriptors take megabytes.
        if needed > self.slots.capacity() {
            let slot = core::mem::size_of::<Option<FdEntry<F>>>();
            let doubled = needed.max(self.slots.capacity().saturating_mul(2));
            let capacity = [doubled, needed]
                .into_iter()
                .find(|&c| crate::mm::heap::can_spare(c.saturating_mul(slot)))
                .ok_or(Errno::ENOMEM)?;
            self.slots.try_reserve_exact(capacity - self.slots.len()).map_err(|_| Errno::ENOMEM)?;
        }
        self.open.grow_to(self.slots.capacity())?;
        self.slots.resize(needed, None);
        Ok(())
    }

    /// A copy of the table for fork or exec (Linux's dup_fd), ENOMEM when
    /// the heap cannot give its buffer (rather than a panic).
    pub fn try_clone(&self) -> Result<Self, Errno> {
        let mut slots = Vec::new();
        slots.try_reserve_exact(self.slots.len()).map_err(|_| Errno::ENOMEM)?;
        slots.extend(self.slots.iter().cloned());
        Ok(Self { slots, open: self.open.try_clone()? })
    }

    /// The kernel heap the table's slots and bitmaps take (what a copy at
    /// fork needs).
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * core::mem::size_of::<Option<FdEntry<F>>>() + self.open.heap_bytes()
    }

    /// Installs `entry` at exactly `fd` (dup2/dup3), returning what was
    /// there; `fd` must be below `limit`.
    pub fn insert_at(&mut self, fd: i32, entry: FdEntry<F>, limit: usize) -> Result<Option<FdEntry<F>>, Errno> {
        let i = Self::index(fd)?;
        if i >= limit {
            return Err(Errno::EBADF);
        }
        self.grow_to(i)?;
        self.open.set(i);
        Ok(self.slots[i].replace(entry))
    }

    /// The open descriptors in `[first, last]` closed (Linux's
    /// __range_close), or with `cloexec_only` marked close-on-exec and left
    /// open (__range_cloexec): how many there were.
    pub fn close_range(&mut self, first: usize, last: usize, cloexec_only: bool) -> usize {
        let end = last.saturating_add(1).min(self.slots.len());
        let mut n = 0;
        for fd in first.min(end)..end {
            let Some(entry) = self.slots[fd].as_mut() else { continue };
            n += 1;
            if cloexec_only {
                entry.cloexec = true;
            } else {
                self.slots[fd] = None;
                self.open.clear(fd);
            }
        }
        n
    }

    /// Closes every descriptor marked close-on-exec (execve).
    pub fn close_on_exec(&mut self) {
        for (fd, slot) in self.slots.iter_mut().enumerate() {
            if slot.as_ref().is_some_and(|e| e.cloexec) {
                *slot = None;
                self.open.clear(fd);
            }
        }
    }

    pub fn remove(&mut self, fd: i32) -> Result<FdEntry<F>, Errno> {
        let i = Self::index(fd)?;
        let entry = self.slots.get_mut(i).and_then(Option::take).ok_or(Errno::EBADF)?;
        self.open.clear(i);
        Ok(entry)
    }

    /// Slots the table has room for now, open or not (/proc/<pid>/status
    /// FDSize; what select clamps to).
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Number of open descriptors.
    #[cfg(test)]
    pub fn count(&self) -> usize {
        self.open.count()
    }
}

impl<F: Clone> Default for FdTable<F> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &'static str) -> FdEntry<&'static str> {
        FdEntry { file: name, cloexec: false }
    }

    #[test]
    fn new_descriptors_take_the_lowest_free_number() {
        let mut t = FdTable::new();
        for name in ["stdin", "stdout", "stderr"] {
            t.insert_lowest(0, entry(name), 1024).unwrap();
        }
        assert_eq!(t.insert_lowest(0, entry("a"), 1024), Ok(3));
        assert_eq!(t.insert_lowest(0, entry("b"), 1024), Ok(4));
        t.remove(3).unwrap();
        assert_eq!(t.insert_lowest(0, entry("c"), 1024), Ok(3), "3 is free again");
        assert_eq!(t.insert_lowest(10, entry("d"), 1024), Ok(10), "F_DUPFD's minimum");
        assert_eq!(t.get(3).unwrap().file, "c");
    }

    #[test]
    fn the_limit_gives_emfile() {
        let mut t = FdTable::new();
        for _ in 0..4 {
            t.insert_lowest(0, entry("x"), 4).unwrap();
        }
        assert_eq!(t.insert_lowest(0, entry("y"), 4), Err(Errno::EMFILE));
        t.remove(1).unwrap();
        assert_eq!(t.insert_lowest(0, entry("y"), 4), Ok(1));
    }

    #[test]
    fn bad_descriptors_are_ebadf() {
        let mut t = FdTable::new();
        t.insert_lowest(0, entry("x"), 8).unwrap();
        assert_eq!(t.get(-1).err(), Some(Errno::EBADF));
        assert_eq!(t.get(5).err(), Some(Errno::EBADF));
        assert_eq!(t.remove(7).err(), Some(Errno::EBADF));
        t.remove(0).unwrap();
        assert_eq!(t.remove(0).err(), Some(Errno::EBADF), "closing twice");
        assert_eq!(t.insert_at(8, entry("z"), 8).err(), Some(Errno::EBADF), "dup3 past the limit");
    }

    #[test]
    fn exec_closes_only_close_on_exec_descriptors() {
        let mut t = FdTable::new();
        t.insert_lowest(0, entry("keep"), 8).unwrap();
        t.insert_lowest(0, FdEntry { file: "drop", cloexec: true }, 8).unwrap();
        t.close_on_exec();
        assert_eq!(t.get(0).unwrap().file, "keep");
        assert_eq!(t.get(1).err(), Some(Errno::EBADF));
    }

    #[test]
    fn the_table_grows_by_doubling_only_past_its_capacity() {
        let mut t = FdTable::new();
        for _ in 0..100 {
            t.insert_lowest(0, entry("x"), 1 << 20).unwrap();
        }
        let slot = core::mem::size_of::<Option<FdEntry<&str>>>();
        assert!(t.heap_bytes() <= 2 * 100 * slot + 64, "100 descriptors take {} bytes of heap", t.heap_bytes());
    }

    #[test]
    fn descriptors_freed_by_close_exec_and_dup2_come_back_lowest_first() {
        let mut t = FdTable::new();
        for _ in 0..5_000 {
            t.insert_lowest(0, entry("x"), 10_000).unwrap();
        }
        assert_eq!(t.insert_at(7_000, entry("far"), 10_000), Ok(None));
        t.insert_at(100, FdEntry { file: "exec", cloexec: true }, 10_000).unwrap();
        t.remove(4_000).unwrap();
        t.remove(64).unwrap();
        t.close_on_exec();
        assert_eq!(t.insert_lowest(0, entry("a"), 10_000), Ok(64));
        assert_eq!(t.insert_lowest(0, entry("b"), 10_000), Ok(100), "closed by exec");
        assert_eq!(t.insert_lowest(0, entry("c"), 10_000), Ok(4_000));
        assert_eq!(t.insert_lowest(0, entry("d"), 10_000), Ok(5_000));
        assert_eq!(t.insert_lowest(7_000, entry("e"), 10_000), Ok(7_001), "7000 is taken by dup2");
        let copy = t.try_clone().unwrap();
        assert_eq!(copy.count(), 5_003);
    }

    #[test]
    fn close_range_closes_or_marks_only_open_descriptors_in_range() {
        let mut t = FdTable::new();
        for _ in 0..6 {
            t.insert_lowest(0, entry("x"), 100).unwrap();
        }
        t.remove(3).unwrap();
        assert_eq!(t.close_range(2, 4, true), 2);
        assert!(t.get(2).unwrap().cloexec && t.get(4).unwrap().cloexec && !t.get(5).unwrap().cloexec);
        assert_eq!(t.close_range(2, usize::MAX, false), 3, "2, 4 and 5; 3 was not open");
        assert_eq!(t.insert_lowest(0, entry("y"), 100), Ok(2));
        assert_eq!(t.close_range(50, 60, false), 0);
    }

    #[test]
    fn insert_at_replaces_and_returns_the_old_entry() {
        let mut t = FdTable::new();
        t.insert_lowest(0, entry("old"), 8).unwrap();
        assert_eq!(t.insert_at(0, entry("new"), 8), Ok(Some(entry("old"))));
        assert_eq!(t.insert_at(6, entry("far"), 8), Ok(None));
        assert_eq!(t.count(), 2);
    }
}
