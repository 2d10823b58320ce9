//! Secondary-CPU bring-up (arch/aarch64/smp.rs): the per-CPU data is this
//! CPU's, every CPU the device tree lists and PSCI started reported online
//! with stacks of its own, and a CPU_ON the firmware refuses comes back
//! decoded with nothing kept (also with every per-CPU slot taken, SMP=8).
//! The GIC (drivers/gic_v2.rs): each CPU has its own interface bit and its
//! timer's PPI forwarded; the special INTIDs 1020..1023 are not taken.
//! IPIs (arch/aarch64/ipi.rs): a Reschedule
//! reaches each online secondary CPU, twice in a row from the same sender (the first
//! one's EOI carried its source); a CPU's Reschedule of itself sets its
//! flag at once; an IPI to a CPU that is not up is refused;
//! and, last of all the self-tests ([`LAST`]), Stop takes a CPU for good.

use super::{Check, Outcome};
use crate::arch::aarch64::cpu_local::{self, CpuData, CpuState, MAX_CPUS};
use crate::arch::aarch64::ipi::{self, Ipi, IpiError};
use crate::arch::aarch64::mmu::layout::{overflowed_stack_bottom, KERNEL_STACKS_BASE};
use crate::arch::aarch64::psci::{Mpidr, PsciError};
use crate::arch::aarch64::smp::{self, StartError};
use crate::arch::aarch64::timer;
use crate::drivers::gic_v2::{Acknowledged, SgiId};
use crate::ensure;
use crate::mm::frame;

pub const CHECKS: &[Check] = &[
    Check { name: "tpidr_el1_names_the_boot_cpus_data", run: tpidr_el1_names_the_boot_cpus_data },
    Check { name: "online_cpus_have_their_own_stacks", run: online_cpus_have_their_own_stacks },
    Check { name: "cpu_on_refusals_are_decoded_and_keep_nothing", run: cpu_on_refusals_are_decoded_and_keep_nothing },
    Check { name: "each_online_cpu_has_its_own_gic_interface", run: each_online_cpu_has_its_own_gic_interface },
    Check {
        name: "each_online_cpu_is_forwarded_its_timer_interrupt",
        run: each_online_cpu_is_forwarded_its_timer_interrupt,
    },
    Check { name: "reschedule_ipi_reaches_each_online_cpu", run: reschedule_ipi_reaches_each_online_cpu },
    Check { name: "reschedule_of_this_cpu_sets_its_flag_at_once", run: reschedule_of_this_cpu_sets_its_flag_at_once },
    Check { name: "ipi_to_a_cpu_not_up_is_refused", run: ipi_to_a_cpu_not_up_is_refused },
    Check { name: "gic_special_intids_are_not_acknowledged", run: gic_special_intids_are_not_acknowledged },
];

/// Run after every other group: it takes a CPU away for good.
pub const LAST: &[Check] =
    &[Check { name: "stop_ipi_stops_the_last_online_cpu", run: stop_ipi_stops_the_last_online_cpu }];

/// How long an online CPU gets to take an IPI: generous, since under
/// `-icount` or a loaded host the vCPUs take turns.
const IPI_TIMEOUT_NS: u64 = 1_000_000_000;

fn online_cpus() -> alloc::vec::Vec<&'static CpuData> {
    (1..MAX_CPUS).filter_map(cpu_local::cpu).filter(|c| c.state() == CpuState::Online).collect()
}

fn tpidr_el1_names_the_boot_cpus_data() -> Outcome {
    let cpu = cpu_local::this_cpu();
    ensure!(cpu.index() == 0, "TPIDR_EL1 names cpu {}, not the boot CPU", cpu.index());
    ensure!(cpu.state() == CpuState::Boot, "the boot CPU's state is {:?}", cpu.state());
    ensure!(cpu.mpidr() == smp::this_mpidr().0, "MPIDR {:#x} recorded, {} read", cpu.mpidr(), smp::this_mpidr());
    let overflow = cpu.overflow_stack();
    ensure!(
        overflow.end.is_multiple_of(crate::arch::aarch64::stack_overflow::OVERFLOW_STACK_SIZE as u64),
        "the boot CPU's overflow stack {:#x?} is not aligned to its size",
        overflow
    );
    Outcome::Pass
}

