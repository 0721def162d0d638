//! The shared cluster, its certificates and roles, and connecting to it.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use pgrest_pg::tls::{self, TlsOptions};
use pgrest_pg::{Lease, Pool};
use pgrest_throwaway_pg::{Cluster, Options, Pki};

/// Long enough for any connection to come free; a hang guard only.
pub const WAIT: Duration = Duration::from_secs(20);

/// The server's certificates, and their CAs' files: `ca.pem` (the CA that
/// signed the server's certificate) and `other.pem` (an unrelated one).
fn pki() -> &'static (Pki, tempfile::TempDir) {
    static PKI: OnceLock<(Pki, tempfile::TempDir)> = OnceLock::new();
    PKI.get_or_init(|| {
        let pki = Pki::generate().expect("test certificates");
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::write(dir.path().join("ca.pem"), &pki.ca_pem).expect("ca.pem");
        std::fs::write(dir.path().join("other.pem"), &pki.other_ca_pem).expect("other.pem");
        (pki, dir)
    })
}

/// The trusted CA's file, or the unrelated one's.
pub fn ca_file(trusted: bool) -> PathBuf {
    let name = if trusted { "ca.pem" } else { "other.pem" };
    pki().1.path().join(name)
}

/// `postgres` logs in without a password (trust); `scram_user` with
/// SCRAM-SHA-256 over TCP; `tls_only` over TLS only. The WAL is logical.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let cluster = Cluster::start_with(Options {
            tls: Some(pki().0.server.clone()),
            // Logical replication streams (replication.rs).
            settings: vec!["wal_level=logical".to_string()],
        })
        .expect("starting the cluster");
        cluster
            .psql_exec(
                "SET password_encryption = 'scram-sha-256';
                 CREATE ROLE scram_user LOGIN SUPERUSER PASSWORD 'secret';
                 CREATE ROLE tls_only LOGIN SUPERUSER;",
            )
            .expect("roles");
        cluster
            .prepend_hba(
                "hostnossl all tls_only all reject\n\
                 host all scram_user all scram-sha-256",
            )
            .expect("pg_hba.conf");
        cluster
    })
}

/// A connection string to the unix socket, as `postgres`.
pub fn unix() -> String {
    cluster().conninfo("postgres", "postgres")
}

/// A connection string to 127.0.0.1, as `user`, with `extra` parameters.
pub fn tcp(user: &str, extra: &str) -> String {
    format!("{} {extra}", cluster().tcp_conninfo(user, "postgres"))
}

/// A pool of one connection, set up as pgrest-host sets up its own: the
/// TLS parameters are taken out of the string first, and none come from
/// the environment.
pub fn pool(conninfo: &str) -> Pool {
    let (config, connect) = connector(conninfo);
    Pool::new(config, connect, 1, WAIT).expect("pool")
}

pub fn connector(conninfo: &str) -> (tokio_postgres::Config, tls::PgConnect) {
    let (rest, params) = tls::split_conninfo(conninfo).expect("conninfo");
    let env = [("HOME".to_string(), "/nonexistent".to_string())];
    let options = TlsOptions::new(&params, &env).expect("TLS options");
    let config: tokio_postgres::Config = rest.parse().expect("config");
    let connect = options.connector(&config).expect("connector");
    (config, connect)
}

/// A connection of a pool of its own, or why none could be opened.
pub async fn connect(conninfo: &str) -> Result<Lease, String> {
    pool(conninfo).get().await.map_err(|e| e.to_string())
}

/// Column 0 of the first row of `sql`.
pub async fn query(lease: &mut Lease, sql: &str) -> Option<String> {
    lease.conn().simple(sql).await.expect(sql)
}

/// Whether the session uses TLS, as the server sees it.
pub async fn uses_tls(lease: &mut Lease) -> bool {
    let ssl = query(
        lease,
        "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .await;
    ssl.as_deref() == Some("true")
}
