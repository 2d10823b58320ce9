//! System calls: Linux's arm64 ABI (`svc #0`, number in x8, arguments in
//! x0-x5, result or -errno in x0), numbers from asm-generic via
//! `linux-raw-sys`. Each handler returns `SysResult`; this file is only the
//! table from number to handler.

// Safe code only: what needs `unsafe` is a primitive in arch/ or mm/
// (frames, page tables, user copies, the one-CPU cells), as Asterinas
// splits its framekernel.
#![deny(unsafe_code)]

pub mod errno;

// Kernel-only: not built for the host unit tests (main.rs: kernel_only!).
kernel_only! {
    mod fd;
    mod futex;
    pub(crate) mod info;
    mod io;
    mod madvise;
    mod memfd;
    mod memory;
    mod mincore;
    mod mlock;
    mod mremap;
    mod msync;
    mod poll;
    mod prctl;
    mod process;
    mod ptrace;
    mod refpage;
    mod regset;
    mod sched;
    pub(crate) mod signal;
    mod socket;
    mod time;
}

#[cfg(target_os = "none")]
pub use dispatch::dispatch;

#[cfg(target_os = "none")]
mod dispatch {
    use linux_raw_sys::general as nr;

    use super::errno::{Errno, SysResult};
    use super::process as proc;
    use super::{fd, futex, info, io, memfd, memory, mremap, poll, prctl, ptrace, refpage, sched, signal, time};
    use super::{madvise, mincore, mlock, msync, socket};
    use crate::arch::aarch64::trap_frame::TrapFrame;
    use crate::mm::uaccess::UserAddr;
    use crate::process::{self, outcome::Outcome};
    use crate::signal::RestartKind;

    /// Handles the SVC in `frame` and writes the result to x0.
    pub fn dispatch(frame: &mut TrapFrame) {
        let number = frame.x[8];
        // rt_sigreturn rewrites every register, x0 included.
        if number == nr::__NR_rt_sigreturn as u64 {
            frame.x[0] = crate::signal::deliver::sigreturn(frame);
            return;
        }
        let sp = frame.sp_el0;
        let a = [frame.x[0], frame.x[1], frame.x[2], frame.x[3], frame.x[4], frame.x[5]];
        let result = match number as u32 {
            nr::__NR_clone => proc::clone(frame, a[0], a[1], UserAddr::new(a[2]), a[3], UserAddr::new(a[4])),
            nr::__NR_execve => proc::execve(frame, UserAddr::new(a[0]), UserAddr::new(a[1]), UserAddr::new(a[2])),
            _ => call(number, a, sp),
        };
        // An -ERESTART* code is finished on the way back to EL0, where the
        // signal that cut the call short is known (signal/deliver.rs).
        let restart = match result {
            Err(Errno::ERESTARTSYS) => Some(RestartKind::Sys),
            Err(Errno::ERESTARTNOINTR) => Some(RestartKind::NoIntr),
            Err(Errno::ERESTARTNOHAND) => Some(RestartKind::NoHand),
            Err(Errno::ERESTART_RESTARTBLOCK) => Some(RestartKind::RestartBlock),
            _ => None,
        };
        // Only when there is one: the last return to EL0 took the one
        // before (signal/deliver.rs: `deliver_pending`), so it is None
        // here, and a borrow of the signal state costs every call a check
        // of the big lock and of its flag (sync/kernel_locked.rs).
        if let Some(kind) = restart {
            process::current().signals.borrow_mut().restart = Some((kind, a[0]));
        }
        frame.x[0] = match result {
            Ok(value) => value,
            Err(e) => e.to_return_value(),
        };
    }

