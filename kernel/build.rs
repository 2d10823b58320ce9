//! Links the kernel with the top-level linker script.
fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let target = std::env::var("TARGET").unwrap();
    println!("cargo:rerun-if-changed={manifest}/../linker.ld");
    println!("cargo:rerun-if-changed={manifest}/../boot/start.S");
    println!("cargo:rerun-if-changed={manifest}/src/arch/aarch64/vectors.S");
    if target.starts_with("aarch64") && target.contains("-none") {
        println!("cargo:rustc-link-arg-bins=-T{manifest}/../linker.ld");
    }
}
