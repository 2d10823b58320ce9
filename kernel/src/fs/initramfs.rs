//! The initramfs: a "newc" cpio archive (QEMU's `-initrd`, found through the
//! device tree's /chosen linux,initrd-start/end), read in place.
//!
//! Format (Linux Documentation/driver-api/early-userspace/buffer-format.rst):
//! each entry is a 110-byte ASCII header (magic `070701`, thirteen 8-digit
//! hex fields), the NUL-terminated name, padding to 4 bytes, the data,
//! padding to 4 bytes; the entry named `TRAILER!!!` ends the archive.
//! Every field is checked: a malformed archive gives an error naming the entry
//! and the offset, never a panic. Pure logic, tested on the host, and
//! fuzzed there (initramfs_fuzz.rs).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

const HEADER_LEN: usize = 110;
const MAGIC: &[u8; 6] = b"070701";
const TRAILER: &str = "TRAILER!!!";

/// File type bits of `c_mode` (S_IFMT and friends).
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;

/// One file or directory of the archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Path without a leading `/` (as cpio stores it), e.g. `tests/hello`.
    pub path: &'a str,
    pub mode: u32,
    pub data: &'a [u8],
}

impl Entry<'_> {
    pub fn is_file(&self) -> bool {
        self.mode & S_IFMT == S_IFREG
    }
    pub fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }
}

/// Why an archive was rejected: what, in which entry, at which offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpioError {
    pub offset: usize,
    /// The entry's name when it could be read, else its index.
    pub entry: String,
    pub reason: &'static str,
}

impl fmt::Display for CpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The name comes from the archive: escaped, so that a newline in it
        // cannot end the log line early or forge the next one.
        write!(f, "initramfs entry {} at offset {:#x}: {}", self.entry.escape_debug(), self.offset, self.reason)
    }
}

/// A parsed archive: entries borrowed from the blob.
#[derive(Debug, Default)]
pub struct Initramfs<'a> {
    entries: Vec<Entry<'a>>,
}

fn align4(n: usize) -> Option<usize> {
    n.checked_add(3).map(|n| n & !3)
}

fn hex_field(header: &[u8], index: usize) -> Option<u32> {
    let field = header.get(6 + index * 8..6 + (index + 1) * 8)?;
    let text = core::str::from_utf8(field).ok()?;
    u32::from_str_radix(text, 16).ok()
}

impl<'a> Initramfs<'a> {
    pub fn parse(blob: &'a [u8]) -> Result<Self, CpioError> {
        let mut entries = Vec::new();
        let mut offset = 0;
        loop {
            let index = entries.len();
            let err = |offset, entry: &str, reason| CpioError { offset, entry: entry.into(), reason };
            let unnamed = alloc::format!("#{}", index);
            // The last entry's padding may be cut off too: then the archive
            // ends before `offset`, and that end is where the error is.
            let header = blob
                .get(offset..offset + HEADER_LEN)
                .ok_or_else(|| err(offset.min(blob.len()), &unnamed, "archive ends inside a header (no TRAILER!!!)"))?;
            if &header[..6] != MAGIC {
                return Err(err(offset, &unnamed, "bad magic (want newc \"070701\")"));
            }
            // Fields: ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
            // devminor, rdevmajor, rdevminor, namesize, check.
            let field = |i| hex_field(header, i).ok_or_else(|| err(offset, &unnamed, "header field is not hex"));
            let mode = field(1)?;
            let filesize = field(6)? as usize;
            let namesize = field(11)? as usize;
            if namesize == 0 {
                return Err(err(offset, &unnamed, "empty name"));
            }
            let name_start = offset + HEADER_LEN;
            let name_bytes = blob
                .get(name_start..name_start + namesize)
                .ok_or_else(|| err(offset, &unnamed, "name runs past the end"))?;
            let (last, name_bytes) = name_bytes.split_last().expect("namesize > 0");
            if *last != 0 {
                return Err(err(offset, &unnamed, "name is not NUL-terminated"));
            }
            let name = core::str::from_utf8(name_bytes).map_err(|_| err(offset, &unnamed, "name is not UTF-8"))?;
            if name == TRAILER {
                return Ok(Self { entries });
            }
            let data_start = align4(name_start + namesize).ok_or_else(|| err(offset, name, "size overflow"))?;
            let data_end = data_start.checked_add(filesize).ok_or_else(|| err(offset, name, "size overflow"))?;
            let data = blob.get(data_start..data_end).ok_or_else(|| err(offset, name, "data runs past the end"))?;
            let path = name.trim_start_matches("./").trim_start_matches('/');
            if !path.is_empty() && path != "." {
                entries.push(Entry { path, mode, data });
            }
            offset = align4(data_end).ok_or_else(|| err(offset, name, "size overflow"))?;
        }
    }

