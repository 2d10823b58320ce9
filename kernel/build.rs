//! Links the kernel with the top-level linker script, and builds the vDSO
//! (kernel/vdso/) that the kernel embeds with include_bytes!.
use std::path::Path;
use std::process::Command;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let target = std::env::var("TARGET").unwrap();
    println!("cargo:rerun-if-changed={manifest}/../linker.ld");
    println!("cargo:rerun-if-changed={manifest}/../boot/start.S");
    println!("cargo:rerun-if-changed={manifest}/src/arch/aarch64/vectors.S");
    if target.starts_with("aarch64") && target.contains("-none") {
        println!("cargo:rustc-link-arg-bins=-T{manifest}/../linker.ld");
    }
    build_vdso(Path::new(&manifest).join("vdso").as_path(), Path::new(&std::env::var("OUT_DIR").unwrap()));
}

/// Runs `cmd`, failing the build with its command line if it fails.
fn run(cmd: &mut Command) {
    let status = cmd.status().unwrap_or_else(|e| panic!("cannot run {:?}: {} (scripts/setup.sh installs it)", cmd, e));
    assert!(status.success(), "{:?} failed: {}", cmd, status);
}

/// The vDSO as Linux 6.1 builds arch/arm64/kernel/vdso/: position-independent
/// C and assembly with no libc, linked by vdso.lds into a shared object with
/// one PT_LOAD, sysv hash, the LINUX_2.6.39 version, then stripped
/// (vdso.so.dbg keeps the symbols for a debugger).
fn build_vdso(src: &Path, out: &Path) {
    let cc = std::env::var("VDSO_CC").unwrap_or_else(|_| "aarch64-linux-gnu-gcc".into());
    let objcopy = std::env::var("VDSO_OBJCOPY").unwrap_or_else(|_| "aarch64-linux-gnu-objcopy".into());
    for f in ["vgettimeofday.c", "sigreturn.S", "vdso.lds"] {
        println!("cargo:rerun-if-changed={}", src.join(f).display());
    }
    println!("cargo:rerun-if-env-changed=VDSO_CC");
    println!("cargo:rerun-if-env-changed=VDSO_OBJCOPY");
    // Linux's vdso Makefile: no common symbols, builtins, stack protector or
    // x18; -mcmodel=tiny for PC-relative reach of the data page; the
    // general registers only (the caller's FP/SIMD state is not saved);
    // BTI landing pads at the entry points; unwind tables for debuggers.
    let cflags = [
        "-O2",
        "-Wall",
        "-Werror",
        "-fPIC",
        "-fno-common",
        "-fno-builtin",
        "-fno-stack-protector",
        "-ffixed-x18",
        "-ffreestanding",
        "-nostdlib",
        "-mgeneral-regs-only",
        "-mcmodel=tiny",
        "-mbranch-protection=bti",
        "-fasynchronous-unwind-tables",
    ];
    let mut objects = Vec::new();
    for f in ["vgettimeofday.c", "sigreturn.S"] {
        let obj = out.join(format!("{f}.o"));
        run(Command::new(&cc).args(cflags).arg("-c").arg(src.join(f)).arg("-o").arg(&obj));
        objects.push(obj);
    }
    let dbg = out.join("vdso.so.dbg");
    run(Command::new(&cc)
        .args(["-nostdlib", "-shared", "-Wl,-soname=linux-vdso.so.1", "-Wl,--hash-style=sysv", "-Wl,-Bsymbolic"])
        .args(["-Wl,--build-id=sha1", "-Wl,-n", "-Wl,--eh-frame-hdr", "-Wl,--no-undefined"])
        .arg(format!("-Wl,-T,{}", src.join("vdso.lds").display()))
        .args(&objects)
        .arg("-o")
        .arg(&dbg));
    run(Command::new(&objcopy).arg("-S").arg(&dbg).arg(out.join("vdso.so")));
}
