//! Exception dispatch: the Rust side of vectors.S.
//!
//! Synchronous exceptions are dispatched on ESR_EL1.EC. Anything this kernel
//! does not expect from EL1 panics with the decoded state; user-mode
//! exceptions arrive with the EL0 issue.

use core::sync::atomic::{AtomicPtr, Ordering};

use super::esr::ExceptionClass;
use super::fixup;
use super::trap_frame::{Event, TrapFrame, VectorKind};

core::arch::global_asm!(include_str!("vectors.S"));

/// The frame being handled, for the panic handler's register dump.
static CURRENT_FRAME: AtomicPtr<TrapFrame> = AtomicPtr::new(core::ptr::null_mut());

/// The frame of the exception being handled, if any.
pub fn current_frame() -> Option<&'static TrapFrame> {
    let p = CURRENT_FRAME.load(Ordering::Relaxed);
    // SAFETY: set only while handle_exception runs on this (only) CPU with the
    // frame alive on its stack; a panic never returns into that frame.
    unsafe { p.as_ref() }
}

/// Points VBAR_EL1 at the vector table.
pub fn install_vectors() {
    use aarch64_cpu::registers::VBAR_EL1;
    use tock_registers::interfaces::Writeable;
    extern "C" {
        static exception_vectors: u8;
    }
    VBAR_EL1.set(core::ptr::addr_of!(exception_vectors) as u64);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}

#[no_mangle]
extern "C" fn handle_exception(frame: &mut TrapFrame, kind: u64) {
    let previous = CURRENT_FRAME.swap(frame, Ordering::Relaxed);
    match VectorKind::from_index(kind) {
        VectorKind::CurrentElSpx(Event::Synchronous) => kernel_sync(frame),
        other => panic!("unexpected exception: {:?}", other),
    }
    CURRENT_FRAME.store(previous, Ordering::Relaxed);
}

/// A synchronous exception taken from EL1 (SP_EL1).
fn kernel_sync(frame: &mut TrapFrame) {
    let esr = frame.esr();
    let class = esr.class();
    if class.is_abort() {
        if let Some(resume) = fixup::search(frame.elr) {
            frame.x[fixup::FIXUP_ESR_REGISTER] = esr.0;
            frame.elr = resume;
            return;
        }
        panic!("kernel {} at {:#x}", if class == ExceptionClass::DataAbortSameEl { "data abort" } else { "instruction abort" }, frame.far);
    }
    panic!("unexpected synchronous exception in the kernel: {}", esr);
}
