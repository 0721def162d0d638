//! Configuration as PostgREST users write it: the real binary's command line,
//! a config file overridden by PGRST_* variables, `@file` values, the request
//! log, and TLS to the database per `sslmode` (against a cluster of its own
//! with `ssl=on` and a certificate made here).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use pgrest_throwaway_pg::{Cluster, Options, Pki};
use pgrest_translator::config::Config;
use serde_json::json;

use crate::harness::{
    Server, base_env, base_env_with_conninfo, client, cluster, send, stops_running, superuser_of,
};

const BIN: &str = env!("CARGO_BIN_EXE_pgrest-host");

/// The binary with no PGRST_*/PG* variables from the test's environment.
pub(crate) fn binary(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("PG") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// A running binary, killed when dropped: a test that fails leaves no server
/// behind (one would retry its vanished database forever).
pub(crate) struct Spawned(Child);

impl Spawned {
    pub(crate) fn start(cmd: &mut Command) -> Spawned {
        Spawned(cmd.spawn().expect("pgrest-host starts"))
    }
}

impl std::ops::Deref for Spawned {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Spawned {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn output(cmd: &mut Command) -> (Output, String, String) {
    let out = cmd.output().expect("pgrest-host runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

pub(crate) fn temp_file(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("temp file written");
    path
}

#[test]
fn help_version_and_bad_options() {
    let (out, stdout, _) = output(&mut binary(&["--help"]));
    assert!(out.status.success());
    assert!(stdout.starts_with("Usage: pgrest-host "), "{stdout}");
    for option in [
        "--version",
        "--example",
        "--dump-config",
        "--dump-schema",
        "FILENAME",
    ] {
        assert!(stdout.contains(option), "{option} in {stdout}");
    }
    let (out, stdout, _) = output(&mut binary(&["-v"]));
    assert!(out.status.success());
    assert!(stdout.starts_with("pgrest 0."), "{stdout}");
    let (out, stdout, stderr) = output(&mut binary(&["--bogus"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.is_empty());
    assert!(
        stderr.starts_with("Invalid option `--bogus'\n\nUsage:"),
        "{stderr}"
    );
}

#[test]
fn the_example_file_holds_the_defaults() {
    let (out, example, _) = output(&mut binary(&["--example"]));
    assert!(out.status.success());
    assert!(example.contains("db-uri = \"postgresql://\""), "{example}");
    assert_eq!(
        Config::resolve(Some(&example), &[], &[]).unwrap(),
        Config::default()
    );
}

#[test]
fn dump_config_merges_the_file_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = temp_file(
        &dir,
        "pgrest.conf",
        "# app settings\ndb-pool = 3\ndb-schema = \"api, v2\"\nmax-rows = 100\n\
         db-prepared-statements = off\nlog-level = \"info\"\n",
    );
    let (out, stdout, stderr) = output(
        binary(&["--dump-config", file.to_str().unwrap()])
            .env("PGRST_DB_POOL", "5")
            .env("PGRST_SERVER_PORT", "8080")
            .env("PGRST_APP_SETTINGS_jwt_exp", "3600"),
    );
    assert!(out.status.success(), "{stderr}");
    for line in [
        "db-pool = 5",
        "db-schemas = \"api,v2\"",
        "db-max-rows = 100",
        "db-prepared-statements = false",
        "log-level = \"info\"",
        "server-port = 8080",
        "db-anon-role = \"\"",
        "db-uri = \"postgresql://\"",
        "app.settings.jwt_exp = \"3600\"",
        "jwt-role-claim-key = \"$$.role\"",
        "jwt-cache-max-entries = 1000",
    ] {
        assert!(stdout.lines().any(|l| l == line), "{line:?} in\n{stdout}");
    }
}

#[test]
fn jwt_secret_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let secret = temp_file(&dir, "secret", "reallyreallyreallyreallyverysafe\n");
    let file = temp_file(
        &dir,
        "pgrest.conf",
        &format!("jwt-secret = \"@{}\"\n", secret.display()),
    );
    let (out, stdout, stderr) = output(&mut binary(&["--dump-config", file.to_str().unwrap()]));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l == "jwt-secret = \"reallyreallyreallyreallyverysafe\""),
        "{stdout}"
    );
    // The file's contents are validated like a secret given inline.
    let short = temp_file(&dir, "short", "tooshort\n");
    let (out, _, stderr) =
        output(binary(&["--dump-config"]).env("PGRST_JWT_SECRET", format!("@{}", short.display())));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr,
        "pgrest: The JWT secret must be at least 32 characters long.\n"
    );
}

/// JSON in `jwt-secret` is keys or nothing: a JWKS key pgrest cannot use
/// is skipped with a warning, a JWKS left without keys or JSON that is no
/// JWK stops the start-up (PostgREST would take the text as an HMAC secret).
#[test]
fn jwt_secret_json_that_gives_no_key_stops_the_binary() {
    let rsa = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "good"});
    let verify = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "v", "use": "verify"});
    let (out, _, stderr) = output(
        binary(&["--dump-config"])
            .env("PGRST_DB_CONFIG", "false")
            .env(
                "PGRST_JWT_SECRET",
                json!({"keys": [rsa, verify]}).to_string(),
            ),
    );
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr,
        "Warning: jwt-secret: skipped the JWKS's key 2 (kid \"v\"): it has use \"verify\", \
         which pgrest does not support\n"
    );
    for (secret, message) in [
        (
            json!({"keys": [verify]}).to_string(),
            "pgrest: jwt-secret: the JWKS holds no key pgrest can verify tokens with; skipped \
             the JWKS's key 1 (kid \"v\"): it has use \"verify\", which pgrest does not support\n",
        ),
        (
            json!({"secret": "an HMAC secret of at least 32 characters"}).to_string(),
            "pgrest: jwt-secret is JSON but neither a JWK nor a JWKS ({\"keys\": [...]}); JSON \
             text is never used as an HMAC secret\n",
        ),
    ] {
        // The server itself, not only --dump-config, refuses to start.
        let mut env = base_env();
        env.push(("PGRST_JWT_SECRET".into(), secret));
        let (out, _, stderr) = output(binary(&[]).envs(env));
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert_eq!(stderr, message);
    }
}

