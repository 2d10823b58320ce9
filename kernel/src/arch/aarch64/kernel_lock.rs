//! The big kernel lock (docs/smp.md, section 1): one lock that every CPU
//! holds while it runs kernel code for tasks, so that the kernel's
//! one-CPU arguments (the scheduler's table, the
//! `&'static Process` the scheduler hands out) stay true while user
//! code runs on every CPU at once. Linux 2.0 to 2.4 SMP ran the same way
//! (`lock_kernel` at every entry), and xv6 holds its `ptable.lock` across
//! `swtch` as the scheduler here holds this one.
//!
//! Taken at every entry from EL0 before anything touches shared state and
//! released last before the `eret` (exception.rs); taken by a CPU's runner
//! before it looks at the run queue, and held across the switch into a task
//! (and back): a task starts or resumes with the lock its runner took, and
//! gives it up on its way to EL0. So it is acquired and released by
//! explicit calls, never by a guard: the CPU that releases it is the one
//! that holds it, but the code that releases it is not the code that took
//! it.
//!
//! A test-and-set lock on the owner's CPU number: one compare-and-swap
//! to take it, one store to release it, and the owner is known for the
//! checks below. Not a ticket lock: under QEMU the vCPUs are host threads,
//! often more than the host's cores, and a ticket handed to a waiter whose
//! thread the host has descheduled keeps every CPU out until the host runs
//! it again (lock-waiter preemption); measured, four threads making
//! system calls on four CPUs of a 2-core host took over three times as
//! long. Waiters relax with YIELD (relax.rs: under QEMU's -icount this
//! ends the vCPU's turn, so waiting costs a few instructions) and count
//! themselves, so that a runner that releases the lock between two tasks
//! lets one of them in before it takes it again (`let_waiters_in`). A
//! waiter that has waited a millisecond claims the next turn
//! (`KernelLock::starving`): seen in `make kselftest`, a CPU lost the
//! race for two seconds to two others making system calls in a loop. The
//! claim lapses after [`CLAIM_NS`] if the claimant does not take the
//! lock (its vCPU descheduled by the host: the same trap as a ticket).
//!
//! The watchdog: a waiting CPU that sees one holding of the lock last more
//! than [`WATCHDOG_NS`] of its own running time (`Watchdog`: a loaded host
//! that runs no vCPU is not counted, only logged) reports which CPU holds
//! it, since where (`#[track_caller]`) and where that CPU was last seen
//! (breadcrumb.rs), gives the harness a second to read every vCPU's
//! registers (scripts/qemu-watch), then panics: a CPU stuck in the kernel
//! is a bug. So does a CPU that has waited [`STARVED_NS`] while others
//! took turns.

use core::panic::Location;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};

use super::cpu_local::{this_cpu, CpuData};
use super::relax::CpuRelax;
use super::timer;
use spin::relax::RelaxStrategy;
use crate::sync::lock_order::{self, Rank};

/// How long one CPU may hold the lock before a waiter reports it stuck:
/// 2 s of the waiter's own running time (`Watchdog`). Nothing the kernel does for a task holds the lock
/// that long: long work yields at slice ends (`cond_resched`), and a
/// runner lets waiters in between two tasks.
const WATCHDOG_NS: u64 = 2_000_000_000;

/// How long a CPU may wait while others take turns before it reports
/// itself starved: 10 s, a program's whole default time limit.
const STARVED_NS: u64 = 10_000_000_000;

/// How long a claim of the next turn holds while the lock is free and the
/// claimant does not take it.
const CLAIM_NS: u64 = 2_000_000;

/// No CPU holds the lock.
const NO_OWNER: u32 = u32::MAX;

struct KernelLock {
    /// The owner's CPU index, or `NO_OWNER`: the lock itself.
    owner: AtomicU32,
    /// CPUs waiting in `wait`.
    waiters: AtomicU32,
    /// A waiter that has waited past [`STARVING_NS`], or `NO_OWNER`: the
    /// lock is its next (every other CPU, the fast path included, leaves it
    /// alone while it is free), so no CPU waits for ever behind others
    /// that keep taking it (qspinlock's pending waiter, in spirit).
    starving: AtomicU32,
    /// When `starving` was claimed (counter ticks).
    claimed_at: AtomicU64,
    /// Where the owner took it (a `&'static Location`), for the watchdog.
    location: AtomicPtr<Location<'static>>,
    /// When it took it (counter ticks).
    since: AtomicU64,
}

