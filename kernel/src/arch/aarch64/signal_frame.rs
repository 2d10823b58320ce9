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
const EXTRA_MAGIC: u32 = 0x4558_5401;
/// sizeof(struct extra_context): head, datap, size, __reserved[3].
const EXTRA_SIZE: usize = 32;
/// sizeof(struct _aarch64_ctx), and the terminator rounded to 16 bytes.
const HEAD_SIZE: usize = 8;
const TERMINATOR_SIZE: usize = 16;
/// The most a frame may span with its extra_context data (Linux's
/// SIGFRAME_MAXSZ).
const SIGFRAME_MAXSZ: usize = 256 * 1024;

/// PSTATE bits valid_user_regs clears without complaint: RES0 at EL0 (Linux's
/// SPSR_EL1_AARCH64_RES0_BITS: 63:32, 27:26, 23:22 (PAN, UAO), 20:13 (IL
/// among them), 5) and the software-step bit SS (21), which only a tracer
/// sets (user_regs_reset_single_step).
const PSTATE_RES0: u64 = !0xffff_ffff | (0b11 << 26) | (0b11 << 22) | (0xff << 13) | (1 << 5) | (1 << 21);
/// M[3:0] (EL and SP selection: 0 is EL0t), M[4] (AArch32), D, A, I, F.
const PSTATE_MODE: u64 = 0xf;
const PSTATE_MODE32: u64 = 1 << 4;
const PSTATE_DAIF: u64 = 0xf << 6;
/// NZCV: what a refused PSTATE is cut down to (valid_native_regs).
const PSTATE_NZCV: u64 = 0xf << 28;
const PSTATE_TCO: u64 = 1 << 25;
const PSTATE_BTYPE: u64 = 0b11 << 10;

/// What the handler is told about the signal (siginfo_t's first fields).
pub struct Info {
    pub signo: u32,
    pub code: i32,
    /// The first 16 bytes of the union: si_addr (faults); si_pid | si_uid
    /// << 32 then si_status (SIGCHLD) or si_value (rt_sigqueueinfo).
    pub words: [u64; 2],
}

/// siginfo_t's 128 bytes for `info` (the rest of the union is zero).
pub fn siginfo_bytes(info: &Info) -> [u8; SIGINFO_SIZE] {
    let mut f = [0u8; SIGINFO_SIZE];
    put(&mut f, 0, &(info.signo as i32).to_le_bytes());
    put(&mut f, 8, &info.code.to_le_bytes());
    put(&mut f, 16, &info.words[0].to_le_bytes());
    put(&mut f, 24, &info.words[1].to_le_bytes());
    f
}

/// Everything that goes into a frame besides the registers.
pub struct Setup<'a> {
    pub info: Info,
    pub saved_mask: u64,
    /// sigaltstack to report in uc_stack: (sp, flags, size).
    pub altstack: (u64, u32, u64),
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
    put(&mut f, 0, &siginfo_bytes(&setup.info));
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
#[derive(Debug, PartialEq, Eq)]
pub enum BadFrame {
    /// Refused: the caller raises SIGSEGV.
    Invalid,
    /// The records go on past the bytes read (an extra_context): read this
    /// many bytes from the frame's start and parse again.
    Extends(usize),
}

fn get32(buf: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(buf[at..at + 4].try_into().expect("4 bytes"))
}

/// uc_sigmask, which rt_sigreturn reinstates before anything else is
/// checked (Linux's restore_sigframe sets it first).
pub fn sigmask(f: &[u8]) -> u64 {
    get64(f, UC_SIGMASK)
}

/// uc_stack: (ss_sp, ss_flags, ss_size), for restore_altstack.
pub fn uc_stack(f: &[u8]) -> (u64, u32, u64) {
    (get64(f, UC_STACK), get32(f, UC_STACK + 8), get64(f, UC_STACK + 16))
}

/// Linux's valid_user_regs (valid_native_regs): RES0 bits are cleared, and
/// the PSTATE must then describe AArch64 EL0t with D, A, I and F clear.
/// Refused, it is cut down to NZCV, as Linux leaves it.
pub fn valid_user_regs(pstate: u64) -> Result<u64, u64> {
    let pstate = pstate & !PSTATE_RES0;
    if pstate & (PSTATE_MODE | PSTATE_MODE32 | PSTATE_DAIF) == 0 {
        Ok(pstate)
    } else {
        Err(pstate & PSTATE_NZCV)
    }
}

