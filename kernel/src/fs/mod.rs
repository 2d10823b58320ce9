//! Files: the initramfs that holds the programs to run.

pub mod initramfs;
