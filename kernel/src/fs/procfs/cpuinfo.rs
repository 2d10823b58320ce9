//! /proc/cpuinfo in Linux's arm64 format (arch/arm64/kernel/cpuinfo.c,
//! c_show): one block per CPU up, with that CPU's MIDR_EL1.

use core::fmt::Write;

use super::Text;
use crate::arch::aarch64::cpu_local::{self, MAX_CPUS};
use crate::arch::aarch64::{cpu_features, hwcaps, mte, timer};
use crate::process::cpu_mask::CpuMask;
use crate::syscall::errno::Errno;

/// Linux's HZ on Debian's arm64 kernels: BogoMIPS is printed from
/// loops_per_jiffy, which arm64 sets to the timer frequency / HZ.
const HZ: u64 = 250;

pub fn show(out: &mut Text) -> Result<(), Errno> {
    // The Features line is the hwcaps this kernel gives programs in
    // AT_HWCAP/AT_HWCAP2, from the same ID registers and named by the same
    // table (hwcaps.rs, Linux's arm64_elf_hwcaps and hwcap_str).
    let (hwcap, hwcap2) = cpu_features::hwcaps(mte::level());
    let lpj = timer::frequency() / HZ;
    let online = CpuMask::active();
    for cpu in (0..MAX_CPUS).filter(|&c| online.contains(c)).filter_map(cpu_local::cpu) {
        let midr = cpu.midr();
        let field = |shift: u32, bits: u32| (midr >> shift) & ((1 << bits) - 1);
        let _ = writeln!(out, "processor\t: {}", cpu.index());
        let _ = writeln!(out, "BogoMIPS\t: {}.{:02}", lpj / (500_000 / HZ), (lpj / (5_000 / HZ)) % 100);
        let _ = write!(out, "Features\t:");
        for name in hwcaps::names(hwcap, hwcap2) {
            let _ = write!(out, " {}", name);
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "CPU implementer\t: {:#04x}", field(24, 8));
        let _ = writeln!(out, "CPU architecture: 8");
        let _ = writeln!(out, "CPU variant\t: {:#x}", field(20, 4));
        let _ = writeln!(out, "CPU part\t: {:#05x}", field(4, 12));
        let _ = writeln!(out, "CPU revision\t: {}", field(0, 4));
        let _ = writeln!(out);
    }
    Ok(())
}
