//! Interrupts: the GIC from the device tree, and what each interrupt means.
//! The EL1 physical timer, for per-program time limits, and the SGIs that
//! carry inter-processor interrupts (arch/aarch64/ipi.rs). The kernel runs
//! with interrupts masked, so they are taken at EL0 ([`handle`]), and at
//! EL1 only where a CPU waits for them with interrupts open: an idle CPU
//! ([`handle_in_kernel`]). Each CPU's timer preempts the task it runs.

use core::sync::atomic::{AtomicU32, Ordering};

use aarch64_cpu::asm::barrier;
use log::{info, warn};
use spin::Once;

use crate::arch::aarch64::mmio::Mmio;
use crate::arch::aarch64::{cpu_local, ipi, timer};
use crate::devicetree::BootInfo;
use crate::drivers::gic_v2::{self, CpuTargets, GicV2, SgiId};

/// The GIC, once mapped. No lock: every register the driver touches is
/// banked per CPU or written in one store (drivers/gic_v2.rs).
static GIC: Once<GicV2> = Once::new();
static TIMER_INTID: AtomicU32 = AtomicU32::new(u32::MAX);

/// Maps and starts the GIC; `false` when there is none this kernel drives
/// (then programs run without a time limit, and there are no IPIs).
pub fn init(boot: &BootInfo) -> bool {
    let Some(gic) = boot.gic else {
        warn!("no GICv2 in the device tree (QEMU: gic-version=2): no interrupts, no time limits");
        return false;
    };
    let dist = Mmio::claim(gic.distributor, gic_v2::DISTRIBUTOR_SIZE);
    let cpu = Mmio::claim(gic.cpu_interface, gic_v2::CPU_INTERFACE_SIZE);
    let (dist, cpu) = match (dist, cpu) {
        (Ok(dist), Ok(cpu)) => (dist, cpu),
        (Err(e), _) | (_, Err(e)) => {
            warn!("cannot map the GIC: {}; no interrupts", e);
            return false;
        }
    };
    let driver = GIC.call_once(|| GicV2::new(dist, cpu));
    driver.init();
    driver.enable(boot.timer_intid);
    TIMER_INTID.store(boot.timer_intid, Ordering::Relaxed);
    record_this_cpu_interface(driver);
    // A uniprocessor GICv2 reads GICD_ITARGETSR0..7 as zero (IHI 0048B
    // 4.3.12; QEMU with -smp 1): no interface bit, so no IPIs.
    let targets = cpu_local::this_cpu().gic_targets();
    info!(
        "GICv2: distributor {}, CPU interface {}; timer INTID {}; boot CPU's interface {}",
        gic.distributor,
        gic.cpu_interface,
        boot.timer_intid,
        IfaceBits(targets)
    );
    true
}

/// A CPU's GIC interface bit for the log: the mask, or why there is none.
struct IfaceBits(CpuTargets);

impl core::fmt::Display for IfaceBits {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.0.is_empty() {
            f.write_str("none (uniprocessor GIC: no IPIs)")
        } else {
            write!(f, "bit {:#04x}", self.0 .0)
        }
    }
}

/// A secondary CPU's own GIC CPU interface, with the distributor the boot
/// CPU set up (smp.rs): its SGIs enabled, its timer interrupt (a PPI,
/// banked per CPU) enabled as on the boot CPU, its interface number
/// recorded. The timer is the CPU's own: it preempts the tasks this CPU
/// runs, as Linux's arch_timer_starting_cpu enables the timer's PPI on
/// every CPU.
pub fn init_this_cpu() {
    if let Some(gic) = GIC.get() {
        gic.init_cpu_interface();
        if let Some(intid) = timer_intid() {
            gic.enable(intid);
        }
        record_this_cpu_interface(gic);
    }
}

/// This CPU's GIC CPU interface bit into its `CpuData`, where IPIs to it
/// look it up (Linux's gic_cpu_init filling gic_cpu_map), with which of
/// its private interrupts are forwarded (for the self-tests).
fn record_this_cpu_interface(gic: &GicV2) {
    let cpu = cpu_local::this_cpu();
    cpu.set_gic_targets(gic.this_cpu_interface());
    cpu.set_private_irqs_enabled(gic.private_enabled());
}

/// The generic timer's INTID (a PPI), once the GIC is up.
pub fn timer_intid() -> Option<u32> {
    Some(TIMER_INTID.load(Ordering::Relaxed)).filter(|&intid| intid != u32::MAX)
}

/// Raises SGI `sgi` on the CPU interfaces `targets`; `false` without a
/// GIC. For ipi.rs, which orders memory before it.
pub fn send_sgi(targets: CpuTargets, sgi: SgiId) -> bool {
    GIC.get().map(|gic| gic.send_sgi(targets, sgi)).is_some()
}

/// What the interrupt just taken was.
enum Taken {
    Timer,
    /// An SGI and the CPU interface that sent it.
    Sgi(SgiId, u8),
    Other(u32),
}

/// Acknowledges the pending interrupt and ends it (with its source, for
/// an SGI); the timer's is also stopped, so it does not fire again.
fn take() -> Option<Taken> {
    let gic = GIC.get()?;
    let irq = gic.acknowledge()?;
    if irq.sgi().is_some() {
        // What the sender stored before its GICD_SGIR write (ipi.rs:
        // raise, DMB ISHST) is read after the GICC_IAR read that took the
        // SGI, not before: the IAR read is a Device load, and later Normal
        // loads may otherwise be satisfied ahead of it. Linux's
        // gic_handle_irq: smp_rmb() for INTIDs 0..15, paired with
        // gic_ipi_send_mask's dmb(ishst).
        barrier::dmb(barrier::ISHLD);
    }
    let intid = irq.intid();
    let timer_intid = TIMER_INTID.load(Ordering::Relaxed);
    if intid == timer_intid {
        timer::disarm();
    }
    gic.end_of_interrupt(irq);
    Some(match irq.sgi() {
        Some(sgi) => Taken::Sgi(sgi, irq.source()),
        None if intid == timer_intid => Taken::Timer,
        None => Taken::Other(intid),
    })
}

/// An IRQ taken from EL0: acknowledge, end, then act (acting may end the
/// current process, or stop this CPU, and never return here).
pub fn handle() {
    match take() {
        Some(Taken::Timer) => crate::process::on_timer_interrupt(),
        Some(Taken::Sgi(sgi, source)) => ipi::handle(sgi, source),
        Some(Taken::Other(intid)) => warn!("unexpected interrupt {}", intid),
        None => {}
    }
}

/// An IRQ taken at EL1, where a CPU waits with interrupts open (smp.rs:
/// wait_for_interrupt, from the scheduler's idle wait): an SGI, or the
/// timer the idle wait set to end it, which has no task to charge and is
/// only stopped (by `take`); the idle wait reads the counter.
pub fn handle_in_kernel() {
    match take() {
        Some(Taken::Sgi(sgi, source)) => ipi::handle(sgi, source),
        Some(Taken::Timer) => {}
        Some(Taken::Other(intid)) => warn!("unexpected interrupt {} in the kernel", intid),
        None => {}
    }
}
