//! Impersonated role settings over real HTTP: what `ALTER ROLE <role> SET`
//! attaches to the roles a token may name applies to their transactions
//! (`set_config` before the role switch, so a superuser-only setting the
//! authenticator was granted works; `default_transaction_isolation` as the
//! isolation level), a function's own settings win, and `db-config =
//! false` turns them off. Fixtures: tests/fixtures/70_role_settings.sql.
//! Also the `db-pre-request` hook setting the response status and headers.

use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::auth::{SECRET, hs256};
use crate::harness::{Reply, Server, base_env, client, send};

static SERVER: OnceLock<Server> = OnceLock::new();

fn server_with(vars: &[(&str, &str)]) -> Server {
    let mut env = base_env();
    env.push(("PGRST_JWT_SECRET".into(), SECRET.into()));
    env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Server::start(env)
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| server_with(&[]))
}

/// GET `path` on `server` as `role` (anonymous when none).
async fn get_as(server: &Server, path: &str, role: Option<&str>) -> Reply {
    let mut req = client().get(server.url(path));
    if let Some(role) = role {
        req = req.bearer_auth(hs256(json!({ "role": role })));
    }
    send(req).await
}

/// The settings a role's transaction sees, as `test.rs_settings` shows them.
fn settings(
    role: &str,
    statement_timeout: &str,
    work_mem: &str,
    log_min_duration_statement: &str,
    isolation: &str,
) -> Value {
    // `lock_timeout` is only set for one database, `log_statement` is for
    // superusers: never applied.
    json!([{"role": role, "statement_timeout": statement_timeout, "work_mem": work_mem,
            "lock_timeout": "0", "log_min_duration_statement": log_min_duration_statement,
            "log_statement": "none", "isolation": isolation}])
}

#[tokio::test]
async fn each_role_gets_its_own_settings() {
    let s = server();
    let r = get_as(s, "/rs_settings", Some("Hasty")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        r.body,
        settings("Hasty", "250ms", "5MB", "-1", "read committed")
    );
    let r = get_as(s, "/rs_settings", Some("Serial")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        settings("Serial", "0", "6MB", "123ms", "serializable")
    );
    // The anonymous role has none.
    let r = get_as(s, "/rs_settings", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        settings("Web Anon", "0", "4MB", "-1", "read committed")
    );
}

#[tokio::test]
async fn a_role_statement_timeout_cancels_its_slow_requests() {
    let s = server();
    let r = get_as(s, "/rs_sleepy", Some("Hasty")).await;
    assert_eq!(r.status, 500, "{}", r.text);
    assert_eq!(r.header("proxy-status"), Some("PostgREST; error=57014"));
    assert_eq!(
        r.body,
        json!({"code": "57014", "message": "canceling statement due to statement timeout",
               "details": null, "hint": null})
    );
    // Another role waits the whole second.
    let r = get_as(s, "/rs_sleepy", Some("Serial")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"slept": 1}]));
}

#[tokio::test]
async fn a_function_settings_win_over_its_role_settings() {
    let s = server();
    // Its isolation level, though the role's is serializable.
    let r = get_as(s, "/rpc/rs_isolation", Some("Serial")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!("repeatable read"));
    // Its hoisted statement_timeout, set after the role's.
    let r = get_as(s, "/rpc/rs_timeout", Some("Hasty")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!("3s"));
}

#[tokio::test]
async fn db_config_false_ignores_role_settings() {
    let s = server_with(&[("PGRST_DB_CONFIG", "false")]);
    let r = get_as(&s, "/rs_settings", Some("Serial")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        settings("Serial", "0", "4MB", "-1", "read committed")
    );
}

#[tokio::test]
async fn the_pre_request_hook_sets_status_and_headers() {
    let s = server_with(&[("PGRST_DB_PRE_REQUEST", "test.rs_teapot")]);
    let teapot = send(
        client()
            .get(s.url("/rs_settings?select=role"))
            .header("x-teapot", "yes"),
    )
    .await;
    assert_eq!(teapot.status, 418, "{}", teapot.text);
    assert_eq!(teapot.header("x-teapot"), Some("short and stout"));
    assert_eq!(
        teapot.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(teapot.body, json!([{"role": "Web Anon"}]));
    let plain = get_as(&s, "/rs_settings?select=role", None).await;
    assert_eq!(plain.status, 200, "{}", plain.text);
    assert_eq!(plain.header("x-teapot"), None);
    assert_eq!(plain.body, json!([{"role": "Web Anon"}]));
}
