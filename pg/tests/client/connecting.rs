//! Opening a connection as libpq would: password authentication,
//! `require_auth`, `sslmode` and `channel_binding`.

use crate::common::{ca_file, connect, query, tcp, uses_tls};

/// Why connecting with `conninfo` failed; a panic if it did not.
async fn refused(conninfo: &str) -> String {
    match connect(conninfo).await {
        Ok(_) => panic!("connected with {conninfo}"),
        Err(why) => why,
    }
}

#[tokio::test]
async fn scram_sha_256_logs_in_with_the_right_password_only() {
    let mut lease = connect(&tcp("scram_user", "password=secret sslmode=disable"))
        .await
        .expect("SCRAM login");
    assert_eq!(
        query(&mut lease, "SELECT current_user").await.as_deref(),
        Some("scram_user")
    );
    lease.release(true);

    let wrong = refused(&tcp("scram_user", "password=wrong sslmode=disable")).await;
    assert!(
        wrong.contains("password authentication failed") && wrong.contains("28P01"),
        "{wrong}"
    );
    let missing = refused(&tcp("scram_user", "sslmode=disable")).await;
    assert!(missing.contains("password missing"), "{missing}");
}

#[tokio::test]
async fn require_auth_limits_what_the_server_may_ask_for() {
    let scram = tcp(
        "scram_user",
        "password=secret sslmode=disable require_auth=scram-sha-256",
    );
    connect(&scram)
        .await
        .expect("SCRAM is allowed")
        .release(true);

    for (conninfo, refusal) in [
        (
            tcp(
                "scram_user",
                "password=secret sslmode=disable require_auth=md5",
            ),
            "authentication method requirement \"md5\" failed: server requested SASL \
             authentication",
        ),
        // `postgres` is trusted: no authentication at all.
        (
            tcp("postgres", "sslmode=disable require_auth=scram-sha-256"),
            "authentication method requirement \"scram-sha-256\" failed: server did not \
             complete authentication",
        ),
    ] {
        assert_eq!(refused(&conninfo).await, refusal);
    }
    let none_allowed = tcp("postgres", "sslmode=disable require_auth=none");
    connect(&none_allowed).await.expect("none").release(true);
}

#[tokio::test]
async fn sslmode_decides_whether_the_session_uses_tls() {
    for (mode, tls) in [("disable", false), ("prefer", true), ("require", true)] {
        let mut lease = connect(&tcp("postgres", &format!("sslmode={mode}")))
            .await
            .expect(mode);
        assert_eq!(uses_tls(&mut lease).await, tls, "sslmode={mode}");
        lease.release(true);
    }
    // `allow` tries without TLS first; `tls_only` is refused there.
    let mut lease = connect(&tcp("tls_only", "sslmode=allow"))
        .await
        .expect("allow");
    assert!(uses_tls(&mut lease).await);
    lease.release(true);
    let err = refused(&tcp("tls_only", "sslmode=disable")).await;
    assert!(err.contains("28000"), "{err}");
    // Never on a unix socket, even when required.
    let unix = format!("{} sslmode=require", crate::common::unix());
    let mut lease = connect(&unix).await.expect("unix socket");
    assert!(!uses_tls(&mut lease).await);
    lease.release(true);
}

#[tokio::test]
async fn verify_full_checks_the_chain_and_the_host_name() {
    let port = crate::common::cluster().port();
    let verify = |host: &str, trusted: bool| {
        format!(
            "host={host} port={port} user=postgres dbname=postgres sslmode=verify-full \
             sslrootcert={}",
            ca_file(trusted).display()
        )
    };
    let mut lease = connect(&verify("localhost", true)).await.expect("verified");
    assert!(uses_tls(&mut lease).await);
    lease.release(true);

    let err = refused(&verify("localhost", false)).await;
    assert!(
        err.contains("error performing TLS handshake") && err.contains("UnknownIssuer"),
        "{err}"
    );
    // The certificate names localhost, not the address.
    let err = refused(&verify("127.0.0.1", true)).await;
    assert!(err.contains("certificate not valid for name"), "{err}");
    // verify-ca checks the chain only.
    let ca_only = verify("127.0.0.1", true).replace("verify-full", "verify-ca");
    connect(&ca_only).await.expect("verify-ca").release(true);
}

#[tokio::test]
async fn channel_binding_require_needs_scram_plus_over_tls() {
    let bound = tcp(
        "scram_user",
        "password=secret sslmode=require channel_binding=require",
    );
    let mut lease = connect(&bound).await.expect("SCRAM-SHA-256-PLUS");
    assert!(uses_tls(&mut lease).await);
    lease.release(true);

    for (conninfo, refusal) in [
        (
            tcp(
                "scram_user",
                "password=secret sslmode=disable channel_binding=require",
            ),
            "channel binding is required, but server did not offer an authentication method \
             that supports channel binding",
        ),
        // A trusted login authenticates nobody, so nothing was bound.
        (
            tcp("postgres", "sslmode=require channel_binding=require"),
            "channel binding required, but server authenticated client without channel binding",
        ),
    ] {
        assert_eq!(refused(&conninfo).await, refusal);
    }
}
