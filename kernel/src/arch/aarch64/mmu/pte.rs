//! Stage-1 translation-table descriptors, VMSAv8-64 with a 4 KiB granule
//! (Arm ARM (DDI 0487K.a), "Translation table descriptor formats").
//!
//! A descriptor is built from what a mapping means ([`MemoryType`],
//! [`MapFlags`]) rather than from bits, and decodes back to the same terms,
//! which is what the on-target MMU checks compare against. Pure logic,
//! tested on the host.

use bitflags::bitflags;
// LocalRegisterCopy, not InMemoryRegister: a descriptor is built and
// decoded in registers; InMemoryRegister's volatile accesses would send every
// field through the stack, on the page-fault path.
use tock_registers::{register_bitfields, LocalRegisterCopy};

use crate::mm::addr::PhysAddr;

register_bitfields! {u64,
    /// Fields shared by table, block and page descriptors.
    pub STAGE1_DESCRIPTOR [
        /// Software bit (bits 55-58 are ignored by the MMU): the page is not
        /// owned by this mapping (the zero page, a reference page, shared
        /// memory) and must not be freed with it. Linux's PTE_SPECIAL.
        SPECIAL OFFSET(56) NUMBITS(1) [],
        /// Unprivileged execute-never.
        UXN OFFSET(54) NUMBITS(1) [],
        /// Privileged execute-never.
        PXN OFFSET(53) NUMBITS(1) [],
        /// Output address bits [47:12] (next table, block or page).
        OUTPUT_ADDR OFFSET(12) NUMBITS(36) [],
        /// Not global: the TLB entry belongs to the current ASID only.
        NG OFFSET(11) NUMBITS(1) [],
        /// Access flag. Set on every valid entry: no access-flag faults.
        AF OFFSET(10) NUMBITS(1) [],
        /// Shareability.
        SH OFFSET(8) NUMBITS(2) [NonShareable = 0, OuterShareable = 2, InnerShareable = 3],
        /// AP[2:1]: AP[2] read-only, AP[1] accessible from EL0.
        AP OFFSET(6) NUMBITS(2) [RwEl1 = 0, RwEl1El0 = 1, RoEl1 = 2, RoEl1El0 = 3],
        /// Index into MAIR_EL1 (see [`MemoryType`]).
        ATTR_INDX OFFSET(2) NUMBITS(3) [],
        /// At levels 0-2: 1 = table, 0 = block. At level 3 it must be 1 (page).
        TYPE OFFSET(1) NUMBITS(1) [Block = 0, Table = 1],
        VALID OFFSET(0) NUMBITS(1) []
    ]
}

/// Memory types, as indices into MAIR_EL1. The MAIR values are set in
/// boot/start.S (and index 2 switched to Tagged in `arch::mte`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum MemoryType {
    /// Device-nGnRE (MAIR 0x04): MMIO.
    Device = 0,
    /// Normal write-back (MAIR 0xFF): the kernel image.
    Normal = 1,
    /// Normal write-back Tagged (MAIR 0xF0): memory whose allocation tags are
    /// used. Only 0xF0 lets LDG/STG reach tag storage; on other memory tag
    /// reads return 0 and tag writes are ignored.
    NormalTagged = 2,
    /// Normal non-cacheable (MAIR 0x44).
    NormalNonCacheable = 3,
}

impl MemoryType {
    pub fn from_index(index: u64) -> Option<Self> {
        Some(match index {
            0 => Self::Device,
            1 => Self::Normal,
            2 => Self::NormalTagged,
            3 => Self::NormalNonCacheable,
            _ => return None,
        })
    }

    /// The MAIR_EL1 attribute byte for this index, given whether tag storage
    /// exists (without FEAT_MTE2, 0xF0 is not a valid encoding).
    pub const fn mair_attr(self, tagging: bool) -> u8 {
        match self {
            Self::Device => 0x04,
            Self::Normal => 0xff,
            Self::NormalTagged if tagging => 0xf0,
            Self::NormalTagged => 0xff,
            Self::NormalNonCacheable => 0x44,
        }
    }
}

