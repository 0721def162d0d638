//! PostgREST's configuration rules: option names, aliases, defaults, the
//! `PGRST_*` environment mapping, and typed, validated values. `resolve`
//! merges the sources into one `Config` (in-database settings over the
//! environment over the config file, per option), which crosses the host
//! boundary as opaque bytes (JSON with PostgREST's option names), beside the
//! typed `HostSettings` a host acts on (`host_settings`).
//!
//! `db-uri` and `jwt-secret` may be `@filename` (see `files`).

mod dump;
mod error;
mod file;
pub(crate) mod files;
mod host_settings;
pub(crate) mod in_database;
pub(crate) mod role_settings;
mod sources;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::auth::jwt::JwtSettings;

pub use error::ConfigError;
use role_settings::RoleSettings;
use sources::Sources;

/// How a request's transaction ends (`db-tx-end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TxEndMode {
    Commit,
    CommitAllowOverride,
    Rollback,
    RollbackAllowOverride,
}

/// `log-query`: whether the host logs the SQL statements of each request
/// (at `log-level`, as the request line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogQuery {
    Disabled,
    MainQuery,
}

/// `log-level`: which requests and events the host logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogLevel {
    Crit,
    Error,
    Warn,
    Info,
    Debug,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Config {
    pub db_uri: String,
    pub db_schemas: Vec<String>,
    pub db_anon_role: Option<String>,
    pub db_pool: u32,
    /// Seconds to wait for a pooled connection.
    pub db_pool_acquisition_timeout: u32,
    /// Seconds after which an unused pooled connection is closed.
    pub db_pool_max_idletime: u32,
    /// Seconds after which a pooled connection is replaced.
    pub db_pool_max_lifetime: u32,
    /// Upper bound on rows a read returns (`None`: unlimited).
    pub db_max_rows: Option<i64>,
    pub db_extra_search_path: Vec<String>,
    pub db_tx_end: TxEndMode,
    /// `false`: unnamed statements, for poolers in transaction mode.
    pub db_prepared_statements: bool,
    /// `db-aggregates-enabled`: `sum()`, `count()`, … in `select`.
    pub db_aggregates_enabled: bool,
    /// `db-hoisted-tx-settings`: the `SET` clauses of a function that
    /// apply to the whole transaction of an `/rpc/` call.
    pub db_hoisted_tx_settings: Vec<String>,
    pub server_host: String,
    pub server_port: u16,
    /// As configured: text, a JWK or JWKS as JSON, or base64 (see
    /// `jwt_secret_is_base64`); `JwtSettings` reads the keys.
    pub jwt_secret: Option<String>,
    pub jwt_secret_is_base64: bool,
    pub jwt_aud: Option<String>,
    /// A JSONPath into the claims (or the pre-16 JSPath), validated.
    pub jwt_role_claim_key: String,
    /// Verified tokens the host keeps (0: none).
    pub jwt_cache_max_entries: u32,
    /// A function called before the main statement of every request,
    /// `schema.name` or `name`.
    pub db_pre_request: Option<String>,
    /// `app.settings.*` options, by full name, set for every transaction.
    pub app_settings: BTreeMap<String, String>,
    pub log_level: LogLevel,
    /// The LISTEN channel for `reload schema` / `reload config`.
    pub db_channel: String,
    pub db_channel_enabled: bool,
    /// Where the admin server (`/live`, `/ready`, …) listens, if anywhere;
    /// the host defaults to `server-host`.
    pub admin_server_host: Option<String>,
    pub admin_server_port: Option<u16>,
    /// A request header echoed in the response, for tracing (e.g.
    /// `X-Request-Id`).
    pub server_trace_header: Option<String>,
    /// Which relations `GET /` describes, or none.
    pub openapi_mode: OpenApiMode,
    /// The public URL of the API, for the document's host, basePath and
    /// schemes (validated: `http(s)://host[:port][/path]`).
    pub openapi_server_proxy_uri: Option<String>,
    /// Adds the JWT `securityDefinitions` to the document.
    pub openapi_security_active: bool,
    /// `db-config`: read the `pgrst.*` settings of the authenticator role
    /// (see `in_database`) and apply the impersonated roles' settings.
    pub db_config: bool,
    /// `db-pre-config`: a function called before the in-database settings
    /// are read, which may `set_config('pgrst.<option>', …)`.
    pub db_pre_config: Option<String>,
    /// `db-root-spec`: `GET /` calls this function (an RPC of the request's
    /// schema) instead of building the OpenAPI document.
    pub db_root_spec: Option<String>,
    /// The `ALTER ROLE … SET` settings of the roles the authenticator can
    /// become: read by introspection (PostgREST's `configRoleSettings`),
    /// never from a configuration source.
    #[serde(skip)]
    pub role_settings: RoleSettings,
    /// The origins CORS requests may come from (`None`: any, answered `*`).
    pub server_cors_allowed_origins: Option<Vec<String>>,
    /// The host adds a `Server-Timing` header with its stage durations.
    pub server_timing_enabled: bool,
    pub log_query: LogQuery,
    /// `false`: the host exits when the database connection is lost
    /// instead of reconnecting.
    pub db_pool_automatic_recovery: bool,
    /// `db-plan-enabled`: `Accept: application/vnd.pgrst.plan` answers
    /// the main statement's `EXPLAIN`.
    pub db_plan_enabled: bool,
    /// `client-error-verbosity`: `minimal` leaves `details` and `hint`
    /// out of error bodies (null).
    pub client_error_verbosity: ErrorVerbosity,
    /// `url-use-legacy-target-names`: a filter, order or limit may name an
    /// aliased embed by its relation (with a `Warning` header); off: only
    /// by its alias (PGRST108).
    pub url_use_legacy_target_names: bool,
    /// `server-translator-timeout`: milliseconds a host lets one call into
    /// the translator for a request run before it traps (500); a runaway
    /// plan then costs one request, not a worker thread. `0`: no bound.
    pub server_translator_timeout: u64,
    /// The host's limits on slow and greedy clients (pgrest's own options;
    /// PostgREST has none of them).
    #[serde(flatten)]
    pub limits: Limits,
}

