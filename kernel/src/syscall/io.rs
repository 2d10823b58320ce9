//! Reading, writing and stat through the descriptor table.
//!
//! The console (descriptors 0-2 at start) reads as end-of-file (it takes no
//! input yet) and writes to the UART as it is, unprefixed. A refpage
//! descriptor is only for mmap: read is EINVAL (the man page: not
//! supported) and write EBADF (it is open read-only). Pipes are in
//! fs/pipe.rs; here a write to one with no reader left also raises SIGPIPE.

use linux_raw_sys::general::{
    iovec, stat, __O_TMPFILE, AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW, O_ACCMODE, O_APPEND,
    O_CLOEXEC, O_CREAT, O_DIRECT, O_DIRECTORY, O_EXCL, O_NONBLOCK, O_RDONLY, O_TMPFILE, O_TRUNC, SIGPIPE, SI_USER,
    S_IFCHR, S_IFIFO, S_IFREG, S_IFSOCK,
};
use linux_raw_sys::ioctl::FIONREAD;

use super::errno::{Errno, SysResult};
use crate::fs::fd_table::FdEntry;
use crate::fs::file::{FileKind, FileRef, OpenFile};
use crate::fs::pipe::{PipeEnd, WriteError};
use crate::fs::procfs;
use crate::fs::socket_pair::SocketEnd;
use crate::fs::tmpfs::{self, TmpFile};
use crate::mm::addr::PAGE_SIZE;
use crate::mm::uaccess::{
    access_ok, copy_from_user, copy_to_user, read_user, read_user_str, write_user, Pod, UserAddr, UserIov,
};
use crate::process;
use crate::signal::{SigFields, SigInfo};

/// The largest count one read/write moves (Linux's MAX_RW_COUNT).
pub(super) const MAX_RW_COUNT: usize = 0x7fff_f000;
/// Linux's UIO_MAXIOV.
const IOV_MAX: i32 = 1024;
/// The bytes of a tmpfs read or write moved under one holding of the
/// file's position (see `in_pieces`): 1 MiB, a few milliseconds even when
/// every source page faults.
const PIECE: u64 = 256 * PAGE_SIZE as u64;

/// A long transfer in pieces, with other tasks let in between (Linux's
/// generic_perform_write and filemap_read: cond_resched() per page, and a
/// stop at a fatal signal with what was moved so far). `step(done, n)`
/// moves up to `n` bytes at byte `done` of the transfer, holding what it
/// needs (the file's position) only while it runs: a spin lock cannot be
/// held across the yield (sync/lock_order.rs). Linux holds the inode's
/// sleeping lock across the whole write instead, so a concurrent write to
/// the same file could fall between two pieces here
/// (scripts/known-differences.txt). A short piece ends the transfer; an
/// error ends it with the bytes moved, or the error if none were.
fn in_pieces(len: u64, mut step: impl FnMut(u64, u64) -> Result<u64, Errno>) -> SysResult {
    let len = len.min(MAX_RW_COUNT as u64);
    let mut done = 0;
    loop {
        let n = (len - done).min(PIECE);
        match step(done, n) {
            Ok(moved) => {
                done += moved;
                if moved < n || done == len {
                    return Ok(done);
                }
            }
            Err(e) => return if done > 0 { Ok(done) } else { Err(e) },
        }
        // Nothing is held here but the kernel lock.
        process::cond_resched();
        if process::long_work_must_stop() {
            return Ok(done);
        }
    }
}

fn file(fd: i32) -> Result<FileRef, Errno> {
    Ok(process::current().files().get(fd)?.file.clone())
}

pub fn write(fd: i32, buf: UserAddr, len: usize) -> SysResult {
    let file = file(fd)?;
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    match &file.kind {
        FileKind::Console => write_console(buf, len),
        FileKind::Proc(proc) => proc.write(buf, len as u64),
        FileKind::RefPage(_) => Err(Errno::EBADF),
        FileKind::Tmp(tmp) => in_pieces(len as u64, |done, n| {
            let mut pos = file.pos.lock();
            let at = if file.flags() & O_APPEND != 0 { tmp.size() } else { *pos };
            let moved = tmp.write_at(at, buf.offset(done), n)?;
            *pos = at + moved;
            Ok(moved)
        }),
        FileKind::Pipe(end) => {
            // The buffer is checked before the pipe is (Linux's vfs_write:
            // access_ok): a full pipe does not make a bad one EAGAIN.
            access_ok(buf, len)?;
            let packet = file.flags() & O_DIRECT != 0;
            write_pipe(&file, end, &UserIov::single(buf, len.min(MAX_RW_COUNT)), packet)
        }
        FileKind::Socket(s) => {
            access_ok(buf, len)?;
            write_socket(&file, s, &UserIov::single(buf, len.min(MAX_RW_COUNT)))
        }
    }
}