/// The whole MAIR_EL1 value.
pub const fn mair_value(tagging: bool) -> u64 {
    (MemoryType::Device.mair_attr(tagging) as u64)
        | (MemoryType::Normal.mair_attr(tagging) as u64) << 8
        | (MemoryType::NormalTagged.mair_attr(tagging) as u64) << 16
        | (MemoryType::NormalNonCacheable.mair_attr(tagging) as u64) << 24
}

bitflags! {
    /// What a mapping allows. Read access is implied by being mapped.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct MapFlags: u32 {
        const WRITE = 1 << 0;
        /// Accessible from EL0 (AP[1]).
        const USER = 1 << 1;
        /// Executable at EL1 (clears PXN). Never together with USER.
        const KERNEL_EXEC = 1 << 2;
        /// Executable at EL0 (clears UXN).
        const USER_EXEC = 1 << 3;
        /// Shared by every address space (clears nG). Kernel mappings only.
        const GLOBAL = 1 << 4;
        /// The frame belongs to someone else (software bit 56): unmapping
        /// must not free it.
        const SPECIAL = 1 << 5;
    }
}

/// A mapping's meaning: memory type plus permissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attributes {
    pub memory: MemoryType,
    pub flags: MapFlags,
}

impl Attributes {
    pub const fn new(memory: MemoryType, flags: MapFlags) -> Self {
        Self { memory, flags }
    }
}

/// One 64-bit descriptor.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Descriptor(pub u64);

/// What sits at a given level of the walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    Invalid,
    Table(PhysAddr),
    /// A block (levels 1, 2) or page (level 3) with its output address.
    Leaf(PhysAddr, Attributes),
}

impl Descriptor {
    #[cfg(test)]
    pub const INVALID: Self = Self(0);

    /// Points at a next-level table.
    pub fn table(next: PhysAddr) -> Self {
        let mut d = LocalRegisterCopy::<u64, STAGE1_DESCRIPTOR::Register>::new(0);
        d.write(
            STAGE1_DESCRIPTOR::VALID::SET
                + STAGE1_DESCRIPTOR::TYPE::Table
                + STAGE1_DESCRIPTOR::OUTPUT_ADDR.val(next.as_u64() >> 12),
        );
        Self(d.get())
    }

    /// A block (level 1 or 2) or page (level 3) mapping `pa` with `attrs`.
    /// Each flag moves to its bit by a shift, with no branch: every entry the
    /// fault path writes is built here.
    #[inline(always)]
    pub fn leaf(pa: PhysAddr, attrs: Attributes, level: u8) -> Self {
        use STAGE1_DESCRIPTOR as D;
        let has = |flag: MapFlags| u64::from(attrs.flags.contains(flag));
        let user = has(MapFlags::USER);
        let d = D::VALID.val(1).value
            | D::TYPE.val(u64::from(level == 3)).value
            | D::OUTPUT_ADDR.val(pa.as_u64() >> 12).value
            | D::ATTR_INDX.val(attrs.memory as u64).value
            | D::SH::InnerShareable.value
            | D::AF::SET.value
            // AP[2] read-only unless WRITE; AP[1] reachable from EL0.
            | D::AP.val((1 - has(MapFlags::WRITE)) << 1 | user).value
            // A page EL0 can reach is never executable at EL1, whatever was
            // asked: with PXN the kernel cannot be tricked into running user
            // code.
            | D::PXN.val((1 - has(MapFlags::KERNEL_EXEC)) | user).value
            | D::UXN.val(1 - has(MapFlags::USER_EXEC)).value
            | D::NG.val(1 - has(MapFlags::GLOBAL)).value
            | D::SPECIAL.val(has(MapFlags::SPECIAL)).value;
        Self(d)
    }

    /// A level-3 page's frame and whether it is special (bit 56), read
    /// from the bits alone: what the fault path needs of an entry, without
    /// decoding its attributes. Every page entry here is written by `leaf`.
    #[inline(always)]
    pub fn page_frame(self) -> Option<(PhysAddr, bool)> {
        const OUTPUT: u64 = ((1 << 36) - 1) << 12;
        let special = STAGE1_DESCRIPTOR::SPECIAL.read(self.0) != 0;
        (self.0 & 0b11 == 0b11).then_some((PhysAddr::new(self.0 & OUTPUT), special))
    }

