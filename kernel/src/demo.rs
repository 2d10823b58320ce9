//! What `make qemu` shows after the boot report: a short tour of memory
//! tagging on this machine, each step one log line.

use log::{info, warn};

use crate::arch::aarch64::mmu::layout::phys_to_virt;
use crate::arch::aarch64::mte;
use crate::mm::frame::{self, Clear};

pub fn run() {
    if !mte::tagging_enabled() {
        warn!("tagging is off on this machine (try MACHINE=virt,mte=on): nothing to show");
        return;
    }
    let Some(f) = frame::alloc_zeroed(Clear::DataAndTags) else {
        warn!("no free frame for the tour");
        return;
    };
    let page = phys_to_virt(f.start());
    // SAFETY: a frame we own, mapped RW Tagged by the linear map.
    let cleared = unsafe { mte::load_tag(page) };
    info!("frame {} zeroed with its tags by DC GZVA: granule 0 has tag {:#x}", f.start(), cleared);

    let tagged = mte::random_tag(page);
    // SAFETY: granule 0 of our frame.
    unsafe { mte::store_tag(tagged) };
    // SAFETY: as above.
    let stored = unsafe { mte::load_tag(page) };
    info!("IRG drew tag {:#x}, STG stored it, LDG reads back {:#x}", mte::tag_of(tagged), stored);

    let other = mte::with_tag(page, if mte::tag_of(tagged) == 0xf { 0x1 } else { mte::tag_of(tagged) + 1 });
    // SAFETY: reads of our own frame; a tag check fault is caught by the fixup table.
    let (good, bad) = unsafe { (mte::probe_read_checked(tagged), mte::probe_read_checked(other)) };
    match good {
        Ok(_) => info!("checked load through {:#x}: tags match, no fault", tagged.as_u64()),
        Err(esr) => warn!("checked load through {:#x} with the right tag faulted: {}", tagged.as_u64(), esr),
    }
    match bad {
        Err(esr) => info!("checked load through {:#x}: {}", other.as_u64(), esr),
        Ok(_) => warn!("checked load through {:#x} with the wrong tag did not fault", other.as_u64()),
    }
    // SAFETY: our frame; clear its tags before handing it back.
    unsafe { crate::arch::aarch64::page_fill::zero_page_with_tags(page) };
    frame::put(f);
}
