//! refpage_rust: refpage_create(2) through the Rust runtime: the call's
//! errors (EINVAL for flags and size, EFAULT for unreadable content); the
//! lowest free descriptor, read-only and close-on-exec; fstat; a private
//! mapping showing the pattern at any page-aligned offset; copy-on-write
//! (a write changes one byte of one mapping only); close before munmap;
//! and MADV_DONTNEED bringing the pattern back.
#![no_std]
#![no_main]

use user::fd::{self, AccessMode, FdFlags};
use user::io::{self, Fd};
use user::linux_raw_sys::general::S_IFREG;
use user::mm::{self, Advice, MapFlags, Prot};
use user::refpage::{refpage_create, refpage_create_raw};
use user::{check, check_eq, check_ok, println, Errno};

user::main!(main);

const PAGE: usize = 4096;
const SIZE: usize = 32;

/// The content, aligned to its size as refpage_create requires.
#[repr(C, align(32))]
struct Content([u8; SIZE]);

/// The bytes of a mapping, read one by one.
struct Mapping {
    ptr: *mut u8,
    len: usize,
}

impl Mapping {
    fn new(fd: Fd, len: usize, prot: Prot, flags: MapFlags, offset: u64) -> Mapping {
        // SAFETY: without MAP_FIXED the kernel picks an unused range, so
        // nothing in use is replaced.
        let ptr = check_ok!(unsafe { mm::mmap(0, len, prot, flags, Some(fd), offset) });
        Mapping { ptr, len }
    }

    fn get(&self, i: usize) -> u8 {
        assert!(i < self.len);
        // SAFETY: i is inside the readable mapping, which lives until drop.
        unsafe { self.ptr.add(i).read_volatile() }
    }

    fn set(&self, i: usize, value: u8) {
        assert!(i < self.len);
        // SAFETY: i is inside the mapping; callers map it writable. Only
        // volatile accesses through ptr touch it.
        unsafe { self.ptr.add(i).write_volatile(value) }
    }

    /// Every byte is `content[i % content.len()]`, except `except` (index,
    /// value) pairs.
    fn check_pattern(&self, content: &[u8], except: &[(usize, u8)], what: &str) {
        for i in 0..self.len {
            let want = except.iter().find(|&&(at, _)| at == i).map_or(content[i % content.len()], |&(_, v)| v);
            let got = self.get(i);
            check!(got == want, "{}: byte {} is {:#04x}, want {:#04x}", what, i, got, want);
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping is not used after drop.
        check_ok!(unsafe { mm::munmap(self.ptr, self.len) });
    }
}

fn errors(content: &Content) {
    let c = content.0.as_ptr();
    check_eq!(refpage_create(&content.0, 1), Err(Errno::EINVAL), "flags 1");
    check_eq!(refpage_create_raw(c, 0, 0), Err(Errno::EINVAL), "size 0");
    check_eq!(refpage_create_raw(c, 24, 0), Err(Errno::EINVAL), "size 24");
    check_eq!(refpage_create_raw(c, 8192, 0), Err(Errno::EINVAL), "size 8192");
    check_eq!(refpage_create_raw(c.wrapping_add(1), 2, 0), Err(Errno::EINVAL), "content misaligned for size 2");
    check_eq!(refpage_create_raw(core::ptr::null(), 1, 0), Err(Errno::EFAULT), "content NULL");
    check_eq!(
        refpage_create_raw(core::ptr::null(), 3, 0),
        Err(Errno::EINVAL),
        "size 3 with content NULL: size is checked first"
    );
    check_eq!(
        refpage_create_raw(core::ptr::null(), 1, 1),
        Err(Errno::EINVAL),
        "flags 1 with content NULL: flags are checked first"
    );
    println!(
        "refpage_rust: flags 1, sizes 0/24/8192, misaligned -> EINVAL; NULL -> EFAULT; order flags, size, readability"
    );
}

fn descriptor(content: &Content) -> Fd {
    let fd = check_ok!(refpage_create(&content.0, 0));
    check_eq!(fd, Fd(3), "the lowest free descriptor (0-2 are the console)");
    let status = check_ok!(fd::status_flags(fd));
    check_eq!(AccessMode::of(status), AccessMode::ReadOnly, "F_GETFL {:#x}", status);
    check_eq!(check_ok!(fd::fd_flags(fd)), FdFlags::CLOEXEC, "F_GETFD");
    let st = check_ok!(io::fstat(fd));
    check_eq!(st.st_mode, S_IFREG | 0o400, "st_mode");
    check_eq!(st.st_size, SIZE as i64, "st_size");
    check_eq!(st.st_blksize, 4096, "st_blksize");
    check!(st.st_ino != 0, "st_ino is 0");
    println!(
        "refpage_rust: fd 3, O_RDONLY, FD_CLOEXEC; fstat mode {:#o} size {} ino {}",
        st.st_mode, st.st_size, st.st_ino
    );
    fd
}

fn main() {
    let mut content = Content([0; SIZE]);
    for (i, b) in content.0.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(29).wrapping_add(7);
    }
    let pattern = content.0;
    errors(&content);
    let fd = descriptor(&content);