    fn call(number: u64, a: [u64; 6], sp: u64) -> SysResult {
        let user = |i: usize| UserAddr::new(a[i]);
        let Ok(n) = u32::try_from(number) else { return unknown(number) };
        match n {
            nr::__NR_read => io::read(a[0] as i32, user(1), a[2] as usize),
            nr::__NR_write => io::write(a[0] as i32, user(1), a[2] as usize),
            nr::__NR_readv => io::readv(a[0] as i32, user(1), a[2] as i32),
            nr::__NR_writev => io::writev(a[0] as i32, user(1), a[2] as i32),
            nr::__NR_ioctl => io::ioctl(a[0] as i32, a[1] as u32, user(2)),
            nr::__NR_fstat => io::fstat(a[0] as i32, user(1)),
            nr::__NR_newfstatat => io::newfstatat(a[0] as i32, user(1), user(2), a[3] as u32),
            nr::__NR_readlinkat => io::readlinkat(a[0] as i32, user(1), user(2), a[3] as i32),
            nr::__NR_getdents64 => io::getdents64(a[0] as i32, user(1), a[2] as usize),
            nr::__NR_close => fd::close(a[0] as i32),
            nr::__NR_dup => fd::dup(a[0] as i32),
            nr::__NR_dup3 => fd::dup3(a[0] as i32, a[1] as i32, a[2] as u32),
            nr::__NR_close_range => fd::close_range(a[0] as u32, a[1] as u32, a[2] as u32),
            nr::__NR_fcntl => fd::fcntl(a[0] as i32, a[1] as u32, a[2]),
            nr::__NR_pipe2 => fd::pipe2(user(0), a[1] as u32),
            nr::__NR_ppoll => poll::ppoll(user(0), a[1] as u32, user(2), user(3), a[4]),
            nr::__NR_pselect6 => poll::pselect6(a[0] as i32, [user(1), user(2), user(3)], user(4), user(5)),
            nr::__NR_lseek => fd::lseek(a[0] as i32, a[1] as i64, a[2] as u32),
            nr::__NR_openat => io::openat(a[0] as i32, user(1), a[2] as u32, a[3] as u32),
            nr::__NR_unlinkat => io::unlinkat(a[0] as i32, user(1), a[2] as u32),
            nr::__NR_ftruncate => io::ftruncate(a[0] as i32, a[1] as i64),
            nr::__NR_pread64 => io::pread(a[0] as i32, user(1), a[2] as usize, a[3] as i64),
            nr::__NR_pwrite64 => io::pwrite(a[0] as i32, user(1), a[2] as usize, a[3] as i64),

            nr::__NR_brk => memory::brk(user(0)),
            nr::__NR_mmap => memory::mmap(user(0), a[1], a[2] as u32, a[3] as u32, a[4] as i32, a[5]),
            nr::__NR_munmap => memory::munmap(user(0), a[1]),
            nr::__NR_mprotect => memory::mprotect(user(0), a[1], a[2] as u32),
            nr::__NR_madvise => madvise::madvise(user(0), a[1], a[2] as u32),
            nr::__NR_mlock => mlock::mlock(user(0), a[1]),
            nr::__NR_mlock2 => mlock::mlock2(user(0), a[1], a[2] as u32),
            nr::__NR_munlock => mlock::munlock(user(0), a[1]),
            nr::__NR_mlockall => mlock::mlockall(a[0] as u32),
            nr::__NR_munlockall => mlock::munlockall(),
            nr::__NR_mincore => mincore::mincore(user(0), a[1], user(2)),
            nr::__NR_msync => msync::msync(user(0), a[1], a[2] as u32),
            nr::__NR_socketpair => socket::socketpair(a[0] as i32, a[1] as u32, a[2] as i32, user(3)),
            nr::__NR_mremap => mremap::mremap(user(0), a[1], a[2], a[3], user(4)),
            nr::__NR_memfd_create => memfd::memfd_create(user(0), a[1] as u32),
            refpage::NR_REFPAGE_CREATE => refpage::refpage_create(user(0), a[1] as u32, a[2]),

            nr::__NR_exit => process::exit_current(Outcome::Exited(a[0] as u8)),
            nr::__NR_exit_group => process::exit_group_current(Outcome::Exited(a[0] as u8)),
            nr::__NR_futex => futex::futex(user(0), a[1] as u32, a[2] as u32, user(3), a[5] as u32),
            nr::__NR_wait4 => proc::wait4(a[0] as i32, user(1), a[2] as u32, user(3)),
            nr::__NR_waitid => proc::waitid(a[0] as u32, a[1] as i32, user(2), a[3] as u32),
            nr::__NR_getpid => Ok(process::current().tgid as u64),
            nr::__NR_gettid => Ok(process::current().pid.0 as u64),
            nr::__NR_getppid => Ok(process::current().parent.get() as u64),
            nr::__NR_getuid | nr::__NR_geteuid | nr::__NR_getgid | nr::__NR_getegid => Ok(0),
            nr::__NR_set_tid_address => info::set_tid_address(a[0]),
            nr::__NR_set_robust_list => info::set_robust_list(a[0], a[1] as usize),
            nr::__NR_get_robust_list => info::get_robust_list(a[0] as i32, user(1), user(2)),
            nr::__NR_rseq => Err(Errno::ENOSYS),
            nr::__NR_prlimit64 => info::prlimit64(a[0] as i32, a[1] as u32, user(2), user(3)),
            nr::__NR_getrlimit => info::prlimit64(0, a[0] as u32, UserAddr::NULL, user(1)),
            nr::__NR_setrlimit => info::prlimit64(0, a[0] as u32, user(1), UserAddr::NULL),
            nr::__NR_getrandom => info::getrandom(user(0), a[1] as usize, a[2] as u32),
            nr::__NR_uname => info::uname(user(0)),
            nr::__NR_sysinfo => info::sysinfo(user(0)),

            nr::__NR_clock_gettime => time::clock_gettime(a[0] as i32, user(1)),
            nr::__NR_clock_getres => time::clock_getres(a[0] as i32, user(1)),
            nr::__NR_gettimeofday => time::gettimeofday(user(0), user(1)),
            nr::__NR_nanosleep => time::nanosleep(user(0), user(1)),
            nr::__NR_clock_nanosleep => time::clock_nanosleep(a[0] as i32, a[1] as u32, user(2), user(3)),
            nr::__NR_sched_getaffinity => sched::sched_getaffinity(a[0] as i32, a[1] as u32, user(2)),
            nr::__NR_sched_setaffinity => sched::sched_setaffinity(a[0] as i32, a[1] as u32, user(2)),
            nr::__NR_getcpu => sched::getcpu(user(0), user(1)),
            nr::__NR_sched_yield => {
                process::yield_now();
                Ok(0)
            }

            nr::__NR_rt_sigaction => signal::rt_sigaction(a[0] as i32, user(1), user(2), a[3]),
            nr::__NR_rt_sigprocmask => signal::rt_sigprocmask(a[0] as u32, user(1), user(2), a[3]),
            nr::__NR_rt_sigpending => signal::rt_sigpending(user(0), a[1]),
            nr::__NR_sigaltstack => signal::sigaltstack(user(0), user(1), sp),
            nr::__NR_kill => signal::kill(a[0] as i32, a[1] as i32),
            nr::__NR_tkill => signal::tkill(a[0] as i32, a[1] as i32),
            nr::__NR_tgkill => signal::tgkill(a[0] as i32, a[1] as i32, a[2] as i32),
            nr::__NR_rt_sigqueueinfo => signal::rt_sigqueueinfo(a[0] as i32, a[1] as i32, user(2)),
            nr::__NR_rt_tgsigqueueinfo => signal::rt_tgsigqueueinfo(a[0] as i32, a[1] as i32, a[2] as i32, user(3)),
            nr::__NR_rt_sigsuspend => signal::rt_sigsuspend(user(0), a[1]),
            nr::__NR_rt_sigtimedwait => signal::rt_sigtimedwait(user(0), user(1), user(2), a[3]),
            nr::__NR_restart_syscall => signal::restart_syscall(),
            nr::__NR_ptrace => ptrace::ptrace(a[0], a[1] as i32, a[2], a[3]),
            nr::__NR_prctl => prctl::prctl(a[0] as u32, [a[1], a[2], a[3], a[4]]),
            _ => unknown(number),
        }
    }

    /// ENOSYS, logged (info, as Linux says nothing at all) the first time
    /// each number is seen: a program that needs a missing call says so
    /// once, and a fuzzer does not flood the log.
    fn unknown(number: u64) -> SysResult {
        use core::sync::atomic::{AtomicU64, Ordering};
        static WARNED: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
        let first = match WARNED.get((number / 64) as usize) {
            Some(word) => word.fetch_or(1 << (number % 64), Ordering::Relaxed) & (1 << (number % 64)) == 0,
            None => false,
        };
        let p = process::current();
        if first {
            log::info!(
                "pid {} ({}): unknown system call {} -> ENOSYS (logged once per number)",
                p.pid.0,
                p.name.borrow(),
                number
            );
        } else {
            log::debug!("pid {} ({}): unknown system call {} -> ENOSYS", p.pid.0, p.name.borrow(), number);
        }
        Err(Errno::ENOSYS)
    }
}
