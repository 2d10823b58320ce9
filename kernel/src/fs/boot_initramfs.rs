//! The initramfs the kernel booted with, for execve: set once by boot.

use super::initramfs::Initramfs;

static GLOBAL: spin::Once<Initramfs<'static>> = spin::Once::new();

pub fn set_global(fs: Initramfs<'static>) -> &'static Initramfs<'static> {
    GLOBAL.call_once(|| fs)
}

pub fn global() -> &'static Initramfs<'static> {
    GLOBAL.get().expect("the initramfs is read at boot")
}
