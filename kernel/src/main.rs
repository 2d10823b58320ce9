//! A tag-aware AArch64 kernel: Arm's Memory Tagging Extension, the page-fault
//! paths and the proposed `refpage_create(2)`, as a reference to read.
//!
//! Boot order (`kernel_main`), each step needing the one before:
//! vectors -> heap -> device tree -> frame allocator -> kernel page tables ->
//! console -> PAN -> MTE -> self-tests or demo.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![cfg_attr(test, allow(dead_code))]

extern crate alloc;

#[cfg(target_os = "none")]
#[macro_use]
mod console;

mod arch;
mod devicetree;
mod drivers;
mod mm;

#[cfg(target_os = "none")]
mod demo;
#[cfg(target_os = "none")]
mod panic;
#[cfg(target_os = "none")]
mod selftest;

#[cfg(target_os = "none")]
mod boot {
    use log::{info, warn};
    use qemu_exit::QEMUExit;

    use crate::arch::aarch64::boot::{enable_pan, EntryLevel};
    use crate::arch::aarch64::exception::install_vectors;
    use crate::arch::aarch64::mmu::{kernel_map, layout};
    use crate::arch::aarch64::{mte, timer};
    use crate::devicetree::{BootInfo, DtError};
    use crate::drivers::pl011::{self, Pl011};
    use crate::mm::addr::{PhysAddr, PhysRange};
    use crate::mm::{frame, heap, memory_map};

    /// First Rust code, called by boot/start.S with the MMU on, on the boot
    /// stack, interrupts masked.
    #[no_mangle]
    extern "C" fn kernel_main(dtb: u64, entry_el: u64, kimage_phys: u64) -> ! {
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
        let uart = kernel_map::map_mmio(boot.uart, pl011::MMIO_SIZE)
            .unwrap_or_else(|e| panic!("cannot map the UART at {}: {:?}", boot.uart, e));
        // SAFETY: the device tree names this PL011 and it is now mapped as
        // Device memory; nothing else drives it.
        crate::console::init(unsafe { Pl011::new(uart.as_mut_ptr()) });
        enable_pan();
        mte::enable(&mte_info, timer::ticks());

        report(&boot, EntryLevel(entry_el), &mte_info, &free);

        let exit = qemu_exit::AArch64::new();
        match boot.arg("selftest") {
            Some("panic") => crate::selftest::deliberate_kernel_fault(),
            _ if boot.has_arg("selftest") => {
                let summary = crate::selftest::run_all();
                if summary.failed == 0 { exit.exit_success() } else { exit.exit_failure() }
            }
            _ => {
                crate::demo::run();
                info!("no EL0 programs yet (they arrive with the EL0 issue); exiting");
                exit.exit_success()
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
        println!();
        println!("refpage kernel {} - MTE and page-fault reference kernel", env!("CARGO_PKG_VERSION"));
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
        info!("MMU: TTBR1 kernel space live, linear map Normal-Tagged, TTBR0 reserved for user, PAN on, WXN on");
        if mte::tagging_enabled() {
            info!(
                "MTE: level {} (MTE{}), tag storage present, LDGM/STGM block {} bytes, tagging on",
                mte_info.level,
                mte_info.level,
                mte_info.gm_block_bytes.unwrap_or(0)
            );
        } else {
            warn!(
                "MTE: level {} (ID_AA64PFR1_EL1.MTE), no tag storage: tagging is off",
                mte_info.level
            );
        }
    }
}
