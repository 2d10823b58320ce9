//! The panic handler: print the message and where it was raised, then exit
//! with status 101, the status a std Rust program's panicking main thread
//! gives, so a runner can tell a panic (a bug in the program) from a failed
//! `check!` (status 1).

use core::panic::PanicInfo;

use crate::process::exit_group;

/// Exit status of a program that panicked.
pub const PANIC_STATUS: i32 = 101;

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    match info.location() {
        Some(loc) => {
            crate::eprintln!("panicked at {}:{}:{}:\n{}", loc.file(), loc.line(), loc.column(), info.message())
        }
        None => crate::eprintln!("panicked:\n{}", info.message()),
    }
    exit_group(PANIC_STATUS)
}
