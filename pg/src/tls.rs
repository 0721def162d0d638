//! TLS to PostgreSQL with libpq's `sslmode` semantics, over rustls (ring).
//!
//! | sslmode     | TLS                          | certificate checked           |
//! |-------------|------------------------------|-------------------------------|
//! | disable     | never                        | -                             |
//! | allow       | only if plain text fails     | only with a root certificate  |
//! | prefer      | if the server offers it      | only with a root certificate  |
//! | require     | always                       | only with a root certificate  |
//! | verify-ca   | always                       | chain to `sslrootcert`        |
//! | verify-full | always                       | chain and host name           |
//!
//! As in libpq, the root certificate is `sslrootcert`, else
//! `~/.postgresql/root.crt` when that file exists, and TLS is never used on
//! unix sockets. tokio-postgres knows neither `verify-*` nor `sslrootcert`
//! (nor libpq's `require_auth`, which the pool's authentication honours),
//! so they are taken out of the connection string first (`split_conninfo`).
//!
//! The handshake keeps the server certificate's `tls-server-end-point`
//! hash (RFC 5929: the certificate's signature hash, SHA-256 for MD5 and
//! SHA-1), which SCRAM-SHA-256-PLUS binds the authentication to.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::Host;

use crate::require_auth::RequireAuth;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A connection setting that cannot be used, worded as libpq words it where
/// libpq has the setting.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("invalid sslmode value: {0:?}")]
    SslMode(String),
    /// libpq's message for a `require_auth` it refuses.
    #[error("{0}")]
    RequireAuth(String),
    #[error("sslrootcert=system is not supported; name a PEM file of trusted roots")]
    SystemRoots,
    #[error(
        "sslmode={0} needs a root certificate: set sslrootcert (or PGSSLROOTCERT) to a PEM \
         file, or create ~/.postgresql/root.crt"
    )]
    NoRoots(&'static str),
    #[error("reading root certificate file {}: {reason}", .path.display())]
    UnreadableRoots { path: PathBuf, reason: String },
    #[error("root certificate file {}: {reason}", .path.display())]
    BadRoot { path: PathBuf, reason: String },
    #[error("root certificate file {} holds no certificate", .0.display())]
    NoRootInFile(PathBuf),
    #[error("TLS setup: {0}")]
    Tls(String),
    #[error("building the connection pool: {0}")]
    Pool(String),
    #[error("invalid connection string: missing \"=\" after {0:?}")]
    MissingEquals(String),
    #[error("invalid connection string: unterminated quoted value")]
    UnterminatedQuote,
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode, SettingsError> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return Err(SettingsError::SslMode(value.to_string())),
        })
    }
}

/// The TLS part of a connection's settings, and `require_auth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOptions {
    pub(crate) mode: SslMode,
    pub(crate) root_cert: Option<PathBuf>,
    pub(crate) require_auth: RequireAuth,
}

/// The connection parameters taken out of a conninfo, handled here.
const TLS_KEYS: [&str; 3] = ["sslmode", "sslrootcert", "require_auth"];

/// Splits a connection string (URI or `key=value` form) into what
/// tokio-postgres parses and the TLS parameters handled here.
pub fn split_conninfo(conninfo: &str) -> Result<(String, Vec<(String, String)>), SettingsError> {
    if conninfo.starts_with("postgres://") || conninfo.starts_with("postgresql://") {
        Ok(split_uri(conninfo))
    } else {
        split_key_values(conninfo)
    }
}

/// The query string starts at the first `?` after the last `@` (a password
/// may hold a `?`).
fn split_uri(uri: &str) -> (String, Vec<(String, String)>) {
    let authority = uri.rfind('@').map_or(0, |i| i + 1);
    let Some(q) = uri[authority..].find('?').map(|i| authority + i) else {
        return (uri.to_string(), Vec::new());
    };
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let mut kept = Vec::new();
    let mut tls = Vec::new();
    for param in uri[q + 1..].split('&').filter(|p| !p.is_empty()) {
        let (k, v) = param.split_once('=').unwrap_or((param, ""));
        let key = decode(k);
        if TLS_KEYS.contains(&key.as_str()) {
            tls.push((key, decode(v)));
        } else {
            kept.push(param);
        }
    }
    let mut rest = uri[..q].to_string();
    if !kept.is_empty() {
        rest.push('?');
        rest.push_str(&kept.join("&"));
    }
    (rest, tls)
}

