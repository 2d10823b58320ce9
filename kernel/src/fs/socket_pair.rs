//! socketpair(AF_UNIX): two connected sockets, each end reading from one
//! pipe and writing into the other (fs/pipe.rs), so blocking, wake-ups,
//! end-of-file when the peer closes and EPIPE/SIGPIPE when it is gone are
//! the pipe's. SOCK_SEQPACKET and SOCK_DGRAM keep message boundaries with
//! the pipe's packet mode (a read takes one message, dropping what does not
//! fit, as Linux's unix_seqpacket_recvmsg without MSG_PEEK); SOCK_STREAM is
//! a byte stream. Enough for programs that talk to a forked child (Linux's
//! vm/map_populate selftest); no addresses, send/recv flags or descriptor
//! passing.

use core::sync::atomic::{AtomicU64, Ordering};

use super::pipe::{Pipe, PipeEnd, Readiness};
use crate::process::wait_queue::WaitQueue;
use crate::syscall::errno::Errno;

static NEXT_INO: AtomicU64 = AtomicU64::new(1 << 40);

pub struct SocketEnd {
    /// What the peer wrote.
    pub rx: PipeEnd,
    /// What the peer reads.
    pub tx: PipeEnd,
    /// Message boundaries kept (SOCK_SEQPACKET, SOCK_DGRAM).
    pub packets: bool,
    ino: u64,
}

impl SocketEnd {
    /// Two connected ends (Linux's unix_socketpair).
    pub fn new_pair(packets: bool) -> Result<(SocketEnd, SocketEnd), Errno> {
        let (a_rx, b_tx) = Pipe::new_pair()?;
        let (b_rx, a_tx) = Pipe::new_pair()?;
        let ino = |_| NEXT_INO.fetch_add(1, Ordering::Relaxed);
        Ok((
            SocketEnd { rx: a_rx, tx: a_tx, packets, ino: ino(()) },
            SocketEnd { rx: b_rx, tx: b_tx, packets, ino: ino(()) },
        ))
    }

    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// Linux's unix_poll: readable with data or once the peer is gone
    /// (POLLHUP), writable while the peer's pipe has room.
    pub fn poll(&self) -> Readiness {
        let (r, w) = (self.rx.poll(), self.tx.poll());
        Readiness { input: r.input, output: w.output, hangup: r.hangup, error: false }
    }

    /// The queues a poller or a blocked reader or writer sleeps on.
    pub fn wait_queues(&self) -> [&WaitQueue; 4] {
        let [a, b] = self.rx.wait_queues();
        let [c, d] = self.tx.wait_queues();
        [a, b, c, d]
    }
}
