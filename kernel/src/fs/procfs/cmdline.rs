//! /proc/<pid>/cmdline and /proc/<pid>/comm.

use alloc::vec;
use core::fmt::Write;

use super::maps::live_space;
use super::Text;
use crate::mm::addr::VirtAddr;
use crate::process::Process;
use crate::syscall::errno::Errno;

/// Longest argument area read (Linux reads page by page without a limit;
/// exec here takes far less than this).
const MAX_ARGS: u64 = 1 << 20;

/// The argv strings as they are now in the process's memory, NULs
/// included (Linux's get_mm_cmdline): `[arg_start, arg_end)`; if the
/// program overwrote the last NUL (setproctitle), the text from arg_start
/// to the first NUL, reading on into the environment. A zombie: nothing.
pub fn show_cmdline(task: &Process, out: &mut Text) -> Result<(), Errno> {
    let Some(space) = live_space(task) else { return Ok(()) };
    let l = space.layout;
    if l.arg_end <= l.arg_start {
        return Ok(());
    }
    let env_end = if l.env_start == l.arg_end && l.env_end >= l.env_start { l.env_end } else { l.arg_end };
    let len = (env_end - l.arg_start).min(MAX_ARGS) as usize;
    if !crate::mm::heap::can_spare(len) {
        return Err(Errno::ENOMEM);
    }
    let mut bytes = vec![0u8; len];
    let got = space.read_bytes(VirtAddr::new(l.arg_start), &mut bytes);
    let args_len = ((l.arg_end - l.arg_start) as usize).min(got);
    let overwritten = args_len > 0 && args_len == (l.arg_end - l.arg_start) as usize && bytes[args_len - 1] != 0;
    let shown = if overwritten { bytes[..got].iter().position(|&b| b == 0).unwrap_or(got) } else { args_len };
    out.bytes(&bytes[..shown]);
    Ok(())
}

/// The task's name (prctl PR_SET_NAME, or the program's file name) and a
/// newline.
pub fn show_comm(task: &Process, out: &mut Text) -> Result<(), Errno> {
    out.bytes(&super::comm(task));
    let _ = writeln!(out);
    Ok(())
}
