//! What the kernel learns from the flattened device tree (FDT) that QEMU
//! passes in x0: RAM ranges, the console UART, the initrd and the command
//! line. Parsed with the `fdt` crate and copied into owned values, because
//! the blob is read through the boot identity map, which goes away.
//! Pure logic, tested on the host against a blob dumped from QEMU.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use fdt::Fdt;

use crate::arch::aarch64::psci::{Conduit, Mpidr, MPIDR_AFFINITY_MASK};
use crate::mm::addr::{PhysAddr, PhysRange};

/// Everything boot needs from the device tree.
#[derive(Clone, Debug, PartialEq)]
pub struct BootInfo {
    /// RAM, from the `/memory` nodes.
    pub memory: Vec<PhysRange>,
    /// The PL011 to use as console: `/chosen/stdout-path`, else the first
    /// `arm,pl011` node.
    pub uart: PhysAddr,
    /// `/chosen` `linux,initrd-start` .. `linux,initrd-end`.
    pub initrd: Option<PhysRange>,
    /// `/chosen` `bootargs`.
    pub cmdline: String,
    /// A GICv2 (`arm,cortex-a15-gic` or `arm,gic-400`), if there is one.
    pub gic: Option<GicInfo>,
    /// INTID of the EL1 non-secure physical timer (`arm,armv8-timer`,
    /// second interrupt: a PPI, so 16 + its number).
    pub timer_intid: u32,
    /// Where the blob itself lies, to keep it out of the frame allocator.
    pub dtb: Option<PhysRange>,
    /// How to call PSCI: the PSCI node's `method` (`None`: no PSCI 0.2 or
    /// later node, or a method this kernel does not know; then no
    /// secondary starts).
    pub psci: Option<Conduit>,
    /// The CPUs, from each /cpus/cpu@N `reg` (its MPIDR affinity), in
    /// device-tree order; the boot CPU is among them.
    pub cpus: Vec<Mpidr>,
    /// Values that did not come from the device tree, with the reason, for
    /// the boot log.
    pub fallbacks: Vec<&'static str>,
}

/// Where a GICv2's register blocks are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GicInfo {
    pub distributor: PhysAddr,
    pub cpu_interface: PhysAddr,
}

/// Why the blob was rejected.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DtError {
    /// No blob was passed (x0 = 0) or it was not reachable at boot.
    Missing,
    /// The header or structure is malformed.
    Malformed(fdt::FdtError),
    /// No usable `/memory` range.
    NoMemory,
}

impl fmt::Display for DtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DtError::Missing => write!(f, "no device tree was passed"),
            DtError::Malformed(e) => write!(f, "malformed device tree: {}", e),
            DtError::NoMemory => write!(f, "device tree has no /memory range"),
        }
    }
}

/// QEMU `virt` values, used only when the device tree does not say.
pub mod virt_fallback {
    pub const RAM_START: u64 = 0x4000_0000;
    pub const RAM_SIZE: u64 = 128 << 20;
    pub const UART: u64 = 0x0900_0000;
    /// PPI 14, the non-secure EL1 physical timer.
    pub const TIMER_INTID: u32 = 30;
}

/// One `cpu@N` node's MPIDR from its `reg`, read in `cells` cells, as
/// Linux's `of_get_cpu_hwid` (drivers/of/base.c) and `smp_init_cpus`
/// (arch/arm64/kernel/smp.c) read it: `None` for zero cells, more than two
/// (an MPIDR is 64 bits), a `reg` too short for them, or a value with bits
/// outside the affinity fields ("invalid reg property": such a node names
/// no CPU, and masking it would name another).
fn cpu_hwid(reg: &[u8], cells: usize) -> Option<Mpidr> {
    if !(1..=2).contains(&cells) || reg.len() < cells * 4 {
        return None;
    }
    let id = reg[..cells * 4]
        .chunks_exact(4)
        .fold(0u64, |id, c| id << 32 | u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as u64);
    (id & !MPIDR_AFFINITY_MASK == 0).then_some(Mpidr(id))
}

