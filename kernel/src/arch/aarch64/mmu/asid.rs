//! Handing out address-space identifiers (Linux's arch/arm64/mm/context.c).
//!
//! TLB entries of user pages are tagged with the ASID in TTBR0_EL1, so
//! switching address spaces needs no TLB flush. A CPU has 8-bit or 16-bit
//! ASIDs (ID_AA64MMFR0_EL1.ASIDBits; 16 only with TCR_EL1.AS set), which
//! may be fewer than the address spaces alive: two spaces must never hold
//! the same ASID at once, or one would hit the other's TLB entries. So, as
//! Linux does, ASIDs are handed out in *generations*: a space's id is its
//! generation and its ASID, checked each time the space is installed. When
//! a generation runs out, the next one begins (`rollover`, Linux's
//! flush_context): every ASID is free again except those the CPUs are
//! using, and every other space gets a new ASID when next installed.
//!
//! Several CPUs (Linux's active_asids, reserved_asids, tlb_flush_pending):
//! - `active[cpu]` is the id CPU `cpu` installed last. At a rollover each
//!   CPU's active id becomes its `reserved` one (or its reserved one stays,
//!   if it installed nothing since the last rollover), and those ASIDs stay
//!   taken in the new generation: a space running on a CPU (on several, for
//!   threads) keeps its ASID (`update_reserved` moves its id into the new
//!   generation when it is next installed), so no other space can be handed
//!   it while that CPU's TLB and walks still use it.
//! - No broadcast flush at the rollover: every CPU gets a *flush pending*
//!   bit, and its next `assign` tells it to invalidate its own TLB whole
//!   (TLBI VMALLE1, local) before it runs the space it installs. A CPU
//!   keeps using only its current ASID (reserved, so never another
//!   space's) until that install, so the stale entries of old-generation
//!   ASIDs in its TLB cannot be hit before they are gone. Linux chose this
//!   over a broadcast TLBI VMALLE1IS at the rollover for the same reason:
//!   the CPUs in the middle of work are not interrupted, each pays one local
//!   flush when it next switches.
//! - Everything here runs under the allocator's lock (user_tables.rs:
//!   `ASIDS`, Linux's cpu_asid_lock). Linux also has a lock-free fast path
//!   (a cmpxchg of active_asids); here the lock is taken on every install,
//!   as it was with one CPU.
//!
//! Pure logic, tested on the host: the tests below model each CPU's TLB.

use crate::bitmap::Bitmap;

/// CPUs the allocator keeps state for: `cpu_local::MAX_CPUS` (checked in
/// user_tables.rs).
pub const CPUS: usize = 8;

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
    /// The id each CPU installed last (0: none since the last rollover).
    active: [AsidId; CPUS],
    /// The id each CPU was using at the last rollover, kept taken.
    reserved: [AsidId; CPUS],
    /// Bit `cpu`: that CPU must invalidate its TLB before its next install.
    flush_pending: u32,
}

/// What [`AsidAllocator::assign`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assigned {
    pub id: AsidId,
    /// A rollover happened since this CPU last installed a space: it must
    /// invalidate its own TLB whole (TLBI VMALLE1) before the space runs.
    pub flush_local: bool,
}

impl AsidAllocator {
    /// 8-bit ASIDs, which every CPU has, until [`AsidAllocator::set_bits`].
    pub const fn new() -> Self {
        Self {
            count: 1 << 8,
            generation: 1,
            taken: Bitmap::new(),
            next: 1,
            active: [0; CPUS],
            reserved: [0; CPUS],
            flush_pending: 0,
        }
    }

    /// The ASID width in use (8 or 16), read from the CPU at boot.
    pub fn set_bits(&mut self, bits: u32) {
        self.count = 1 << bits.min(16);
    }

    fn current(&self, id: AsidId) -> bool {
        id != 0 && id >> GENERATION_SHIFT == self.generation
    }

    /// The id for CPU `cpu` to install a space with whose id was `id`: the
    /// same if it is of this generation, else a new one (Linux's
    /// check_and_switch_context, without its lock-free fast path). The
    /// caller stores the id in the space and installs it.
    pub fn assign(&mut self, cpu: usize, id: AsidId) -> Assigned {
        let id = if self.current(id) { id } else { self.new_context(id) };
        let bit = 1 << cpu;
        let flush_local = self.flush_pending & bit != 0;
        self.flush_pending &= !bit;
        self.active[cpu] = id;
        Assigned { id, flush_local }
    }

