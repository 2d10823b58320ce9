//! Arm Generic Interrupt Controller v2 (IHI 0048B): the distributor routes
//! interrupts, the CPU interface delivers them to this CPU. QEMU `virt`
//! has a GICv2 unless told `gic-version=3`. Used: the generic timer's
//! private peripheral interrupt, and software-generated interrupts (SGIs)
//! between CPUs (arch/aarch64/ipi.rs).
//!
//! Every register used is either banked per CPU (the CPU interface,
//! GICD_I[SC]ENABLER0, GICD_IPRIORITYR0..7, GICD_ITARGETSR0..7) or written
//! in one store (GICD_SGIR, GICD_ISENABLERn: write-one-to-set), so the
//! driver takes `&self` and needs no lock: two CPUs may use it at once.

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
        /// Interrupt targets; words 0..7 (INTIDs 0..31) are banked and
        /// read as this CPU's own interface bit in every byte (IHI 0048B,
        /// 4.3.12).
        (0x800 => itargetsr: [ReadOnly<u32>; 8]),
        (0x820 => _reserved2),
        /// Software generated interrupt register (IHI 0048B, 4.3.15).
        (0xf00 => sgir: WriteOnly<u32>),
        (0xf04 => _reserved3),
        (0x1000 => @END),
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

/// INTIDs 1020..1023 are special (IHI 0048B 3.2.5): 1023 "no interrupt
/// pending", 1022 a Group 1 interrupt seen by a Secure read, 1020 and 1021
/// reserved. None is an acknowledged interrupt, so none is ended (Linux's
/// gic_handle_irq: `if (unlikely(irqnr >= 1020)) break;`).
const FIRST_SPECIAL: u32 = 1020;
/// INTIDs 0..15 are SGIs, 16..31 PPIs (IHI 0048B, 2.2.1).
const SGI_COUNT: u32 = 16;
/// The priority every interrupt gets: the middle of the range, above the
/// mask (GICC_PMR 0xff lets everything through). Linux's GICD_INT_DEF_PRI
/// is 0xa0; one priority for all, so none preempts another.
const DEFAULT_PRIORITY: u8 = 0x80;
/// GICD_ISENABLER0 / GICD_ICENABLER0 bits of the SGIs and of the PPIs
/// (Linux's GICD_INT_EN_SET_SGI, GICD_INT_EN_CLR_PPI).
const SGI_BITS: u32 = 0x0000_ffff;
const PPI_BITS: u32 = 0xffff_0000;

/// A software-generated interrupt's INTID, 0..15.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SgiId(u8);

impl SgiId {
    pub const fn new(id: u8) -> Option<Self> {
        if (id as u32) < SGI_COUNT {
            Some(Self(id))
        } else {
            None
        }
    }

    pub const fn id(self) -> u8 {
        self.0
    }
}

/// A set of GIC CPU interfaces, one bit each (GICD_SGIR.CPUTargetList,
/// GICD_ITARGETSR's bytes). Not the kernel's CPU index: the GIC numbers
/// its interfaces itself, and Linux reads each CPU's own from the banked
/// GICD_ITARGETSR0..7 (gic_get_cpumask), as [`GicV2::this_cpu_interface`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CpuTargets(pub u8);

