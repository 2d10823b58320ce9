//! From `DEST=SRC` arguments to the list of archive entries: each file
//! preceded by the directories above it, so the kernel can create every
//! path as it unpacks in order.

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;

use crate::newc::{Entry, S_IFDIR, S_IFREG};

/// Permission bits of every entry: programs are executable, directories
/// searchable.
const PERMISSIONS: u32 = 0o755;

/// One `DEST=SRC` argument.
#[derive(Debug, PartialEq, Eq)]
pub struct Spec {
    /// Path inside the archive, e.g. `tests/hello`.
    pub dest: String,
    /// File on the host.
    pub src: PathBuf,
}

#[derive(Debug, PartialEq, Eq)]
pub enum SpecError {
    NoEquals(String),
    BadDest(String),
    Duplicate(String),
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::NoEquals(arg) => write!(f, "{arg:?} is not DEST=SRC"),
            SpecError::BadDest(dest) => {
                write!(f, "{dest:?} is not a path inside the archive (empty, or with an empty, '.' or '..' component)")
            }
            SpecError::Duplicate(dest) => write!(f, "{dest:?} is given twice"),
        }
    }
}

impl Spec {
    /// Parses `DEST=SRC`; a leading `/` on DEST is dropped (archive paths
    /// are relative to the root they unpack into).
    pub fn parse(arg: &str) -> Result<Spec, SpecError> {
        let (dest, src) = arg.split_once('=').ok_or_else(|| SpecError::NoEquals(arg.into()))?;
        let dest = dest.trim_start_matches('/');
        let valid = !dest.is_empty() && dest.split('/').all(|c| !c.is_empty() && c != "." && c != "..");
        if !valid || src.is_empty() {
            return Err(SpecError::BadDest(dest.into()));
        }
        Ok(Spec { dest: dest.into(), src: PathBuf::from(src) })
    }
}

/// The entries for `files` (destination and contents), in argument order,
/// each directory (mode 040755) emitted once just before the first file
/// under it, files with mode 0100755. Inode numbers count from 1.
pub fn entries(files: Vec<(String, Vec<u8>)>) -> Result<Vec<Entry>, SpecError> {
    let mut out = Vec::new();
    let mut dirs = HashSet::new();
    let mut names = HashSet::new();
    let mut next_ino = 1;
    let mut ino = || {
        let n = next_ino;
        next_ino += 1;
        n
    };
    for (dest, data) in files {
        if !names.insert(dest.clone()) || dirs.contains(&dest) {
            return Err(SpecError::Duplicate(dest));
        }
        for (i, _) in dest.match_indices('/') {
            let dir = &dest[..i];
            if names.contains(dir) {
                return Err(SpecError::Duplicate(dir.into()));
            }
            if dirs.insert(dir.to_string()) {
                out.push(Entry { ino: ino(), mode: S_IFDIR | PERMISSIONS, nlink: 2, name: dir.into(), data: vec![] });
            }
        }
        out.push(Entry { ino: ino(), mode: S_IFREG | PERMISSIONS, nlink: 1, name: dest, data });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(entries: &[Entry]) -> Vec<(&str, u32, u32)> {
        entries.iter().map(|e| (e.name.as_str(), e.mode, e.ino)).collect()
    }

    #[test]
    fn spec_splits_at_the_first_equals_and_drops_a_leading_slash() {
        assert_eq!(Spec::parse("/tests/a=build/x=y"), Ok(Spec { dest: "tests/a".into(), src: "build/x=y".into() }));
    }

    #[test]
    fn spec_rejects_paths_that_leave_the_archive_root() {
        for arg in ["noequals", "=src", "a/../b=src", "a//b=src", "./a=src", "a/=src", "a="] {
            assert!(Spec::parse(arg).is_err(), "{arg} was accepted");
        }
    }

    #[test]
    fn parent_directories_come_first_once_each_with_mode_040755() {
        let files = vec![
            ("tests/hello".to_string(), vec![1]),
            ("tests/bye".to_string(), vec![2]),
            ("a/b/c".to_string(), vec![3]),
            ("top".to_string(), vec![4]),
        ];
        assert_eq!(
            names(&entries(files).unwrap()),
            [
                ("tests", 0o040755, 1),
                ("tests/hello", 0o100755, 2),
                ("tests/bye", 0o100755, 3),
                ("a", 0o040755, 4),
                ("a/b", 0o040755, 5),
                ("a/b/c", 0o100755, 6),
                ("top", 0o100755, 7),
            ]
        );
    }

    #[test]
    fn a_destination_given_twice_or_used_as_a_directory_is_an_error() {
        let twice = vec![("x".to_string(), vec![]), ("x".to_string(), vec![])];
        assert_eq!(entries(twice), Err(SpecError::Duplicate("x".into())));
        let file_then_dir = vec![("x".to_string(), vec![]), ("x/y".to_string(), vec![])];
        assert_eq!(entries(file_then_dir), Err(SpecError::Duplicate("x".into())));
        let dir_then_file = vec![("x/y".to_string(), vec![]), ("x".to_string(), vec![])];
        assert_eq!(entries(dir_then_file), Err(SpecError::Duplicate("x".into())));
    }
}
