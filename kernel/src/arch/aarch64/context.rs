//! Switching between kernel execution contexts: the runner (on the boot
//! stack) and each process (on its own kernel stack).
//!
//! Only the callee-saved registers (x19-x28, fp, lr, sp; AAPCS64 6.1.1)
//! are kept: `switch_context` is an ordinary function call for both sides,
//! so everything else is already saved by the compiler. A new process's
//! context "returns" into `ret_from_fork` (vectors.S), which does the work
//! of a return to EL0 (signal delivery: exception.rs's first_return_to_user),
//! restores the TrapFrame at the top of its kernel stack and `eret`s to EL0.

use super::mmu::kernel_map::KernelStack;
use super::trap_frame::TrapFrame;

/// Saved callee-saved state of a kernel context.
#[repr(C)]
#[derive(Debug, Default)]
pub struct KernelContext {
    /// x19..x28
    callee_saved: [u64; 10],
    fp: u64,
    lr: u64,
    sp: u64,
}

extern "C" {
    fn ret_from_fork();
    fn switch_context_asm(from: *mut KernelContext, to: *const KernelContext);
}

core::arch::global_asm!(
    ".section .text.switch_context, \"ax\"",
    ".globl switch_context_asm",
    "switch_context_asm:",
    "    stp x19, x20, [x0, #0]",
    "    stp x21, x22, [x0, #16]",
    "    stp x23, x24, [x0, #32]",
    "    stp x25, x26, [x0, #48]",
    "    stp x27, x28, [x0, #64]",
    "    stp x29, x30, [x0, #80]",
    "    mov x9, sp",
    "    str x9, [x0, #96]",
    "    ldp x19, x20, [x1, #0]",
    "    ldp x21, x22, [x1, #16]",
    "    ldp x23, x24, [x1, #32]",
    "    ldp x25, x26, [x1, #48]",
    "    ldp x27, x28, [x1, #64]",
    "    ldp x29, x30, [x1, #80]",
    "    ldr x9, [x1, #96]",
    "    mov sp, x9",
    "    ret",
);

impl KernelContext {
    /// A slot that a switch saves into (the runner's): switching to it
    /// before anything was saved there is refused.
    pub const fn zeroed() -> Self {
        Self { callee_saved: [0; 10], fp: 0, lr: 0, sp: 0 }
    }

    /// A context that, when switched to, returns to EL0 through `frame`,
    /// written here at the top of `stack`. The stack must live as long as
    /// the context may be switched to: both belong to the same task.
    pub fn new_user_entry(stack: &KernelStack, frame: TrapFrame) -> Self {
        let at = (stack.top().as_u64() - core::mem::size_of::<TrapFrame>() as u64) as *mut TrapFrame;
        // SAFETY: the top of a kernel stack nothing runs on yet, mapped and
        // ours (`stack` is borrowed); the frame is what `exception_return`
        // restores after ret_from_fork.
        unsafe { at.write(frame) };
        Self { callee_saved: [0; 10], fp: 0, lr: ret_from_fork as *const () as u64, sp: at as u64 }
    }
}

/// Saves the current context in `from` and resumes `to`; returns when
/// something switches back to `from`.
///
/// A `KernelContext` is made only by [`KernelContext::zeroed`] (a slot
/// that is saved into first: switching to one still empty panics rather
/// than jump to 0), by [`KernelContext::new_user_entry`] on a kernel stack
/// its task keeps, or by a switch saving into it; so `to` always resumes a
/// live stack. `from` is borrowed by the caller, whose stack frame stays
/// until it is switched back to.
///
/// Raw pointers, not references: a task's slot ([`TaskContext`]) is
/// reached through a shared `&Process`, and the runner's through its
/// CPU's data; each is written only by the switch away from the context it
/// holds and read only by the switch back to it, which never overlap (a
/// task on a CPU is resumed nowhere else: `Process::on_cpu`).
pub(super) fn switch_context(from: *mut KernelContext, to: *const KernelContext) {
    // SAFETY: `to` is a slot of a task or runner alive across the switch
    // (the callers' arguments); reading its `lr` races with nothing, since
    // only the switch away from that context writes it.
    assert!(unsafe { (*to).lr } != 0, "switch to a kernel context nothing was saved in");
    crate::sync::lock_order::assert_none_held_except(crate::sync::Rank::KernelLock);
    // SAFETY: `to` is a saved or new-user-entry context on a live stack
    // (above); `from` is a valid slot for the registers that nothing else
    // reads or writes until something switches back to it.
    unsafe { switch_context_asm(from, to) }
}

/// A task's saved kernel context, in its `Process`: written by the task's
/// switch away from its CPU (`RunnerContext::switch_to_runner`), read by
/// the runner's switch into it (`cpu_local.rs: Current::run`).
pub struct TaskContext(core::cell::UnsafeCell<KernelContext>);

// SAFETY: only the two switches above touch the slot, both under the big
// kernel lock, and never at once: a task is switched into only while it is
// on no CPU (`Process::on_cpu`, scheduler.rs: `pick`), and it switches
// away only from the CPU it runs on.
unsafe impl Sync for TaskContext {}

impl TaskContext {
    #[inline(always)]
    pub fn new(context: KernelContext) -> Self {
        Self(core::cell::UnsafeCell::new(context))
    }

    /// The slot, for the switches.
    pub(super) fn as_ptr(&self) -> *mut KernelContext {
        self.0.get()
    }
}
