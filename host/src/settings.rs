//! The few resolved configuration values the host itself acts on, read from
//! the component's configuration JSON, and the database connection settings
//! (db-uri completed by libpq's environment variables, as libpq would).

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct HostSettings {
    pub db_uri: String,
    pub db_pool: usize,
    pub db_pool_acquisition_timeout: u64,
    pub server_host: String,
    pub server_port: u16,
    /// Not a PostgREST option yet: bulk loads are a headline use.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
}

fn default_max_body_bytes() -> usize {
    1 << 30
}

impl HostSettings {
    pub fn from_config_json(json: &str) -> Result<HostSettings, String> {
        serde_json::from_str(json).map_err(|e| format!("configuration from the translator: {e}"))
    }

    pub fn acquisition_timeout(&self) -> Duration {
        Duration::from_secs(self.db_pool_acquisition_timeout)
    }

    /// PostgREST's host forms: `!4`/`*4` any IPv4, `!6`/`*6`/`*` any IPv6, or
    /// a literal address.
    pub fn bind_addr(&self) -> (String, u16) {
        let host = match self.server_host.as_str() {
            "!4" | "*4" => "0.0.0.0",
            "!6" | "*6" | "*" => "::",
            other => other,
        };
        (host.to_string(), self.server_port)
    }

    /// The db-uri, with what it leaves unset taken from libpq's variables.
    pub fn pg_config(&self, env: &[(String, String)]) -> Result<tokio_postgres::Config, String> {
        let mut config: tokio_postgres::Config = self
            .db_uri
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
        Ok(config)
    }
}