static LOCK: KernelLock = KernelLock {
    owner: AtomicU32::new(NO_OWNER),
    waiters: AtomicU32::new(0),
    starving: AtomicU32::new(NO_OWNER),
    claimed_at: AtomicU64::new(0),
    location: AtomicPtr::new(core::ptr::null_mut()),
    since: AtomicU64::new(0),
};

fn this_cpu_index() -> u32 {
    this_cpu().index() as u32
}

fn try_take(me: u32) -> bool {
    LOCK.owner.compare_exchange(NO_OWNER, me, Ordering::Acquire, Ordering::Relaxed).is_ok()
}

/// What the new owner notes for reports.
#[track_caller]
#[inline(always)]
fn note_owner() {
    super::breadcrumb::here();
    LOCK.location.store(Location::caller() as *const Location<'static> as *mut Location<'static>, Ordering::Relaxed);
    LOCK.since.store(timer::ticks(), Ordering::Relaxed);
}

/// How long a waiter waits before it claims the next turn (`starving`).
const STARVING_NS: u64 = 1_000_000;

/// Takes the lock, waiting for it.
#[track_caller]
#[inline]
pub fn lock() {
    lock_here(this_cpu())
}

/// `lock` on `cpu`, the caller's CPU as it read it (exception.rs: the
/// entry from EL0 reads TPIDR_EL1 once for the lock and the rest).
#[track_caller]
#[inline(always)]
pub fn lock_here(cpu: &CpuData) {
    let me = cpu.index() as u32;
    if LOCK.starving.load(Ordering::Relaxed) != NO_OWNER || !try_take(me) {
        wait(me);
    }
    note_owner();
    lock_order::acquired(Rank::KernelLock);
}

/// Takes the lock if no CPU holds it; false otherwise. For an idle CPU,
/// which has nothing to do while another holds the lock and so goes back
/// to sleep rather than spin (a spinning vCPU takes host time from the one
/// holding the lock).
#[track_caller]
pub fn try_lock() -> bool {
    let taken = LOCK.starving.load(Ordering::Relaxed) == NO_OWNER && try_take(this_cpu_index());
    if taken {
        note_owner();
        lock_order::acquired(Rank::KernelLock);
    }
    taken
}

/// The contended case, out of line: relax until the lock is free and this
/// CPU takes it; the watchdog.
#[inline(never)]
fn wait(me: u32) {
    if LOCK.owner.load(Ordering::Relaxed) == me {
        // The lock is not recursive: this CPU would wait for itself.
        panic!("cpu {} takes the kernel lock it already holds (taken at {})", me, holder_location());
    }
    LOCK.waiters.fetch_add(1, Ordering::Relaxed);
    let start = timer::ticks();
    let (starving_after, claim) = (timer::ns_to_ticks(STARVING_NS), timer::ns_to_ticks(CLAIM_NS));
    let mut watch = Watchdog::new(start);
    let mut turns: u32 = 0;
    loop {
        let now = timer::ticks();
        let starving = LOCK.starving.load(Ordering::Relaxed);
        // Another CPU's claim of the next turn, not yet lapsed.
        let others_turn = starving != NO_OWNER
            && starving != me
            && now.saturating_sub(LOCK.claimed_at.load(Ordering::Relaxed)) < claim;
        if !others_turn && LOCK.owner.load(Ordering::Relaxed) == NO_OWNER && try_take(me) {
            if starving == me {
                LOCK.starving.store(NO_OWNER, Ordering::Relaxed);
            }
            break;
        }
        CpuRelax::relax();
        let waited = now.wrapping_sub(start);
        if waited > starving_after
            && starving != me
            && !others_turn
            && LOCK.starving.compare_exchange(starving, me, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            // This CPU's turn is next (another CPU may have claimed first).
            LOCK.claimed_at.store(now, Ordering::Relaxed);
        }
        // The watchdog every LOOK_EVERY turns: a look is some twenty
        // instructions, a turn without it a few, and under -icount every
        // waiting turn counts (make bench's fault scaling).
        turns = turns.wrapping_add(1);
        if turns.is_multiple_of(LOOK_EVERY) {
            watch.look(me, now);
        }
    }
    LOCK.waiters.fetch_sub(1, Ordering::Relaxed);
}

