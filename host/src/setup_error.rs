//! Why the server could not start, or why a reload was refused: what the
//! binary prints before it exits, and what a reload logs while the last
//! good generation keeps serving.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The translator refused the configuration or the schema cache; its
    /// message is PostgREST's text where PostgREST has one.
    #[error("{0}")]
    Refused(String),
    /// A component call trapped.
    #[error("translator: {0:?}")]
    Translator(wasmtime::Error),
    #[error("loading the translator component: {0:?}")]
    Component(wasmtime::Error),
    #[error("reading {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: String,
        source: io::Error,
    },
    /// A `@filename` the component asks for again after it was read.
    #[error("the configuration keeps asking for {0}")]
    FileLoop(String),
    #[error("invalid db-uri: {0}")]
    DbUri(Box<dyn std::error::Error + Send + Sync>),
    #[error("invalid PGPORT {0:?}")]
    PgPort(String),
    #[error(transparent)]
    DbSettings(#[from] pgrest_pg::tls::SettingsError),
    #[error("binding {server}{addr:?}: {source}")]
    Bind {
        /// Empty for the API server, "the admin server " for the other.
        server: &'static str,
        addr: (String, u16),
        source: io::Error,
    },
    #[error("could not connect to the database: {0}")]
    Unreachable(String),
    /// A statement of the start-up or a reload failed, as the log words it.
    #[error("{0}")]
    Database(String),
    #[error("an introspection query returned no text")]
    NoIntrospectionText,
    #[error("server_version_num {text:?}: {source}")]
    ServerVersion {
        text: String,
        source: std::num::ParseIntError,
    },
    /// A blocking task (component compilation, schema cache load) panicked.
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
}