/// What the host grants one client: seconds to send a request head, between
/// two pieces of a body and between two requests on a kept-alive
/// connection (0: no limit), connections open at once (0: no limit), bytes
/// of one body and of all bodies in flight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Limits {
    pub server_read_header_timeout: u32,
    pub server_body_timeout: u32,
    pub server_idle_timeout: u32,
    pub server_max_connections: u32,
    pub server_max_body_bytes: u64,
    pub server_body_bytes_in_flight: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // Warp's (PostgREST's server) slowloris timeout.
            server_read_header_timeout: 30,
            // nginx's client_body_timeout and keepalive_timeout.
            server_body_timeout: 60,
            server_idle_timeout: 75,
            // Under the usual soft limit of 1024 open files per process.
            server_max_connections: 1000,
            // Cloudflare's default request body limit.
            server_max_body_bytes: 100 << 20,
            server_body_bytes_in_flight: 256 << 20,
        }
    }
}

impl Limits {
    fn resolve(src: &Sources) -> Result<Limits, ConfigError> {
        let d = Limits::default();
        let limits = Limits {
            server_read_header_timeout: src
                .int(&["server-read-header-timeout"])?
                .unwrap_or(d.server_read_header_timeout),
            server_body_timeout: src
                .int(&["server-body-timeout"])?
                .unwrap_or(d.server_body_timeout),
            server_idle_timeout: src
                .int(&["server-idle-timeout"])?
                .unwrap_or(d.server_idle_timeout),
            server_max_connections: src
                .int(&["server-max-connections"])?
                .unwrap_or(d.server_max_connections),
            server_max_body_bytes: src
                .int(&["server-max-body-bytes"])?
                .unwrap_or(d.server_max_body_bytes),
            server_body_bytes_in_flight: src
                .int(&["server-body-bytes-in-flight"])?
                .unwrap_or(d.server_body_bytes_in_flight),
        };
        if limits.server_body_bytes_in_flight < limits.server_max_body_bytes {
            return Err(ConfigError::BodyLimits);
        }
        Ok(limits)
    }
}