    /// This valid EL0-reachable page with write access added, nothing else
    /// changed (Linux's pte_mkwrite): `None` unless it is one (AP[1] set).
    #[inline(always)]
    pub fn with_user_write(self) -> Option<Self> {
        use STAGE1_DESCRIPTOR as D;
        let ap = D::AP.read(self.0);
        (self.is_valid() && ap & 0b01 != 0).then_some(Self(self.0 & !D::AP.val(0b10).value))
    }

    /// Whether the MMU uses this descriptor at all (bit 0), before decoding
    /// it: the cheap test a walk over mostly empty tables needs.
    #[inline(always)]
    pub fn is_valid(self) -> bool {
        self.0 & 1 != 0
    }

    /// The next table, if this is a table descriptor at level 0..=2 (bits
    /// [1:0] = 0b11; the same bits mean a page at level 3): `entry`'s
    /// answer for a table, read from the bits alone, for the walks of the
    /// fault path.
    #[inline(always)]
    pub fn next_table(self) -> Option<PhysAddr> {
        const OUTPUT: u64 = ((1 << 36) - 1) << 12;
        (self.0 & 0b11 == 0b11).then_some(PhysAddr::new(self.0 & OUTPUT))
    }

    /// Decodes this descriptor as found at `level` (0..=3).
    #[inline(always)]
    pub fn entry(self, level: u8) -> Entry {
        let d = LocalRegisterCopy::<u64, STAGE1_DESCRIPTOR::Register>::new(self.0);
        if !d.is_set(STAGE1_DESCRIPTOR::VALID) {
            return Entry::Invalid;
        }
        let out = PhysAddr::new(d.read(STAGE1_DESCRIPTOR::OUTPUT_ADDR) << 12);
        let is_table = d.matches_all(STAGE1_DESCRIPTOR::TYPE::Table);
        if level < 3 && is_table {
            return Entry::Table(out);
        }
        if (level == 3 && !is_table) || level == 0 {
            return Entry::Invalid; // reserved encodings with a 4 KiB granule
        }
        let memory = match MemoryType::from_index(d.read(STAGE1_DESCRIPTOR::ATTR_INDX)) {
            Some(m) => m,
            None => return Entry::Invalid,
        };
        let mut flags = MapFlags::empty();
        let ap = d.read(STAGE1_DESCRIPTOR::AP);
        flags.set(MapFlags::WRITE, ap & 0b10 == 0);
        flags.set(MapFlags::USER, ap & 0b01 != 0);
        flags.set(MapFlags::KERNEL_EXEC, !d.is_set(STAGE1_DESCRIPTOR::PXN));
        flags.set(MapFlags::USER_EXEC, !d.is_set(STAGE1_DESCRIPTOR::UXN));
        flags.set(MapFlags::GLOBAL, !d.is_set(STAGE1_DESCRIPTOR::NG));
        flags.set(MapFlags::SPECIAL, d.is_set(STAGE1_DESCRIPTOR::SPECIAL));
        Entry::Leaf(out, Attributes::new(memory, flags))
    }
}

