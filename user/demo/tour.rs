//! tour (Rust): the `make qemu` demo's program on the project's own `no_std`
//! runtime: no libc, just `svc #0` and the Linux arm64 system call ABI.
#![no_std]
#![no_main]

use core::time::Duration;

use user::env::{self, AuxTag};
use user::mm::{self, Prot};
use user::{println, process, system, time, Errno};

user::main!(main);

fn main() -> Result<(), Errno> {
    println!("tour_rust: a no_std Rust program at EL0, pid {}, {} argument(s)", process::getpid()?, env::argc() - 1);

    let uts = system::uname()?;
    println!("tour_rust: uname says {} {} on {}", uts.sysname(), uts.release(), uts.machine());

    let info = system::sysinfo()?;
    println!(
        "tour_rust: sysinfo: {} MiB of RAM, {} MiB free; page size {} from the auxiliary vector",
        info.total_ram_bytes() >> 20,
        info.free_ram_bytes() >> 20,
        env::getauxval(AuxTag::PAGESZ).unwrap_or(0)
    );

    let len = 16 * 4096;
    let p = mm::mmap_anonymous(len, Prot::READ | Prot::WRITE)?;
    // SAFETY: p is a fresh private mapping of len bytes, readable and
    // writable, that nothing else refers to.
    let bytes = unsafe { core::slice::from_raw_parts_mut(p, len) };
    bytes.fill(0x5a);
    let sum: usize = bytes.iter().map(|&b| b as usize).sum();
    println!("tour_rust: mmap'd 16 pages at {:p}, filled them, byte sum {:#x}", p, sum);
    // SAFETY: bytes is not used after this.
    unsafe { mm::munmap(p, len)? };

    let t0 = time::clock_gettime(time::Clock::MONOTONIC)?;
    time::nanosleep(Duration::from_millis(20))?;
    let slept = time::clock_gettime(time::Clock::MONOTONIC)? - t0;
    println!("tour_rust: slept 20 ms; CLOCK_MONOTONIC says {} us passed", slept.as_micros());
    println!("tour_rust: done, exit status 0");
    Ok(())
}
