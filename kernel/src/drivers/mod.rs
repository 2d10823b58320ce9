//! Device drivers. Safe code only: the register blocks are
//! arch/aarch64/mmio.rs's `Mmio`, claimed from the device tree's address.
#![deny(unsafe_code)]

// Kernel-only: not built for the host unit tests (main.rs: kernel_only!).
kernel_only! {
    pub mod gic_v2;
    pub mod pl011;
}
