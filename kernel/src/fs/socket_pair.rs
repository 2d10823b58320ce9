//! socketpair(AF_UNIX): two connected sockets, each end reading from one
//! pipe and writing into the other (fs/pipe.rs), so blocking and wake-ups
//! are the pipe's. SOCK_SEQPACKET and SOCK_DGRAM keep message boundaries
//! with the pipe's packet mode: a write is one message of up to the send
//! buffer less 32 bytes (EMSGSIZE beyond), queued whole or not at all, an
//! empty one included; a read takes one message, dropping what does not
//! fit, as Linux's unix_seqpacket_recvmsg without MSG_PEEK. SOCK_STREAM is
//! a byte stream. Enough for programs that talk to a forked child (Linux's
//! vm/map_populate selftest); no addresses, send/recv flags or descriptor
//! passing.
//!
//! What the survivor sees once its peer is closed depends on the type, as in
//! Linux's unix_release_sock and unix_dgram_sendmsg:
//! - SOCK_STREAM and SOCK_SEQPACKET: the peer's close shuts both directions
//!   down: reads give end-of-file, poll says POLLIN | POLLHUP (and POLLOUT,
//!   "writable also when the other side has shut down"); a write is EPIPE,
//!   with SIGPIPE only for a stream (unix_stream_sendmsg). A peer closed
//!   with data it never read is ECONNRESET once (POLLERR until then): for
//!   the first read that finds nothing left, or a SOCK_SEQPACKET write.
//! - SOCK_DGRAM: nothing is shut down: reads wait (EAGAIN when nonblocking),
//!   poll has no POLLHUP; the first write finds the peer dead and forgets it
//!   (ECONNREFUSED), later ones have no peer (ENOTCONN); no SIGPIPE.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::pipe::{Pipe, PipeEnd, Readiness};
use crate::mm::uaccess::UserIov;
use crate::process::wait_queue::WaitQueue;
use crate::syscall::errno::Errno;

static NEXT_INO: AtomicU64 = AtomicU64::new(1 << 40);

/// Linux's default send buffer (net.core.wmem_default): a message may be
/// up to 32 bytes less (unix_dgram_sendmsg's EMSGSIZE).
const SNDBUF: usize = 212_992;
/// The room of a message socket's pipe: the send buffer rounded up to a
/// power of two pages, so that the largest message fits.
const MESSAGE_PIPE_BYTES: u64 = 256 << 10;

/// The socket types a pair can have (SOCK_RAW is taken as SOCK_DGRAM).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketKind {
    Stream,
    SeqPacket,
    Datagram,
}

pub struct SocketEnd {
    /// What the peer wrote.
    pub rx: PipeEnd,
    /// What the peer reads.
    pub tx: PipeEnd,
    pub kind: SocketKind,
    /// SOCK_DGRAM: a write end of `rx` held by this end itself, so that the
    /// peer's close is no end-of-file here (no RCV_SHUTDOWN for datagrams).
    _own_writer: Option<PipeEnd>,
    /// SOCK_DGRAM: the dead peer was reported (ECONNREFUSED) and forgotten.
    peer_forgotten: AtomicBool,
    /// The peer's close with data it never read was reported (ECONNRESET).
    reset_reported: AtomicBool,
    ino: u64,
}

impl SocketEnd {
    /// Two connected ends (Linux's unix_socketpair).
    pub fn new_pair(kind: SocketKind) -> Result<(SocketEnd, SocketEnd), Errno> {
        let (a_rx, b_tx) = Pipe::new_pair()?;
        let (b_rx, a_tx) = Pipe::new_pair()?;
        if kind != SocketKind::Stream {
            a_rx.set_size(MESSAGE_PIPE_BYTES)?;
            b_rx.set_size(MESSAGE_PIPE_BYTES)?;
        }
        let end = |rx: PipeEnd, tx| {
            let own = (kind == SocketKind::Datagram).then(|| rx.another_writer());
            let ino = NEXT_INO.fetch_add(1, Ordering::Relaxed);
            SocketEnd {
                rx,
                tx,
                kind,
                _own_writer: own,
                peer_forgotten: AtomicBool::new(false),
                reset_reported: AtomicBool::new(false),
                ino,
            }
        };
        Ok((end(a_rx, a_tx), end(b_rx, b_tx)))
    }

    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// Whether writes are messages, queued whole (SOCK_SEQPACKET, SOCK_DGRAM).
    pub fn messages(&self) -> bool {
        self.kind != SocketKind::Stream
    }

