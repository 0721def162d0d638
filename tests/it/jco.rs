//! The translator component transpiled by jco for the Node host
//! (tests/hosts/node): once per test binary, into a directory keyed by what
//! the output depends on, so later runs reuse it.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::npm;

static TRANSPILED: OnceLock<PathBuf> = OnceLock::new();

/// The Node host's package directory, its dependencies installed.
pub fn host_dir() -> PathBuf {
    let dir = npm::package_dir("tests/hosts/node");
    npm::install(&dir);
    dir
}

/// The directory holding `translator.js`: the very component pgrest-host
/// embeds (`pgrest_host::component::COMPONENT_PATH`), as an ES module.
pub fn transpiled() -> &'static Path {
    TRANSPILED.get_or_init(|| {
        let host = host_dir();
        let wasm = pgrest_host::component::COMPONENT_PATH;
        let mut hasher = DefaultHasher::new();
        for input in [
            Path::new(wasm),
            &host.join("package-lock.json"),
            &host.join("transpile.mjs"),
        ] {
            std::fs::read(input)
                .unwrap_or_else(|e| panic!("reading {}: {e}", input.display()))
                .hash(&mut hasher);
        }
        let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("jco-translator-{:016x}", hasher.finish()));
        if !out.join("translator.js").exists() {
            // Transpile next to it, then rename: a concurrent run never sees
            // half a directory.
            let tmp = out.with_extension(format!("tmp{}", std::process::id()));
            let status = Command::new("node")
                .arg("transpile.mjs")
                .arg(wasm)
                .arg(&tmp)
                .current_dir(&host)
                .status()
                .expect("running node transpile.mjs");
            assert!(status.success(), "jco transpile failed");
            if std::fs::rename(&tmp, &out).is_err() {
                // Another run got there first.
                let _ = std::fs::remove_dir_all(&tmp);
            }
        }
        out
    })
}
