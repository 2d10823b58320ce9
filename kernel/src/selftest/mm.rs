//! Frame allocator and heap bookkeeping on the real machine.

use alloc::vec::Vec;

use super::{Check, Outcome};
use crate::ensure;
use crate::mm::{frame, heap};

pub const CHECKS: &[Check] = &[
    Check { name: "frame_counts_return_to_baseline", run: frame_counts_return_to_baseline },
    Check { name: "frames_are_distinct_and_outside_the_image", run: frames_are_distinct_and_outside_the_image },
    Check { name: "heap_bytes_return_to_baseline", run: heap_bytes_return_to_baseline },
];

fn frame_counts_return_to_baseline() -> Outcome {
    let before = frame::stats();
    let frames: Vec<_> = (0..256).filter_map(|_| frame::alloc()).collect();
    ensure!(frames.len() == 256, "only {} of 256 frames", frames.len());
    let during = frame::stats();
    ensure!(during.free + 256 == before.free, "free went {} -> {}", before.free, during.free);
    frames.into_iter().for_each(frame::free);
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
    frames.into_iter().for_each(frame::free);
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
