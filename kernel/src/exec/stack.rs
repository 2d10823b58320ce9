//! The initial user stack, laid out exactly as Linux's create_elf_tables()
//! (fs/binfmt_elf.c) does on arm64, so glibc's and any other static
//! program's start-up code finds what it expects:
//!
//! ```text
//! top ->  execfn string, envp strings, argv strings (highest first)
//!         AT_RANDOM's 16 bytes
//!         (padding to 16 bytes)
//!         AT_NULL, ..., auxv pairs            (u64, u64)
//!         NULL, envp[envc - 1] .. envp[0]
//!         NULL, argv[argc - 1] .. argv[0]
//! sp ->   argc                                 (sp is 16-byte aligned)
//! ```
//! Pure logic, tested on the host.

use alloc::vec::Vec;

use crate::mm::addr::VirtAddr;

/// auxv keys (Linux include/uapi/linux/auxvec.h; the same on every arch).
pub mod at {
    pub const NULL: u64 = 0;
    pub const PHDR: u64 = 3;
    pub const PHENT: u64 = 4;
    pub const PHNUM: u64 = 5;
    pub const PAGESZ: u64 = 6;
    pub const BASE: u64 = 7;
    pub const FLAGS: u64 = 8;
    pub const ENTRY: u64 = 9;
    pub const UID: u64 = 11;
    pub const EUID: u64 = 12;
    pub const GID: u64 = 13;
    pub const EGID: u64 = 14;
    pub const HWCAP: u64 = 16;
    pub const CLKTCK: u64 = 17;
    pub const SECURE: u64 = 23;
    pub const RANDOM: u64 = 25;
    pub const HWCAP2: u64 = 26;
    pub const EXECFN: u64 = 31;
    pub const SYSINFO_EHDR: u64 = 33;
}

/// The bytes to place at `[sp, top)` and the resulting stack pointer.
#[derive(Debug)]
pub struct StackImage {
    pub sp: VirtAddr,
    pub bytes: Vec<u8>,
    /// Where the argv strings are, `[start, end)`, NULs included (Linux's
    /// mm->arg_start/arg_end, read by /proc/<pid>/cmdline).
    pub args: (VirtAddr, VirtAddr),
    /// Where the envp strings are (mm->env_start/env_end).
    pub env: (VirtAddr, VirtAddr),
}

