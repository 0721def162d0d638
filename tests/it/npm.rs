//! Node.js packages the tests drive (the jco host, client libraries): each
//! package directory is installed once per test binary with `npm ci` from
//! its committed lockfile, so `cargo test` works on a fresh machine.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

static INSTALLED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// A directory under the repository root, e.g. `tests/hosts/node`.
pub fn package_dir(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Runs `npm ci` in `dir` unless its `node_modules` is already current
/// (npm writes `node_modules/.package-lock.json` on every install).
pub fn install(dir: &Path) {
    let mut done = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    let done = done.get_or_insert_with(HashSet::new);
    if done.contains(dir) {
        return;
    }
    require_node();
    let lock = dir.join("package-lock.json");
    let stamp = dir.join("node_modules/.package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let current = matches!((modified(&lock), modified(&stamp)), (Some(l), Some(s)) if s >= l);
    if !current {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir)
            .status()
            .unwrap_or_else(|e| panic!("running npm ci in {}: {e}", dir.display()));
        assert!(status.success(), "npm ci failed in {}", dir.display());
    }
    done.insert(dir.to_path_buf());
}

/// Node.js 20 or newer, or a panic that says how to install it.
fn require_node() {
    let version = Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let major = version
        .as_deref()
        .and_then(|v| v.trim_start_matches('v').split('.').next())
        .and_then(|m| m.parse::<u32>().ok());
    assert!(
        major.is_some_and(|m| m >= 20),
        "these tests need Node.js >= 20 and npm (found {version:?}); install them with \
         `apt-get install -y nodejs npm`"
    );
}
