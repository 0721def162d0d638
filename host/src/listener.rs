//! The schema-cache listener: `LISTEN` on `db-channel` over a connection of
//! its own (opened as the pool's are), as PostgREST does. `NOTIFY pgrst` with an empty payload or
//! `'reload schema'` reloads the schema cache, `'reload config'` the
//! configuration. When the connection drops (the database went away), the
//! recovery loop takes over and the listener reconnects with backoff.

use std::sync::Arc;
use std::time::Duration;

use pgrest_pg::Listening;
use pgrest_pg::tls::PgConnect;

use crate::server::AppState;

const MAX_DELAY_SECS: u64 = 32;

pub async fn run(
    state: Arc<AppState>,
    connect: PgConnect,
    config: tokio_postgres::Config,
    channel: String,
) {
    let mut delay = 1;
    loop {
        match Listening::open(&config, &connect, &channel).await {
            Ok(mut listening) => {
                delay = 1;
                set_listening(&state, true);
                tracing::info!("Listening for notifications on the \"{channel}\" channel");
                while let Ok((on, payload)) = listening.next().await {
                    if on == channel {
                        handle(&state, &payload).await;
                    }
                }
                set_listening(&state, false);
                tracing::warn!("The \"{channel}\" listener lost its connection");
                crate::server::recover(&state);
            }
            Err(e) => tracing::error!("Failed listening on \"{channel}\": {e}"),
        }
        tokio::time::sleep(Duration::from_secs(delay)).await;
        delay = (delay * 2).min(MAX_DELAY_SECS);
    }
}

/// Readiness follows the listener's connection, as in PostgREST.
fn set_listening(state: &AppState, on: bool) {
    if let Some(flag) = &state.listening {
        flag.store(on, std::sync::atomic::Ordering::Release);
    }
}

async fn handle(state: &AppState, payload: &str) {
    let (what, result) = match payload {
        "" | "reload schema" => ("schema cache", crate::reload_schema_cache(state).await),
        "reload config" => ("config", crate::reload_config(state).await),
        _ => return,
    };
    match result {
        Ok(()) => tracing::info!("Reloaded the {what} after a notification"),
        // The last good generation keeps serving.
        Err(e) => tracing::error!("Failed reloading the {what}: {e}"),
    }
}
