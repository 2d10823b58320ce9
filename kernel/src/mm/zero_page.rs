//! The shared zero page: what a read of never-written anonymous memory
//! maps, read-only, in every process (Linux's ZERO_PAGE). Its data and tags
//! are cleared once, at boot; a write to it gets a private page instead.

use spin::Once;

use super::frame::{self, Clear, Frame};

static ZERO_PAGE: Once<Frame> = Once::new();

/// Allocates the zero page (data and tags zero). Called once at boot.
pub fn init() {
    ZERO_PAGE.call_once(|| frame::alloc_zeroed(Clear::DataAndTags).expect("a frame for the zero page at boot"));
}

pub fn frame() -> Frame {
    *ZERO_PAGE.get().expect("zero page is set up at boot")
}
