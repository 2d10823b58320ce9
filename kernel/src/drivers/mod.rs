//! Device drivers.

#[cfg(target_os = "none")]
pub mod gic_v2;
#[cfg(target_os = "none")]
pub mod pl011;
