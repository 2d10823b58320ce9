//! The AArch64 MMU: descriptor format, table walking, the kernel's address
//! space and hardware translation probes.

pub mod asid;
pub mod layout;
pub mod pte;
pub mod table;

// Kernel-only: not built for the host unit tests (main.rs: kernel_only!).
kernel_only! {
    pub mod at;
    pub mod kernel_map;
    pub mod user_tables;
}
