//! Pipes: Linux's fs/pipe.c (6.1), a ring of page buffers between a read
//! end and a write end.
//!
//! - Capacity is counted in buffers (slots), 16 pages by default
//!   (PIPE_DEF_BUFFERS; F_SETPIPE_SZ changes it). A write first tops up the
//!   last buffer if its remainder (`len % PAGE_SIZE`) fits there, then fills
//!   whole new pages: a write of up to PIPE_BUF (one page) lands in one
//!   buffer, whole, so it is atomic; a larger blocking write goes in parts as
//!   readers make room.
//! - A read takes from the oldest buffers, and returns as soon as it has
//!   something once the pipe is empty. A buffer whose copy to user memory
//!   faults is not consumed: the bytes stay in the pipe, the read returns what
//!   earlier buffers gave (or EFAULT). A write whose source faults keeps
//!   the pages it completed and drops the page it was filling.
//! - No readers left: the writer gets SIGPIPE and EPIPE (the bytes already
//!   written still count). No writers left: an empty pipe reads as
//!   end-of-file.
//! - Packet mode (O_DIRECT): every page a write fills is a packet, never
//!   merged; a read takes one packet, dropping what does not fit. A
//!   socketpair's message (`write_message`) is one packet over as many
//!   pages as it needs, queued whole or not at all.
//!
//! Concurrency, as if another CPU ran beside us: the ring and the counts of
//! ends are under the pipe's lock; readers sleep on `read_wait`, writers on
//! `write_wait` (ppoll and pselect6 on both), through `wait_until`, which
//! queues the sleeper before it looks at the condition. Whoever changes the
//! ring or closes an end wakes the other side after dropping the lock. No
//! lock is held while sleeping. The user copies run under the lock (Linux
//! holds pipe->mutex across them): here they never sleep, since a fault on a
//! user page is resolved in place or ends the copy.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::sync::{Rank, SpinLock};

use crate::mm::addr::PAGE_SIZE;
use crate::mm::kernel_page::KernelPage;
use crate::mm::uaccess::UserIov;
use crate::process::wait_queue::{wait_until, WaitEnd, WaitQueue};
use crate::syscall::errno::Errno;

/// Slots of a new pipe (Linux's PIPE_DEF_BUFFERS): 64 KiB.
pub const DEFAULT_SLOTS: usize = 16;
/// Linux's round_pipe_size refuses sizes above 2^31.
const MAX_SIZE: u64 = 1 << 31;
/// The most slots Linux's pipe_resize_ring can allocate: kcalloc of 40-byte
/// pipe_buffers fails past KMALLOC_MAX_SIZE (4 MiB on arm64, 4 KiB pages),
/// so 2^17 slots (a 512 MiB pipe) and more are ENOMEM.
const MAX_SLOTS: usize = (4 << 20) / 40;

static NEXT_INO: AtomicU64 = AtomicU64::new(1);

/// One slot: a page and the bytes in it not yet read.
struct Buffer {
    page: KernelPage,
    offset: usize,
    len: usize,
    /// Written in packet mode: never merged into, read as one packet.
    packet: bool,
    /// The packet goes on in the next buffer (a socket's message of more
    /// than a page, `write_message`).
    continues: bool,
}

struct Ring {
    bufs: VecDeque<Buffer>,
    /// The most slots in use (Linux's max_usage).
    slots: usize,
    readers: usize,
    writers: usize,
}

impl Ring {
    fn full(&self) -> bool {
        self.bufs.len() >= self.slots
    }
    fn readable(&self) -> bool {
        !self.bufs.is_empty() || self.writers == 0
    }
    fn writable(&self) -> bool {
        !self.full() || self.readers == 0
    }
}

pub struct Pipe {
    ring: SpinLock<Ring>,
    read_wait: WaitQueue,
    write_wait: WaitQueue,
    ino: u64,
}

/// Which end an open file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Read,
    Write,
}

/// What poll reports for one end (Linux's pipe_poll).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    /// Data to read (POLLIN | POLLRDNORM).
    pub input: bool,
    /// A slot free (POLLOUT | POLLWRNORM).
    pub output: bool,
    /// Read end with no writers left (POLLHUP).
    pub hangup: bool,
    /// Write end with no readers left (POLLERR).
    pub error: bool,
}

/// One end of a pipe, held by an open file; dropping the open file (its
/// last descriptor closed) closes the end.
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    side: Side,
}

/// Kernel heap one pipe takes: the Arc'd Pipe and its ring of slots.
fn heap_bytes(slots: usize) -> usize {
    core::mem::size_of::<Pipe>() + 16 + slots * core::mem::size_of::<Buffer>()
}