    /// unix_dgram_sendmsg's size check: EMSGSIZE past the send buffer less
    /// 32 bytes.
    pub fn check_message_size(len: usize) -> Result<(), Errno> {
        if len > SNDBUF - 32 {
            return Err(Errno::EMSGSIZE);
        }
        Ok(())
    }

    /// Whether the peer, a stream or SOCK_SEQPACKET end, was closed with
    /// data it never read and this end has not been told yet (Linux's
    /// unix_release_sock sets the peer's sk_err to ECONNRESET then).
    fn reset_pending(&self) -> bool {
        self.kind != SocketKind::Datagram && !self.reset_reported.load(Ordering::Relaxed) && self.tx.closed_unread()
    }

    /// sock_error: ECONNRESET once if the peer was closed with data it
    /// never read, and from then on nothing.
    pub fn take_reset(&self) -> Option<Errno> {
        (self.reset_pending() && !self.reset_reported.swap(true, Ordering::Relaxed)).then_some(Errno::ECONNRESET)
    }

    /// A read (Linux's unix_stream_read_generic and unix_dgram_recvmsg):
    /// what is queued first; then, at end-of-file, a pending reset.
    pub fn read(&self, buf: &UserIov, nonblock: bool) -> Result<u64, Errno> {
        match self.rx.read(buf, nonblock)? {
            0 if buf.len() > 0 && self.rx.poll().hangup => self.take_reset().map_or(Ok(0), Err),
            n => Ok(n),
        }
    }

    /// FIONREAD (SIOCINQ, Linux's unix_inq_len): every byte queued for a
    /// stream or SOCK_SEQPACKET end, the next datagram's length for a
    /// SOCK_DGRAM one.
    pub fn queued(&self) -> usize {
        match self.kind {
            SocketKind::Stream | SocketKind::SeqPacket => self.rx.available(),
            SocketKind::Datagram => self.rx.next_packet_len(),
        }
    }

    /// The error of a write that found the peer gone (unix_dgram_sendmsg:
    /// EPIPE for SOCK_SEQPACKET; for SOCK_DGRAM ECONNREFUSED once, as the
    /// dead peer is dropped, then ENOTCONN).
    pub fn peer_gone_error(&self) -> Errno {
        match self.kind {
            SocketKind::Stream | SocketKind::SeqPacket => Errno::EPIPE,
            SocketKind::Datagram if self.peer_forgotten.swap(true, Ordering::Relaxed) => Errno::ENOTCONN,
            SocketKind::Datagram => Errno::ECONNREFUSED,
        }
    }

    /// Linux's unix_poll: readable with data or once the peer is gone
    /// (RCV_SHUTDOWN: POLLIN and POLLHUP), writable while the peer's pipe
    /// has room or once the peer is gone. A datagram end never sees the
    /// hangup (unix_dgram_poll: its peer's close shuts nothing down).
    pub fn poll(&self) -> Readiness {
        let (r, w) = (self.rx.poll(), self.tx.poll());
        Readiness { input: r.input || r.hangup, output: w.output || w.error, hangup: r.hangup, error: self.reset_pending() }
    }

    /// The queues a poller or a blocked reader or writer sleeps on.
    pub fn wait_queues(&self) -> [&WaitQueue; 4] {
        let [a, b] = self.rx.wait_queues();
        let [c, d] = self.tx.wait_queues();
        [a, b, c, d]
    }
}
