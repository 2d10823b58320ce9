//! prctl(2): the tagged-address ABI and MTE control (PR_SET/GET_TAGGED_ADDR_CTRL,
//! Linux Documentation/arch/arm64/memory-tagging-extension.rst), and the
//! thread name glibc sets.

use linux_raw_sys::prctl::{PR_GET_NAME, PR_GET_TAGGED_ADDR_CTRL, PR_SET_NAME, PR_SET_TAGGED_ADDR_CTRL};

use super::errno::{Errno, SysResult};
use crate::arch::aarch64::mte;
use crate::arch::aarch64::mte_control::MteControl;
use crate::mm::uaccess::{copy_from_user, copy_to_user, UserAddr};
use crate::process;

pub fn prctl(option: u32, a: [u64; 4]) -> SysResult {
    let p = process::current();
    match option {
        PR_SET_TAGGED_ADDR_CTRL => {
            if a[1..].iter().any(|&x| x != 0) {
                return Err(Errno::EINVAL);
            }
            let ctrl = MteControl::from_prctl(a[0], mte::tagging_enabled()).map_err(|_| Errno::EINVAL)?;
            p.mte.replace(ctrl);
            ctrl.install();
            Ok(0)
        }
        PR_GET_TAGGED_ADDR_CTRL => {
            if a.iter().any(|&x| x != 0) {
                return Err(Errno::EINVAL);
            }
            Ok(p.mte.to_prctl())
        }
        PR_SET_NAME => {
            let mut name = [0u8; 16];
            copy_from_user(&mut name[..15], UserAddr::new(a[0]))?;
            p.comm.set(name);
            Ok(0)
        }
        PR_GET_NAME => {
            copy_to_user(UserAddr::new(a[0]), &p.comm.get())?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
