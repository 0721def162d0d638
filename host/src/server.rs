//! The HTTP front: hyper serving every request through the translator.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};

use crate::component::{Generation, wit};
use crate::connection_watch::InFlight;
use crate::db::{Db, Failure, Finish};
use crate::metrics::Metrics;
use crate::recovery::Recovery;
use crate::timing::{ServerTiming, Stage};
use crate::token_cache::TokenCache;

pub struct AppState {
    pub generation: RwLock<Arc<Generation>>,
    pub db: Db,
    /// Request body limits (`server-max-body-bytes`, …).
    pub limits: Arc<crate::request_body::Limits>,
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
    pub switches: Switches,
    pub log_level: crate::log::LogLevel,
    /// Set once the server must exit (the message says why).
    pub fatal: tokio::sync::watch::Sender<Option<String>>,
}

/// The options the host acts on per request that a config reload changes,
/// as in PostgREST.
#[derive(Default)]
pub struct Switches {
    /// `server-timing-enabled`.
    server_timing: AtomicBool,
    /// `log-query = "main-query"`: log each request's SQL statements.
    log_query: AtomicBool,
    /// `db-pool-automatic-recovery`; when off, losing the database stops
    /// the server (see `recover`).
    automatic_recovery: AtomicBool,
}

impl Switches {
    pub fn set(&self, settings: &crate::settings::HostSettings) {
        let store = |flag: &AtomicBool, on| flag.store(on, Ordering::Relaxed);
        store(&self.server_timing, settings.server_timing_enabled);
        store(
            &self.log_query,
            matches!(settings.log_query, crate::settings::LogQuery::MainQuery),
        );
        store(
            &self.automatic_recovery,
            settings.db_pool_automatic_recovery,
        );
    }

    fn server_timing(&self) -> bool {
        self.server_timing.load(Ordering::Relaxed)
    }

    fn log_query(&self) -> bool {
        self.log_query.load(Ordering::Relaxed)
    }

    fn automatic_recovery(&self) -> bool {
        self.automatic_recovery.load(Ordering::Relaxed)
    }
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
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    // The token epoch before the generation: see TokenCache::epoch.
    let epoch = state.tokens.epoch();
    let generation = state.generation.read().expect("generation lock").clone();
    // CORS wraps everything else, as PostgREST's middleware: a preflight is
    // answered alone; its headers go on every other answer, the host's too.
    // Without an Origin header it is never a CORS request (saves a call).
    let cors = if headers.iter().any(|(n, _)| n == "origin") {
        generation.with_instance(|i| i.cors(parts.method.as_str(), &headers))
    } else {
        Ok(wit::CorsAnswer::None)
    };
    let mut response = match cors {
        Err(trap) => component_failure(&generation, trap),
        Ok(wit::CorsAnswer::Preflight(reply)) => response(&generation, reply),
        Ok(cors) => {
            let request = Received {
                method: parts.method.as_str().to_string(),
                path: parts.uri.path().to_string(),
                query: parts.uri.query().unwrap_or("").to_string(),
                headers,
                body,
                serving: parts.extensions.get::<Arc<InFlight>>().cloned(),
            };
            let mut timing = ServerTiming::default();
            let mut response = serve(&state, generation, epoch, request, &mut timing).await;
            if state.switches.server_timing()
                && let Some(value) = timing.header()
                && let Ok(value) = hyper::header::HeaderValue::from_str(&value)
            {
                response.headers_mut().append("server-timing", value);
            }
            if let wit::CorsAnswer::Headers(cors) = cors {
                append(&mut response, &cors);
            }
            response
        }
    };
    if let Some(name) = &state.trace_header
        && let Some(value) = parts.headers.get(name.as_str())
        && let Ok(name) = hyper::header::HeaderName::from_bytes(name.as_bytes())
    {
        response.headers_mut().insert(name, value.clone());
    }
    Ok(response)
}

/// A request as hyper delivered it, its body not read yet.
struct Received {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Incoming,
    /// The connection's mark of a request being served (none outside the
    /// accept loop), kept by whatever reads the body.
    serving: Option<Arc<InFlight>>,
}

impl Received {
    /// Leaves the body unread for an answer given without it: a client
    /// waiting for `100 Continue` is never sent one (nor sends the body);
    /// another, still sending, has its bytes drained.
    fn skip_body(self, limits: &Arc<crate::request_body::Limits>) {
        let expects_continue = self
            .headers
            .iter()
            .any(|(n, v)| n == "expect" && v.eq_ignore_ascii_case("100-continue"));
        if !expects_continue {
            limits.discard(self.body, self.serving);
        }
    }
}