/// libpq's `key = value` form: values unquoted or single-quoted, with
/// backslash escapes in both.
fn split_key_values(conninfo: &str) -> Result<(String, Vec<(String, String)>), SettingsError> {
    let mut kept = Vec::new();
    let mut tls = Vec::new();
    let mut chars = conninfo.char_indices().peekable();
    let skip_ws = |chars: &mut std::iter::Peekable<std::str::CharIndices>| {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
    };
    loop {
        skip_ws(&mut chars);
        let Some(&(start, _)) = chars.peek() else {
            break;
        };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        skip_ws(&mut chars);
        if chars.next().is_none_or(|(_, c)| c != '=') {
            return Err(SettingsError::MissingEquals(key));
        }
        skip_ws(&mut chars);
        let quoted = chars.next_if(|(_, c)| *c == '\'').is_some();
        let mut value = String::new();
        let mut closed = !quoted;
        while let Some((_, c)) = chars.next() {
            match c {
                '\\' => value.extend(chars.next().map(|(_, c)| c)),
                '\'' if quoted => {
                    closed = true;
                    break;
                }
                c if c.is_whitespace() && !quoted => break,
                c => value.push(c),
            }
        }
        if !closed {
            return Err(SettingsError::UnterminatedQuote);
        }
        let end = chars.peek().map_or(conninfo.len(), |(i, _)| *i);
        if TLS_KEYS.contains(&key.as_str()) {
            tls.push((key, value));
        } else {
            kept.push(conninfo[start..end].trim_end());
        }
    }
    Ok((kept.join(" "), tls))
}

impl TlsOptions {
    /// From the connection string's parameters, else libpq's `PGSSLMODE`,
    /// `PGSSLROOTCERT` and `PGREQUIREAUTH`; `prefer` by default.
    pub fn new(
        params: &[(String, String)],
        env: &[(String, String)],
    ) -> Result<Self, SettingsError> {
        let get = |key: &str, var: &str| {
            params
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .or_else(|| env.iter().rev().find(|(k, _)| k == var))
                .map(|(_, v)| v.clone())
        };
        let mode = match get("sslmode", "PGSSLMODE") {
            Some(m) => SslMode::parse(&m)?,
            None => SslMode::Prefer,
        };
        let root_cert = get("sslrootcert", "PGSSLROOTCERT")
            .map(PathBuf::from)
            .or_else(|| {
                let home = env.iter().find(|(k, _)| k == "HOME")?;
                let default = Path::new(&home.1).join(".postgresql/root.crt");
                default.is_file().then_some(default)
            });
        let require_auth = match get("require_auth", "PGREQUIREAUTH") {
            Some(value) => RequireAuth::parse(&value)?,
            None => RequireAuth::default(),
        };
        Ok(TlsOptions {
            mode,
            root_cert,
            require_auth,
        })
    }

    /// The pool's connector: rustls set up for this mode.
    pub fn connector(&self, config: &tokio_postgres::Config) -> Result<PgConnect, SettingsError> {
        let unix_only = !config.get_hosts().is_empty()
            && config
                .get_hosts()
                .iter()
                .all(|h| matches!(h, Host::Unix(_)));
        let mode = if unix_only {
            SslMode::Disable
        } else {
            self.mode
        };
        let verifier = self.verifier(mode)?;
        let provider = verifier.provider.clone();
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| SettingsError::Tls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(PgConnect {
            mode,
            require_auth: self.require_auth.clone(),
            client: Arc::new(client),
        })
    }

