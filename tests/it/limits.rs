//! Slow and greedy clients, on raw sockets: a stalled head, an idle body,
//! an idle kept-alive (or HTTP/2) connection and the connection cap are cut
//! off as configured; a body too large, a refused token, an unknown table
//! or method is answered from the head alone; bodies past the bytes in
//! flight wait, then get 503; a 50 MB bulk insert passes with the
//! defaults, and the translator instance a huge body grew is retired.

use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{Server, base_env, client, shared};

const SECRET: &str = "reallyreallyreallyreallyverysafe";

/// How long any exchange here may take before the test calls it a hang.
const HANG: Duration = Duration::from_secs(15);

/// One-second timeouts, a JWT secret and the admin server.
fn quick() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let mut env = base_env();
        for (name, value) in [
            ("PGRST_SERVER_READ_HEADER_TIMEOUT", "1"),
            ("PGRST_SERVER_BODY_TIMEOUT", "1"),
            ("PGRST_SERVER_IDLE_TIMEOUT", "1"),
            ("PGRST_JWT_SECRET", SECRET),
            ("PGRST_ADMIN_SERVER_PORT", "0"),
        ] {
            env.push((name.into(), value.into()));
        }
        Server::start(env)
    })
}

async fn connect(server: &Server) -> TcpStream {
    TcpStream::connect(server.addr).await.expect("connect")
}

/// Everything the server sends until it closes the connection.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    tokio::time::timeout(HANG, stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

/// One response (head and `content-length` body), leaving the connection open.
async fn one_response(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
        let n = tokio::time::timeout(HANG, stream.read(&mut buf))
            .await
            .expect("an answer")
            .expect("read");
        assert!(n > 0, "closed before a whole response: {text}");
        answer.extend_from_slice(&buf[..n]);
    }
}