impl CpuTargets {
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl core::ops::BitOr for CpuTargets {
    type Output = Self;
    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

/// What GICC_IAR returned for one interrupt: its INTID and, for an SGI,
/// the CPU interface that sent it (bits 12..10, IHI 0048B, 4.4.4). The
/// whole value goes back to GICC_EOIR (IHI 0048B, 4.4.5: for an SGI,
/// "the value written must be the value read from GICC_IAR", source
/// included), so `end_of_interrupt` takes this, not the bare INTID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Acknowledged(u32);

impl Acknowledged {
    /// What GICC_IAR returned, if it names an interrupt to handle and end.
    pub fn from_iar(iar: u32) -> Option<Self> {
        let irq = Self(iar);
        (irq.intid() < FIRST_SPECIAL).then_some(irq)
    }

    pub fn intid(self) -> u32 {
        self.0 & 0x3ff
    }

    /// The SGI this is, if it is one.
    pub fn sgi(self) -> Option<SgiId> {
        u8::try_from(self.intid()).ok().and_then(SgiId::new)
    }

    /// For an SGI, the number of the CPU interface that sent it.
    pub fn source(self) -> u8 {
        ((self.0 >> 10) & 7) as u8
    }
}

pub struct GicV2 {
    dist: Mmio<Distributor>,
    cpu: Mmio<CpuInterface>,
}

impl GicV2 {
    /// The driver of the GICv2 whose two register blocks these are.
    pub fn new(dist: Mmio<Distributor>, cpu: Mmio<CpuInterface>) -> Self {
        Self { dist, cpu }
    }

    /// Enables forwarding, with every shared interrupt masked until
    /// `enable`, and this CPU's interface as `init_cpu_interface`.
    pub fn init(&self) {
        for reg in self.dist.icenabler.iter().skip(1) {
            reg.set(u32::MAX);
        }
        self.dist.ctlr.set(1);
        self.init_cpu_interface();
    }

    /// This CPU's interface on (every CPU's own, at the same address), as
    /// Linux's gic_cpu_init: its PPIs disabled until `enable` runs on it,
    /// its SGIs enabled (QEMU, as the specification allows, keeps SGIs
    /// enabled whatever is written, IHI 0048B 4.3.5), every private
    /// interrupt at the default priority (the banked GICD_IPRIORITYR0..7),
    /// every priority let through, signalling enabled.
    pub fn init_cpu_interface(&self) {
        self.dist.icenabler[0].set(PPI_BITS);
        self.dist.isenabler[0].set(SGI_BITS);
        for intid in 0..32 {
            self.dist.ipriorityr[intid].set(DEFAULT_PRIORITY);
        }
        self.cpu.pmr.set(0xff);
        self.cpu.ctlr.set(1);
    }

    /// This CPU's own bit among the GIC's CPU interfaces: the OR of the
    /// banked GICD_ITARGETSR0..7, folded to one byte (Linux's
    /// gic_get_cpumask). Empty on a GIC without multiprocessor support.
    pub fn this_cpu_interface(&self) -> CpuTargets {
        let mut mask = self.dist.itargetsr.iter().fold(0, |m, r| m | r.get());
        mask |= mask >> 16;
        mask |= mask >> 8;
        CpuTargets(mask as u8)
    }

    /// This CPU's banked GICD_ISENABLER0: which of its SGIs and PPIs
    /// (bit n: INTID n) the distributor forwards to it.
    pub fn private_enabled(&self) -> u32 {
        self.dist.isenabler[0].get()
    }

    /// Unmasks interrupt `intid` at the default priority (for a PPI, on
    /// this CPU only: its registers are banked).
    pub fn enable(&self, intid: u32) {
        self.dist.ipriorityr[intid as usize].set(DEFAULT_PRIORITY);
        self.dist.isenabler[(intid / 32) as usize].set(1 << (intid % 32));
    }

    /// Sends SGI `sgi` to the CPU interfaces in `targets`: GICD_SGIR with
    /// TargetListFilter 0 ("the CPUs in CPUTargetList"), IHI 0048B 4.3.15.
    /// The caller orders its memory writes before it (ipi.rs).
    pub fn send_sgi(&self, targets: CpuTargets, sgi: SgiId) {
        self.dist.sgir.set((u32::from(targets.0) << 16) | u32::from(sgi.0));
    }

    /// Takes the highest-priority pending interrupt, if any (none for a
    /// special INTID: `Acknowledged::from_iar`).
    pub fn acknowledge(&self) -> Option<Acknowledged> {
        Acknowledged::from_iar(self.cpu.iar.get())
    }

    /// Signals that `irq` has been handled: GICC_EOIR gets what GICC_IAR
    /// gave, the SGI source CPU field included (IHI 0048B, 4.4.5).
    /// QEMU's GICv2 (hw/intc/arm_gic.c: gic_cpu_write, 0x10) completes by
    /// INTID alone and would not notice the source missing; a GIC that
    /// keeps one active state per source would leave the SGI active from
    /// that source, and the next one from it would never be taken.
    pub fn end_of_interrupt(&self, irq: Acknowledged) {
        self.cpu.eoir.set(irq.0);
    }
}

