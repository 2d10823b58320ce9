//! Kernel panic: say what happened, where, in what exception state and
//! through which calls, then stop QEMU with a failure status.

use core::sync::atomic::{AtomicBool, Ordering};

use qemu_exit::QEMUExit;

use crate::arch::aarch64::{backtrace, cpu_local, exception, stack_overflow};
use crate::console::panic_print;

static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    if PANICKING.swap(true, Ordering::Relaxed) {
        // A panic while panicking: the first report is what matters.
        qemu_exit::AArch64::new().exit(2);
    }
    let location = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
    panic_print(format_args!("\nKERNEL PANIC: {}\n  at {}:{}\n", info.message(), location.0, location.1));
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