impl Pipe {
    /// A new pipe's two ends (Linux's create_pipe_files); ENFILE when the
    /// kernel heap cannot spare one (Linux: get_pipe_inode failing).
    pub fn new_pair() -> Result<(PipeEnd, PipeEnd), Errno> {
        if !crate::mm::heap::can_spare(heap_bytes(DEFAULT_SLOTS)) {
            return Err(Errno::ENFILE);
        }
        let pipe = Arc::new(Pipe {
            ring: SpinLock::new(Rank::PipeRing, Ring {
                bufs: VecDeque::with_capacity(DEFAULT_SLOTS),
                slots: DEFAULT_SLOTS,
                readers: 1,
                writers: 1,
            }),
            read_wait: WaitQueue::new(),
            write_wait: WaitQueue::new(),
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
        });
        Ok((PipeEnd { pipe: pipe.clone(), side: Side::Read }, PipeEnd { pipe, side: Side::Write }))
    }

    /// Wakes both sides: sleepers and pollers look again.
    fn wake_all(&self) {
        self.read_wait.wake_all();
        self.write_wait.wake_all();
    }
}

impl PipeEnd {
    pub fn side(&self) -> Side {
        self.side
    }

    /// The inode number fstat reports (both ends share it).
    pub fn ino(&self) -> u64 {
        self.pipe.ino
    }

    /// One more write end of this end's pipe, counted like the first: while
    /// it lives, the read side never sees end-of-file.
    pub fn another_writer(&self) -> PipeEnd {
        self.pipe.ring.lock().writers += 1;
        PipeEnd { pipe: self.pipe.clone(), side: Side::Write }
    }

    /// Linux's pipe_read, into all of `buf`'s pieces at once (read and
    /// readv). `nonblock`: the open file's O_NONBLOCK.
    pub fn read(&self, buf: &UserIov, nonblock: bool) -> Result<u64, Errno> {
        let len = buf.len();
        if len == 0 {
            return Ok(0);
        }
        let pipe = &*self.pipe;
        let mut done = 0usize;
        let mut took_packet = false;
        loop {
            let result = {
                let mut ring = pipe.ring.lock();
                while done < len {
                    let Some(front) = ring.bufs.front_mut() else { break };
                    if front.packet && front.continues {
                        // A message over several buffers: taken whole.
                        took_packet = true;
                        match take_message(&mut ring.bufs, buf, done) {
                            Ok(n) => done += n,
                            Err(e) => {
                                drop(ring);
                                pipe.write_wait.wake_all();
                                return Err(e);
                            }
                        }
                        break;
                    }
                    let n = front.len.min(len - done);
                    let src = &front.page.bytes()[front.offset..front.offset + n];
                    if let Err(e) = buf.copy_out(done, src) {
                        // Linux: this buffer stays whole in the pipe; what
                        // earlier buffers gave is the result.
                        if done == 0 {
                            return Err(e);
                        }
                        break;
                    }
                    done += n;
                    front.offset += n;
                    front.len -= n;
                    let packet = front.packet;
                    if packet {
                        // One packet per read; what did not fit is dropped.
                        front.len = 0;
                        took_packet = true;
                    }
                    if front.len == 0 {
                        ring.bufs.pop_front();
                    }
                    if packet {
                        break;
                    }
                }
                if done > 0 || took_packet || ring.writers == 0 {
                    Some(Ok(done as u64))
                } else if nonblock {
                    Some(Err(Errno::EAGAIN))
                } else {
                    None
                }
            };
            if done > 0 || took_packet {
                // Room was made: writers (and pollers) look again.
                pipe.write_wait.wake_all();
            }
            if let Some(result) = result {
                return result;
            }
            // Empty with writers left: sleep until data or the last writer
            // goes. Interrupted: ERESTARTSYS, as Linux's pipe_read (EINTR
            // after a handler, restarted under SA_RESTART or without one).
            if wait_until(&[&pipe.read_wait], None, || pipe.ring.lock().readable()) == WaitEnd::Interrupted {
                return Err(Errno::ERESTARTSYS);
            }
        }
    }

