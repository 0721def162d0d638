//! Running in production: schema and config reloads (NOTIFY and signals)
//! without a restart, and the admin server's health checks and metrics.

use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use pgrest_throwaway_pg::Cluster;
use serde_json::json;

use crate::config::{Spawned, binary, lines_of, next_line, temp_file};
use crate::harness::{Reply, Server, client, own_cluster_env, send};

/// Polls `url` (up to 30 s) until `done` holds for its reply.
async fn until(url: &str, done: impl Fn(&Reply) -> bool) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = send(client().get(url)).await;
        if done(&reply) {
            return reply;
        }
        assert!(
            Instant::now() < deadline,
            "{url}: {} {}",
            reply.status,
            reply.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A superuser connection to a test's own cluster.
async fn superuser_of(cluster: &Cluster) -> tokio_postgres::Client {
    let (db, conn) = tokio_postgres::connect(
        &cluster.conninfo("postgres", "postgres"),
        tokio_postgres::NoTls,
    )
    .await
    .expect("superuser connection");
    tokio::spawn(conn);
    db
}

#[tokio::test]
async fn notify_reloads_the_schema_cache() {
    let cluster = Cluster::start().expect("own cluster");
    let server = Server::start(own_cluster_env(
        &cluster,
        &[
            ("PGRST_DB_CHANNEL", "my channel"),
            ("PGRST_ADMIN_SERVER_PORT", "0"),
        ],
    ));
    let url = server.url("/fresh");
    assert_eq!(send(client().get(&url)).await.status, 404);
    // A notification sent before the listener holds its connection is lost.
    let ready = format!("http://{}/ready", server.admin_addr.expect("admin server"));
    until(&ready, |r| r.status == 200).await;
    // A migration, then the notification on the configured channel.
    cluster
        .psql_exec(
            "CREATE TABLE public.fresh (id int); INSERT INTO public.fresh VALUES (7);\
             NOTIFY \"my channel\", 'reload schema';",
        )
        .expect("migration");
    let r = until(&url, |r| r.status == 200).await;
    assert_eq!(r.body, json!([{"id": 7}]));
}

/// The real binary with a config file: `NOTIFY pgrst, 'reload config'` and
/// SIGUSR2 re-read it, SIGUSR1 reloads the schema cache, `--ready` probes
/// it, and SIGTERM stops it after the request in flight.
#[tokio::test]
async fn the_binary_reloads_on_notify_and_signals() {
    let cluster = Cluster::start().expect("own cluster");
    cluster
        .psql_exec(
            "CREATE TABLE public.t AS SELECT generate_series(1, 5) AS id;\
             CREATE VIEW public.slow AS SELECT 1 AS done FROM pg_sleep(1);",
        )
        .expect("schema");
    let dir = tempfile::tempdir().unwrap();
    let admin_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    // The JWT secret changes with the first reload.
    let config = |max_rows: u32| {
        let secret = if max_rows == 1 {
            crate::auth::SECRET
        } else {
            "a-different-secret-of-32-characters"
        };
        format!(
            "db-uri = \"{}\"\ndb-schemas = \"public\"\ndb-anon-role = \"postgres\"\n\
             server-host = \"127.0.0.1\"\nserver-port = 0\ndb-max-rows = {max_rows}\n\
             admin-server-port = {admin_port}\njwt-secret = \"{secret}\"\n",
            cluster
                .conninfo("postgres", "postgres")
                .replace('"', "\\\"")
        )
    };
    let file = temp_file(&dir, "pgrest.conf", &config(1));
    let mut child = Spawned::start(
        binary(&[file.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit()),
    );
    let pid = Pid::from_raw(child.id() as i32);
    let lines = lines_of(&mut child);
    let listening = next_line(&lines, |l| l.starts_with("pgrest listening on "));
    let base = listening.trim_start_matches("pgrest listening on ");
    let rows = format!("{base}/t?order=id");
    assert_eq!(send(client().get(&rows)).await.body, json!([{"id": 1}]));
    let token = format!("Bearer {}", crate::auth::hs256(json!({"role": "postgres"})));
    let with_token = || send(client().get(&rows).header("Authorization", &token));
    assert_eq!(with_token().await.status, 200);
    // A notification sent before the listener holds its connection is lost.
    until(&format!("http://127.0.0.1:{admin_port}/ready"), |r| {
        r.status == 200
    })
    .await;

    std::fs::write(&file, config(2)).unwrap();
    cluster
        .psql_exec("NOTIFY pgrst, 'reload config';")
        .expect("notify");
    until(&rows, |r| r.body == json!([{"id": 1}, {"id": 2}])).await;
    // The token was cached as valid under the old secret: no longer.
    let r = with_token().await;
    assert_eq!((r.status, r.body["code"].as_str()), (401, Some("PGRST301")));

    std::fs::write(&file, config(3)).unwrap();
    kill(pid, Signal::SIGUSR2).expect("SIGUSR2 sent");
    until(&rows, |r| r.body.as_array().is_some_and(|a| a.len() == 3)).await;

    cluster
        .psql_exec("CREATE TABLE public.later (id int);")
        .expect("migration");
    kill(pid, Signal::SIGUSR1).expect("SIGUSR1 sent");
    until(&format!("{base}/later"), |r| r.status == 200).await;

    let probe = || {
        binary(&["--ready", file.to_str().unwrap()])
            .output()
            .expect("pgrest-host --ready runs")
    };
    let ready = probe();
    assert!(ready.status.success(), "{ready:?}");
    assert_eq!(
        String::from_utf8_lossy(&ready.stdout),
        format!("OK: http://127.0.0.1:{admin_port}/ready\n")
    );

    // SIGTERM while a request is in flight: it still gets its answer.
    let in_flight = tokio::spawn(send(client().get(format!("{base}/slow"))));
    tokio::time::sleep(Duration::from_millis(300)).await;
    kill(pid, Signal::SIGTERM).expect("SIGTERM sent");
    let r = in_flight.await.expect("the request task");
    assert_eq!((r.status, r.body), (200, json!([{"done": 1}])));
    let status = child.wait().expect("pgrest-host exits");
    assert!(status.success(), "{status}");
    assert_eq!(probe().status.code(), Some(1));
}

#[tokio::test]
async fn the_admin_server_reports_health_schema_and_metrics() {
    let mut cluster = Cluster::start().expect("own cluster");
    cluster
        .psql_exec("CREATE TABLE public.t (id int);")
        .expect("schema");
    let server = Server::start(own_cluster_env(
        &cluster,
        &[("PGRST_ADMIN_SERVER_PORT", "0")],
    ));
    let admin = |path: &str| format!("http://{}{path}", server.admin_addr.expect("admin server"));

    let live = send(client().get(admin("/live"))).await;
    assert_eq!((live.status, live.text.as_str()), (200, ""));
    // Ready once the listener holds its connection.
    until(&admin("/ready"), |r| r.status == 200).await;
    assert_eq!(send(client().get(admin("/nope"))).await.status, 404);
    let schema = send(client().get(admin("/schema_cache"))).await;
    assert_eq!(schema.status, 200);
    assert!(schema.text.contains("\"t\""), "{}", schema.text);
    let metrics = send(client().get(admin("/metrics"))).await;
    assert_eq!(metrics.status, 200);
    for line in [
        "# TYPE pgrst_schema_cache_loads_total counter",
        "pgrst_schema_cache_loads_total{status=\"SUCCESS\"} 1",
        "pgrst_db_pool_max 10",
        "pgrst_db_pool_timeouts_total 0",
    ] {
        assert!(
            metrics.text.lines().any(|l| l == line),
            "{line} in {}",
            metrics.text
        );
    }

    // The database goes away: the listener notices without any request, and
    // /ready says so until the database is back and the cache reloaded.
    cluster.stop();
    until(&admin("/ready"), |r| r.status == 503).await;
    assert_eq!(send(client().get(admin("/live"))).await.status, 200);
    cluster.restart().expect("restart");
    until(&admin("/ready"), |r| r.status == 200).await;
    let metrics = send(client().get(admin("/metrics"))).await;
    assert!(
        metrics
            .text
            .contains("pgrst_schema_cache_loads_total{status=\"SUCCESS\"} 2"),
        "{}",
        metrics.text
    );
}

#[tokio::test]
async fn without_the_listener_ready_asks_the_pool() {
    let mut cluster = Cluster::start().expect("own cluster");
    let server = Server::start(own_cluster_env(
        &cluster,
        &[
            ("PGRST_ADMIN_SERVER_PORT", "0"),
            ("PGRST_DB_CHANNEL_ENABLED", "false"),
        ],
    ));
    let ready = format!("http://{}/ready", server.admin_addr.expect("admin server"));
    assert_eq!(send(client().get(&ready)).await.status, 200);
    cluster.stop();
    assert_eq!(send(client().get(&ready)).await.status, 503);
    cluster.restart().expect("restart");
    until(&ready, |r| r.status == 200).await;
}

#[tokio::test]
async fn idle_connections_close_and_the_trace_header_is_echoed() {
    let cluster = Cluster::start().expect("own cluster");
    cluster
        .psql_exec("CREATE TABLE public.t (id int);")
        .expect("schema");
    let server = Server::start(own_cluster_env(
        &cluster,
        &[
            ("PGRST_DB_POOL_MAX_IDLETIME", "3"),
            ("PGRST_DB_CHANNEL_ENABLED", "false"),
            ("PGRST_SERVER_TRACE_HEADER", "X-Request-Id"),
        ],
    ));
    let r = send(
        client()
            .get(server.url("/t"))
            .header("X-Request-Id", "abc-123"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-request-id"), Some("abc-123"));
    let r = send(
        client()
            .get(server.url("/nope"))
            .header("X-Request-Id", "e-1"),
    )
    .await;
    assert_eq!((r.status, r.header("x-request-id")), (404, Some("e-1")));
    let r = send(client().get(server.url("/t"))).await;
    assert_eq!(r.header("x-request-id"), None);

    // The pool's one connection closes after 3 s of idleness.
    let db = superuser_of(&cluster).await;
    let others = "SELECT count(*) FROM pg_stat_activity \
                  WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()";
    let count = |row: tokio_postgres::Row| row.get::<_, i64>(0);
    assert_eq!(count(db.query_one(others, &[]).await.unwrap()), 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(db.query_one(others, &[]).await.unwrap()) > 0 {
        assert!(Instant::now() < deadline, "the idle connection stays open");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Requests keep being served, right, while the schema cache reloads: a
/// 200-table schema (so each reload takes a while), four clients in a loop,
/// and five `NOTIFY` reloads, each after a migration that the reload must
/// pick up. Every request made meanwhile gets its 200 and its rows.
#[tokio::test]
async fn requests_during_schema_reloads_never_fail() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    let cluster = Cluster::start().expect("own cluster");
    cluster
        .psql_exec(&format!(
            "SET wide.tables = '200';\n{}",
            include_str!("../../benches/schema_cache/wide_schema.sql")
        ))
        .expect("wide schema");
    let server = Server::start(own_cluster_env(
        &cluster,
        &[
            ("PGRST_DB_SCHEMAS", "api"),
            ("PGRST_ADMIN_SERVER_PORT", "0"),
        ],
    ));
    let metrics = format!("http://{}/metrics", server.admin_addr.expect("admin"));
    until(&metrics.replace("/metrics", "/ready"), |r| r.status == 200).await;
    let db = superuser_of(&cluster).await;

    let url = server.url("/t0001?select=id,name&order=id");
    let expected =
        json!([{"id": 1, "name": "one"}, {"id": 2, "name": "two"}, {"id": 3, "name": "three"}]);
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let hammers: Vec<_> = (0..4)
        .map(|_| {
            let (url, expected) = (url.clone(), expected.clone());
            let (stop, served) = (stop.clone(), served.clone());
            tokio::spawn(async move {
                let client = client();
                let mut wrong = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let r = send(client.get(&url)).await;
                    if (r.status, &r.body) != (200, &expected) {
                        wrong.push(format!("{} {}", r.status, r.text));
                    }
                    served.fetch_add(1, Ordering::Relaxed);
                }
                wrong
            })
        })
        .collect();

    for reload in 1..=5 {
        let before = served.load(Ordering::Relaxed);
        db.batch_execute(&format!(
            "CREATE TABLE api.added_{reload} (id int); NOTIFY pgrst, 'reload schema';"
        ))
        .await
        .expect("migration and notification");
        let loads = format!(
            "pgrst_schema_cache_loads_total{{status=\"SUCCESS\"}} {}",
            reload + 1
        );
        until(&metrics, |r| r.text.lines().any(|l| l == loads)).await;
        assert_eq!(
            send(client().get(server.url(&format!("/added_{reload}"))))
                .await
                .status,
            200
        );
        assert!(
            served.load(Ordering::Relaxed) > before,
            "no request was served during reload {reload}"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let mut wrong = Vec::new();
    for hammer in hammers {
        wrong.extend(hammer.await.expect("client task"));
    }
    assert_eq!(wrong, Vec::<String>::new());
    assert!(served.load(Ordering::Relaxed) >= 20);
}
