//! The arm64 signal frame, byte for byte as Linux lays it out
//! (arch/arm64/kernel/signal.c, include/uapi/asm/sigcontext.h,
//! include/uapi/asm-generic/ucontext.h), so that glibc's handlers,
//! sigsetjmp/siglongjmp and `uc_mcontext.pc` edits work unchanged:
//!
//! ```text
//! high   struct frame_record { fp, lr }       <- x29 in the handler
//!        struct rt_sigframe {
//!            siginfo_t info;                   <- x1
//!            struct ucontext uc {              <- x2
//!                uc_flags, uc_link, uc_stack, uc_sigmask, __unused[120],
//!                struct sigcontext uc_mcontext {
//!                    fault_address, regs[31], sp, pc, pstate,
//!                    __reserved[4096]: fpsimd_context, esr_context, {0, 0}
//! low    } } }                                  <- sp in the handler
//! ```

use alloc::vec;
use alloc::vec::Vec;

use super::fpsimd::FpState;
use super::trap_frame::TrapFrame;

const SIGINFO_SIZE: usize = 128;
const UC_FLAGS: usize = SIGINFO_SIZE;
const UC_STACK: usize = UC_FLAGS + 16;
const UC_SIGMASK: usize = UC_STACK + 24;
/// struct sigcontext, 16-byte aligned after glibc's 1024-bit sigset space.
const MCONTEXT: usize = SIGINFO_SIZE + 176;
const MC_FAULT_ADDRESS: usize = MCONTEXT;
const MC_REGS: usize = MCONTEXT + 8;
const MC_SP: usize = MC_REGS + 31 * 8;
const MC_PC: usize = MC_SP + 8;
const MC_PSTATE: usize = MC_PC + 8;
const MC_RESERVED: usize = MCONTEXT + 288;
const RESERVED_SIZE: usize = 4096;
/// sizeof(struct rt_sigframe).
pub const FRAME_SIZE: usize = MC_RESERVED + RESERVED_SIZE;

const FPSIMD_MAGIC: u32 = 0x4650_8001;
const FPSIMD_SIZE: usize = 528;
const ESR_MAGIC: u32 = 0x4553_5201;
const ESR_SIZE: usize = 16;

/// PSTATE bits EL0 may set and get back from sigreturn: NZCV, the
/// Tag Check Override and SSBS (Linux's valid_user_regs keeps the rest 0:
/// EL0t, AArch64, D/A/I/F clear).
const PSTATE_USER_MASK: u64 = (0xf << 28) | (1 << 25) | (1 << 12);
const PSTATE_TCO: u64 = 1 << 25;

/// What the handler is told about the signal (siginfo_t's first fields).
pub struct Info {
    pub signo: u32,
    pub code: i32,
    /// si_addr (faults), or si_pid | si_uid << 32 (kill, SIGCHLD).
    pub word: u64,
    /// si_status for SIGCHLD (the next int of the union).
    pub status: i32,
}

/// Everything that goes into a frame besides the registers.
pub struct Setup<'a> {
    pub info: Info,
    pub saved_mask: u64,
    /// sigaltstack to report in uc_stack: (sp, flags, size).
    pub altstack: (u64, i32, u64),
    /// ESR_EL1 of the fault that raised the signal, if one did.
    pub esr: Option<u64>,
    pub fault_address: u64,
    pub fp: &'a FpState,
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

fn get64(buf: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(buf[at..at + 8].try_into().expect("8 bytes"))
}

/// Builds the frame for the interrupted `regs`.
pub fn build(regs: &TrapFrame, setup: &Setup) -> Vec<u8> {
    let mut f = vec![0u8; FRAME_SIZE];
    put(&mut f, 0, &(setup.info.signo as i32).to_le_bytes());
    put(&mut f, 8, &setup.info.code.to_le_bytes());
    put(&mut f, 16, &setup.info.word.to_le_bytes());
    put(&mut f, 24, &setup.info.status.to_le_bytes());
    put(&mut f, UC_STACK, &setup.altstack.0.to_le_bytes());
    put(&mut f, UC_STACK + 8, &setup.altstack.1.to_le_bytes());
    put(&mut f, UC_STACK + 16, &setup.altstack.2.to_le_bytes());
    put(&mut f, UC_SIGMASK, &setup.saved_mask.to_le_bytes());
    put(&mut f, MC_FAULT_ADDRESS, &setup.fault_address.to_le_bytes());
    for (i, r) in regs.x.iter().enumerate() {
        put(&mut f, MC_REGS + i * 8, &r.to_le_bytes());
    }
    put(&mut f, MC_SP, &regs.sp_el0.to_le_bytes());
    put(&mut f, MC_PC, &regs.elr.to_le_bytes());
    put(&mut f, MC_PSTATE, &regs.spsr.to_le_bytes());

    let mut at = MC_RESERVED;
    put(&mut f, at, &FPSIMD_MAGIC.to_le_bytes());
    put(&mut f, at + 4, &(FPSIMD_SIZE as u32).to_le_bytes());
    let (v, fpsr, fpcr) = setup.fp.parts();
    put(&mut f, at + 8, &(fpsr as u32).to_le_bytes());
    put(&mut f, at + 12, &(fpcr as u32).to_le_bytes());
    for (i, q) in v.iter().enumerate() {
        put(&mut f, at + 16 + i * 16, &q.to_le_bytes());
    }
    at += FPSIMD_SIZE;
    if let Some(esr) = setup.esr {
        put(&mut f, at, &ESR_MAGIC.to_le_bytes());
        put(&mut f, at + 4, &(ESR_SIZE as u32).to_le_bytes());
        put(&mut f, at + 8, &esr.to_le_bytes());
    }
    // The terminating {0, 0} record is already zero.
    f
}