fn online_cpus_have_their_own_stacks() -> Outcome {
    let online = online_cpus();
    if online.is_empty() {
        return Outcome::Skip("one CPU (boot with SMP=2 or more)");
    }
    let mut seen = alloc::vec![cpu_local::this_cpu().mpidr()];
    for cpu in online {
        ensure!(!seen.contains(&cpu.mpidr()), "cpu {}: MPIDR {:#x} reported twice", cpu.index(), cpu.mpidr());
        seen.push(cpu.mpidr());
        for (what, r) in [("boot", cpu.boot_stack()), ("overflow", cpu.overflow_stack())] {
            ensure!(
                r.start >= KERNEL_STACKS_BASE && overflowed_stack_bottom(r.start).is_none(),
                "cpu {}: {} stack {:#x?} is not a kernel stack above a guard page",
                cpu.index(),
                what,
                r
            );
        }
        ensure!(
            cpu.mte_level() == crate::arch::aarch64::mte::level(),
            "cpu {}: MTE level {}",
            cpu.index(),
            cpu.mte_level()
        );
    }
    Outcome::Pass
}

fn cpu_on_refusals_are_decoded_and_keep_nothing() -> Outcome {
    let Some(conduit) = smp::conduit() else { return Outcome::Skip("no PSCI in the device tree") };
    let used = frame::stats().used();
    // With SMP=8 every per-CPU slot is up: `start_cpu` then refuses before
    // CPU_ON (its documented NoSlot), so the firmware's refusal is also
    // asked for directly, which needs no slot.
    let slot_free = (1..MAX_CPUS).filter_map(cpu_local::cpu).any(|c| c.state() == CpuState::Off);
    // The boot CPU is on (PSCI (DEN0022D): ALREADY_ON); affinity 0xff is no CPU of
    // this machine (INVALID_PARAMETERS).
    for (mpidr, want) in [(smp::this_mpidr(), PsciError::AlreadyOn), (Mpidr(0xff), PsciError::InvalidParameters)] {
        // The boot CPU's data as context id: DEN0022D requires both
        // refusals, so nothing can start on it.
        match smp::cpu_on(conduit, mpidr, cpu_local::this_cpu()) {
            Err(e) if e == want => {}
            got => return Outcome::Fail(alloc::format!("CPU_ON of MPIDR {}: {:?}, want {}", mpidr, got, want)),
        }
        let want_start = if slot_free { StartError::Psci(want) } else { StartError::NoSlot };
        match smp::start_cpu(conduit, mpidr) {
            Err(e) if e == want_start => {}
            Err(e) => return Outcome::Fail(alloc::format!("start of MPIDR {}: {}, want {}", mpidr, e, want_start)),
            Ok(cpu) => return Outcome::Fail(alloc::format!("CPU_ON of MPIDR {} started cpu {}", mpidr, cpu.index())),
        }
    }
    let text = alloc::format!("{}", StartError::Psci(PsciError::AlreadyOn));
    ensure!(text == "CPU_ON returned ALREADY_ON (-4)", "decoded as {:?}", text);
    ensure!(frame::stats().used() == used, "{} frames kept by refused starts", frame::stats().used() - used);
    let off = (1..MAX_CPUS).filter_map(cpu_local::cpu).filter(|c| c.state() == CpuState::Starting).count();
    ensure!(off == 0, "{} per-CPU slots left Starting by refused starts", off);
    Outcome::Pass
}

