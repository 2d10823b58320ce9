//! Arm Generic Interrupt Controller v2 (IHI 0048B): the distributor routes
//! interrupts, the CPU interface delivers them to this CPU. QEMU `virt`
//! has a GICv2 unless told `gic-version=3`. Only private peripheral
//! interrupts (the generic timer) are used so far.

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

use crate::arch::aarch64::mmio::Mmio;

register_structs! {
    pub Distributor {
        (0x000 => ctlr: ReadWrite<u32>),
        (0x004 => _reserved0),
        (0x100 => isenabler: [ReadWrite<u32>; 32]),
        (0x180 => icenabler: [ReadWrite<u32>; 32]),
        (0x200 => _reserved1),
        (0x400 => ipriorityr: [ReadWrite<u8>; 1024]),
        (0x800 => @END),
    }
}

register_structs! {
    pub CpuInterface {
        (0x00 => ctlr: ReadWrite<u32>),
        /// Priority mask: only interrupts of higher priority (lower value) are signalled.
        (0x04 => pmr: ReadWrite<u32>),
        (0x08 => _reserved0),
        /// Interrupt acknowledge: reading it takes the highest pending interrupt.
        (0x0c => iar: ReadOnly<u32>),
        (0x10 => eoir: WriteOnly<u32>),
        (0x14 => @END),
    }
}

/// Sizes of the two register windows to map.
pub const DISTRIBUTOR_SIZE: u64 = 0x1000;
pub const CPU_INTERFACE_SIZE: u64 = 0x2000;

/// INTID 1023: no interrupt was pending when IAR was read.
const SPURIOUS: u32 = 1023;

pub struct GicV2 {
    dist: Mmio<Distributor>,
    cpu: Mmio<CpuInterface>,
}

impl GicV2 {
    /// The driver of the GICv2 whose two register blocks these are.
    pub fn new(dist: Mmio<Distributor>, cpu: Mmio<CpuInterface>) -> Self {
        Self { dist, cpu }
    }

    /// Enables forwarding, with every interrupt masked until `enable`.
    pub fn init(&mut self) {
        for reg in self.dist.icenabler.iter() {
            reg.set(u32::MAX);
        }
        self.dist.ctlr.set(1);
        self.init_cpu_interface();
    }

    /// This CPU's interface on (every CPU's own, at the same address):
    /// every priority let through, signalling enabled. Its private
    /// interrupts (SGIs, PPIs: the banked GICD_I[SC]ENABLER0, IHI 0048B
    /// section 4.3.5) are disabled until `enable` runs on it.
    pub fn init_cpu_interface(&mut self) {
        self.dist.icenabler[0].set(u32::MAX);
        self.cpu.pmr.set(0xff);
        self.cpu.ctlr.set(1);
    }

    /// Unmasks interrupt `intid` at a middle priority.
    pub fn enable(&mut self, intid: u32) {
        self.dist.ipriorityr[intid as usize].set(0x80);
        self.dist.isenabler[(intid / 32) as usize].set(1 << (intid % 32));
    }

    /// Takes the highest-priority pending interrupt, if any.
    pub fn acknowledge(&mut self) -> Option<u32> {
        let intid = self.cpu.iar.get() & 0x3ff;
        (intid != SPURIOUS).then_some(intid)
    }

    /// Signals that `intid` has been handled.
    pub fn end_of_interrupt(&mut self, intid: u32) {
        self.cpu.eoir.set(intid);
    }
}
