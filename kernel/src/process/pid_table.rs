//! The table of tasks and its indices: pid -> task (Linux's pid hash),
//! the threads of each thread group (signal->thread_head), the children
//! of each process (task->children) and the tracees of each tracer
//! (task->ptraced). Kill, exit, exit_group, wait4's wake-up and exit_mmap
//! look at a group's threads or a process's children through them, in
//! O(log n + what they find), instead of walking every task: with 1,200
//! processes a kill walked the table ten times, 477,000 instructions
//! (`kill_and_exit_cost_the_same_with_many_processes`).
//!
//! The indices hold the values of the tasks' own fields (tgid, parent,
//! tracer), so every change of a parent or a tracer goes through the
//! table (`set_parent`, `set_tracer`), as does exec's pid exchange
//! (`rename`): an index that could miss a change would send a signal or a
//! wake-up to the wrong task. Each index is a set of (key, pid) pairs, so
//! a group with no thread left takes no room, and a range gives one key's
//! pids in order. All state is in the struct: whoever holds the table
//! (the big kernel lock's `&mut`) holds the indices.
//!
//! Generic over the task (`Task`), so that the host tests below check the
//! indices against a full scan after every change.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};

/// What the table reads and writes of a task.
pub trait Task {
    /// Its pid (thread ID).
    fn tid(&self) -> u32;
    /// Gives it a new pid (exec's exchange with its leader).
    fn set_tid(&self, tid: u32);
    /// Its thread group (process) ID; fixed for its life.
    fn tgid(&self) -> u32;
    /// Its parent's tgid; 0 for the runner.
    fn parent(&self) -> u32;
    fn set_parent(&self, parent: u32);
    /// The thread that traces it, if any.
    fn tracer(&self) -> Option<u32>;
    fn set_tracer(&self, tracer: Option<u32>);
}

/// Every (key, pid) pair of `set` with that key, pids in order.
fn pids_of(set: &BTreeSet<(u32, u32)>, key: u32) -> impl Iterator<Item = u32> + '_ {
    set.range((key, 0)..=(key, u32::MAX)).map(|&(_, pid)| pid)
}

pub struct PidTable<T: Task> {
    tasks: BTreeMap<u32, Box<T>>,
    /// (tgid, tid) of every task, zombies included.
    threads: BTreeSet<(u32, u32)>,
    /// (parent, pid) of every task (a thread's parent is its process's).
    children: BTreeSet<(u32, u32)>,
    /// (tracer, tracee) of every traced task.
    tracees: BTreeSet<(u32, u32)>,
    /// The tasks in a futex wait, from its start until it returns (or the
    /// task is removed): the ones a futex wake looks at.
    futex_waiters: BTreeSet<u32>,
}

impl<T: Task> Default for PidTable<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Task> PidTable<T> {
    pub const fn new() -> Self {
        Self {
            tasks: BTreeMap::new(),
            threads: BTreeSet::new(),
            children: BTreeSet::new(),
            tracees: BTreeSet::new(),
            futex_waiters: BTreeSet::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    pub fn get(&self, pid: u32) -> Option<&T> {
        self.tasks.get(&pid).map(|b| &**b)
    }

    /// Every task, in pid order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.tasks.values().map(|b| &**b)
    }

    /// The tids of thread group `tgid`, zombies included, in order.
    pub fn threads(&self, tgid: u32) -> impl Iterator<Item = u32> + '_ {
        pids_of(&self.threads, tgid)
    }

