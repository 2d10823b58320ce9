//! hello_rust: a Rust program on the user runtime starts, sees its
//! arguments, prints to stdout and exits 0.
#![no_std]
#![no_main]

use user::{check, env, println};

user::main!(main);

fn main() {
    println!("hello from the Rust user runtime");
    check!(env::argc() >= 1, "argc is {}", env::argc());
    let argv0 = env::arg(0);
    check!(argv0.is_some_and(|a| !a.is_empty()), "argv[0] is {:?}", argv0);
    println!("hello_rust: argc {}, argv[0] {:?}", env::argc(), argv0.unwrap_or_default());
}
