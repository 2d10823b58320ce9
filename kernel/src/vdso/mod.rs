//! The vDSO: a small shared object mapped into every process, announced by
//! AT_SYSINFO_EHDR, as Linux 6.1 does on arm64 (arch/arm64/kernel/vdso.c).
//! glibc finds `__kernel_clock_gettime`, `__kernel_gettimeofday` and
//! `__kernel_clock_getres` in it and calls them instead of the system
//! calls; signal handlers return through its `__kernel_rt_sigreturn`.
//!
//! Each process gets two areas, in the gap above its stack
//! (exec/layout.rs VDSO_TEXT), when its image is built: [vvar], two
//! read-only pages of which
//! the first is the data page the kernel keeps current (the second is
//! Linux's time-namespace page: unused, and a touch is SIGBUS, as on
//! Linux), and right above it [vdso], the image's text, read + execute. The
//! frames are the kernel's, shared by every process and mapped on first
//! touch. fork keeps the mapping (the areas are copied); execve builds a
//! new space with a fresh one.
//!
//! - `image.rs`: the embedded image and the checks on it
//! - `clock.rs`: the timekeeping the vDSO and clock_gettime(2) share
//! - `data_page.rs`: the data page's layout and its sequence count

pub mod clock;
pub mod data_page;
pub mod image;

#[cfg(target_os = "none")]
pub use kernel_side::*;

#[cfg(target_os = "none")]
mod kernel_side {
    use alloc::vec::Vec;

    use crate::sync::{IrqSpinLock, Rank};
    use spin::Once;

    use super::clock::Timekeeper;
    use super::data_page::{self, DataPage};
    use super::image::{self, Layout};
    use crate::arch::aarch64::{cache, timer};
    use crate::exec::layout::{USER_END, VDSO_TEXT};
    use crate::mm::addr::{VirtAddr, PAGE_SIZE};
    use crate::mm::address_space::AddressSpace;
    use crate::mm::frame::{Clear, Frame};
    use crate::mm::kernel_page::{self, KernelPage};
    use crate::mm::vma::{Area, AreaFlags, Backing, Prot};

    /// Pages of [vvar] below the text (Linux's VVAR_NR_PAGES): the data
    /// page, then the time-namespace page. kernel/vdso/vdso.lds agrees.
    pub const VVAR_PAGES: usize = 2;

    /// The frames every process maps.
    struct Vdso {
        layout: Layout,
        text: Vec<Frame>,
        data: Frame,
        page: &'static DataPage,
    }

    static VDSO: Once<Vdso> = Once::new();
    /// The clocks; held while they advance and are published, so there is
    /// one writer of the data page at a time.
    static TIMEKEEPER: IrqSpinLock<Option<Timekeeper>> = IrqSpinLock::new(Rank::Timekeeper, None);