/// The status line and the body's `code` of an answer.
fn status_and_code(answer: &str) -> (&str, String) {
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
    let body: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
    (
        head.lines().next().unwrap_or_default(),
        body["code"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn a_half_head_gets_408_and_is_closed() {
    let mut stream = connect(quick()).await;
    stream
        .write_all(b"GET /items HTTP/1.1\r\nHost: t\r\nAccept: app")
        .await
        .expect("written");
    let answer = until_closed(&mut stream).await;
    let (status, code) = status_and_code(&answer);
    assert_eq!(status, "HTTP/1.1 408 Request Timeout", "{answer}");
    assert_eq!(code, "PGRSTX03");
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_without_an_answer() {
    let mut stream = connect(quick()).await;
    assert_eq!(until_closed(&mut stream).await, "");
}

#[tokio::test]
async fn an_idle_body_is_cut_with_408() {
    let mut stream = connect(quick()).await;
    let head = "POST /w_body HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[{\"name\":";
    stream.write_all(head.as_bytes()).await.expect("written");
    let answer = until_closed(&mut stream).await;
    let (status, code) = status_and_code(&answer);
    assert_eq!(status, "HTTP/1.1 408 Request Timeout", "{answer}");
    assert_eq!(code, "PGRSTX03");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let mut stream = connect(quick()).await;
    stream
        .write_all(b"GET /items?limit=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .expect("written");
    let first = one_response(&mut stream).await;
    assert!(first.starts_with("HTTP/1.1 200 OK"), "{first}");
    // Served, then idle: closed after server-idle-timeout, silently.
    assert_eq!(until_closed(&mut stream).await, "");
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed_without_an_http1_answer() {
    let mut stream = connect(quick()).await;
    // The client preface and an empty SETTINGS frame, then nothing.
    let mut preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    preface.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    stream.write_all(&preface).await.expect("written");
    let mut answer = Vec::new();
    tokio::time::timeout(HANG, stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .expect("read");
    // Only HTTP/2 frames came: the server's SETTINGS (type 4) first.
    assert_eq!(answer.get(3), Some(&4), "{answer:?}");
    assert!(!answer.starts_with(b"HTTP/1.1"));
}

#[tokio::test]
async fn connections_past_the_cap_wait_until_one_closes() {
    let mut env = base_env();
    env.push(("PGRST_SERVER_MAX_CONNECTIONS".into(), "2".into()));
    let server = Server::start(env);
    let first = connect(&server).await;
    let mut second = connect(&server).await;
    second
        .write_all(b"GET /items?limit=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .expect("written");
    assert!(one_response(&mut second).await.starts_with("HTTP/1.1 200"));
    // The third connects (the kernel's backlog) but is not served...
    let mut third = connect(&server).await;
    third
        .write_all(b"GET /items?limit=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .expect("written");
    let mut byte = [0u8; 1];
    let waited = tokio::time::timeout(Duration::from_millis(1500), third.read(&mut byte)).await;
    assert!(waited.is_err(), "served past the cap: {waited:?}");
    // ... until one of the two closes.
    drop(first);
    let answer = one_response(&mut third).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
}

#[tokio::test]
async fn a_malformed_chunk_is_400_pgrstx05() {
    let mut stream = connect(shared()).await;
    let request = "POST /w_body HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n";
    stream.write_all(request.as_bytes()).await.expect("written");
    let answer = until_closed(&mut stream).await;
    let (status, code) = status_and_code(&answer);
    assert_eq!(status, "HTTP/1.1 400 Bad Request", "{answer}");
    assert_eq!(code, "PGRSTX05");
}

#[tokio::test]
async fn a_declared_body_over_the_limit_gets_413_before_it_is_sent() {
    // Only the head is sent: the answer cannot wait for the body.
    let mut stream = connect(shared()).await;
    let head = "POST /w_body HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 200000000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("written");
    let answer = until_closed(&mut stream).await;
    let (status, code) = status_and_code(&answer);
    assert_eq!(status, "HTTP/1.1 413 Payload Too Large", "{answer}");
    assert_eq!(code, "PGRSTX02");
    assert!(answer.contains("connection: close"), "{answer}");
}

#[tokio::test]
async fn a_bad_token_is_answered_401_before_the_body_is_sent() {
    let mut stream = connect(quick()).await;
    let head = "POST /w_body HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer not.a.token\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("written");
    let answer = one_response(&mut stream).await;
    let (status, code) = status_and_code(&answer);
    assert_eq!(status, "HTTP/1.1 401 Unauthorized", "{answer}");
    assert_eq!(code, "PGRST301");
    // The client, still sending, is not reset: the body is read and dropped.
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..4 {
        tokio::time::timeout(HANG, stream.write_all(&chunk))
            .await
            .expect("the server reads on")
            .expect("not reset");
    }
}

#[tokio::test]
async fn an_unknown_table_or_method_is_answered_before_the_body_is_sent() {
    for (head, status, code) in [
        (
            "POST /no_such_table HTTP/1.1",
            "HTTP/1.1 404 Not Found",
            "PGRST205",
        ),
        (
            "TRACE /w_body HTTP/1.1",
            "HTTP/1.1 405 Method Not Allowed",
            "PGRST117",
        ),
    ] {
        let mut stream = connect(shared()).await;
        let head = format!(
            "{head}\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.expect("written");
        let answer = one_response(&mut stream).await;
        assert_eq!(status_and_code(&answer), (status, code.to_string()));
    }
}

#[tokio::test]
async fn a_body_past_the_bytes_in_flight_waits_then_gets_503() {
    let mut env = base_env();
    for (name, value) in [
        ("PGRST_SERVER_MAX_BODY_BYTES", "1048576"),
        ("PGRST_SERVER_BODY_BYTES_IN_FLIGHT", "1048576"),
        ("PGRST_SERVER_BODY_TIMEOUT", "1"),
    ] {
        env.push((name.into(), value.into()));
    }
    let server = Server::start(env);
    let post = |length: usize| {
        format!(
            "POST /w_body HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
        )
    };
    // A slow body declared at the whole budget, kept alive byte by byte.
    let mut slow = connect(&server).await;
    slow.write_all(post(1 << 20).as_bytes())
        .await
        .expect("written");
    let dribble = tokio::spawn(async move {
        loop {
            if slow.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let send_whole = || async {
        let mut stream = connect(&server).await;
        let body = vec![b' '; 600_000];
        stream
            .write_all(post(body.len()).as_bytes())
            .await
            .expect("written");
        stream.write_all(&body).await.expect("written");
        one_response(&mut stream).await
    };
    let answer = send_whole().await;
    let (status, code) = status_and_code(&answer);
    assert_eq!(status, "HTTP/1.1 503 Service Unavailable", "{answer}");
    assert_eq!(code, "PGRSTX04");
    // Once the slow body is gone, its bytes are free again.
    dribble.abort();
    let _ = dribble.await;
    let answer = send_whole().await;
    assert!(!answer.starts_with("HTTP/1.1 503"), "{answer}");
}

/// About `bytes` of JSON rows for `w_bulk`.
fn bulk_rows(bytes: usize) -> Vec<u8> {
    let note = "n".repeat(1000);
    let row = format!(r#"{{"name":"bulk","qty":1,"note":"{note}"}}"#);
    let rows = vec![row.as_str(); bytes / (row.len() + 1) + 1];
    format!("[{}]", rows.join(",")).into_bytes()
}

#[tokio::test]
async fn a_50_mb_bulk_insert_passes_with_the_defaults() {
    let body = bulk_rows(50_000_000);
    assert!(body.len() >= 50_000_000);
    let r = client()
        .post(shared().url("/w_bulk"))
        .header("Content-Type", "application/json")
        .header("Prefer", "return=minimal")
        .body(body)
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
}

/// `pgrest_component_instances_retired_total` on the admin server.
async fn instances_retired(server: &Server) -> u64 {
    let admin = server.admin_addr.expect("admin server");
    let metrics = client()
        .get(format!("http://{admin}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("pgrest_component_instances_retired_total "))
        .and_then(|n| n.parse().ok())
        .expect("the retired-instances counter")
}

#[tokio::test]
async fn an_instance_grown_by_a_huge_body_is_retired() {
    let server = quick();
    let before = instances_retired(server).await;
    let small = client()
        .post(server.url("/w_bulk"))
        .header("Content-Type", "application/json")
        .body(bulk_rows(10_000))
        .send()
        .await
        .expect("answered");
    assert_eq!(small.status(), 201);
    assert_eq!(instances_retired(server).await, before);
    let r = client()
        .post(server.url("/w_bulk"))
        .header("Content-Type", "application/json")
        .header("Prefer", "return=minimal")
        .body(bulk_rows(80_000_000))
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status(), 201);
    assert!(instances_retired(server).await > before);
}
