//! Kernel panic: stop the other CPUs, say what happened, where, in what
//! exception state and through which calls, then stop QEMU with a failure
//! status.

use core::sync::atomic::{AtomicUsize, Ordering};

use qemu_exit::QEMUExit;

use crate::arch::aarch64::{backtrace, cpu_local, exception, ipi, stack_overflow};
use crate::console::panic_print;

/// The CPU whose panic is being reported, or `NO_CPU`.
static PANIC_CPU: AtomicUsize = AtomicUsize::new(NO_CPU);
const NO_CPU: usize = usize::MAX;
/// How long the other CPUs get to take the Stop IPI: a second of the
/// virtual counter, as Linux's smp_send_stop waits (USEC_PER_SEC). Spent
/// only on a CPU that does not stop; a parked vCPU is a host thread that
/// a loaded host may take tens of milliseconds to run.
const STOP_TIMEOUT_NS: u64 = 1_000_000_000;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let me = cpu_local::this_cpu().index();
    // One CPU reports (Linux's panic_cpu).
    match PANIC_CPU.compare_exchange(NO_CPU, me, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {}
        // A panic while panicking, on this CPU: the first report is what
        // matters; no IPIs (they may be what failed).
        Err(cpu) if cpu == me => qemu_exit::AArch64::new().exit(2),
        // Another CPU is reporting: this one stops, as it would on that
        // CPU's Stop IPI (Linux's panic_smp_self_stop).
        Err(_) => ipi::stop_this_cpu(),
    }
    // Before any output: no other CPU's lines inside the report (Linux's
    // smp_send_stop from panic()).
    let not_stopped = ipi::stop_other_cpus(STOP_TIMEOUT_NS);
    let location = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
    panic_print(format_args!("\nKERNEL PANIC: {}\n  at {}:{}\n", info.message(), location.0, location.1));
    report_cpus(me, not_stopped);
    if let Some(frame) = exception::current_frame() {
        panic_print(format_args!("exception state:\n{}", frame));
    }
    panic_print(format_args!("backtrace (scripts/symbolize turns these into names):\n"));
    let mut depth = 0;
    let stack = crate::process::current_kernel_stack().unwrap_or_else(|| cpu_local::this_cpu().boot_stack());
    backtrace::walk(&[stack, stack_overflow::overflow_stack()], 32, |pc| {
        panic_print(format_args!("  #{:<2} {:#018x}\n", depth, pc));
        depth += 1;
    });
    qemu_exit::AArch64::new().exit_failure()
}

/// One line: this CPU, and what became of the others that were up: the
/// ones the Stop IPI did not reach in time are in kernel code with
/// interrupts masked (they take it only when they unmask them).
fn report_cpus(me: usize, not_stopped: ipi::CpuSet) {
    panic_print(format_args!("  on cpu {}", me));
    let others = (0..cpu_local::MAX_CPUS).filter(|&c| c != me).filter_map(cpu_local::cpu);
    for (n, cpu) in others.filter(|c| c.state() != cpu_local::CpuState::Off).enumerate() {
        let sep = if n == 0 { "; other cpus:" } else { "," };
        match cpu.state() {
            cpu_local::CpuState::Stopped => panic_print(format_args!("{} {} stopped", sep, cpu.index())),
            _ if not_stopped.contains(cpu.index()) => {
                panic_print(format_args!("{} {} still running after {} ms", sep, cpu.index(), STOP_TIMEOUT_NS / 1_000_000))
            }
            state => panic_print(format_args!("{} {} {:?}", sep, cpu.index(), state)),
        }
    }
    panic_print(format_args!("\n"));
}
