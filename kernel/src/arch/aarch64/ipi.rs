//! Inter-processor interrupts: one CPU asks another to act, through a
//! GIC software-generated interrupt (drivers/gic_v2.rs: GICD_SGIR).
//!
//! Each [`Ipi`] has a fixed SGI number, Linux's arm64 ones (enum
//! ipi_msg_type, arch/arm64/kernel/smp.c): IPI_RESCHEDULE is SGI 0 and
//! IPI_CPU_STOP SGI 2. A CPU is named by its kernel index; the SGI goes to
//! the GIC CPU interface that CPU read as its own at bring-up
//! (`CpuData::gic_targets`, Linux's gic_cpu_map). Only CPUs that are up
//! and take interrupts ([`CpuState::is_online`]) are sent anything.
//!
//! What the receiver does (irq.rs dispatches SGIs to [`handle`]):
//! - `Reschedule` sets its "need resched" flag and counts the IPI, nothing
//!   else: an IRQ from EL0 returns through the return-to-user path, where
//!   the scheduler reads the flag ([`take_need_resched`]); Linux's
//!   scheduler_ipi likewise only sets TIF_NEED_RESCHED. A CPU's
//!   Reschedule of itself sets its flag directly, with no SGI.
//! - `Stop` parks the CPU for good with every interrupt masked, marked
//!   `Stopped` (Linux's ipi_cpu_stop -> local_cpu_stop); `panic.rs` sends
//!   it to every other CPU before its report (Linux's smp_send_stop).
//!   A CPU in kernel code has interrupts masked and takes no SGI, so the
//!   sender first raises a flag that every spin wait polls
//!   ([`stop_if_requested`], from relax.rs): a CPU spinning for the kernel
//!   lock or a spin lock the panicking CPU holds parks there, as the SGI
//!   would park it (Linux reaches such CPUs with an NMI: its
//!   smp_send_stop falls back to IPI_CPU_CRASH_STOP as a pseudo-NMI).

use core::sync::atomic::{AtomicUsize, Ordering};

use aarch64_cpu::asm::barrier;
use log::warn;

use super::cpu_local::{self, CpuState, MAX_CPUS};
use super::timer;
use crate::drivers::gic_v2::{CpuTargets, SgiId};

/// What one CPU asks of another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ipi {
    /// Run the scheduler at the next chance (Linux's IPI_RESCHEDULE).
    Reschedule,
    /// Stop for good (Linux's IPI_CPU_STOP).
    Stop,
}

impl Ipi {
    /// The SGI carrying it: Linux's numbers.
    pub const fn sgi(self) -> SgiId {
        let id = match self {
            Self::Reschedule => 0,
            Self::Stop => 2,
        };
        match SgiId::new(id) {
            Some(sgi) => sgi,
            None => panic!("SGI numbers are 0..15"),
        }
    }

    fn from_sgi(sgi: SgiId) -> Option<Self> {
        [Self::Reschedule, Self::Stop].into_iter().find(|ipi| ipi.sgi() == sgi)
    }
}

/// Why an IPI was not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpiError {
    /// No CPU has this index (at most `MAX_CPUS`).
    NoSuchCpu(usize),
    /// The CPU is not up, or stopped: it takes no interrupt.
    NotOnline(usize, CpuState),
    /// The CPU's GIC interface number is unknown (no multiprocessor GIC).
    NoInterface(usize),
    /// No GIC is driven: there are no interrupts at all.
    NoGic,
}

impl core::fmt::Display for IpiError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoSuchCpu(cpu) => write!(f, "no cpu {} (at most {})", cpu, MAX_CPUS),
            Self::NotOnline(cpu, state) => write!(f, "cpu {} is {:?}, not online", cpu, state),
            Self::NoInterface(cpu) => write!(f, "cpu {} has no GIC CPU interface number", cpu),
            Self::NoGic => f.write_str("no GIC"),
        }
    }
}

/// A set of CPUs by kernel index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuSet(u8);

const _: () = assert!(MAX_CPUS <= 8);

impl CpuSet {
    pub fn contains(self, cpu: usize) -> bool {
        cpu < MAX_CPUS && self.0 & (1 << cpu) != 0
    }