/// A socketpair write: a stream's is a pipe write into the peer's pipe
/// (SIGPIPE and EPIPE once the peer is gone); a message socket's is one
/// message, whole, and a gone peer is an error without SIGPIPE
/// (fs/socket_pair.rs).
fn write_socket(file: &OpenFile, s: &SocketEnd, buf: &UserIov) -> SysResult {
    if !s.messages() {
        return write_pipe(file, &s.tx, buf, false);
    }
    // unix_seqpacket_sendmsg: sock_error first.
    if let Some(e) = s.take_reset() {
        return Err(e);
    }
    SocketEnd::check_message_size(buf.len())?;
    match s.tx.write_message(buf, file.flags() & O_NONBLOCK != 0) {
        Ok(n) => Ok(n),
        Err(WriteError::BrokenPipe(_)) => Err(s.peer_gone_error()),
        Err(WriteError::Failed(e)) => Err(e),
    }
}

/// A pipe write; with no reader left, SIGPIPE to the writer and EPIPE
/// unless some bytes went in first (Linux's pipe_write: send_sig, which
/// the writing thread takes unless it blocks the signal).
fn write_pipe(file: &OpenFile, end: &PipeEnd, buf: &UserIov, packet: bool) -> SysResult {
    match end.write(buf, file.flags() & O_NONBLOCK != 0, packet) {
        Ok(n) => Ok(n),
        Err(WriteError::BrokenPipe(n)) => {
            let p = process::current();
            let info = SigInfo { signo: SIGPIPE, code: SI_USER as i32, fields: SigFields::Sender { pid: p.tgid } };
            // A standard signal is never refused for a full queue.
            let _ = process::signal_task(p.pid.0, info);
            if n > 0 {
                Ok(n)
            } else {
                Err(Errno::EPIPE)
            }
        }
        Err(WriteError::Failed(e)) => Err(e),
    }
}

fn write_console(buf: UserAddr, len: usize) -> SysResult {
    let len = len.min(MAX_RW_COUNT);
    let mut chunk = [0u8; 256];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(chunk.len());
        if let Err(e) = copy_from_user(&mut chunk[..n], buf.offset(done as u64)) {
            // Linux returns what was written before the fault, if anything.
            return if done > 0 { Ok(done as u64) } else { Err(e) };
        }
        crate::console::write_bytes(&chunk[..n]);
        done += n;
        // GiBs to the UART take minutes: others get the CPU, and SIGKILL
        // ends the write (Linux's file_tty_write: cond_resched() and a
        // signal check per chunk).
        process::cond_resched();
        if process::long_work_must_stop() {
            break;
        }
    }
    Ok(done as u64)
}

pub fn read(fd: i32, buf: UserAddr, len: usize) -> SysResult {
    let file = file(fd)?;
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    match &file.kind {
        FileKind::Console => Ok(0),
        FileKind::RefPage(_) => Err(Errno::EINVAL),
        FileKind::Tmp(tmp) => in_pieces(len as u64, |done, n| {
            let mut pos = file.pos.lock();
            let moved = tmp.read_at(*pos, buf.offset(done), n)?;
            *pos += moved;
            Ok(moved)
        }),
        FileKind::Proc(proc) => {
            let mut pos = file.pos.lock();
            let n = proc.read_at(*pos, buf, len as u64)?;
            *pos += n;
            Ok(n)
        }
        FileKind::Pipe(end) => {
            // vfs_read's access_ok: a bad buffer is EFAULT before an empty
            // pipe is EAGAIN or puts the reader to sleep.
            access_ok(buf, len)?;
            end.read(&UserIov::single(buf, len.min(MAX_RW_COUNT)), file.flags() & O_NONBLOCK != 0)
        }
        FileKind::Socket(s) => {
            access_ok(buf, len)?;
            s.read(&UserIov::single(buf, len.min(MAX_RW_COUNT)), file.flags() & O_NONBLOCK != 0)
        }
    }
}