    /// Linux's new_context: the space's old ASID again if a CPU reserved
    /// it or it is free in this generation, else the next free one, rolling
    /// over if none is.
    fn new_context(&mut self, id: AsidId) -> AsidId {
        if id != 0 {
            let renewed = self.generation << GENERATION_SHIFT | asid_of(id) as u64;
            if self.update_reserved(id, renewed) {
                return renewed;
            }
            let old = asid_of(id) as usize;
            if !self.taken.get(old) {
                self.taken.set(old);
                return renewed;
            }
        }
        let asid = match self.taken.first_clear_from(self.next, 1, self.count) {
            Some(asid) => asid,
            None => {
                self.rollover();
                // At most CPUS ASIDs are reserved, far fewer than 255.
                self.taken.first_clear_from(1, 1, self.count).expect("a rollover frees all but the reserved ASIDs")
            }
        };
        self.taken.set(asid);
        self.next = asid + 1;
        self.generation << GENERATION_SHIFT | asid as u64
    }

    /// Linux's check_update_reserved_asid: whether some CPU reserved `id`
    /// at a rollover; every such CPU's reservation becomes `renewed`.
    fn update_reserved(&mut self, id: AsidId, renewed: AsidId) -> bool {
        let mut hit = false;
        for r in self.reserved.iter_mut().filter(|r| **r == id) {
            *r = renewed;
            hit = true;
        }
        hit
    }

    /// Linux's flush_context: a new generation, in which only the ASIDs
    /// the CPUs are using are taken, and every CPU owes a local flush.
    fn rollover(&mut self) {
        self.generation += 1;
        self.taken = Bitmap::new();
        for cpu in 0..CPUS {
            let mut id = core::mem::take(&mut self.active[cpu]);
            if id == 0 {
                id = self.reserved[cpu];
            }
            // Id 0 sets bit 0, which is never handed out anyway.
            self.taken.set(asid_of(id) as usize);
            self.reserved[cpu] = id;
        }
        self.flush_pending = (1 << CPUS) - 1;
    }

