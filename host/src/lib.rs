//! pgrest-host: the native host of the pgrest translator component. It owns
//! sockets, the PostgreSQL pool, the clock and the process; every PostgREST
//! rule lives in the component (see wit/translator.wit).

pub mod cli;
pub mod component;
pub mod db;
pub mod demo;
pub mod log;
pub mod server;
pub mod settings;
pub mod throwaway_pg;
pub mod tls;
pub mod token_cache;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;

use component::{Compiled, Generation};
use db::Db;
use server::AppState;

/// A server running on the current tokio runtime.
pub struct Running {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, then returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Starts serving with the configuration in `env` (PGRST_* and libpq PG*
/// variables, as a process environment would hold them).
pub async fn start(env: Vec<(String, String)>) -> Result<Running, String> {
    start_with_file(None, env).await
}

/// Starts serving with a PostgREST config file, overridden by `env`.
pub async fn start_with_file(
    config_file: Option<&Path>,
    env: Vec<(String, String)>,
) -> Result<Running, String> {
    let (settings, db, generation) = connect_and_load(config_file, &env).await?;
    let listener = TcpListener::bind(settings.bind_addr())
        .await
        .map_err(|e| format!("binding {:?}: {e}", settings.bind_addr()))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let state = Arc::new(AppState {
        generation: RwLock::new(Arc::new(generation)),
        db,
        max_body_bytes: settings.max_body_bytes,
        tokens: token_cache::TokenCache::new(settings.jwt_cache_max_entries),
    });
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, state, settings.log_level, stopped));
    Ok(Running { addr, stop, task })
}

/// The loaded schema cache as JSON (`--dump-schema`).
pub async fn dump_schema(
    config_file: Option<&Path>,
    env: Vec<(String, String)>,
) -> Result<String, String> {
    let (_, _, generation) = connect_and_load(config_file, &env).await?;
    generation
        .with_instance(|instance| instance.dump_schema())
        .map_err(|e| format!("translator: {e:?}"))
}

/// Resolves the configuration, opens the pool and loads the schema cache.
async fn connect_and_load(
    config_file: Option<&Path>,
    env: &[(String, String)],
) -> Result<(settings::HostSettings, Db, Generation), String> {
    let compiled = load_component().await?;
    let config_json = settings::resolve_config(&compiled, config_file, env)?;
    let settings = settings::HostSettings::from_config_json(&config_json)?;
    let (pg_config, tls) = settings.pg_config(env)?;
    let db = Db::new(
        pg_config,
        &tls,
        settings.db_pool,
        settings.acquisition_timeout(),
    )?;
    let generation = load_generation(&compiled, &config_json, &db).await?;
    Ok((settings, db, generation))
}

/// The translator component, compiled (or loaded from the cache).
pub async fn load_component() -> Result<Arc<Compiled>, String> {
    tokio::task::spawn_blocking(Compiled::new)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("loading the translator component: {e:?}"))
}

/// Reads the schema cache with the component's statements and loads it.
async fn load_generation(
    compiled: &Arc<Compiled>,
    config_json: &str,
    db: &Db,
) -> Result<Generation, String> {
    let version = db.server_version_num().await?;
    let statements = compiled
        .introspection(config_json, version)
        .map_err(|e| format!("translator: {e:?}"))??;
    let texts = db.read_texts(&statements).await?;
    let compiled = compiled.clone();
    let config_json = config_json.to_string();
    tokio::task::spawn_blocking(move || Generation::new(compiled, config_json, texts))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{e:?}"))
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<AppState>,
    log_level: log::LogLevel,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                let service = hyper::service::service_fn(move |req| {
                    handle_logged(state.clone(), req, peer.ip(), log_level)
                });
                let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
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
    let line = level
        .logs_requests()
        .then(|| log::RequestLine::new(&req, peer));
    let response = server::handle(state, req).await?;
    let status = response.status().as_u16();
    if let Some(line) = line
        && level.logs_status(status)
    {
        let size = response.body().size_hint().exact();
        println!(
            "{}",
            line.format(status, size, std::time::SystemTime::now())
        );
    }
    Ok(response)
}
