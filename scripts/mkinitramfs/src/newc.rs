//! The "newc" cpio format, the one Linux unpacks as an initramfs
//! (Documentation/driver-api/early-userspace/buffer-format.rst, and
//! usr/gen_init_cpio.c, which this follows):
//!
//! ```text
//! header  110 bytes: "070701" then 13 fields of 8 ASCII hex digits
//!         (ino mode uid gid nlink mtime filesize devmajor devminor
//!          rdevmajor rdevminor namesize check)
//! name    namesize bytes, NUL included, then NULs to a multiple of 4
//!         (counted from the start of the header)
//! data    filesize bytes, then NULs to a multiple of 4
//! ```
//!
//! The archive ends with an entry named `TRAILER!!!`.

use std::fmt;

pub const MAGIC: &[u8; 6] = b"070701";
pub const HEADER_LEN: usize = 110;
pub const TRAILER: &str = "TRAILER!!!";

/// File-type bits of `mode` (S_IFDIR, S_IFREG from sys/stat.h).
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;

/// One archive member. uid, gid, mtime and device numbers are always 0:
/// the archive is the same whoever builds it, whenever.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub ino: u32,
    /// File type and permission bits, e.g. `S_IFREG | 0o755`.
    pub mode: u32,
    pub nlink: u32,
    /// Path inside the archive, without a leading `/`.
    pub name: String,
    pub data: Vec<u8>,
}

/// Why bytes are not a well-formed newc archive.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    Truncated { offset: usize },
    BadMagic { offset: usize },
    BadField { offset: usize, field: &'static str },
    BadName { offset: usize },
    NoTrailer,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Truncated { offset } => {
                write!(f, "archive ends inside the entry at {offset}")
            }
            ParseError::BadMagic { offset } => write!(f, "no 070701 magic at offset {offset}"),
            ParseError::BadField { offset, field } => {
                write!(f, "field {field} of the header at {offset} is not 8 hex digits")
            }
            ParseError::BadName { offset } => write!(f, "name of the entry at {offset} is not NUL-terminated UTF-8"),
            ParseError::NoTrailer => write!(f, "archive has no {TRAILER} entry"),
        }
    }
}

/// Header field names, in order after the magic.
const FIELDS: [&str; 13] = [
    "ino",
    "mode",
    "uid",
    "gid",
    "nlink",
    "mtime",
    "filesize",
    "devmajor",
    "devminor",
    "rdevmajor",
    "rdevminor",
    "namesize",
    "check",
];

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn align4(n: usize) -> usize {
    n.next_multiple_of(4)
}

