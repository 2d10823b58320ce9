//! Bringing up the secondary CPUs (the SMP issue; docs/smp.md): each is
//! started with PSCI CPU_ON, given its own stacks and per-CPU data, set up
//! as the boot CPU set itself up, and then runs the scheduler's loop
//! (process/scheduler.rs: secondary_loop), taking tasks from the run queue
//! every CPU shares.
//!
//! The sequence (docs/smp.md, "Bring-up"):
//! 1. the boot CPU records its MMU registers (MAIR, TCR, TTBR1, SCTLR) in
//!    [`SecondaryMmu`] and cleans it to the point of coherency, since the
//!    secondary reads it with its MMU and caches off;
//! 2. per CPU: a boot stack and an overflow stack from the kernel-stack
//!    window (each above a guard page), written into that CPU's `CpuData`;
//!    CPU_ON with the physical address of start.S's `secondary_entry` and,
//!    as context id, the `CpuData`'s address;
//! 3. start.S: the EL2 setup if the CPU entered at EL2 (as the boot CPU
//!    did), the boot CPU's MMU registers with the boot identity map in
//!    TTBR0, the MMU on, TTBR0 retired, TPIDR_EL1 = the context id, SP =
//!    its boot stack, then [`secondary_main`];
//! 4. `secondary_main`: vectors, PAN, MTE's per-CPU registers, FP/SIMD,
//!    the counter for EL0, the debug lock, its timer stopped, the GIC CPU
//!    interface and its timer interrupt; then it reports and enters the
//!    scheduler's loop.

use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use aarch64_cpu::registers::{MAIR_EL1, MPIDR_EL1, SCTLR_EL1, TCR_EL1, TTBR1_EL1};
use log::{info, warn};
use tock_registers::interfaces::Readable;

use super::cpu_local::{self, CpuData, CpuState, MAX_CPUS};
use super::mmu::kernel_map::KernelStack;
use super::mmu::layout::virt_to_phys;
use super::psci::{self, Conduit, Mpidr, PsciError, MPIDR_AFFINITY_MASK};
use super::stack_overflow::OVERFLOW_STACK_SIZE;
use super::{boot, cache, debug, exception, fpsimd, mte, timer};
use crate::devicetree::BootInfo;
use crate::mm::addr::{VirtAddr, PAGE_SIZE};

/// A secondary's boot stack: as large as any kernel stack may be.
const BOOT_STACK_PAGES: usize = (super::mmu::layout::KERNEL_STACK_MAX as usize) / PAGE_SIZE;
const OVERFLOW_STACK_PAGES: usize = OVERFLOW_STACK_SIZE / PAGE_SIZE;
/// How long a CPU that accepted CPU_ON may take to report: 1 s.
const REPORT_TIMEOUT_NS: u64 = 1_000_000_000;

/// The boot CPU's MMU registers, which start.S loads on a secondary
/// before it turns its MMU on (so it reads them uncached): MAIR_EL1,
/// TCR_EL1, TTBR1_EL1, SCTLR_EL1, in that order. One cache line.
#[repr(C, align(64))]
pub struct SecondaryMmu([AtomicU64; 4]);

#[no_mangle]
static secondary_mmu_setup: SecondaryMmu = SecondaryMmu([const { AtomicU64::new(0) }; 4]);

extern "C" {
    /// boot/start.S: where a secondary starts, MMU off.
    fn secondary_entry();
}

/// Why a CPU did not come up.
#[derive(Debug, PartialEq, Eq)]
pub enum StartError {
    /// The firmware refused CPU_ON.
    Psci(PsciError),
    /// CPU_ON succeeded but the CPU did not report in time.
    Silent,
    /// No memory for its stacks.
    NoMemory,
    /// Every per-CPU slot is taken (MAX_CPUS).
    NoSlot,
}

impl core::fmt::Display for StartError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Psci(e) => write!(f, "CPU_ON returned {}", e),
            Self::Silent => write!(f, "CPU_ON succeeded but the CPU did not report within 1 s"),
            Self::NoMemory => write!(f, "no memory for its stacks"),
            Self::NoSlot => write!(f, "the kernel brings up at most {} CPUs", MAX_CPUS),
        }
    }
}