    fn vdso() -> &'static Vdso {
        VDSO.get().expect("the vDSO is set up at boot")
    }

    /// Checks the image, copies it into frames, starts the clocks and
    /// writes the data page. Called once at boot.
    pub fn init() {
        let layout = image::layout(image::IMAGE).unwrap_or_else(|e| panic!("the built vDSO is unusable: {:?}", e));
        let vdso = VDSO.call_once(|| {
            let mut text = Vec::with_capacity(layout.text_pages);
            for chunk in image::IMAGE.chunks(PAGE_SIZE).take(layout.text_pages) {
                let mut page = KernelPage::alloc_zeroed(Clear::Data).expect("a frame for the vDSO at boot");
                page.bytes_mut()[..chunk.len()].copy_from_slice(chunk);
                let f = page.into_frame();
                cache::sync_icache_frame(f);
                text.push(f);
            }
            // Tags cleared too: the kernel writes it through the (tagged)
            // linear map with untagged pointers for as long as it runs.
            let (data, page) =
                kernel_page::leak_with(DataPage::default()).expect("a frame for the vDSO data page at boot");
            Vdso { layout, text, data, page }
        });
        let tk = Timekeeper::new(timer::frequency(), timer::virtual_ticks());
        data_page::publish(vdso.page, &tk);
        *TIMEKEEPER.lock() = Some(tk);
        log::info!(
            "[vdso] {} bytes, {} text page(s), __kernel_rt_sigreturn at +{:#x}; clocks mult {} shift {}",
            image::IMAGE.len(),
            layout.text_pages,
            layout.sigreturn,
            tk.mult,
            tk.shift
        );
    }

    /// The tick: folds the time elapsed into the clocks and rewrites the
    /// data page. The scheduler calls it whenever it resumes a task, so
    /// the page is never older than a time slice while user code runs.
    pub fn tick() {
        let mut guard = TIMEKEEPER.lock();
        let Some(tk) = guard.as_mut() else { return };
        tk.advance(timer::virtual_ticks());
        data_page::publish(vdso().page, tk);
    }

    /// `clock` now, (seconds, nanoseconds), computed as the vDSO computes
    /// it; None for a clock it does not serve.
    pub fn clock_now(clock: i32) -> Option<(u64, u64)> {
        TIMEKEEPER.lock().as_ref()?.read(clock, timer::virtual_ticks())
    }

    /// clock_getres as the vDSO answers it; None for other clocks.
    pub fn clock_resolution(clock: i32) -> Option<u64> {
        TIMEKEEPER.lock().as_ref()?.resolution(clock)
    }

    /// Adds [vvar] and [vdso] to a new address space (Linux's
    /// arch_setup_additional_pages), remembers where (mm->context.vdso),
    /// and returns the text's address for AT_SYSINFO_EHDR.
    pub fn map_into(space: &mut AddressSpace) -> Result<VirtAddr, ()> {
        let text_len = (vdso().layout.text_pages * PAGE_SIZE) as u64;
        let vvar_len = (VVAR_PAGES * PAGE_SIZE) as u64;
        let text = VirtAddr::new(VDSO_TEXT);
        let base = VirtAddr::new(VDSO_TEXT - vvar_len);
        if text_len > USER_END - VDSO_TEXT {
            return Err(());
        }
        // Linux's [vvar] lacks VM_MAYWRITE (mprotect(PROT_WRITE) is
        // EACCES); its [vdso] has it (a debugger's breakpoint goes into a
        // private copy of the page, mm/fault.rs). Neither takes PROT_MTE.
        let vvar_area =
            Area { backing: Backing::VdsoData, flags: AreaFlags::empty(), ..Area::anonymous(base, text, Prot::READ) };
        let text_area = Area {
            backing: Backing::VdsoText,
            flags: AreaFlags::MAY_WRITE,
            ..Area::anonymous(text, text + text_len, Prot::READ | Prot::EXEC)
        };
        space.add_area(vvar_area)?;
        space.add_area(text_area)?;
        space.vdso = Some(text);
        Ok(text)
    }

    /// Where a handler without SA_RESTORER returns: `__kernel_rt_sigreturn`
    /// in this space's vDSO (Linux's VDSO_SYMBOL(mm->context.vdso,
    /// sigtramp)), still there or not: if the program unmapped it, the
    /// return faults and the process gets SIGSEGV, as on Linux.
    pub fn sigreturn(space: &AddressSpace) -> u64 {
        space.vdso.map_or(0, |text| text.as_u64() + vdso().layout.sigreturn)
    }

    /// The frame for page `index` of the text.
    pub fn text_frame(index: u64) -> Option<Frame> {
        vdso().text.get(usize::try_from(index).ok()?).copied()
    }

    /// The frame for page `index` of [vvar]: the data page, and nothing
    /// for the time-namespace page (Linux's vvar_fault: VM_FAULT_SIGBUS).
    pub fn data_frame(index: u64) -> Option<Frame> {
        (index == 0).then(|| vdso().data)
    }
}
