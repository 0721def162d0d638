//! pgrest-host: the native host of the pgrest translator component. It owns
//! sockets, the PostgreSQL pool, the clock and the process; every PostgREST
//! rule lives in the component (see wit/translator.wit).

pub mod component;
pub mod db;
pub mod demo;
pub mod server;
pub mod settings;
pub mod throwaway_pg;

use std::net::SocketAddr;
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
    let compiled = tokio::task::spawn_blocking(Compiled::new)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("loading the translator component: {e:?}"))?;
    let config_json = compiled
        .resolve_config(&env)
        .map_err(|e| format!("translator: {e:?}"))??;
    let settings = settings::HostSettings::from_config_json(&config_json)?;
    let db = Db::new(
        settings.pg_config(&env)?,
        settings.db_pool,
        settings.acquisition_timeout(),
    )?;
    let generation = load_generation(&compiled, &config_json, &db).await?;
    let listener = TcpListener::bind(settings.bind_addr())
        .await
        .map_err(|e| format!("binding {:?}: {e}", settings.bind_addr()))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let state = Arc::new(AppState {
        generation: RwLock::new(Arc::new(generation)),
        db,
        max_body_bytes: settings.max_body_bytes,
    });
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, state, stopped));
    Ok(Running { addr, stop, task })
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
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                let service = hyper::service::service_fn(move |req| server::handle(state.clone(), req));
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
