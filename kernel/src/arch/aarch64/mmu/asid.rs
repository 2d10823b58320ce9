//! Handing out address-space identifiers (Linux's arch/arm64/mm/context.c).
//!
//! TLB entries of user pages are tagged with the ASID in TTBR0_EL1, so
//! switching address spaces needs no TLB flush. A CPU has 8-bit or 16-bit
//! ASIDs (ID_AA64MMFR0_EL1.ASIDBits; 16 only with TCR_EL1.AS set), which
//! may be fewer than the address spaces alive: two spaces must never hold
//! the same ASID at once, or one would hit the other's TLB entries. So, as
//! Linux does, ASIDs are handed out in *generations*: a space's id is its
//! generation and its ASID, checked each time the space is installed. When
//! a generation runs out, the next one begins: every ASID is free again,
//! the whole TLB is invalidated (by the caller, after installing the space
//! that asked), and every other space gets a new ASID when next installed.
//! One CPU, so no ASID is reserved across a rollover for another CPU's
//! running space (Linux's reserved_asids). Pure logic, tested on the host.

use crate::bitmap::Bitmap;

/// Bits of an id below the generation.
const GENERATION_SHIFT: u32 = 16;

/// An address space's id as last assigned: generation << 16 | ASID
/// (Linux's mm->context.id). 0: never assigned.
pub type AsidId = u64;

/// The ASID in an id.
pub fn asid_of(id: AsidId) -> u16 {
    id as u16
}

pub struct AsidAllocator {
    /// ASIDs the CPU has: 1 << 8 or 1 << 16.
    count: usize,
    /// Starts at 1, so that id 0 is never current.
    generation: u64,
    /// ASIDs taken in this generation (0 never: the "no space" value).
    taken: Bitmap<1024>,
    /// Where the next search starts: after the last ASID handed out.
    next: usize,
}

/// What [`AsidAllocator::assign`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assigned {
    pub id: AsidId,
    /// A new generation began: the whole TLB must be invalidated before
    /// any other ASID is used.
    pub flush_all: bool,
}

impl AsidAllocator {
    /// 8-bit ASIDs, which every CPU has, until [`AsidAllocator::set_bits`].
    pub const fn new() -> Self {
        Self { count: 1 << 8, generation: 1, taken: Bitmap::new(), next: 1 }
    }

    /// The ASID width in use (8 or 16), read from the CPU at boot.
    pub fn set_bits(&mut self, bits: u32) {
        self.count = 1 << bits.min(16);
    }

    /// The id to install a space with whose id was `id`: the same if it is
    /// of this generation, else a free ASID, starting a new generation if
    /// none is left (Linux's check_and_switch_context and new_context).
    pub fn assign(&mut self, id: AsidId) -> Assigned {
        if id != 0 && id >> GENERATION_SHIFT == self.generation {
            return Assigned { id, flush_all: false };
        }
        let (asid, flush_all) = match self.taken.first_clear_from(self.next, 1, self.count) {
            Some(asid) => (asid, false),
            None => {
                self.generation += 1;
                self.taken = Bitmap::new();
                (1, true)
            }
        };
        self.taken.set(asid);
        self.next = asid + 1;
        Assigned { id: self.generation << GENERATION_SHIFT | asid as u64, flush_all }
    }

    /// A space with id `id` goes away. Its ASID is free again in this
    /// generation once the caller has invalidated its TLB entries: the
    /// ASID to invalidate is returned. `None` for an id of an older
    /// generation, whose entries went with the rollover.
    pub fn release(&mut self, id: AsidId) -> Option<u16> {
        if id == 0 || id >> GENERATION_SHIFT != self.generation {
            return None;
        }
        self.taken.clear(asid_of(id) as usize);
        Some(asid_of(id))
    }
}

impl Default for AsidAllocator {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    extern crate std;
    use std::vec::Vec;

    /// Every space activated in turn, all alive: within a generation no
    /// two hold the same ASID, and no ASID exceeds the CPU's width.
    fn check_live_spaces(bits: u32, spaces: usize, rounds: usize) -> usize {
        let mut a = AsidAllocator::new();
        a.set_bits(bits);
        let mut ids: Vec<AsidId> = std::vec![0; spaces];
        let mut rollovers = 0;
        for _ in 0..rounds {
            for s in 0..spaces {
                let got = a.assign(ids[s]);
                if got.flush_all {
                    rollovers += 1;
                }
                ids[s] = got.id;
                assert!((asid_of(got.id) as usize) < 1 << bits, "ASID {} with {} bits", asid_of(got.id), bits);
                assert_ne!(asid_of(got.id), 0, "ASID 0 is never handed out");
                let generation = got.id >> GENERATION_SHIFT;
                let same = ids
                    .iter()
                    .filter(|&&other| other >> GENERATION_SHIFT == generation && asid_of(other) == asid_of(got.id))
                    .count();
                assert_eq!(same, 1, "ASID {} held twice in generation {}", asid_of(got.id), generation);
            }
        }
        rollovers
    }

    #[test]
    fn eight_bit_asids_roll_over_instead_of_aliasing() {
        // 300 live spaces do not fit in 255 ASIDs: each round rolls over.
        assert!(check_live_spaces(8, 300, 3) >= 3);
        // 255 do, once assigned: no rollover after the first round.
        assert_eq!(check_live_spaces(8, 255, 4), 0);
        assert_eq!(check_live_spaces(16, 1000, 2), 0);
    }

    #[test]
    fn a_current_id_is_kept_and_a_released_asid_is_reused_without_rollover() {
        let mut a = AsidAllocator::new();
        let first = a.assign(0);
        assert_eq!(a.assign(first.id), Assigned { id: first.id, flush_all: false });
        let ids: Vec<AsidId> = (2..256).map(|_| a.assign(0).id).collect();
        assert_eq!(asid_of(*ids.last().unwrap()), 255);
        assert_eq!(a.release(ids[10]), Some(asid_of(ids[10])));
        let again = a.assign(0);
        assert_eq!((asid_of(again.id), again.flush_all), (asid_of(ids[10]), false));
        // Full: the next one starts generation 2, and the old ids are stale.
        let next = a.assign(0);
        assert!(next.flush_all);
        assert_eq!(a.release(first.id), None, "an old generation's ASID was flushed by the rollover");
        assert!(a.assign(first.id).id != first.id);
    }
}
