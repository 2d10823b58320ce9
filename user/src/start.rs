//! Process entry: `_start`, then the program's main, then exit_group.
//!
//! A program names its main with [`main!`](crate::main):
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! user::main!(main);
//! fn main() { user::println!("hi"); }
//! ```
//!
//! which defines the symbol `user_program_main` that `start_rust` calls. A
//! program that forgets it fails to link with "undefined symbol:
//! user_program_main".

use core::arch::global_asm;
use core::fmt::Debug;

use crate::env;
use crate::process::exit_group;

// The ELF entry point (the linker script's ENTRY). The kernel enters with
// sp at argc (see env.rs) and, per the Linux arm64 ABI, sp 16-byte aligned.
// x29 and x30 are zeroed so that the frame-record chain built from here on
// ends at _start, which debuggers and backtraces treat as the outermost
// frame. The initial sp goes to start_rust in x0. Clobbers x0, x29 and x30;
// nothing is live yet.
global_asm!(
    ".globl _start",
    ".type _start, %function",
    "_start:",
    "    mov x29, xzr",
    "    mov x30, xzr",
    "    mov x0, sp",
    "    bl {start_rust}",
    // start_rust does not return; trap rather than run into what follows.
    "    udf #0",
    ".size _start, . - _start",
    start_rust = sym start_rust,
);

unsafe extern "Rust" {
    /// The program's main, defined by `user::main!`.
    fn user_program_main() -> i32;
}

/// Called by `_start` with the initial stack pointer.
///
/// # Safety
///
/// Only `_start` may call this, once, with the stack pointer the kernel
/// entered with.
unsafe extern "C" fn start_rust(sp: *const usize) -> ! {
    // SAFETY: sp is the entry stack pointer (our caller is _start), which
    // the kernel laid out as env::init expects and which is never freed.
    unsafe { env::init(sp) };
    // SAFETY: user_program_main is defined by `user::main!`, which gives it
    // exactly this signature.
    let status = unsafe { user_program_main() };
    exit_group(status)
}

/// What main may return, turned into an exit status (like std's
/// `Termination`): `()` is 0, an `i32` is itself, and `Err` prints the
/// error and is 1.
pub trait Termination {
    fn exit_status(self) -> i32;
}

impl Termination for () {
    fn exit_status(self) -> i32 {
        0
    }
}

impl Termination for i32 {
    fn exit_status(self) -> i32 {
        self
    }
}

impl<T: Termination, E: Debug> Termination for Result<T, E> {
    fn exit_status(self) -> i32 {
        match self {
            Ok(value) => value.exit_status(),
            Err(err) => {
                crate::eprintln!("Error: {:?}", err);
                1
            }
        }
    }
}

/// Makes `$main` (a `fn() -> T` with `T:` [`Termination`]) the program's
/// main function.
#[macro_export]
macro_rules! main {
    ($main:path) => {
        #[unsafe(no_mangle)]
        fn user_program_main() -> i32 {
            $crate::start::Termination::exit_status($main())
        }
    };
}
