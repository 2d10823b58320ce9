//! The generic timer's physical counter (Arm ARM (DDI 0487K.a), "The Generic Timer"), read for log
//! timestamps and guest-time figures; the virtual counter, which EL0 may
//! read too and the vDSO's clocks come from.

use aarch64_cpu::registers::{CNTFRQ_EL0, CNTKCTL_EL1, CNTPCT_EL0, CNTP_CTL_EL0, CNTP_CVAL_EL0, CNTVCT_EL0};
use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};

/// Ticks since reset.
pub fn ticks() -> u64 {
    CNTPCT_EL0.get()
}

/// The virtual counter: the physical one less CNTVOFF_EL2, which boot/start.S
/// zeroes when the kernel enters at EL2 (and is 0 without EL2). What EL0
/// reads as CNTVCT_EL0, so the vDSO and the kernel count alike.
pub fn virtual_ticks() -> u64 {
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    CNTVCT_EL0.get()
}

/// Lets EL0 read the virtual counter, and so the counter frequency, as
/// Linux's arch_counter_set_user_access (drivers/clocksource/
/// arm_arch_timer.c) does: CNTKCTL_EL1.EL0VCTEN set; EL0PCTEN, EL0VTEN,
/// EL0PTEN and the event stream clear, so CNTPCT_EL0 and the timers' own
/// registers still trap to EL1 (EC 0x18, SIGILL). CNTFRQ_EL0 is readable
/// at EL0 when either counter is (Arm ARM (DDI 0487K.a), CNTKCTL_EL1).
pub fn allow_el0_virtual_counter() {
    CNTKCTL_EL1.modify(
        CNTKCTL_EL1::EL0VCTEN::SET
            + CNTKCTL_EL1::EL0PCTEN::CLEAR
            + CNTKCTL_EL1::EL0VTEN::CLEAR
            + CNTKCTL_EL1::EL0PTEN::CLEAR
            + CNTKCTL_EL1::EVNTEN::CLEAR,
    );
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
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

/// The first tick at or after `ns` nanoseconds: a deadline that must not
/// come early (at 62.5 MHz a tick is 16 ns; `ns_to_ticks` rounds down).
pub fn ns_to_ticks_up(ns: u64) -> u64 {
    (ns as u128 * frequency() as u128).div_ceil(1_000_000_000) as u64
}

/// Nanoseconds in `ticks`.
pub fn ticks_to_ns(ticks: u64) -> u64 {
    (ticks as u128 * 1_000_000_000 / frequency() as u128) as u64
}

/// Raises the EL1 physical timer interrupt when the counter reaches
/// `deadline` (Arm ARM (DDI 0487K.a), CNTP_CVAL_EL0).
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

/// Spins (yielding each turn: relax.rs) until `done` holds or `timeout_ns`
/// of the virtual counter have passed; whether `done` held. For waits on
/// another CPU (smp.rs, ipi.rs).
pub fn spin_until(timeout_ns: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = virtual_ticks() + ns_to_ticks(timeout_ns);
    loop {
        if done() {
            return true;
        }
        if virtual_ticks() >= deadline {
            return false;
        }
        <super::relax::CpuRelax as spin::relax::RelaxStrategy>::relax();
    }
}