/// Why a frame given to rt_sigreturn was refused (SIGSEGV follows).
#[derive(Debug)]
pub struct BadFrame;

/// Restores `regs` and `fp` from a frame read back from the user stack;
/// returns the signal mask to reinstate and uc_stack's (sp, flags, size).
pub fn restore(f: &[u8], regs: &mut TrapFrame, fp: &mut FpState) -> Result<(u64, (u64, i32, u64)), BadFrame> {
    if f.len() != FRAME_SIZE {
        return Err(BadFrame);
    }
    // The FP/SIMD record must be there, first, and well formed.
    let magic = u32::from_le_bytes(f[MC_RESERVED..MC_RESERVED + 4].try_into().expect("4 bytes"));
    let size = u32::from_le_bytes(f[MC_RESERVED + 4..MC_RESERVED + 8].try_into().expect("4 bytes"));
    if magic != FPSIMD_MAGIC || size as usize != FPSIMD_SIZE {
        return Err(BadFrame);
    }
    let pstate = get64(f, MC_PSTATE);
    // A frame asking for EL1, AArch32 or masked interrupts is refused, as
    // Linux's valid_user_regs does, rather than quietly cleaned.
    if pstate & !PSTATE_USER_MASK & 0x3ff != 0 {
        return Err(BadFrame);
    }
    for (i, r) in regs.x.iter_mut().enumerate() {
        *r = get64(f, MC_REGS + i * 8);
    }
    regs.sp_el0 = get64(f, MC_SP);
    regs.elr = get64(f, MC_PC);
    regs.spsr = pstate & PSTATE_USER_MASK;
    let at = MC_RESERVED;
    let fpsr = u32::from_le_bytes(f[at + 8..at + 12].try_into().expect("4 bytes")) as u64;
    let fpcr = u32::from_le_bytes(f[at + 12..at + 16].try_into().expect("4 bytes")) as u64;
    let mut v = [0u128; 32];
    for (i, q) in v.iter_mut().enumerate() {
        *q = u128::from_le_bytes(f[at + 16 + i * 16..at + 32 + i * 16].try_into().expect("16 bytes"));
    }
    fp.set_parts(v, fpsr, fpcr);
    let mask = get64(f, UC_SIGMASK);
    let stack = (
        get64(f, UC_STACK),
        i32::from_le_bytes(f[UC_STACK + 8..UC_STACK + 12].try_into().expect("4")),
        get64(f, UC_STACK + 16),
    );
    Ok((mask, stack))
}

/// Points `regs` at the handler: x0 = signal, x1 = &info, x2 = &uc, x29 =
/// the frame record, x30 = the restorer (glibc's __default_rt_sa_restorer,
/// which calls rt_sigreturn), PSTATE.TCO cleared (as Linux does).
pub fn enter_handler(regs: &mut TrapFrame, frame_addr: u64, record_addr: u64, signo: u32, handler: u64, restorer: u64) {
    regs.x[0] = signo as u64;
    regs.x[1] = frame_addr;
    regs.x[2] = frame_addr + UC_FLAGS as u64;
    regs.x[29] = record_addr;
    regs.x[30] = restorer;
    regs.sp_el0 = frame_addr;
    regs.elr = handler;
    regs.spsr &= PSTATE_USER_MASK & !PSTATE_TCO;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_linux_arm64() {
        // offsetof(struct rt_sigframe, uc.uc_mcontext) and the sigcontext fields.
        assert_eq!(MCONTEXT, 304);
        assert_eq!(MC_SP, 304 + 256);
        assert_eq!(MC_PC, 304 + 264);
        assert_eq!(MC_PSTATE, 304 + 272);
        assert_eq!(MC_RESERVED, 304 + 288);
        assert_eq!(FRAME_SIZE, 4688);
        assert_eq!(MC_RESERVED % 16, 0);
    }
}