/// How many turns of a wait go by between two of its watchdog's looks.
const LOOK_EVERY: u32 = 16;

/// A gap this long between two of a waiter's looks at the lock means its
/// own vCPU was not running meanwhile (under QEMU a vCPU is a host thread,
/// and a loaded host runs others): that time is not counted.
const ABSENT_NS: u64 = 1_000_000;

/// How long the watchdog gives the test harness to read every vCPU's
/// registers (scripts/qemu-watch, on the `kernel lock watchdog:` line)
/// before the panic stops the holder.
const HARNESS_NS: u64 = 1_000_000_000;

/// What one waiter sees of the holdings it waits behind. Time is counted
/// in the waiter's own running time (the counter's advance between two of
/// its looks, gaps of [`ABSENT_NS`] or more left out), not in the
/// counter's: on a host that runs none of the vCPUs for a while (the
/// soak's one unexplained panic was on a host at load average 10), the
/// counter moves on while neither the holder nor the waiter runs, and a
/// holding that is short in the holder's own terms looked stuck. The
/// holder's own progress is its breadcrumb's count of marks
/// (breadcrumb.rs), reported with its last place.
struct Watchdog {
    /// The previous look (counter ticks).
    prev: u64,
    /// This waiter's running time since it began waiting.
    ran: u64,
    /// The holding watched: its owner and start (`LOCK.since`).
    owner: u32,
    since: u64,
    /// This waiter's running time while that holding lasted.
    ran_held: u64,
    /// The counter when the watch of that holding began.
    watched_at: u64,
    /// The holder's breadcrumb count then.
    steps: u64,
    /// A holding that was long by the counter only has been reported.
    told: bool,
    /// [`ABSENT_NS`], [`WATCHDOG_NS`] and [`STARVED_NS`] in counter ticks,
    /// converted once: each conversion is a 128-bit division, and a look
    /// is made at every turn of the wait (with them converted at each
    /// look, waiting cost three times as many instructions, which
    /// `make bench`'s fault scaling showed: four processes 1.20x one's
    /// cost per fault instead of 1.10x).
    absent: u64,
    stuck: u64,
    starved: u64,
}

impl Watchdog {
    fn new(now: u64) -> Self {
        Self {
            prev: now,
            ran: 0,
            owner: NO_OWNER,
            since: 0,
            ran_held: 0,
            watched_at: now,
            steps: 0,
            told: false,
            absent: timer::ns_to_ticks(ABSENT_NS),
            stuck: timer::ns_to_ticks(WATCHDOG_NS),
            starved: timer::ns_to_ticks(STARVED_NS),
        }
    }

    fn look(&mut self, me: u32, now: u64) {
        let step = now.saturating_sub(self.prev);
        self.prev = now;
        let ran = if step < self.absent { step } else { 0 };
        self.ran += ran;
        let (owner, since) = (LOCK.owner.load(Ordering::Relaxed), LOCK.since.load(Ordering::Relaxed));
        if owner == NO_OWNER {
            return;
        }
        if owner != self.owner || since != self.since {
            // Another holding (or the holder touched the watchdog).
            *self = Self { owner, since, ran_held: 0, watched_at: now, steps: holder_steps(owner), told: false, ..*self };
        } else {
            self.ran_held += ran;
        }
        let stuck = self.stuck;
        let held = now.saturating_sub(since);
        if self.ran_held > stuck {
            self.stuck(me, now, held);
        }
        if held > stuck && !self.told && now.saturating_sub(self.watched_at) > stuck {
            // Long by the counter, not by what ran: the host, not the kernel.
            self.told = true;
            log::warn!(
                "kernel lock held by cpu {} for {} ms of the counter, but this cpu {} ran {} ms of it: the host is not running the vCPUs (holder {})",
                owner,
                timer::ticks_to_ns(held) / 1_000_000,
                me,
                timer::ticks_to_ns(self.ran_held) / 1_000_000,
                Progress(owner, self.steps)
            );
        }
        if self.ran > self.starved {
            panic!(
                "cpu {} starved: ran {} ms waiting for the kernel lock while other CPUs took it (last by cpu {} at {}; {})",
                me,
                timer::ticks_to_ns(self.ran) / 1_000_000,
                owner,
                holder_location(),
                Progress(owner, self.steps)
            );
        }
    }

