//! Which physical memory is free to hand out.
//!
//! RAM comes from the device tree's `/memory` nodes; from it we take away
//! what is already in use when the kernel starts: the kernel image, the
//! device tree blob and the initrd. What is left, trimmed to whole pages, is
//! given to the frame allocator. Pure logic, tested on the host.

use alloc::vec::Vec;

use super::addr::{PhysRange, PAGE_SIZE};

/// Returns the page-aligned parts of `ram` not covered by any of `reserved`,
/// sorted by address, with overlapping or adjacent RAM ranges merged.
pub fn free_ranges(ram: &[PhysRange], reserved: &[PhysRange]) -> Vec<PhysRange> {
    let page = PAGE_SIZE as u64;
    let mut free: Vec<PhysRange> = Vec::new();
    let mut sorted_ram: Vec<PhysRange> = ram.iter().copied().filter(|r| !r.is_empty()).collect();
    sorted_ram.sort_by_key(|r| r.start);
    for r in sorted_ram {
        match free.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => free.push(r),
        }
    }

    for res in reserved.iter().filter(|r| !r.is_empty()) {
        let mut next = Vec::with_capacity(free.len() + 1);
        for r in free {
            if res.end <= r.start || r.end <= res.start {
                next.push(r);
                continue;
            }
            if r.start < res.start {
                next.push(PhysRange::new(r.start, res.start));
            }
            if res.end < r.end {
                next.push(PhysRange::new(res.end, r.end));
            }
        }
        free = next;
    }

    free.into_iter()
        .filter_map(|r| {
            let start = r.start.checked_align_up(page)?;
            let end = r.end.align_down(page);
            (start < end).then(|| PhysRange::new(start, end))
        })
        .collect()
}

/// Total bytes in `ranges`.
pub fn total_bytes(ranges: &[PhysRange]) -> u64 {
    ranges.iter().map(PhysRange::size).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mm::addr::PhysAddr;

    fn r(start: u64, end: u64) -> PhysRange {
        PhysRange::new(PhysAddr::new(start), PhysAddr::new(end))
    }

    #[test]
    fn reserved_regions_are_cut_out_of_ram() {
        let ram = [r(0x4000_0000, 0x6000_0000)];
        let reserved = [r(0x4020_0000, 0x40a0_0000), r(0x4800_0000, 0x4810_0000)];
        assert_eq!(
            free_ranges(&ram, &reserved),
            [r(0x4000_0000, 0x4020_0000), r(0x40a0_0000, 0x4800_0000), r(0x4810_0000, 0x6000_0000)]
        );
    }

    #[test]
    fn partial_pages_at_the_edges_are_not_handed_out() {
        let ram = [r(0x4000_0000, 0x4001_0000)];
        let reserved = [r(0x4000_0800, 0x4000_1800)];
        // The page holding 0x4000_0800 is partly reserved, so none of it is free.
        assert_eq!(free_ranges(&ram, &reserved), [r(0x4000_2000, 0x4001_0000)]);
    }

    #[test]
    fn overlapping_ram_ranges_are_merged_and_sorted() {
        let ram = [r(0x8000_0000, 0x9000_0000), r(0x4000_0000, 0x5000_0000), r(0x4800_0000, 0x5800_0000)];
        assert_eq!(free_ranges(&ram, &[]), [r(0x4000_0000, 0x5800_0000), r(0x8000_0000, 0x9000_0000)]);
    }

    #[test]
    fn a_reservation_covering_everything_leaves_nothing() {
        assert!(free_ranges(&[r(0x4000_0000, 0x4010_0000)], &[r(0, u64::MAX)]).is_empty());
    }

    #[test]
    fn total_counts_every_range() {
        let ranges = [r(0x1000, 0x3000), r(0x8000, 0x9000)];
        assert_eq!(total_bytes(&ranges), 0x3000);
    }
}
