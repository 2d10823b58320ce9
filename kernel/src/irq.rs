//! Interrupts: the GIC from the device tree, and what each interrupt means.
//! Only the EL1 physical timer is used, for per-program time limits. The
//! kernel runs with interrupts masked, so they are taken only at EL0.

use core::sync::atomic::{AtomicU32, Ordering};

use log::{info, warn};
use crate::sync::{IrqSpinLock, Rank};

use crate::arch::aarch64::mmio::Mmio;
use crate::arch::aarch64::timer;
use crate::devicetree::BootInfo;
use crate::drivers::gic_v2::{self, GicV2};

static GIC: IrqSpinLock<Option<GicV2>> = IrqSpinLock::new(Rank::Gic, None);
static TIMER_INTID: AtomicU32 = AtomicU32::new(u32::MAX);

/// Maps and starts the GIC; `false` when there is none this kernel drives
/// (then programs run without a time limit).
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
    let mut driver = GicV2::new(dist, cpu);
    driver.init();
    driver.enable(boot.timer_intid);
    TIMER_INTID.store(boot.timer_intid, Ordering::Relaxed);
    *GIC.lock() = Some(driver);
    info!(
        "GICv2: distributor {}, CPU interface {}; timer INTID {}",
        gic.distributor, gic.cpu_interface, boot.timer_intid
    );
    true
}

/// A secondary CPU's own GIC CPU interface, with the distributor the boot
/// CPU set up (smp.rs). Its timer interrupt (a PPI, banked per CPU) stays
/// disabled: the CPU parks with interrupts masked.
pub fn init_this_cpu() {
    if let Some(gic) = GIC.lock().as_mut() {
        gic.init_cpu_interface();
    }
}

/// An IRQ taken from EL0: acknowledge, end, then act (acting may end the
/// current process and never return here).
pub fn handle() {
    let Some(intid) = GIC.lock().as_mut().and_then(GicV2::acknowledge) else { return };
    if intid == TIMER_INTID.load(Ordering::Relaxed) {
        timer::disarm();
    }
    if let Some(gic) = GIC.lock().as_mut() {
        gic.end_of_interrupt(intid);
    }
    if intid == TIMER_INTID.load(Ordering::Relaxed) {
        crate::process::on_timer_interrupt();
    } else {
        warn!("unexpected interrupt {}", intid);
    }
}
