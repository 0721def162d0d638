//! The first-run experience: `pgrest-host` with no database configured
//! starts a throwaway PostgreSQL with a demo schema, prints example requests
//! that work, and removes the cluster on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::config::Spawned;
use crate::harness::{client, send};

/// The URL and `-H` headers of a printed `curl '<url>' -H '<header>'` line.
fn parse_curl(line: &str) -> (String, Vec<(String, String)>) {
    let quoted: Vec<&str> = line.split('\'').skip(1).step_by(2).collect();
    let url = quoted.first().expect("a quoted URL").to_string();
    let headers = quoted[1..]
        .iter()
        .map(|h| {
            let (name, value) = h.split_once(':').expect("Name: value");
            (name.trim().to_string(), value.trim().to_string())
        })
        .collect();
    (url, headers)
}

#[tokio::test]
async fn demo_mode_serves_its_examples_and_cleans_up() {
    let mut child = Spawned::start(
        Command::new(env!("CARGO_BIN_EXE_pgrest-host"))
            .env_clear()
            .envs(std::env::vars().filter(|(k, _)| {
                matches!(
                    k.as_str(),
                    "PATH" | "HOME" | "XDG_CACHE_HOME" | "PG_BIN_DIR"
                )
            }))
            .env("PGRST_SERVER_PORT", "0")
            .env("PGRST_SERVER_HOST", "127.0.0.1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit()),
    );
    let pid = Pid::from_raw(child.id() as i32);
    let stdout = child.stdout.take().expect("stdout");
    let lines = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("stdout line");
            let done = line.contains("authors?or=");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    });
    let lines = tokio::time::timeout(Duration::from_secs(60), lines)
        .await
        .expect("demo output within a minute")
        .expect("reader thread");
    let dir = lines
        .iter()
        .find_map(|l| l.strip_prefix("Demo database in "))
        .and_then(|rest| rest.split(" (removed on exit)").next())
        .unwrap_or_else(|| panic!("no demo line in {lines:?}"))
        .to_string();
    assert!(std::path::Path::new(&dir).is_dir(), "{dir}");

    let curls: Vec<&String> = lines
        .iter()
        .filter(|l| l.trim_start().starts_with("curl "))
        .collect();
    assert_eq!(curls.len(), 4, "{lines:?}");
    let mut bodies = Vec::new();
    for line in curls {
        let (url, headers) = parse_curl(line);
        let mut req = client().get(&url);
        for (name, value) in &headers {
            req = req.header(name, value);
        }
        let r = send(req).await;
        assert!(
            matches!(r.status, 200 | 206),
            "{line}: {} {}",
            r.status,
            r.text
        );
        bodies.push(r);
    }
    assert_eq!(
        bodies[0].body[0],
        serde_json::json!({"title": "Parable of the Sower", "year": 1993})
    );
    assert_eq!(bodies[1].header("content-range"), Some("0-1/3"));
    assert_eq!(
        bodies[3].text,
        "id,name,born\n2,\"Italo Calvino\",1923\n3,\"Octavia E. Butler\",1947"
    );
    assert_eq!(
        bodies[2].body[0],
        serde_json::json!({"name": "Ursula K. Le Guin", "books": [
            {"title": "A Wizard of Earthsea", "year": 1968},
            {"title": "The Dispossessed", "year": 1974}]})
    );

    kill(pid, Signal::SIGTERM).expect("SIGTERM");
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("waiter")
        .expect("exit status");
    assert!(status.success(), "{status}");
    assert!(!std::path::Path::new(&dir).exists(), "{dir} left behind");
}
