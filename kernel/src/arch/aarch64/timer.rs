//! The generic timer's physical counter (Arm ARM D11.1), read for log
//! timestamps and guest-time figures.

use aarch64_cpu::registers::{CNTFRQ_EL0, CNTPCT_EL0};
use tock_registers::interfaces::Readable;

/// Ticks since reset.
pub fn ticks() -> u64 {
    CNTPCT_EL0.get()
}

/// Counter frequency in Hz (62.5 MHz on older QEMU `virt`, 1 GHz on 9.0+).
pub fn frequency() -> u64 {
    CNTFRQ_EL0.get().max(1)
}

/// Nanoseconds since reset.
pub fn uptime_ns() -> u64 {
    (ticks() as u128 * 1_000_000_000 / frequency() as u128) as u64
}
