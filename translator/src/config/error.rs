//! Why a configuration is refused. Each message is the text PostgREST
//! prints for the same mistake where it has one; hosts show it as it is.

use super::file::FileError;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    File(#[from] FileError),
    /// An option whose value is not of its type (a number, a boolean).
    #[error("invalid value for {name} ({origin}): {value}; expected {expected}")]
    Value {
        name: String,
        origin: String,
        value: String,
        expected: &'static str,
    },
    /// An option outside its list of values, named as PostgREST names it.
    #[error("Invalid {0}. Check your configuration.")]
    Choice(&'static str),
    #[error("db-schemas does not allow schema: '{0}'")]
    ForbiddenSchema(&'static str),
    #[error("db-schemas names no schema: {0:?}")]
    NoSchema(String),
    #[error("jwt-aud should be a string or a valid URI")]
    Audience,
    #[error("Malformed proxy uri, a correct example: https://example.com:8443/basePath")]
    ProxyUri,
    #[error("server-body-bytes-in-flight must be at least server-max-body-bytes")]
    BodyLimits,
    #[error(transparent)]
    Jwt(#[from] crate::auth::jwt::JwtConfigError),
    /// Bytes a host passed back that are not a configuration this
    /// translator wrote.
    #[error("invalid configuration: {0}")]
    Bytes(#[from] serde_json::Error),
    /// `@filename` options whose files the host has not passed yet.
    #[error("files to read: {0:?}")]
    Unread(Vec<String>),
}
