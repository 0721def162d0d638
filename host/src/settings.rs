//! The configuration as a host holds it: the typed settings the translator
//! resolved (`wit::HostSettings`), read here into durations and addresses,
//! and the database connection settings (db-uri completed by libpq's
//! environment variables, as libpq would).
//!
//! The component resolves the configuration; the host only reads files:
//! the config file, and the files the component asks for (`@filename`
//! values of `db-uri` and `jwt-secret`).

use std::path::Path;
use std::time::Duration;

use crate::SetupError;
use crate::component::Compiled;
use crate::component::wit::{BindAddress, ConfigResolution};
pub use crate::component::wit::{ClientLimits, HostSettings, LogLevel, LogQuery, ResolvedConfig};
use pgrest_pg::tls::{self, TlsOptions};

/// Resolves the configuration from the config file (if any), `env` and the
/// in-database settings, reading the files the component names.
pub fn resolve_config(
    compiled: &Compiled,
    config_file: Option<&Path>,
    env: &[(String, String)],
    db_settings: &[(String, String)],
) -> Result<ResolvedConfig, SetupError> {
    let file_text = config_file
        .map(|path| {
            std::fs::read_to_string(path).map_err(|source| SetupError::Read {
                what: "config file",
                path: path.display().to_string(),
                source,
            })
        })
        .transpose()?;
    let mut files: Vec<(String, String)> = Vec::new();
    loop {
        let resolution = compiled
            .resolve_config(file_text.as_deref(), env, db_settings, &files)
            .map_err(SetupError::Translator)?
            .map_err(SetupError::Refused)?;
        let paths = match resolution {
            ConfigResolution::Resolved(resolved) => return Ok(resolved),
            ConfigResolution::ReadFiles(paths) => paths,
        };
        // Each pass reads what the last one named; a file asked for twice
        // would never resolve.
        for path in paths {
            if files.iter().any(|(read, _)| *read == path) {
                return Err(SetupError::FileLoop(path));
            }
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(source) => {
                    return Err(SetupError::Read {
                        what: "the file",
                        path,
                        source,
                    });
                }
            };
            files.push((path, text));
        }
    }
}

impl ClientLimits {
    pub fn read_header_timeout(&self) -> Option<Duration> {
        seconds(self.read_header_timeout)
    }

    pub fn body_timeout(&self) -> Option<Duration> {
        seconds(self.body_timeout)
    }

    pub fn idle_timeout(&self) -> Option<Duration> {
        seconds(self.idle_timeout)
    }
}

fn seconds(n: u32) -> Option<Duration> {
    (n > 0).then(|| Duration::from_secs(n.into()))
}

impl BindAddress {
    fn pair(&self) -> (String, u16) {
        (self.host.clone(), self.port)
    }
}

impl HostSettings {
    pub fn acquisition_timeout(&self) -> Duration {
        Duration::from_secs(self.db_pool_acquisition_timeout.into())
    }

    pub fn bind_addr(&self) -> (String, u16) {
        self.server.pair()
    }

    /// The admin server's address, when `admin-server-port` is set.
    pub fn admin_bind_addr(&self) -> Option<(String, u16)> {
        self.admin_server.as_ref().map(BindAddress::pair)
    }

    /// The db-uri, with what it leaves unset taken from libpq's variables,
    /// and its TLS settings.
    pub fn pg_config(
        &self,
        env: &[(String, String)],
    ) -> Result<(tokio_postgres::Config, TlsOptions), SetupError> {
        let invalid = |e| SetupError::DbUri(Box::new(e));
        let (conninfo, tls_params) = tls::split_conninfo(&self.db_uri).map_err(invalid)?;
        let mut config: tokio_postgres::Config = conninfo
            .parse()
            .map_err(|e| SetupError::DbUri(Box::new(e)))?;
        let var = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        if config.get_hosts().is_empty() {
            config.host(var("PGHOST").unwrap_or("/var/run/postgresql"));
        }
        if config.get_ports().is_empty()
            && let Some(port) = var("PGPORT")
        {
            config.port(
                port.parse()
                    .map_err(|_| SetupError::PgPort(port.to_string()))?,
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
        let tls = TlsOptions::new(&tls_params, env).map_err(invalid)?;
        Ok((config, tls))
    }
}
