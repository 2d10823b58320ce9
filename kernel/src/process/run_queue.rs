//! The run queue: the pids of the tasks ready to run, in the order they
//! became ready, one queue shared by every CPU (docs/smp.md, section 1),
//! behind a lock of its own (Linux's rq->lock; rank `RunQueue`, taken with
//! interrupts masked).
//!
//! Each operation takes the lock, does its one thing and lets it go: no
//! guard leaves this file, so none is held across a context switch, a
//! yield or a block (`switch_context` checks that no spin lock is). The
//! queue holds pids only; what a pid's task is now (gone, on a CPU, which
//! CPUs it may run on) is the caller's to say at `pick`, under the lock,
//! since it may have changed since the pid was queued (a new affinity, an
//! exit, a wake-up that queued it twice).
//!
//! Pure logic over the lock, tested on the host (`tests` below: CPUs
//! pushing and picking at once never lose or duplicate a pid, and never
//! take one they may not run).

use alloc::collections::VecDeque;

use super::cpu_mask::CpuMask;
use crate::sync::{IrqSpinLock, Rank};

/// What a queued pid's task is now, as the queue's owner sees it (for
/// `pick`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Gone, or no longer runnable: its entry is dropped.
    Gone,
    /// Runnable but still on a CPU (its context not saved yet): left queued.
    Busy,
    /// Runnable, on no CPU, allowed on the CPUs of the mask: taken by one
    /// of them.
    Ready(CpuMask),
}

/// The shared run queue.
pub struct RunQueue {
    pids: IrqSpinLock<VecDeque<u32>>,
}

impl RunQueue {
    pub const fn new() -> Self {
        Self { pids: IrqSpinLock::new(Rank::RunQueue, VecDeque::new()) }
    }

    /// Queues `pid` last.
    #[track_caller]
    pub fn push_back(&self, pid: u32) {
        self.pids.lock().push_back(pid);
    }

    /// Takes the first task CPU `cpu` may run (`Seen::Ready` with `cpu` in
    /// its mask), or, if it is queued and `cpu` may run it, `first` (the
    /// task this CPU was kicked for: scheduler.rs, `KICKED_FOR`; 0 for
    /// none). Entries of `Seen::Gone` tasks met on the way are dropped;
    /// `look` is asked under the lock, once an entry at most.
    #[track_caller]
    pub fn pick(&self, cpu: usize, first: u32, look: impl Fn(u32) -> Seen) -> Option<u32> {
        let runs_here = |pid: u32| matches!(look(pid), Seen::Ready(mask) if mask.contains(cpu));
        let mut q = self.pids.lock();
        if first != 0 {
            if let Some(i) = q.iter().position(|&pid| pid == first) {
                if runs_here(first) {
                    q.remove(i);
                    return Some(first);
                }
            }
        }
        let mut i = 0;
        while let Some(&pid) = q.get(i) {
            match look(pid) {
                Seen::Ready(mask) if mask.contains(cpu) => {
                    q.remove(i);
                    return Some(pid);
                }
                Seen::Ready(_) | Seen::Busy => i += 1,
                Seen::Gone => {
                    q.remove(i);
                }
            }
        }
        None
    }

    /// Drops every entry of the pids in `sorted` (ascending): tasks that
    /// exec's de_thread releases.
    #[track_caller]
    pub fn remove(&self, sorted: &[u32]) {
        self.pids.lock().retain(|pid| sorted.binary_search(pid).is_err());
    }

    /// How many entries are queued (stale ones included): for the tests.
    #[cfg(test)]
    #[track_caller]
    pub fn len(&self) -> usize {
        self.pids.lock().len()
    }

