//! Frame allocator and heap bookkeeping on the real machine.

use alloc::vec::Vec;

use super::{Check, Outcome};
use crate::ensure;
use crate::mm::kernel_page::KernelPage;
use crate::mm::{frame, heap};

pub const CHECKS: &[Check] = &[
    Check { name: "frame_counts_return_to_baseline", run: frame_counts_return_to_baseline },
    Check { name: "frames_are_distinct_and_outside_the_image", run: frames_are_distinct_and_outside_the_image },
    Check { name: "heap_bytes_return_to_baseline", run: heap_bytes_return_to_baseline },
    Check {
        name: "every_free_frame_is_allocated_once_and_returned",
        run: every_free_frame_is_allocated_once_and_returned,
    },
    Check { name: "dc_zva_zeroes_every_byte_of_a_page", run: dc_zva_zeroes_every_byte_of_a_page },
    Check {
        name: "stores_zero_every_byte_of_a_page_where_dc_zva_is_prohibited",
        run: stores_zero_every_byte_of_a_page_where_dc_zva_is_prohibited,
    },
];

fn dc_zva_zeroes_every_byte_of_a_page() -> Outcome {
    zeroes_every_byte(KernelPage::zero)
}

/// The DCZID_EL0.DZP fallback, called directly (QEMU never sets DZP).
fn stores_zero_every_byte_of_a_page_where_dc_zva_is_prohibited() -> Outcome {
    zeroes_every_byte(KernelPage::zero_by_stores)
}

/// `zero` leaves no byte of a page filled with 0xaa.
fn zeroes_every_byte(zero: impl Fn(&mut KernelPage)) -> Outcome {
    let Some(mut page) = KernelPage::alloc() else { return Outcome::Fail("no frame".into()) };
    page.bytes_mut().fill(0xaa);
    zero(&mut page);
    let nonzero = page.bytes().iter().position(|&b| b != 0);
    ensure!(nonzero.is_none(), "byte {:?} survived the zeroing", nonzero);
    Outcome::Pass
}

fn frame_counts_return_to_baseline() -> Outcome {
    let before = frame::stats();
    let frames: Vec<_> = (0..256).filter_map(|_| frame::alloc()).collect();
    ensure!(frames.len() == 256, "only {} of 256 frames", frames.len());
    let during = frame::stats();
    ensure!(during.free + 256 == before.free, "free went {} -> {}", before.free, during.free);
    frames.into_iter().for_each(frame::put);
    let after = frame::stats();
    ensure!(after == before, "before {:?}, after {:?}", before, after);
    Outcome::Pass
}

fn frames_are_distinct_and_outside_the_image() -> Outcome {
    let frames: Vec<_> = (0..64).filter_map(|_| frame::alloc()).collect();
    let image = crate::arch::aarch64::mmu::kernel_map::image_phys_range();
    let image = image.start.as_u64()..image.end.as_u64();
    let mut sorted: Vec<u64> = frames.iter().map(|f| f.number()).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let distinct = sorted.len();
    let inside = frames.iter().find(|f| image.contains(&f.start().as_u64())).copied();
    frames.into_iter().for_each(frame::put);
    ensure!(distinct == 64, "{} distinct frames out of 64", distinct);
    ensure!(inside.is_none(), "frame {:?} lies inside the kernel image", inside);
    Outcome::Pass
}

fn heap_bytes_return_to_baseline() -> Outcome {
    let before = heap::used_bytes();
    let v: Vec<u64> = (0..10_000).collect();
    ensure!(heap::used_bytes() >= before + 80_000, "heap use did not grow");
    ensure!(v.iter().sum::<u64>() == 49_995_000, "heap data corrupted");
    drop(v);
    ensure!(heap::used_bytes() == before, "heap used {} -> {}", before, heap::used_bytes());
    Outcome::Pass
}

/// Allocating until nothing is left reaches every free frame, those in
/// another CPU's cache included (drained when the pool runs dry, Linux's
/// drain_all_pages), and every one comes back.
fn every_free_frame_is_allocated_once_and_returned() -> Outcome {
    let before = frame::stats();
    // Frames "freed on CPU 1": that CPU runs nothing, so they stay in its
    // cache until someone drains it.
    let parked: Vec<_> = (0..100).filter_map(|_| frame::alloc()).collect();
    ensure!(parked.len() == 100, "only {} of 100 frames to park", parked.len());
    parked.into_iter().for_each(|f| frame::put_in_cache_of(1, f));
    ensure!(frame::stats() == before, "cached frames not counted free: {:?}, before {:?}", frame::stats(), before);
    let mut taken = Vec::with_capacity(before.free);
    while let Some(f) = frame::alloc() {
        taken.push(f);
    }
    let got = taken.len();
    let left = frame::stats().free;
    let mut numbers: Vec<u64> = taken.iter().map(|f| f.number()).collect();
    taken.into_iter().for_each(frame::put);
    numbers.sort_unstable();
    numbers.dedup();
    ensure!(got == before.free, "{} frames allocated of {} free ({} still counted free)", got, before.free, left);
    ensure!(numbers.len() == got, "{} frames handed out twice", got - numbers.len());
    ensure!(frame::stats() == before, "after: {:?}, before: {:?}", frame::stats(), before);
    Outcome::Pass
}
