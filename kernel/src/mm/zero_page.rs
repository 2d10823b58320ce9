//! The shared zero page: what a read of never-written anonymous memory
//! maps, read-only, in every process (Linux's ZERO_PAGE). Its data and tags
//! are cleared once, at boot; a write to it gets a private page instead.

use core::sync::atomic::{AtomicU64, Ordering};

use super::addr::PhysAddr;
use super::frame::{self, Clear, Frame};

/// The zero page's physical address; 0 until `init`. A plain load on the
/// fault path (a `spin::Once` cost an acquire load and a state check).
static ZERO_PAGE: AtomicU64 = AtomicU64::new(0);

/// Allocates the zero page (data and tags zero). Called once at boot,
/// before any process runs.
pub fn init() {
    let f = frame::alloc_zeroed(Clear::DataAndTags).expect("a frame for the zero page at boot");
    ZERO_PAGE.store(f.start().as_u64(), Ordering::Release);
}

pub fn frame() -> Frame {
    let pa = ZERO_PAGE.load(Ordering::Relaxed);
    assert!(pa != 0, "zero page is set up at boot");
    Frame::containing(PhysAddr::new(pa))
}
