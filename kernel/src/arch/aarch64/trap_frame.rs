//! The register state saved on every exception (vectors.S builds it).

use core::fmt;

use super::esr::Esr;

/// Saved state of the interrupted context. The field order is the stack
/// layout written by `exception_common` in vectors.S.
#[repr(C)]
pub struct TrapFrame {
    /// General-purpose registers x0..x30 (x29 = frame pointer, x30 = link).
    pub x: [u64; 31],
    /// The EL0 stack pointer.
    pub sp_el0: u64,
    /// Where execution resumes (`eret` target).
    pub elr: u64,
    /// Saved PSTATE of the interrupted context.
    pub spsr: u64,
    /// Syndrome of this exception; not restored.
    pub esr: u64,
    /// Faulting virtual address, when ESR says it is valid; not restored.
    pub far: u64,
    /// Frame record {x29, elr}, so frame-pointer backtraces cross exceptions.
    pub frame_record: [u64; 2],
    /// CNTPCT_EL0 read at vector entry, and padding to 16 bytes.
    pub entry_ticks: [u64; 2],
}

const _: () = assert!(core::mem::size_of::<TrapFrame>() == 320);

/// Where an exception came from and what it was: the vector's index / 4 and % 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VectorKind {
    CurrentElSp0(Event),
    CurrentElSpx(Event),
    LowerElAarch64(Event),
    LowerElAarch32(Event),
    /// An entry from EL1 found SP past the bottom of its stack and switched
    /// to the overflow stack (vectors.S, index 16).
    KernelStackOverflow,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Synchronous,
    Irq,
    Fiq,
    SError,
}

impl VectorKind {
    /// The vector numbers vectors.S passes for a synchronous exception and
    /// an IRQ from EL0 (AArch64): (2 << 2) | event.
    pub const LOWER_EL_SYNCHRONOUS: u64 = 8;
    pub const LOWER_EL_IRQ: u64 = 9;

    pub fn from_index(kind: u64) -> Self {
        if kind == 16 {
            return Self::KernelStackOverflow;
        }
        let event = match kind % 4 {
            0 => Event::Synchronous,
            1 => Event::Irq,
            2 => Event::Fiq,
            _ => Event::SError,
        };
        match kind / 4 {
            0 => Self::CurrentElSp0(event),
            1 => Self::CurrentElSpx(event),
            2 => Self::LowerElAarch64(event),
            _ => Self::LowerElAarch32(event),
        }
    }
}

impl TrapFrame {
    pub fn esr(&self) -> Esr {
        Esr(self.esr)
    }
    /// Exception level the exception was taken from (SPSR.M[3:2]).
    pub fn source_el(&self) -> u8 {
        ((self.spsr >> 2) & 0b11) as u8
    }
}

impl fmt::Display for TrapFrame {
    /// The decoded register dump printed by panics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  esr: {}", self.esr())?;
        writeln!(
            f,
            "  far: {:#018x}  elr: {:#018x}  spsr: {:#010x} (from EL{})",
            self.far,
            self.elr,
            self.spsr,
            self.source_el()
        )?;
        for row in 0..8 {
            for col in 0..4 {
                let i = row * 4 + col;
                if i < 31 {
                    write!(f, "  x{:<2} {:#018x}", i, self.x[i])?;
                } else {
                    write!(f, "  sp_el0 {:#018x}", self.sp_el0)?;
                }
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_index_decodes_origin_and_event() {
        assert_eq!(VectorKind::from_index(4), VectorKind::CurrentElSpx(Event::Synchronous));
        assert_eq!(VectorKind::from_index(9), VectorKind::LowerElAarch64(Event::Irq));
        assert_eq!(VectorKind::from_index(3), VectorKind::CurrentElSp0(Event::SError));
        assert_eq!(VectorKind::from_index(16), VectorKind::KernelStackOverflow);
    }

    #[test]
    fn entries_from_el0_have_the_numbers_handle_exception_tests_first() {
        let sync = VectorKind::from_index(VectorKind::LOWER_EL_SYNCHRONOUS);
        assert_eq!(sync, VectorKind::LowerElAarch64(Event::Synchronous));
        assert_eq!(VectorKind::from_index(VectorKind::LOWER_EL_IRQ), VectorKind::LowerElAarch64(Event::Irq));
    }
}
