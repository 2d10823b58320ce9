//! socketpair (Linux 6.1's net/socket.c __sys_socketpair and
//! net/unix/af_unix.c): AF_UNIX only, a pair of connected sockets
//! (fs/socket_pair.rs) in the lowest two free descriptors.

use linux_raw_sys::general::{O_CLOEXEC, O_NONBLOCK};
use linux_raw_sys::net::{AF_UNIX, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM};

use super::errno::{Errno, SysResult};
use crate::fs::file::OpenFile;
use crate::fs::socket_pair::{SocketEnd, SocketKind};
use crate::mm::uaccess::UserAddr;

/// The type's bits (include/linux/net.h, which linux-raw-sys leaves out).
const SOCK_TYPE_MASK: u32 = 0xf;
/// SOCK_NONBLOCK and SOCK_CLOEXEC are O_NONBLOCK and O_CLOEXEC.
const SOCK_NONBLOCK: u32 = O_NONBLOCK;
const SOCK_CLOEXEC: u32 = O_CLOEXEC;

pub fn socketpair(family: i32, kind: u32, protocol: i32, fds: UserAddr) -> SysResult {
    let flags = kind & !SOCK_TYPE_MASK;
    if flags & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    // No other family is offered (sock_create: EAFNOSUPPORT).
    if family != AF_UNIX as i32 {
        return Err(Errno::EAFNOSUPPORT);
    }
    if protocol != 0 && protocol != AF_UNIX as i32 {
        return Err(Errno::EPROTONOSUPPORT);
    }
    // unix_create: SOCK_RAW is taken as SOCK_DGRAM.
    let kind = match kind & SOCK_TYPE_MASK {
        SOCK_STREAM => SocketKind::Stream,
        SOCK_SEQPACKET => SocketKind::SeqPacket,
        SOCK_DGRAM | SOCK_RAW => SocketKind::Datagram,
        _ => return Err(Errno::ESOCKTNOSUPPORT),
    };
    let (a, b) = SocketEnd::new_pair(kind)?;
    let status = flags & SOCK_NONBLOCK;
    super::fd::install_pair(OpenFile::socket(a, status), OpenFile::socket(b, status), flags & SOCK_CLOEXEC != 0, fds)
}
