//! A tag-aware AArch64 kernel: Arm's Memory Tagging Extension, the page-fault
//! paths and the proposed `refpage_create(2)`, as a reference to read.
//!
//! Boot order (`kernel_main`), each step needing the one before:
//! vectors -> heap -> device tree -> frame allocator -> kernel page tables ->
//! console -> PAN -> MTE -> GIC -> secondary CPUs (parked) -> self-tests or demo.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![cfg_attr(test, allow(dead_code))]
// `unsafe` lives in arch/, mm/ and the boot entry only (allowed there
// below); everything else reaches the hardware through their safe
// primitives.
#![deny(unsafe_code)]

extern crate alloc;

/// Items of the kernel proper, left out of the host build that runs the
/// unit tests (no EL1, no MMU there): one gate for a group of modules, so
/// a reader meets it at the module boundary, in the parent's mod.rs.
macro_rules! kernel_only {
    ($($item:item)*) => {
        $( #[cfg(target_os = "none")] $item )*
    };
}

#[cfg(target_os = "none")]
#[macro_use]
#[deny(unsafe_code)]
mod console;

mod bitmap;

#[allow(unsafe_code)]
mod arch;
mod devicetree;
mod drivers;
mod exec;
mod fs;
#[cfg(test)]
mod fuzz;
#[allow(unsafe_code)]
mod mm;
mod process;
mod signal;
mod sync;
mod syscall;
#[deny(unsafe_code)]
mod vdso;

// Kernel-only: not built for the host unit tests.
// Safe code only (the crate's deny), said again where a review asked.
kernel_only! {
    #[deny(unsafe_code)]
    mod demo;
    mod fault_cost;
    #[deny(unsafe_code)]
    mod irq;
    mod panic;
}
// Kernel-only, gated on its own: its `ensure!` is #[macro_export]ed, which
// a macro-expanded module may not do.
#[cfg(target_os = "none")]
mod selftest;

/// The boot entry. Its two `unsafe` blocks read what the boot loader
/// handed over, the device tree (through start.S's identity map, before
/// any allocator or linear map exists) and the initrd: memory only the boot
/// protocol vouches for, which no safe API could check.
#[cfg(target_os = "none")]
#[allow(unsafe_code)]
mod boot {
    use log::{debug, error, info, warn};
    use qemu_exit::QEMUExit;

    use crate::arch::aarch64::boot::{enable_pan, EntryLevel};
    use crate::arch::aarch64::exception::install_vectors;
    use crate::arch::aarch64::mmio::Mmio;
    use crate::arch::aarch64::mmu::{kernel_map, layout};
    use crate::arch::aarch64::{cpu_features, cpu_local, fpsimd, hwcaps, mte, smp, stack_overflow, timer};
    use crate::devicetree::{BootInfo, DtError};
    use crate::drivers::pl011::{self, Pl011};
    use crate::fs::initramfs::Initramfs;
    use crate::mm::addr::{PhysAddr, PhysRange};
    use crate::mm::{frame, heap, memory_map};
    use crate::process::runner;

    /// First Rust code, called by boot/start.S with the MMU on, on the boot
    /// stack, interrupts masked.
    #[no_mangle]
    extern "C" fn kernel_main(dtb: u64, entry_el: u64, kimage_phys: u64) -> ! {
        // TPIDR_EL1 first: the exception entry's overflow check reads it.
        cpu_local::init_boot_cpu(smp::this_mpidr().0, stack_overflow::boot_cpu_overflow_stack_top());
        install_vectors();
        heap::init();
        layout::set_kimage_phys(PhysAddr::new(kimage_phys));
        let boot = read_device_tree(PhysAddr::new(dtb));
        crate::console::init_logging(match boot.arg("loglevel") {
            Some("debug") => log::LevelFilter::Debug,
            Some("warn") => log::LevelFilter::Warn,
            _ => log::LevelFilter::Info,
        });
        let mte_info = mte::detect();

        let reserved = [Some(kernel_map::image_phys_range()), boot.dtb, boot.initrd];
        let reserved: alloc::vec::Vec<PhysRange> = reserved.into_iter().flatten().collect();
        let free = memory_map::free_ranges(&boot.memory, &reserved);
        frame::init(&free);

        if let Err(e) = kernel_map::init(&boot.memory, mte_info.has_tag_storage()) {
            panic!("cannot build the kernel address space: {:?}", e);
        }
        frame::init_owners();
        let uart = Mmio::claim(boot.uart, pl011::MMIO_SIZE)
            .unwrap_or_else(|e| panic!("cannot map the UART at {}: {}", boot.uart, e));
        crate::console::init(Pl011::new(uart));
        enable_pan();
        mte::enable(&mte_info, timer::ticks());

        report(&boot, EntryLevel(entry_el).record(), &mte_info, &free);
        crate::mm::kasan::init(boot.arg("kasan"), heap::range(), mte_info.level);
        fpsimd::enable_for_el0();
        timer::allow_el0_virtual_counter();
        crate::arch::aarch64::debug::init();
        crate::irq::init(&boot);
        // After every change the boot CPU makes to its MMU and MTE
        // registers: the secondaries copy them (smp.rs).
        smp::start_secondaries(&boot, entry_el as u8, mte_info.level);
        crate::mm::frame::set_cpus(crate::process::cpu_mask::online_count());
        crate::mm::zero_page::init();
        crate::vdso::init();
        crate::mm::fault::set_tracing(boot.arg("trace") == Some("faults"));
        crate::arch::aarch64::mmu::user_tables::limit_asids(boot.arg("asid_bits"));
        if boot.has_arg("bench") {
            crate::fault_cost::enable();
        }
        let initramfs = crate::fs::boot_initramfs::set_global(read_initramfs(&boot));

        let exit = qemu_exit::AArch64::new();
        match (boot.arg("selftest"), boot.arg("run")) {
            (Some("panic"), _) => crate::selftest::deliberate_kernel_fault(),
            (Some("stack-overflow"), _) => crate::selftest::deliberate_stack_overflow(),
            (Some("panic-lock-waiters"), _) => crate::selftest::deliberate_panic_with_lock_waiters(),
            (Some("kernel-lock-watchdog"), _) => crate::selftest::deliberate_long_kernel_lock_holding(),
            (Some("heap-tags"), _) => exit.exit(crate::selftest::heap_tags::run_probes()),
            (Some("heap-use-after-free"), _) => crate::selftest::heap_tags::deliberate_use_after_free(),
            (_, Some(path)) => {
                let status = run(&boot, initramfs, path, mte_info.level);
                if boot.has_arg("bench") {
                    crate::fault_cost::report();
                }
                exit.exit(status)
            }
            _ if boot.has_arg("selftest") => {
                let summary = crate::selftest::run_all();
                if summary.failed == 0 {
                    exit.exit_success()
                } else {
                    exit.exit_failure()
                }
            }
            _ => {
                crate::demo::run();
                if initramfs.is_dir("demo") {
                    let time_limit_s = runner::DEFAULT_TIME_LIMIT_S;
                    for entry in initramfs.files_in("demo") {
                        let path = alloc::format!("/{}", entry.path);
                        let report =
                            runner::run_one(initramfs, &path, &[], time_limit_s * 1_000_000_000, mte_info.level);
                        info!(
                            "{}: {} (faults: {}; peak frames {})",
                            path, report.outcome, report.faults, report.peak_frames
                        );
                    }
                }
                info!("demo done; frames in use {}, heap {} bytes", frame::stats().used(), heap::used_bytes());
                exit.exit_success()
            }
        }
    }

    /// `run=DIR` runs every program in DIR and returns 0 if all passed;
    /// `run=FILE` runs one program with the words after `--` as arguments
    /// and returns its shell status.
    fn run(boot: &BootInfo, fs: &Initramfs, path: &str, mte_level: u8) -> u32 {
        let time_limit_s = boot.arg("timelimit").and_then(|t| t.parse().ok()).unwrap_or(runner::DEFAULT_TIME_LIMIT_S);
        if fs.is_dir(path) {
            let (passed, failed) = runner::run_dir(fs, path, time_limit_s, mte_level);
            println!("{} passed, {} failed", passed, failed);
            return (failed != 0) as u32;
        }
        let args: alloc::vec::Vec<&str> = match boot.cmdline.split_once(" -- ") {
            Some((_, rest)) => rest.split_ascii_whitespace().collect(),
            None => alloc::vec::Vec::new(),
        };
        let outcome = runner::run_one(fs, path, &args, time_limit_s * 1_000_000_000, mte_level).outcome;
        if !matches!(outcome, crate::process::outcome::Outcome::Exited(0)) {
            warn!("{}: {}", path, outcome);
        }
        outcome.shell_status()
    }

    /// The initrd as an archive; a malformed one is reported and treated as
    /// empty, so the kernel still boots.
    fn read_initramfs(boot: &BootInfo) -> Initramfs<'static> {
        let Some(range) = boot.initrd else { return Initramfs::default() };
        // SAFETY: the initrd lies in RAM, which the linear map covers; the
        // frame allocator was told to keep out of it, so it stays untouched.
        let blob = unsafe {
            core::slice::from_raw_parts(layout::phys_to_virt(range.start).as_ptr::<u8>(), range.size() as usize)
        };
        match Initramfs::parse(blob) {
            Ok(fs) => {
                info!("initramfs: {} entries", fs.len());
                fs
            }
            Err(e) => {
                error!("{}", e);
                Initramfs::default()
            }
        }
    }

    /// Parses the blob through the boot identity map, or falls back to the
    /// QEMU `virt` defaults and says why.
    fn read_device_tree(dtb: PhysAddr) -> BootInfo {
        let parsed = if dtb.as_u64() == 0 {
            Err(DtError::Missing)
        } else {
            // SAFETY: start.S identity-mapped the GiB holding the blob (or
            // passed 0); the header's totalsize bounds what is read, and
            // fdt checks it before trusting it.
            unsafe { fdt_blob(dtb) }.and_then(|blob| BootInfo::parse(blob, dtb))
        };
        parsed.unwrap_or_else(|e| {
            warn!("device tree at {}: {}", dtb, e);
            BootInfo::fallback("no usable device tree")
        })
    }

    /// # Safety
    /// `dtb` must be identity-mapped readable memory.
    unsafe fn fdt_blob(dtb: PhysAddr) -> Result<&'static [u8], DtError> {
        let ptr = dtb.as_u64() as *const u8;
        // SAFETY: per the contract; the 40-byte FDT header is read first.
        let header = unsafe { core::slice::from_raw_parts(ptr, 40) };
        let total = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
        if !(40..=(2 << 20)).contains(&total) {
            return Err(DtError::Malformed(fdt::FdtError::BadMagic));
        }
        // SAFETY: the blob is `total` bytes; QEMU keeps it inside one GiB.
        Ok(unsafe { core::slice::from_raw_parts(ptr, total) })
    }

    /// The boot banner and one line per fact learned.
    fn report(boot: &BootInfo, el: EntryLevel, mte_info: &mte::MteInfo, free: &[PhysRange]) {
        // `make run` asks for loglevel=warn: then only the program speaks.
        if log::max_level() >= log::LevelFilter::Info {
            println!();
            println!("refpage kernel {} - MTE and page-fault reference kernel", env!("CARGO_PKG_VERSION"));
        }
        for reason in &boot.fallbacks {
            warn!("fallback: {}", reason);
        }
        info!("entered at EL{}{}", el.0, if el.0 == 2 { ", dropped to EL1 with HCR_EL2.ATA set" } else { "" });
        info!("kernel image at {} (phys), linked at {:#x}", layout::kimage_phys(), layout::KIMAGE_VADDR);
        info!("command line: \"{}\"", boot.cmdline);
        for r in &boot.memory {
            info!("RAM {} ({} MiB)", r, r.size() >> 20);
        }
        if let Some(initrd) = boot.initrd {
            info!("initrd {} ({} KiB)", initrd, initrd.size() >> 10);
        }
        info!("console: PL011 at {}", boot.uart);
        let stats = frame::stats();
        info!(
            "frames: {} free of {} ({} MiB) in {} ranges; heap {} KiB",
            stats.free,
            stats.total,
            memory_map::total_bytes(free) >> 20,
            free.len(),
            heap::HEAP_SIZE >> 10
        );
        info!("MMU: TTBR1 kernel space live, linear map Normal-Tagged, TTBR0 reserved for user, PAN on, kernel W^X by its mappings");
        if mte::tagging_enabled() {
            info!(
                "MTE: level {} (MTE{}), tag storage present, LDGM/STGM block {} bytes, tagging on",
                mte_info.level,
                mte_info.level,
                mte_info.gm_block_bytes.unwrap_or(0)
            );
        } else {
            warn!("MTE: level {} (ID_AA64PFR1_EL1.MTE), no tag storage: tagging is off", mte_info.level);
        }
        let (hwcap, hwcap2) = cpu_features::hwcaps(mte_info.level);
        debug!("EL0 features: AT_HWCAP {:#x}, AT_HWCAP2 {:#x}: {}", hwcap, hwcap2, hwcaps::Names(hwcap, hwcap2));
    }
}
