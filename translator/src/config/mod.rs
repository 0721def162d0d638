//! PostgREST's configuration rules: option names, aliases, defaults, the
//! `PGRST_*` environment mapping, and typed values. `resolve` merges the
//! sources (environment over file, database over both) into one `Config`,
//! which crosses the host boundary as JSON with PostgREST's option names.

use serde::{Deserialize, Serialize};

/// How a request's transaction ends (`db-tx-end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TxEndMode {
    Commit,
    CommitAllowOverride,
    Rollback,
    RollbackAllowOverride,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Config {
    pub db_uri: String,
    pub db_schemas: Vec<String>,
    pub db_anon_role: Option<String>,
    pub db_pool: u32,
    pub db_pool_acquisition_timeout: u32,
    pub db_extra_search_path: Vec<String>,
    pub db_tx_end: TxEndMode,
    pub server_host: String,
    pub server_port: u16,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            db_uri: "postgresql://".to_string(),
            db_schemas: vec!["public".to_string()],
            db_anon_role: None,
            db_pool: 10,
            db_pool_acquisition_timeout: 10,
            db_extra_search_path: vec!["public".to_string()],
            db_tx_end: TxEndMode::Commit,
            server_host: "!4".to_string(),
            server_port: 3000,
        }
    }
}

/// Option names with their older aliases.
const ALIASES: &[(&str, &str)] = &[("db-schema", "db-schemas")];

impl Config {
    /// Applies the sources in PostgREST's order of precedence.
    pub fn resolve(
        file_text: Option<&str>,
        env: &[(String, String)],
        db_settings: &[(String, String)],
    ) -> Result<Config, String> {
        if file_text.is_some() {
            return Err("configuration files are not supported yet; use PGRST_* variables".into());
        }
        let mut config = Config::default();
        for (var, value) in env {
            if let Some(name) = env_option_name(var) {
                config.set(&name, value)?;
            }
        }
        for (name, value) in db_settings {
            config.set(name, value)?;
        }
        Ok(config)
    }

    pub fn from_json(json: &str) -> Result<Config, String> {
        serde_json::from_str(json).map_err(|e| format!("invalid configuration JSON: {e}"))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("Config serializes")
    }

    /// Sets one option from its text form. Unknown options are ignored, as
    /// PostgREST ignores unknown keys.
    fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let name = ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map_or(name, |(_, canonical)| canonical);
        match name {
            "db-uri" => self.db_uri = value.to_string(),
            "db-schemas" => self.db_schemas = list(value),
            "db-anon-role" => self.db_anon_role = Some(value.to_string()).filter(|v| !v.is_empty()),
            "db-pool" => self.db_pool = number(name, value)?,
            "db-pool-acquisition-timeout" => {
                self.db_pool_acquisition_timeout = number(name, value)?
            }
            "db-extra-search-path" => self.db_extra_search_path = list(value),
            "db-tx-end" => {
                self.db_tx_end = serde_json::from_value(serde_json::Value::String(value.into()))
                    .map_err(|_| invalid(name, value))?
            }
            "server-host" => self.server_host = value.to_string(),
            "server-port" => self.server_port = number(name, value)?,
            _ => {}
        }
        Ok(())
    }
}

/// `PGRST_DB_URI` -> `db-uri`.
fn env_option_name(var: &str) -> Option<String> {
    let rest = var.strip_prefix("PGRST_")?;
    Some(rest.to_ascii_lowercase().replace('_', "-"))
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

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
    value.trim().parse().map_err(|_| invalid(name, value))
}

fn invalid(name: &str, value: &str) -> String {
    format!("invalid value for {name}: {value:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_match_postgrest() {
        let c = Config::resolve(None, &[], &[]).unwrap();
        assert_eq!(c.db_uri, "postgresql://");
        assert_eq!(c.db_schemas, ["public"]);
        assert_eq!(c.db_anon_role, None);
        assert_eq!(c.db_pool, 10);
        assert_eq!(c.db_tx_end, TxEndMode::Commit);
        assert_eq!(c.server_port, 3000);
    }

    #[test]
    fn environment_variables_and_aliases() {
        let c = Config::resolve(
            None,
            &env(&[
                ("PGRST_DB_SCHEMA", " api , v2 "),
                ("PGRST_DB_ANON_ROLE", "Web Anon"),
                ("PGRST_DB_TX_END", "rollback-allow-override"),
                ("PGRST_SERVER_PORT", "0"),
                ("HOME", "/root"),
            ]),
            &[],
        )
        .unwrap();
        assert_eq!(c.db_schemas, ["api", "v2"]);
        assert_eq!(c.db_anon_role.as_deref(), Some("Web Anon"));
        assert_eq!(c.db_tx_end, TxEndMode::RollbackAllowOverride);
        assert_eq!(c.server_port, 0);
    }

    #[test]
    fn database_settings_override_environment() {
        let c = Config::resolve(
            None,
            &env(&[("PGRST_DB_POOL", "3")]),
            &env(&[("db-pool", "7")]),
        )
        .unwrap();
        assert_eq!(c.db_pool, 7);
    }

    #[test]
    fn bad_values_are_reported() {
        let err = Config::resolve(None, &env(&[("PGRST_DB_TX_END", "sometimes")]), &[]);
        assert_eq!(
            err.unwrap_err(),
            "invalid value for db-tx-end: \"sometimes\""
        );
        assert!(Config::resolve(None, &env(&[("PGRST_SERVER_PORT", "x")]), &[]).is_err());
    }

    #[test]
    fn json_round_trip_uses_option_names() {
        let c = Config::default();
        let json = c.to_json();
        assert!(json.contains("\"db-uri\":\"postgresql://\""), "{json}");
        assert_eq!(Config::from_json(&json).unwrap(), c);
    }
}