/// The first half of Linux's restore_sigframe: x0-x30, sp, pc and PSTATE
/// from `f` (a frame read back from the user stack) into `regs`, whatever
/// they hold, then valid_user_regs on the PSTATE.
pub fn restore_regs(f: &[u8], regs: &mut TrapFrame) -> Result<(), BadFrame> {
    for (i, r) in regs.x.iter_mut().enumerate() {
        *r = get64(f, MC_REGS + i * 8);
    }
    regs.sp_el0 = get64(f, MC_SP);
    regs.elr = get64(f, MC_PC);
    let checked = valid_user_regs(get64(f, MC_PSTATE));
    let (Ok(pstate) | Err(pstate)) = checked;
    regs.spsr = pstate;
    checked.map(|_| ()).map_err(|_| BadFrame::Invalid)
}

/// Where the records parse_user_sigframe found are, as offsets from the
/// frame's start.
#[derive(Debug, PartialEq, Eq)]
pub struct Records {
    pub fpsimd: usize,
}

/// Linux's parse_user_sigframe, on the frame's bytes (`frame_addr` is
/// where they were read from): walks the records in __reserved, each
/// 16-byte aligned with a header whose size covers it and stays inside the
/// space; fpsimd_context once and at least its size (exactly its size is
/// restore_fpsimd_context's check, in `restore_fpsimd`); esr_context
/// ignored; one extra_context, followed by a terminator, whose data must
/// start right after it and stay within SIGFRAME_MAXSZ of the frame, the
/// walk continuing there; {0, 0} ends it; any other magic (SVE and ZA
/// included: this CPU has neither) is refused. restore_sigframe then
/// refuses a frame without fpsimd_context.
pub fn parse_user_sigframe(f: &[u8], frame_addr: u64) -> Result<Records, BadFrame> {
    use BadFrame::Invalid;
    let mut base = MC_RESERVED;
    let mut limit = RESERVED_SIZE;
    let mut offset = 0usize;
    let mut fpsimd = None;
    let mut have_extra = false;
    loop {
        if limit - offset < HEAD_SIZE || !offset.is_multiple_of(16) {
            return Err(Invalid);
        }
        let at = base + offset;
        if at + HEAD_SIZE > f.len() {
            return Err(BadFrame::Extends(base + limit));
        }
        let (magic, size) = (get32(f, at), get32(f, at + 4) as usize);
        if limit - offset < size {
            return Err(Invalid);
        }
        match magic {
            0 if size == 0 => break,
            0 => return Err(Invalid),
            FPSIMD_MAGIC => {
                if fpsimd.is_some() || size < FPSIMD_SIZE {
                    return Err(Invalid);
                }
                fpsimd = Some(at);
            }
            ESR_MAGIC => {}
            EXTRA_MAGIC => {
                if have_extra || size < EXTRA_SIZE {
                    return Err(Invalid);
                }
                if at + EXTRA_SIZE > f.len() {
                    return Err(BadFrame::Extends(base + limit));
                }
                let (datap, extra_size) = (get64(f, at + 8), get32(f, at + 16) as usize);
                // The dummy terminator after it, in the space being walked.
                if limit - offset - size < TERMINATOR_SIZE {
                    return Err(Invalid);
                }
                let end = at + size;
                if end + HEAD_SIZE > f.len() {
                    return Err(BadFrame::Extends(base + limit));
                }
                if get32(f, end) != 0 || get32(f, end + 4) != 0 {
                    return Err(Invalid);
                }
                have_extra = true;
                let userp = end + TERMINATOR_SIZE;
                if !datap.is_multiple_of(16)
                    || !extra_size.is_multiple_of(16)
                    || datap != frame_addr.wrapping_add(userp as u64)
                    || extra_size > SIGFRAME_MAXSZ - userp
                {
                    return Err(Invalid);
                }
                base = userp;
                limit = extra_size;
                offset = 0;
                continue;
            }
            _ => return Err(Invalid),
        }
        if size < HEAD_SIZE {
            return Err(Invalid);
        }
        offset += size;
    }
    match fpsimd {
        Some(fpsimd) if fpsimd + FPSIMD_SIZE <= f.len() => Ok(Records { fpsimd }),
        Some(fpsimd) => Err(BadFrame::Extends(fpsimd + FPSIMD_SIZE)),
        None => Err(Invalid),
    }
}

