//! EL0 side of the project: the `no_std` runtime that user test programs link
//! against. Empty until the kernel can run EL0 programs (see issue "Run EL0
//! programs with the Linux arm64 syscall ABI").
#![no_std]
