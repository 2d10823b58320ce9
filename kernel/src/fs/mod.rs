//! Files: the initramfs that holds the programs to run, open files and the
//! per-process descriptor table, /dev/shm and /proc.

pub mod fd_table;
#[cfg(target_os = "none")]
pub mod file;
pub mod initramfs;
#[cfg(test)]
mod initramfs_fuzz;
pub mod open_fds;
#[cfg(target_os = "none")]
pub mod pipe;
#[cfg(target_os = "none")]
pub mod procfs;
pub mod seq_text;
#[cfg(target_os = "none")]
pub mod socket_pair;
#[cfg(target_os = "none")]
pub mod tmpfs;
