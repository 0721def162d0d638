//! The schema cache at scale: a throwaway cluster with 1,000 tables
//! (`benches/schema_cache/wide_schema.sql`: keys, foreign keys, views,
//! functions, comments), and
//! - `schema_cache/introspection`: the introspection statements, run by the
//!   host's pool as a (re)load runs them;
//! - `schema_cache/load/native` and `schema_cache/load/component`: loading
//!   their results into the translator crate, and into a fresh component
//!   instance under wasmtime (instantiation included: what a reload pays);
//! - `schema_cache/total`: both, as the host loads a schema generation;
//! - `schema_cache/startup`: the real binary, from spawn to its first served
//!   request, with the precompiled component cached;
//! - `schema_cache/notify`: from `NOTIFY pgrst, 'reload schema'` to serving
//!   a table created just before it, on an in-process server.
//!
//! cargo bench --bench schema_cache   (WIDE_TABLES=… changes the 1,000)

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use pgrest_host::component::{Compiled, Generation};
use pgrest_host::db::Db;
use pgrest_host::settings::{self, ResolvedConfig};
use pgrest_throwaway_pg::Cluster;
use pgrest_translator::engine::Engine;

const PGREST: &str = env!("CARGO_BIN_EXE_pgrest-host");

/// The cluster with the wide schema, and the configuration to serve it.
struct Fixture {
    cluster: Cluster,
    env: Vec<(String, String)>,
    runtime: tokio::runtime::Runtime,
    compiled: Arc<Compiled>,
    resolved: ResolvedConfig,
    db: Db,
}

impl Fixture {
    fn start() -> Fixture {
        let tables: u32 = std::env::var("WIDE_TABLES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        let cluster = Cluster::start().expect("throwaway cluster");
        let started = Instant::now();
        cluster
            .psql_exec(&format!(
                "SET wide.tables = '{tables}';\n{}",
                include_str!("schema_cache/wide_schema.sql")
            ))
            .expect("wide schema created");
        eprintln!("{tables} tables created in {:?}", started.elapsed());
        let env: Vec<(String, String)> = [
            ("PGRST_DB_URI", cluster.conninfo("postgres", "postgres")),
            ("PGRST_DB_SCHEMAS", "api".into()),
            ("PGRST_DB_ANON_ROLE", "postgres".into()),
            ("PGRST_SERVER_HOST", "127.0.0.1".into()),
            ("PGRST_LOG_LEVEL", "crit".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let compiled = Compiled::new().expect("component");
        let resolved = settings::resolve_config(&compiled, None, &env, &[]).expect("config");
        let (pg_config, tls) = resolved.host.pg_config(&env).expect("pg config");
        let db = runtime.block_on(async {
            Db::new(pg_config, &tls, 2, Duration::from_secs(10), true).expect("pool")
        });
        Fixture {
            cluster,
            env,
            runtime,
            compiled,
            resolved,
            db,
        }
    }

    /// The introspection results, as the host reads them.
    fn introspect(&self) -> Vec<String> {
        self.runtime.block_on(async {
            let version = self.db.server_version_num().await.expect("version");
            let statements = self
                .compiled
                .introspection(&self.resolved.config, version)
                .expect("no trap")
                .expect("statements");
            self.db
                .read_texts(&statements)
                .await
                .expect("introspection")
        })
    }

    fn load_component(&self, texts: Vec<String>) -> Generation {
        Generation::new(self.compiled.clone(), self.resolved.clone(), texts)
            .expect("component loads the schema cache")
    }
}

fn schema_cache(c: &mut Criterion) {
    let fixture = Fixture::start();
    let texts = fixture.introspect();
    let bytes: usize = texts.iter().map(String::len).sum();
    eprintln!("introspection results: {bytes} bytes of JSON");
    // Both load the same cache, or the comparison means nothing.
    let native = Engine::load(&fixture.resolved.config, &texts).expect("native load");
    let component = fixture
        .load_component(texts.clone())
        .with_instance(|i| i.dump_schema())
        .expect("dump");
    assert_eq!(native.dump_schema(), component);
    assert!(component.contains("\"t0001\""));

    let mut group = c.benchmark_group("schema_cache");
    // Each iteration takes up to a second: ten of them per bench.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("introspection", |b| b.iter(|| fixture.introspect()));
    group.bench_function("load/native", |b| {
        b.iter(|| Engine::load(&fixture.resolved.config, &texts).expect("native load"))
    });
    group.bench_function("load/component", |b| {
        b.iter(|| fixture.load_component(texts.clone()))
    });
    group.bench_function("total", |b| {
        b.iter(|| fixture.load_component(fixture.introspect()))
    });
    group.bench_function("startup", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| startup(&fixture)).sum())
    });
    notify(&mut group, &fixture);
    group.finish();
}

