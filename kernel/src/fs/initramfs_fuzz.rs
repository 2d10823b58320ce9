//! Fuzzing the initramfs reader ([`Initramfs::parse`]) with mutated archives.
//!
//! Seeds: archives from the test writer in initramfs.rs (files, a
//! directory, an empty file, names that need padding) and one packed by
//! mkinitramfs as `make test` packs programs (tests/fixtures/minimal.cpio).
//! Mutations: the byte-level ones of crate::fuzz, and, for a third of the
//! cases, one of an entry's thirteen 8-digit hex fields rewritten with an
//! edge value (0, 0x7fffffff, 0xffffffff, the archive's length and its
//! neighbours) or with text that is not quite hex.
//!
//! Properties: parsing never panics; a refusal names an offset inside the
//! archive and gives a one-line reason; an accepted archive's entries are
//! borrowed from the archive, with the paths the lookups expect, and every
//! lookup works on them.

extern crate std;

use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use super::initramfs::tests::archive;
use super::initramfs::Initramfs;
use crate::fuzz::{mutate, Campaign, XorShift};

const HEADER_LEN: usize = 110;

fn seeds() -> [Vec<u8>; 3] {
    [
        archive(&[("tests", 0o040755, b""), ("tests/a", 0o100755, b"abcdefgh"), ("tests/b--exit1", 0o100755, b"ij")]),
        archive(&[("./x", 0o100644, b""), ("/abs/y", 0o100644, b"12345"), (".", 0o040755, b"")]),
        include_bytes!("../../../tests/fixtures/minimal.cpio").to_vec(),
    ]
}

/// Rewrites one hex field of one entry's header: the structured mutation.
fn poke_header_field(rng: &mut XorShift, blob: &mut [u8]) {
    let headers: Vec<usize> = blob.windows(6).enumerate().filter(|(_, w)| w == b"070701").map(|(i, _)| i).collect();
    if headers.is_empty() {
        return;
    }
    let at = headers[rng.below(headers.len())] + 6 + rng.below(13) * 8;
    let len = blob.len() as u32;
    let text = match rng.below(4) {
        0 => String::from(["+0000001", "-0000001", " 0000001", "0000000g", "0x000001", "FFFFFFFF"][rng.below(6)]),
        _ => {
            let values = [
                0,
                1,
                2,
                0x7fff_ffff,
                0xffff_ffff,
                0xffff_fff0,
                len,
                len.wrapping_sub(HEADER_LEN as u32),
                len + 1,
                len - 1,
                rng.next() as u32,
            ];
            format!("{:08x}", values[rng.below(values.len())])
        }
    };
    if let Some(field) = blob.get_mut(at..at + 8) {
        field.copy_from_slice(text.as_bytes());
    }
}

/// Checks the properties; returns the outcome's kind for the tally.
fn check(blob: &[u8]) -> String {
    match Initramfs::parse(blob) {
        Err(e) => {
            assert!(
                e.offset <= blob.len(),
                "error offset {:#x} is past the {}-byte archive: {}",
                e.offset,
                blob.len(),
                e
            );
            let line = e.to_string();
            assert!(!line.contains('\n') && !e.reason.is_empty(), "refusal is not a one-line reason: {:?}", line);
            e.reason.to_string()
        }
        Ok(fs) => {
            let range = blob.as_ptr_range();
            let mut seen = 0;
            for dir in ["", "tests", "demo", "abs", "/"] {
                for entry in fs.files_in(dir) {
                    seen += 1;
                    let data = entry.data.as_ptr_range();
                    assert!(
                        range.start <= data.start && data.end <= range.end,
                        "{}'s data is not inside the archive",
                        entry.path
                    );
                    assert!(
                        !entry.path.is_empty() && !entry.path.starts_with('/'),
                        "path {:?} is not relative",
                        entry.path
                    );
                    let found = fs.file(&format!("/{}", entry.path)).map(|e| e.path);
                    assert_eq!(found, Some(entry.path), "a listed file is not found by its path");
                    let _ = fs.is_dir(entry.path);
                }
            }
            assert!(seen <= fs.len(), "listed {} files of {} entries", seen, fs.len());
            "accepted".into()
        }
    }
}

#[test]
fn seeds_are_accepted() {
    for (i, seed) in seeds().iter().enumerate() {
        assert_eq!(check(seed), "accepted", "seed {}", i);
    }
}

#[test]
fn fuzz_cpio_mutated_archives_are_read_safely_or_refused_with_a_reason() {
    let seeds = seeds();
    Campaign::from_env("fuzz_cpio").run(|rng, input| {
        input.clone_from(&seeds[rng.below(seeds.len())]);
        for _ in 0..1 + rng.below(3) {
            if rng.chance(3) {
                poke_header_field(rng, input);
            } else {
                let donor = &seeds[rng.below(seeds.len())];
                mutate(rng, input, 0..HEADER_LEN, donor);
            }
        }
        check(input)
    });
}
