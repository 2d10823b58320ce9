//! The program's arguments, environment and auxiliary vector, read from the
//! initial stack the kernel builds at exec (Linux fs/binfmt_elf.c,
//! `create_elf_tables`):
//!
//! ```text
//! sp -> argc
//!       argv[0] .. argv[argc-1], NULL
//!       envp[0] .. envp[n-1],    NULL
//!       auxv: (AT_* tag, value) pairs, ending with (AT_NULL, 0)
//! ```
//!
//! `_start` hands sp to `init` before `main` runs; the strings and vectors
//! stay on that stack, which lives as long as the process, hence the
//! `'static` borrows.

use core::ffi::{c_char, CStr};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use linux_raw_sys::auxvec::{
    AT_BASE, AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_EXECFN, AT_FLAGS, AT_GID, AT_HWCAP, AT_HWCAP2, AT_MINSIGSTKSZ,
    AT_NULL, AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PLATFORM, AT_RANDOM, AT_SECURE, AT_SYSINFO_EHDR, AT_UID,
};

// Set once by `init`, before main; the process is single-threaded then, so
// Relaxed suffices. Atomics rather than `static mut` keep every read safe.
static ARGC: AtomicUsize = AtomicUsize::new(0);
static ARGV: AtomicPtr<*const c_char> = AtomicPtr::new(core::ptr::null_mut());
static ENVP: AtomicPtr<*const c_char> = AtomicPtr::new(core::ptr::null_mut());
static AUXV: AtomicPtr<usize> = AtomicPtr::new(core::ptr::null_mut());

/// Records where argv, envp and auxv are.
///
/// # Safety
///
/// `sp` must be the stack pointer at process entry, pointing at the layout
/// above, and that memory must never be freed or written.
pub(crate) unsafe fn init(sp: *const usize) {
    // SAFETY: per the layout above, sp[0] is argc, argv starts at sp[1] and
    // has argc entries and a NULL, then envp runs to its NULL, then auxv.
    unsafe {
        let argc = *sp;
        let argv = sp.add(1) as *mut *const c_char;
        let envp = argv.add(argc + 1);
        let mut end = envp;
        while !(*end).is_null() {
            end = end.add(1);
        }
        ARGC.store(argc, Ordering::Relaxed);
        ARGV.store(argv, Ordering::Relaxed);
        ENVP.store(envp, Ordering::Relaxed);
        AUXV.store(end.add(1) as *mut usize, Ordering::Relaxed);
    }
}

/// Iterates over a NULL-terminated array of C strings.
#[derive(Clone)]
pub struct CStrs {
    next: *const *const c_char,
}

impl Iterator for CStrs {
    type Item = &'static CStr;

    fn next(&mut self) -> Option<&'static CStr> {
        if self.next.is_null() {
            return None;
        }
        // SAFETY: `next` walks an argv or envp array recorded by init, which
        // is NULL-terminated, and stops at the NULL; each entry is a
        // NUL-terminated string on the never-freed initial stack.
        unsafe {
            let s = *self.next;
            if s.is_null() {
                return None;
            }
            self.next = self.next.add(1);
            Some(CStr::from_ptr(s))
        }
    }
}

/// argc, as the kernel counted it.
pub fn argc() -> usize {
    ARGC.load(Ordering::Relaxed)
}

/// `argv[0]`, `argv[1]`, ...
pub fn args() -> CStrs {
    CStrs { next: ARGV.load(Ordering::Relaxed) }
}

/// `argv[i]`, if it exists.
pub fn arg(i: usize) -> Option<&'static CStr> {
    args().nth(i)
}

/// The environment strings, `NAME=value` each.
pub fn vars() -> CStrs {
    CStrs { next: ENVP.load(Ordering::Relaxed) }
}

/// The value of environment variable `name` (getenv(3)).
pub fn var(name: &str) -> Option<&'static CStr> {
    vars().find_map(|entry| {
        let bytes = entry.to_bytes_with_nul();
        let value = bytes.strip_prefix(name.as_bytes())?.strip_prefix(b"=")?;
        CStr::from_bytes_with_nul(value).ok()
    })
}

/// An auxiliary-vector tag (`AT_*`, include/uapi/linux/auxvec.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuxTag(pub usize);

impl AuxTag {
    pub const NULL: AuxTag = AuxTag(AT_NULL as usize);
    pub const PHDR: AuxTag = AuxTag(AT_PHDR as usize);
    pub const PHENT: AuxTag = AuxTag(AT_PHENT as usize);
    pub const PHNUM: AuxTag = AuxTag(AT_PHNUM as usize);
    pub const PAGESZ: AuxTag = AuxTag(AT_PAGESZ as usize);
    pub const BASE: AuxTag = AuxTag(AT_BASE as usize);
    pub const FLAGS: AuxTag = AuxTag(AT_FLAGS as usize);
    pub const ENTRY: AuxTag = AuxTag(AT_ENTRY as usize);
    pub const UID: AuxTag = AuxTag(AT_UID as usize);
    pub const EUID: AuxTag = AuxTag(AT_EUID as usize);
    pub const GID: AuxTag = AuxTag(AT_GID as usize);
    pub const EGID: AuxTag = AuxTag(AT_EGID as usize);
    pub const PLATFORM: AuxTag = AuxTag(AT_PLATFORM as usize);
    pub const HWCAP: AuxTag = AuxTag(AT_HWCAP as usize);
    pub const CLKTCK: AuxTag = AuxTag(AT_CLKTCK as usize);
    pub const SECURE: AuxTag = AuxTag(AT_SECURE as usize);
    pub const RANDOM: AuxTag = AuxTag(AT_RANDOM as usize);
    pub const HWCAP2: AuxTag = AuxTag(AT_HWCAP2 as usize);
    pub const EXECFN: AuxTag = AuxTag(AT_EXECFN as usize);
    pub const SYSINFO_EHDR: AuxTag = AuxTag(AT_SYSINFO_EHDR as usize);
    pub const MINSIGSTKSZ: AuxTag = AuxTag(AT_MINSIGSTKSZ as usize);
}

/// Iterates over the auxiliary vector's (tag, value) pairs, AT_NULL
/// excluded.
#[derive(Clone)]
pub struct Auxv {
    next: *const usize,
}

impl Iterator for Auxv {
    type Item = (AuxTag, usize);

    fn next(&mut self) -> Option<(AuxTag, usize)> {
        if self.next.is_null() {
            return None;
        }
        // SAFETY: `next` walks the auxv recorded by init, two words per
        // entry, and stops at the AT_NULL entry that ends it.
        unsafe {
            let tag = AuxTag(*self.next);
            if tag == AuxTag::NULL {
                return None;
            }
            let value = *self.next.add(1);
            self.next = self.next.add(2);
            Some((tag, value))
        }
    }
}

/// Every auxv entry the kernel passed.
pub fn auxv() -> Auxv {
    Auxv { next: AUXV.load(Ordering::Relaxed) }
}

/// The value of auxv entry `tag` (getauxval(3)), `None` if absent.
pub fn getauxval(tag: AuxTag) -> Option<usize> {
    auxv().find(|&(t, _)| t == tag).map(|(_, value)| value)
}
