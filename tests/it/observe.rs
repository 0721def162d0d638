//! Production observability and CORS: PostgREST's CORS policy (permissive
//! by default, `server-cors-allowed-origins`), `Server-Timing`, request
//! metrics on the admin server, `log-query`, and
//! `db-pool-automatic-recovery = false`.

use std::process::Stdio;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use pgrest_throwaway_pg::Cluster;
use reqwest::Method;
use serde_json::json;

use crate::config::{Spawned, binary, lines_from, lines_of, next_line, temp_file};
use crate::harness::{Reply, Server, base_env, client, get_with, own_cluster_env, request, send};

const EXPOSED: &str = "Content-Encoding, Content-Location, Content-Range, Content-Type, \
                       Date, Location, Server, Transfer-Encoding, Range-Unit";

const ALLOW_METHODS: &str = "GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD";

/// Every `access-control-*` header of a reply, in order.
fn cors_headers(r: &Reply) -> Vec<(String, String)> {
    r.headers
        .iter()
        .filter(|(n, _)| n.as_str().starts_with("access-control-"))
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn cors_is_permissive_by_default() {
    let r = get_with("/items?id=eq.1&select=id", &[("Origin", "http://x.com")]).await;
    assert_eq!((r.status, r.body.clone()), (200, json!([{"id": 1}])));
    assert_eq!(
        cors_headers(&r),
        pairs(&[
            ("access-control-allow-origin", "*"),
            ("access-control-expose-headers", EXPOSED),
        ])
    );
    // Not a CORS request: no CORS headers.
    let plain = get_with("/items?id=eq.1&select=id", &[]).await;
    assert_eq!(plain.status, 200);
    assert!(cors_headers(&plain).is_empty());
    // Errors get them too.
    let bad = get_with("/items?id=invalid", &[("Origin", "http://x.com")]).await;
    assert_eq!(
        (bad.status, bad.body["code"].as_str()),
        (400, Some("PGRST100"))
    );
    assert_eq!(bad.header("access-control-allow-origin"), Some("*"));
}

#[tokio::test]
async fn preflights_are_answered_as_postgrest_does() {
    async fn preflight(headers: &[(&str, &str)]) -> Reply {
        let mut all = vec![("Origin", "http://x.com")];
        all.extend_from_slice(headers);
        request(Method::OPTIONS, "/items", &all, "").await
    }
    let r = preflight(&[
        ("Access-Control-Request-Method", "POST"),
        ("Access-Control-Request-Headers", "Content-Type, X-App-Id"),
    ])
    .await;
    assert_eq!((r.status, r.text.as_str()), (200, ""));
    assert_eq!(
        cors_headers(&r),
        pairs(&[
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", ALLOW_METHODS),
            (
                "access-control-allow-headers",
                "Authorization, Content-Type, X-App-Id, Accept, Accept-Language, Content-Language"
            ),
            ("access-control-max-age", "86400"),
        ])
    );
    assert_eq!(r.header("allow"), None);
    // Without requested headers there is no Allow-Headers.
    let r = preflight(&[("Access-Control-Request-Method", "DELETE")]).await;
    assert_eq!(r.header("access-control-allow-headers"), None);
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some(ALLOW_METHODS)
    );
    // Out of the policy (no method asked, a method it does not name, a
    // header list it cannot read): an ordinary OPTIONS answer.
    for headers in [
        vec![],
        vec![("Access-Control-Request-Method", "patch")],
        vec![
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "a b"),
        ],
    ] {
        let r = preflight(&headers).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("allow"),
            Some("OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"),
            "{headers:?}"
        );
        assert_eq!(
            cors_headers(&r),
            pairs(&[("access-control-allow-origin", "*")]),
            "{headers:?}"
        );
    }
}