    fn insert(&mut self, cpu: usize) {
        self.0 |= 1 << cpu;
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = usize> {
        (0..MAX_CPUS).filter(move |&cpu| self.contains(cpu))
    }
}

/// Where an IPI to CPU `cpu` goes, if it may be sent one.
fn targets_of(cpu: usize) -> Result<CpuTargets, IpiError> {
    let data = cpu_local::cpu(cpu).ok_or(IpiError::NoSuchCpu(cpu))?;
    let state = data.state();
    if !state.is_online() {
        return Err(IpiError::NotOnline(cpu, state));
    }
    let targets = data.gic_targets();
    if targets.is_empty() {
        return Err(IpiError::NoInterface(cpu));
    }
    Ok(targets)
}

/// Raises `ipi`'s SGI on `targets`. The DMB makes this CPU's earlier
/// stores to memory visible before the receiver can take the interrupt
/// and look (Linux's gic_ipi_send_mask: dmb(ishst) before GICD_SGIR).
fn raise(targets: CpuTargets, ipi: Ipi) -> Result<(), IpiError> {
    barrier::dmb(barrier::ISHST);
    if crate::irq::send_sgi(targets, ipi.sgi()) {
        Ok(())
    } else {
        Err(IpiError::NoGic)
    }
}

/// Sends `ipi` to CPU `cpu` (this one included); refused, with nothing
/// sent, for a CPU that does not exist or takes no interrupt. A
/// Reschedule of this CPU sets its flag at once, with no SGI: one to
/// itself would wait, pending, until this CPU unmasks interrupts (at its
/// next entry to EL0, after the check it was meant for), and a
/// uniprocessor GIC gives no interface bit to send it to (Linux's
/// resched_curr: TIF_NEED_RESCHED set locally, IPI_RESCHEDULE only to
/// another CPU).
pub fn send_ipi(cpu: usize, ipi: Ipi) -> Result<(), IpiError> {
    let me = cpu_local::this_cpu();
    if ipi == Ipi::Reschedule && cpu == me.index() {
        me.request_resched();
        return Ok(());
    }
    raise(targets_of(cpu)?, ipi)
}

/// Sends `ipi` to every online CPU but this one, in one GICD_SGIR write;
/// returns the CPUs it went to (empty: nothing was sent).
pub fn send_ipi_all_but_self(ipi: Ipi) -> Result<CpuSet, IpiError> {
    let me = cpu_local::this_cpu().index();
    let mut sent = CpuSet::default();
    let mut targets = CpuTargets::default();
    for cpu in (0..MAX_CPUS).filter(|&cpu| cpu != me) {
        if let Ok(t) = targets_of(cpu) {
            targets = targets | t;
            sent.insert(cpu);
        }
    }
    if !sent.is_empty() {
        raise(targets, ipi)?;
    }
    Ok(sent)
}

/// Whether a Reschedule IPI came to this CPU since the last call: for the
/// scheduler, on the way back to EL0 or in its idle loop. An idle loop
/// calls it with interrupts masked, then WFIs (a pending SGI ends the
/// wait), then opens them to take the SGI (smp.rs: park): called with
/// them open, a Reschedule taken between the call and the WFI would set
/// the flag and leave the CPU asleep until some other interrupt.
pub fn take_need_resched() -> bool {
    cpu_local::this_cpu().take_need_resched()
}

/// An SGI this CPU took (irq.rs, after its EOI), from the CPU interface
/// `source`.
pub fn handle(sgi: SgiId, source: u8) {
    match Ipi::from_sgi(sgi) {
        Some(Ipi::Reschedule) => cpu_local::this_cpu().note_reschedule(),
        Some(Ipi::Stop) => stop_this_cpu(),
        None => warn!(
            "unexpected SGI {} on cpu {} from GIC CPU interface {}",
            sgi.id(),
            cpu_local::this_cpu().index(),
            source
        ),
    }
}

/// Stops this CPU for good: every interrupt masked, marked `Stopped`,
/// WFI forever (Linux's local_cpu_stop: set_cpu_online(false),
/// local_daif_mask, cpu_park_loop).
pub fn stop_this_cpu() -> ! {
    // SAFETY: masks D, A, I and F on this CPU; nothing here expects an
    // exception again.
    unsafe { core::arch::asm!("msr daifset, #0xf", options(nomem, nostack)) };
    cpu_local::this_cpu().mark_stopped();
    loop {
        // SAFETY: waits; with DAIF masked nothing is taken, a pending
        // interrupt only ends the wait.
        unsafe { core::arch::asm!("wfi", options(nomem, nostack)) };
    }
}

/// No CPU has asked the others to stop.
const NO_CPU: usize = usize::MAX;

/// The CPU that asked every other to stop (`stop_other_cpus`), or
/// `NO_CPU`: polled by every spin wait, so that a CPU that takes no SGI
/// (interrupts masked in the kernel) stops all the same.
static STOP_REQUESTED_BY: AtomicUsize = AtomicUsize::new(NO_CPU);

/// For every spin wait (relax.rs): if a CPU has asked the others to stop,
/// this one (unless it is that CPU) stops here, as at the Stop SGI. One
/// load while nobody has.
#[inline(always)]
pub fn stop_if_requested() {
    if STOP_REQUESTED_BY.load(Ordering::Relaxed) != NO_CPU {
        stop_unless_requester();
    }
}

#[cold]
#[inline(never)]
fn stop_unless_requester() {
    if STOP_REQUESTED_BY.load(Ordering::Relaxed) != cpu_local::this_cpu().index() {
        stop_this_cpu();
    }
}

/// Sends Stop to every other online CPU and waits up to `timeout_ns` of
/// the virtual counter for them to report stopped (Linux's smp_send_stop,
/// which waits a second); returns those that did not. A CPU running
/// kernel code with interrupts masked takes the SGI only when it unmasks
/// them; if it spins for a lock meanwhile, it sees the request in its
/// wait and stops there (`stop_if_requested`); one that runs on without
/// waiting for anything may not stop in time.
pub fn stop_other_cpus(timeout_ns: u64) -> CpuSet {
    // Before the SGIs (whose DMB ISHST orders this store before them).
    STOP_REQUESTED_BY.store(cpu_local::this_cpu().index(), Ordering::Relaxed);
    let Ok(sent) = send_ipi_all_but_self(Ipi::Stop) else { return CpuSet::default() };
    let running = |cpu: usize| cpu_local::cpu(cpu).is_some_and(|c| c.state() != CpuState::Stopped);
    timer::spin_until(timeout_ns, || !sent.iter().any(running));
    let mut left = CpuSet::default();
    sent.iter().filter(|&cpu| running(cpu)).for_each(|cpu| left.insert(cpu));
    left
}
