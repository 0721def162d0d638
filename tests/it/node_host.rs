//! The second host: the same component under jco and Node.js
//! (tests/hosts/node/server.mjs) must answer every request exactly as
//! pgrest-host does, over real HTTP against the same database.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Reply, Server, base_env, client, eventually, send, shared, superuser};
use crate::{auth, jco};

/// `node server.mjs` as a child process; killed when dropped (also when a
/// test panics), and it exits by itself when this process dies, since its
/// stdin (`--exit-with-stdin`) then closes.
struct NodeHost {
    base: String,
    child: Child,
}

impl NodeHost {
    fn start(env: Vec<(String, String)>) -> NodeHost {
        let translator = jco::transpiled();
        let mut child = Command::new("node")
            .arg("server.mjs")
            .arg(translator)
            .arg("--exit-with-stdin")
            .current_dir(jco::host_dir())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting node server.mjs");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(base) = line.strip_prefix("pgrest-node listening on ") {
                    let _ = tx.send(base.to_string());
                }
            }
        });
        let mut host = NodeHost {
            base: String::new(),
            child,
        };
        host.base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the Node host prints its address (see its stderr above)");
        host
    }
}

impl Drop for NodeHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headers whose values both hosts must agree on (Date, Connection and
/// framing headers are each HTTP stack's own business).
const COMPARED_HEADERS: &[&str] = &[
    "content-type",
    "content-range",
    "content-location",
    "location",
    "preference-applied",
    "proxy-status",
    "vary",
    "www-authenticate",
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
];

type Headers = &'static [(&'static str, &'static str)];

/// One request per line of behaviour: reads, filters, logic trees, select
/// forms, ordering, paging, HEAD, transaction preferences, errors from the
/// planner and from the database.
const REQUESTS: &[(&str, &str, Headers)] = &[
    ("GET", "/items?select=id,name&id=eq.1", &[]),
    ("GET", "/items?id=eq.2", &[]),
    ("GET", "/items?id=eq.999", &[]),
    ("GET", "/items?select=id&id=gt.3&order=id", &[]),
    ("GET", "/items?select=id&id=neq.1&price=gte.3&order=id", &[]),
    ("GET", "/items?select=id&id=not.lt.4&order=id", &[]),
    ("GET", "/items?select=id&name=is.null", &[]),
    ("GET", "/items?select=id&price=is.not_null&id=gt.3", &[]),
    ("GET", "/items?select=id&name=like.*pl*", &[]),
    ("GET", "/items?select=id&name=ilike.APP*", &[]),
    ("GET", "/items?select=id&tags=cs.%7Bfruit%7D&order=id", &[]),
    (
        "GET",
        "/items?select=id&order=id&name=in.(%22a,b%22,%22c%5C%22d%22)",
        &[],
    ),
    ("GET", "/items?select=id&name=eq.pear.(x)", &[]),
    (
        "GET",
        "/items?select=id&or=(id.eq.1,and(price.gt.3,name.is.null))&order=id",
        &[],
    ),
    ("GET", "/items?select=id&not.or=(id.lt.3,id.gt.4)", &[]),
    (
        "GET",
        "/items?select=id&order=price.desc.nullslast&limit=2&offset=1",
        &[],
    ),
    (
        "GET",
        "/items?select=key:id,price::text,color:data->>color,cm:data->size->cm&id=eq.1",
        &[],
    ),
    (
        "GET",
        "/Weird%20%22Name%22?select=id,%22a,b%22,%22Mixed%20Case%22&%22Mixed%20Case%22=gt.15",
        &[],
    ),
    (
        "GET",
        "/items?select=id&name=eq.x';%20DROP%20TABLE%20test.items;--",
        &[],
    ),
    ("HEAD", "/items?id=lt.3", &[]),
    (
        "GET",
        "/tx_info",
        &[("x-test", "hello"), ("cookie", "flavour=choc; other=1")],
    ),
    ("GET", "/tx_info", &[("prefer", "tx=commit")]),
    (
        "GET",
        "/items?select=id&id=eq.1",
        &[("prefer", "tx=rollback")],
    ),
    (
        "GET",
        "/x_times?select=t",
        &[("prefer", "timezone=Asia/Tokyo")],
    ),
    (
        "GET",
        "/x_times",
        &[("prefer", "timezone=Jupiter/Red_Spot")],
    ),
    (
        "GET",
        "/mh_points?order=id",
        &[("accept", "application/vnd.points+json")],
    ),
    ("GET", "/mh_blobs?order=id", &[]),
    ("GET", "/items?select=id", &[("accept", "text/x-count")]),
    ("GET", "/nope", &[]),
    ("GET", "/pg_class", &[]),
    ("GET", "/items?id=eqq.1", &[]),
    ("GET", "/items?select=id,", &[]),
    ("GET", "/items?order=id.sideways", &[]),
    ("GET", "/items?limit=-1", &[]),
    ("GET", "/items?id=eq.abc", &[]),
    ("GET", "/items?select=nope", &[]),
    ("GET", "/secrets", &[]),
    ("GET", "/tx_info", &[("authorization", "Bearer a.b.c")]),
    // Node's HTTP parser refuses methods it does not know (BREW gets a bare
    // 400 before any host code runs), so the unsupported method is one it knows.
    ("PROPFIND", "/items", &[]),
    ("POST", "/items", &[("content-type", "application/json")]),
    ("DELETE", "/items?id=eq.1", &[]),
    ("GET", "/items/1", &[]),
    ("GET", "/", &[]),
    // CORS: headers on an answer (an error's too), and a preflight.
    ("GET", "/items?id=eq.1", &[("origin", "http://x.com")]),
    ("GET", "/nope", &[("origin", "http://x.com")]),
    (
        "OPTIONS",
        "/items",
        &[
            ("origin", "http://x.com"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ],
    ),
];

/// Writes with their bodies (the shared server rolls them back), compared
/// like [`REQUESTS`].
#[allow(clippy::type_complexity)]
const WRITES: &[(&str, &str, &[(&str, &str)], &str)] = &[
    (
        "POST",
        "/w_post?select=name,qty",
        &[("prefer", "return=representation, count=exact")],
        r#"[{"name": "n1", "qty": 1}, {"name": "n2", "qty": 2}]"#,
    ),
    (
        "POST",
        "/w_put",
        &[("prefer", "return=headers-only")],
        r#"{"a": 5, "b": "x y", "v": "node"}"#,
    ),
    (
        "POST",
        "/w_post",
        &[("content-type", "text/csv")],
        "id,name,qty\n900,c1,1\n901,c2,-1\n",
    ),
    ("POST", "/w_post", &[], r#"[{"name": "a"}, {"qty": 1}]"#),
    (
        "PATCH",
        "/w_patch?id=lte.2",
        &[("accept", "application/vnd.pgrst.object+json")],
        r#"{"qty": 9}"#,
    ),
    (
        "PUT",
        "/w_put?a=eq.1&b=eq.x",
        &[("prefer", "return=representation")],
        r#"{"a": 1, "b": "x", "v": "node"}"#,
    ),
    (
        "DELETE",
        "/w_delete?id=eq.1",
        &[("prefer", "count=exact")],
        "",
    ),
];

/// `method` on `base` (`http://host:port`) + `path`.
async fn request(base: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    request_with_body(base, method, path, headers, "").await
}

async fn request_with_body(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = client()
        .request(method, format!("{base}{path}"))
        .body(body.to_string());
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    send(req).await
}

fn compared(r: &Reply) -> (u16, String, Vec<(&'static str, Option<String>)>) {
    let headers = COMPARED_HEADERS
        .iter()
        .map(|name| (*name, r.header(name).map(str::to_string)))
        .collect();
    (r.status, r.text.clone(), headers)
}

#[tokio::test]
async fn node_host_answers_like_pgrest_host() {
    // Its own application_name, to find its connections below.
    let mut env = base_env();
    env.push(("PGAPPNAME".into(), "pgrest-node-e2e".into()));
    let node = NodeHost::start(env);
    let rust = format!("http://{}", shared().addr);
    let node_base = node.base.as_str();
    for (method, path, headers) in REQUESTS {
        let expected = request(&rust, method, path, headers).await;
        let actual = request(node_base, method, path, headers).await;
        assert_eq!(
            compared(&actual),
            compared(&expected),
            "{method} {path} {headers:?}: the Node host (left) differs from pgrest-host (right)"
        );
    }

    for (method, path, headers, body) in WRITES {
        let expected = request_with_body(&rust, method, path, headers, body).await;
        let actual = request_with_body(node_base, method, path, headers, body).await;
        assert_eq!(
            compared(&actual),
            compared(&expected),
            "{method} {path} {headers:?} {body}: the Node host (left) differs from pgrest-host (right)"
        );
    }

    // A refusal the head decides comes before the body (`screen`): a body
    // declared and never sent still gets its 404.
    let addr = node_base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = "POST /nope HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n";
    stream
        .write_all(head.as_bytes())
        .await
        .expect("head written");
    let mut answer = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("answered before the body")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(answer.contains("PGRST205"), "{answer}");

    // Absolute checks, so both hosts breaking the same way still fails.
    let get = |path| request(node_base, "GET", path, &[]);
    let r = get("/items?select=id,name&id=eq.1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 1, "name": "apple"}]));
    assert_eq!(r.header("content-range"), Some("0-0/*"));
    let r = get("/items?select=id&or=(id.eq.1,and(price.gt.3,name.is.null))&order=id").await;
    assert_eq!(r.body, json!([{"id": 1}, {"id": 5}]));
    let r = request(
        node_base,
        "OPTIONS",
        "/items",
        &[("origin", "o"), ("access-control-request-method", "GET")],
    )
    .await;
    assert_eq!(r.header("access-control-max-age"), Some("86400"));
    let r = request(node_base, "GET", "/nope", &[("origin", "o")]).await;
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let r = get("/nope").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["code"], "PGRST205");
    assert_eq!(r.header("proxy-status"), Some("PostgREST; error=PGRST205"));
    let r = get("/items?id=eq.abc").await;
    assert_eq!((r.status, &r.body["code"]), (400, &json!("22P02")));
    let r = request(node_base, "HEAD", "/items?id=lt.3", &[]).await;
    assert_eq!((r.status, r.text.as_str()), (200, ""));
    assert_eq!(r.header("content-range"), Some("0-1/*"));
    let r = request_with_body(
        node_base,
        "POST",
        "/w_put?select=a,v",
        &[("prefer", "return=representation")],
        r#"{"a": 6, "b": "n", "v": "from node"}"#,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body, json!([{"a": 6, "v": "from node"}]));
    let r = request(node_base, "GET", "/tx_info", &[("x-test", "hi")]).await;
    assert_eq!(r.body[0]["role"], "Web Anon");
    assert_eq!(r.body[0]["read_only"], "on");
    assert_eq!(r.body[0]["header"], "hi");

    // Every transaction the Node host opened was ended: its connections are
    // back to idle, none left "idle in transaction".
    let db = superuser().await;
    let states = || async {
        db.query(
            "SELECT state FROM pg_stat_activity WHERE application_name = 'pgrest-node-e2e'",
            &[],
        )
        .await
        .expect("pg_stat_activity")
        .iter()
        .map(|row| row.get::<_, Option<String>>(0).unwrap_or_default())
        .collect::<Vec<_>>()
    };
    let all_idle = eventually(Duration::from_secs(5), || async {
        let s = states().await;
        !s.is_empty() && s.iter().all(|s| s == "idle")
    })
    .await;
    assert!(all_idle, "Node host connections: {:?}", states().await);
}

#[tokio::test]
async fn node_host_follows_the_configuration_like_pgrest_host() {
    // No anonymous role: every request without a token is PGRST302. With a
    // JWT secret, tokens choose the role (or are refused) in both hosts.
    let env: Vec<_> = base_env()
        .into_iter()
        .filter(|(k, _)| k != "PGRST_DB_ANON_ROLE")
        .chain([("PGRST_JWT_SECRET".to_string(), auth::SECRET.to_string())])
        .collect();
    let node = NodeHost::start(env.clone());
    let rust = Server::start(env);
    let rust = format!("http://{}", rust.addr);
    for path in ["/items", "/nope", "/items?id=eqq.1"] {
        let expected = request(&rust, "GET", path, &[]).await;
        let actual = request(&node.base, "GET", path, &[]).await;
        assert_eq!(compared(&actual), compared(&expected), "GET {path}");
    }
    let valid = format!(
        "Bearer {}",
        auth::hs256(json!({"role": "Alice", "sub": "alice", "exp": auth::now() + 60}))
    );
    let expired = format!("Bearer {}", auth::hs256(json!({"role": "Alice", "exp": 1})));
    for authorization in [
        valid.as_str(),
        expired.as_str(),
        "Basic dXNlcjpwYXNz",
        "Bearer x",
    ] {
        let headers = [("authorization", authorization)];
        let expected = request(&rust, "GET", "/auth_info?select=role", &headers).await;
        let actual = request(&node.base, "GET", "/auth_info?select=role", &headers).await;
        assert_eq!(compared(&actual), compared(&expected), "{authorization}");
    }
    let r = request(
        &node.base,
        "GET",
        "/auth_info?select=role",
        &[("authorization", &valid)],
    )
    .await;
    assert_eq!(r.body, json!([{"role": "Alice"}]), "{}", r.text);
    let r = request(&node.base, "GET", "/items", &[]).await;
    assert_eq!((r.status, &r.body["code"]), (401, &json!("PGRST302")));
}

#[tokio::test]
async fn node_host_reads_database_and_role_settings_like_pgrest_host() {
    // In-database configuration: the authenticator's `pgrst.db_schemas`
    // and the pre-config function's `db_max_rows` (tests/fixtures/70_role_settings.sql).
    let env: Vec<_> = base_env()
        .into_iter()
        .filter(|(k, _)| k != "PGRST_DB_URI" && k != "PGRST_DB_SCHEMAS")
        .chain([
            (
                "PGRST_DB_URI".to_string(),
                crate::harness::cluster().conninfo("Cfg Pre", "postgres"),
            ),
            ("PGRST_DB_SCHEMAS".to_string(), "cfg_a".to_string()),
            ("PGRST_DB_CHANNEL".to_string(), "cfg node".to_string()),
            (
                "PGRST_DB_PRE_CONFIG".to_string(),
                "public.cfg_pre_config".to_string(),
            ),
        ])
        .collect();
    let node = NodeHost::start(env.clone());
    let rust = Server::start(env);
    let rust = format!("http://{}", rust.addr);
    for path in ["/only_a", "/only_b"] {
        let expected = request(&rust, "GET", path, &[]).await;
        let actual = request(&node.base, "GET", path, &[]).await;
        assert_eq!(compared(&actual), compared(&expected), "GET {path}");
    }
    let r = request(&node.base, "GET", "/only_b", &[]).await;
    assert_eq!(
        (r.status, r.body.clone()),
        (200, json!([{"id": 1}, {"id": 2}]))
    );

    // Impersonated role settings.
    let env: Vec<_> = base_env()
        .into_iter()
        .chain([("PGRST_JWT_SECRET".to_string(), auth::SECRET.to_string())])
        .collect();
    let node = NodeHost::start(env.clone());
    let rust = Server::start(env);
    let rust = format!("http://{}", rust.addr);
    for role in ["Hasty", "Serial"] {
        let authorization = format!("Bearer {}", auth::hs256(json!({ "role": role })));
        let headers = [("authorization", authorization.as_str())];
        let path = "/rs_settings?select=role,work_mem,isolation";
        let expected = request(&rust, "GET", path, &headers).await;
        let actual = request(&node.base, "GET", path, &headers).await;
        assert_eq!(compared(&actual), compared(&expected), "as {role}");
    }
    let authorization = format!("Bearer {}", auth::hs256(json!({ "role": "Serial" })));
    let r = request(
        &node.base,
        "GET",
        "/rs_settings?select=work_mem,isolation",
        &[("authorization", &authorization)],
    )
    .await;
    assert_eq!(
        r.body,
        json!([{"work_mem": "6MB", "isolation": "serializable"}]),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn node_host_explains_like_pgrest_host() {
    let mut env = base_env();
    env.push(("PGRST_DB_PLAN_ENABLED".into(), "true".into()));
    let node = NodeHost::start(env);
    let rust = format!("http://{}", crate::explain::server().addr);
    for (path, accept) in [
        ("/items?id=eq.1", "application/vnd.pgrst.plan"),
        (
            "/items?select=id&order=id",
            "application/vnd.pgrst.plan+json; for=\"text/csv\"; options=verbose",
        ),
        ("/rpc/r_items_min?min=1", "application/vnd.pgrst.plan+json"),
    ] {
        let headers = [("accept", accept)];
        let expected = request(&rust, "GET", path, &headers).await;
        let actual = request(&node.base, "GET", path, &headers).await;
        assert_eq!(expected.status, 200, "{path}: {}", expected.text);
        assert_eq!(
            compared(&actual),
            compared(&expected),
            "GET {path} {accept}"
        );
    }
}