/// The conduit bring-up used (0 none, 1 HVC, 2 SMC), for the self-tests.
static CONDUIT: AtomicU8 = AtomicU8::new(0);

/// How PSCI was called at bring-up, if it was.
pub fn conduit() -> Option<Conduit> {
    match CONDUIT.load(Ordering::Relaxed) {
        1 => Some(Conduit::Hvc),
        2 => Some(Conduit::Smc),
        _ => None,
    }
}

/// This CPU's MPIDR affinity.
pub fn this_mpidr() -> Mpidr {
    Mpidr(MPIDR_EL1.get() & MPIDR_AFFINITY_MASK)
}

/// Logs the boot CPU's line, starts every other CPU the device tree lists
/// and logs one line each; returns how many CPUs are up, the boot CPU
/// included. A CPU that fails is logged with the reason and left off.
pub fn start_secondaries(boot: &BootInfo, entry_el: u8, mte_level: u8) -> usize {
    let boot_cpu = cpu_local::this_cpu();
    boot_cpu.report_up(CpuState::Boot, entry_el, mte_level);
    log_cpu(boot_cpu);
    CONDUIT.store(boot.psci.map_or(0, |c| if c == Conduit::Hvc { 1 } else { 2 }), Ordering::Relaxed);
    let cpus = &boot.cpus;
    let others = match boot.secondaries(this_mpidr()) {
        Ok(others) => others,
        Err(why) => {
            warn!("{} (boot CPU MPIDR {}, {} listed)", why, this_mpidr(), cpus.len());
            return 1;
        }
    };
    if others.is_empty() {
        return 1;
    }
    let Some(conduit) = boot.psci else {
        warn!("{} CPUs in the device tree but no usable /psci method: only the boot CPU runs", cpus.len());
        return 1;
    };
    record_mmu_registers();
    let mut up = 1;
    for mpidr in others {
        match start_cpu(conduit, mpidr) {
            Ok(cpu) => {
                log_cpu(cpu);
                crate::process::cpu_mask::set_online(cpu.index());
                up += 1;
            }
            Err(e) => warn!("MPIDR {} not started: {}", mpidr, e),
        }
    }
    let version = psci::call(conduit, psci::PSCI_VERSION, 0, 0, 0);
    info!(
        "{} of {} CPUs up (PSCI {}.{} through {}); each runs tasks from the shared run queue",
        up,
        cpus.len(),
        version >> 16 & 0x7fff,
        version & 0xffff,
        conduit.name()
    );
    up
}

fn log_cpu(cpu: &CpuData) {
    let stack = cpu.boot_stack();
    info!(
        "cpu {}: MPIDR {:#x}{}, entered at EL{}, MTE level {}, stack {:#x}..{:#x}",
        cpu.index(),
        cpu.mpidr(),
        if cpu.state() == CpuState::Boot { " (boot)" } else { ", online" },
        cpu.entry_el(),
        cpu.mte_level(),
        stack.start,
        stack.end
    );
}

/// The boot CPU's MMU registers into [`secondary_mmu_setup`], cleaned to
/// the point of coherency: a secondary reads them with its caches off
/// (Arm ARM (DDI 0487K.a), DC CVAC).
fn record_mmu_registers() {
    let values = [MAIR_EL1.get(), TCR_EL1.get(), TTBR1_EL1.get(), SCTLR_EL1.get()];
    for (slot, v) in secondary_mmu_setup.0.iter().zip(values) {
        slot.store(v, Ordering::Relaxed);
    }
    // Every line of it, at the CPU's line size (one `dc cvac` assumed a
    // line of at least 32 bytes; CTR_EL0 allows 16).
    let at = VirtAddr::new(&secondary_mmu_setup as *const SecondaryMmu as u64);
    cache::clean_to_poc(at, core::mem::size_of::<SecondaryMmu>());
}