/// `client-error-verbosity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorVerbosity {
    Verbose,
    Minimal,
}

/// `openapi-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpenApiMode {
    /// Only the relations the request's role has a privilege on.
    FollowPrivileges,
    IgnorePrivileges,
    /// `GET /` answers 404 PGRST126.
    Disabled,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            db_uri: "postgresql://".to_string(),
            db_schemas: vec!["public".to_string()],
            db_anon_role: None,
            db_pool: 10,
            db_pool_acquisition_timeout: 10,
            db_pool_max_idletime: 30,
            db_pool_max_lifetime: 1800,
            db_max_rows: None,
            db_extra_search_path: vec!["public".to_string()],
            db_tx_end: TxEndMode::Commit,
            db_prepared_statements: true,
            db_aggregates_enabled: false,
            db_hoisted_tx_settings: [
                "statement_timeout",
                "plan_filter.statement_cost_limit",
                "default_transaction_isolation",
            ]
            .map(str::to_string)
            .to_vec(),
            server_host: "!4".to_string(),
            server_port: 3000,
            jwt_secret: None,
            jwt_secret_is_base64: false,
            jwt_aud: None,
            jwt_role_claim_key: "$.role".to_string(),
            jwt_cache_max_entries: 1000,
            db_pre_request: None,
            app_settings: BTreeMap::new(),
            log_level: LogLevel::Error,
            db_channel: "pgrst".to_string(),
            db_channel_enabled: true,
            admin_server_host: None,
            admin_server_port: None,
            server_trace_header: None,
            openapi_mode: OpenApiMode::FollowPrivileges,
            openapi_server_proxy_uri: None,
            openapi_security_active: false,
            db_config: true,
            db_pre_config: None,
            db_root_spec: None,
            role_settings: RoleSettings::default(),
            server_cors_allowed_origins: None,
            server_timing_enabled: false,
            log_query: LogQuery::Disabled,
            db_pool_automatic_recovery: true,
            db_plan_enabled: false,
            client_error_verbosity: ErrorVerbosity::Verbose,
            url_use_legacy_target_names: true,
            limits: Limits::default(),
            server_translator_timeout: 1000,
        }
    }
}

