//! The admin server (`admin-server-port`), as PostgREST's: `/live` (200
//! while serving), `/ready` (503 while the database is unreachable or being
//! recovered),
//! `/schema_cache` (the loaded schema cache as JSON) and `/metrics`
//! (Prometheus text).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

use crate::server::AppState;

pub async fn serve(listener: TcpListener, state: Arc<AppState>) {
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let state = state.clone();
        let service = hyper::service::service_fn(move |req| answer(state.clone(), req));
        let conn = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
}

/// Why `--ready` could not learn the admin server's answer.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("connecting to the admin server at {host}:{port}: {source}")]
    Connect {
        host: String,
        port: u16,
        source: std::io::Error,
    },
    #[error("asking the admin server: {0}")]
    Ask(std::io::Error),
    #[error("reading the admin server's answer: {0}")]
    Read(std::io::Error),
    #[error("the admin server's answer is not HTTP")]
    NotHttp,
}

/// `--ready`: the status of `/ready` on the admin server at `host:port`
/// (any-address forms probe the loopback address).
pub async fn probe(host: &str, port: u16) -> Result<u16, ProbeError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = match host {
        "0.0.0.0" => "127.0.0.1",
        "::" => "::1",
        other => other,
    };
    let mut stream = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|source| ProbeError::Connect {
            host: host.to_string(),
            port,
            source,
        })?;
    let request = format!("GET /ready HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(ProbeError::Ask)?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .map_err(ProbeError::Read)?;
    String::from_utf8_lossy(&answer)
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or(ProbeError::NotHttp)
}

/// Not recovering, and the database reachable: through the listener's
/// connection when it is enabled, else by a pooled `SELECT 1`.
async fn ready(state: &AppState) -> bool {
    if state.recovery.is_recovering() {
        return false;
    }
    match &state.listening {
        Some(on) => on.load(std::sync::atomic::Ordering::Acquire),
        None => state.db.ping().await,
    }
}

async fn answer<B>(
    state: Arc<AppState>,
    req: Request<B>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, content_type, body) = match req.uri().path() {
        "/live" => (200, None, String::new()),
        "/ready" if ready(&state).await => (200, None, String::new()),
        "/ready" => (503, None, String::new()),
        "/schema_cache" => {
            let generation = state.generation.read().expect("generation lock").clone();
            match generation.with_instance(|i| i.dump_schema()) {
                Ok(json) => (200, Some("application/json; charset=utf-8"), json),
                Err(e) => (500, None, format!("{e:?}")),
            }
        }
        "/metrics" => (
            200,
            Some(crate::metrics::CONTENT_TYPE),
            crate::metrics::render(&state),
        ),
        _ => (404, None, String::new()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = hyper::StatusCode::from_u16(status).expect("a valid status");
    if let Some(content_type) = content_type {
        response.headers_mut().insert(
            "content-type",
            content_type.parse().expect("a valid header value"),
        );
    }
    Ok(response)
}
