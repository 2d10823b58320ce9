//! fd_table_rust: the descriptor table through the Rust runtime's
//! wrappers: dup gives the lowest free descriptor without close-on-exec;
//! dup3 gives exactly the one asked for (O_CLOEXEC honoured, the same
//! descriptor or other flags EINVAL); F_SETFD round-trips through F_GETFD;
//! F_DUPFD/F_DUPFD_CLOEXEC give descriptors >= their minimum; lseek on a
//! refpage is ESPIPE; bad and closed descriptors are EBADF.
#![no_std]
#![no_main]

use user::fd::{self, DupFlags, FdFlags};
use user::io::{self, Fd, Whence};
use user::linux_raw_sys::general::O_NONBLOCK;
use user::mm::{self, MapFlags, Prot};
use user::refpage::refpage_create;
use user::{check, check_eq, check_ok, println, Errno};

user::main!(main);

#[repr(C, align(16))]
struct Content([u8; 16]);

static CONTENT: Content = Content(*b"fd_table_rust!!\n");

fn main() {
    let fd = check_ok!(refpage_create(&CONTENT.0, 0));
    check_eq!(fd, Fd(3), "first refpage descriptor");
    check_ok!(io::write(Fd::STDOUT, b"fd_table_rust: fd 1 is the console\n"));

    // dup
    let d = check_ok!(fd::dup(fd));
    check_eq!(d, Fd(4), "dup(3): the lowest free descriptor");
    check_eq!(check_ok!(fd::fd_flags(d)), FdFlags::empty(), "dup'd F_GETFD");
    check_eq!(check_ok!(fd::fd_flags(fd)), FdFlags::CLOEXEC, "original F_GETFD");
    let (st, dst) = (check_ok!(io::fstat(fd)), check_ok!(io::fstat(d)));
    check_eq!(st.st_ino, dst.st_ino, "dup shares the open file");
    println!("fd_table_rust: dup(3) -> 4 without FD_CLOEXEC, same st_ino");

    // dup3
    check_eq!(fd::dup3(fd, Fd(9), DupFlags::CLOEXEC), Ok(Fd(9)));
    check_eq!(check_ok!(fd::fd_flags(Fd(9))), FdFlags::CLOEXEC, "dup3 O_CLOEXEC");
    check_eq!(fd::dup3(d, Fd(9), DupFlags::empty()), Ok(Fd(9)), "dup3 onto open 9");
    check_eq!(check_ok!(fd::fd_flags(Fd(9))), FdFlags::empty(), "dup3 flags 0");
    check_eq!(fd::dup3(fd, fd, DupFlags::empty()), Err(Errno::EINVAL), "dup3(3, 3)");
    check_eq!(fd::dup3(fd, Fd(10), DupFlags::from_bits_retain(O_NONBLOCK)), Err(Errno::EINVAL), "dup3 with O_NONBLOCK");
    check_eq!(fd::fd_flags(Fd(10)), Err(Errno::EBADF), "fd 10 after the refused dup3");
    println!("fd_table_rust: dup3 -> 9 with/without FD_CLOEXEC; same fd or O_NONBLOCK -> EINVAL");

    // F_SETFD
    check_ok!(fd::set_fd_flags(fd, FdFlags::empty()));
    check_eq!(check_ok!(fd::fd_flags(fd)), FdFlags::empty(), "after F_SETFD 0");
    check_ok!(fd::set_fd_flags(fd, FdFlags::CLOEXEC));
    check_eq!(check_ok!(fd::fd_flags(fd)), FdFlags::CLOEXEC, "after F_SETFD FD_CLOEXEC");
    println!("fd_table_rust: F_SETFD 0 / FD_CLOEXEC read back by F_GETFD");

    // F_DUPFD, F_DUPFD_CLOEXEC
    let e = check_ok!(fd::dup_min(fd, 10));
    check!(e.0 >= 10, "F_DUPFD(3, 10) gave {:?}", e);
    check_eq!(check_ok!(fd::fd_flags(e)), FdFlags::empty(), "F_DUPFD result");
    let f = check_ok!(fd::dup_min_cloexec(fd, 10));
    check!(f.0 >= 10 && f != e, "F_DUPFD_CLOEXEC(3, 10) gave {:?}", f);
    check_eq!(check_ok!(fd::fd_flags(f)), FdFlags::CLOEXEC, "F_DUPFD_CLOEXEC result");
    println!("fd_table_rust: F_DUPFD -> {}, F_DUPFD_CLOEXEC -> {}", e.0, f.0);

    // lseek
    check_eq!(io::lseek(fd, 0, Whence::Set), Err(Errno::ESPIPE), "lseek on a refpage");
    println!("fd_table_rust: lseek(3, 0, SEEK_SET) -> ESPIPE");

    // EBADF
    check_eq!(io::close(Fd(999)), Err(Errno::EBADF), "close(999)");
    check_eq!(io::close(Fd(-1)), Err(Errno::EBADF), "close(-1)");
    check_ok!(io::close(e));
    check_eq!(io::close(e), Err(Errno::EBADF), "close twice");
    check_eq!(fd::fd_flags(e), Err(Errno::EBADF), "F_GETFD on a closed fd");
    check_eq!(fd::dup(e), Err(Errno::EBADF), "dup of a closed fd");
    check_eq!(fd::dup3(e, Fd(20), DupFlags::empty()), Err(Errno::EBADF), "dup3 of a closed fd");
    check_eq!(io::write(e, b"x"), Err(Errno::EBADF), "write to a closed fd");
    check_eq!(io::lseek(e, 0, Whence::Set), Err(Errno::EBADF), "lseek on a closed fd");
    let st = io::fstat(e).map(|st| st.st_ino);
    check_eq!(st, Err(Errno::EBADF), "fstat on a closed fd (Ok is its st_ino)");
    // SAFETY: the mapping is refused; nothing is replaced.
    let m = unsafe { mm::mmap(0, 4096, Prot::READ, MapFlags::PRIVATE, Some(e), 0) };
    check_eq!(m, Err(Errno::EBADF), "mmap of a closed fd");
    println!("fd_table_rust: close(999), close(-1) and everything on a closed fd -> EBADF");

    for fd in [fd, d, Fd(9), f] {
        check_ok!(io::close(fd));
    }
}
