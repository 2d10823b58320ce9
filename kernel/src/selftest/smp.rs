//! Secondary-CPU bring-up (arch/aarch64/smp.rs): the per-CPU data is this
//! CPU's, every CPU the device tree lists and PSCI started reported online
//! with stacks of its own, and a CPU_ON the firmware refuses comes back
//! decoded with nothing kept.

use super::{Check, Outcome};
use crate::arch::aarch64::cpu_local::{self, CpuState, MAX_CPUS};
use crate::arch::aarch64::mmu::layout::{overflowed_stack_bottom, KERNEL_STACKS_BASE};
use crate::arch::aarch64::psci::{Mpidr, PsciError};
use crate::arch::aarch64::smp::{self, StartError};
use crate::ensure;
use crate::mm::frame;

pub const CHECKS: &[Check] = &[
    Check { name: "tpidr_el1_names_the_boot_cpus_data", run: tpidr_el1_names_the_boot_cpus_data },
    Check { name: "online_cpus_have_their_own_stacks", run: online_cpus_have_their_own_stacks },
    Check { name: "cpu_on_refusals_are_decoded_and_keep_nothing", run: cpu_on_refusals_are_decoded_and_keep_nothing },
];

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
    let online: alloc::vec::Vec<_> =
        (1..MAX_CPUS).filter_map(cpu_local::cpu).filter(|c| c.state() == CpuState::Online).collect();
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
    // The boot CPU is on (PSCI (DEN0022D): ALREADY_ON); affinity 0xff is no CPU of
    // this machine (INVALID_PARAMETERS).
    for (mpidr, want) in [(smp::this_mpidr(), PsciError::AlreadyOn), (Mpidr(0xff), PsciError::InvalidParameters)] {
        match smp::start_cpu(conduit, mpidr) {
            Err(StartError::Psci(e)) if e == want => {}
            Err(e) => return Outcome::Fail(alloc::format!("CPU_ON of MPIDR {}: {}, want {}", mpidr, e, want)),
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
