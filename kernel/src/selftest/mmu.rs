//! The kernel address space is what kernel_map.rs meant it to be, asked of
//! the MMU itself (AT instructions) and of the tables (software walk).

use super::{Check, Outcome};
use crate::arch::aarch64::mmu::at::{translate, Access, Translation};
use crate::arch::aarch64::mmu::kernel_map::{boot_stack_guard, image_regions, lookup};
use crate::arch::aarch64::mmu::layout::{phys_to_virt, virt_to_phys};
use crate::arch::aarch64::mmu::pte::{MapFlags, MemoryType};
use crate::arch::aarch64::{boot, mte};
use crate::ensure;
use crate::mm::addr::VirtAddr;
use crate::mm::frame;

pub const CHECKS: &[Check] = &[
    Check { name: "linear_map_is_normal_tagged_rw_and_xn", run: linear_map_is_normal_tagged_rw_and_xn },
    Check { name: "kernel_text_is_read_only_and_executable", run: kernel_text_is_read_only_and_executable },
    Check { name: "kernel_rodata_is_read_only_and_xn", run: kernel_rodata_is_read_only_and_xn },
    Check { name: "kernel_data_stack_heap_are_rw_and_xn", run: kernel_data_stack_heap_are_rw_and_xn },
    Check { name: "boot_stack_guard_page_is_unmapped", run: boot_stack_guard_page_is_unmapped },
    Check { name: "uart_is_device_ngnre", run: uart_is_device_ngnre },
    Check { name: "lower_half_is_empty_after_boot", run: lower_half_is_empty_after_boot },
    Check { name: "pan_is_on", run: pan_is_on },
    Check {
        name: "kernel_stacks_are_aligned_for_the_overflow_check",
        run: kernel_stacks_are_aligned_for_the_overflow_check,
    },
    Check {
        name: "kernel_stack_without_frames_fails_and_gives_its_slot_back",
        run: kernel_stack_without_frames_fails_and_gives_its_slot_back,
    },
];

fn linear_map_is_normal_tagged_rw_and_xn() -> Outcome {
    let f = match frame::alloc() {
        Some(f) => f,
        None => return Outcome::Fail("no frame to probe".into()),
    };
    let va = phys_to_virt(f.start());
    let hw = translate(va, Access::Write);
    let sw = lookup(va);
    frame::put(f);
    let want_attr = MemoryType::NormalTagged.mair_attr(mte::tagging_enabled());
    ensure!(
        hw == Translation::Mapped { pa: f.start(), mair_attr: want_attr },
        "AT S1E1W {:#x}: {:?}, want {} with attribute {:#04x}",
        va.as_u64(),
        hw,
        f.start(),
        want_attr
    );
    match sw {
        Some((_, attrs, _)) => ensure!(
            attrs.memory == MemoryType::NormalTagged && !attrs.flags.contains(MapFlags::KERNEL_EXEC),
            "linear map entry {:?}",
            attrs
        ),
        None => return Outcome::Fail("software walk found no entry".into()),
    }
    Outcome::Pass
}

fn region(name: &str) -> (VirtAddr, VirtAddr, MapFlags) {
    let (_, s, e, f) = image_regions().into_iter().find(|r| r.0 == name).expect("region exists");
    (s, e, f)
}

fn kernel_text_is_read_only_and_executable() -> Outcome {
    let (start, _, _) = region("text");
    let pa = virt_to_phys(start).unwrap();
    let read = translate(start, Access::Read);
    ensure!(read == Translation::Mapped { pa, mair_attr: 0xff }, "AT S1E1R on text: {:?}", read);
    let write = translate(start, Access::Write);
    ensure!(
        matches!(write, Translation::Fault { status_code: 0x0f }),
        "AT S1E1W on text: {:?}, want a level 3 permission fault",
        write
    );
    let entry = lookup(start).map(|e| e.1.flags);
    ensure!(entry == Some(MapFlags::KERNEL_EXEC | MapFlags::GLOBAL), "text entry flags {:?}", entry);
    Outcome::Pass
}

fn kernel_rodata_is_read_only_and_xn() -> Outcome {
    let (start, end, _) = region("rodata");
    for va in [start, VirtAddr::new(end.as_u64() - 8)] {
        let write = translate(va, Access::Write);
        ensure!(matches!(write, Translation::Fault { .. }), "AT S1E1W on rodata {:#x}: {:?}", va.as_u64(), write);
        let entry = lookup(va).map(|e| e.1.flags);
        ensure!(entry == Some(MapFlags::GLOBAL), "rodata entry flags {:?}", entry);
    }
    Outcome::Pass
}

fn kernel_data_stack_heap_are_rw_and_xn() -> Outcome {
    for name in ["data", "stack", "heap"] {
        let (start, end, _) = region(name);
        let mut va = start;
        while va < end {
            let entry = lookup(va).map(|e| e.1.flags);
            ensure!(entry == Some(MapFlags::WRITE | MapFlags::GLOBAL), "{} page {:#x}: {:?}", name, va.as_u64(), entry);
            ensure!(
                matches!(translate(va, Access::Write), Translation::Mapped { .. }),
                "{} page {:#x} not writable",
                name,
                va.as_u64()
            );
            va = va + 4096;
        }
    }
    Outcome::Pass
}