impl core::fmt::Debug for Descriptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Descriptor({:#018x})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KERNEL_RW: Attributes = Attributes::new(MemoryType::NormalTagged, MapFlags::WRITE.union(MapFlags::GLOBAL));

    #[test]
    fn kernel_data_page_is_rw_el1_only_and_never_executable() {
        let d = Descriptor::leaf(PhysAddr::new(0x4012_3000), KERNEL_RW, 3);
        // valid | page | AttrIndx 2 | SH inner | AF | PXN | UXN
        assert_eq!(d.0, 0x0060_0000_4012_3000 | 0x400 | 0x300 | (2 << 2) | 0b11);
        assert_eq!(d.entry(3), Entry::Leaf(PhysAddr::new(0x4012_3000), KERNEL_RW));
    }

    #[test]
    fn kernel_text_is_read_only_and_executable_at_el1_only() {
        let text = Attributes::new(MemoryType::Normal, MapFlags::KERNEL_EXEC | MapFlags::GLOBAL);
        let d = Descriptor::leaf(PhysAddr::new(0x4020_0000), text, 3);
        assert_eq!(d.0 & (1 << 53), 0, "PXN must be clear");
        assert_ne!(d.0 & (1 << 54), 0, "UXN must be set");
        assert_eq!((d.0 >> 6) & 0b11, 0b10, "AP must be read-only, EL1 only");
        assert_eq!(d.entry(3), Entry::Leaf(PhysAddr::new(0x4020_0000), text));
    }

    #[test]
    fn user_pages_are_privileged_execute_never_and_not_global() {
        let asked = MapFlags::USER | MapFlags::USER_EXEC | MapFlags::KERNEL_EXEC;
        let d = Descriptor::leaf(PhysAddr::new(0x1000), Attributes::new(MemoryType::Normal, asked), 3);
        assert_ne!(d.0 & (1 << 53), 0, "PXN must be set on user pages");
        assert_ne!(d.0 & (1 << 11), 0, "nG must be set on user pages");
        assert_eq!(d.0 & (1 << 54), 0);
        assert_eq!((d.0 >> 6) & 0b11, 0b11, "read-only from EL0 and EL1");
    }

    #[test]
    fn blocks_and_tables_are_told_apart_by_level() {
        let block = Descriptor::leaf(PhysAddr::new(0x4000_0000), KERNEL_RW, 1);
        assert_eq!(block.0 & 0b11, 0b01);
        assert!(matches!(block.entry(1), Entry::Leaf(..)));
        assert_eq!(block.entry(3), Entry::Invalid, "a block encoding is reserved at level 3");
        let table = Descriptor::table(PhysAddr::new(0x4100_0000));
        assert_eq!(table.0, 0x4100_0003);
        assert_eq!(table.entry(0), Entry::Table(PhysAddr::new(0x4100_0000)));
        assert_eq!(Descriptor::INVALID.entry(2), Entry::Invalid);
    }

    #[test]
    fn special_pages_carry_software_bit_56() {
        let shared = Attributes::new(MemoryType::Normal, MapFlags::USER | MapFlags::SPECIAL);
        let d = Descriptor::leaf(PhysAddr::new(0x4000_0000), shared, 3);
        assert_ne!(d.0 & (1 << 56), 0);
        assert_eq!(d.entry(3), Entry::Leaf(PhysAddr::new(0x4000_0000), shared));
    }

    #[test]
    fn write_is_added_to_a_user_page_and_nothing_else() {
        let ro = Attributes::new(MemoryType::NormalTagged, MapFlags::USER | MapFlags::USER_EXEC);
        let rw = Attributes::new(MemoryType::NormalTagged, MapFlags::USER | MapFlags::USER_EXEC | MapFlags::WRITE);
        let d = Descriptor::leaf(PhysAddr::new(0x4000_0000), ro, 3);
        assert_eq!(d.with_user_write(), Some(Descriptor::leaf(PhysAddr::new(0x4000_0000), rw, 3)));
        assert_eq!(Descriptor::leaf(PhysAddr::new(0x4000_0000), KERNEL_RW, 3).with_user_write(), None);
        assert_eq!(Descriptor(0).with_user_write(), None);
    }

    #[test]
    fn device_memory_uses_mair_index_0() {
        let dev = Attributes::new(MemoryType::Device, MapFlags::WRITE | MapFlags::GLOBAL);
        let d = Descriptor::leaf(PhysAddr::new(0x0900_0000), dev, 3);
        assert_eq!((d.0 >> 2) & 0b111, 0);
    }

    #[test]
    fn mair_has_tagged_attribute_only_with_tag_storage() {
        assert_eq!(mair_value(true), 0x44f0_ff04);
        assert_eq!(mair_value(false), 0x44ff_ff04);
    }
}
