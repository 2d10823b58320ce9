//! The signal trampoline page. On arm64, glibc does not pass SA_RESTORER:
//! Linux returns from a handler through `__kernel_rt_sigreturn` in the
//! vDSO. This kernel has no vDSO; it maps one read-only, executable page
//! holding the same two instructions into every process instead, and points
//! x30 at it when a handler has no restorer of its own.

use spin::Once;

use super::addr::VirtAddr;
use super::frame::{self, Clear, Frame};
use crate::arch::aarch64::cache;
use crate::arch::aarch64::mmu::layout::phys_to_virt;
use crate::exec::elf::USER_END;

/// Where the page is mapped: above the stack, below the end of the user half.
pub const SIGPAGE_ADDR: u64 = USER_END - 0x8000;

/// `mov x8, #139` (__NR_rt_sigreturn); `svc #0`.
const TRAMPOLINE: [u32; 2] = [0xd280_1168, 0xd400_0001];

static SIGPAGE: Once<Frame> = Once::new();

/// Allocates and fills the page. Called once at boot.
pub fn init() {
    SIGPAGE.call_once(|| {
        let f = frame::alloc_zeroed(Clear::Data).expect("a frame for the signal trampoline at boot");
        let va = phys_to_virt(f.start());
        // SAFETY: a frame we just allocated, through the linear map.
        unsafe { va.as_mut_ptr::<[u32; 2]>().write(TRAMPOLINE) };
        cache::sync_icache(va, core::mem::size_of_val(&TRAMPOLINE));
        f
    });
}

pub fn frame() -> Frame {
    *SIGPAGE.get().expect("sigpage is set up at boot")
}

pub fn trampoline() -> VirtAddr {
    VirtAddr::new(SIGPAGE_ADDR)
}