impl Config {
    /// Applies the sources in PostgREST's order of precedence: for each
    /// option (then each of its aliases), an in-database setting, else a
    /// `PGRST_*` variable, else the file; an empty value counts as unset.
    pub fn resolve(
        file_text: Option<&str>,
        env: &[(String, String)],
        db_settings: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let bindings = match file_text {
            Some(text) => file::parse(text, env)?,
            None => Vec::new(),
        };
        let src = Sources::new(&bindings, env, db_settings);
        let d = Config::default();
        let config = Config {
            db_uri: src.text(&["db-uri"]).unwrap_or(d.db_uri),
            db_schemas: match src.text(&["db-schemas", "db-schema"]) {
                Some(s) => schemas(&s)?,
                None => d.db_schemas,
            },
            db_anon_role: src.text(&["db-anon-role"]),
            db_pool: src.int(&["db-pool"])?.unwrap_or(d.db_pool),
            db_pool_acquisition_timeout: src
                .int(&["db-pool-acquisition-timeout"])?
                .unwrap_or(d.db_pool_acquisition_timeout),
            db_pool_max_idletime: src
                .int(&["db-pool-max-idletime", "db-pool-timeout"])?
                .unwrap_or(d.db_pool_max_idletime),
            db_pool_max_lifetime: src
                .int(&["db-pool-max-lifetime"])?
                .unwrap_or(d.db_pool_max_lifetime),
            db_max_rows: src.int(&["db-max-rows", "max-rows"])?,
            db_extra_search_path: src
                .emptyable_text("db-extra-search-path")
                .map_or(d.db_extra_search_path, |s| list(&s)),
            db_tx_end: match src.text(&["db-tx-end"]) {
                Some(s) => tx_end(&s)?,
                None => d.db_tx_end,
            },
            db_prepared_statements: src
                .bool(&["db-prepared-statements"])?
                .unwrap_or(d.db_prepared_statements),
            db_aggregates_enabled: src
                .bool(&["db-aggregates-enabled"])?
                .unwrap_or(d.db_aggregates_enabled),
            db_hoisted_tx_settings: src
                .text(&["db-hoisted-tx-settings"])
                .map_or(d.db_hoisted_tx_settings, |s| list(&s)),
            server_host: src.text(&["server-host"]).unwrap_or(d.server_host),
            server_port: src.int(&["server-port"])?.unwrap_or(d.server_port),
            jwt_secret: src.text(&["jwt-secret"]),
            jwt_secret_is_base64: src
                .bool(&["jwt-secret-is-base64", "secret-is-base64"])?
                .unwrap_or(d.jwt_secret_is_base64),
            jwt_aud: src.text(&["jwt-aud"]).map(audience).transpose()?,
            jwt_role_claim_key: src
                .text(&["jwt-role-claim-key", "role-claim-key"])
                .unwrap_or(d.jwt_role_claim_key),
            jwt_cache_max_entries: src
                .int(&["jwt-cache-max-entries"])?
                .unwrap_or(d.jwt_cache_max_entries),
            db_pre_request: src.text(&["db-pre-request", "pre-request"]),
            app_settings: src.prefixed("app.settings.", "PGRST_APP_SETTINGS_"),
            log_level: match src.text(&["log-level"]) {
                Some(s) => log_level(&s)?,
                None => d.log_level,
            },
            db_channel: src.text(&["db-channel"]).unwrap_or(d.db_channel),
            db_channel_enabled: src
                .bool(&["db-channel-enabled"])?
                .unwrap_or(d.db_channel_enabled),
            admin_server_host: src.text(&["admin-server-host"]),
            admin_server_port: src.int(&["admin-server-port"])?,
            server_trace_header: src.text(&["server-trace-header"]),
            openapi_mode: match src.text(&["openapi-mode"]) {
                Some(s) => openapi_mode(&s)?,
                None => d.openapi_mode,
            },
            openapi_server_proxy_uri: match src.text(&["openapi-server-proxy-uri"]) {
                Some(uri) => {
                    crate::openapi::server::ProxyUri::parse(&uri)?;
                    Some(uri)
                }
                None => None,
            },
            openapi_security_active: src
                .bool(&["openapi-security-active"])?
                .unwrap_or(d.openapi_security_active),
            db_config: src.bool(&["db-config"])?.unwrap_or(d.db_config),
            db_pre_config: src.text(&["db-pre-config"]),
            db_root_spec: src.text(&["db-root-spec", "root-spec"]),
            role_settings: RoleSettings::default(),
            server_cors_allowed_origins: src
                .text(&["server-cors-allowed-origins"])
                .map(|s| list(&s))
                .filter(|origins| !origins.is_empty()),
            server_timing_enabled: src
                .bool(&["server-timing-enabled"])?
                .unwrap_or(d.server_timing_enabled),
            log_query: match src.text(&["log-query"]) {
                Some(s) => log_query(&s)?,
                None => d.log_query,
            },
            db_pool_automatic_recovery: src
                .bool(&["db-pool-automatic-recovery"])?
                .unwrap_or(d.db_pool_automatic_recovery),
            db_plan_enabled: src.bool(&["db-plan-enabled"])?.unwrap_or(d.db_plan_enabled),
            client_error_verbosity: match src.text(&["client-error-verbosity"]) {
                Some(s) => error_verbosity(&s)?,
                None => d.client_error_verbosity,
            },
            url_use_legacy_target_names: src
                .bool(&["url-use-legacy-target-names"])?
                .unwrap_or(d.url_use_legacy_target_names),
            server_translator_timeout: src
                .int(&["server-translator-timeout"])?
                .unwrap_or(d.server_translator_timeout),
            limits: Limits::resolve(&src)?,
        };
        // Checks the secret (unless the host still has to read its file) and
        // the role claim key.
        let mut check = config.clone();
        if config.file_reference("jwt-secret").is_some() {
            check.jwt_secret = None;
        }
        JwtSettings::from_config(&check)?;
        Ok(config)
    }