    /// A space with id `id` goes away; the caller guarantees that no CPU
    /// has it installed (TTBR0 switched away first). It is forgotten as any
    /// CPU's active or reserved id, and its ASID is free again in this
    /// generation once the caller has invalidated its TLB entries on every
    /// CPU (TLBI ASIDE1IS): the ASID to invalidate is returned. `None` for
    /// an id of an older generation, whose entries no CPU can use before
    /// its pending local flush.
    pub fn release(&mut self, id: AsidId) -> Option<u16> {
        if id == 0 {
            return None;
        }
        for slot in self.active.iter_mut().chain(self.reserved.iter_mut()).filter(|s| **s == id) {
            *slot = 0;
        }
        if !self.current(id) {
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
    use crate::fuzz::XorShift;

    extern crate std;
    use std::collections::BTreeSet;
    use std::vec::Vec;

    fn generation_of(id: AsidId) -> u64 {
        id >> GENERATION_SHIFT
    }

    /// Every space activated in turn on one CPU, all alive: within a
    /// generation no two hold the same ASID, and no ASID exceeds the CPU's
    /// width.
    fn check_live_spaces(bits: u32, spaces: usize, rounds: usize) -> usize {
        let mut a = AsidAllocator::new();
        a.set_bits(bits);
        let mut ids: Vec<AsidId> = std::vec![0; spaces];
        let mut rollovers = 0;
        for _ in 0..rounds {
            for s in 0..spaces {
                let got = a.assign(0, ids[s]);
                if got.flush_local {
                    rollovers += 1;
                }
                ids[s] = got.id;
                assert!((asid_of(got.id) as usize) < 1 << bits, "ASID {} with {} bits", asid_of(got.id), bits);
                assert_ne!(asid_of(got.id), 0, "ASID 0 is never handed out");
                let generation = generation_of(got.id);
                let same = ids
                    .iter()
                    .filter(|&&other| generation_of(other) == generation && asid_of(other) == asid_of(got.id))
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
        let first = a.assign(0, 0);
        assert_eq!(a.assign(0, first.id), Assigned { id: first.id, flush_local: false });
        let ids: Vec<AsidId> = (2..256).map(|_| a.assign(0, 0).id).collect();
        assert_eq!(asid_of(*ids.last().unwrap()), 255);
        assert_eq!(a.release(ids[10]), Some(asid_of(ids[10])));
        let again = a.assign(0, 0);
        assert_eq!((asid_of(again.id), again.flush_local), (asid_of(ids[10]), false));
        // Full: the next one starts generation 2, and the old ids are stale.
        let next = a.assign(0, 0);
        assert!(next.flush_local);
        assert_eq!(a.release(first.id), None, "an old generation's ASID went with the rollover");
        assert!(a.assign(0, first.id).id != first.id);
    }

    #[test]
    fn a_rollover_keeps_the_asids_of_the_spaces_running_on_four_cpus() {
        let mut a = AsidAllocator::new();
        // Spaces 0..4 run on CPUs 0..4 (installed there last).
        let running: Vec<AsidId> = (0..4).map(|cpu| a.assign(cpu, 0).id).collect();
        // CPU 4 goes through new spaces until a rollover comes.
        let mut others = Vec::new();
        loop {
            let got = a.assign(4, 0);
            others.push(got.id);
            if generation_of(got.id) == 2 {
                break;
            }
        }
        let kept: BTreeSet<u16> = running.iter().map(|&id| asid_of(id)).collect();
        // The rest of generation 2 (255 ASIDs less the five reserved, the
        // four and CPU 4's own, less the one just handed out): nothing
        // running gets its ASID.
        for _ in 0..(255 - 5 - 1) {
            let got = a.assign(4, 0);
            assert_eq!(generation_of(got.id), 2, "generation 2 has room for 249 more");
            assert!(!kept.contains(&asid_of(got.id)), "ASID {} of a running space handed out again", asid_of(got.id));
        }
        // Each running space, installed again (on its CPU or another), keeps
        // its ASID in the new generation, and the CPU flushes once.
        for (cpu, &id) in running.iter().enumerate() {
            let got = a.assign((cpu + 1) % 4, id);
            assert_eq!((asid_of(got.id), generation_of(got.id)), (asid_of(id), 2));
            assert!(got.flush_local, "CPU {} owes a local flush after the rollover", (cpu + 1) % 4);
            assert!(!a.assign((cpu + 1) % 4, got.id).flush_local, "once");
        }
    }

    /// Random schedules of 600 spaces (threads of one space on several
    /// CPUs at once among them) on 8 CPUs with 8-bit ASIDs: many
    /// rollovers. Each CPU's TLB is modelled as the set of (ASID, space)
    /// whose entries it may hold: filled by running a space, emptied by the
    /// local flush `assign` asks for and by the broadcast flush of a
    /// released ASID. A CPU must never run a space under an ASID its TLB
    /// holds another space's entries for, and two CPUs running different
    /// spaces never share an ASID.
    #[test]
    fn forced_rollovers_never_alias_live_active_spaces() {
        const SPACES: usize = 600;
        let mut a = AsidAllocator::new();
        let mut rng = XorShift::new(0);
        let mut ids: Vec<AsidId> = std::vec![0; SPACES];
        // Who each slot's space is: a slot whose space ended holds a new one.
        let mut who: Vec<usize> = (0..SPACES).collect();
        let mut next_who = SPACES;
        let mut running: [Option<usize>; CPUS] = [None; CPUS];
        let mut tlb: Vec<BTreeSet<(u16, usize)>> = (0..CPUS).map(|_| BTreeSet::new()).collect();
        let mut rollovers = 0;
        for step in 0..200_000 {
            let cpu = rng.below(CPUS);
            // Mostly a switch; sometimes a space on no CPU ends (its ASID
            // released, and flushed everywhere if it is of this
            // generation) and a new one takes its slot.
            if step % 7 == 0 {
                let s = rng.below(SPACES);
                if !running.contains(&Some(s)) {
                    if let Some(asid) = a.release(ids[s]) {
                        tlb.iter_mut().for_each(|t| t.retain(|&(x, _)| x != asid));
                    }
                    ids[s] = 0;
                    who[s] = next_who;
                    next_who += 1;
                    continue;
                }
            }
            // A thread of a space running elsewhere, half the time.
            let s = match rng.below(2) {
                0 => running[rng.below(CPUS)].unwrap_or_else(|| rng.below(SPACES)),
                _ => rng.below(SPACES),
            };
            let got = a.assign(cpu, ids[s]);
            if got.flush_local {
                rollovers += 1;
                tlb[cpu].clear();
            }
            ids[s] = got.id;
            let asid = asid_of(got.id);
            assert_ne!(asid, 0);
            assert!(
                tlb[cpu].iter().all(|&(x, owner)| x != asid || owner == who[s]),
                "step {}: CPU {} runs space {} with ASID {} while its TLB holds another space's entries for it",
                step,
                cpu,
                s,
                asid
            );
            tlb[cpu].insert((asid, who[s]));
            running[cpu] = Some(s);
            for (other, r) in running.iter().enumerate() {
                if let Some(o) = *r {
                    if o != s {
                        assert_ne!(
                            asid_of(ids[o]),
                            asid,
                            "step {}: CPUs {} and {} run spaces {} and {} with ASID {}",
                            step,
                            cpu,
                            other,
                            s,
                            o,
                            asid
                        );
                    }
                }
            }
        }
        assert!(rollovers > 100, "the schedule must force rollovers ({} local flushes)", rollovers);
    }
}
