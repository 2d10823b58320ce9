//! Wait queues: where a task sleeps until some object (a pipe) changes, as
//! Linux's wait_queue_head_t.
//!
//! The rule that keeps wake-ups from being lost, written as if another CPU
//! ran beside us: the sleeper puts itself on every queue *first*, then
//! looks at the condition, and only then leaves the CPU. The waker changes
//! the condition first (under the object's own lock), then wakes whoever
//! is queued. Either the sleeper's check sees the change, or the waker
//! sees the sleeper on the queue (Linux's prepare_to_wait / wait_event).
//!
//! A queue holds task ids, not tasks: a task that died while queued (its
//! process was killed) is just an id that `wake` finds in no waiting state.

use alloc::vec::Vec;

use crate::sync::{Rank, SpinLock};

use super::{current, State};
use crate::arch::aarch64::timer;

pub struct WaitQueue {
    waiters: SpinLock<Vec<u32>>,
}

/// How a wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitEnd {
    /// The condition holds.
    Ready,
    /// A signal the task does not block arrived (the system call returns
    /// EINTR, or Linux's ERESTARTSYS / ERESTARTNOHAND).
    Interrupted,
    /// The deadline passed first.
    TimedOut,
}

impl WaitQueue {
    pub const fn new() -> Self {
        Self { waiters: SpinLock::new(Rank::WaitQueue, Vec::new()) }
    }

    fn add(&self, tid: u32) {
        let mut w = self.waiters.lock();
        if !w.contains(&tid) {
            w.push(tid);
        }
    }

    fn remove(&self, tid: u32) {
        let mut w = self.waiters.lock();
        w.retain(|&t| t != tid);
        if w.is_empty() {
            // Give the buffer back: a queue with no sleepers holds no heap.
            *w = Vec::new();
        }
    }

    /// Wakes every task on the queue (Linux's wake_up_interruptible_all);
    /// each looks at its condition again and queues itself again if it
    /// must go on waiting.
    pub fn wake_all(&self) {
        let woken = core::mem::take(&mut *self.waiters.lock());
        woken.into_iter().for_each(super::wake);
    }
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

/// Blocks the calling task on `queues` until `ready()` holds, a signal it
/// does not block arrives, or the counter reaches `deadline` (ticks; none:
/// no limit). `ready` is evaluated after queuing, each time round, with
/// whatever locks it takes itself; it must not block.
pub fn wait_until(queues: &[&WaitQueue], deadline: Option<u64>, mut ready: impl FnMut() -> bool) -> WaitEnd {
    let me = current().pid.0;
    current().in_wait.set(true);
    let leave = |end| {
        queues.iter().for_each(|q| q.remove(me));
        current().in_wait.set(false);
        end
    };
    loop {
        if current().outcome.borrow().is_some() {
            // The process ended while we slept (exit_group, the time
            // limit): return, and exit on the way back to EL0.
            return leave(WaitEnd::Interrupted);
        }
        queues.iter().for_each(|q| q.add(me));
        // Queued first, then the condition: a change made after this check
        // finds us on the queue.
        if ready() {
            return leave(WaitEnd::Ready);
        }
        let p = current();
        // A traced task is sent every signal, ignored ones too (Linux's
        // sig_ignored spares ptraced tasks), and any of them pending makes
        // signal_pending() true: the wait ends so that it can stop for its
        // tracer (pipe_read's -ERESTARTSYS, restarted after PTRACE_CONT).
        if p.signals.borrow().interrupts_wait() || (p.ptrace.borrow().tracer.is_some() && p.signals.borrow().any_deliverable()) {
            return leave(WaitEnd::Interrupted);
        }
        if deadline.is_some_and(|d| timer::ticks() >= d) {
            return leave(WaitEnd::TimedOut);
        }
        p.wake_at.set(deadline);
        super::block(State::Waiting);
        // Woken by a queue, a signal (signal_task) or the deadline: the
        // checks above say which, in Linux's order (condition first).
        let p = current();
        p.wake_at.set(None);
        p.interrupted.set(false);
    }
}