/// pread64/pwrite64: at an offset, leaving the position alone; only files
/// with positions (ESPIPE otherwise).
pub fn pread(fd: i32, buf: UserAddr, len: usize, offset: i64) -> SysResult {
    let file = file(fd)?;
    let offset = u64::try_from(offset).map_err(|_| Errno::EINVAL)?;
    // A stream (Linux: no FMODE_PREAD/PWRITE) is ESPIPE whatever its mode.
    if matches!(file.kind, FileKind::Pipe(_) | FileKind::Socket(_)) {
        return Err(Errno::ESPIPE);
    }
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    match &file.kind {
        FileKind::Tmp(tmp) => in_pieces(len as u64, |done, n| {
            tmp.read_at(offset + done, buf.offset(done), n)
        }),
        FileKind::Proc(proc) => proc.read_at(offset, buf, len as u64),
        FileKind::RefPage(_) => Err(Errno::EINVAL),
        FileKind::Console | FileKind::Pipe(_) | FileKind::Socket(_) => Err(Errno::ESPIPE),
    }
}

pub fn pwrite(fd: i32, buf: UserAddr, len: usize, offset: i64) -> SysResult {
    let file = file(fd)?;
    let offset = u64::try_from(offset).map_err(|_| Errno::EINVAL)?;
    // A stream (Linux: no FMODE_PREAD/PWRITE) is ESPIPE whatever its mode.
    if matches!(file.kind, FileKind::Pipe(_) | FileKind::Socket(_)) {
        return Err(Errno::ESPIPE);
    }
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    match &file.kind {
        FileKind::Tmp(tmp) => in_pieces(len as u64, |done, n| {
            tmp.write_at(offset + done, buf.offset(done), n)
        }),
        FileKind::Proc(proc) => proc.write(buf, len as u64),
        FileKind::RefPage(_) => Err(Errno::EBADF),
        FileKind::Console | FileKind::Pipe(_) | FileKind::Socket(_) => Err(Errno::ESPIPE),
    }
}

fn iovecs(iov: UserAddr, count: i32) -> Result<alloc::vec::Vec<iovec>, Errno> {
    if !(0..=IOV_MAX).contains(&count) {
        return Err(Errno::EINVAL);
    }
    (0..count as u64).map(|i| read_user::<iovec>(iov.offset(i * 16))).collect()
}

/// The iovecs as Linux's import_iovec takes them: a length that is
/// negative as a ssize_t is EINVAL, a piece outside the user half EFAULT
/// (access_ok, before the file is looked at), the total is capped at
/// MAX_RW_COUNT (1024 pieces of 2 GiB each are one 2 GiB transfer).
fn capped_iovecs(vecs: &[iovec]) -> Result<alloc::vec::Vec<(UserAddr, usize)>, Errno> {
    let mut left = MAX_RW_COUNT;
    let mut pieces = alloc::vec::Vec::with_capacity(vecs.len());
    if vecs.iter().any(|v| (v.iov_len as i64) < 0) {
        return Err(Errno::EINVAL);
    }
    for v in vecs {
        access_ok(UserAddr::new(v.iov_base as u64), v.iov_len as usize)?;
        let n = (v.iov_len as usize).min(left);
        pieces.push((UserAddr::new(v.iov_base as u64), n));
        left -= n;
    }
    Ok(pieces)
}

/// The iovecs as one buffer for a pipe or a socket.
fn iov_for_pipe(vecs: &[iovec]) -> Result<UserIov, Errno> {
    Ok(UserIov::many(capped_iovecs(vecs)?))
}

