//! syscalls_rust: the user runtime's system call wrappers give the results
//! Linux gives: ids, uname, a monotonic clock that advances across a sleep,
//! getrandom, sysinfo, growing the break and touching it, anonymous mmap,
//! writev, resource limits, and errors decoded as `Errno`.
#![no_std]
#![no_main]

use core::time::Duration;

use user::io::{self, Fd, IoSlice};
use user::mm::{self, Prot};
use user::process::{self, Resource};
use user::system::{self, GrndFlags};
use user::time::{self, Clock};
use user::{check, check_eq, check_ok, println, Errno};

user::main!(main);

const PAGE: usize = 4096;
const MIB: usize = 1024 * 1024;

fn ids() {
    let pid = check_ok!(process::getpid());
    let tid = check_ok!(process::gettid());
    let ppid = check_ok!(process::getppid());
    check!(pid > 0, "getpid() is {}", pid);
    check!(ppid >= 0, "getppid() is {}", ppid);
    check_eq!(tid, pid, "gettid() == getpid() in a single-threaded process");
    let mut clear_tid = 0i32;
    // SAFETY: the kernel writes clear_tid only when the thread exits, and
    // the address is replaced by null below, before clear_tid goes away.
    let tid_again = check_ok!(unsafe { process::set_tid_address(&mut clear_tid) });
    // SAFETY: with a null address the kernel writes nothing at exit.
    check_ok!(unsafe { process::set_tid_address(core::ptr::null_mut()) });
    check_eq!(tid_again, tid, "set_tid_address returns the thread id");
    check_ok!(process::sched_yield());
    println!("syscalls_rust: pid {}, ppid {}, tid {}", pid, ppid, tid);
}

fn uname() {
    let uts = check_ok!(system::uname());
    check_eq!(uts.sysname(), "Linux");
    check_eq!(uts.machine(), "aarch64");
    println!("syscalls_rust: uname: {} {} {}", uts.sysname(), uts.release(), uts.machine());
}

fn clock() {
    let t0 = check_ok!(time::clock_gettime(Clock::MONOTONIC));
    check_ok!(time::nanosleep(Duration::from_millis(10)));
    let t1 = check_ok!(time::clock_gettime(Clock::MONOTONIC));
    check!(t1 >= t0 + Duration::from_millis(10), "CLOCK_MONOTONIC went from {:?} to {:?} across a 10 ms sleep", t0, t1);
    println!("syscalls_rust: 10 ms nanosleep took {} us of CLOCK_MONOTONIC", (t1 - t0).as_micros());
}

fn random() {
    let mut buf = [0u8; 32];
    let n = check_ok!(system::getrandom(&mut buf, GrndFlags::empty()));
    check_eq!(n, buf.len());
    check!(buf.iter().any(|&b| b != 0), "getrandom gave 32 zero bytes");
    println!("syscalls_rust: getrandom: 32 bytes, not all zero");
}

fn sysinfo() {
    let info = check_ok!(system::sysinfo());
    check!(info.total_ram_bytes() > 0, "sysinfo totalram is 0");
    check!(
        info.free_ram_bytes() <= info.total_ram_bytes(),
        "freeram {} > totalram {}",
        info.free_ram_bytes(),
        info.total_ram_bytes()
    );
    println!(
        "syscalls_rust: sysinfo: {} MiB RAM, {} MiB free",
        info.total_ram_bytes() / MIB as u64,
        info.free_ram_bytes() / MIB as u64
    );
}

fn brk() {
    let start = check_ok!(mm::current_break());
    check!(start != 0, "the initial break is 0");
    // SAFETY: raising the break only adds memory that nothing uses yet.
    let end = check_ok!(unsafe { mm::brk(start + MIB) });
    check!(end >= start + MIB, "brk(start + 1 MiB) left the break at {:#x}, start {:#x}", end, start);
    check_eq!(check_ok!(mm::current_break()), end);
    // The new memory is writable and starts zeroed, page after page.
    for addr in (start..start + MIB).step_by(PAGE) {
        let p = addr as *mut u8;
        // SAFETY: [start, start + 1 MiB) is ours after the brk above, and
        // nothing else refers to it.
        unsafe {
            check_eq!(p.read_volatile(), 0, "fresh break memory at {:#x}", addr);
            p.write_volatile((addr / PAGE) as u8);
        }
    }
    for addr in (start..start + MIB).step_by(PAGE) {
        // SAFETY: as above; written in the loop before.
        let value = unsafe { (addr as *const u8).read_volatile() };
        check_eq!(value, (addr / PAGE) as u8, "break memory at {:#x} reads back", addr);
    }
    println!("syscalls_rust: brk grew {:#x} -> {:#x}; 256 pages touched and read back", start, end);
}

fn mmap() {
    let len = 4 * PAGE;
    let p = check_ok!(mm::mmap_anonymous(len, Prot::READ | Prot::WRITE));
    check!((p as usize).is_multiple_of(PAGE), "mmap returned unaligned {:p}", p);
    // SAFETY: the mapping is len bytes, readable and writable, and ours.
    let bytes = unsafe { core::slice::from_raw_parts_mut(p, len) };
    check!(bytes.iter().all(|&b| b == 0), "fresh anonymous memory is not zero");
    bytes.fill(0x5a);
    check!(bytes.iter().all(|&b| b == 0x5a), "anonymous memory does not keep what was written");
    // SAFETY: bytes is not used after this.
    check_ok!(unsafe { mm::munmap(p, len) });
    println!("syscalls_rust: mmap 4 anonymous pages at {:p}, wrote, read back, munmap", p);
}

fn io() {
    let bufs: [&[u8]; 3] = [b"syscalls_rust: ", b"writev of ", b"3 buffers\n"];
    let n = check_ok!(io::writev(Fd::STDOUT, &bufs.map(IoSlice::new)));
    let total: usize = bufs.iter().map(|b| b.len()).sum();
    check_eq!(n, total, "writev returns the bytes of all buffers");
    check_eq!(io::close(Fd(1000)), Err(Errno::EBADF), "close of a never-opened fd");
}

fn limits() {
    let stack = check_ok!(process::getrlimit(Resource::STACK));
    check!(stack.rlim_cur > 0 && stack.rlim_cur <= stack.rlim_max, "RLIMIT_STACK is {:?}", stack);
    println!("syscalls_rust: RLIMIT_STACK cur {}, max {}", stack.rlim_cur, stack.rlim_max);
}

fn errors() {
    // SAFETY: an unknown number takes no arguments and does nothing.
    let unknown = unsafe { user::syscall::syscall6(1000, 0, 0, 0, 0, 0, 0) };
    check_eq!(unknown, Err(Errno::ENOSYS), "unknown system call 1000");
    let nr = user::linux_raw_sys::general::__NR_write;
    // SAFETY: the kernel must refuse the unmapped address 0x10, not touch
    // our memory.
    let bad = unsafe { user::syscall::syscall6(nr, 1, 0x10, 8, 0, 0, 0) };
    check_eq!(bad, Err(Errno::EFAULT), "write from address 0x10");
    println!("syscalls_rust: syscall 1000 -> {:?}; write from 0x10 -> {:?}", Errno::ENOSYS, Errno::EFAULT);
}

fn main() {
    ids();
    uname();
    clock();
    random();
    sysinfo();
    brk();
    mmap();
    io();
    limits();
    errors();
}
