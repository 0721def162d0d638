//! Builds the translator component (translator/component) for wasm32-wasip2 and
//! copies it to OUT_DIR, where host/src/component.rs embeds it.
//!
//! The nested cargo runs in release into a fixed target dir (target/component)
//! with the outer cargo's variables removed, so clippy wrappers, outer
//! RUSTFLAGS or an outer --target never leak into the wasm build. The jobserver
//! (CARGO_MAKEFLAGS) is kept so both builds share the same cores.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-wasip2";

fn main() {
    let root =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    for watched in ["translator", "wit", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    let target_dir = root.join("target").join("component");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root.join("translator").join("component"))
        .args([
            "build",
            "--release",
            "--target",
            WASM_TARGET,
            "--target-dir",
        ])
        .arg(&target_dir);
    for var in [
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        // cargo-fuzz's: the component would be rebuilt for nothing.
        "RUSTC_BOOTSTRAP",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| fail(&format!("could not run cargo: {e}")));
    if !status.success() {
        fail(&format!(
            "building the translator component failed ({status}). If the output above says the \
             target is missing, install it with: rustup target add {WASM_TARGET}"
        ));
    }

    let built = target_dir
        .join(WASM_TARGET)
        .join("release")
        .join("pgrest_translator_component.wasm");
    let out =
        PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("translator.wasm");
    copy(&built, &out);
    // Other hosts' tests (jco/Node) load the very same bytes from this path.
    println!("cargo:rustc-env=PGREST_TRANSLATOR_WASM={}", out.display());
}

fn copy(from: &Path, to: &Path) {
    if let Err(e) = std::fs::copy(from, to) {
        fail(&format!(
            "copying {} to {}: {e}",
            from.display(),
            to.display()
        ));
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1);
}