fn each_online_cpu_has_its_own_gic_interface() -> Outcome {
    let online: alloc::vec::Vec<_> =
        (0..MAX_CPUS).filter_map(cpu_local::cpu).filter(|c| c.state().is_online()).collect();
    if online.len() < 2 {
        return Outcome::Skip("one CPU (boot with SMP=2 or more)");
    }
    let mut seen = 0u8;
    for cpu in online {
        let bits = cpu.gic_targets().0;
        ensure!(bits.count_ones() == 1, "cpu {}: GIC CPU interface bits {:#04x}, want one", cpu.index(), bits);
        ensure!(seen & bits == 0, "cpu {}: GIC CPU interface {:#04x} also another CPU's", cpu.index(), bits);
        seen |= bits;
    }
    Outcome::Pass
}

/// Every CPU that is up has its own timer's PPI (banked per CPU) enabled
/// at the GIC, as Linux's arch_timer_starting_cpu enables it on each CPU:
/// a task run on a secondary gets its time limit and slice end, and an
/// idle CPU's WFI ends at its timer. Read back from each CPU's own
/// GICD_ISENABLER0 at its bring-up.
fn each_online_cpu_is_forwarded_its_timer_interrupt() -> Outcome {
    let Some(intid) = crate::irq::timer_intid() else { return Outcome::Skip("no GIC") };
    for cpu in (0..MAX_CPUS).filter_map(cpu_local::cpu).filter(|c| c.state().is_online()) {
        let enabled = cpu.private_irqs_enabled();
        ensure!(
            enabled & (1 << intid) != 0,
            "cpu {}: timer INTID {} not forwarded (GICD_ISENABLER0 {:#010x})",
            cpu.index(),
            intid,
            enabled
        );
    }
    Outcome::Pass
}

fn reschedule_ipi_reaches_each_online_cpu() -> Outcome {
    let online = online_cpus();
    if online.is_empty() {
        return Outcome::Skip("one CPU (boot with SMP=2 or more)");
    }
    let me = cpu_local::this_cpu();
    let mine = me.reschedules_taken();
    for cpu in online {
        // Twice, each waited for: the second SGI from this CPU is taken
        // only if the first one's EOI ended it (drivers/gic_v2.rs:
        // end_of_interrupt).
        for round in 1..=2 {
            let before = cpu.reschedules_taken();
            if let Err(e) = ipi::send_ipi(cpu.index(), Ipi::Reschedule) {
                return Outcome::Fail(alloc::format!("Reschedule to cpu {} refused: {}", cpu.index(), e));
            }
            ensure!(
                timer::spin_until(IPI_TIMEOUT_NS, || cpu.reschedules_taken() > before),
                "cpu {} did not take Reschedule #{} within 1 s (count {})",
                cpu.index(),
                round,
                cpu.reschedules_taken()
            );
        }
    }
    ensure!(me.reschedules_taken() == mine, "the sender took {} Reschedule IPIs itself", me.reschedules_taken() - mine);
    ensure!(!ipi::take_need_resched(), "the sender's need-resched flag was set");
    Outcome::Pass
}

/// A CPU asking itself to reschedule (a wake-up on the waker's own CPU)
/// has its flag set at once, with no SGI: none could be taken while it
/// runs kernel code with interrupts masked, and a uniprocessor GIC (one
/// CPU) has no interface bit to send one to. Linux's resched_curr sets
/// TIF_NEED_RESCHED locally and sends IPI_RESCHEDULE only to another CPU.
fn reschedule_of_this_cpu_sets_its_flag_at_once() -> Outcome {
    let me = cpu_local::this_cpu();
    let _ = ipi::take_need_resched();
    let taken = me.reschedules_taken();
    let got = ipi::send_ipi(me.index(), Ipi::Reschedule);
    ensure!(got.is_ok(), "Reschedule of this cpu {}: {:?}", me.index(), got);
    ensure!(ipi::take_need_resched(), "cpu {}: need-resched not set by its own Reschedule", me.index());
    ensure!(!ipi::take_need_resched(), "cpu {}: need-resched still set after it was taken", me.index());
    ensure!(me.reschedules_taken() == taken, "cpu {}: its own Reschedule counted as an IPI taken", me.index());
    Outcome::Pass
}