fn boot_stack_guard_page_is_unmapped() -> Outcome {
    let guard = boot_stack_guard();
    let at = translate(guard, Access::Read);
    ensure!(matches!(at, Translation::Fault { status_code: 0x07 }), "AT S1E1R on the guard page: {:?}", at);
    // The probe's fault is caught by the fixup table.
    let probe = crate::arch::aarch64::probe::read(guard);
    match probe {
        Err(esr) => ensure!(
            esr.abort().map(|a| a.status_code) == Some(0x07),
            "reading the guard page faulted with {}, want a level 3 translation fault",
            esr
        ),
        Ok(v) => return Outcome::Fail(alloc::format!("reading the guard page returned {:#x}", v)),
    }
    Outcome::Pass
}

fn uart_is_device_ngnre() -> Outcome {
    let va = VirtAddr::new(crate::arch::aarch64::mmu::layout::MMIO_BASE);
    let at = translate(va, Access::Write);
    ensure!(matches!(at, Translation::Mapped { mair_attr: 0x04, .. }), "AT S1E1W on the UART: {:?}", at);
    Outcome::Pass
}

fn lower_half_is_empty_after_boot() -> Outcome {
    let (start, _, _) = region("text");
    let identity = VirtAddr::new(virt_to_phys(start).unwrap().as_u64());
    let at = translate(identity, Access::Read);
    ensure!(
        matches!(at, Translation::Fault { .. }),
        "the boot identity map still answers at {:#x}: {:?}",
        identity.as_u64(),
        at
    );
    Outcome::Pass
}

fn pan_is_on() -> Outcome {
    ensure!(boot::pan_enabled(), "PSTATE.PAN is clear");
    Outcome::Pass
}

/// The EL1 exception entry tells a stack overflow by one bit of SP
/// (vectors.S): that only works if every stack, the boot stack and each
/// task's, starts on a KERNEL_STACK_SLOT boundary with its guard page, the
/// page below, unmapped.
fn kernel_stacks_are_aligned_for_the_overflow_check() -> Outcome {
    use crate::arch::aarch64::mmu::kernel_map::{boot_stack, KernelStack};
    use crate::arch::aarch64::mmu::layout::{overflowed_stack_bottom, KERNEL_STACK_MAX, KERNEL_STACK_SLOT};
    let Some(task) = KernelStack::new(4) else { return Outcome::Fail("no memory for a kernel stack".into()) };
    for (name, stack) in [("boot stack", boot_stack()), ("task stack", task.range())] {
        ensure!(
            stack.start % KERNEL_STACK_SLOT == 0,
            "{} starts at {:#x}, not a multiple of {:#x}",
            name,
            stack.start,
            KERNEL_STACK_SLOT
        );
        ensure!(stack.end - stack.start <= KERNEL_STACK_MAX, "{} is {:#x} bytes", name, stack.end - stack.start);
        ensure!(
            overflowed_stack_bottom(stack.end - 16).is_none() && overflowed_stack_bottom(stack.start).is_none(),
            "{}: an SP on it counts as overflowed",
            name
        );
        let guard = VirtAddr::new(stack.start - 4096);
        ensure!(
            overflowed_stack_bottom(guard.as_u64()) == Some(stack.start),
            "{}: an SP in its guard page is not seen as an overflow",
            name
        );
        let at = translate(guard, Access::Read);
        ensure!(
            matches!(at, Translation::Fault { .. }),
            "{}: its guard page {:#x} is mapped: {:?}",
            name,
            guard.as_u64(),
            at
        );
    }
    drop(task);
    Outcome::Pass
}

/// KernelStack::new when frames run out, before the first page and after
/// the second: it returns None (it used to drop the half-built stack under
/// the KERNEL_SPACE lock, whose Drop took the lock again: the CPU spun
/// forever), keeps nothing, and the slot it claimed is handed out once.
fn kernel_stack_without_frames_fails_and_gives_its_slot_back() -> Outcome {
    use crate::arch::aarch64::mmu::kernel_map::{table_frames, KernelStack};
    // Tables the kernel-stack window grows keep their frames for good.
    let free = || frame::stats().free + table_frames();
    let before = free();
    let mut taken = alloc::vec::Vec::new();
    while let Some(f) = frame::alloc() {
        taken.push(f);
    }
    let none_left = KernelStack::new(4).is_none();
    for f in taken.drain(taken.len().saturating_sub(2)..) {
        frame::put(f);
    }
    let with_two = free();
    let two_left = KernelStack::new(4).is_none();
    let kept = with_two - free();
    taken.into_iter().for_each(frame::put);
    ensure!(none_left, "a kernel stack was made with no free frame");
    ensure!(two_left, "a 4-page kernel stack was made from 2 free frames");
    ensure!(kept == 0, "the failed build kept {} of the 2 free frames", kept);
    let (Some(a), Some(b)) = (KernelStack::new(4), KernelStack::new(4)) else {
        return Outcome::Fail("no kernel stacks after the frames came back".into());
    };
    let (ra, rb) = (a.range(), b.range());
    drop((a, b));
    ensure!(ra.start != rb.start, "two live stacks share the slot at {:#x}", ra.start);
    ensure!(free() == before, "{} frames free, {} before", free(), before);
    Outcome::Pass
}