/// The MPIDRs of the `cpu@N` children under /cpus (their `reg`, read in
/// /cpus's `#address-cells` cells, 2 when absent as in the root), in
/// device-tree order. A node without a valid `reg`, or repeating an
/// MPIDR seen before, is left out with a note for the boot log, as
/// `smp_init_cpus` leaves it out ("duplicate cpu reg properties"): one
/// CPU must not be started twice. (`Fdt::cpus` finds the same, at about a
/// hundred thousand instructions per boot for one CPU, and panics on a
/// node without `reg`.)
fn cpu_ids(cpus: fdt::node::FdtNode, notes: &mut Vec<&'static str>) -> Vec<Mpidr> {
    let cells = cpus.property("#address-cells").and_then(|p| p.as_usize()).unwrap_or(2);
    let regs =
        cpus.children().filter(|n| n.name.split('@').next() == Some("cpu")).map(|n| n.property("reg").map(|p| p.value));
    unique_cpu_ids(regs, cells, notes)
}

/// [`cpu_ids`] on the nodes' `reg` values.
fn unique_cpu_ids<'a>(
    regs: impl Iterator<Item = Option<&'a [u8]>>,
    cells: usize,
    notes: &mut Vec<&'static str>,
) -> Vec<Mpidr> {
    let mut ids = Vec::new();
    for reg in regs {
        match reg.and_then(|r| cpu_hwid(r, cells)) {
            None => notes.push("a /cpus cpu node has no valid reg (MPIDR): that CPU is left off"),
            Some(id) if ids.contains(&id) => notes.push("two /cpus cpu nodes name one MPIDR: the second is left off"),
            Some(id) => ids.push(id),
        }
    }
    ids
}

/// How to call PSCI, from the node Linux's `psci_dt_init`
/// (drivers/firmware/psci/psci.c) finds by its compatible. Only PSCI 0.2
/// and later have the fixed function IDs (`psci.rs: CPU_ON_64`,
/// PSCI_VERSION) this kernel calls: a node that is only `arm,psci` (0.1)
/// names its own IDs (`cpu_on`), which Linux's `psci_0_1_init` reads and
/// this kernel does not, so it starts no secondary rather than call a
/// function ID the firmware may give another meaning. A disabled node or
/// a `method` other than `hvc` and `smc` is not used either.
fn psci_conduit(fdt: &Fdt, notes: &mut Vec<&'static str>) -> Option<Conduit> {
    let node = fdt.find_compatible(&["arm,psci-1.0", "arm,psci-0.2", "arm,psci"])?;
    let compatible = |c: &str| node.compatible().is_some_and(|all| all.all().any(|s| s == c));
    if node.property("status").and_then(|p| p.as_str()).is_some_and(|s| s != "okay" && s != "ok") {
        notes.push("the PSCI node is disabled: only the boot CPU runs");
        return None;
    }
    if !compatible("arm,psci-0.2") && !compatible("arm,psci-1.0") {
        notes.push("PSCI 0.1 only (its function IDs come from the node): only the boot CPU runs");
        return None;
    }
    let conduit = node.property("method").and_then(|p| p.as_str()).and_then(Conduit::from_method);
    if conduit.is_none() {
        notes.push("the PSCI node's method is neither hvc nor smc: only the boot CPU runs");
    }
    conduit
}