    /// The regular file at `path` (with or without a leading `/`).
    pub fn file(&self, path: &str) -> Option<&Entry<'a>> {
        let path = path.trim_start_matches('/');
        self.entries.iter().find(|e| e.path == path && e.is_file())
    }

    /// Whether `path` is a directory (listed, or implied by a file below it).
    pub fn is_dir(&self, path: &str) -> bool {
        let path = path.trim_matches('/');
        self.entries.iter().any(|e| {
            (e.path == path && e.is_dir()) || e.path.strip_prefix(path).is_some_and(|rest| rest.starts_with('/'))
        })
    }

    /// Regular files directly inside directory `dir`, sorted by name.
    pub fn files_in(&self, dir: &str) -> Vec<&Entry<'a>> {
        let dir = dir.trim_matches('/');
        let mut files: Vec<_> = self
            .entries
            .iter()
            .filter(|e| e.is_file())
            .filter(|e| e.path.strip_prefix(dir).and_then(|r| r.strip_prefix('/')).is_some_and(|r| !r.contains('/')))
            .collect();
        files.sort_by_key(|e| e.path);
        files
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;

    /// Writes a newc archive the way Linux's gen_init_cpio does.
    pub(crate) fn archive(entries: &[(&str, u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut push = |name: &str, mode: u32, data: &[u8]| {
            let header = std::format!(
                "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
                1,
                mode,
                0,
                0,
                1,
                0,
                data.len(),
                0,
                0,
                0,
                0,
                name.len() + 1,
                0
            );
            out.extend_from_slice(header.as_bytes());
            out.extend_from_slice(name.as_bytes());
            out.push(0);
            while out.len() % 4 != 0 {
                out.push(0);
            }
            out.extend_from_slice(data);
            while out.len() % 4 != 0 {
                out.push(0);
            }
        };
        for (name, mode, data) in entries {
            push(name, *mode, data);
        }
        push(TRAILER, 0, b"");
        out
    }

    #[test]
    fn files_are_found_by_path_and_listed_by_directory() {
        let blob = archive(&[
            ("tests", 0o040755, b""),
            ("tests/b", 0o100755, b"BB"),
            ("tests/a", 0o100755, b"A"),
            ("tests/sub/c", 0o100755, b"CCC"),
            ("demo/tour", 0o100755, b"T"),
        ]);
        let fs = Initramfs::parse(&blob).unwrap();
        assert_eq!(fs.file("/tests/b").unwrap().data, b"BB");
        assert_eq!(fs.file("tests/sub/c").unwrap().data, b"CCC");
        assert!(fs.file("tests").is_none(), "a directory is not a file");
        let names: Vec<_> = fs.files_in("/tests").iter().map(|e| e.path).collect();
        assert_eq!(names, ["tests/a", "tests/b"]);
        assert!(fs.is_dir("/tests") && fs.is_dir("demo") && !fs.is_dir("tests/a"));
    }

    #[test]
    fn missing_trailer_is_an_error_with_offset() {
        let mut blob = archive(&[("x", 0o100644, b"1234")]);
        blob.truncate(blob.len() - 120);
        let e = Initramfs::parse(&blob).unwrap_err();
        assert_eq!(e.reason, "archive ends inside a header (no TRAILER!!!)");
        assert_eq!(e.offset, 116);
    }

    #[test]
    fn bad_magic_names_the_entry_index() {
        let mut blob = archive(&[("x", 0o100644, b"1234"), ("y", 0o100644, b"")]);
        blob[116] = b'9';
        let e = Initramfs::parse(&blob).unwrap_err();
        assert_eq!((e.entry.as_str(), e.offset, e.reason), ("#1", 116, "bad magic (want newc \"070701\")"));
    }

    #[test]
    fn sizes_past_the_end_are_rejected() {
        let mut blob = archive(&[("big", 0o100644, b"12")]);
        blob[6 + 6 * 8..6 + 7 * 8].copy_from_slice(b"7fffffff");
        let e = Initramfs::parse(&blob).unwrap_err();
        assert_eq!((e.entry.as_str(), e.reason), ("big", "data runs past the end"));
        let mut blob = archive(&[("x", 0o100644, b"")]);
        blob[15] = b'g'; // inside c_mode
        assert_eq!(Initramfs::parse(&blob).unwrap_err().reason, "header field is not hex");
    }

    #[test]
    fn error_offset_lies_inside_the_archive_when_padding_is_cut_off() {
        // Found by the fuzzer (initramfs_fuzz.rs): the offset named the
        // next header's place, past the end of the archive.
        let blob = archive(&[("x", 0o100644, b"1")]);
        let cut = &blob[..110 + 4 + 1]; // header, "x\0" padded to 4, one data byte
        let e = Initramfs::parse(cut).unwrap_err();
        assert_eq!((e.offset, e.reason), (cut.len(), "archive ends inside a header (no TRAILER!!!)"));
    }

    #[test]
    fn entry_name_in_an_error_stays_on_one_line() {
        // Found by the fuzzer: a name holding a newline was printed as is.
        let mut blob = archive(&[("a\nPASS /tests/x", 0o100644, b"12")]);
        blob[6 + 6 * 8..6 + 7 * 8].copy_from_slice(b"00001000"); // data past the end
        let line = Initramfs::parse(&blob).unwrap_err().to_string();
        assert_eq!(line, "initramfs entry a\\nPASS /tests/x at offset 0x0: data runs past the end");
    }

    #[test]
    fn truncated_archives_never_panic() {
        let blob = archive(&[("tests/a", 0o100755, b"abcdefgh"), ("tests/b", 0o100755, b"ij")]);
        // Everything short of the trailer's name is incomplete; only the
        // trailer's final padding may be missing.
        for len in 0..blob.len() - 3 {
            assert!(Initramfs::parse(&blob[..len]).is_err(), "a {}-byte prefix parsed", len);
        }
        let mut flipped = blob.clone();
        for i in 0..flipped.len() {
            flipped[i] ^= 0xff;
            let _ = Initramfs::parse(&flipped);
            flipped[i] ^= 0xff;
        }
    }
}
