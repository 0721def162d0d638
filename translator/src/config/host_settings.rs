//! The part of the configuration a host acts on, typed, so no host parses
//! the configuration.

use super::Config;
use crate::contract::{BindAddress, ClientLimits, HostSettings};

impl Config {
    pub fn host_settings(&self) -> HostSettings {
        let l = &self.limits;
        HostSettings {
            db_uri: self.db_uri.clone(),
            db_pool: self.db_pool,
            db_pool_acquisition_timeout: self.db_pool_acquisition_timeout,
            db_pool_max_idletime: self.db_pool_max_idletime,
            db_pool_max_lifetime: self.db_pool_max_lifetime,
            db_pool_automatic_recovery: self.db_pool_automatic_recovery,
            db_prepared_statements: self.db_prepared_statements,
            db_channel: self.db_channel.clone(),
            db_channel_enabled: self.db_channel_enabled,
            server: BindAddress {
                host: bind_host(&self.server_host),
                port: self.server_port,
            },
            // The admin server listens on `server-host` unless told otherwise.
            admin_server: self.admin_server_port.map(|port| BindAddress {
                host: bind_host(self.admin_server_host.as_ref().unwrap_or(&self.server_host)),
                port,
            }),
            server_trace_header: self.server_trace_header.clone(),
            server_timing_enabled: self.server_timing_enabled,
            log_level: self.log_level,
            log_query: self.log_query,
            jwt_cache_max_entries: self.jwt_cache_max_entries,
            server_translator_timeout: self.server_translator_timeout,
            limits: ClientLimits {
                read_header_timeout: l.server_read_header_timeout,
                body_timeout: l.server_body_timeout,
                idle_timeout: l.server_idle_timeout,
                max_connections: l.server_max_connections,
                max_body_bytes: l.server_max_body_bytes,
                body_bytes_in_flight: l.server_body_bytes_in_flight,
            },
        }
    }
}

/// PostgREST's host forms: `!4`/`*4` any IPv4, `!6`/`*6`/`*` any IPv6, or
/// a literal address or name.
fn bind_host(host: &str) -> String {
    match host {
        "!4" | "*4" => "0.0.0.0",
        "!6" | "*6" | "*" => "::",
        other => other,
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_hosts_become_addresses_and_the_admin_server_shares_the_host() {
        let config = Config {
            server_host: "*6".into(),
            admin_server_port: Some(3001),
            ..Config::default()
        };
        let s = config.host_settings();
        assert_eq!(s.server.host, "::");
        assert_eq!(s.admin_server.unwrap().host, "::");
        let config = Config {
            admin_server_host: Some("127.0.0.1".into()),
            ..config
        };
        assert_eq!(
            config.host_settings().admin_server.unwrap().host,
            "127.0.0.1"
        );
        assert_eq!(Config::default().host_settings().server.host, "0.0.0.0");
        assert!(Config::default().host_settings().admin_server.is_none());
    }
}
