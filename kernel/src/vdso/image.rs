//! The vDSO image: the shared object kernel/build.rs builds from
//! kernel/vdso/, embedded in the kernel, and what the kernel needs to know
//! about it (how many pages its text takes, where `__kernel_rt_sigreturn`
//! is). Checked once at boot, and on the host by the tests below: one
//! PT_LOAD at 0, no relocations to apply, and Linux's exported symbols
//! under version LINUX_2.6.39, which glibc's dl_vdso_vsym looks up.

use elf::abi::{DT_REL, DT_RELA, DT_TEXTREL, PT_DYNAMIC, PT_LOAD, STT_FUNC};
use elf::endian::LittleEndian;
use elf::ElfBytes;

use crate::mm::addr::PAGE_SIZE;

/// The stripped shared object (kernel/build.rs: OUT_DIR/vdso.so).
pub static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));

/// The version the vDSO's symbols are defined in (Linux's arm64 vdso.lds.S).
pub const VERSION: &str = "LINUX_2.6.39";

/// The symbols arm64 Linux's vDSO exports, all defined here.
pub const SYMBOLS: [&str; 4] =
    ["__kernel_rt_sigreturn", "__kernel_gettimeofday", "__kernel_clock_gettime", "__kernel_clock_getres"];

/// What the kernel uses of the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Pages the text mapping takes (the PT_LOAD, rounded up).
    pub text_pages: usize,
    /// Offset of `__kernel_rt_sigreturn` from the start of the text.
    pub sigreturn: u64,
}

/// The image is not what the kernel can map.
#[derive(Debug, PartialEq, Eq)]
pub enum ImageError {
    Parse,
    /// Not exactly one PT_LOAD at address and offset 0.
    Segments,
    /// A dynamic relocation: nothing would apply it.
    Relocations,
    /// A symbol missing, not a function, or not in LINUX_2.6.39.
    Symbol(&'static str),
}

/// The version `index` of the dynamic symbol table names.
fn version_of(file: &ElfBytes<'_, LittleEndian>, index: usize) -> Option<&'static str> {
    let versions = file.symbol_version_table().ok()??;
    let mut names = versions.get_definition(index).ok()??.names;
    let name = names.next()?.ok()?;
    (name == VERSION).then_some(VERSION)
}

/// Checks `image` and finds what the kernel needs.
pub fn layout(image: &[u8]) -> Result<Layout, ImageError> {
    let file = ElfBytes::<LittleEndian>::minimal_parse(image).map_err(|_| ImageError::Parse)?;
    let segments = file.segments().ok_or(ImageError::Segments)?;
    let mut loads = segments.iter().filter(|p| p.p_type == PT_LOAD);
    let load = loads.next().ok_or(ImageError::Segments)?;
    if loads.next().is_some() || load.p_vaddr != 0 || load.p_offset != 0 || load.p_filesz != load.p_memsz {
        return Err(ImageError::Segments);
    }
    if load.p_filesz as usize > image.len() {
        return Err(ImageError::Segments);
    }
    if !segments.iter().any(|p| p.p_type == PT_DYNAMIC) {
        return Err(ImageError::Segments);
    }
    let dynamic = file.dynamic().map_err(|_| ImageError::Parse)?.ok_or(ImageError::Parse)?;
    if dynamic.iter().any(|d| matches!(d.d_tag, DT_REL | DT_RELA | DT_TEXTREL)) {
        return Err(ImageError::Relocations);
    }
    let (symbols, strings) = file.dynamic_symbol_table().map_err(|_| ImageError::Parse)?.ok_or(ImageError::Parse)?;
    let mut sigreturn = None;
    for wanted in SYMBOLS {
        let found =
            symbols.iter().enumerate().find(|(_, s)| strings.get(s.st_name as usize).is_ok_and(|n| n == wanted));
        let Some((index, sym)) = found else { return Err(ImageError::Symbol(wanted)) };
        if sym.st_symtype() != STT_FUNC || sym.st_value >= load.p_memsz || version_of(&file, index).is_none() {
            return Err(ImageError::Symbol(wanted));
        }
        if wanted == "__kernel_rt_sigreturn" {
            sigreturn = Some(sym.st_value);
        }
    }
    Ok(Layout {
        text_pages: (load.p_memsz as usize).div_ceil(PAGE_SIZE),
        sigreturn: sigreturn.ok_or(ImageError::Symbol("__kernel_rt_sigreturn"))?,
    })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;

    #[test]
    fn the_built_image_exports_linux_symbols_at_linux_2_6_39() {
        let layout = layout(IMAGE).expect("the vDSO image is mappable");
        assert!(layout.text_pages >= 1 && layout.text_pages <= 2, "{layout:?}");
        // mov x8, #139 (__NR_rt_sigreturn); svc #0, as Linux's sigreturn.S.
        let at = layout.sigreturn as usize;
        let code: Vec<u32> = IMAGE[at..at + 8].chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
        assert_eq!(code, [0xd280_1168, 0xd400_0001]);
    }

    #[test]
    fn a_broken_image_is_refused() {
        assert_eq!(layout(&IMAGE[..100]), Err(ImageError::Parse));
        assert_eq!(layout(b"not an ELF file at all"), Err(ImageError::Parse));
        // The symbol names are in .dynstr: rename one.
        let mut renamed = IMAGE.to_vec();
        let at = renamed.windows(21).position(|w| w == b"__kernel_clock_getres").unwrap();
        renamed[at + 2] = b'K';
        assert_eq!(layout(&renamed), Err(ImageError::Symbol("__kernel_clock_getres")));
    }
}