/// Linux's restore_fpsimd_context: the record must be exactly
/// sizeof(struct fpsimd_context); V0-V31, FPSR and FPCR go into `fp`.
pub fn restore_fpsimd(f: &[u8], at: usize, fp: &mut FpState) -> Result<(), BadFrame> {
    if get32(f, at) != FPSIMD_MAGIC || get32(f, at + 4) as usize != FPSIMD_SIZE {
        return Err(BadFrame::Invalid);
    }
    let fpsr = get32(f, at + 8) as u64;
    let fpcr = get32(f, at + 12) as u64;
    let mut v = [0u128; 32];
    for (i, q) in v.iter_mut().enumerate() {
        *q = u128::from_le_bytes(f[at + 16 + i * 16..at + 32 + i * 16].try_into().expect("16 bytes"));
    }
    fp.set_parts(v, fpsr, fpcr);
    Ok(())
}

/// Points `regs` at the handler: x0 = signal, x1 = &info, x2 = &uc, x29 =
/// the frame record, x30 = the restorer (glibc's __default_rt_sa_restorer,
/// which calls rt_sigreturn), PSTATE.TCO and BTYPE cleared (as Linux's
/// setup_return does).
pub fn enter_handler(regs: &mut TrapFrame, frame_addr: u64, record_addr: u64, signo: u32, handler: u64, restorer: u64) {
    regs.x[0] = signo as u64;
    regs.x[1] = frame_addr;
    regs.x[2] = frame_addr + UC_FLAGS as u64;
    regs.x[29] = record_addr;
    regs.x[30] = restorer;
    regs.sp_el0 = frame_addr;
    regs.elr = handler;
    regs.spsr &= !(PSTATE_TCO | PSTATE_BTYPE);
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
    /// A frame as `build` makes it, at `FRAME_ADDR`.
    const FRAME_ADDR: u64 = 0xffff_0000;

    fn frame() -> Vec<u8> {
        let mut f = vec![0u8; FRAME_SIZE];
        put(&mut f, MC_RESERVED, &FPSIMD_MAGIC.to_le_bytes());
        put(&mut f, MC_RESERVED + 4, &(FPSIMD_SIZE as u32).to_le_bytes());
        f
    }

    fn record(f: &mut [u8], at: usize, magic: u32, size: u32) {
        put(f, at, &magic.to_le_bytes());
        put(f, at + 4, &size.to_le_bytes());
    }

    #[test]
    fn parse_user_sigframe_accepts_what_linux_accepts() {
        let f = frame();
        assert_eq!(parse_user_sigframe(&f, FRAME_ADDR), Ok(Records { fpsimd: MC_RESERVED }));
        let mut f = frame();
        record(&mut f, MC_RESERVED + FPSIMD_SIZE, ESR_MAGIC, ESR_SIZE as u32);
        assert!(parse_user_sigframe(&f, FRAME_ADDR).is_ok(), "an esr_context is ignored");
    }

    #[test]
    fn parse_user_sigframe_refuses_what_linux_refuses() {
        let after = MC_RESERVED + FPSIMD_SIZE;
        type Mangle = fn(&mut Vec<u8>);
        let cases: [(&str, Mangle); 7] = [
            ("unknown magic", |f| record(f, MC_RESERVED + FPSIMD_SIZE, 0x5356_4501, 16)),
            ("fpsimd twice", |f| record(f, MC_RESERVED + FPSIMD_SIZE, FPSIMD_MAGIC, FPSIMD_SIZE as u32)),
            ("no fpsimd", |f| record(f, MC_RESERVED, ESR_MAGIC, FPSIMD_SIZE as u32)),
            ("fpsimd too small", |f| record(f, MC_RESERVED, FPSIMD_MAGIC, 16)),
            ("past __reserved", |f| record(f, MC_RESERVED + FPSIMD_SIZE, ESR_MAGIC, RESERVED_SIZE as u32)),
            ("terminator with a size", |f| record(f, MC_RESERVED + FPSIMD_SIZE, 0, 16)),
            ("a size below the header", |f| record(f, MC_RESERVED + FPSIMD_SIZE, ESR_MAGIC, 0)),
        ];
        for (what, mangle) in cases {
            let mut f = frame();
            mangle(&mut f);
            assert_eq!(parse_user_sigframe(&f, FRAME_ADDR), Err(BadFrame::Invalid), "{}", what);
        }
        let mut f = frame();
        record(&mut f, after, ESR_MAGIC, 24);
        assert_eq!(parse_user_sigframe(&f, FRAME_ADDR), Err(BadFrame::Invalid), "the next record misaligned");
        let mut f = frame();
        record(&mut f, MC_RESERVED, FPSIMD_MAGIC, FPSIMD_SIZE as u32 + 16);
        let records = parse_user_sigframe(&f, FRAME_ADDR).expect("big enough for parse_user_sigframe");
        let mut fp = FpState::default();
        assert_eq!(restore_fpsimd(&f, records.fpsimd, &mut fp), Err(BadFrame::Invalid), "not its exact size");
    }

    #[test]
    fn extra_context_is_followed_where_linux_allows_it() {
        // extra_context right after fpsimd, its terminator, then data that
        // starts right after that terminator and holds one esr_context.
        let at = MC_RESERVED + FPSIMD_SIZE;
        let data = at + EXTRA_SIZE + TERMINATOR_SIZE;
        let with_extra = |datap: u64, size: u32| {
            let mut f = frame();
            record(&mut f, at, EXTRA_MAGIC, EXTRA_SIZE as u32);
            put(&mut f, at + 8, &datap.to_le_bytes());
            put(&mut f, at + 16, &size.to_le_bytes());
            record(&mut f, data, ESR_MAGIC, ESR_SIZE as u32);
            f
        };
        let good = FRAME_ADDR + data as u64;
        assert!(parse_user_sigframe(&with_extra(good, 32), FRAME_ADDR).is_ok());
        assert_eq!(parse_user_sigframe(&with_extra(good + 16, 32), FRAME_ADDR), Err(BadFrame::Invalid), "datap");
        assert_eq!(parse_user_sigframe(&with_extra(good, 24), FRAME_ADDR), Err(BadFrame::Invalid), "size % 16");
        let huge = (SIGFRAME_MAXSZ - data + 16) as u32;
        assert_eq!(parse_user_sigframe(&with_extra(good, huge), FRAME_ADDR), Err(BadFrame::Invalid), "too big");
        // Data running past the bytes read: read more, then parse again.
        let long = (FRAME_SIZE - data + 64) as u32;
        let mut f = with_extra(good, long);
        record(&mut f, data, ESR_MAGIC, (FRAME_SIZE - data) as u32);
        assert_eq!(parse_user_sigframe(&f, FRAME_ADDR), Err(BadFrame::Extends(data + long as usize)));
        f.resize(data + long as usize, 0);
        assert!(parse_user_sigframe(&f, FRAME_ADDR).is_ok());
        // A second extra_context.
        let mut f = with_extra(good, 64);
        record(&mut f, data, EXTRA_MAGIC, EXTRA_SIZE as u32);
        assert_eq!(parse_user_sigframe(&f, FRAME_ADDR), Err(BadFrame::Invalid), "twice");
    }

    #[test]
    fn valid_user_regs_wants_aarch64_el0t_without_daif() {
        let nzcv_tco_ssbs = (0xf << 28) | (1 << 25) | (1 << 12);
        assert_eq!(valid_user_regs(nzcv_tco_ssbs), Ok(nzcv_tco_ssbs));
        assert_eq!(valid_user_regs(nzcv_tco_ssbs | 1 << 20 | 1 << 21 | 1 << 40), Ok(nzcv_tco_ssbs), "RES0, IL, SS");
        for bad in [0x4, 0x5, 0x8, 0x9, 0xc, 0xd, 0x10, 1 << 6, 1 << 7, 1 << 8, 1 << 9] {
            assert_eq!(valid_user_regs(nzcv_tco_ssbs | bad), Err(0xf << 28), "{:#x}", bad);
        }
    }
}