    /// Linux's pipe_write. `packet`: the open file's O_DIRECT. On EPIPE the
    /// caller sends SIGPIPE (`WriteError::BrokenPipe` carries the count).
    pub fn write(&self, buf: &UserIov, nonblock: bool, packet: bool) -> Result<u64, WriteError> {
        let len = buf.len();
        if len == 0 {
            return Ok(0);
        }
        let pipe = &*self.pipe;
        let mut done = 0usize;
        {
            let mut ring = pipe.ring.lock();
            if ring.readers == 0 {
                return Err(WriteError::BrokenPipe(0));
            }
            // The remainder of the write goes into the last buffer if it
            // fits there whole (small writes merge; large ones stay
            // page-aligned).
            let head = len % PAGE_SIZE;
            if head != 0 && !packet {
                if let Some(last) = ring.bufs.back_mut().filter(|b| !b.packet && b.offset + b.len + head <= PAGE_SIZE) {
                    let at = last.offset + last.len;
                    buf.copy_in(0, &mut last.page.bytes_mut()[at..at + head]).map_err(WriteError::Failed)?;
                    last.len += head;
                    done = head;
                }
            }
        }
        if done > 0 {
            pipe.read_wait.wake_all();
        }
        loop {
            if done == len {
                return Ok(done as u64);
            }
            let mut added = false;
            let outcome = {
                let mut ring = pipe.ring.lock();
                loop {
                    if ring.readers == 0 {
                        break Some(Err(WriteError::BrokenPipe(done as u64)));
                    }
                    if done == len {
                        break Some(Ok(done as u64));
                    }
                    if ring.full() {
                        break None;
                    }
                    let Some(mut page) = KernelPage::alloc() else {
                        break Some(if done > 0 { Ok(done as u64) } else { Err(WriteError::Failed(Errno::ENOMEM)) });
                    };
                    let n = (len - done).min(PAGE_SIZE);
                    if let Err(e) = buf.copy_in(done, &mut page.bytes_mut()[..n]) {
                        // The page being filled is dropped, bytes and all.
                        break Some(if done > 0 { Ok(done as u64) } else { Err(WriteError::Failed(e)) });
                    }
                    ring.bufs.push_back(Buffer { page, offset: 0, len: n, packet, continues: false });
                    done += n;
                    added = true;
                }
            };
            if added {
                pipe.read_wait.wake_all();
            }
            match outcome {
                Some(result) => return result,
                None if nonblock => {
                    return if done > 0 { Ok(done as u64) } else { Err(WriteError::Failed(Errno::EAGAIN)) };
                }
                None => {}
            }
            // Full: sleep until a reader makes room or the last one goes.
            // Interrupted, the bytes written so far are the result, or
            // ERESTARTSYS if there are none (Linux's pipe_write).
            if wait_until(&[&pipe.write_wait], None, || pipe.ring.lock().writable()) == WaitEnd::Interrupted {
                return if done > 0 { Ok(done as u64) } else { Err(WriteError::Failed(Errno::ERESTARTSYS)) };
            }
        }
    }

    /// A socket's message (SOCK_SEQPACKET, SOCK_DGRAM; Linux's
    /// unix_dgram_sendmsg, one skb a message): copied in first, then queued
    /// whole as one packet over as many buffers as it needs, or not at all:
    /// the writer waits for that much room (EAGAIN when nonblocking). A
    /// message of no bytes is a packet too. The caller checks the size
    /// against the pipe's room (EMSGSIZE).
    pub fn write_message(&self, buf: &UserIov, nonblock: bool) -> Result<u64, WriteError> {
        let len = buf.len();
        let count = len.div_ceil(PAGE_SIZE).max(1);
        let mut pages = alloc::vec::Vec::new();
        pages.try_reserve_exact(count).map_err(|_| WriteError::Failed(Errno::ENOMEM))?;
        for i in 0..count {
            let mut page = KernelPage::alloc().ok_or(WriteError::Failed(Errno::ENOMEM))?;
            let (from, n) = (i * PAGE_SIZE, (len - i * PAGE_SIZE).min(PAGE_SIZE));
            buf.copy_in(from, &mut page.bytes_mut()[..n]).map_err(WriteError::Failed)?;
            pages.push((page, n));
        }
        let pipe = &*self.pipe;
        loop {
            {
                let mut ring = pipe.ring.lock();
                if ring.readers == 0 {
                    return Err(WriteError::BrokenPipe(0));
                }
                if ring.bufs.len() + count <= ring.slots {
                    let last = count - 1;
                    for (i, (page, n)) in pages.drain(..).enumerate() {
                        ring.bufs.push_back(Buffer { page, offset: 0, len: n, packet: true, continues: i < last });
                    }
                    drop(ring);
                    pipe.read_wait.wake_all();
                    return Ok(len as u64);
                }
            }
            if nonblock {
                return Err(WriteError::Failed(Errno::EAGAIN));
            }
            let room = || {
                let ring = pipe.ring.lock();
                ring.readers == 0 || ring.bufs.len() + count <= ring.slots
            };
            if wait_until(&[&pipe.write_wait], None, room) == WaitEnd::Interrupted {
                return Err(WriteError::Failed(Errno::ERESTARTSYS));
            }
        }
    }

