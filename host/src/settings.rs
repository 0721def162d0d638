//! The few resolved configuration values the host itself acts on, read from
//! the component's configuration JSON, and the database connection settings
//! (db-uri completed by libpq's environment variables, as libpq would).
//!
//! The component resolves the configuration; the host only reads files: the
//! config file, and the `@filename` values of `db-uri` and `jwt-secret`,
//! whose contents go back to the component in a second pass.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::component::Compiled;
use crate::log::LogLevel;
use pgrest_pg::tls::{self, TlsOptions};

/// Resolves the configuration from the config file (if any), `env` and the
/// in-database settings, reading `@filename` values as PostgREST does:
/// `db-uri` trimmed, the `jwt-secret` without one trailing newline.
pub fn resolve_config(
    compiled: &Compiled,
    config_file: Option<&Path>,
    env: &[(String, String)],
    db_settings: &[(String, String)],
) -> Result<String, String> {
    let file_text = config_file
        .map(|path| {
            std::fs::read_to_string(path)
                .map_err(|e| format!("reading config file {}: {e}", path.display()))
        })
        .transpose()?;
    let resolve = |env: &[(String, String)]| {
        compiled
            .resolve_config(file_text.as_deref(), env, db_settings)
            .map_err(|e| format!("translator: {e:?}"))?
    };
    let json = resolve(env)?;
    let config: serde_json::Value =
        serde_json::from_str(&json).map_err(|e| format!("configuration JSON: {e}"))?;
    let mut overrides = Vec::new();
    for (option, var) in [
        ("db-uri", "PGRST_DB_URI"),
        ("jwt-secret", "PGRST_JWT_SECRET"),
    ] {
        let Some(file) = config[option].as_str().and_then(|v| v.strip_prefix('@')) else {
            continue;
        };
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("reading the {option} file {file}: {e}"))?;
        let value = if option == "db-uri" {
            text.trim()
        } else {
            text.strip_suffix('\n').unwrap_or(&text)
        };
        overrides.push((var.to_string(), value.to_string()));
    }
    if overrides.is_empty() {
        return Ok(json);
    }
    let mut env = env.to_vec();
    env.extend(overrides);
    resolve(&env)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct HostSettings {
    pub db_uri: String,
    pub db_pool: usize,
    pub db_pool_acquisition_timeout: u64,
    pub db_pool_max_idletime: u64,
    pub db_pool_max_lifetime: u64,
    pub db_prepared_statements: bool,
    pub server_host: String,
    pub server_port: u16,
    pub log_level: LogLevel,
    pub db_channel: String,
    pub db_channel_enabled: bool,
    pub admin_server_host: Option<String>,
    pub admin_server_port: Option<u16>,
    pub server_trace_header: Option<String>,
    pub jwt_cache_max_entries: u32,
    pub server_timing_enabled: bool,
    pub log_query: LogQuery,
    pub db_pool_automatic_recovery: bool,
    /// Milliseconds a request's call into the translator may run (0: no
    /// bound).
    pub server_translator_timeout: u64,
    #[serde(flatten)]
    pub limits: Limits,
}

/// pgrest's limits on slow and greedy clients (see `server::limits`):
/// timeouts in seconds, 0 for none.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Limits {
    pub server_read_header_timeout: u64,
    pub server_body_timeout: u64,
    pub server_idle_timeout: u64,
    pub server_max_connections: usize,
    pub server_max_body_bytes: u64,
    pub server_body_bytes_in_flight: u64,
}

impl Limits {
    pub fn read_header_timeout(&self) -> Option<Duration> {
        seconds(self.server_read_header_timeout)
    }

    pub fn body_timeout(&self) -> Option<Duration> {
        seconds(self.server_body_timeout)
    }

    pub fn idle_timeout(&self) -> Option<Duration> {
        seconds(self.server_idle_timeout)
    }
}

fn seconds(n: u64) -> Option<Duration> {
    (n > 0).then(|| Duration::from_secs(n))
}