/// Starts the CPU `mpidr` on the first free per-CPU slot and waits for it
/// to report. On an error the slot is free again (or, for a CPU that
/// accepted CPU_ON but stayed silent, kept with its stacks: it may still
/// run on them).
pub fn start_cpu(conduit: Conduit, mpidr: Mpidr) -> Result<&'static CpuData, StartError> {
    let cpu = (1..MAX_CPUS).filter_map(cpu_local::cpu).find(|c| c.state() == CpuState::Off).ok_or(StartError::NoSlot)?;
    let stack = KernelStack::new(BOOT_STACK_PAGES).ok_or(StartError::NoMemory)?;
    let overflow = KernelStack::new(OVERFLOW_STACK_PAGES).ok_or(StartError::NoMemory)?;
    cpu.prepare(mpidr.0, stack.range(), overflow.top().as_u64());
    // The secondary reads its CpuData with its MMU on (coherent), but
    // only a DSB makes the stores of `prepare` complete before CPU_ON
    // (the release store orders them, it does not wait for them); Linux's
    // __cpu_up gets it from cleaning secondary_data to the PoC, as here.
    cache::clean_to_poc(VirtAddr::new(cpu as *const CpuData as u64), core::mem::size_of::<CpuData>());
    if let Err(e) = cpu_on(conduit, mpidr, cpu) {
        cpu.mark_off();
        return Err(StartError::Psci(e));
    }
    // The stacks are the CPU's now, for as long as the kernel runs.
    core::mem::forget(stack);
    core::mem::forget(overflow);
    if !timer::spin_until(REPORT_TIMEOUT_NS, || cpu.state() != CpuState::Starting) {
        return Err(StartError::Silent);
    }
    Ok(cpu)
}

/// PSCI CPU_ON of `mpidr` at start.S's `secondary_entry`, with `cpu` as
/// the context id start.S puts in TPIDR_EL1; the firmware's refusal
/// decoded. `start_cpu` is the one caller that may expect success; the
/// self-tests call it for CPUs the firmware must refuse (one that is on,
/// one that does not exist), which works with every per-CPU slot taken.
pub fn cpu_on(conduit: Conduit, mpidr: Mpidr, cpu: &CpuData) -> Result<(), PsciError> {
    let entry = virt_to_phys(VirtAddr::new(secondary_entry as *const () as u64)).expect("start.S is in the image");
    PsciError::check(psci::call(conduit, psci::CPU_ON_64, mpidr.0, entry.as_u64(), cpu as *const CpuData as u64))
}

/// First Rust code on a secondary, called by start.S with the MMU on, on
/// its boot stack, TPIDR_EL1 pointing at `cpu`, interrupts masked: the
/// per-CPU setup the boot CPU did in `kernel_main`, then park.
#[no_mangle]
extern "C" fn secondary_main(cpu: &'static CpuData, entry_el: u64) -> ! {
    exception::install_vectors();
    boot::enable_pan();
    let mte_info = mte::read_info();
    if mte::tagging_enabled() && mte_info.has_tag_storage() {
        // SCTLR_EL1 and TCR_EL1 came from the boot CPU (ATA, TCF, TBI1,
        // TCMA1); the rest of MTE's state is this CPU's own.
        mte::init_cpu_registers(timer::ticks());
    }
    fpsimd::enable_for_el0();
    timer::allow_el0_virtual_counter();
    timer::disarm();
    debug::init();
    crate::irq::init_this_cpu();
    cpu.report_up(CpuState::Online, entry_el as u8, mte_info.level);
    // The scheduler's loop for this CPU: tasks from the shared run queue,
    // under the big kernel lock (process/scheduler.rs).
    crate::process::secondary_loop()
}

/// Waits for an interrupt on this CPU: WFI, then IRQs open for an instant
/// so that what ended the wait is taken (`irq::handle_in_kernel`: an SGI,
/// or this CPU's timer), as Linux's idle loop runs cpu_do_idle with
/// interrupts masked and unmasks them after. The scheduler's idle wait
/// (process/scheduler.rs) calls it until its time or a Reschedule IPI.
pub fn wait_for_interrupt() {
    // SAFETY: WFI with DAIF masked waits for an interrupt without taking
    // it; unmasking I lets it be taken at EL1 on this CPU's current stack
    // through the vectors (exception.rs), which return here; masking it
    // again closes the window. D, A and F stay masked.
    unsafe { core::arch::asm!("wfi", "msr daifclr, #2", "isb", "msr daifset, #2", options(nostack)) };
}