/// Spawns the real binary on a free port and returns the time until it
/// served `GET /t0001` (the precompiled component is cached by the first
/// run, which is the warm-up's).
fn startup(fixture: &Fixture) -> Duration {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut cmd = Command::new(PGREST);
    for (k, _) in std::env::vars() {
        if k.starts_with("PGRST_") || k.starts_with("PG") {
            cmd.env_remove(k);
        }
    }
    let started = Instant::now();
    let mut child = cmd
        .envs(fixture.env.iter().cloned())
        .env("PGRST_SERVER_PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pgrest-host starts");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = started + Duration::from_secs(60);
    while get_status(addr, "/t0001?select=id&limit=1") != Some(200) {
        assert!(Instant::now() < deadline, "pgrest-host did not start");
        std::thread::sleep(Duration::from_millis(2));
    }
    let took = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    took
}

/// The status of a plain HTTP/1.1 GET, or None if nothing answers yet.
fn get_status(addr: std::net::SocketAddr, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    reply.get(9..12)?.parse().ok()
}

/// From `NOTIFY` to the first 200 for a table created just before it, on a
/// server running in this process (its listener on `db-channel`).
fn notify(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    fixture: &Fixture,
) {
    let running = fixture.runtime.block_on(async {
        let mut env = fixture.env.clone();
        env.push(("PGRST_SERVER_PORT".into(), "0".into()));
        env.push(("PGRST_ADMIN_SERVER_PORT".into(), "0".into()));
        pgrest_host::start(env).await.expect("server")
    });
    // Ready once the listener holds its connection: no NOTIFY is missed.
    let admin = running.admin_addr.expect("admin server");
    let deadline = Instant::now() + Duration::from_secs(30);
    while get_status(admin, "/ready") != Some(200) {
        assert!(Instant::now() < deadline, "the listener never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let (client, connection) = fixture
        .runtime
        .block_on(tokio_postgres::connect(
            &fixture.cluster.conninfo("postgres", "postgres"),
            tokio_postgres::NoTls,
        ))
        .expect("superuser connection");
    fixture.runtime.spawn(connection);
    let mut round = 0;
    group.bench_function("notify", |b| {
        b.iter_custom(|iters| {
            fixture.runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    round += 1;
                    let table = format!("fresh_{round}");
                    client
                        .batch_execute(&format!("CREATE TABLE api.{table} (id int)"))
                        .await
                        .expect("migration");
                    let started = Instant::now();
                    client
                        .batch_execute("NOTIFY pgrst, 'reload schema'")
                        .await
                        .expect("notify");
                    let addr = running.addr;
                    let path = format!("/{table}");
                    while tokio::task::spawn_blocking({
                        let path = path.clone();
                        move || get_status(addr, &path)
                    })
                    .await
                    .expect("poll")
                        != Some(200)
                    {
                        assert!(started.elapsed() < Duration::from_secs(60), "never served");
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    total += started.elapsed();
                    // Dropped unannounced: the next reload forgets it.
                    client
                        .batch_execute(&format!("DROP TABLE api.{table}"))
                        .await
                        .expect("drop");
                }
                total
            })
        })
    });
    fixture.runtime.block_on(running.shutdown());
}

criterion_group!(benches, schema_cache);
criterion_main!(benches);
