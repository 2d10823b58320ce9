//! /proc: files generated when read, as Linux 6.1's procfs shows them.
//!
//! The tree (docs/procfs.md):
//!
//! ```text
//! /proc/cpuinfo, /proc/meminfo, /proc/sys/vm/{max_map_count,mmap_min_addr}
//! /proc/self -> <tgid>, /proc/thread-self -> <tgid>/task/<tid>
//! /proc/<pid>/{cmdline,comm,exe,maps,smaps,stat,status}, /proc/<pid>/task/<tid>/...
//! ```
//!
//! Reading follows seq_file (fs/seq_file.c): a read at offset 0 generates
//! the text afresh and keeps it; reads at later offsets are served from
//! what was kept, so a file read in pieces is one consistent snapshot, and
//! lseek back to 0 (or pread at 0) sees the state now. At most [`WINDOW`]
//! bytes are kept, so the kernel heap a read takes is bounded whatever the
//! process looks like; a read past them generates the next window, maps
//! and smaps resuming at the area where the window ended (as Linux's
//! m_start resumes at the last address shown). Writes are answered as
//! Linux answers root (`ProcFile::write`): only comm takes one. A file of a process that has been reaped reads as ESRCH.

mod cmdline;
mod cpuinfo;
mod maps;
mod meminfo;
mod pagemap;
mod smaps;
mod stat;
mod status;
mod sysctl;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_raw_sys::general::{stat as Stat, S_IFDIR, S_IFLNK, S_IFREG};
use crate::sync::{Rank, SpinLock};

pub use super::seq_text::Text;
use super::seq_text::WINDOW;
use crate::mm::uaccess::{copy_from_user, copy_to_user, Pod, UserAddr};
use crate::process::{self, Process, State};
use crate::syscall::errno::Errno;

/// Where the tree is mounted.
const ROOT: &str = "/proc";

/// A task as /proc names it: the process (thread group) and the thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskId {
    pub tgid: u32,
    pub tid: u32,
}

/// The files of a /proc/<pid> (or task/<tid>) directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PidFile {
    Cmdline,
    Comm,
    Maps,
    Smaps,
    Stat,
    Status,
    Pagemap,
}

/// One node of the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    Root,
    Cpuinfo,
    Meminfo,
    SysDir,
    SysVmDir,
    Sysctl(sysctl::Sysctl),
    /// /proc/self (a link to the caller's tgid).
    SelfLink,
    /// /proc/thread-self (a link to `<tgid>/task/<tid>`).
    ThreadSelfLink,
    /// /proc/<pid>, or with `in_task` /proc/<pid>/task/<tid>.
    PidDir {
        task: TaskId,
        in_task: bool,
    },
    /// /proc/<pid>/task.
    TaskDir(u32),
    PidFile(TaskId, PidFile),
    /// /proc/<pid>/exe (a link to the program's path).
    Exe(TaskId),
}

/// d_type values of getdents64 (DT_DIR, DT_REG, DT_LNK).
const DT_DIR: u8 = 4;
const DT_REG: u8 = 8;
const DT_LNK: u8 = 10;

impl Node {
    fn is_dir(self) -> bool {
        matches!(self, Node::Root | Node::SysDir | Node::SysVmDir | Node::PidDir { .. } | Node::TaskDir(_))
    }

    fn is_link(self) -> bool {
        matches!(self, Node::SelfLink | Node::ThreadSelfLink | Node::Exe(_))
    }

    fn dtype(self) -> u8 {
        if self.is_dir() {
            DT_DIR
        } else if self.is_link() {
            DT_LNK
        } else {
            DT_REG
        }
    }

    /// An inode number, stable for the node's life (procfs's are made up
    /// too): a kind in the low byte, the pids above it.
    fn ino(self) -> u64 {
        let pid_ino = |t: TaskId, kind: u64| (u64::from(t.tgid) << 40) | (u64::from(t.tid) << 16) | kind;
        match self {
            Node::Root => 1,
            Node::Cpuinfo => 2,
            Node::Meminfo => 3,
            Node::SysDir => 4,
            Node::SysVmDir => 5,
            Node::Sysctl(s) => 6 + s as u64,
            Node::SelfLink => 10,
            Node::ThreadSelfLink => 11,
            Node::PidDir { task, in_task } => pid_ino(task, 0x20 + in_task as u64),
            Node::TaskDir(tgid) => pid_ino(TaskId { tgid, tid: tgid }, 0x22),
            Node::PidFile(task, f) => pid_ino(task, 0x30 + f as u64),
            Node::Exe(task) => pid_ino(task, 0x40),
        }
    }
}

