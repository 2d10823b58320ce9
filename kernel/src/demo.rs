//! What `make qemu` shows after the boot report: a short tour of memory
//! tagging on this machine, each step one log line.

use log::{info, warn};

use crate::arch::aarch64::mte;
use crate::mm::frame::Clear;
use crate::mm::kernel_page::KernelPage;

pub fn run() {
    if !mte::tagging_enabled() {
        warn!("tagging is off on this machine (try MACHINE=virt,mte=on): nothing to show");
        return;
    }
    let Some(mut page) = KernelPage::alloc_zeroed(Clear::DataAndTags) else {
        warn!("no free frame for the tour");
        return;
    };
    let (phys, va) = (page.phys(), page.va());
    let Some(mut tags) = page.tags() else { return };
    let cleared = tags.load(0);
    info!("frame {} zeroed with its tags by DC GZVA: granule 0 has tag {:#x}", phys, cleared);

    let tagged = mte::random_tag(va);
    tags.store(0, mte::tag_of(tagged));
    let stored = tags.load(0);
    info!("IRG drew tag {:#x}, STG stored it, LDG reads back {:#x}", mte::tag_of(tagged), stored);

    let other = mte::with_tag(va, if mte::tag_of(tagged) == 0xf { 0x1 } else { mte::tag_of(tagged) + 1 });
    // A tag check fault is caught by the fixup table.
    let (good, bad) = (tags.read_checked(0, mte::tag_of(tagged)), tags.read_checked(0, mte::tag_of(other)));
    match good {
        Ok(_) => info!("checked load through {:#x}: tags match, no fault", tagged.as_u64()),
        Err(esr) => warn!("checked load through {:#x} with the right tag faulted: {}", tagged.as_u64(), esr),
    }
    match bad {
        Err(esr) => info!("checked load through {:#x}: {}", other.as_u64(), esr),
        Ok(_) => warn!("checked load through {:#x} with the wrong tag did not fault", other.as_u64()),
    }
    // Clear its tags before handing it back.
    tags.zero_with_tags();
}
