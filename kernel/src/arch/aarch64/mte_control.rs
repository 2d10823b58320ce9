//! A process's tag-check control, as prctl(PR_SET_TAGGED_ADDR_CTRL) sets it
//! (Linux arch/arm64/kernel/mte.c: set_mte_ctrl, get_mte_ctrl) and as it
//! reaches the hardware: SCTLR_EL1.TCF0 (the check mode at EL0) and
//! GCR_EL1.Exclude (the tags IRG may not produce: the complement of the
//! include mask). Pure logic, tested on the host; `install` is the switch.

use linux_raw_sys::prctl::{
    PR_MTE_TAG_MASK, PR_MTE_TAG_SHIFT, PR_MTE_TCF_ASYNC, PR_MTE_TCF_SYNC, PR_TAGGED_ADDR_ENABLE,
};

/// The EL0 tag-check mode in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckMode {
    None,
    Sync,
    Async,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MteControl {
    /// PR_TAGGED_ADDR_ENABLE: system calls accept tagged pointers.
    pub tagged_addr: bool,
    pub sync: bool,
    pub asynch: bool,
    /// Tags IRG may generate, one bit per tag.
    pub include: u16,
}

impl MteControl {
    /// Decodes a PR_SET_TAGGED_ADDR_CTRL argument; unknown bits (or MTE
    /// bits without tag storage) are `Err` (EINVAL).
    pub fn from_prctl(arg: u64, tagging: bool) -> Result<Self, ()> {
        let mut valid = PR_TAGGED_ADDR_ENABLE as u64;
        if tagging {
            valid |= (PR_MTE_TCF_SYNC | PR_MTE_TCF_ASYNC | PR_MTE_TAG_MASK) as u64;
        }
        if arg & !valid != 0 {
            return Err(());
        }
        Ok(Self {
            tagged_addr: arg & PR_TAGGED_ADDR_ENABLE as u64 != 0,
            sync: arg & PR_MTE_TCF_SYNC as u64 != 0,
            asynch: arg & PR_MTE_TCF_ASYNC as u64 != 0,
            include: ((arg & PR_MTE_TAG_MASK as u64) >> PR_MTE_TAG_SHIFT) as u16,
        })
    }

    /// What PR_GET_TAGGED_ADDR_CTRL returns: what was set.
    pub fn to_prctl(self) -> u64 {
        let mut arg = (self.include as u64) << PR_MTE_TAG_SHIFT;
        if self.tagged_addr {
            arg |= PR_TAGGED_ADDR_ENABLE as u64;
        }
        if self.sync {
            arg |= PR_MTE_TCF_SYNC as u64;
        }
        if self.asynch {
            arg |= PR_MTE_TCF_ASYNC as u64;
        }
        arg
    }

    /// The mode in force. Asking for both picks the CPU's preferred mode,
    /// which Linux initialises to async (mte_tcf_preferred).
    pub fn mode(self) -> CheckMode {
        match (self.sync, self.asynch) {
            (_, true) => CheckMode::Async,
            (true, false) => CheckMode::Sync,
            (false, false) => CheckMode::None,
        }
    }

    /// GCR_EL1.Exclude: everything not included. Including nothing excludes
    /// every tag, and IRG then always produces tag 0.
    pub fn gcr_exclude(self) -> u16 {
        !self.include
    }

    /// Whether the kernel's own accesses to user memory are tag-checked
    /// while this task runs in the kernel: PSTATE.TCO clear. (With the
    /// kernel's heap tags on, TCO is always clear, as Linux clears it when
    /// kasan_hw_tags_enabled(); LDTR/STTR are then checked under TCF0, so
    /// this rule still decides what user accesses see.) Only in sync
    /// mode, where a mismatch in a system call is an EFAULT; with checks off
    /// nothing would be reported, and in async mode the kernel's faults are
    /// not the task's (Linux's mte_disable_tco_entry: TCO cleared only when
    /// TCF0 is sync).
    pub fn kernel_checks_user_accesses(self) -> bool {
        self.mode() == CheckMode::Sync
    }