/// Whether `path` (absolute) is in /proc.
pub fn contains(path: &str) -> bool {
    path.strip_prefix(ROOT).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The task with `tid` if it may be shown: alive, or a zombie process not
/// yet reaped (Linux keeps /proc/<pid> until the parent reaps it; an
/// exited thread goes at once).
fn task(tid: u32) -> Option<&'static Process> {
    process::get(tid).filter(|t| t.state.get() != State::Zombie || t.is_leader())
}

/// The task's name (prctl PR_SET_NAME, or the program's file name cut to
/// 15 bytes), without its NUL padding.
fn comm(task: &Process) -> alloc::vec::Vec<u8> {
    let comm = task.comm.get();
    let n = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
    comm[..n].to_vec()
}

/// The caller, as /proc/self and /proc/thread-self see it.
fn current_task() -> TaskId {
    let p = process::current();
    TaskId { tgid: p.tgid, tid: p.pid.0 }
}

fn parse_pid(name: &str) -> Option<u32> {
    if name.is_empty() || name.starts_with('0') || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

/// The entry `name` of directory `dir`.
fn child(dir: Node, name: &str) -> Result<Node, Errno> {
    let found = match dir {
        Node::Root => match name {
            "cpuinfo" => Some(Node::Cpuinfo),
            "meminfo" => Some(Node::Meminfo),
            "self" => Some(Node::SelfLink),
            "thread-self" => Some(Node::ThreadSelfLink),
            "sys" => Some(Node::SysDir),
            // /proc/<tid> of a thread works too, though readdir does not
            // list it (Linux's proc_pid_lookup).
            _ => parse_pid(name)
                .and_then(task)
                .map(|t| Node::PidDir { task: TaskId { tgid: t.tgid, tid: t.pid.0 }, in_task: false }),
        },
        Node::SysDir => (name == "vm").then_some(Node::SysVmDir),
        Node::SysVmDir => sysctl::Sysctl::named(name).map(Node::Sysctl),
        Node::TaskDir(tgid) => parse_pid(name)
            .and_then(task)
            .filter(|t| t.tgid == tgid)
            .map(|t| Node::PidDir { task: TaskId { tgid, tid: t.pid.0 }, in_task: true }),
        Node::PidDir { task, in_task } => match name {
            "task" if !in_task => Some(Node::TaskDir(task.tgid)),
            "exe" => Some(Node::Exe(task)),
            _ => PID_FILES.iter().find(|(n, _)| *n == name).map(|(_, f)| Node::PidFile(task, *f)),
        },
        _ => return Err(Errno::ENOTDIR),
    };
    found.ok_or(Errno::ENOENT)
}

/// The files of a pid directory, in Linux's (alphabetical) order.
const PID_FILES: [(&str, PidFile); 7] = [
    ("cmdline", PidFile::Cmdline),
    ("comm", PidFile::Comm),
    ("maps", PidFile::Maps),
    ("pagemap", PidFile::Pagemap),
    ("smaps", PidFile::Smaps),
    ("stat", PidFile::Stat),
    ("status", PidFile::Status),
];

/// Where a followed link leads: a node of the tree, or a path elsewhere
/// (/proc/<pid>/exe: the program's file).
enum Target {
    Node(Node),
    Path(String),
}

fn follow(link: Node) -> Result<Target, Errno> {
    Ok(match link {
        Node::SelfLink => {
            let me = current_task();
            Target::Node(Node::PidDir { task: TaskId { tgid: me.tgid, tid: me.tgid }, in_task: false })
        }
        Node::ThreadSelfLink => Target::Node(Node::PidDir { task: current_task(), in_task: true }),
        // A zombie's memory, and with it the program's file, is gone
        // (Linux's proc_exe_link: get_task_exe_file finds no mm): ENOENT.
        Node::Exe(t) => {
            Target::Path(task(t.tid).filter(|t| maps::live_space(t).is_some()).ok_or(Errno::ENOENT)?.name.borrow().clone())
        }
        other => Target::Node(other),
    })
}

/// What a path names: with `follow_last`, a link in the last component is
/// followed (open, stat); without (readlink, lstat), the link itself.
/// Links in the middle are always followed. A path leading out of /proc
/// (exe) is ENOENT: this kernel opens no file by path outside /dev/shm.
/// A trailing '/' asks for a directory, following a link in the last
/// component (Linux's link_path_walk: LOOKUP_FOLLOW | LOOKUP_DIRECTORY):
/// ENOTDIR for a file, or for exe (the program is a file).
pub fn lookup(path: &str, follow_last: bool) -> Result<Node, Errno> {
    let rest = path.strip_prefix(ROOT).ok_or(Errno::ENOENT)?;
    let directory = rest.ends_with('/');
    let follow_last = follow_last || directory;
    let mut parts: Vec<&str> = Vec::new();
    for part in rest.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut node = Node::Root;
    let last = parts.len();
    for (i, name) in parts.into_iter().enumerate() {
        node = child(node, name)?;
        if node.is_link() && (i + 1 < last || follow_last) {
            node = match follow(node)? {
                Target::Node(n) => n,
                Target::Path(_) if directory && i + 1 == last => return Err(Errno::ENOTDIR),
                Target::Path(_) => return Err(Errno::ENOENT),
            };
        }
    }
    if directory && !node.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(node)
}

/// The path of a directory node, for openat and the others relative to a
/// /proc directory descriptor; ENOTDIR for a file.
pub fn dir_path(node: Node) -> Result<String, Errno> {
    Ok(match node {
        Node::Root => String::from(ROOT),
        Node::SysDir => alloc::format!("{}/sys", ROOT),
        Node::SysVmDir => alloc::format!("{}/sys/vm", ROOT),
        Node::PidDir { task, in_task: false } => alloc::format!("{}/{}", ROOT, task.tid),
        Node::PidDir { task, in_task: true } => alloc::format!("{}/{}/task/{}", ROOT, task.tgid, task.tid),
        Node::TaskDir(tgid) => alloc::format!("{}/{}/task", ROOT, tgid),
        _ => return Err(Errno::ENOTDIR),
    })
}

/// readlink of a /proc path: the link's text (EINVAL if not a link).
pub fn readlink(path: &str) -> Result<String, Errno> {
    let node = lookup(path, false)?;
    match node {
        Node::SelfLink => Ok(alloc::format!("{}", current_task().tgid)),
        Node::ThreadSelfLink => {
            let me = current_task();
            Ok(alloc::format!("{}/task/{}", me.tgid, me.tid))
        }
        Node::Exe(_) => match follow(node)? {
            Target::Path(p) => Ok(p),
            Target::Node(_) => Err(Errno::EINVAL),
        },
        _ => Err(Errno::EINVAL),
    }
}

/// What stat says of a node: procfs's modes (0444 files, 0555
/// directories, 0777 links), size 0, blocks of 1024 bytes.
pub fn stat_of(node: Node) -> Stat {
    let mut st = Stat::zeroed();
    st.st_ino = node.ino();
    st.st_blksize = 1024;
    if node.is_dir() {
        st.st_mode = S_IFDIR | 0o555;
        st.st_nlink = 2;
    } else if node.is_link() {
        st.st_mode = S_IFLNK | 0o777;
        st.st_nlink = 1;
    } else {
        // comm is the one file its owner may write (Linux's 0644).
        let mode = if matches!(node, Node::PidFile(_, PidFile::Comm)) { 0o644 } else { 0o444 };
        st.st_mode = S_IFREG | mode;
        st.st_nlink = 1;
    }
    st
}

/// Writes the contents of a file node.
fn generate(node: Node, out: &mut Text) -> Result<(), Errno> {
    match node {
        Node::Cpuinfo => cpuinfo::show(out),
        Node::Meminfo => meminfo::show(out),
        Node::Sysctl(s) => s.show(out),
        // A reaped task: ESRCH, as Linux's get_proc_task() fails (a zombie
        // still reads, its maps empty).
        Node::PidFile(t, f) => {
            let task = task(t.tid).ok_or(Errno::ESRCH)?;
            match f {
                PidFile::Cmdline => cmdline::show_cmdline(task, out),
                PidFile::Comm => cmdline::show_comm(task, out),
                PidFile::Maps => maps::show(task, out),
                PidFile::Smaps => smaps::show(task, out),
                PidFile::Stat => stat::show(task, out),
                PidFile::Status => status::show(task, out),
                // Binary, read at an offset: ProcFile::read_at.
                PidFile::Pagemap => Err(Errno::EINVAL),
            }
        }
        _ => Err(Errno::EISDIR),
    }
}

/// An open /proc file or directory: the node, and the text kept from the
/// last read at offset 0.
pub struct ProcFile {
    pub node: Node,
    kept: SpinLock<Option<Text>>,
}

/// Opens a /proc path, O_DIRECTORY only on directories. Programs run as
/// root here, and root may open any of these files for writing (Linux's
/// CAP_DAC_OVERRIDE passes their 0444 mode); what a write then does is
/// [`ProcFile::write`]'s. The two sysctl files are the exception: Linux lets
/// root change them, this kernel's limits are constants, so a write open is
/// EACCES (docs/procfs.md lists the difference).
pub fn open(path: &str, writable: bool, directory: bool) -> Result<Arc<ProcFile>, Errno> {
    let node = lookup(path, true)?;
    if directory && !node.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if writable {
        match node {
            _ if node.is_dir() => return Err(Errno::EISDIR),
            Node::Sysctl(_) => return Err(Errno::EACCES),
            _ => {}
        }
    }
    Ok(Arc::new(ProcFile { node, kept: SpinLock::new(Rank::ProcfsText, None) }))
}

/// O_CREAT on a /proc path, before it is opened (Linux's lookup_open and
/// do_open, for root): a name that exists is EEXIST with O_EXCL (a link
/// not followed) and a directory EISDIR without; a new name in an existing
/// directory is EACCES (procfs's directories have no create operation);
/// a missing or non-directory parent is its lookup's error.
pub fn check_create(path: &str, exclusive: bool) -> Result<(), Errno> {
    match lookup(path, false) {
        Ok(_) if exclusive => Err(Errno::EEXIST),
        Ok(_) => match lookup(path, true) {
            Ok(node) if node.is_dir() => Err(Errno::EISDIR),
            _ => Ok(()),
        },
        Err(Errno::ENOENT) => {
            let trimmed = path.trim_end_matches('/');
            let parent = trimmed.rsplit_once('/').map_or(ROOT, |(dir, _)| dir);
            if !lookup(parent, true)?.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            Err(Errno::EACCES)
        }
        Err(e) => Err(e),
    }
}

impl ProcFile {
    /// write/pwrite of `len` bytes from `buf`, as Linux 6.1 answers root:
    /// /proc/<pid>/comm renames the task (comm_write: the first 15 bytes,
    /// the whole count reported written) if it is of the writer's thread
    /// group, else EINVAL (root too: same_thread_group); cpuinfo and meminfo have no write
    /// operation behind their proc_ops (pde_write: EIO); the other
    /// per-process files have none in their file_operations (vfs_write
    /// without FMODE_CAN_WRITE: EINVAL).
    pub fn write(&self, buf: UserAddr, len: u64) -> Result<u64, Errno> {
        match self.node {
            Node::PidFile(t, PidFile::Comm) => {
                let mut name = [0u8; 16];
                let n = (len as usize).min(name.len() - 1);
                copy_from_user(&mut name[..n], buf)?;
                let task = task(t.tid).ok_or(Errno::ESRCH)?;
                if task.tgid != process::current().tgid {
                    return Err(Errno::EINVAL);
                }
                task.comm.set(name);
                Ok(len)
            }
            Node::Cpuinfo | Node::Meminfo => Err(Errno::EIO),
            _ => Err(Errno::EINVAL),
        }
    }

    /// read/pread at `offset`: seq_file's rules (see the top of this file).
    /// A fault part-way gives the bytes copied so far, EFAULT if none.
    pub fn read_at(&self, offset: u64, buf: UserAddr, len: u64) -> Result<u64, Errno> {
        if self.node.is_dir() {
            return Err(Errno::EISDIR);
        }
        if let Node::PidFile(t, PidFile::Pagemap) = self.node {
            return pagemap::read_at(task(t.tid).ok_or(Errno::ESRCH)?, offset, buf, len);
        }
        let mut kept = self.kept.lock();
        // Offset 0 always generates afresh; later offsets are served from
        // the kept text while it holds them.
        let serve_kept = offset > 0 && kept.as_ref().is_some_and(|t| t.whole() || t.holds(offset));
        if !serve_kept {
            let resume = match kept.as_ref() {
                Some(t) if offset > 0 => t.mark().filter(|&(at, _)| at <= offset),
                _ => None,
            };
            let mut text = Text::new(offset, resume);
            generate(self.node, &mut text)?;
            *kept = Some(text);
        }
        let text = kept.as_ref().expect("generated above");
        let kept_bytes = text.kept();
        let Some(at) = offset.checked_sub(text.from()).filter(|&at| at <= kept_bytes.len() as u64) else {
            return Ok(0);
        };
        let end = (at + len.min(WINDOW as u64)).min(kept_bytes.len() as u64);
        let mut done = at;
        for chunk in kept_bytes[at as usize..end as usize].chunks(4096) {
            if let Err(e) = copy_to_user(buf.offset(done - at), chunk) {
                return if done > at { Ok(done - at) } else { Err(e) };
            }
            done += chunk.len() as u64;
        }
        Ok(done - at)
    }

    /// The entries of a directory node, "." and ".." first.
    fn entries(&self) -> Result<Vec<(String, Node)>, Errno> {
        let dir = self.node;
        // A name and a node per task at most: refuse before the heap reserve.
        if !crate::mm::heap::can_spare(process::count() * 64 + 1024) {
            return Err(Errno::ENOMEM);
        }
        let mut v: Vec<(String, Node)> = alloc::vec![(".".into(), dir), ("..".into(), Node::Root)];
        let named = |v: &mut Vec<(String, Node)>, name: &str| {
            if let Ok(n) = child(dir, name) {
                v.push((name.into(), n));
            }
        };
        match dir {
            Node::Root => {
                for name in ["cpuinfo", "meminfo", "self", "sys", "thread-self"] {
                    named(&mut v, name);
                }
                let pids: Vec<u32> = process::tasks().filter(|t| t.is_leader()).map(|t| t.pid.0).collect();
                for pid in pids {
                    named(&mut v, &alloc::format!("{}", pid));
                }
            }
            Node::SysDir => named(&mut v, "vm"),
            Node::SysVmDir => sysctl::Sysctl::ALL.iter().for_each(|s| named(&mut v, s.name())),
            Node::PidDir { in_task, .. } => {
                let names = PID_FILES.iter().map(|(n, _)| *n).chain(["exe"]).chain((!in_task).then_some("task"));
                let mut names: Vec<&str> = names.collect();
                names.sort_unstable();
                names.into_iter().for_each(|n| named(&mut v, n));
            }
            Node::TaskDir(tgid) => {
                let tids: Vec<u32> = process::thread_group(tgid).map(|t| t.pid.0).collect();
                for tid in tids {
                    named(&mut v, &alloc::format!("{}", tid));
                }
            }
            _ => return Err(Errno::ENOTDIR),
        }
        Ok(v)
    }

    /// getdents64 from entry `*pos` on into `buf` (`len` bytes): Linux's
    /// struct linux_dirent64 records, 8-byte aligned, d_off the index of
    /// the next entry. EINVAL if not even one record fits.
    pub fn getdents(&self, pos: &mut u64, buf: UserAddr, len: usize) -> Result<u64, Errno> {
        let entries = self.entries()?;
        let mut written = 0usize;
        for (i, (name, node)) in entries.iter().enumerate().skip(*pos as usize) {
            let reclen = (19 + name.len() + 1).next_multiple_of(8);
            if written + reclen > len {
                if written == 0 {
                    return Err(Errno::EINVAL);
                }
                break;
            }
            let mut rec = alloc::vec![0u8; reclen];
            rec[0..8].copy_from_slice(&node.ino().to_le_bytes());
            rec[8..16].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            rec[16..18].copy_from_slice(&(reclen as u16).to_le_bytes());
            rec[18] = node.dtype();
            rec[19..19 + name.len()].copy_from_slice(name.as_bytes());
            copy_to_user(buf.offset(written as u64), &rec)?;
            written += reclen;
            *pos = i as u64 + 1;
        }
        Ok(written as u64)
    }
}

/// Sizes in kB, as Linux prints them: "<label><value, width 8> kB".
/// Written in three pieces (smaps writes 21 of these per area: `{:>8}`
/// wrote its padding a character at a time).
pub fn kb(out: &mut Text, label: &str, kib: u64) {
    out.bytes(label.as_bytes());
    out.number(kib, 8);
    out.bytes(b" kB\n");
}
