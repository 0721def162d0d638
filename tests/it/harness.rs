//! One throwaway PostgreSQL cluster per test binary, the fixtures loaded once,
//! and pgrest servers started in-process on port 0, each on a runtime thread
//! of its own so they outlive any single test's runtime.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pgrest_throwaway_pg::{Cluster, Options};

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static SHARED: OnceLock<Server> = OnceLock::new();

pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        // pg_stat_statements: embed.rs counts the statements a request runs.
        let cluster = Cluster::start_with(Options {
            settings: vec![
                "shared_preload_libraries=pg_stat_statements".into(),
                "pg_stat_statements.track=all".into(),
            ],
            ..Options::default()
        })
        .expect("starting the test cluster");
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("tests/fixtures")
            .map(|e| e.expect("fixture entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        for file in files {
            let sql = std::fs::read_to_string(&file).expect("fixture readable");
            cluster
                .psql_exec(&sql)
                .unwrap_or_else(|e| panic!("loading {}: {e}", file.display()));
        }
        cluster
    })
}

/// The configuration of the shared test server (PostgREST's suite style:
/// every request rolls back unless it sends `Prefer: tx=commit`).
pub fn base_env() -> Vec<(String, String)> {
    vec![
        (
            "PGRST_DB_URI".into(),
            cluster().conninfo("Authenticator", "postgres"),
        ),
        ("PGRST_DB_SCHEMAS".into(), "test".into()),
        ("PGRST_DB_ANON_ROLE".into(), "Web Anon".into()),
        ("PGRST_DB_TX_END".into(), "rollback-allow-override".into()),
        ("PGRST_SERVER_HOST".into(), "127.0.0.1".into()),
        ("PGRST_SERVER_PORT".into(), "0".into()),
    ]
}

/// `base_env`, with `extra` connection parameters appended to the db-uri.
pub fn base_env_with_conninfo(extra: &str) -> Vec<(String, String)> {
    let mut env = base_env();
    for (key, value) in &mut env {
        if key == "PGRST_DB_URI" {
            value.push(' ');
            value.push_str(extra);
        }
    }
    env
}

/// A server on a cluster of a test's own: schema `public`, anonymous requests
/// as the superuser, plus `extra` variables.
pub fn own_cluster_env(
    cluster: &pgrest_throwaway_pg::Cluster,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut env = vec![
        (
            "PGRST_DB_URI".to_string(),
            cluster.conninfo("postgres", "postgres"),
        ),
        ("PGRST_DB_SCHEMAS".into(), "public".into()),
        ("PGRST_DB_ANON_ROLE".into(), "postgres".into()),
        ("PGRST_SERVER_HOST".into(), "127.0.0.1".into()),
        ("PGRST_SERVER_PORT".into(), "0".into()),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

/// A server with one pooled connection, told apart from other tests' by its
/// `application_name`, without the listener, plus `extra` variables.
pub fn one_connection(name: &str, extra: &[(&str, &str)]) -> Server {
    let mut env = base_env_with_conninfo(&format!("application_name={name}"));
    env.push(("PGRST_DB_POOL".into(), "1".into()));
    env.push(("PGRST_DB_CHANNEL_ENABLED".into(), "false".into()));
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Server::start(env)
}

/// The pid and state of each backend whose `application_name` is `name`.
pub async fn backends_of(name: &str) -> Vec<(i32, String)> {
    superuser()
        .await
        .query(
            "SELECT pid, coalesce(state, '') FROM pg_stat_activity WHERE application_name = $1",
            &[&name],
        )
        .await
        .expect("pg_stat_activity")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

/// A running pgrest; stopped when dropped.
pub struct Server {
    pub addr: SocketAddr,
    /// The admin server, when `admin-server-port` is set.
    pub admin_addr: Option<SocketAddr>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start(env: Vec<(String, String)>) -> Server {
        Server::try_start(env).unwrap_or_else(|e| panic!("starting pgrest: {e}"))
    }

    /// Starts a server, or returns why it could not start.
    pub fn try_start(env: Vec<(String, String)>) -> Result<Server, String> {
        pgrest_host::log::install();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                match pgrest_host::start(env).await {
                    Ok(running) => {
                        ready_tx
                            .send(Ok((running.addr, running.admin_addr)))
                            .expect("test waits");
                        let _ = stop_rx.await;
                        running.shutdown().await;
                    }
                    Err(e) => ready_tx.send(Err(e.to_string())).expect("test waits"),
                }
            });
        });
        let (addr, admin_addr) = match ready_rx.recv().expect("server thread reports") {
            Ok(addrs) => addrs,
            Err(e) => {
                let _ = thread.join();
                return Err(e);
            }
        };
        Ok(Server {
            addr,
            admin_addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.addr, path_and_query)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The server most tests share.
pub fn shared() -> &'static Server {
    SHARED.get_or_init(|| Server::start(base_env()))
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().expect("http client")
}

/// A superuser connection for checking database state from outside.
pub async fn superuser() -> tokio_postgres::Client {
    superuser_of(cluster()).await
}

/// A superuser connection to `cluster`.
pub async fn superuser_of(cluster: &Cluster) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(
        &cluster.conninfo("postgres", "postgres"),
        tokio_postgres::NoTls,
    )
    .await
    .expect("superuser connection");
    tokio::spawn(conn);
    client
}

/// Whether, within five seconds, no backend whose `application_name` is
/// `name` runs a statement (`db` sees the cluster).
pub async fn stops_running(db: &tokio_postgres::Client, name: &str) -> bool {
    eventually(Duration::from_secs(5), || async {
        let running: i64 = db
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'",
                &[&name],
            )
            .await
            .expect("pg_stat_activity")
            .get(0);
        running == 0
    })
    .await
}

/// Polls `check` until it returns true or the deadline passes.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// A response read whole: status, headers, body as JSON (Null if empty or
/// not JSON) and as text.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: serde_json::Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn send(req: reqwest::RequestBuilder) -> Reply {
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body read");
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.split(';').next().is_some_and(|m| m.contains("json")));
    // Bodies in other media types (CSV, …) are read from `text`.
    let body = if text.is_empty() || !json {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"))
    };
    Reply {
        status,
        headers,
        body,
        text,
    }
}

/// GET on the shared server.
pub async fn get(path_and_query: &str) -> Reply {
    send(client().get(shared().url(path_and_query))).await
}

/// GET on the shared server with extra request headers.
pub async fn get_with(path_and_query: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = client().get(shared().url(path_and_query));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    send(req).await
}

/// A request with a body and extra headers to the shared server.
pub async fn request(
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    request_on(shared(), method, path, headers, body).await
}

/// A request with a body and extra headers to `server`.
pub async fn request_on(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut req = client()
        .request(method, server.url(path))
        .body(body.to_string());
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    send(req).await
}
