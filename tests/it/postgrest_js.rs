//! The real `@supabase/postgrest-js` client against the shared server: the
//! `node:test` suite in `tests/clients/postgrest-js` (one file per feature),
//! installed from its lockfile and run with `node --test`; `explain()` runs
//! against the server with `db-plan-enabled` of tests/it/explain.rs.

use std::process::Command;

use crate::{harness, npm};

#[test]
fn postgrest_js_suite_passes() {
    let dir = npm::package_dir("tests/clients/postgrest-js");
    npm::install(&dir);
    let server = harness::shared();
    let out = Command::new("node")
        .args(["--test", "--test-reporter=spec"])
        .current_dir(&dir)
        .env("PGREST_URL", format!("http://{}", server.addr))
        .env("PGREST_SCHEMA", "test")
        .env(
            "PGREST_PLAN_URL",
            format!("http://{}", crate::explain::server().addr),
        )
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("running node --test in {}: {e}", dir.display()));
    assert!(
        out.status.success(),
        "postgrest-js suite failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
