//! In-database configuration over real HTTP: `pgrst.*` settings attached to
//! the authenticator role override the environment for the options the
//! database may set, are read again on `NOTIFY <channel>, 'reload config'`
//! and on schema cache reloads (database-specific settings winning), rank above what the `db-pre-config`
//! function sets, and are ignored with `db-config = false`. Each test has an
//! authenticator of its own (tests/fixtures/70_role_settings.sql) and its own
//! notification channel, so they do not disturb other servers.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Reply, Server, base_env, client, cluster, send, superuser};

/// A server connecting as `authenticator`, exposing `cfg_a` by its
/// environment, listening on `channel`.
fn server_as(authenticator: &str, channel: &str, vars: &[(&str, &str)]) -> Server {
    let mut env: Vec<(String, String)> = base_env()
        .into_iter()
        .filter(|(k, _)| k != "PGRST_DB_URI" && k != "PGRST_DB_SCHEMAS")
        .collect();
    env.push((
        "PGRST_DB_URI".into(),
        cluster().conninfo(authenticator, "postgres"),
    ));
    env.push(("PGRST_DB_SCHEMAS".into(), "cfg_a".into()));
    env.push(("PGRST_DB_CHANNEL".into(), channel.into()));
    env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Server::start(env)
}

fn rows(n: i32) -> Value {
    Value::Array((1..=n).map(|id| json!({ "id": id })).collect())
}

/// 200 with the table's first `n` rows.
fn assert_rows(r: &Reply, n: i32) {
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(r.body, rows(n));
}

/// The server exposes `cfg_a` or `cfg_b` (`exposed`), whose table reads `n`
/// rows, and not the other schema's table (404 PGRST205).
async fn assert_exposes(s: &Server, exposed: &str, n: i32) {
    let (table, other) = match exposed {
        "cfg_a" => ("only_a", "only_b"),
        _ => ("only_b", "only_a"),
    };
    assert_rows(&get(s, &format!("/{table}")).await, n);
    let r = get(s, &format!("/{other}")).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.header("proxy-status"), Some("PostgREST; error=PGRST205"));
    assert_eq!(
        r.body,
        json!({"code": "PGRST205", "details": null,
               "hint": format!("Perhaps you meant the table '{exposed}.{table}'"),
               "message": format!("Could not find the table '{exposed}.{other}' in the schema cache")})
    );
}

async fn get(server: &Server, path: &str) -> Reply {
    send(client().get(server.url(path))).await
}

#[tokio::test]
async fn authenticator_settings_override_the_environment_and_reload() {
    let s = server_as("Cfg Reload", "cfg reload", &[]);
    // `pgrst.db_schemas = 'cfg_b'` wins over PGRST_DB_SCHEMAS.
    assert_exposes(&s, "cfg_b", 3).await;
    // A setting for this database wins over the one for every database; the
    // notification arrives on the environment's channel (the role's
    // `pgrst.db_channel` is not an option the database may set).
    superuser()
        .await
        .batch_execute(
            "ALTER ROLE \"Cfg Reload\" IN DATABASE postgres SET pgrst.db_schemas = 'cfg_a'",
        )
        .await
        .expect("in-database setting");
    let reload_config = "NOTIFY \"cfg reload\", 'reload config'";
    assert_rows(&until_found(&s, "/only_a", reload_config).await, 3);
    assert_exposes(&s, "cfg_a", 3).await;
    // A schema cache reload reads them again too, as PostgREST's does.
    superuser()
        .await
        .batch_execute("ALTER ROLE \"Cfg Reload\" IN DATABASE postgres RESET pgrst.db_schemas")
        .await
        .expect("in-database setting");
    let reload_schema = "NOTIFY \"cfg reload\", 'reload schema'";
    assert_rows(&until_found(&s, "/only_b", reload_schema).await, 3);
    assert_exposes(&s, "cfg_b", 3).await;
}

/// Sends `notify` and polls `path` (up to 30 s) until it answers 200; its
/// last reply. The notification is sent again every second: the server's
/// listener connects in the background, and one sent before its `LISTEN`
/// is lost.
async fn until_found(s: &Server, path: &str, notify: &str) -> Reply {
    let db = superuser().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut next_notify = Instant::now();
    loop {
        if Instant::now() >= next_notify {
            db.batch_execute(notify).await.expect("notify");
            next_notify = Instant::now() + Duration::from_secs(1);
        }
        let r = get(s, path).await;
        if r.status == 200 || Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_pre_config_function_ranks_below_role_settings() {
    let s = server_as(
        "Cfg Pre",
        "cfg pre",
        &[("PGRST_DB_PRE_CONFIG", "public.cfg_pre_config")],
    );
    // Its db_max_rows applies; its db_schemas loses to the role's.
    assert_exposes(&s, "cfg_b", 2).await;
}

#[tokio::test]
async fn a_failing_pre_config_function_leaves_the_file_and_environment() {
    // As PostgREST: the error is logged and no database setting applies.
    let s = server_as(
        "Cfg Pre",
        "cfg pre missing",
        &[("PGRST_DB_PRE_CONFIG", "public.no_such_function")],
    );
    assert_exposes(&s, "cfg_a", 3).await;
}

#[tokio::test]
async fn db_config_false_ignores_database_settings() {
    let s = server_as("Cfg Off", "cfg off", &[("PGRST_DB_CONFIG", "false")]);
    assert_exposes(&s, "cfg_a", 3).await;
}

#[test]
fn dump_config_shows_the_database_settings() {
    let dump = |vars: &[(&str, &str)]| {
        let out = crate::config::binary(&["--dump-config"])
            .env("PGRST_DB_URI", cluster().conninfo("Cfg Off", "postgres"))
            .env("PGRST_DB_SCHEMAS", "cfg_a")
            .envs(vars.iter().copied())
            .output()
            .expect("pgrest-host runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let with = dump(&[]);
    assert!(
        with.lines().any(|l| l == "db-schemas = \"cfg_b\""),
        "{with}"
    );
    let without = dump(&[("PGRST_DB_CONFIG", "false")]);
    assert!(
        without.lines().any(|l| l == "db-schemas = \"cfg_a\""),
        "{without}"
    );
    assert!(
        without.lines().any(|l| l == "db-config = false"),
        "{without}"
    );
}