fn ipi_to_a_cpu_not_up_is_refused() -> Outcome {
    let got = ipi::send_ipi(MAX_CPUS, Ipi::Reschedule);
    ensure!(got == Err(IpiError::NoSuchCpu(MAX_CPUS)), "IPI to cpu {}: {:?}", MAX_CPUS, got);
    let got = ipi::send_ipi(usize::MAX, Ipi::Stop);
    ensure!(got == Err(IpiError::NoSuchCpu(usize::MAX)), "IPI to cpu usize::MAX: {:?}", got);
    let Some(off) = (1..MAX_CPUS).filter_map(cpu_local::cpu).find(|c| c.state() == CpuState::Off) else {
        return Outcome::Skip("every per-CPU slot is up");
    };
    let got = ipi::send_ipi(off.index(), Ipi::Reschedule);
    ensure!(
        got == Err(IpiError::NotOnline(off.index(), CpuState::Off)),
        "IPI to cpu {}, never started: {:?}",
        off.index(),
        got
    );
    ensure!(off.reschedules_taken() == 0, "cpu {}, never started, counted an IPI", off.index());
    Outcome::Pass
}

fn stop_ipi_stops_the_last_online_cpu() -> Outcome {
    let Some(cpu) = online_cpus().pop() else { return Outcome::Skip("one CPU (boot with SMP=2 or more)") };
    if let Err(e) = ipi::send_ipi(cpu.index(), Ipi::Stop) {
        return Outcome::Fail(alloc::format!("Stop to cpu {} refused: {}", cpu.index(), e));
    }
    ensure!(
        timer::spin_until(IPI_TIMEOUT_NS, || cpu.state() == CpuState::Stopped),
        "cpu {} is {:?} 1 s after Stop",
        cpu.index(),
        cpu.state()
    );
    // Stopped for good: no more IPIs to it, and none taken.
    let got = ipi::send_ipi(cpu.index(), Ipi::Reschedule);
    ensure!(got == Err(IpiError::NotOnline(cpu.index(), CpuState::Stopped)), "IPI to the stopped cpu: {:?}", got);
    let taken = cpu.reschedules_taken();
    let others: alloc::vec::Vec<_> = online_cpus().into_iter().map(|c| (c, c.reschedules_taken())).collect();
    let sent = ipi::send_ipi_all_but_self(Ipi::Reschedule);
    ensure!(sent.is_ok_and(|s| !s.contains(cpu.index())), "send to all but self included the stopped cpu: {:?}", sent);
    ensure!(
        timer::spin_until(IPI_TIMEOUT_NS, || others.iter().all(|(c, before)| c.reschedules_taken() > *before)),
        "an online cpu did not take the IPI sent to all"
    );
    ensure!(cpu.reschedules_taken() == taken, "the stopped cpu took a Reschedule IPI");
    Outcome::Pass
}

/// GICC_IAR's decode (drivers/gic_v2.rs): INTIDs 1020..1023 are special
/// (IHI 0048B 3.2.5: 1020 and 1021 reserved, 1022 a Secure read with a
/// Group 1 interrupt pending, 1023 none pending), none was acknowledged
/// and none may be ended (Linux's gic_handle_irq stops at 1020); an SGI
/// keeps its source bits for the EOI.
fn gic_special_intids_are_not_acknowledged() -> Outcome {
    for iar in (1020..=1023).flat_map(|intid| [intid, 2 << 10 | intid]) {
        let got = Acknowledged::from_iar(iar).map(Acknowledged::intid);
        ensure!(got.is_none(), "GICC_IAR {:#x} taken as interrupt {:?}", iar, got);
    }
    let sgi = Acknowledged::from_iar(5 << 10 | 2).map(|a| (a.intid(), a.sgi(), a.source()));
    ensure!(sgi == Some((2, SgiId::new(2), 5)), "GICC_IAR 0x1402 decoded as {:?}", sgi);
    let last = Acknowledged::from_iar(1019).map(Acknowledged::intid);
    ensure!(last == Some(1019), "GICC_IAR 1019 decoded as {:?}", last);
    Outcome::Pass
}
