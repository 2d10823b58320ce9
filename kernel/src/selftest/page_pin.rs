//! A kernel read of another space's page keeps its frame while it copies
//! (mm/page_pin.rs), with the race forced: between the lookup and the
//! copy of a ptrace PEEK (`remote::read_racing`), "another CPU" takes the
//! target's copy-on-write fault on the page, the process the page was
//! shared with by fork unmaps it, and a third takes frames from the pool
//! and fills them. On QEMU the real window (a few hundred instructions
//! between two steps of one system call) is too narrow to hit from EL0,
//! so the steps run here, in that order, on one CPU.

use alloc::format;
use alloc::vec::Vec;

use super::{Check, Outcome};
use crate::ensure;
use crate::mm::addr::{VirtAddr, PAGE_SIZE};
use crate::mm::address_space::AddressSpace;
use crate::mm::fault::{self, Access};
use crate::mm::frame::{self, Frame};
use crate::mm::kernel_page::KernelPage;
use crate::mm::mmap_lock::MmLock;
use crate::mm::remote;
use crate::mm::vma::{Area, Prot};

pub const CHECKS: &[Check] = &[
    Check {
        name: "remote_read_keeps_a_frame_freed_by_cow_and_unmap_meanwhile",
        run: remote_read_keeps_a_frame_freed_by_cow_and_unmap_meanwhile,
    },
    Check { name: "pinned_page_keeps_its_frame_until_dropped", run: pinned_page_keeps_its_frame_until_dropped },
];

const USER_PAGE: u64 = 0x20_0000;
const ORIGINAL: u8 = 0x5a;
const REUSED: u8 = 0xc3;

/// A space whose page at USER_PAGE holds ORIGINAL, and its fork child
/// (the page shared copy-on-write: two owners).
fn parent_and_child() -> Result<(AddressSpace, AddressSpace), &'static str> {
    let mut parent = AddressSpace::new().map_err(|_| "no memory for a user space")?;
    let va = VirtAddr::new(USER_PAGE);
    let area = Area::anonymous(va, va + PAGE_SIZE as u64, Prot::READ | Prot::WRITE);
    parent.add_area(area).map_err(|_| "no area")?;
    parent.map_page_with(va, 0, &[ORIGINAL; PAGE_SIZE]).map_err(|_| "no page")?;
    let child = parent.fork().map_err(|_| "no memory for the fork")?;
    Ok((parent, child))
}

fn remote_read_keeps_a_frame_freed_by_cow_and_unmap_meanwhile() -> Outcome {
    let (parent, child) = match parent_and_child() {
        Ok(spaces) => spaces,
        Err(why) => return Outcome::Fail(why.into()),
    };
    // The child outside any lock: it stands for another process, whose
    // own lock the lock-order checker would see nested in the parent's.
    let (parent, mut child) = (MmLock::new(parent), child);
    let va = VirtAddr::new(USER_PAGE);
    let mut taken: Vec<KernelPage> = Vec::new();
    let mut raced = Ok(());
    let mut buf = [0u8; 256];
    let Some(old) = parent.read().mapped(va).map(|(pa, _)| Frame::containing(pa)) else {
        return Outcome::Fail("the page is not mapped".into());
    };
    let got = remote::read_racing(&parent, USER_PAGE, &mut buf, |space, at| {
        // A sibling thread of the target writes the page: its own copy,
        // one owner of the old frame dropped.
        raced = fault::handle_forced(space, at, Access::Write).map(|_| ()).map_err(|e| format!("cow fault: {:?}", e));
        // The fork child unmaps it: the old frame's last owner, unless
        // the read holds one.
        if child.unmap(va, va + PAGE_SIZE as u64).is_err() {
            raced = Err("the child's munmap failed".into());
        }
        // Other CPUs take frames from the pool until they get the old
        // one (the per-CPU caches hand a freed frame out after those
        // already queued), and fill it.
        // Up to every free frame: a CPU's cache holds up to 4096 per CPU
        // online, a quarter of RAM at most (mm/frame.rs).
        for _ in 0..frame::stats().free {
            let Some(mut page) = KernelPage::alloc() else { break };
            let found = Frame::containing(page.phys()) == old;
            if found {
                page.bytes_mut().fill(REUSED);
            }
            taken.push(page);
            if found {
                break;
            }
        }
    });
    drop(taken);
    if let Err(why) = raced {
        return Outcome::Fail(why);
    }
    ensure!(got == buf.len(), "read {} of {} bytes", got, buf.len());
    let wrong = buf.iter().position(|&b| b != ORIGINAL);
    ensure!(
        wrong.is_none(),
        "byte {:?} read {:#x}, not {:#x}: the frame was reused",
        wrong,
        buf[wrong.unwrap_or(0)],
        ORIGINAL
    );
    Outcome::Pass
}

/// The pin is an owner: the space's unmap does not free the frame, the
/// pin's drop does.
fn pinned_page_keeps_its_frame_until_dropped() -> Outcome {
    let (mut parent, child) = match parent_and_child() {
        Ok(spaces) => spaces,
        Err(why) => return Outcome::Fail(why.into()),
    };
    drop(child);
    let va = VirtAddr::new(USER_PAGE);
    let Some(pin) = parent.pin(va) else { return Outcome::Fail("nothing pinned at a mapped page".into()) };
    let Some((pa, _)) = parent.mapped(va) else { return Outcome::Fail("page gone".into()) };
    let f = Frame::containing(pa);
    ensure!(frame::owners(f) == 2, "{} owners with a pin, not 2", frame::owners(f));
    if parent.unmap(va, va + PAGE_SIZE as u64).is_err() {
        return Outcome::Fail("munmap failed".into());
    }
    ensure!(frame::owners(f) == 1, "{} owners after the unmap, not 1", frame::owners(f));
    let mut byte = [0u8; 1];
    pin.read(0, &mut byte);
    ensure!(byte[0] == ORIGINAL, "the pinned page reads {:#x}", byte[0]);
    drop(pin);
    ensure!(parent.pin(va).is_none(), "a pin of an unmapped page");
    Outcome::Pass
}
