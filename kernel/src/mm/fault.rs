//! Resolving a page fault against the faulting process's areas.
//!
//! This is the generic half of the fault path: the arch code has already
//! decoded the syndrome into an address, an access kind and whether a page
//! was present (arch/aarch64/fault.rs). Here the area list decides:
//!
//! | situation                                   | result                    |
//! |---------------------------------------------|---------------------------|
//! | no area contains the address                | SEGV_MAPERR               |
//! | the area does not allow this access         | SEGV_ACCERR               |
//! | no page yet, anonymous area                 | map a zeroed frame        |
//! | page present but access not allowed         | SEGV_ACCERR               |
//! | no free frame                               | out of memory             |

use super::address_space::AddressSpace;
use super::addr::VirtAddr;
use super::vma::{Backing, Prot};

/// What the faulting access tried to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Execute,
}

impl Access {
    fn needs(self) -> Prot {
        match self {
            Access::Read => Prot::READ,
            Access::Write => Prot::WRITE,
            Access::Execute => Prot::EXEC,
        }
    }
}

/// Why a fault could not be resolved; the signal follows from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultError {
    /// No area at the address: SIGSEGV, SEGV_MAPERR.
    Unmapped,
    /// The area or page forbids the access: SIGSEGV, SEGV_ACCERR.
    NotPermitted,
    /// No frame to map.
    OutOfMemory,
}

/// Resolves a fault at `va`; `page_present` is false for translation faults.
pub fn handle(space: &mut AddressSpace, va: VirtAddr, access: Access, page_present: bool) -> Result<(), FaultError> {
    let area = *space.areas().find(va).ok_or(FaultError::Unmapped)?;
    if !area.prot.contains(access.needs()) {
        return Err(FaultError::NotPermitted);
    }
    if page_present {
        // Present and permitted by the area, yet faulted: nothing in this
        // kernel makes such pages (no copy-on-write yet).
        return Err(FaultError::NotPermitted);
    }
    match area.backing {
        Backing::Anonymous => space.map_zeroed_page(va, area.prot).map_err(|_| FaultError::OutOfMemory),
    }
}
