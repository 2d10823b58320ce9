//! Arm PrimeCell UART (PL011), the `virt` machine's console.
//! Register map: PL011 Technical Reference Manual (DDI 0183), section 3.2.

use tock_registers::interfaces::{Readable, Writeable};

use crate::arch::aarch64::mmio::Mmio;
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};
use tock_registers::{register_bitfields, register_structs};

register_bitfields! {u32,
    /// Flag register.
    FR [
        /// Transmit FIFO full.
        TXFF OFFSET(5) NUMBITS(1) [],
        /// Receive FIFO empty.
        RXFE OFFSET(4) NUMBITS(1) [],
        /// UART busy transmitting.
        BUSY OFFSET(3) NUMBITS(1) []
    ],
    /// Line control register.
    LCR_H [
        WLEN OFFSET(5) NUMBITS(2) [EightBit = 0b11],
        /// Enable FIFOs.
        FEN OFFSET(4) NUMBITS(1) []
    ],
    /// Control register.
    CR [
        RXE OFFSET(9) NUMBITS(1) [],
        TXE OFFSET(8) NUMBITS(1) [],
        UARTEN OFFSET(0) NUMBITS(1) []
    ],
    /// Interrupt clear register.
    ICR [
        ALL OFFSET(0) NUMBITS(11) []
    ]
}

register_structs! {
    /// The register block (arch/aarch64/mmio.rs lays it over the device).
    pub Registers {
        (0x00 => dr: ReadWrite<u32>),
        (0x04 => _reserved0),
        (0x18 => fr: ReadOnly<u32, FR::Register>),
        (0x1c => _reserved1),
        (0x2c => lcr_h: ReadWrite<u32, LCR_H::Register>),
        (0x30 => cr: ReadWrite<u32, CR::Register>),
        (0x34 => _reserved2),
        (0x44 => icr: WriteOnly<u32, ICR::Register>),
        (0x48 => @END),
    }
}

/// Size of the register window to map.
pub const MMIO_SIZE: u64 = 0x1000;

pub struct Pl011 {
    regs: Mmio<Registers>,
}

impl Pl011 {
    /// The driver of the PL011 whose registers `regs` are.
    pub fn new(regs: Mmio<Registers>) -> Self {
        Self { regs }
    }

    /// 8N1 with FIFOs, transmitter and receiver on. The baud rate is left as
    /// firmware (or QEMU, which ignores it) set it.
    pub fn init(&mut self) {
        self.flush();
        self.regs.cr.set(0);
        self.regs.icr.write(ICR::ALL::SET);
        self.regs.lcr_h.write(LCR_H::WLEN::EightBit + LCR_H::FEN::SET);
        self.regs.cr.write(CR::UARTEN::SET + CR::TXE::SET + CR::RXE::SET);
    }

    /// Takes `&self`: the panic path writes without the console lock
    /// (console.rs), as Linux's pl011_console_write does during an oops.
    pub fn write_byte(&self, b: u8) {
        while self.regs.fr.is_set(FR::TXFF) {
            core::hint::spin_loop();
        }
        self.regs.dr.set(b as u32);
    }

    /// Waits until everything written has left the UART.
    pub fn flush(&self) {
        while self.regs.fr.is_set(FR::BUSY) {
            core::hint::spin_loop();
        }
    }
}

impl core::fmt::Write for &Pl011 {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                self.write_byte(b'\r');
            }
            self.write_byte(b);
        }
        Ok(())
    }
}