    fn verifier(&self, mode: SslMode) -> Result<PgVerifier, SettingsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verify = matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull);
        let roots = match &self.root_cert {
            Some(path) if path.as_os_str() == "system" => return Err(SettingsError::SystemRoots),
            Some(path) => Some(Arc::new(read_roots(path)?)),
            None if verify => {
                return Err(SettingsError::NoRoots(if mode == SslMode::VerifyCa {
                    "verify-ca"
                } else {
                    "verify-full"
                }));
            }
            None => None,
        };
        let full = match (&roots, mode) {
            (Some(roots), SslMode::VerifyFull) => Some(
                WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
                    .build()
                    .map_err(|e| SettingsError::Tls(e.to_string()))?,
            ),
            _ => None,
        };
        Ok(PgVerifier {
            algorithms: provider.signature_verification_algorithms,
            provider,
            roots,
            full,
        })
    }
}

fn read_roots(path: &Path) -> Result<RootCertStore, SettingsError> {
    let bad = |reason: String| SettingsError::BadRoot {
        path: path.to_path_buf(),
        reason,
    };
    let mut roots = RootCertStore::empty();
    let certs =
        CertificateDer::pem_file_iter(path).map_err(|e| SettingsError::UnreadableRoots {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    for cert in certs {
        let cert = cert.map_err(|e| bad(e.to_string()))?;
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(SettingsError::NoRootInFile(path.to_path_buf()));
    }
    Ok(roots)
}

/// Checks the chain when there are roots, and the host name for verify-full;
/// handshake signatures are always checked.
#[derive(Debug)]
struct PgVerifier {
    provider: Arc<CryptoProvider>,
    algorithms: WebPkiSupportedAlgorithms,
    roots: Option<Arc<RootCertStore>>,
    full: Option<Arc<WebPkiServerVerifier>>,
}

impl ServerCertVerifier for PgVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(full) = &self.full {
            return full.verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        }
        if let Some(roots) = &self.roots {
            let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_cert_signed_by_trust_anchor(
                &cert,
                roots,
                intermediates,
                now,
                self.algorithms.all,
            )?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Opens connections (the pool's and the listener's) in the chosen mode.
pub struct PgConnect {
    mode: SslMode,
    require_auth: RequireAuth,
    client: Arc<rustls::ClientConfig>,
}

impl PgConnect {
    pub(crate) fn mode(&self) -> SslMode {
        self.mode
    }

    pub(crate) fn require_auth(&self) -> &RequireAuth {
        &self.require_auth
    }

    /// The TLS handshake over a TCP stream to `host` (after the server
    /// accepted the SSLRequest), and the
    /// server certificate's `tls-server-end-point` hash when its signature
    /// algorithm names one (Ed25519 certificates do not).
    pub(crate) async fn handshake(
        &self,
        stream: tokio::net::TcpStream,
        host: &str,
    ) -> Result<(Box<dyn crate::connection::Io>, Option<Vec<u8>>), String> {
        let failed = |e: &dyn std::error::Error| {
            format!("error performing TLS handshake: {}", crate::with_causes(e))
        };
        let name = ServerName::try_from(host.to_string()).map_err(|e| failed(&e))?;
        let stream = tokio_rustls::TlsConnector::from(self.client.clone())
            .connect(name, stream)
            .await
            .map_err(|e| failed(&e))?;
        let end_point = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(<[_]>::first)
            .and_then(server_end_point);
        Ok((Box::new(stream), end_point))
    }
}

/// RFC 5929's `tls-server-end-point`: the certificate hashed with its
/// signature's hash function, SHA-256 in place of MD5 and SHA-1.
fn server_end_point(cert: &CertificateDer<'_>) -> Option<Vec<u8>> {
    use ring::digest::{SHA256, SHA384, SHA512, digest};
    use x509_cert::der::Decode;
    use x509_cert::der::oid::db::rfc5912::{
        ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ECDSA_WITH_SHA_512, MD_5_WITH_RSA_ENCRYPTION,
        SHA_1_WITH_RSA_ENCRYPTION, SHA_256_WITH_RSA_ENCRYPTION, SHA_384_WITH_RSA_ENCRYPTION,
        SHA_512_WITH_RSA_ENCRYPTION,
    };
    let parsed = x509_cert::Certificate::from_der(cert).ok()?;
    let hash = match parsed.signature_algorithm.oid {
        MD_5_WITH_RSA_ENCRYPTION
        | SHA_1_WITH_RSA_ENCRYPTION
        | SHA_256_WITH_RSA_ENCRYPTION
        | ECDSA_WITH_SHA_256 => &SHA256,
        SHA_384_WITH_RSA_ENCRYPTION | ECDSA_WITH_SHA_384 => &SHA384,
        SHA_512_WITH_RSA_ENCRYPTION | ECDSA_WITH_SHA_512 => &SHA512,
        _ => return None,
    };
    Some(digest(hash, cert).as_ref().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn uri_parameters_are_split() {
        let (rest, tls) = split_conninfo(
            "postgres://u:p?w@db:5432/app?sslmode=verify-full&application_name=x&sslrootcert=%2Fca.pem",
        )
        .unwrap();
        assert_eq!(rest, "postgres://u:p?w@db:5432/app?application_name=x");
        assert_eq!(
            tls,
            params(&[("sslmode", "verify-full"), ("sslrootcert", "/ca.pem")])
        );
        let (rest, tls) = split_conninfo("postgresql://db/app?sslmode=disable").unwrap();
        assert_eq!(rest, "postgresql://db/app");
        assert_eq!(tls, params(&[("sslmode", "disable")]));
        assert_eq!(
            split_conninfo("postgresql://").unwrap(),
            ("postgresql://".to_string(), vec![])
        );
    }

    #[test]
    fn key_value_parameters_are_split() {
        let (rest, tls) = split_conninfo(
            "host=db  sslmode = require user='a b\\'c' sslrootcert='/my certs/ca.pem' dbname=x",
        )
        .unwrap();
        assert_eq!(rest, "host=db user='a b\\'c' dbname=x");
        assert_eq!(
            tls,
            params(&[("sslmode", "require"), ("sslrootcert", "/my certs/ca.pem")])
        );
        assert!(split_conninfo("host").is_err());
        assert!(split_conninfo("host='x").is_err());
    }

    #[test]
    fn mode_and_root_from_parameters_then_environment() {
        let env = params(&[("PGSSLMODE", "verify-ca"), ("PGSSLROOTCERT", "/env.pem")]);
        let o = TlsOptions::new(&params(&[("sslmode", "disable")]), &env).unwrap();
        assert_eq!(o.mode, SslMode::Disable);
        assert_eq!(o.root_cert.as_deref(), Some(Path::new("/env.pem")));
        let o = TlsOptions::new(&[], &params(&[("HOME", "/nonexistent")])).unwrap();
        assert_eq!(
            o,
            TlsOptions {
                mode: SslMode::Prefer,
                root_cert: None,
                require_auth: RequireAuth::default(),
            }
        );
        let err = TlsOptions::new(&params(&[("sslmode", "on")]), &[]).unwrap_err();
        assert_eq!(err.to_string(), "invalid sslmode value: \"on\"");
        let from_env = params(&[("PGREQUIREAUTH", "md5")]);
        let o = TlsOptions::new(&params(&[("require_auth", "scram-sha-256")]), &from_env).unwrap();
        assert_eq!(o.require_auth, RequireAuth::parse("scram-sha-256").unwrap());
        let o = TlsOptions::new(&[], &from_env).unwrap();
        assert_eq!(o.require_auth, RequireAuth::parse("md5").unwrap());
        let err = TlsOptions::new(&params(&[("require_auth", "md4")]), &[]).unwrap_err();
        assert_eq!(err.to_string(), "invalid require_auth value: \"md4\"");
    }

    #[test]
    fn verify_modes_need_a_root_certificate() {
        let config: tokio_postgres::Config = "host=db".parse().unwrap();
        for mode in [SslMode::VerifyCa, SslMode::VerifyFull] {
            let options = TlsOptions {
                mode,
                root_cert: None,
                require_auth: RequireAuth::default(),
            };
            let err = options.connector(&config).err().unwrap().to_string();
            assert!(err.contains("needs a root certificate"), "{err}");
        }
        let missing = TlsOptions {
            mode: SslMode::Require,
            root_cert: Some("/nonexistent/ca.pem".into()),
            require_auth: RequireAuth::default(),
        };
        let err = missing.connector(&config).err().unwrap().to_string();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }
}
