//! The AArch64 MMU: descriptor format, table walking, the kernel's address
//! space and hardware translation probes.

pub mod asid;
#[cfg(target_os = "none")]
pub mod at;
#[cfg(target_os = "none")]
pub mod kernel_map;
pub mod layout;
pub mod pte;
pub mod table;
#[cfg(target_os = "none")]
pub mod user_tables;