    /// The pids of the tasks whose parent is `parent`, in order.
    pub fn children(&self, parent: u32) -> impl Iterator<Item = u32> + '_ {
        pids_of(&self.children, parent)
    }

    /// The tids of the tasks that thread `tracer` traces, in order.
    pub fn tracees(&self, tracer: u32) -> impl Iterator<Item = u32> + '_ {
        pids_of(&self.tracees, tracer)
    }

    /// The tasks in a futex wait, in pid order.
    pub fn futex_waiters(&self) -> impl Iterator<Item = u32> + '_ {
        self.futex_waiters.iter().copied()
    }

    /// Task `pid` starts (true) or ends (false) a futex wait.
    pub fn set_futex_waiting(&mut self, pid: u32, waiting: bool) {
        if !waiting {
            self.futex_waiters.remove(&pid);
        } else if self.tasks.contains_key(&pid) {
            self.futex_waiters.insert(pid);
        }
    }

    /// Adds `task`; false (and nothing changes) if its pid is taken.
    pub fn insert(&mut self, task: Box<T>) -> bool {
        let pid = task.tid();
        if self.tasks.contains_key(&pid) {
            return false;
        }
        self.index(&task);
        self.tasks.insert(pid, task);
        true
    }

    fn index(&mut self, task: &T) {
        let pid = task.tid();
        self.threads.insert((task.tgid(), pid));
        self.children.insert((task.parent(), pid));
        if let Some(tracer) = task.tracer() {
            self.tracees.insert((tracer, pid));
        }
    }

    fn unindex(&mut self, task: &T) {
        let pid = task.tid();
        self.threads.remove(&(task.tgid(), pid));
        self.children.remove(&(task.parent(), pid));
        if let Some(tracer) = task.tracer() {
            self.tracees.remove(&(tracer, pid));
        }
        self.futex_waiters.remove(&pid);
    }

    /// Takes task `pid` out. What it traces or parents keeps naming it
    /// (the caller detached and re-parented them first, or moves them to
    /// the pid it gives another task: exec's exchange).
    pub fn remove(&mut self, pid: u32) -> Option<Box<T>> {
        let task = self.tasks.remove(&pid)?;
        self.unindex(&task);
        Some(task)
    }

    /// Every task taken out at once (the run's time limit), in pid order;
    /// the table is left empty, its room given back.
    pub fn take_all(&mut self) -> BTreeMap<u32, Box<T>> {
        let tasks = core::mem::take(&mut self.tasks);
        *self = Self::new();
        tasks
    }

    /// Gives back the room an empty table kept (an emptied BTreeMap keeps
    /// its root node), so a run leaves the heap as it found it.
    pub fn release_if_empty(&mut self) {
        if self.is_empty() {
            *self = Self::new();
        }
    }

    /// Task `pid`'s parent becomes `parent` (re-parenting to the runner,
    /// exec's transfer of the leader's parent).
    pub fn set_parent(&mut self, pid: u32, parent: u32) {
        let Some(task) = self.tasks.get(&pid) else { return };
        self.children.remove(&(task.parent(), pid));
        task.set_parent(parent);
        self.children.insert((parent, pid));
    }

    /// Task `pid`'s tracer becomes `tracer` (attach, detach).
    pub fn set_tracer(&mut self, pid: u32, tracer: Option<u32>) {
        let Some(task) = self.tasks.get(&pid) else { return };
        if let Some(old) = task.tracer() {
            self.tracees.remove(&(old, pid));
        }
        task.set_tracer(tracer);
        if let Some(new) = tracer {
            self.tracees.insert((new, pid));
        }
    }

    /// Task `old` takes pid `new`, which must be free (exec in a thread
    /// takes its leader's pid once the leader is removed: Linux's
    /// exchange_tids). The box moves, the task in it does not. What it
    /// traces is traced by `new` (Linux's transfer of ptraced tasks with
    /// the pid); the tasks whose parent is `old`, none for a thread, move
    /// too. False (nothing changes) if `old` is absent or `new` taken.
    pub fn rename(&mut self, old: u32, new: u32) -> bool {
        if self.tasks.contains_key(&new) {
            return false;
        }
        let Some(task) = self.tasks.remove(&old) else { return false };
        let waiting = self.futex_waiters.contains(&old);
        self.unindex(&task);
        task.set_tid(new);
        self.index(&task);
        self.tasks.insert(new, task);
        self.set_futex_waiting(new, waiting);
        let traced: alloc::vec::Vec<u32> = self.tracees(old).collect();
        for pid in traced {
            self.set_tracer(pid, Some(new));
        }
        let children: alloc::vec::Vec<u32> = self.children(old).collect();
        for pid in children {
            self.set_parent(pid, new);
        }
        true
    }

    /// Whether every index holds exactly what a scan of the tasks finds
    /// (the host tests' check).
    #[cfg(test)]
    pub fn indices_match_a_scan(&self) -> bool {
        let threads: BTreeSet<(u32, u32)> = self.iter().map(|t| (t.tgid(), t.tid())).collect();
        let children: BTreeSet<(u32, u32)> = self.iter().map(|t| (t.parent(), t.tid())).collect();
        let tracees: BTreeSet<(u32, u32)> = self.iter().filter_map(|t| Some((t.tracer()?, t.tid()))).collect();
        let keyed = self.tasks.iter().all(|(&pid, t)| t.tid() == pid);
        let waiters_live = self.futex_waiters.iter().all(|pid| self.tasks.contains_key(pid));
        keyed && waiters_live && threads == self.threads && children == self.children && tracees == self.tracees
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::XorShift;
    use core::cell::Cell;

    struct Fake {
        tid: Cell<u32>,
        tgid: u32,
        parent: Cell<u32>,
        tracer: Cell<Option<u32>>,
    }

    impl Task for Fake {
        fn tid(&self) -> u32 {
            self.tid.get()
        }
        fn set_tid(&self, tid: u32) {
            self.tid.set(tid)
        }
        fn tgid(&self) -> u32 {
            self.tgid
        }
        fn parent(&self) -> u32 {
            self.parent.get()
        }
        fn set_parent(&self, parent: u32) {
            self.parent.set(parent)
        }
        fn tracer(&self) -> Option<u32> {
            self.tracer.get()
        }
        fn set_tracer(&self, tracer: Option<u32>) {
            self.tracer.set(tracer)
        }
    }

    fn task(tid: u32, tgid: u32, parent: u32) -> Box<Fake> {
        Box::new(Fake { tid: Cell::new(tid), tgid, parent: Cell::new(parent), tracer: Cell::new(None) })
    }

    #[test]
    fn the_indices_equal_a_full_scan_after_any_sequence_of_changes() {
        for seed in 1..40u64 {
            let mut rng = XorShift::new(seed);
            let mut t: PidTable<Fake> = PidTable::new();
            let mut next = 1u32;
            for step in 0..400 {
                let pids: alloc::vec::Vec<u32> = t.iter().map(|x| x.tid()).collect();
                let any = |rng: &mut XorShift| pids.get(rng.below(pids.len().max(1))).copied();
                if let Some(p) = any(&mut rng).filter(|_| rng.below(4) == 0) {
                    t.set_futex_waiting(p, rng.below(2) == 0);
                }
                match rng.below(7) {
                    // fork: a process whose parent is some process (or the runner)
                    0 | 1 => {
                        let parent = any(&mut rng).map_or(0, |p| t.get(p).unwrap().tgid());
                        assert!(t.insert(task(next, next, parent)));
                        next += 1;
                    }
                    // a thread: same group, the process's parent
                    2 => {
                        if let Some(p) = any(&mut rng) {
                            let (tgid, parent) = {
                                let x = t.get(p).unwrap();
                                (x.tgid(), x.parent())
                            };
                            assert!(t.insert(task(next, tgid, parent)));
                            next += 1;
                        }
                    }
                    // reap
                    3 => {
                        if let Some(p) = any(&mut rng) {
                            assert_eq!(t.remove(p).map(|x| x.tid()), Some(p));
                        }
                    }
                    // re-parent to the runner or another process
                    4 => {
                        if let (Some(p), Some(q)) = (any(&mut rng), any(&mut rng)) {
                            let to = if rng.below(2) == 0 { 0 } else { t.get(q).unwrap().tgid() };
                            t.set_parent(p, to);
                            assert_eq!(t.get(p).unwrap().parent(), to);
                        }
                    }
                    // attach or detach
                    5 => {
                        if let (Some(p), Some(q)) = (any(&mut rng), any(&mut rng)) {
                            t.set_tracer(p, if rng.below(3) == 0 { None } else { Some(q) });
                        }
                    }
                    // exec in a thread: the leader goes, the thread takes its pid
                    _ => {
                        if let Some(p) = any(&mut rng) {
                            let tgid = t.get(p).unwrap().tgid();
                            if p != tgid {
                                let leader_parent = t.remove(tgid).map(|l| l.parent());
                                assert!(t.rename(p, tgid));
                                if let Some(parent) = leader_parent {
                                    t.set_parent(tgid, parent);
                                }
                                assert!(t.get(p).is_none() && t.get(tgid).unwrap().tid() == tgid);
                            }
                        }
                    }
                }
                assert!(t.indices_match_a_scan(), "seed {} step {}: an index differs from a full scan", seed, step);
            }
        }
    }

    #[test]
    fn each_index_answers_what_a_scan_finds() {
        let mut t: PidTable<Fake> = PidTable::new();
        t.insert(task(1, 1, 0));
        t.insert(task(2, 2, 1));
        t.insert(task(3, 2, 1)); // thread of 2
        t.insert(task(4, 4, 1));
        t.insert(task(5, 5, 2));
        assert!(!t.insert(task(4, 4, 1)), "a taken pid is refused");
        assert_eq!(t.threads(2).collect::<alloc::vec::Vec<_>>(), [2, 3]);
        assert_eq!(t.children(1).collect::<alloc::vec::Vec<_>>(), [2, 3, 4]);
        assert_eq!(t.children(2).collect::<alloc::vec::Vec<_>>(), [5]);
        t.set_tracer(5, Some(3));
        assert_eq!(t.tracees(3).collect::<alloc::vec::Vec<_>>(), [5]);
        // Thread 3 execs: it takes pid 2, keeping what it traces.
        t.remove(2);
        assert!(t.rename(3, 2));
        assert_eq!(t.tracees(2).collect::<alloc::vec::Vec<_>>(), [5]);
        assert_eq!(t.get(5).unwrap().tracer(), Some(2));
        assert_eq!(t.threads(2).collect::<alloc::vec::Vec<_>>(), [2]);
        assert!(!t.rename(2, 4), "a taken pid is refused");
        assert!(t.indices_match_a_scan());
        let all = t.take_all();
        assert_eq!(all.len(), 4);
        assert!(t.is_empty() && t.threads(2).next().is_none() && t.children(1).next().is_none());
    }
}
