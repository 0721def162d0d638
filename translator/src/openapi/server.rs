//! Where the document says the API lives: `openapi-server-proxy-uri` when
//! set, else `server-host`/`server-port` over http.

use crate::config::{Config, ConfigError};

/// The parts of a proxy URI the document uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUri {
    /// `http` or `https`.
    pub scheme: String,
    pub host: String,
    pub port: u16,
    /// `/` when the URI has no path.
    pub base_path: String,
}

impl ProxyUri {
    /// `http(s)://host[:port][/path]`; anything else is refused at startup,
    /// as PostgREST does.
    pub fn parse(uri: &str) -> Result<ProxyUri, ConfigError> {
        let (scheme, rest) = uri.split_once("://").ok_or(ConfigError::ProxyUri)?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(ConfigError::ProxyUri),
        };
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if path.contains(['?', '#']) || authority.contains('@') {
            return Err(ConfigError::ProxyUri);
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => (
                host,
                port.parse::<u16>().map_err(|_| ConfigError::ProxyUri)?,
            ),
            _ => (authority, default_port),
        };
        if host.is_empty() {
            return Err(ConfigError::ProxyUri);
        }
        Ok(ProxyUri {
            scheme,
            host: host.to_string(),
            port,
            base_path: if path.is_empty() { "/" } else { path }.to_string(),
        })
    }
}

/// The document's scheme, `host:port` and basePath.
pub fn location(config: &Config) -> ProxyUri {
    if let Some(proxy) = config
        .openapi_server_proxy_uri
        .as_deref()
        .and_then(|uri| ProxyUri::parse(uri).ok())
    {
        return proxy;
    }
    // The special listen addresses name no host a client can use.
    let host = match config.server_host.as_str() {
        "*" | "*4" | "!4" | "*6" | "!6" => "0.0.0.0",
        other => other,
    };
    ProxyUri {
        scheme: "http".into(),
        host: host.into(),
        port: config.server_port,
        base_path: "/".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proxy_uris() {
        let p = ProxyUri::parse("HTTPS://api.example.com/v1").unwrap();
        assert_eq!(
            (
                p.scheme.as_str(),
                p.host.as_str(),
                p.port,
                p.base_path.as_str()
            ),
            ("https", "api.example.com", 443, "/v1")
        );
        let p = ProxyUri::parse("http://localhost:8080").unwrap();
        assert_eq!((p.port, p.base_path.as_str()), (8080, "/"));
        for bad in [
            "ftp://x",
            "http://",
            "example.com",
            "http://h:port/",
            "http://h/p?q",
        ] {
            assert!(
                matches!(ProxyUri::parse(bad), Err(ConfigError::ProxyUri)),
                "{bad}"
            );
        }
    }

    #[test]
    fn defaults_to_the_listen_address() {
        let config = Config::default();
        let l = location(&config);
        assert_eq!((l.host.as_str(), l.port), ("0.0.0.0", 3000));
    }
}