async fn serve(
    state: &Arc<AppState>,
    generation: Arc<Generation>,
    epoch: u64,
    received: Received,
    timing: &mut ServerTiming,
) -> HttpResponse {
    // The head alone decides a body too large or a token refused: neither
    // reads the body.
    let declared = received
        .headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<u64>().ok());
    if let Err(refused) = state.limits.check_declared(declared) {
        let mut response = body_refused(state, &generation, &refused);
        response.headers_mut().insert(
            "connection",
            hyper::header::HeaderValue::from_static("close"),
        );
        return response;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let started = Instant::now();
    let authorization = received.headers.iter().find(|(n, _)| n == "authorization");
    let claims = match authorization {
        None => None,
        Some((_, value)) => match state.tokens.get(value, now) {
            Some(claims) => Some(claims),
            None => match generation.with_instance(|i| i.verify_token(value)) {
                Ok(wit::TokenCheck::Anonymous) => None,
                Ok(wit::TokenCheck::Valid(v)) => Some(state.tokens.insert(value, v, now, epoch)),
                Ok(wit::TokenCheck::Invalid(reply)) => {
                    timing.record(Stage::Jwt, started.elapsed());
                    received.skip_body(&state.limits);
                    return response(&generation, reply);
                }
                Err(trap) => return component_failure(&generation, trap),
            },
        },
    };
    let checked = started.elapsed();
    // A refusal the head decides (claims, table, method) is answered before
    // reading the body; a request known to have none goes straight to plan.
    if !hyper::body::Body::is_end_stream(&received.body) {
        let started = Instant::now();
        let screened = generation.with_instance(|i| {
            i.screen(
                &received.method,
                &received.path,
                &received.headers,
                claims.as_deref(),
                now,
            )
        });
        match screened {
            Ok(None) => {}
            Ok(Some(reply)) => {
                timing.record(Stage::Jwt, checked);
                timing.record(reply.stage.into(), started.elapsed());
                received.skip_body(&state.limits);
                return response(&generation, reply.response);
            }
            Err(trap) => return component_failure(&generation, trap),
        }
    }
    let started = Instant::now();
    // `read` holds its share of the bytes in flight until the answer.
    let reserved = match state.limits.reserve(declared).await {
        Ok(reserved) => reserved,
        Err(refused) => {
            received.skip_body(&state.limits);
            return body_refused(state, &generation, &refused);
        }
    };
    let read = match state.limits.read(received.body, reserved).await {
        Ok(read) => read,
        Err(refused) => return body_refused(state, &generation, &refused),
    };
    let parsed = started.elapsed();
    let mut request = wit::HttpRequest {
        method: received.method,
        path: received.path,
        query: received.query,
        headers: received.headers,
        body: read.bytes,
    };
    timing.record(Stage::Jwt, checked);
    timing.record(Stage::Parse, parsed);
    let started = Instant::now();
    let planned = generation.with_instance(|i| i.plan(&request, claims.as_deref(), now));
    let planning = started.elapsed();
    let mut plan = match planned {
        Ok(wit::Outcome::Reply(reply)) => {
            let stage = Stage::from(reply.stage);
            if stage == Stage::Jwt {
                // A token refused for its claims: PostgREST stops before parsing.
                timing.forget(Stage::Parse);
            }
            timing.record(stage, planning);
            return response(&generation, reply.response);
        }
        Ok(wit::Outcome::Run(plan)) => plan,
        Err(trap) => return component_failure(&generation, trap),
    };
    timing.record(Stage::Plan, planning);
    // log-query: every statement after the BEGIN (settings, pre-request,
    // main statement, count or OpenAPI queries), as PostgREST 14+ logs them.
    let queries: Vec<String> = if state.switches.log_query() {
        let after_begin = plan.statements.iter().skip(1);
        after_begin.map(|s| s.sql.replace('\n', " ")).collect()
    } else {
        Vec::new()
    };
    let context = std::mem::take(&mut plan.context);
    // The statements bind the body from the buffer the plan call read.
    let body = Bytes::from(std::mem::take(&mut request.body));
    let started = Instant::now();
    let (response, responding) = state
        .db
        .execute(plan, body, |outcome| {
            let unreachable = matches!(&outcome, Err(f) if f.server_lost());
            if matches!(outcome, Err(Failure::Host(wit::HostError::PoolTimeout))) {
                state.metrics.pool_timed_out();
            }
            let mut finish = answer(&generation, &context, outcome);
            if unreachable {
                let seconds = recover(state);
                finish
                    .value
                    .0
                    .headers_mut()
                    .insert("retry-after", seconds.into());
            }
            finish
        })
        .await;
    let exchange = started.elapsed();
    timing.record(
        Stage::Transaction,
        exchange - responding.unwrap_or_default(),
    );
    if let Some(took) = responding {
        timing.record(Stage::Response, took);
    }
    let status = response.status().as_u16();
    if state.log_level.logs_status(status) {
        for sql in queries {
            crate::log::query(status, &sql);
        }
    }
    response
}