    /// Empties the queue and gives its buffer back to the heap (the run is
    /// over: the runner counts every byte a run leaves behind).
    #[track_caller]
    pub fn release(&self) {
        let old = core::mem::take(&mut *self.pids.lock());
        // Freed once the lock is let go.
        drop(old);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::vec::Vec;

    fn mask(cpus: &[usize]) -> CpuMask {
        let mut bytes = [0u8; 8];
        for &c in cpus {
            bytes[c / 8] |= 1 << (c % 8);
        }
        CpuMask::from_bytes(&bytes)
    }

    /// The CPUs pid `pid` may run on in the concurrent test: all four, or
    /// only one of them, or two.
    fn allowed(pid: u32) -> CpuMask {
        match pid % 5 {
            0 => mask(&[0, 1, 2, 3]),
            1 => mask(&[(pid as usize / 5) % 4]),
            2 => mask(&[1, 3]),
            3 => mask(&[0, 2]),
            _ => mask(&[3]),
        }
    }

    #[test]
    fn cpus_pushing_and_picking_at_once_lose_and_duplicate_nothing_and_keep_affinity() {
        const CPUS: usize = 4;
        const PER_CPU: u32 = 1_000;
        let queue = RunQueue::new();
        let picked = AtomicUsize::new(0);
        let total = CPUS * PER_CPU as usize;
        let picks: Vec<Vec<(usize, u32)>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..CPUS)
                .map(|cpu| {
                    let (queue, picked) = (&queue, &picked);
                    s.spawn(move || {
                        let mut mine = Vec::new();
                        let mut next = 1 + cpu as u32 * PER_CPU;
                        let end = next + PER_CPU;
                        while picked.load(Ordering::SeqCst) < total {
                            // Push one, pick one, while the others do the
                            // same: the queue grows and shrinks as they race.
                            if next < end {
                                queue.push_back(next);
                                next += 1;
                            }
                            // Now and then the last pid pushed is the one
                            // this CPU was kicked for.
                            let first = if next.is_multiple_of(7) { next - 1 } else { 0 };
                            if let Some(pid) = queue.pick(cpu, first, |pid| Seen::Ready(allowed(pid))) {
                                mine.push((cpu, pid));
                                picked.fetch_add(1, Ordering::SeqCst);
                            } else {
                                // Nothing for this CPU: let the host run the
                                // others (the test has more threads than it
                                // may have cores).
                                std::thread::yield_now();
                            }
                        }
                        mine
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().expect("a picker panicked")).collect()
        });
        let mut all: Vec<u32> = Vec::new();
        for (cpu, pid) in picks.into_iter().flatten() {
            assert!(allowed(pid).contains(cpu), "cpu {cpu} took pid {pid}, allowed on {:?}", allowed(pid));
            all.push(pid);
        }
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "{} pids picked twice", n - all.len());
        assert_eq!(all, (1..=total as u32).collect::<Vec<_>>(), "pids lost");
        assert_eq!(queue.len(), 0, "entries left behind");
    }

    #[test]
    fn pick_takes_the_kicked_for_task_first_if_it_may_run_here() {
        let queue = RunQueue::new();
        // Task 10 may run on CPUs 1 and 2, task 11 on CPU 2 only, queued
        // in that order; CPU 2 was kicked for 11.
        let look = |pid| Seen::Ready(if pid == 10 { mask(&[1, 2]) } else { mask(&[2]) });
        queue.push_back(10);
        queue.push_back(11);
        assert_eq!(queue.pick(2, 11, look), Some(11));
        assert_eq!(queue.pick(2, 11, look), Some(10), "the kicked-for task is gone: the first that runs here");
        // Kicked for a task it may not run: the first it may.
        queue.push_back(11);
        queue.push_back(10);
        assert_eq!(queue.pick(1, 11, look), Some(10));
        assert_eq!(queue.pick(1, 0, look), None, "CPU 1 took a task pinned to CPU 2");
        assert_eq!(queue.len(), 1);
    }

    #[test]
    fn pick_drops_gone_entries_and_keeps_busy_ones() {
        let queue = RunQueue::new();
        for pid in [1, 2, 3, 4] {
            queue.push_back(pid);
        }
        let look = |pid| match pid {
            1 => Seen::Gone,
            2 => Seen::Busy,
            3 => Seen::Ready(mask(&[1])),
            _ => Seen::Ready(mask(&[0])),
        };
        assert_eq!(queue.pick(0, 0, look), Some(4));
        assert_eq!(queue.len(), 2, "the gone entry stayed, or a busy one went");
        assert_eq!(queue.pick(0, 2, look), None, "a task still on a CPU was taken");
        queue.remove(&[2, 3]);
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn the_lock_is_not_held_after_an_operation() {
        let queue = RunQueue::new();
        queue.push_back(1);
        let _ = queue.pick(0, 0, |_| {
            assert!(crate::sync::lock_order::holds(Rank::RunQueue) || !crate::sync::lock_order::CHECKED);
            Seen::Busy
        });
        assert!(!crate::sync::lock_order::holds(Rank::RunQueue), "pick kept its lock");
        queue.release();
        assert_eq!(queue.len(), 0);
    }
}