#[tokio::test]
async fn allowed_origins_restrict_cors() {
    let mut env = base_env();
    env.push((
        "PGRST_SERVER_CORS_ALLOWED_ORIGINS".into(),
        "http://a.com, http://b.com".into(),
    ));
    let server = Server::start(env);
    let get = |origin: &str| {
        send(
            client()
                .get(server.url("/items?id=eq.1&select=id"))
                .header("Origin", origin),
        )
    };
    let r = get("http://b.com").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        cors_headers(&r),
        pairs(&[
            ("access-control-allow-origin", "http://b.com"),
            ("access-control-allow-credentials", "true"),
            ("access-control-expose-headers", EXPOSED),
        ])
    );
    let other = get("http://c.com").await;
    assert_eq!((other.status, &other.body), (200, &json!([{"id": 1}])));
    assert!(cors_headers(&other).is_empty());
    let preflight = |origin: &str| {
        send(
            client()
                .request(Method::OPTIONS, server.url("/items"))
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "GET"),
        )
    };
    let r = preflight("http://a.com").await;
    assert_eq!(
        cors_headers(&r),
        pairs(&[
            ("access-control-allow-origin", "http://a.com"),
            ("access-control-allow-credentials", "true"),
            ("access-control-allow-methods", ALLOW_METHODS),
            ("access-control-max-age", "86400"),
        ])
    );
    // Refused: the ordinary OPTIONS answer, which PostgREST always gives
    // `Access-Control-Allow-Origin: *`.
    let r = preflight("http://c.com").await;
    assert_eq!(
        cors_headers(&r),
        pairs(&[("access-control-allow-origin", "*")])
    );
    assert_eq!(
        r.header("allow"),
        Some("OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE")
    );
}

/// The stage names of a `Server-Timing` value, checking each duration is
/// milliseconds with one decimal.
fn stages(r: &Reply) -> Vec<String> {
    let value = r.header("server-timing").unwrap_or("");
    if value.is_empty() {
        return Vec::new();
    }
    value
        .split(", ")
        .map(|part| {
            let (name, dur) = part.split_once(";dur=").expect("name;dur=");
            let (whole, tenths) = dur.split_once('.').expect("one decimal");
            assert!(
                whole.chars().all(|c| c.is_ascii_digit()) && tenths.len() == 1,
                "{value}"
            );
            name.to_string()
        })
        .collect()
}

#[tokio::test]
async fn server_timing_names_the_stages_run() {
    let mut env = base_env();
    env.push(("PGRST_SERVER_TIMING_ENABLED".into(), "true".into()));
    env.push(("PGRST_JWT_SECRET".into(), crate::auth::SECRET.into()));
    let server = Server::start(env);
    let go = |method: Method, path: &str, headers: &[(&str, &str)]| {
        let body = if method == Method::POST {
            r#"{"id": 9}"#
        } else {
            ""
        };
        let mut req = client().request(method, server.url(path)).body(body);
        for (n, v) in headers {
            req = req.header(*n, *v);
        }
        send(req)
    };
    let all = ["jwt", "parse", "plan", "transaction", "response"];
    let r = go(Method::GET, "/items?id=eq.1&select=id", &[]).await;
    assert_eq!((r.status, r.body.clone()), (200, json!([{"id": 1}])));
    assert_eq!(stages(&r), all);
    let r = go(
        Method::POST,
        "/items",
        &[
            ("Content-Type", "application/json"),
            ("Prefer", "return=minimal"),
        ],
    )
    .await;
    // A write the anonymous role may not make: the database refuses it.
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(stages(&r), ["jwt", "parse", "plan", "transaction"]);
    // OPTIONS needs neither a plan nor the database.
    let r = go(Method::OPTIONS, "/items", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(stages(&r), ["jwt", "parse", "response"]);
    // Errors keep the stages run up to them.
    let r = go(Method::GET, "/items?id=invalid", &[]).await;
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("PGRST100")));
    assert_eq!(stages(&r), ["jwt", "parse"]);
    let r = go(Method::GET, "/items?id=eq.invalid", &[]).await;
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("22P02")));
    assert_eq!(stages(&r), ["jwt", "parse", "plan", "transaction"]);
    let r = go(Method::GET, "/nope", &[]).await;
    assert_eq!((r.status, r.body["code"].as_str()), (404, Some("PGRST205")));
    assert_eq!(stages(&r), ["jwt", "parse", "plan"]);
    // A token refused (for its form, or for its claims) stops at jwt.
    let expired = format!("Bearer {}", crate::auth::hs256(json!({"exp": 1})));
    for token in ["Bearer x.y.z", expired.as_str()] {
        let r = go(Method::GET, "/items", &[("Authorization", token)]).await;
        assert_eq!(r.status, 401, "{}", r.text);
        assert_eq!(stages(&r), ["jwt"], "{token}");
    }
    // A CORS preflight is answered before any stage.
    let r = go(
        Method::OPTIONS,
        "/items",
        &[("Origin", "o"), ("Access-Control-Request-Method", "GET")],
    )
    .await;
    assert_eq!(r.header("access-control-max-age"), Some("86400"));
    assert_eq!(r.header("server-timing"), None);
    // Off by default.
    let r = get_with("/items?id=eq.1", &[]).await;
    assert_eq!((r.status, r.header("server-timing")), (200, None));
}