    /// Linux's pipe_poll for this end.
    pub fn poll(&self) -> Readiness {
        let ring = self.pipe.ring.lock();
        match self.side {
            Side::Read => Readiness { input: !ring.bufs.is_empty(), hangup: ring.writers == 0, ..Default::default() },
            Side::Write => Readiness { output: !ring.full(), error: ring.readers == 0, ..Default::default() },
        }
    }

    /// The queues a poller sleeps on.
    pub fn wait_queues(&self) -> [&WaitQueue; 2] {
        [&self.pipe.read_wait, &self.pipe.write_wait]
    }

    /// Whether the read end is gone with bytes it never read.
    pub fn closed_unread(&self) -> bool {
        let ring = self.pipe.ring.lock();
        ring.readers == 0 && !ring.bufs.is_empty()
    }

    /// FIONREAD: the bytes the pipe holds.
    pub fn available(&self) -> usize {
        self.pipe.ring.lock().bufs.iter().map(|b| b.len).sum()
    }

    /// The length of the packet at the front, over all its buffers (0 with
    /// nothing queued): a datagram socket's SIOCINQ.
    pub fn next_packet_len(&self) -> usize {
        let ring = self.pipe.ring.lock();
        let mut len = 0;
        for b in &ring.bufs {
            len += b.len;
            if !b.continues {
                break;
            }
        }
        len
    }

    /// F_GETPIPE_SZ: the capacity in bytes.
    pub fn size(&self) -> u64 {
        (self.pipe.ring.lock().slots * PAGE_SIZE) as u64
    }

    /// F_SETPIPE_SZ (Linux's pipe_set_size): the size rounded up to a power
    /// of two pages; ENOMEM past the ring Linux can allocate (MAX_SLOTS);
    /// EBUSY if the pipe holds more buffers than that; the new
    /// size in bytes. (Privileged here, as every program is root: no
    /// pipe-max-size or per-user limits.)
    pub fn set_size(&self, arg: u64) -> Result<u64, Errno> {
        if arg > MAX_SIZE {
            return Err(Errno::EINVAL);
        }
        let size = arg.max(PAGE_SIZE as u64).next_power_of_two();
        let slots = (size / PAGE_SIZE as u64) as usize;
        if slots > MAX_SLOTS {
            return Err(Errno::ENOMEM);
        }
        let mut ring = self.pipe.ring.lock();
        if slots < ring.bufs.len() {
            return Err(Errno::EBUSY);
        }
        let more = slots.saturating_sub(ring.bufs.capacity());
        // The ring's slots come from the kernel heap: ENOMEM past what it
        // can spare (Linux: kcalloc failing in pipe_resize_ring). A smaller
        // size keeps the room it had (no reallocation that could fail).
        if more > 0 && !crate::mm::heap::can_spare(more * core::mem::size_of::<Buffer>()) {
            return Err(Errno::ENOMEM);
        }
        let used = ring.bufs.len();
        if ring.bufs.try_reserve_exact(slots - used).is_err() {
            return Err(Errno::ENOMEM);
        }
        ring.slots = slots;
        drop(ring);
        // More room (or less): writers and pollers look again.
        self.pipe.wake_all();
        Ok(size)
    }
}

/// Why a pipe write failed, with what it had written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// No reader left: SIGPIPE, and EPIPE unless some bytes went in (their
    /// count).
    BrokenPipe(u64),
    /// Nothing written: this error.
    Failed(Errno),
}

/// Takes the message at the front of `bufs` (its buffers up to one that
/// does not continue), copying what fits into `buf` from `at` and
/// dropping the rest: the bytes copied. A copy that faults is EFAULT with
/// the message gone, as Linux's unix_dgram_recvmsg has dequeued its skb.
fn take_message(bufs: &mut VecDeque<Buffer>, buf: &UserIov, at: usize) -> Result<usize, Errno> {
    let mut done = 0;
    let mut fault = None;
    while let Some(b) = bufs.pop_front() {
        let n = b.len.min(buf.len() - at - done);
        if n > 0 && fault.is_none() {
            match buf.copy_out(at + done, &b.page.bytes()[b.offset..b.offset + n]) {
                Ok(()) => done += n,
                Err(e) => fault = Some(e),
            }
        }
        if !b.continues {
            break;
        }
    }
    fault.map_or(Ok(done), Err)
}

impl Drop for PipeEnd {
    /// The end's last open file is closed (Linux's pipe_release): the other
    /// side sees end-of-file or EPIPE, and whoever sleeps looks again.
    fn drop(&mut self) {
        {
            let mut ring = self.pipe.ring.lock();
            match self.side {
                Side::Read => ring.readers -= 1,
                Side::Write => ring.writers -= 1,
            }
        }
        self.pipe.wake_all();
    }
}
