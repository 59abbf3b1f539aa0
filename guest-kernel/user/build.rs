//! Links the programs as Linux links static executables: at 0x400000.

fn main() {
    println!("cargo:rustc-link-arg-bins=--image-base=0x400000");
    println!("cargo:rustc-link-arg-bins=-z");
    println!("cargo:rustc-link-arg-bins=noexecstack");
    println!("cargo:rerun-if-changed=build.rs");
}