    /// Makes this the MTE state of the CPU for the task (Linux's
    /// mte_thread_switch): SCTLR_EL1.TCF0, GCR_EL1, and PSTATE.TCO. TCO is
    /// part of the task, not of the CPU: `switch_context` keeps only the
    /// callee-saved registers, so a task resumed in the kernel (after
    /// blocking in wait4, say) would otherwise run on with the TCO the
    /// previous task's exception entry left: a sync-mode task's system
    /// call unchecked, or an async-mode task's checked into TFSRE0_EL1.
    #[cfg(target_os = "none")]
    pub fn install(self) {
        use tock_registers::interfaces::ReadWriteable;

        use super::regs::{GCR_EL1, GCR_EL1 as G, SCTLR_EL1_EXT, SCTLR_EL1_EXT as S};
        if !super::mte::tagging_enabled() {
            return;
        }
        // Linux's mte_thread_switch checks the kernel's asynchronous tag
        // check faults first (mte_check_tfsr_el1): they are not the
        // incoming task's.
        crate::mm::kasan::check_async_fault("a context switch");
        // What TFSRE0_EL1 holds now, the kernel's own accesses to user
        // memory recorded: every task's EL0 faults were collected at its
        // entries, and nothing has run at EL0 since. It is not the incoming
        // task's; Linux drops it at every kernel exit (kernel_exit's
        // clear_mte_async_tcf, whatever the task's mode), so it is dropped
        // here too, before a sync-mode task could find it at its next entry
        // (mte_async_kernel_fault_stays_with_its_task).
        super::mte::discard_kernel_async_faults();
        let tcf0 = match self.mode() {
            CheckMode::None => S::TCF0::None,
            CheckMode::Sync => S::TCF0::Sync,
            CheckMode::Async => S::TCF0::Async,
        };
        SCTLR_EL1_EXT.modify(tcf0);
        GCR_EL1.modify(G::Exclude.val(self.gcr_exclude() as u64));
        super::mte::set_kernel_tag_checks(self.kernel_checks_user_accesses() || crate::mm::kasan::tagging_heap());
        aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prctl_values_round_trip() {
        let arg = (PR_TAGGED_ADDR_ENABLE | PR_MTE_TCF_SYNC) as u64 | (0x1234 << PR_MTE_TAG_SHIFT);
        let c = MteControl::from_prctl(arg, true).unwrap();
        assert_eq!(c, MteControl { tagged_addr: true, sync: true, asynch: false, include: 0x1234 });
        assert_eq!(c.to_prctl(), arg);
        assert_eq!(c.gcr_exclude(), !0x1234);
    }

    #[test]
    fn unknown_bits_and_mte_bits_without_tags_are_refused() {
        assert!(MteControl::from_prctl(1 << 30, true).is_err());
        assert!(MteControl::from_prctl(PR_MTE_TCF_SYNC as u64, false).is_err());
        assert!(MteControl::from_prctl(PR_TAGGED_ADDR_ENABLE as u64, false).is_ok());
    }

    #[test]
    fn only_sync_mode_has_the_kernel_check_user_accesses() {
        let ctrl = |tcf| MteControl::from_prctl(tcf as u64, true).unwrap();
        assert!(ctrl(PR_MTE_TCF_SYNC).kernel_checks_user_accesses());
        assert!(!ctrl(PR_MTE_TCF_ASYNC).kernel_checks_user_accesses());
        assert!(!ctrl(PR_MTE_TCF_SYNC | PR_MTE_TCF_ASYNC).kernel_checks_user_accesses());
        assert!(!MteControl::default().kernel_checks_user_accesses());
    }

    #[test]
    fn sync_and_async_together_resolve_to_async_but_read_back_both() {
        let c = MteControl::from_prctl((PR_MTE_TCF_SYNC | PR_MTE_TCF_ASYNC) as u64, true).unwrap();
        assert_eq!(c.mode(), CheckMode::Async);
        assert_eq!(c.to_prctl(), (PR_MTE_TCF_SYNC | PR_MTE_TCF_ASYNC) as u64);
        assert_eq!(MteControl::default().mode(), CheckMode::None);
    }
}