#[tokio::test]
async fn metrics_count_requests_by_status_and_jwt_cache_use() {
    let mut env = base_env();
    env.push(("PGRST_ADMIN_SERVER_PORT".into(), "0".into()));
    env.push(("PGRST_JWT_SECRET".into(), crate::auth::SECRET.into()));
    let server = Server::start(env);
    for path in ["/items?id=eq.1", "/items?id=eq.2", "/nope"] {
        send(client().get(server.url(path))).await;
    }
    // The same token twice: one miss, then a hit.
    let token = format!("Bearer {}", crate::auth::hs256(json!({"role": "Web Anon"})));
    for _ in 0..2 {
        let r = send(
            client()
                .get(server.url("/items?id=eq.3"))
                .header("Authorization", &token),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let admin = format!("http://{}/metrics", server.admin_addr.unwrap());
    let metrics = send(client().get(admin)).await;
    assert_eq!(metrics.status, 200);
    let line = |l: &str| metrics.text.lines().any(|m| m == l);
    for expected in [
        "# TYPE pgrst_request_duration_seconds histogram",
        "pgrst_request_duration_seconds_count{status=\"200\"} 4",
        "pgrst_request_duration_seconds_bucket{status=\"200\",le=\"+Inf\"} 4",
        "pgrst_request_duration_seconds_count{status=\"404\"} 1",
        "pgrst_request_duration_seconds_bucket{status=\"404\",le=\"+Inf\"} 1",
        "# TYPE pgrst_jwt_cache_requests_total counter",
        "pgrst_jwt_cache_requests_total 2",
        "pgrst_jwt_cache_hits_total 1",
        "pgrst_jwt_cache_evictions_total 0",
    ] {
        assert!(line(expected), "{expected} in {}", metrics.text);
    }
    // Buckets are cumulative, up to the count.
    let buckets: Vec<u64> = metrics
        .text
        .lines()
        .filter(|l| l.starts_with("pgrst_request_duration_seconds_bucket{status=\"200\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(buckets.len(), 12);
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]) && buckets[11] == 4);
}

/// The real binary with `env`, its stdout and stderr lines, and its URL.
pub(crate) fn spawn(env: Vec<(String, String)>) -> (Spawned, Receiver<String>, String) {
    let mut child = Spawned::start(
        binary(&[])
            .envs(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let out = lines_of(&mut child);
    let err = lines_from(child.stderr.take().expect("piped stderr"));
    let listening = next_line(&out, |l| l.starts_with("pgrest listening on "));
    let base = listening.trim_start_matches("pgrest listening on ");
    (child, err, base.to_string())
}

/// `log-query = "main-query"` logs the statements of the requests
/// `log-level` logs (here: 4xx and 5xx), to stderr, with PostgREST's time:
/// the settings, then the main statement.
#[tokio::test]
async fn log_query_logs_the_statements_at_the_log_level() {
    let cluster = Cluster::start().expect("own cluster");
    cluster
        .psql_exec("CREATE TABLE public.logged (id int, quiet text, loud int);")
        .expect("schema");
    let (mut child, err, base) = spawn(own_cluster_env(
        &cluster,
        &[
            ("PGRST_LOG_LEVEL", "warn"),
            ("PGRST_LOG_QUERY", "main-query"),
        ],
    ));
    let ok = send(client().get(format!("{base}/logged?select=quiet"))).await;
    assert_eq!((ok.status, ok.body), (200, json!([])));
    let bad = send(client().get(format!("{base}/logged?select=loud&loud=eq.x"))).await;
    assert_eq!(
        (bad.status, bad.body["code"].as_str()),
        (400, Some("22P02"))
    );
    let mut before = Vec::new();
    let logged = loop {
        let line = err
            .recv_timeout(Duration::from_secs(30))
            .expect("the statement is logged");
        if line.contains("\"loud\"") {
            break line;
        }
        before.push(line);
    };
    child.kill().expect("stopped");
    let _ = child.wait();
    // `22/Nov/2026:02:16:45 +0000: <the SQL>`
    let (time, sql) = logged.split_once(" +0000: ").expect("time prefix");
    assert_eq!(time.len(), "22/Nov/2026:02:16:45".len(), "{logged}");
    assert!(
        sql.contains("\"public\".\"logged\"") && sql.contains("$1"),
        "{sql}"
    );
    // The statements before it, on the same request: the settings.
    let settings = before.last().expect("the settings statement");
    assert!(
        settings.contains(" +0000: SELECT set_config("),
        "{settings}"
    );
    // The 200 answer's statement was not logged at warn.
    assert!(
        !before.iter().any(|l| l.contains("\"quiet\"")),
        "{before:?}"
    );
}

/// With `db-pool-automatic-recovery = false`, losing the database stops
/// the server (exit status 1) after answering 503, instead of reconnecting.
#[tokio::test]
async fn without_automatic_recovery_the_server_exits() {
    let mut cluster = Cluster::start().expect("own cluster");
    cluster
        .psql_exec("CREATE TABLE public.t (id int);")
        .expect("schema");
    let (mut child, err, base) = spawn(own_cluster_env(
        &cluster,
        &[
            ("PGRST_DB_POOL_AUTOMATIC_RECOVERY", "false"),
            // Without the listener, the request is what finds the loss.
            ("PGRST_DB_CHANNEL_ENABLED", "false"),
        ],
    ));
    let r = send(client().get(format!("{base}/t"))).await;
    assert_eq!((r.status, r.body), (200, json!([])));
    cluster.stop();
    let r = send(client().get(format!("{base}/t"))).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert!(
        r.body["code"]
            .as_str()
            .is_some_and(|c| c.starts_with("PGRST00"))
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting") {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "still running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(1));
    let said: Vec<String> = err.try_iter().collect();
    assert!(
        said.iter()
            .any(|l| l.ends_with(": Automatic recovery disabled, exiting.")),
        "{said:?}"
    );
}

/// `server-timing-enabled` follows a config reload (SIGUSR2), as in PostgREST.
#[tokio::test]
async fn server_timing_follows_a_config_reload() {
    let cluster = Cluster::start().expect("own cluster");
    cluster
        .psql_exec("CREATE TABLE public.t (id int);")
        .expect("schema");
    let dir = tempfile::tempdir().unwrap();
    let config = |timing: bool| {
        format!(
            "db-uri = \"{}\"\ndb-schemas = \"public\"\ndb-anon-role = \"postgres\"\n\
             server-host = \"127.0.0.1\"\nserver-port = 0\nserver-timing-enabled = {timing}\n",
            cluster
                .conninfo("postgres", "postgres")
                .replace('"', "\\\"")
        )
    };
    let file = temp_file(&dir, "pgrest.conf", &config(false));
    let mut child = Spawned::start(
        binary(&[file.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit()),
    );
    let out = lines_of(&mut child);
    let listening = next_line(&out, |l| l.starts_with("pgrest listening on "));
    let url = format!("{}/t", listening.trim_start_matches("pgrest listening on "));
    let r = send(client().get(&url)).await;
    assert_eq!((r.status, r.header("server-timing")), (200, None));
    std::fs::write(&file, config(true)).unwrap();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGUSR2).expect("SIGUSR2 sent");
    let timed = crate::harness::eventually(Duration::from_secs(30), || async {
        let r = send(client().get(&url)).await;
        r.status == 200 && stages(&r) == ["jwt", "parse", "plan", "transaction", "response"]
    })
    .await;
    child.kill().expect("stopped");
    let _ = child.wait();
    assert!(timed, "no Server-Timing after the reload");
}
