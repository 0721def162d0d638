//! The HTTP front: hyper serving every request through the translator.

use std::convert::Infallible;
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};

use crate::component::{Generation, wit};
use crate::db::{Db, Failure, Finish};
use crate::metrics::Metrics;
use crate::recovery::Recovery;
use crate::token_cache::TokenCache;

pub struct AppState {
    pub generation: RwLock<Arc<Generation>>,
    pub db: Db,
    pub max_body_bytes: usize,
    /// Verified tokens, across instances and schema generations.
    pub tokens: TokenCache,
    /// `server-trace-header`: echoed from the request to the response.
    pub trace_header: Option<String>,
    pub recovery: Arc<Recovery>,
    pub metrics: Metrics,
    /// The schema-cache listener holds a live connection (`None`: the
    /// listener is disabled).
    pub listening: Option<std::sync::atomic::AtomicBool>,
    /// Where the configuration came from, for `reload config`.
    pub config_source: ConfigSource,
}

/// The config file and environment the server was started with.
pub struct ConfigSource {
    pub file: Option<std::path::PathBuf>,
    pub env: Vec<(String, String)>,
}

pub type HttpResponse = Response<Full<Bytes>>;

pub async fn handle(
    state: Arc<AppState>,
    req: Request<Incoming>,
) -> Result<HttpResponse, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, state.max_body_bytes).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(host_error(
                413,
                "PGRSTX02",
                "The request body is too large or was interrupted",
                format!("At most {} bytes are accepted", state.max_body_bytes),
            ));
        }
    };
    let request = wit::HttpRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    };
    // The token epoch before the generation: see TokenCache::epoch.
    let epoch = state.tokens.epoch();
    let generation = state.generation.read().expect("generation lock").clone();
    let mut response = serve(&state, generation, epoch, request, body).await;
    if let Some(name) = &state.trace_header
        && let Some(value) = parts.headers.get(name.as_str())
        && let Ok(name) = hyper::header::HeaderName::from_bytes(name.as_bytes())
    {
        response.headers_mut().insert(name, value.clone());
    }
    Ok(response)
}

async fn serve(
    state: &Arc<AppState>,
    generation: Arc<Generation>,
    epoch: u64,
    request: wit::HttpRequest,
    body: Bytes,
) -> HttpResponse {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let claims = match request.headers.iter().find(|(n, _)| n == "authorization") {
        None => None,
        Some((_, value)) => match state.tokens.get(value, now) {
            Some(claims) => Some(claims),
            None => match generation.with_instance(|i| i.verify_token(value)) {
                Ok(wit::TokenCheck::Anonymous) => None,
                Ok(wit::TokenCheck::Valid(v)) => Some(state.tokens.insert(value, &v, now, epoch)),
                Ok(wit::TokenCheck::Invalid(reply)) => return response(reply),
                Err(trap) => return component_failure(trap),
            },
        },
    };
    let plan = match generation.with_instance(|i| i.plan(&request, claims.as_deref(), now)) {
        Ok(wit::Outcome::Reply(reply)) => return response(reply),
        Ok(wit::Outcome::Run(plan)) => plan,
        Err(trap) => return component_failure(trap),
    };
    let context = plan.context.clone();
    let shared = state.clone();
    state
        .db
        .execute(plan, body, move |outcome| {
            let unreachable = matches!(
                outcome,
                Err(Failure::Host(
                    wit::HostError::DbUnreachable(_) | wit::HostError::DbConnectionLost(_)
                ))
            );
            if matches!(outcome, Err(Failure::Host(wit::HostError::PoolTimeout))) {
                shared.metrics.pool_timed_out();
            }
            let mut finish = answer(&generation, &context, outcome);
            if unreachable {
                let seconds = recover(&shared);
                finish
                    .value
                    .headers_mut()
                    .insert("retry-after", seconds.into());
            }
            finish
        })
        .await
}

/// Starts (or joins) the recovery loop after the database went away, and
/// returns the seconds to the next reconnection attempt.
pub fn recover(state: &Arc<AppState>) -> u64 {
    let reloading = state.clone();
    state.recovery.start(move || {
        let state = reloading.clone();
        async move { crate::reload_schema_cache(&state).await }
    })
}

/// Turns the statements' outcome into the response, through the component.
fn answer(
    generation: &Generation,
    context: &[u8],
    outcome: Result<crate::db::Executed, Failure>,
) -> Finish<HttpResponse> {
    let rejected = |value| Finish {
        value,
        commit: false,
    };
    match outcome {
        Ok(executed) => match generation.with_instance(|i| i.respond(context, &executed.results)) {
            Ok(answer) => {
                let body = match answer.body {
                    wit::AnswerBody::Empty => Bytes::new(),
                    wit::AnswerBody::FromStatement => executed.body.unwrap_or_default(),
                    wit::AnswerBody::Bytes(b) => Bytes::from(b),
                };
                Finish {
                    value: build(answer.status, &answer.headers, body),
                    commit: answer.commit,
                }
            }
            Err(trap) => rejected(component_failure(trap)),
        },
        Err(Failure::Db(err)) => rejected(
            generation
                .with_instance(|i| i.respond_error(context, &err))
                .map_or_else(component_failure, response),
        ),
        Err(Failure::Host(err)) => rejected(
            generation
                .compiled()
                .render_host_error(&err)
                .map_or_else(component_failure, response),
        ),
    }
}

pub fn response(r: wit::HttpResponse) -> HttpResponse {
    build(r.status, &r.headers, Bytes::from(r.body))
}

fn build(status: u16, headers: &[(String, String)], body: Bytes) -> HttpResponse {
    let mut builder = Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    builder.body(Full::new(body)).unwrap_or_else(|e| {
        host_error(
            500,
            "PGRSTX00",
            "Invalid response from the translator component",
            e.to_string(),
        )
    })
}

/// A trap or instantiation failure in the component: a bug, not a client
/// mistake. The instance was dropped; the next request gets a fresh one.
fn component_failure(err: wasmtime::Error) -> HttpResponse {
    eprintln!("translator component failed: {err:?}");
    host_error(
        500,
        "PGRSTX00",
        "Internal error in the translator component",
        err.to_string(),
    )
}

/// An error the host finds without the component, in PostgREST's shape
/// (codes PGRSTX.. are pgrest's own).
fn host_error(status: u16, code: &str, message: &str, details: String) -> HttpResponse {
    let body = serde_json::json!({
        "code": code,
        "message": message,
        "details": details,
        "hint": null,
    });
    build(
        status,
        &[(
            "content-type".to_string(),
            "application/json; charset=utf-8".to_string(),
        )],
        Bytes::from(body.to_string()),
    )
}
