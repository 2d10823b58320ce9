//! Architecture support. Only AArch64 exists; generic code names
//! `arch::aarch64` explicitly so a reader always knows which side of the line
//! a call goes to.

pub mod aarch64;