fn write_entry(out: &mut Vec<u8>, ino: u32, mode: u32, nlink: u32, name: &str, data: &[u8]) {
    // Entries start 4-byte aligned, so padding the output to a multiple of
    // 4 pads relative to the header, as the format requires.
    debug_assert!(out.len().is_multiple_of(4));
    let namesize = name.len() + 1;
    let fields: [u32; 13] = [ino, mode, 0, 0, nlink, 0, data.len() as u32, 0, 0, 0, 0, namesize as u32, 0];
    out.extend_from_slice(MAGIC);
    for value in fields {
        out.extend_from_slice(format!("{value:08X}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

/// The archive holding `entries` in order, then the trailer.
pub fn write_archive(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        write_entry(&mut out, e.ino, e.mode, e.nlink, &e.name, &e.data);
    }
    write_entry(&mut out, 0, 0, 1, TRAILER, &[]);
    out
}

fn hex_field(bytes: &[u8], offset: usize, index: usize) -> Result<u32, ParseError> {
    let start = offset + MAGIC.len() + 8 * index;
    let text = &bytes[start..start + 8];
    let bad = ParseError::BadField { offset, field: FIELDS[index] };
    let text = std::str::from_utf8(text).map_err(|_| bad)?;
    u32::from_str_radix(text, 16).map_err(|_| ParseError::BadField { offset, field: FIELDS[index] })
}

/// Reads back an archive: its entries up to, not including, the trailer.
/// Fields this tool always writes as 0 are not returned.
pub fn parse_archive(bytes: &[u8]) -> Result<Vec<Entry>, ParseError> {
    let mut entries = Vec::new();
    let mut offset = 0;
    loop {
        if bytes.len() < offset + HEADER_LEN {
            return Err(if offset >= bytes.len() { ParseError::NoTrailer } else { ParseError::Truncated { offset } });
        }
        if &bytes[offset..offset + MAGIC.len()] != MAGIC {
            return Err(ParseError::BadMagic { offset });
        }
        let field = |i| hex_field(bytes, offset, i);
        let (ino, mode, nlink) = (field(0)?, field(1)?, field(4)?);
        let filesize = field(6)? as usize;
        let namesize = field(11)? as usize;

        let name_start = offset + HEADER_LEN;
        let data_start = align4(name_start + namesize);
        let end = align4(data_start + filesize);
        if bytes.len() < end || namesize == 0 {
            return Err(ParseError::Truncated { offset });
        }
        let name = match bytes[name_start..name_start + namesize].split_last() {
            Some((0, name)) => std::str::from_utf8(name).map_err(|_| ParseError::BadName { offset })?,
            _ => return Err(ParseError::BadName { offset }),
        };
        if name == TRAILER {
            return Ok(entries);
        }
        let data = bytes[data_start..data_start + filesize].to_vec();
        entries.push(Entry { ino, mode, nlink, name: name.to_string(), data });
        offset = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(ino: u32, name: &str, data: &[u8]) -> Entry {
        Entry { ino, mode: S_IFREG | 0o755, nlink: 1, name: name.into(), data: data.to_vec() }
    }

    #[test]
    fn header_is_magic_then_thirteen_uppercase_hex_fields() {
        let archive = write_archive(&[file(1, "ab", b"xyz")]);
        let header = std::str::from_utf8(&archive[..HEADER_LEN]).unwrap();
        assert_eq!(
            header,
            concat!(
                "070701", "00000001", "000081ED", "00000000", "00000000", "00000001", "00000000", "00000003",
                "00000000", "00000000", "00000000", "00000000", "00000003", "00000000"
            )
        );
    }

    #[test]
    fn name_and_data_are_padded_to_four_bytes_from_the_header_start() {
        // 110 + "ab\0" = 113 -> name padded to 116; 3 data bytes -> 120.
        let archive = write_archive(&[file(1, "ab", b"xyz")]);
        assert_eq!(&archive[110..116], b"ab\0\0\0\0");
        assert_eq!(&archive[116..120], b"xyz\0");
        assert_eq!(&archive[120..126], MAGIC, "the trailer starts right after");
    }

    #[test]
    fn every_entry_starts_on_a_four_byte_boundary() {
        let names = ["a", "bb", "ccc", "dddd", "eeeee"];
        let entries: Vec<Entry> = names.iter().enumerate().map(|(i, n)| file(i as u32 + 1, n, &vec![7; i])).collect();
        let archive = write_archive(&entries);
        assert_eq!(archive.len() % 4, 0);
        let mut starts = Vec::new();
        let mut i = 0;
        while let Some(pos) = archive[i..].windows(6).position(|w| w == MAGIC) {
            starts.push(i + pos);
            i += pos + 6;
        }
        assert_eq!(starts.len(), names.len() + 1);
        assert!(starts.iter().all(|s| s % 4 == 0), "entry offsets {starts:?}");
    }

    #[test]
    fn archive_ends_with_the_trailer_entry() {
        let archive = write_archive(&[]);
        assert_eq!(&archive[..6], MAGIC);
        assert_eq!(&archive[HEADER_LEN..HEADER_LEN + 11], b"TRAILER!!!\0");
        // namesize field (index 11) counts the NUL.
        assert_eq!(&archive[6 + 8 * 11..6 + 8 * 12], b"0000000B");
        assert_eq!(archive.len(), align4(HEADER_LEN + 11));
    }

    #[test]
    fn parse_reads_back_what_write_wrote() {
        let entries = vec![
            Entry { ino: 1, mode: S_IFDIR | 0o755, nlink: 2, name: "tests".into(), data: vec![] },
            file(2, "tests/hello", b"\x7fELF and more"),
            file(3, "tests/empty", b""),
        ];
        assert_eq!(parse_archive(&write_archive(&entries)), Ok(entries));
    }

    #[test]
    fn parse_rejects_a_truncated_archive() {
        let archive = write_archive(&[file(1, "x", b"data")]);
        assert_eq!(parse_archive(&archive[..50]), Err(ParseError::Truncated { offset: 0 }));
        let without_trailer = &archive[..align4(align4(HEADER_LEN + 2) + 4)];
        assert_eq!(parse_archive(without_trailer), Err(ParseError::NoTrailer));
    }

    #[test]
    fn parse_rejects_a_wrong_magic() {
        let mut archive = write_archive(&[]);
        archive[5] = b'2';
        assert_eq!(parse_archive(&archive), Err(ParseError::BadMagic { offset: 0 }));
    }
}