/// Appends headers to a response (CORS: after the response's own).
fn append(response: &mut HttpResponse, headers: &[(String, String)]) {
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
}

/// Starts (or joins) the recovery loop after the database went away, and
/// returns the seconds to the next reconnection attempt. With
/// `db-pool-automatic-recovery` off, PostgREST exits instead: the server is
/// told to stop (the answer in hand still goes out).
pub fn recover(state: &Arc<AppState>) -> u64 {
    if !state.switches.automatic_recovery() {
        state.fatal.send_if_modified(|fatal| {
            let first = fatal.is_none();
            if first {
                let message = "Automatic recovery disabled, exiting.";
                tracing::error!(target: crate::log::STAMPED, "{message}");
                *fatal = Some(message.to_string());
            }
            first
        });
        return 0;
    }
    let reloading = state.clone();
    state.recovery.start(move || {
        let state = reloading.clone();
        async move { crate::reload_schema_cache(&state).await }
    })
}

/// Turns the statements' outcome into the response, through the component,
/// with how long `respond` took when the statements succeeded (the
/// response stage; a failure's rendering belongs to the transaction).
fn answer(
    generation: &Generation,
    context: &[u8],
    outcome: Result<crate::db::Executed, Failure>,
) -> Finish<(HttpResponse, Option<Duration>)> {
    let rejected = |value| Finish {
        value: (value, None),
        commit: false,
    };
    match outcome {
        Ok(executed) => {
            let started = Instant::now();
            let answered = generation.with_instance(|i| i.respond(context, &executed.results));
            let took = started.elapsed();
            match answered {
                Ok(answer) => {
                    let body = match answer.body {
                        wit::AnswerBody::Empty => Bytes::new(),
                        wit::AnswerBody::FromStatement => executed.body.unwrap_or_default(),
                        wit::AnswerBody::Bytes(b) => Bytes::from(b),
                    };
                    Finish {
                        value: (
                            built(generation, answer.status, &answer.headers, body),
                            Some(took),
                        ),
                        commit: answer.commit,
                    }
                }
                Err(trap) => rejected(component_failure(generation, trap)),
            }
        }
        Err(Failure::Db(err)) => rejected(
            generation
                .with_instance(|i| i.respond_error(context, &err))
                .map_or_else(
                    |trap| component_failure(generation, trap),
                    |r| response(generation, r),
                ),
        ),
        // PostgREST's answer to a result its driver cannot read.
        Err(Failure::Connection(what)) => rejected(rendered(
            generation,
            wit::HostError::DbUnexpectedAnswer(what),
        )),
        Err(Failure::Host(err)) => rejected(rendered(generation, err)),
    }
}

/// The component's response as hyper's; one that HTTP cannot carry (a
/// header value with a newline) is answered with the component's error.
fn response(generation: &Generation, r: wit::HttpResponse) -> HttpResponse {
    built(generation, r.status, &r.headers, Bytes::from(r.body))
}

/// `build`, or the component's error when HTTP cannot carry the response.
fn built(
    generation: &Generation,
    status: u16,
    headers: &[(String, String)],
    body: Bytes,
) -> HttpResponse {
    build(status, headers, body)
        .unwrap_or_else(|e| rendered(generation, wit::HostError::InvalidResponse(e.to_string())))
}

/// A failure the host found, as the component renders it.
fn rendered(generation: &Generation, err: wit::HostError) -> HttpResponse {
    let r = generation.render_host_error(&err);
    build(r.status, &r.headers, Bytes::from(r.body)).unwrap_or_else(|_| {
        let r = crate::component::last_resort();
        build(r.status, &r.headers, Bytes::from(r.body)).expect("a valid response")
    })
}

fn build(
    status: u16,
    headers: &[(String, String)],
    body: Bytes,
) -> Result<HttpResponse, hyper::http::Error> {
    let mut builder = Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    builder.body(Full::new(body))
}

/// A request body not accepted (`request_body`).
fn body_refused(
    state: &AppState,
    generation: &Generation,
    refused: &crate::request_body::Refused,
) -> HttpResponse {
    rendered(generation, refused.host_error(&state.limits))
}

/// A trap or instantiation failure in the component: a bug, not a client
/// mistake. The instance was dropped; the next request gets a fresh one.
fn component_failure(generation: &Generation, err: wasmtime::Error) -> HttpResponse {
    tracing::error!("translator component failed: {err:?}");
    rendered(
        generation,
        wit::HostError::TranslatorFailed(err.to_string()),
    )
}