    /// The report: one line the harness acts on (it reads every vCPU's
    /// registers through QEMU's monitor), a pause for it, then the panic.
    fn stuck(&self, me: u32, now: u64, held: u64) -> ! {
        let holding = Holding { watch: self, me, held };
        log::error!("kernel lock watchdog: {}", holding);
        let pause = timer::ns_to_ticks(HARNESS_NS);
        while timer::ticks().saturating_sub(now) < pause {
            CpuRelax::relax();
        }
        panic!("cpu {} stuck: {}", me, holding)
    }
}

/// A holding the watchdog reports: who, since where, how long by the
/// counter and by the waiter's running time, and the holder's progress.
struct Holding<'a> {
    watch: &'a Watchdog,
    me: u32,
    held: u64,
}

impl core::fmt::Display for Holding<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        write!(
            f,
            "kernel lock held by cpu {} since {} for {} ms ({} ms of it with cpu {} running); holder {}",
            self.watch.owner,
            holder_location(),
            timer::ticks_to_ns(self.held) / 1_000_000,
            timer::ticks_to_ns(self.watch.ran_held) / 1_000_000,
            self.me,
            Progress(self.watch.owner, self.watch.steps)
        )
    }
}

/// The holder's breadcrumb count.
fn holder_steps(owner: u32) -> u64 {
    super::cpu_local::cpu(owner as usize).map_or(0, |c| c.breadcrumb().read().1)
}

/// A holder's progress since a count of its marks: its last place, and
/// whether it moved on (a long path that does not yield: a kernel bug) or
/// not (a loop that leaves no mark, or a vCPU the host does not run).
struct Progress(u32, u64);

impl core::fmt::Display for Progress {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        let Some(cpu) = super::cpu_local::cpu(self.0 as usize) else { return write!(f, "cpu {} unknown", self.0) };
        let (place, steps) = cpu.breadcrumb().read();
        let moved = steps.wrapping_sub(self.1);
        match place {
            Some(place) if moved > 0 => write!(f, "moving: {} marks while watched, the last at {}", moved, place),
            Some(place) => write!(f, "not moving: no mark while watched, the last at {}", place),
            None => write!(f, "left no mark"),
        }
    }
}

/// Releases the lock and, if CPUs wait for it, lets one of them take it
/// before taking it again (a runner between two tasks): a test-and-set
/// lock released and taken again at once would keep it from them.
#[track_caller]
pub fn let_waiters_in() {
    unlock();
    let mut turns = 0;
    while LOCK.waiters.load(Ordering::Relaxed) > 0
        && LOCK.owner.load(Ordering::Relaxed) == NO_OWNER
        && turns < WAITER_TURNS
    {
        CpuRelax::relax();
        turns += 1;
    }
    lock();
}