impl BootInfo {
    /// Parses `blob`, found at physical address `at`.
    pub fn parse(blob: &[u8], at: PhysAddr) -> Result<Self, DtError> {
        let fdt = Fdt::new(blob).map_err(DtError::Malformed)?;
        let mut fallbacks = Vec::new();

        // `Fdt::memory` and `Fdt::chosen` panic when the node is missing,
        // and `Chosen::stdout` on an empty `stdout-path`: the nodes are
        // looked up here instead, and a missing one is an error or a
        // fallback, not a panic at boot.
        let memory: Vec<PhysRange> = fdt
            .find_node("/memory")
            .and_then(|n| n.reg())
            .into_iter()
            .flatten()
            .filter_map(|r| Some(PhysRange::from_start_size(PhysAddr::new(r.starting_address as u64), r.size? as u64)))
            .filter(|r| !r.is_empty())
            .collect();
        if memory.is_empty() {
            return Err(DtError::NoMemory);
        }

        let chosen = fdt.find_node("/chosen");
        let stdout_path =
            chosen.and_then(|c| c.property("stdout-path")).map(|p| p.value.split(|&b| b == 0).next().unwrap_or(&[]));
        let stdout_node = stdout_path
            .and_then(|p| core::str::from_utf8(p).ok())
            .and_then(|p| p.split(':').next())
            .and_then(|p| fdt.find_node(p));
        let stdout_uart = stdout_node.filter(|n| n.compatible().is_some_and(|c| c.all().any(|s| s == "arm,pl011")));
        let uart_node = stdout_uart.or_else(|| fdt.find_compatible(&["arm,pl011"]));
        let uart = match uart_node.and_then(|n| n.reg()).and_then(|mut r| r.next()) {
            Some(r) => PhysAddr::new(r.starting_address as u64),
            None => {
                fallbacks.push("no arm,pl011 node: console at the QEMU virt UART address");
                PhysAddr::new(virt_fallback::UART)
            }
        };

        let prop = |name| chosen.and_then(|c| c.property(name)).and_then(|p| p.as_usize());
        let initrd = match (prop("linux,initrd-start"), prop("linux,initrd-end")) {
            (Some(s), Some(e)) if e > s => Some(PhysRange::new(PhysAddr::new(s as u64), PhysAddr::new(e as u64))),
            _ => None,
        };

        let gic = fdt.find_compatible(&["arm,cortex-a15-gic", "arm,gic-400"]).and_then(|n| {
            let mut reg = n.reg()?;
            let distributor = PhysAddr::new(reg.next()?.starting_address as u64);
            let cpu_interface = PhysAddr::new(reg.next()?.starting_address as u64);
            Some(GicInfo { distributor, cpu_interface })
        });
        let timer_intid = match fdt.find_compatible(&["arm,armv8-timer"]).and_then(|n| n.property("interrupts")) {
            // Cells (type, number, flags) per interrupt; the second is the
            // non-secure physical timer; type 1 = PPI, INTID = 16 + number.
            Some(p) if p.value.len() >= 24 => {
                let cell = |i: usize| {
                    u32::from_be_bytes([p.value[i * 4], p.value[i * 4 + 1], p.value[i * 4 + 2], p.value[i * 4 + 3]])
                };
                cell(4) + if cell(3) == 1 { 16 } else { 32 }
            }
            _ => {
                fallbacks.push("no arm,armv8-timer interrupts: timer at INTID 30");
                virt_fallback::TIMER_INTID
            }
        };

        let psci = psci_conduit(&fdt, &mut fallbacks);
        let cpus = fdt.find_node("/cpus").map_or_else(Vec::new, |n| cpu_ids(n, &mut fallbacks));

        // From the /chosen node found above: `Fdt::chosen` would walk the
        // tree to it again (and panic without one).
        let cmdline = String::from(chosen.and_then(|c| c.property("bootargs")).and_then(|p| p.as_str()).unwrap_or(""));
        let dtb = Some(PhysRange::from_start_size(at, fdt.total_size() as u64));
        Ok(Self { memory, uart, initrd, cmdline, gic, timer_intid, dtb, psci, cpus, fallbacks })
    }

    /// The QEMU `virt` defaults, when there is no usable device tree.
    pub fn fallback(reason: &'static str) -> Self {
        use virt_fallback::*;
        let fallbacks = alloc::vec![reason, "RAM, UART and command line are the QEMU virt defaults"];
        Self {
            memory: alloc::vec![PhysRange::from_start_size(PhysAddr::new(RAM_START), RAM_SIZE)],
            uart: PhysAddr::new(UART),
            initrd: None,
            cmdline: String::new(),
            gic: None,
            timer_intid: TIMER_INTID,
            dtb: None,
            psci: None,
            cpus: Vec::new(),
            fallbacks,
        }
    }

