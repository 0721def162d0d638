//! What fails one request stays with that request: a statement that cannot
//! be encoded, or a connection that answers out of protocol, is that
//! request's error, and the server does not start recovering (no
//! `Retry-After`, no 503) as it does when the database itself goes away.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use serde_json::json;

use crate::harness::{Reply, Server, base_env, client, cluster, send};

fn assert_no_recovery(r: &Reply) {
    assert_ne!(r.status, 503, "{}", r.text);
    assert_eq!(r.header("retry-after"), None, "{}", r.text);
}

#[tokio::test]
async fn a_nul_byte_is_a_client_error() {
    let server = Server::start(base_env());
    // A quoted column name holding a NUL byte.
    let r = send(client().get(server.url("/items?select=%22a%00%22"))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_no_recovery(&r);
    let r = send(client().get(server.url("/items?id=eq.1&select=id"))).await;
    assert_eq!((r.status, r.body), (200, json!([{"id": 1}])));
}

/// A TCP front for the cluster's socket that, once armed, puts a message the
/// protocol does not allow there (CopyDone) ahead of the server's answer to
/// the next pipeline a connection sends.
async fn meddler() -> (u16, Arc<AtomicBool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    let armed = Arc::new(AtomicBool::new(false));
    let arm = armed.clone();
    let socket = cluster()
        .socket_dir()
        .join(format!(".s.PGSQL.{}", cluster().port()));
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let mut server = tokio::net::UnixStream::connect(&socket)
                .await
                .expect("cluster socket");
            let armed = armed.clone();
            tokio::spawn(async move {
                let (mut up, mut down) = (vec![0; 8192], vec![0; 8192]);
                let mut inject = false;
                loop {
                    tokio::select! {
                        read = client.read(&mut up) => {
                            let Ok(n @ 1..) = read else { break };
                            inject |= armed.swap(false, Ordering::SeqCst);
                            if server.write_all(&up[..n]).await.is_err() {
                                break;
                            }
                        }
                        read = server.read(&mut down) => {
                            let Ok(n @ 1..) = read else { break };
                            if std::mem::take(&mut inject)
                                && client.write_all(&[b'c', 0, 0, 0, 4]).await.is_err()
                            {
                                break;
                            }
                            if client.write_all(&down[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
    });
    (port, arm)
}

// Two threads: `Server::start` blocks one while the front runs on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_out_of_protocol_answer_fails_its_request_alone() {
    let (port, armed) = meddler().await;
    let mut env = base_env();
    for (key, value) in &mut env {
        if key == "PGRST_DB_URI" {
            *value = format!("host=127.0.0.1 port={port} user=Authenticator dbname=postgres");
        }
    }
    env.push(("PGRST_DB_POOL".into(), "1".into()));
    env.push(("PGRST_DB_CHANNEL_ENABLED".into(), "false".into()));
    let server = Server::start(env);
    let item = || send(client().get(server.url("/items?id=eq.1&select=id")));
    assert_eq!(item().await.status, 200);

    armed.store(true, Ordering::SeqCst);
    let r = item().await;
    assert_eq!(
        (r.status, &r.body["code"]),
        (500, &json!("PGRSTX00")),
        "{}",
        r.text
    );
    assert_no_recovery(&r);
    // A new connection serves the next request.
    let r = item().await;
    assert_eq!((r.status, r.body), (200, json!([{"id": 1}])));
}
