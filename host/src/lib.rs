//! pgrest-host: the native host of the pgrest translator component. It owns
//! sockets, the PostgreSQL pool, the clock and the process; every PostgREST
//! rule lives in the component (see wit/translator.wit).

pub mod admin;
pub mod cli;
pub mod component;
mod connection_watch;
pub mod db;
pub mod demo;
mod listener;
pub mod log;
mod metrics;
mod parse_errors;
mod recovery;
mod request_body;
mod request_targets;
mod server;
pub mod settings;
mod setup_error;
mod timing;
pub mod token_cache;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use component::{Compiled, Generation};
use db::Db;
use server::AppState;
pub use setup_error::SetupError;

/// A server running on the current tokio runtime.
pub struct Running {
    pub addr: SocketAddr,
    /// The admin server's address, when `admin-server-port` is set.
    pub admin_addr: Option<SocketAddr>,
    state: Arc<AppState>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    /// Background tasks (listener, admin server, connection expiry):
    /// stopped with the server.
    helpers: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, then returns.
    pub async fn shutdown(self) {
        for helper in &self.helpers {
            helper.abort();
        }
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Waits until the server must exit on its own (the database was lost
    /// with `db-pool-automatic-recovery` off), and returns why.
    pub async fn fatal(&self) -> String {
        let mut fatal = self.state.fatal.subscribe();
        match fatal.wait_for(Option::is_some).await {
            Ok(message) => message.clone().unwrap_or_default(),
            // The sender lives in the state we hold: never closed.
            Err(_) => std::future::pending().await,
        }
    }

    /// Reloads the schema cache (SIGUSR1).
    pub async fn reload_schema_cache(&self) -> Result<(), SetupError> {
        reload_schema_cache(&self.state).await
    }

    /// Reloads the configuration and then the schema cache (SIGUSR2).
    pub async fn reload_config(&self) -> Result<(), SetupError> {
        reload_config(&self.state).await
    }
}

/// Starts serving with the configuration in `env` (PGRST_* and libpq PG*
/// variables, as a process environment would hold them).
pub async fn start(env: Vec<(String, String)>) -> Result<Running, SetupError> {
    start_with_file(None, env).await
}

/// Starts serving with a PostgREST config file, overridden by `env`.
pub async fn start_with_file(
    config_file: Option<&Path>,
    env: Vec<(String, String)>,
) -> Result<Running, SetupError> {
    let (settings, connection, generation) = connect_and_load(config_file, &env).await?;
    let listener = bind("", settings.bind_addr()).await?;
    let addr = listener
        .local_addr()
        .expect("a bound socket has an address");
    let admin = match settings.admin_bind_addr() {
        Some(bind_addr) => Some(bind("the admin server ", bind_addr).await?),
        None => None,
    };
    let admin_addr = admin
        .as_ref()
        .map(|l| l.local_addr().expect("a bound socket has an address"));
    let state = Arc::new(AppState {
        generation: RwLock::new(Arc::new(generation.loaded)),
        db: connection.db,
        limits: Arc::new(request_body::Limits::new(&settings.limits)),
        trace_header: settings.server_trace_header.clone(),
        recovery: Default::default(),
        metrics: Default::default(),
        listening: settings
            .db_channel_enabled
            .then(|| std::sync::atomic::AtomicBool::new(false)),
        config_source: server::ConfigSource {
            file: config_file.map(Path::to_path_buf),
            env,
        },
        tokens: token_cache::TokenCache::new(settings.jwt_cache_max_entries),
        switches: Default::default(),
        log_level: settings.log_level,
        fatal: watch::channel(None).0,
    });
    state.switches.set(&settings);
    state.metrics.schema_cache_loaded(generation.took);
    let mut helpers = vec![state.db.expire_connections(
        Duration::from_secs(settings.db_pool_max_idletime.into()),
        Duration::from_secs(settings.db_pool_max_lifetime.into()),
    )];
    if settings.db_channel_enabled {
        helpers.push(tokio::spawn(listener::run(
            state.clone(),
            connection.connect,
            connection.pg_config,
            settings.db_channel.clone(),
        )));
    }
    if let Some(admin) = admin {
        helpers.push(tokio::spawn(admin::serve(admin, state.clone())));
    }
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(
        listener,
        state.clone(),
        settings.log_level,
        settings.limits,
        stopped,
    ));
    Ok(Running {
        addr,
        admin_addr,
        state,
        stop,
        task,
        helpers,
    })
}

async fn bind(server: &'static str, addr: (String, u16)) -> Result<TcpListener, SetupError> {
    TcpListener::bind(&addr)
        .await
        .map_err(|source| SetupError::Bind {
            server,
            addr,
            source,
        })
}

/// The loaded schema cache as JSON (`--dump-schema`).
pub async fn dump_schema(
    config_file: Option<&Path>,
    env: Vec<(String, String)>,
) -> Result<String, SetupError> {
    let (_, _, generation) = connect_and_load(config_file, &env).await?;
    generation
        .loaded
        .with_instance(|instance| instance.dump_schema())
        .map_err(SetupError::Translator)
}

/// The pool, and how to open a connection of one's own (the listener's).
struct Connection {
    db: Db,
    connect: pgrest_pg::tls::PgConnect,
    pg_config: tokio_postgres::Config,
}

/// A loaded generation and how long reading the schema cache took.
struct Loaded {
    loaded: Generation,
    took: std::time::Duration,
}

/// Resolves the configuration, opens the pool and loads the schema cache.
async fn connect_and_load(
    config_file: Option<&Path>,
    env: &[(String, String)],
) -> Result<(settings::HostSettings, Connection, Loaded), SetupError> {
    let compiled = load_component().await?;
    let (resolved, connection) = configure(&compiled, config_file, env).await?;
    let settings = resolved.host.clone();
    let generation = load_generation(&compiled, resolved, &connection.db).await?;
    Ok((settings, connection, generation))
}

/// The resolved configuration as `--dump-config` prints it: with the
/// in-database settings when `db-config` is on (PostgREST connects for them
/// too; if it cannot, the error is logged and they are left out).
pub async fn dump_config(
    config_file: Option<&Path>,
    env: &[(String, String)],
) -> Result<String, SetupError> {
    let compiled = load_component().await?;
    let (resolved, _) = configure(&compiled, config_file, env).await?;
    compiled
        .dump_config(&resolved.config)
        .map_err(SetupError::Translator)?
        .map_err(SetupError::Refused)
}

/// Opens the pool with the configuration of the file and environment (the
/// database cannot set its options), then resolves it again with the
/// in-database settings.
async fn configure(
    compiled: &Compiled,
    config_file: Option<&Path>,
    env: &[(String, String)],
) -> Result<(settings::ResolvedConfig, Connection), SetupError> {
    let resolved = settings::resolve_config(compiled, config_file, env, &[])?;
    let base = &resolved.host;
    let (pg_config, tls) = base.pg_config(env)?;
    let mut db = Db::new(
        pg_config.clone(),
        &tls,
        base.db_pool as usize,
        base.acquisition_timeout(),
        base.db_prepared_statements,
    )?;
    let statements = db_config_statements(compiled, &resolved.config)?;
    let resolved = with_db_settings(compiled, config_file, env, &statements, &db).await?;
    log_config_warnings(compiled, &resolved.config)?;
    db.set_prepared_statements(resolved.host.db_prepared_statements);
    let connection = Connection {
        db,
        connect: tls.connector(&pg_config)?,
        pg_config,
    };
    Ok((resolved, connection))
}

/// The translator component, compiled (or loaded from the cache).
pub async fn load_component() -> Result<Arc<Compiled>, SetupError> {
    tokio::task::spawn_blocking(Compiled::new)
        .await?
        .map_err(SetupError::Component)
}

/// Reloads the schema cache into a new generation, and serves it from now
/// on; on failure the last good one keeps serving. With `db-config` on, the
/// configuration is read again first, in-database settings and all, as
/// PostgREST's schema cache loads do; otherwise it stays the same.
pub(crate) async fn reload_schema_cache(state: &AppState) -> Result<(), SetupError> {
    let current = state.generation.read().expect("generation lock").clone();
    let statements = db_config_statements(current.compiled(), current.config())?;
    if !statements.is_empty() {
        return reload_config_reading(state, &current, &statements).await;
    }
    swap_generation(state, current.resolved().clone()).await
}

/// Resolves the configuration again from the same file and environment,
/// and reloads the schema cache with it. Options the host itself acts on
/// at start-up (pool, ports, log level) keep their values until a restart;
/// the per-request switches (Server-Timing, log-query, automatic recovery)
/// follow.
pub(crate) async fn reload_config(state: &AppState) -> Result<(), SetupError> {
    let current = state.generation.read().expect("generation lock").clone();
    let statements = db_config_statements(current.compiled(), current.config())?;
    reload_config_reading(state, &current, &statements).await
}

/// `reload_config`, with the in-database configuration read by `statements`.
async fn reload_config_reading(
    state: &AppState,
    current: &Generation,
    statements: &[component::wit::Statement],
) -> Result<(), SetupError> {
    let source = &state.config_source;
    let resolved = with_db_settings(
        current.compiled(),
        source.file.as_deref(),
        &source.env,
        statements,
        &state.db,
    )
    .await?;
    log_config_warnings(current.compiled(), &resolved.config)?;
    let host = resolved.host.clone();
    swap_generation(state, resolved).await?;
    state.switches.set(&host);
    // Tokens verified under the old JWT settings are verified again.
    state.tokens.forget_all();
    Ok(())
}

/// Logs what the translator warns about a configuration it accepted.
fn log_config_warnings(compiled: &Compiled, config: &[u8]) -> Result<(), SetupError> {
    let warnings = compiled
        .config_warnings(config)
        .map_err(SetupError::Translator)?
        .map_err(SetupError::Refused)?;
    for warning in warnings {
        tracing::warn!("Warning: {warning}");
    }
    Ok(())
}

/// The statements reading the in-database settings, which `config`
/// (the configuration in use, or at startup the one without them) says
/// whether and how to read; none when it does not.
fn db_config_statements(
    compiled: &Compiled,
    config: &[u8],
) -> Result<Vec<component::wit::Statement>, SetupError> {
    compiled
        .db_config_statements(config)
        .map_err(SetupError::Translator)?
        .map_err(SetupError::Refused)
}

/// Resolves the configuration from the file, `env` and the in-database
/// settings `statements` read. A failed read is logged and the
/// configuration resolved without them, as PostgREST does.
async fn with_db_settings(
    compiled: &Compiled,
    config_file: Option<&Path>,
    env: &[(String, String)],
    statements: &[component::wit::Statement],
    db: &Db,
) -> Result<settings::ResolvedConfig, SetupError> {
    let mut db_settings = Vec::new();
    if !statements.is_empty() {
        match db.read_rows(statements).await {
            Ok(results) => {
                db_settings = results
                    .into_iter()
                    .flatten()
                    .filter_map(|row| match row.as_slice() {
                        [Some(name), Some(value)] => Some((name.clone(), value.clone())),
                        _ => None,
                    })
                    .collect();
            }
            Err(e) => tracing::error!("Failed reading the in-database configuration: {e}"),
        }
    }
    settings::resolve_config(compiled, config_file, env, &db_settings)
}

async fn swap_generation(
    state: &AppState,
    resolved: settings::ResolvedConfig,
) -> Result<(), SetupError> {
    let compiled = state
        .generation
        .read()
        .expect("generation lock")
        .compiled()
        .clone();
    match load_generation(&compiled, resolved, &state.db).await {
        Ok(next) => {
            state.metrics.schema_cache_loaded(next.took);
            *state.generation.write().expect("generation lock") = Arc::new(next.loaded);
            Ok(())
        }
        Err(e) => {
            state.metrics.schema_cache_failed();
            Err(e)
        }
    }
}

/// Reads the schema cache with the component's statements and loads it.
async fn load_generation(
    compiled: &Arc<Compiled>,
    resolved: settings::ResolvedConfig,
    db: &Db,
) -> Result<Loaded, SetupError> {
    let started = std::time::Instant::now();
    let version = db.server_version_num().await?;
    let statements = compiled
        .introspection(&resolved.config, version)
        .map_err(SetupError::Translator)?
        .map_err(SetupError::Refused)?;
    let texts = db.read_texts(&statements).await?;
    let took = started.elapsed();
    let compiled = compiled.clone();
    let loaded = tokio::task::spawn_blocking(move || Generation::new(compiled, resolved, texts))
        .await?
        .map_err(|e| SetupError::Refused(format!("{e:?}")))?;
    Ok(Loaded { loaded, took })
}

/// The HTTP/2 keep-alive ping interval, and how long a ping may go
/// unanswered before the connection is closed.
const HTTP2_PING_INTERVAL: Duration = Duration::from_secs(20);
const HTTP2_PING_TIMEOUT: Duration = Duration::from_secs(20);

/// Accepts connections while fewer than `server-max-connections` are open;
/// beyond that new ones wait in the kernel's backlog (as nginx, HAProxy
/// and Go's LimitListener do) rather than being closed: a client is served
/// late rather than refused, and a full backlog pushes back on the clients.
async fn accept_loop(
    listener: TcpListener,
    state: Arc<AppState>,
    log_level: log::LogLevel,
    limits: settings::ClientLimits,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(HTTP2_PING_INTERVAL)
        .keep_alive_timeout(HTTP2_PING_TIMEOUT);
    let slots = Arc::new(Semaphore::new(match limits.max_connections {
        0 => Semaphore::MAX_PERMITS,
        n => n as usize,
    }));
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("never closed"),
            _ = stopped.changed() => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let watch = connection_watch::Watch::new(
                    limits.read_header_timeout(),
                    limits.idle_timeout(),
                );
                // The configuration of the moment renders the answers
                // written outside hyper.
                let answers = state
                    .generation
                    .read()
                    .expect("generation lock")
                    .raw_answers()
                    .clone();
                let state = state.clone();
                let requests = watch.clone();
                let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
                    // Served while the request (or a task reading its body) holds it.
                    req.extensions_mut().insert(Arc::new(requests.request()));
                    handle_logged(state.clone(), req, peer.ip(), log_level)
                });
                let io = connection_watch::Watched::new(stream, watch.clone(), answers.clone());
                let io = request_targets::RequestTargets::new(TokioIo::new(io));
                let io = parse_errors::ParseErrorBodies::new(io, answers);
                let conn = builder.serve_connection(io, service).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    tokio::select! {
                        _ = conn => {}
                        _ = watch.expired() => {}
                    }
                    drop(slot);
                });
            }
            _ = stopped.changed() => break,
        }
    }
    graceful.shutdown().await;
}

/// Handles a request and writes its log line when `log-level` asks for it.
async fn handle_logged(
    state: Arc<AppState>,
    req: hyper::Request<hyper::body::Incoming>,
    peer: std::net::IpAddr,
    level: log::LogLevel,
) -> Result<server::HttpResponse, std::convert::Infallible> {
    use hyper::body::Body as _;
    let started = std::time::Instant::now();
    let line = level
        .logs_requests()
        .then(|| log::RequestLine::new(&req, peer));
    let response = server::handle(state.clone(), req).await?;
    let status = response.status().as_u16();
    state.metrics.request_served(status, started.elapsed());
    if let Some(line) = line
        && level.logs_status(status)
    {
        line.log(status, response.body().size_hint().exact());
    }
    Ok(response)
}