/// writev: a pipe takes the whole vector as one write (so up to PIPE_BUF
/// bytes in all go in whole); other files one iovec after the other.
pub fn writev(fd: i32, iov: UserAddr, count: i32) -> SysResult {
    // The descriptor before the vector (Linux's do_writev: fdget first).
    let file = file(fd)?;
    let vecs = iovecs(iov, count)?;
    if let FileKind::Pipe(end) = &file.kind {
        if !file.writable() {
            return Err(Errno::EBADF);
        }
        return write_pipe(&file, end, &iov_for_pipe(&vecs)?, file.flags() & O_DIRECT != 0);
    }
    // A socket takes the vector as one write: one message for
    // SOCK_SEQPACKET and SOCK_DGRAM (sock_write_iter).
    if let FileKind::Socket(s) = &file.kind {
        return write_socket(&file, s, &iov_for_pipe(&vecs)?);
    }
    let mut total = 0u64;
    for (base, len) in capped_iovecs(&vecs)? {
        match write(fd, base, len) {
            Ok(n) => total += n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(total)
}

/// readv: a pipe fills the vector in one read (returning what is there,
/// as read does); other files one iovec after the other.
pub fn readv(fd: i32, iov: UserAddr, count: i32) -> SysResult {
    // The descriptor before the vector (Linux's do_readv: fdget first).
    let file = file(fd)?;
    let vecs = iovecs(iov, count)?;
    if let FileKind::Pipe(end) = &file.kind {
        if !file.readable() {
            return Err(Errno::EBADF);
        }
        return end.read(&iov_for_pipe(&vecs)?, file.flags() & O_NONBLOCK != 0);
    }
    if let FileKind::Socket(s) = &file.kind {
        return s.read(&iov_for_pipe(&vecs)?, file.flags() & O_NONBLOCK != 0);
    }
    let mut total = 0u64;
    for (base, len) in capped_iovecs(&vecs)? {
        match read(fd, base, len) {
            Ok(n) => {
                total += n;
                if n < len as u64 {
                    break;
                }
            }
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(total)
}

/// The console is a character device but not a terminal: every request,
/// TCGETS included, gives ENOTTY, so C libraries fully buffer stdout as for
/// a pipe. A pipe answers FIONREAD, the bytes it holds (Linux's
/// pipe_ioctl), a socketpair end what it has to read (unix_ioctl's
/// SIOCINQ), and nothing else.
pub fn ioctl(fd: i32, request: u32, arg: UserAddr) -> SysResult {
    match &file(fd)?.kind {
        FileKind::Pipe(end) if request == FIONREAD => {
            write_user(arg, &(end.available() as u32))?;
            Ok(0)
        }
        FileKind::Socket(s) if request == FIONREAD => {
            write_user(arg, &(s.queued() as u32))?;
            Ok(0)
        }
        _ => Err(Errno::ENOTTY),
    }
}

/// What fstat says. The console: a character device, major 5 minor 1
/// (/dev/console). A refpage (the project's decision, documented in
/// README): a read-only regular file whose size is one repetition of the
/// pattern, one page of blocks, its own inode number.
fn stat_of(file: &FileRef) -> stat {
    let mut st = stat::zeroed();
    st.st_nlink = 1;
    match &file.kind {
        FileKind::Console => {
            st.st_mode = S_IFCHR | 0o620;
            st.st_rdev = (5 << 8) | 1;
            st.st_blksize = 1024;
        }
        FileKind::RefPage(page) => {
            st.st_mode = S_IFREG | 0o400;
            st.st_ino = page.ino();
            st.st_size = page.size() as _;
            st.st_blksize = PAGE_SIZE as _;
            st.st_blocks = (PAGE_SIZE / 512) as _;
        }
        FileKind::Proc(proc) => return procfs::stat_of(proc.node),
        FileKind::Tmp(tmp) => {
            st.st_mode = S_IFREG | 0o600;
            st.st_ino = tmp.ino();
            st.st_size = tmp.size() as _;
            st.st_blksize = PAGE_SIZE as _;
            st.st_blocks = (TmpFile::pages_for(tmp.size()) * (PAGE_SIZE as u64 / 512)) as _;
        }
        FileKind::Pipe(end) => {
            // Linux's pipefs inode: a FIFO, mode 0600, both ends one inode,
            // st_size 0 whatever it holds.
            st.st_mode = S_IFIFO | 0o600;
            st.st_ino = end.ino();
            st.st_blksize = PAGE_SIZE as _;
        }
        FileKind::Socket(s) => {
            // Linux's sockfs inode: a socket, mode 0777.
            st.st_mode = S_IFSOCK | 0o777;
            st.st_ino = s.ino();
            st.st_blksize = PAGE_SIZE as _;
        }
    }
    st
}

pub fn fstat(fd: i32, buf: UserAddr) -> SysResult {
    let st = stat_of(&file(fd)?);
    write_user(buf, &st)?;
    Ok(0)
}

pub fn newfstatat(dirfd: i32, path: UserAddr, buf: UserAddr, flags: u32) -> SysResult {
    let name = read_user_str(path, 4096)?;
    if name.is_empty() && flags & AT_EMPTY_PATH != 0 {
        return fstat(dirfd, buf);
    }
    // Only /proc is looked up by path (not yet /dev/shm).
    let path = absolute(dirfd, path)?;
    if procfs::contains(&path) {
        let node = procfs::lookup(&path, flags & AT_SYMLINK_NOFOLLOW == 0)?;
        write_user(buf, &procfs::stat_of(node))?;
        return Ok(0);
    }
    Err(Errno::ENOENT)
}

/// readlinkat: the links of /proc (self, thread-self, <pid>/exe); the text
/// without a NUL, cut to `size` bytes. Other paths do not exist.
pub fn readlinkat(dirfd: i32, path: UserAddr, buf: UserAddr, size: i32) -> SysResult {
    // The size first, before the path is read (Linux's do_readlinkat).
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    let path = absolute(dirfd, path)?;
    if !procfs::contains(&path) {
        return Err(Errno::ENOENT);
    }
    let target = procfs::readlink(&path)?;
    let n = target.len().min(size as usize);
    copy_to_user(buf, &target.as_bytes()[..n])?;
    Ok(n as u64)
}

/// getdents64: the entries of a /proc directory (the only directories a
/// descriptor can name); ENOTDIR for any other file.
pub fn getdents64(fd: i32, buf: UserAddr, len: usize) -> SysResult {
    let file = file(fd)?;
    let FileKind::Proc(proc) = &file.kind else { return Err(Errno::ENOTDIR) };
    let mut pos = file.pos.lock();
    proc.getdents(&mut pos, buf, len)
}

/// Paths must be absolute (or relative to AT_FDCWD, which is "/").
fn absolute(dirfd: i32, path: UserAddr) -> Result<alloc::string::String, Errno> {
    let path = read_user_str(path, 4096)?;
    if path.starts_with('/') {
        return Ok(path);
    }
    if dirfd != AT_FDCWD {
        // Relative to a directory: only /proc's can be opened.
        return match &file(dirfd)?.kind {
            FileKind::Proc(dir) => procfs::dir_path(dir.node).map(|d| alloc::format!("{}/{}", d, path)),
            _ => Err(Errno::ENOTDIR),
        };
    }
    Ok(alloc::format!("/{}", path))
}

/// openat: files in /dev/shm and /tmp only (created with O_CREAT, or
/// unnamed with O_TMPFILE); anything else is ENOENT.
pub fn openat(dirfd: i32, path: UserAddr, flags: u32, _mode: u32) -> SysResult {
    let path = absolute(dirfd, path)?;
    let access = flags & O_ACCMODE;
    if flags & __O_TMPFILE != 0 {
        // Linux's build_open_flags: O_TMPFILE is __O_TMPFILE | O_DIRECTORY,
        // without O_CREAT, and must be opened for writing.
        if flags & (O_TMPFILE | O_CREAT) != O_TMPFILE || access == O_RDONLY {
            return Err(Errno::EINVAL);
        }
        if procfs::contains(&path) {
            return Err(Errno::EOPNOTSUPP);
        }
        let tmp = tmpfs::create_unnamed(&path)?;
        return install(OpenFile::tmp(tmp, flags & (O_ACCMODE | O_APPEND)), flags);
    }
    if procfs::contains(&path) {
        if flags & O_CREAT != 0 {
            procfs::check_create(&path, flags & O_EXCL != 0)?;
        }
        let proc = procfs::open(&path, access != O_RDONLY || flags & O_TRUNC != 0, flags & O_DIRECTORY != 0)?;
        return install(OpenFile::proc(proc, access), flags);
    }
    if flags & O_DIRECTORY != 0 {
        return Err(Errno::ENOTDIR);
    }
    if access == O_ACCMODE {
        return Err(Errno::EINVAL);
    }
    let tmp =
        tmpfs::open(&path, flags & O_CREAT != 0, flags & O_EXCL != 0, flags & O_TRUNC != 0 && access != O_RDONLY)?;
    install(OpenFile::tmp(tmp, flags & (O_ACCMODE | O_APPEND)), flags)
}

/// The lowest free descriptor for a newly opened file.
pub(super) fn install(file: FileRef, flags: u32) -> SysResult {
    let p = process::current();
    let limit = super::fd::fd_limit(p);
    let entry = FdEntry { file, cloexec: flags & O_CLOEXEC != 0 };
    p.files().insert_lowest(0, entry, limit).map(|fd| fd as u64)
}

pub fn unlinkat(dirfd: i32, path: UserAddr, flags: u32) -> SysResult {
    let path = absolute(dirfd, path)?;
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    tmpfs::unlink(&path)?;
    Ok(0)
}

pub fn ftruncate(fd: i32, length: i64) -> SysResult {
    let file = file(fd)?;
    let length = u64::try_from(length).map_err(|_| Errno::EINVAL)?;
    match &file.kind {
        FileKind::Tmp(tmp) if file.writable() => {
            tmp.set_size(length);
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