/// Builds the stack image ending at `top`. `aux` holds the value entries;
/// AT_RANDOM, AT_EXECFN (pointers into the image) and AT_NULL are added.
pub fn build(
    top: VirtAddr,
    argv: &[&str],
    envp: &[&str],
    aux: &[(u64, u64)],
    random: [u8; 16],
    execfn: &str,
) -> StackImage {
    // Strings and AT_RANDOM, growing down from `top`; offsets from `top`.
    let mut high: Vec<u8> = Vec::new(); // stored reversed-chunk: we prepend logically
    let mut place = |bytes: &[u8], nul: bool| -> u64 {
        let len = bytes.len() + nul as usize;
        let mut chunk = Vec::with_capacity(len);
        chunk.extend_from_slice(bytes);
        if nul {
            chunk.push(0);
        }
        chunk.extend_from_slice(&high);
        high = chunk;
        top.as_u64() - high.len() as u64
    };
    let execfn_addr = place(execfn.as_bytes(), true);
    let envp_addrs: Vec<u64> = envp.iter().rev().map(|s| place(s.as_bytes(), true)).collect();
    let argv_addrs: Vec<u64> = argv.iter().rev().map(|s| place(s.as_bytes(), true)).collect();
    // argv[0] is placed last, so lowest; envp[0] right above argv's end.
    let env = (envp_addrs.last().copied().unwrap_or(execfn_addr), execfn_addr);
    let args = (argv_addrs.last().copied().unwrap_or(env.0), env.0);
    let random_addr = place(&random, false);

    let mut words: Vec<u64> = Vec::new();
    words.push(argv.len() as u64);
    words.extend(argv_addrs.iter().rev());
    words.push(0);
    words.extend(envp_addrs.iter().rev());
    words.push(0);
    for &(key, value) in aux {
        words.extend([key, value]);
    }
    words.extend([at::RANDOM, random_addr, at::EXECFN, execfn_addr, at::NULL, 0]);

    let strings_bottom = top.as_u64() - high.len() as u64;
    let sp = (strings_bottom - words.len() as u64 * 8) & !15;
    let mut bytes = Vec::with_capacity((top.as_u64() - sp) as usize);
    for w in &words {
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    bytes.resize((strings_bottom - sp) as usize, 0);
    bytes.extend_from_slice(&high);
    StackImage {
        sp: VirtAddr::new(sp),
        bytes,
        args: (VirtAddr::new(args.0), VirtAddr::new(args.1)),
        env: (VirtAddr::new(env.0), VirtAddr::new(env.1)),
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::String;
    use std::vec::Vec;

    use super::*;

    const TOP: u64 = 0x0000_ffff_ffff_0000;

    fn word(img: &StackImage, addr: u64) -> u64 {
        let off = (addr - img.sp.as_u64()) as usize;
        u64::from_le_bytes(img.bytes[off..off + 8].try_into().unwrap())
    }

    fn string(img: &StackImage, addr: u64) -> String {
        let off = (addr - img.sp.as_u64()) as usize;
        let end = img.bytes[off..].iter().position(|&b| b == 0).unwrap();
        String::from_utf8(img.bytes[off..off + end].to_vec()).unwrap()
    }

    #[test]
    fn argc_argv_envp_auxv_are_where_start_up_code_looks() {
        let img = build(
            VirtAddr::new(TOP),
            &["/tests/hello", "-v"],
            &["HOME=/", "TERM=linux"],
            &[(at::PAGESZ, 4096), (at::ENTRY, 0x40_1000)],
            [7; 16],
            "/tests/hello",
        );
        let sp = img.sp.as_u64();
        assert_eq!(sp % 16, 0, "sp must be 16-byte aligned");
        assert_eq!(sp + img.bytes.len() as u64, TOP);
        assert_eq!(word(&img, sp), 2);
        assert_eq!(string(&img, word(&img, sp + 8)), "/tests/hello");
        assert_eq!(string(&img, word(&img, sp + 16)), "-v");
        assert_eq!(word(&img, sp + 24), 0);
        assert_eq!(string(&img, word(&img, sp + 32)), "HOME=/");
        assert_eq!(string(&img, word(&img, sp + 40)), "TERM=linux");
        assert_eq!(word(&img, sp + 48), 0);
        let mut aux = Vec::new();
        let mut at_addr = sp + 56;
        loop {
            let (k, v) = (word(&img, at_addr), word(&img, at_addr + 8));
            aux.push((k, v));
            at_addr += 16;
            if k == at::NULL {
                break;
            }
        }
        assert_eq!(aux[..2], [(at::PAGESZ, 4096), (at::ENTRY, 0x40_1000)]);
        let random = aux.iter().find(|(k, _)| *k == at::RANDOM).unwrap().1;
        let off = (random - sp) as usize;
        assert_eq!(&img.bytes[off..off + 16], &[7; 16]);
        let execfn = aux.iter().find(|(k, _)| *k == at::EXECFN).unwrap().1;
        assert_eq!(string(&img, execfn), "/tests/hello");
        assert_eq!(aux.last(), Some(&(at::NULL, 0)));
        let (a, e) = (img.args, img.env);
        let arg_bytes = &img.bytes[(a.0.as_u64() - sp) as usize..(a.1.as_u64() - sp) as usize];
        assert_eq!(arg_bytes, b"/tests/hello\0-v\0", "argv strings, in order, NULs included");
        let env_bytes = &img.bytes[(e.0.as_u64() - sp) as usize..(e.1.as_u64() - sp) as usize];
        assert_eq!(env_bytes, b"HOME=/\0TERM=linux\0");
    }

    #[test]
    fn alignment_holds_for_any_string_lengths() {
        for n in 0..20 {
            let arg: String = "x".repeat(n);
            let img = build(VirtAddr::new(TOP), &[&arg], &[], &[], [0; 16], "p");
            assert_eq!(img.sp.as_u64() % 16, 0);
            assert_eq!(string(&img, word(&img, img.sp.as_u64() + 8)), arg);
        }
    }
}