/// `log-query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogQuery {
    Disabled,
    MainQuery,
}

/// PostgREST's host forms: `!4`/`*4` any IPv4, `!6`/`*6`/`*` any IPv6, or
/// a literal address.
fn bind_host(host: &str) -> String {
    match host {
        "!4" | "*4" => "0.0.0.0",
        "!6" | "*6" | "*" => "::",
        other => other,
    }
    .to_string()
}

impl HostSettings {
    pub fn from_config_json(json: &str) -> Result<HostSettings, String> {
        serde_json::from_str(json).map_err(|e| format!("configuration from the translator: {e}"))
    }

    pub fn acquisition_timeout(&self) -> Duration {
        Duration::from_secs(self.db_pool_acquisition_timeout)
    }

    pub fn bind_addr(&self) -> (String, u16) {
        (bind_host(&self.server_host), self.server_port)
    }

    /// The admin server's address, when `admin-server-port` is set; its host
    /// defaults to `server-host`.
    pub fn admin_bind_addr(&self) -> Option<(String, u16)> {
        let host = self.admin_server_host.as_ref().unwrap_or(&self.server_host);
        self.admin_server_port.map(|port| (bind_host(host), port))
    }

    /// The db-uri, with what it leaves unset taken from libpq's variables,
    /// and its TLS settings.
    pub fn pg_config(
        &self,
        env: &[(String, String)],
    ) -> Result<(tokio_postgres::Config, TlsOptions), String> {
        let (conninfo, tls_params) =
            tls::split_conninfo(&self.db_uri).map_err(|e| format!("invalid db-uri: {e}"))?;
        let mut config: tokio_postgres::Config = conninfo
            .parse()
            .map_err(|e| format!("invalid db-uri: {e}"))?;
        let var = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        if config.get_hosts().is_empty() {
            config.host(var("PGHOST").unwrap_or("/var/run/postgresql"));
        }
        if config.get_ports().is_empty()
            && let Some(port) = var("PGPORT")
        {
            config.port(
                port.parse()
                    .map_err(|_| format!("invalid PGPORT {port:?}"))?,
            );
        }
        if config.get_user().is_none()
            && let Some(user) = var("PGUSER").or(var("USER"))
        {
            config.user(user);
        }
        if config.get_password().is_none()
            && let Some(password) = var("PGPASSWORD")
        {
            config.password(password);
        }
        if config.get_dbname().is_none()
            && let Some(db) = var("PGDATABASE")
        {
            config.dbname(db);
        }
        if config.get_application_name().is_none() {
            config.application_name(var("PGAPPNAME").unwrap_or("pgrest"));
        }
        let tls = TlsOptions::new(&tls_params, env).map_err(|e| format!("invalid db-uri: {e}"))?;
        Ok((config, tls))
    }
}

/// The resolved configuration in the config file format (`--dump-config`):
/// one `key = value` line per option, in name order; lists comma-joined,
/// unset options as `""`; a group of options (`app-settings`) as one line per
/// member, by the member's full name (`app.settings.x = "v"`).
pub fn dump_config(json: &str) -> Result<String, String> {
    let options: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|e| format!("configuration JSON: {e}"))?;
    // `$` starts an interpolation in the file format: `$$` is a literal one.
    let quote = |s: &str| {
        let escaped = s
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('$', "$$");
        format!("\"{escaped}\"")
    };
    let mut out = String::new();
    for (key, value) in &options {
        if let serde_json::Value::Object(members) = value {
            for (name, value) in members {
                let text = value.as_str().map_or_else(|| value.to_string(), quote);
                out.push_str(&format!("{name} = {text}\n"));
            }
            continue;
        }
        let text = match value {
            serde_json::Value::String(s) => quote(s),
            serde_json::Value::Null => quote(""),
            serde_json::Value::Array(items) => quote(
                &items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            other => other.to_string(),
        };
        out.push_str(&format!("{key} = {text}\n"));
    }
    Ok(out)
}
