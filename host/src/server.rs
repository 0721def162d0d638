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
use crate::token_cache::TokenCache;

pub struct AppState {
    pub generation: RwLock<Arc<Generation>>,
    pub db: Db,
    pub max_body_bytes: usize,
    /// Verified tokens, across instances and schema generations.
    pub tokens: TokenCache,
}

pub type HttpResponse = Response<Full<Bytes>>;

pub async fn handle(
    state: Arc<AppState>,
    req: Request<Incoming>,
) -> Result<HttpResponse, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, state.max_body_bytes).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(plain(413, "request body too large or interrupted")),
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
    let generation = state.generation.read().expect("generation lock").clone();
    Ok(serve(&state, generation, request, body).await)
}

async fn serve(
    state: &AppState,
    generation: Arc<Generation>,
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
                Ok(wit::TokenCheck::Valid(v)) => Some(state.tokens.insert(value, &v, now)),
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
    state
        .db
        .execute(plan, body, move |outcome| {
            answer(&generation, &context, outcome)
        })
        .await
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
    builder
        .body(Full::new(body))
        .unwrap_or_else(|e| plain(500, &format!("invalid response from the translator: {e}")))
}

/// A trap or instantiation failure in the component: a bug, not a client
/// mistake. The instance was dropped; the next request gets a fresh one.
fn component_failure(err: wasmtime::Error) -> HttpResponse {
    eprintln!("translator component failed: {err:?}");
    let body = serde_json::json!({
        "code": "PGRSTX00",
        "message": "Internal error in the translator component",
        "details": err.to_string(),
        "hint": null,
    });
    let mut resp = plain(500, "");
    *resp.body_mut() = Full::new(Bytes::from(body.to_string()));
    resp.headers_mut().insert(
        "content-type",
        "application/json; charset=utf-8"
            .parse()
            .expect("valid header"),
    );
    resp
}

fn plain(status: u16, text: &str) -> HttpResponse {
    let mut resp = Response::new(Full::new(Bytes::from(text.to_string())));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    resp
}