    // The content was copied: changing it now shows nowhere.
    content.0.fill(0xee);
    let rw = Prot::READ | Prot::WRITE;
    let a = Mapping::new(fd, 3 * PAGE, rw, MapFlags::PRIVATE, 0);
    a.check_pattern(&pattern, &[], "mapping A at offset 0");
    let far = Mapping::new(fd, 2 * PAGE, Prot::READ, MapFlags::PRIVATE, 1 << 30);
    far.check_pattern(&pattern, &[], "mapping at offset 1 GiB");
    let shared = Mapping::new(fd, PAGE, Prot::READ, MapFlags::SHARED, 0);
    shared.check_pattern(&pattern, &[], "MAP_SHARED mapping");
    println!("refpage_rust: private mappings at offsets 0 and 1 GiB and a shared one show the pattern (the source was changed after the call)");

    // Copy-on-write between two mappings of the descriptor.
    let b = Mapping::new(fd, 3 * PAGE, rw, MapFlags::PRIVATE, 0);
    a.set(PAGE + 3, 0xa1);
    a.check_pattern(&pattern, &[(PAGE + 3, 0xa1)], "A after its write");
    b.check_pattern(&pattern, &[], "B after A's write");
    b.set(PAGE + 3, 0xb1);
    a.check_pattern(&pattern, &[(PAGE + 3, 0xa1)], "A after B's write");
    b.check_pattern(&pattern, &[(PAGE + 3, 0xb1)], "B after its write");
    shared.check_pattern(&pattern, &[], "MAP_SHARED mapping after the private writes");
    println!("refpage_rust: writes to A and B are private to each; the shared mapping is unchanged");

    // Close before munmap: faults after close still find the page.
    let c = Mapping::new(fd, 2 * PAGE, rw, MapFlags::PRIVATE, 4 * PAGE as u64);
    check_ok!(io::close(fd));
    check_eq!(io::close(fd), Err(Errno::EBADF), "closing fd 3 twice");
    c.check_pattern(&pattern, &[], "mapping read first after close");
    c.set(5, 0xc1);
    c.check_pattern(&pattern, &[(5, 0xc1)], "mapping written after close");
    a.set(2 * PAGE, 0xa2);
    a.check_pattern(&pattern, &[(PAGE + 3, 0xa1), (2 * PAGE, 0xa2)], "A written after close");
    println!("refpage_rust: after close(3) the mappings read the pattern and take writes");

    // MADV_DONTNEED drops the private copies.
    // SAFETY: nothing relies on A's written bytes any more.
    check_ok!(unsafe { mm::madvise(a.ptr, a.len, Advice::DONTNEED) });
    a.check_pattern(&pattern, &[], "A after MADV_DONTNEED");
    b.check_pattern(&pattern, &[(PAGE + 3, 0xb1)], "B after MADV_DONTNEED of A");
    println!("refpage_rust: MADV_DONTNEED on A brings back the pattern; B keeps its write");
}