    /// The configuration as a host passed it back (see `to_bytes`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Config, ConfigError> {
        Ok(serde_json::from_slice(bytes)?)
    }

    /// The bytes hosts keep and pass back: JSON with PostgREST's option
    /// names, which `--dump-config` also reads.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("Config serializes")
    }

    /// The file named by `db-uri` or `jwt-secret` when its value is `@filename`.
    fn file_reference(&self, option: &str) -> Option<&str> {
        let value = match option {
            "db-uri" => Some(self.db_uri.as_str()),
            "jwt-secret" => self.jwt_secret.as_deref(),
            _ => None,
        };
        value?.strip_prefix('@')
    }
}

/// A comma-separated list, items trimmed, empty items dropped.
fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn schemas(value: &str) -> Result<Vec<String>, ConfigError> {
    let schemas = list(value);
    for forbidden in ["pg_catalog", "information_schema"] {
        if schemas.iter().any(|s| s == forbidden) {
            return Err(ConfigError::ForbiddenSchema(forbidden));
        }
    }
    if schemas.is_empty() {
        return Err(ConfigError::NoSchema(value.to_string()));
    }
    Ok(schemas)
}

fn tx_end(value: &str) -> Result<TxEndMode, ConfigError> {
    Ok(match value {
        "commit" => TxEndMode::Commit,
        "commit-allow-override" => TxEndMode::CommitAllowOverride,
        "rollback" => TxEndMode::Rollback,
        "rollback-allow-override" => TxEndMode::RollbackAllowOverride,
        _ => return Err(ConfigError::Choice("transaction termination")),
    })
}

fn openapi_mode(value: &str) -> Result<OpenApiMode, ConfigError> {
    Ok(match value {
        "follow-privileges" => OpenApiMode::FollowPrivileges,
        "ignore-privileges" => OpenApiMode::IgnorePrivileges,
        "disabled" => OpenApiMode::Disabled,
        _ => return Err(ConfigError::Choice("openapi-mode")),
    })
}

fn error_verbosity(value: &str) -> Result<ErrorVerbosity, ConfigError> {
    match value {
        "verbose" => Ok(ErrorVerbosity::Verbose),
        "minimal" => Ok(ErrorVerbosity::Minimal),
        _ => Err(ConfigError::Choice("client-error-verbosity")),
    }
}

fn log_level(value: &str) -> Result<LogLevel, ConfigError> {
    Ok(match value {
        "crit" => LogLevel::Crit,
        "error" => LogLevel::Error,
        "warn" => LogLevel::Warn,
        "info" => LogLevel::Info,
        "debug" => LogLevel::Debug,
        _ => return Err(ConfigError::Choice("logging level")),
    })
}

fn log_query(value: &str) -> Result<LogQuery, ConfigError> {
    Ok(match value {
        "disabled" => LogQuery::Disabled,
        "main-query" => LogQuery::MainQuery,
        _ => return Err(ConfigError::Choice("SQL logging value")),
    })
}

/// `jwt-aud` is a StringOrURI (RFC 7519): with a `:`, it must be a URI.
fn audience(value: String) -> Result<String, ConfigError> {
    if value.contains(':') && !is_uri(&value) {
        return Err(ConfigError::Audience);
    }
    Ok(value)
}

/// RFC 3986's outline: `scheme ":" rest`, the rest of URI characters and
/// well-formed percent escapes.
fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let bytes = rest.as_bytes();
    let rest_ok = bytes.iter().enumerate().all(|(i, &b)| match b {
        b'%' => bytes
            .get(i + 1..i + 3)
            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)),
        _ => b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&b),
    });
    scheme_ok && rest_ok
}
