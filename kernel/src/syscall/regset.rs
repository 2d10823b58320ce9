//! The register sets PTRACE_GETREGSET / SETREGSET move (Linux's
//! arch/arm64/kernel/ptrace.c, aarch64_regsets): each is `n` elements of
//! `size` bytes, read as a whole and written from a prefix.

use linux_raw_sys::elf_uapi::{NT_ARM_SYSTEM_CALL, NT_ARM_TAGGED_ADDR_CTRL, NT_ARM_TLS, NT_PRFPREG, NT_PRSTATUS};

use super::errno::Errno;
use crate::arch::aarch64::debug;
use crate::arch::aarch64::mte;
use crate::arch::aarch64::mte_control::MteControl;
use crate::process::ptrace::UserRegs;
use crate::process::Process;

/// The register sets of an arm64 task this kernel knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Regset {
    /// struct user_pt_regs: x0-x30, sp, pc, pstate.
    General,
    /// struct user_fpsimd_state: v0-v31, fpsr, fpcr, two reserved words.
    FpSimd,
    /// TPIDR_EL0, then TPIDR2_EL0 (no SME here: reads 0, writes ignored).
    Tls,
    /// The system call number (int).
    SystemCall,
    /// The PR_SET_TAGGED_ADDR_CTRL value (long).
    TaggedAddrCtrl,
}

/// PSTATE bits that are RES0 in an AArch64 SPSR_EL1 (Linux's
/// SPSR_EL1_AARCH64_RES0_BITS: 63:32, 27:26, 23:22, 20:13, 5).
const PSTATE_RES0: u64 = 0xffff_ffff_0000_0000 | 0x0c00_0000 | 0x00c0_0000 | 0x001f_e000 | 0x20;
/// PSTATE.M[4] (AArch32), D, A, I, F, and M[3:0] (the mode, EL0t = 0).
const PSTATE_NOT_USER: u64 = 0x10 | 0x200 | 0x100 | 0x80 | 0x40 | 0xf;

impl Regset {
    /// The set named by an NT_* note type; `None` for one this kernel does
    /// not have (EINVAL).
    pub fn from_note(note: u64) -> Option<Self> {
        match u32::try_from(note).ok()? {
            NT_PRSTATUS => Some(Self::General),
            NT_PRFPREG => Some(Self::FpSimd),
            NT_ARM_TLS => Some(Self::Tls),
            NT_ARM_SYSTEM_CALL => Some(Self::SystemCall),
            NT_ARM_TAGGED_ADDR_CTRL => Some(Self::TaggedAddrCtrl),
            _ => None,
        }
    }

    /// Bytes in one element (iov_len must be a multiple of it).
    pub fn element(self) -> usize {
        match self {
            Self::General | Self::Tls | Self::TaggedAddrCtrl => 8,
            Self::FpSimd | Self::SystemCall => 4,
        }
    }

    /// Bytes in the whole set.
    pub fn size(self) -> usize {
        match self {
            Self::General => 34 * 8,
            Self::FpSimd => 32 * 16 + 16,
            Self::Tls => 16,
            Self::SystemCall => 4,
            Self::TaggedAddrCtrl => 8,
        }
    }
}

/// What a stopped tracee's set holds: its saved registers, FP state,
/// thread pointer, system call number and tag control.
pub struct View<'a> {
    pub regs: &'a mut UserRegs,
    pub syscallno: &'a mut i32,
    pub task: &'a Process,
}

fn words(bytes: &[u8]) -> impl Iterator<Item = u64> + '_ {
    bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
}

/// The whole set, `set.size()` bytes.
pub fn get(set: Regset, v: &View) -> alloc::vec::Vec<u8> {
    let mut out = alloc::vec::Vec::with_capacity(set.size());
    match set {
        Regset::General => {
            let r = &v.regs;
            for w in r.x.iter().chain([r.sp, r.pc, r.pstate].iter()) {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        Regset::FpSimd => {
            let fp = v.task.fp.borrow();
            let (vregs, fpsr, fpcr) = fp.parts();
            for q in vregs {
                out.extend_from_slice(&q.to_le_bytes());
            }
            out.extend_from_slice(&(fpsr as u32).to_le_bytes());
            out.extend_from_slice(&(fpcr as u32).to_le_bytes());
            out.extend_from_slice(&[0; 8]);
        }
        // Linux's tls_get: TPIDR_EL0, and TPIDR2 as zero without SME.
        Regset::Tls => {
            out.extend_from_slice(&v.task.tls.get().to_le_bytes());
            out.extend_from_slice(&0u64.to_le_bytes());
        }
        Regset::SystemCall => out.extend_from_slice(&v.syscallno.to_le_bytes()),
        Regset::TaggedAddrCtrl => out.extend_from_slice(&v.task.mte.to_prctl().to_le_bytes()),
    }
    out
}

/// Writes the first `bytes.len()` bytes of the set (the rest keeps its
/// value), after Linux's checks: general registers must make a valid EL0
/// AArch64 PSTATE (valid_user_regs, EINVAL), the tag control a valid
/// prctl value (set_tagged_addr_ctrl, EINVAL).
pub fn set(set: Regset, v: &mut View, bytes: &[u8]) -> Result<(), Errno> {
    let mut whole = get(set, v);
    whole[..bytes.len()].copy_from_slice(bytes);
    let w: alloc::vec::Vec<u64> = words(&whole).collect();
    match set {
        Regset::General => {
            let mut regs = UserRegs { sp: w[31], pc: w[32], pstate: w[33], ..UserRegs::default() };
            regs.x.copy_from_slice(&w[..31]);
            // user_regs_reset_single_step: SS follows the tracee's stepping.
            regs.pstate = debug::with_step(regs.pstate, v.task.ptrace.borrow().single_step) & !PSTATE_RES0;
            if regs.pstate & PSTATE_NOT_USER != 0 {
                return Err(Errno::EINVAL);
            }
            *v.regs = regs;
        }
        Regset::FpSimd => {
            let mut vregs = [0u128; 32];
            for (i, q) in vregs.iter_mut().enumerate() {
                *q = u128::from_le_bytes(whole[i * 16..i * 16 + 16].try_into().expect("16 bytes"));
            }
            let word = |at: usize| u32::from_le_bytes(whole[at..at + 4].try_into().expect("4 bytes")) as u64;
            v.task.fp.borrow_mut().set_parts(vregs, word(512), word(516));
        }
        // Linux's tls_set: TPIDR2 only with SME.
        Regset::Tls => v.task.tls.set(w[0]),
        Regset::SystemCall => *v.syscallno = i32::from_le_bytes(whole[..4].try_into().expect("4 bytes")),
        Regset::TaggedAddrCtrl => {
            // The tracee is stopped (TaskOwned's rule: its tracer's write).
            v.task.mte.replace(MteControl::from_prctl(w[0], mte::tagging_enabled()).map_err(|_| Errno::EINVAL)?);
        }
    }
    Ok(())
}
