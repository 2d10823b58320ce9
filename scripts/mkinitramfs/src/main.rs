//! mkinitramfs: packs host files into a newc cpio archive for the kernel's
//! initramfs, so building one needs no `cpio` program.
//!
//! ```text
//! mkinitramfs OUTPUT.cpio DEST=SRC [DEST=SRC ...]
//! mkinitramfs --list ARCHIVE.cpio
//! ```
//!
//! DEST is the path inside the archive (`tests/hello`), SRC a host file.
//! The output depends only on the arguments and the files' contents: mtime,
//! uid and gid are 0 and inode numbers count from 1. `--list` prints each
//! entry of an archive (mode, size, name), checking its format on the way.

mod archive;
mod newc;

use std::process::ExitCode;
use std::{env, fs};

use archive::Spec;

const USAGE: &str = "usage: mkinitramfs OUTPUT.cpio DEST=SRC [DEST=SRC ...]\n       mkinitramfs --list ARCHIVE.cpio";

fn list(path: &str) -> Result<(), String> {
    let bytes = fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let entries = newc::parse_archive(&bytes).map_err(|e| format!("{path}: {e}"))?;
    for e in entries {
        println!("{:06o} {:>9} {}", e.mode, e.data.len(), e.name);
    }
    Ok(())
}

fn run(args: &[String]) -> Result<(), String> {
    if let [flag, archive] = args {
        if flag == "--list" {
            return list(archive);
        }
    }
    let [output, specs @ ..] = args else {
        return Err(USAGE.into());
    };
    if specs.is_empty() || output.contains('=') {
        return Err(USAGE.into());
    }
    let mut files = Vec::new();
    for arg in specs {
        let spec = Spec::parse(arg).map_err(|e| e.to_string())?;
        let data = fs::read(&spec.src).map_err(|e| format!("{}: {e}", spec.src.display()))?;
        files.push((spec.dest, data));
    }
    let entries = archive::entries(files).map_err(|e| e.to_string())?;
    let bytes = newc::write_archive(&entries);
    fs::write(output, bytes).map_err(|e| format!("{output}: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mkinitramfs: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_files_from_the_host_and_reads_back_the_same_bytes() {
        let dir = env::temp_dir().join(format!("mkinitramfs-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let (a, b, out) = (dir.join("a"), dir.join("b"), dir.join("out.cpio"));
        fs::write(&a, b"first program").unwrap();
        fs::write(&b, b"second").unwrap();
        let args = [out.display().to_string(), format!("tests/a={}", a.display()), format!("/demo/b={}", b.display())];
        run(&args).unwrap();
        let archive = fs::read(&out).unwrap();
        list(&args[0]).expect("--list reads what was written");
        fs::remove_dir_all(&dir).unwrap();

        let entries = newc::parse_archive(&archive).unwrap();
        let summary: Vec<_> = entries.iter().map(|e| (e.name.as_str(), e.mode, e.ino, e.data.as_slice())).collect();
        assert_eq!(
            summary,
            [
                ("tests", 0o040755, 1, &b""[..]),
                ("tests/a", 0o100755, 2, &b"first program"[..]),
                ("demo", 0o040755, 3, &b""[..]),
                ("demo/b", 0o100755, 4, &b"second"[..]),
            ]
        );
    }

    #[test]
    fn same_inputs_give_byte_identical_archives() {
        let files = || vec![("tests/x".to_string(), b"abc".to_vec())];
        let one = newc::write_archive(&archive::entries(files()).unwrap());
        let two = newc::write_archive(&archive::entries(files()).unwrap());
        assert_eq!(one, two);
    }

    #[test]
    fn a_missing_source_or_no_files_is_an_error_not_an_empty_archive() {
        assert!(run(&["out.cpio".into()]).is_err());
        assert!(run(&[]).is_err());
        let err = run(&["/nonexistent/out.cpio".into(), "x=/nonexistent/src".into()]).unwrap_err();
        assert!(err.starts_with("/nonexistent/src: "), "{err}");
    }
}