/// A long walk's pause with CPUs waiting (mm/long_walk.rs: munmap's,
/// mprotect's and the exit's walks, at each slice end): releases the lock,
/// gives a waiter up to [`CLAIM_NS`] to take it, then takes the next turn
/// for this CPU and the lock again. No context switch: the caller holds
/// nothing else, as at a `cond_resched`, and its task stays on this CPU.
///
/// A waiter's claim of the next turn (`starving`) was made during the
/// walk's holding and has lapsed by now; it runs again from the release,
/// so that the claimant takes the lock rather than this CPU at once. Under
/// QEMU on a loaded host a waiter whose vCPU shares a host core with the
/// walker's runs only while the walker's does not, and otherwise found the
/// lock held at every turn: with `SMP=2`, a walk that paused through the
/// runner (`cond_resched`, `let_waiters_in`) let the other CPU in at none
/// of 193 pauses. This CPU then claims the next turn itself, so that the
/// walk goes on after one waiter's turn instead of waiting behind CPUs
/// that come back at once (threads in system calls in a loop: a munmap
/// of 344 MiB beside three of them took 9 s through the runner).
#[track_caller]
pub fn hand_over() {
    let me = this_cpu_index();
    if LOCK.starving.load(Ordering::Relaxed) != NO_OWNER {
        LOCK.claimed_at.store(timer::ticks(), Ordering::Relaxed);
    }
    unlock();
    let (start, limit) = (timer::ticks(), timer::ns_to_ticks(CLAIM_NS));
    while LOCK.waiters.load(Ordering::Relaxed) > 0
        && LOCK.owner.load(Ordering::Relaxed) == NO_OWNER
        && timer::ticks().wrapping_sub(start) < limit
    {
        CpuRelax::relax();
    }
    if LOCK.owner.load(Ordering::Relaxed) != NO_OWNER
        && LOCK.starving.compare_exchange(NO_OWNER, me, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    {
        LOCK.claimed_at.store(timer::ticks(), Ordering::Relaxed);
    }
    lock();
}

/// How long `let_waiters_in` gives a waiter to notice the lock is free.
const WAITER_TURNS: u32 = 1000;

/// Where the holder took the lock, for reports.
fn holder_location() -> &'static Location<'static> {
    let p = LOCK.location.load(Ordering::Relaxed);
    // SAFETY: the pointer is null or was made from a `&'static Location`
    // in `lock`; it is never freed or written through.
    unsafe { p.as_ref() }.unwrap_or(Location::caller())
}

/// Releases the lock; this CPU must hold it (a release from another CPU
/// would let two CPUs into the kernel: a bug, reported at once).
#[track_caller]
#[inline]
pub fn unlock() {
    unlock_here(this_cpu())
}

/// `unlock` on `cpu`, the caller's CPU as it read it (after the last
/// point where its task could move to another CPU).
#[track_caller]
#[inline(always)]
pub fn unlock_here(cpu: &CpuData) {
    let me = cpu.index() as u32;
    let owner = LOCK.owner.load(Ordering::Relaxed);
    if owner != me {
        unlock_by_non_owner(me, owner);
    }
    lock_order::released(Rank::KernelLock);
    // Publishes everything written under the lock to the next owner.
    LOCK.owner.store(NO_OWNER, Ordering::Release);
}

#[inline(never)]
#[track_caller]
fn unlock_by_non_owner(me: u32, owner: u32) -> ! {
    if owner == NO_OWNER {
        panic!("cpu {} releases the kernel lock, which no CPU holds", me);
    }
    panic!("cpu {} releases the kernel lock held by cpu {} (taken at {})", me, owner, holder_location());
}

/// Long work under the lock tells the watchdog it is moving on (Linux's
/// touch_softlockup_watchdog, which kernel loops that cannot schedule call):
/// a holding is then timed from here. The walks over a whole address space
/// (munmap, fork, exit of a 400 MiB space: over 2 s on a loaded host at
/// `SMP=8`) call it every few hundred pages; a CPU stuck elsewhere is still
/// caught. Only by the holder.
#[track_caller]
pub fn touch_watchdog() {
    super::breadcrumb::here();
    if held_here() {
        LOCK.since.store(timer::ticks(), Ordering::Relaxed);
    }
}

/// How many CPUs wait for the lock now (the panic self-test waits for
/// them all).
pub fn waiters() -> u32 {
    LOCK.waiters.load(Ordering::Relaxed)
}

/// Whether this CPU holds the lock. Inlined: every access to a task's
/// `KernelLocked` state checks it (sync/kernel_locked.rs).
#[inline(always)]
pub fn held_here() -> bool {
    LOCK.owner.load(Ordering::Relaxed) == this_cpu_index()
}

/// Whether some CPU holds the lock now: one relaxed load, for the fault
/// path's fast side, which never holds it itself (so the holder is another
/// CPU) and counts the faults it resolved while another CPU was in the
/// kernel (`CpuData::count_fast_fault`).
#[inline(always)]
pub fn held() -> bool {
    LOCK.owner.load(Ordering::Relaxed) != NO_OWNER
}