#[test]
fn dump_schema_prints_the_schema_cache() {
    let (out, stdout, stderr) = output(
        binary(&["--dump-schema"])
            .env(
                "PGRST_DB_URI",
                cluster().conninfo("Authenticator", "postgres"),
            )
            .env("PGRST_DB_SCHEMAS", "test"),
    );
    assert!(out.status.success(), "{stderr}");
    let cache: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert!(cache.to_string().contains("\"items\""), "{stdout}");
}

#[test]
fn configuration_errors_stop_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let file = temp_file(&dir, "bad.conf", "db-pool = 3\ndb-uri = 'single quotes'\n");
    let (out, _, stderr) = output(&mut binary(&["--dump-config", file.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.starts_with("pgrest: config file, line 2, column 10: expected a value"),
        "{stderr}"
    );
    let (out, _, stderr) = output(binary(&["--dump-config"]).env("PGRST_DB_TX_END", "never"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr,
        "pgrest: Invalid transaction termination. Check your configuration.\n"
    );
    let (out, _, stderr) = output(&mut binary(&["/nonexistent/pgrest.conf"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.starts_with("pgrest: reading config file /nonexistent/pgrest.conf:"),
        "{stderr}"
    );
}

/// Lines of a child's stdout, read on a thread.
pub(crate) fn lines_of(child: &mut Child) -> Receiver<String> {
    lines_from(child.stdout.take().expect("piped stdout"))
}

/// The lines of a stream (a child's stdout or stderr), as they come.
pub(crate) fn lines_from(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

pub(crate) fn next_line(lines: &Receiver<String>, wanted: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .expect("the expected output line in time");
        if wanted(&line) {
            return line;
        }
    }
}

/// The real binary with a config file whose `db-uri` is `@file`, a schema the
/// environment overrides, and the request log at `info`.
#[tokio::test]
async fn the_binary_serves_a_config_file_with_environment_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let uri_file = temp_file(
        &dir,
        "db-uri",
        &format!("{}\n", cluster().conninfo("Authenticator", "postgres")),
    );
    let file = temp_file(
        &dir,
        "pgrest.conf",
        &format!(
            "db-uri = \"@{}\"\ndb-schemas = \"no_such_schema\"\ndb-anon-role = \"Web Anon\"\n\
             server-host = \"127.0.0.1\"\nserver-port = 0\nlog-level = \"info\"\n",
            uri_file.display()
        ),
    );
    let mut child = Spawned::start(
        binary(&[file.to_str().unwrap()])
            .env("PGRST_DB_SCHEMAS", "test")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit()),
    );
    let lines = lines_of(&mut child);
    let listening = next_line(&lines, |l| l.starts_with("pgrest listening on "));
    let base = listening
        .trim_start_matches("pgrest listening on ")
        .to_string();

    let r = send(client().get(format!("{base}/items?select=id&id=lt.3&order=id"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([{"id": 1}, {"id": 2}]));
    let log = next_line(&lines, |l| l.contains("\"GET /items"));
    assert!(
        log.starts_with("127.0.0.1 - - ["),
        "combined log format: {log}"
    );
    let size = r.text.len();
    assert!(
        log.ends_with(&format!(
            "] \"GET /items?select=id&id=lt.3&order=id HTTP/1.1\" 200 {size} \"\" \"\""
        )),
        "{log}"
    );

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM sent");
    let status = child.wait().expect("pgrest-host exits");
    assert!(status.success(), "{status}");
}

#[test]
fn invalid_configuration_is_refused_at_start() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut env = base_env();
    env.push(("PGRST_DB_SCHEMAS".into(), "test,pg_catalog".into()));
    let err = rt.block_on(pgrest_host::start(env)).err().unwrap();
    assert_eq!(
        err.to_string(),
        "db-schemas does not allow schema: 'pg_catalog'"
    );
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| Pki::generate().expect("test certificates"))
}

/// A cluster listening on 127.0.0.1 with `ssl=on`, and a view that tells
/// whether the connection reading it uses TLS.
fn tls_cluster() -> &'static Cluster {
    static TLS: OnceLock<Cluster> = OnceLock::new();
    TLS.get_or_init(|| {
        let cluster = Cluster::start_with(Options {
            tls: Some(pki().server.clone()),
            ..Options::default()
        })
        .expect("starting the TLS cluster");
        cluster
            .psql_exec(
                "CREATE ROLE tls_anon NOLOGIN;
                 CREATE SCHEMA tls;
                 CREATE VIEW tls.connection AS
                   SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid();
                 GRANT USAGE ON SCHEMA tls TO tls_anon;
                 GRANT SELECT ON tls.connection TO tls_anon;
                 -- pg_stat_ssl hides other roles' sessions (the login role is postgres).
                 GRANT pg_read_all_stats TO tls_anon;",
            )
            .expect("TLS fixture");
        cluster
            .psql_exec(
                "CREATE ROLE tls_only LOGIN SUPERUSER;
                 CREATE ROLE scram_user LOGIN SUPERUSER PASSWORD 'secret';
                 CREATE ROLE password_user LOGIN SUPERUSER PASSWORD 'secret';",
            )
            .expect("TLS-only and password roles");
        // `tls_only` may log in over TLS only: what `allow` falls back to;
        // `scram_user` and `password_user` authenticate as their names say.
        cluster
            .prepend_hba(
                "hostnossl all tls_only all reject\n\
                 host all scram_user all scram-sha-256\n\
                 host all password_user all password",
            )
            .expect("pg_hba.conf");
        cluster
    })
}

fn ca_file(dir: &tempfile::TempDir, pem: &str) -> PathBuf {
    temp_file(dir, "ca.pem", pem)
}

/// Starts a server on the TLS cluster with `extra` appended to the conninfo.
fn start_tls_server(conninfo: String) -> Result<Server, String> {
    let env = vec![
        ("PGRST_DB_URI".to_string(), conninfo),
        ("PGRST_DB_SCHEMAS".to_string(), "tls".to_string()),
        ("PGRST_DB_ANON_ROLE".to_string(), "tls_anon".to_string()),
        ("PGRST_SERVER_HOST".to_string(), "127.0.0.1".to_string()),
        ("PGRST_SERVER_PORT".to_string(), "0".to_string()),
        ("HOME".to_string(), "/nonexistent".to_string()),
    ];
    Server::try_start(env)
}

fn conninfo(host: &str, extra: &str) -> String {
    conninfo_as("postgres", host, extra)
}

fn conninfo_as(user: &str, host: &str, extra: &str) -> String {
    let base = tls_cluster().tcp_conninfo(user, "postgres");
    format!(
        "{} {extra}",
        base.replace("host=127.0.0.1", &format!("host={host}"))
    )
}

/// What the server's own connection reports from `pg_stat_ssl`.
async fn connection_ssl(server: &Server) -> serde_json::Value {
    let r = send(client().get(server.url("/connection?select=ssl,version"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

#[tokio::test]
async fn sslmode_require_connects_with_tls() {
    let server = start_tls_server(conninfo("127.0.0.1", "sslmode=require")).unwrap();
    let body = connection_ssl(&server).await;
    assert_eq!(body[0]["ssl"], json!(true), "{body}");
    assert!(
        body[0]["version"].as_str().unwrap().starts_with("TLSv1."),
        "{body}"
    );
}

#[tokio::test]
async fn sslmode_prefer_is_the_default_and_uses_tls() {
    let server = start_tls_server(conninfo("127.0.0.1", "")).unwrap();
    assert_eq!(
        connection_ssl(&server).await,
        json!([{"ssl": true, "version": "TLSv1.3"}])
    );
}

/// A client's hang-up cancels the statement over a TLS session too: the
/// CancelRequest goes to the session's address, over TLS.
#[tokio::test]
async fn a_hang_up_cancels_over_tls() {
    tls_cluster()
        .psql_exec(
            "CREATE OR REPLACE VIEW tls.sleepy AS SELECT 1 AS slept FROM pg_sleep(30);
             GRANT SELECT ON tls.sleepy TO tls_anon;",
        )
        .expect("view");
    let name = "pgrest_tls_cancel";
    let extra = format!("sslmode=require application_name={name}");
    let server = start_tls_server(conninfo("127.0.0.1", &extra)).unwrap();
    let sent = client()
        .get(server.url("/sleepy"))
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(sent.is_err(), "the request should have been cut off");
    let db = superuser_of(tls_cluster()).await;
    assert!(stops_running(&db, name).await, "the backend still sleeps");
}

#[tokio::test]
async fn hostaddr_connects_without_looking_the_host_name_up() {
    // With libpq's TCP options too: each is set on the socket (an option the
    // kernel refused would fail the connection).
    let options = "hostaddr=127.0.0.1 sslmode=disable keepalives_idle=30 keepalives_interval=5 \
                   keepalives_retries=3 tcp_user_timeout=10000";
    let server = start_tls_server(conninfo("db.invalid", options)).unwrap();
    assert_eq!(
        connection_ssl(&server).await,
        json!([{"ssl": false, "version": null}])
    );
}

#[tokio::test]
async fn target_session_attrs_skips_a_server_of_the_wrong_kind() {
    let server =
        start_tls_server(conninfo("127.0.0.1", "target_session_attrs=read-write")).unwrap();
    assert_eq!(connection_ssl(&server).await[0]["ssl"], json!(true));
    // The only server is a primary: none is read-only.
    let err = start_tls_server(conninfo("127.0.0.1", "target_session_attrs=read-only"))
        .err()
        .unwrap();
    assert!(
        err.contains("the server's session is not read-only"),
        "{err}"
    );
}

#[tokio::test]
async fn sslmode_disable_and_allow_connect_in_plain_text() {
    for mode in ["disable", "allow"] {
        let server = start_tls_server(conninfo("127.0.0.1", &format!("sslmode={mode}"))).unwrap();
        assert_eq!(
            connection_ssl(&server).await,
            json!([{"ssl": false, "version": null}]),
            "sslmode={mode}"
        );
    }
}

#[tokio::test]
async fn sslmode_allow_falls_back_to_tls() {
    let server = start_tls_server(conninfo_as("tls_only", "127.0.0.1", "sslmode=allow")).unwrap();
    assert_eq!(connection_ssl(&server).await[0]["ssl"], json!(true));
    let err = start_tls_server(conninfo_as("tls_only", "127.0.0.1", "sslmode=disable"))
        .err()
        .unwrap();
    assert!(err.contains("pg_hba.conf rejects connection"), "{err}");
}

#[tokio::test]
async fn verify_full_checks_the_chain_and_the_host_name() {
    let dir = tempfile::tempdir().unwrap();
    let ca = ca_file(&dir, &pki().ca_pem);
    let root = format!("sslrootcert='{}'", ca.display());
    let server = start_tls_server(conninfo(
        "localhost",
        &format!("sslmode=verify-full {root}"),
    ))
    .unwrap();
    assert_eq!(connection_ssl(&server).await[0]["ssl"], json!(true));
    // The certificate names `localhost`, not 127.0.0.1: verify-ca accepts
    // it, verify-full does not.
    let server =
        start_tls_server(conninfo("127.0.0.1", &format!("sslmode=verify-ca {root}"))).unwrap();
    assert_eq!(connection_ssl(&server).await[0]["ssl"], json!(true));
    let err = start_tls_server(conninfo(
        "127.0.0.1",
        &format!("sslmode=verify-full {root}"),
    ))
    .err()
    .unwrap();
    assert!(
        err.starts_with("could not connect to the database: error performing TLS handshake")
            && err.contains("certificate not valid for name"),
        "{err}"
    );
}

#[tokio::test]
async fn an_untrusted_certificate_fails_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let other = ca_file(&dir, &pki().other_ca_pem);
    let uri = format!(
        "postgresql://postgres@localhost:{}/postgres?sslmode=verify-full&sslrootcert={}",
        tls_cluster().port(),
        other.display()
    );
    let err = start_tls_server(uri).err().unwrap();
    assert!(
        err.starts_with("could not connect to the database: error performing TLS handshake")
            && err.contains("invalid peer certificate: UnknownIssuer"),
        "{err}"
    );
    // Through PGSSLMODE / PGSSLROOTCERT too, and with `require` (a root
    // certificate makes libpq check the chain).
    let mut env = vec![
        ("PGRST_DB_URI".to_string(), conninfo("localhost", "")),
        ("PGSSLMODE".to_string(), "require".to_string()),
        ("PGSSLROOTCERT".to_string(), other.display().to_string()),
        ("PGRST_SERVER_PORT".to_string(), "0".to_string()),
    ];
    env.push(("PGRST_DB_SCHEMAS".to_string(), "tls".to_string()));
    let err = Server::try_start(env).err().unwrap();
    assert!(err.contains("UnknownIssuer"), "{err}");
}

#[test]
fn unix_sockets_never_use_tls() {
    // The shared cluster has no TLS at all: `require` over its unix socket
    // still connects, as with libpq.
    let server = Server::start(base_env_with_conninfo("sslmode=require"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let r = rt.block_on(send(client().get(server.url("/items?select=id&id=eq.1"))));
    assert_eq!(r.status, 200, "{}", r.text);
}

/// The TLS cluster's `scram_user`, its password given, and `extra`.
fn scram_user(extra: &str) -> String {
    conninfo_as(
        "scram_user",
        "127.0.0.1",
        &format!("password=secret {extra}"),
    )
}

/// `require_auth` as libpq 16 reads it: the server may ask for the methods
/// listed (or for any but the `!`-negated ones), others are refused.
#[tokio::test]
async fn require_auth_limits_the_methods_the_server_may_ask_for() {
    let scram = scram_user;
    let plain = |extra: &str| {
        conninfo_as(
            "password_user",
            "127.0.0.1",
            &format!("password=secret sslmode=disable {extra}"),
        )
    };
    let server = start_tls_server(scram("require_auth=scram-sha-256")).unwrap();
    assert_eq!(connection_ssl(&server).await[0]["ssl"], json!(true));
    drop(server);
    start_tls_server(plain("require_auth=!md5,!scram-sha-256")).unwrap();
    for (conninfo, refusal) in [
        (
            scram("require_auth=md5"),
            "authentication method requirement \"md5\" failed: server requested SASL \
             authentication",
        ),
        (
            plain("require_auth=!password"),
            "authentication method requirement \"!password\" failed: server requested a \
             cleartext password",
        ),
        // `postgres` logs in with trust: no authentication at all.
        (
            conninfo("127.0.0.1", "require_auth=scram-sha-256"),
            "authentication method requirement \"scram-sha-256\" failed: server did not \
             complete authentication",
        ),
    ] {
        let err = start_tls_server(conninfo.clone()).err().unwrap();
        assert!(err.contains(refusal), "{conninfo}: {err}");
    }
    let err = start_tls_server(scram("require_auth=scram")).err().unwrap();
    assert!(
        err.contains("invalid require_auth value: \"scram\""),
        "{err}"
    );
}

/// A cleartext password over TCP without TLS is sent (the server asked for
/// it and `require_auth` allows it) with a warning; over TLS, without one.
#[test]
fn a_cleartext_password_over_plain_tcp_is_logged() {
    let warning = "Warning: the database asks for a cleartext password; it is sent over an \
                   unencrypted TCP connection";
    for (sslmode, warned) in [("disable", true), ("require", false)] {
        let uri = conninfo_as(
            "password_user",
            "127.0.0.1",
            &format!("password=secret sslmode={sslmode}"),
        );
        let (out, _, stderr) = output(
            binary(&["--dump-schema"])
                .env("PGRST_DB_URI", uri)
                .env("PGRST_DB_SCHEMAS", "tls")
                .env("HOME", "/nonexistent"),
        );
        assert!(out.status.success(), "{stderr}");
        assert_eq!(
            stderr.contains(warning),
            warned,
            "sslmode={sslmode}: {stderr}"
        );
    }
}

/// `channel_binding=require`: SCRAM-SHA-256-PLUS over TLS, bound to the
/// server's certificate; over plain TCP the server cannot offer it, so the
/// connection is refused before the client's first SCRAM message.
#[tokio::test]
async fn channel_binding_require_needs_scram_over_tls() {
    let scram = |extra: &str| scram_user(&format!("channel_binding=require {extra}"));
    let server = start_tls_server(scram("sslmode=require")).unwrap();
    assert_eq!(connection_ssl(&server).await[0]["ssl"], json!(true));
    drop(server);
    // `disable`: plain SCRAM-SHA-256 although the server offers binding.
    let server = start_tls_server(scram_user("sslmode=require channel_binding=disable")).unwrap();
    assert_eq!(connection_ssl(&server).await[0]["ssl"], json!(true));
    drop(server);
    let err = start_tls_server(scram("sslmode=disable")).err().unwrap();
    assert!(
        err.contains(
            "channel binding is required, but server did not offer an authentication method \
             that supports channel binding"
        ),
        "{err}"
    );
    let err = start_tls_server(conninfo_as(
        "password_user",
        "127.0.0.1",
        "password=secret channel_binding=require",
    ))
    .err()
    .unwrap();
    assert!(
        err.contains(
            "channel binding required but not supported by server's authentication request"
        ),
        "{err}"
    );
}

/// A server that runs SCRAM but never proves it knows the password: it
/// skips AuthenticationSASLFinal, or sends a signature that does not verify;
/// and one that offers SCRAM-SHA-256-PLUS without TLS (a proxy that
/// stripped TLS), which libpq refuses before the client's first message.
#[tokio::test]
async fn scram_needs_the_servers_signature() {
    const SCRAM: &[u8] = b"SCRAM-SHA-256\0\0";
    for (mechanisms, final_message, refusal) in [
        (
            SCRAM,
            None,
            "the server ended SCRAM authentication without proving it knows the password",
        ),
        (
            SCRAM,
            Some("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            "the server's SCRAM signature does not verify",
        ),
        (
            b"SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0",
            None,
            "server offered SCRAM-SHA-256-PLUS authentication over a non-SSL connection",
        ),
    ] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let fake = tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                tokio::spawn(fake_scram_peer(stream, mechanisms, final_message));
            }
        });
        let env = vec![
            (
                "PGRST_DB_URI".to_string(),
                format!("host=127.0.0.1 port={port} user=u password=p sslmode=disable"),
            ),
            ("PGRST_DB_CONFIG".to_string(), "false".to_string()),
            ("PGRST_SERVER_PORT".to_string(), "0".to_string()),
        ];
        let err = tokio::task::spawn_blocking(move || Server::try_start(env).err().unwrap())
            .await
            .unwrap();
        assert!(err.contains(refusal), "{err}");
        fake.abort();
    }
}

/// Offers `mechanisms`, speaks SCRAM-SHA-256 up to the client's final
/// message, then sends `final_message` as AuthenticationSASLFinal (none:
/// straight to AuthenticationOk) and ReadyForQuery. Ends quietly when the
/// client hangs up.
async fn fake_scram_peer(
    mut stream: tokio::net::TcpStream,
    mechanisms: &[u8],
    final_message: Option<&str>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    async fn read_message(
        stream: &mut tokio::net::TcpStream,
        typed: bool,
    ) -> std::io::Result<Vec<u8>> {
        if typed {
            stream.read_u8().await?;
        }
        let len = stream.read_u32().await? as usize;
        let mut body = vec![0; len.saturating_sub(4)];
        stream.read_exact(&mut body).await?;
        Ok(body)
    }
    fn auth(code: u32, data: &[u8]) -> Vec<u8> {
        let mut m = vec![b'R'];
        m.extend_from_slice(&(8 + data.len() as u32).to_be_bytes());
        m.extend_from_slice(&code.to_be_bytes());
        m.extend_from_slice(data);
        m
    }
    read_message(&mut stream, false).await?;
    stream.write_all(&auth(10, mechanisms)).await?;
    let initial = read_message(&mut stream, true).await?;
    // Mechanism name, its NUL, the data's length, then "n,,n=,r=<nonce>".
    let client_first = String::from_utf8_lossy(&initial[18..]).into_owned();
    let nonce = client_first.split_once(",r=").expect("a client nonce").1;
    let server_first = format!("r={nonce}server,s=c2FsdHNhbHQ=,i=4096");
    stream.write_all(&auth(11, server_first.as_bytes())).await?;
    read_message(&mut stream, true).await?;
    if let Some(v) = final_message {
        stream.write_all(&auth(12, v.as_bytes())).await?;
    }
    stream.write_all(&auth(0, b"")).await?;
    stream.write_all(b"Z\0\0\0\x05I").await
}
