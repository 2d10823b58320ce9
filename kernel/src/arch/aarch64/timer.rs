//! The generic timer's physical counter (Arm ARM D11.1), read for log
//! timestamps and guest-time figures.

use aarch64_cpu::registers::{CNTFRQ_EL0, CNTPCT_EL0, CNTP_CTL_EL0, CNTP_CVAL_EL0};
use tock_registers::interfaces::{Readable, Writeable};

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

/// Ticks in `ns` nanoseconds.
pub fn ns_to_ticks(ns: u64) -> u64 {
    (ns as u128 * frequency() as u128 / 1_000_000_000) as u64
}

/// Nanoseconds in `ticks`.
pub fn ticks_to_ns(ticks: u64) -> u64 {
    (ticks as u128 * 1_000_000_000 / frequency() as u128) as u64
}

/// Raises the EL1 physical timer interrupt when the counter reaches
/// `deadline` (CNTP_CVAL_EL0; Arm ARM D11.2.4).
pub fn arm_at(deadline: u64) {
    CNTP_CVAL_EL0.set(deadline);
    CNTP_CTL_EL0.write(CNTP_CTL_EL0::ENABLE::SET + CNTP_CTL_EL0::IMASK::CLEAR);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}

/// Stops the timer (and drops its pending interrupt).
pub fn disarm() {
    CNTP_CTL_EL0.write(CNTP_CTL_EL0::ENABLE::CLEAR + CNTP_CTL_EL0::IMASK::SET);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}
