//! Device drivers.

// Kernel-only: not built for the host unit tests (main.rs: kernel_only!).
kernel_only! {
    pub mod gic_v2;
    pub mod pl011;
}