    /// The CPUs to start besides the boot CPU `me`, or why none may be:
    /// as Linux's `smp_init_cpus` (arch/arm64/kernel/smp.c, "missing boot
    /// CPU MPIDR, not enabling secondaries"), a /cpus without the boot CPU
    /// does not describe this machine, and one of its entries could be the
    /// boot CPU under another name. No /cpus at all: none to start.
    pub fn secondaries(&self, me: Mpidr) -> Result<Vec<Mpidr>, &'static str> {
        if !self.cpus.is_empty() && !self.cpus.contains(&me) {
            return Err("the boot CPU's MPIDR is not under /cpus: secondaries not started");
        }
        Ok(self.cpus.iter().copied().filter(|&m| m != me).collect())
    }

    /// Whether the command line holds `word` as a whole word.
    pub fn has_arg(&self, word: &str) -> bool {
        self.cmdline.split_ascii_whitespace().any(|w| w == word)
    }

    /// The value of `key=value` on the command line.
    pub fn arg(&self, key: &str) -> Option<&str> {
        self.cmdline.split_ascii_whitespace().find_map(|w| w.strip_prefix(key).and_then(|rest| rest.strip_prefix('=')))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `qemu-system-aarch64 -machine virt,mte=on,dumpdtb=... -cpu max -m 512M
    /// -initrd <file> -append "selftest loglevel=debug"` (scripts/make-dtb-fixture.sh).
    const VIRT_DTB: &[u8] = include_bytes!("../../tests/fixtures/virt-mte.dtb");

    #[test]
    fn qemu_virt_blob_gives_ram_uart_initrd_and_cmdline() {
        let info = BootInfo::parse(VIRT_DTB, PhysAddr::new(0x4800_0000)).unwrap();
        assert_eq!(info.memory, [PhysRange::from_start_size(PhysAddr::new(0x4000_0000), 512 << 20)]);
        assert_eq!(info.uart, PhysAddr::new(0x0900_0000));
        let initrd = info.initrd.expect("the fixture was made with -initrd");
        assert!(initrd.size() > 0);
        assert_eq!(info.cmdline, "selftest loglevel=debug");
        assert_eq!(
            info.gic,
            Some(GicInfo { distributor: PhysAddr::new(0x0800_0000), cpu_interface: PhysAddr::new(0x0801_0000) })
        );
        assert_eq!(info.timer_intid, 30);
        assert!(info.fallbacks.is_empty(), "nothing should fall back: {:?}", info.fallbacks);
        assert_eq!(info.dtb.unwrap().start, PhysAddr::new(0x4800_0000));
        assert_eq!(info.psci, Some(Conduit::Hvc), "QEMU's PSCI is called with HVC at EL1");
        assert_eq!(info.cpus, [Mpidr(0)]);
    }

    /// `-smp 4 -machine virt,mte=on,virtualization=on` (scripts/make-dtb-fixture.sh).
    const VIRT_SMP4_EL2_DTB: &[u8] = include_bytes!("../../tests/fixtures/virt-mte-smp4-el2.dtb");

    #[test]
    fn four_cpus_and_smc_with_virtualization() {
        let info = BootInfo::parse(VIRT_SMP4_EL2_DTB, PhysAddr::new(0)).unwrap();
        assert_eq!(info.psci, Some(Conduit::Smc), "with EL2 the kernel's, QEMU's PSCI is called with SMC");
        assert_eq!(info.cpus, [Mpidr(0), Mpidr(1), Mpidr(2), Mpidr(3)]);
    }

    fn be32(cells: &[u32]) -> Vec<u8> {
        cells.iter().flat_map(|c| c.to_be_bytes()).collect()
    }

    #[test]
    fn a_cpu_reg_that_names_no_mpidr_is_left_off_with_a_note() {
        // Zero or three address cells, a reg shorter than the cells, bits
        // outside Aff3..Aff0 (Linux's MPIDR_HWID_BITMASK): no CPU, and not
        // CPU 0 or a masked neighbour either.
        for (reg, cells) in [(be32(&[1]), 0), (be32(&[0, 0, 1]), 3), (be32(&[1]), 2), (be32(&[0x8000_0001]), 1)] {
            let mut notes = Vec::new();
            let ids = unique_cpu_ids([Some(&reg[..])].into_iter(), cells, &mut notes);
            assert_eq!(ids, [], "reg {:x?} in {} cells gave {:?}", reg, cells, ids);
            assert_eq!(notes.len(), 1, "no note for reg {:x?} in {} cells", reg, cells);
        }
        let mut notes = Vec::new();
        assert_eq!(unique_cpu_ids([None].into_iter(), 1, &mut notes), []);
        assert_eq!(notes.len(), 1, "a cpu node without reg is noted");
        // Two cells, Aff3 in the high word.
        assert_eq!(cpu_hwid(&be32(&[0x12, 0x0001_0203]), 2), Some(Mpidr(0x12_0001_0203)));
    }

    #[test]
    fn a_repeated_mpidr_is_started_once() {
        let (a, b) = (be32(&[1]), be32(&[2]));
        let mut notes = Vec::new();
        let regs = [Some(&a[..]), Some(&b[..]), Some(&a[..])];
        assert_eq!(unique_cpu_ids(regs.into_iter(), 1, &mut notes), [Mpidr(1), Mpidr(2)]);
        assert_eq!(notes, ["two /cpus cpu nodes name one MPIDR: the second is left off"]);
    }

    #[test]
    fn secondaries_start_only_when_the_boot_cpu_is_listed() {
        let info = BootInfo::parse(VIRT_SMP4_EL2_DTB, PhysAddr::new(0)).unwrap();
        assert_eq!(info.secondaries(Mpidr(0)), Ok(alloc::vec![Mpidr(1), Mpidr(2), Mpidr(3)]));
        assert_eq!(info.secondaries(Mpidr(2)), Ok(alloc::vec![Mpidr(0), Mpidr(1), Mpidr(3)]));
        let missing = info.secondaries(Mpidr(0x100));
        assert!(missing.is_err(), "boot CPU 0x100 is not listed, yet {:?} would start", missing);
    }

    /// The fixture with each `from` (same length as its `to`) rewritten:
    /// a blob that stays well formed.
    fn patched(from_to: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut blob = VIRT_DTB.to_vec();
        for (from, to) in from_to {
            assert_eq!(from.len(), to.len());
            let at = blob.windows(from.len()).position(|w| w == *from).expect("the fixture holds the string");
            blob[at..at + to.len()].copy_from_slice(to);
        }
        blob
    }

    #[test]
    fn psci_without_fixed_function_ids_or_a_known_method_starts_no_secondary() {
        let only_0_1 = patched(&[(b"arm,psci-1.0\0", b"arm,xsci-1.0\0"), (b"arm,psci-0.2\0", b"arm,xsci-0.2\0")]);
        let info = BootInfo::parse(&only_0_1, PhysAddr::new(0)).unwrap();
        assert_eq!(info.psci, None, "a PSCI 0.1 node gave {:?}", info.psci);
        assert!(info.fallbacks.iter().any(|f| f.starts_with("PSCI 0.1 only")), "no note: {:?}", info.fallbacks);

        let svc = patched(&[(b"hvc\0", b"svc\0")]);
        let info = BootInfo::parse(&svc, PhysAddr::new(0)).unwrap();
        assert_eq!(info.psci, None);
        assert!(info.fallbacks.iter().any(|f| f.contains("neither hvc nor smc")), "no note: {:?}", info.fallbacks);

        let none = patched(&[(b"arm,psci-1.0\0arm,psci-0.2\0arm,psci\0", b"arm,xsci-1.0\0arm,xsci-0.2\0arm,xsci\0")]);
        let info = BootInfo::parse(&none, PhysAddr::new(0)).unwrap();
        assert_eq!((info.psci, info.cpus), (None, alloc::vec![Mpidr(0)]), "no PSCI node: the CPUs are still read");
    }

    #[test]
    fn a_blob_without_chosen_or_memory_is_not_a_panic() {
        let no_chosen = patched(&[(b"chosen\0", b"chosex\0")]);
        let info = BootInfo::parse(&no_chosen, PhysAddr::new(0)).unwrap();
        assert_eq!((info.cmdline.as_str(), info.initrd), ("", None));
        assert_eq!(info.uart, PhysAddr::new(0x0900_0000), "the first arm,pl011 node");
        let no_memory = patched(&[(b"memory@", b"memorx@")]);
        assert_eq!(BootInfo::parse(&no_memory, PhysAddr::new(0)), Err(DtError::NoMemory));
    }

    #[test]
    fn command_line_words_and_values() {
        let info = BootInfo::parse(VIRT_DTB, PhysAddr::new(0)).unwrap();
        assert!(info.has_arg("selftest"));
        assert!(!info.has_arg("self"));
        assert_eq!(info.arg("loglevel"), Some("debug"));
        assert_eq!(info.arg("missing"), None);
    }

    #[test]
    fn garbage_is_rejected_not_trusted() {
        assert!(matches!(BootInfo::parse(&[0u8; 64], PhysAddr::new(0)), Err(DtError::Malformed(_))));
        let mut truncated = VIRT_DTB[..VIRT_DTB.len() / 2].to_vec();
        truncated.truncate(40);
        assert!(BootInfo::parse(&truncated, PhysAddr::new(0)).is_err());
    }

    #[test]
    fn fallback_says_why() {
        let info = BootInfo::fallback("no device tree was passed");
        assert_eq!(info.fallbacks[0], "no device tree was passed");
        assert_eq!(info.memory[0].start, PhysAddr::new(virt_fallback::RAM_START));
    }
}
