//! libpq's `require_auth` (PostgreSQL 16): the authentication requests the
//! client answers, as a comma list of `password`, `md5`, `gss`, `sspi`,
//! `scram-sha-256` and `none` (no authentication at all), or of the same
//! names each prefixed with `!` for every method but those. Unset, every
//! method is allowed.

use crate::connection::Error;
use crate::tls::SettingsError;

/// An authentication request of the server, as `require_auth` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Password,
    Md5,
    Gss,
    Sspi,
    ScramSha256,
}

impl Method {
    fn bit(self) -> u8 {
        1 << self as u8
    }

    /// libpq's words for the request in a refusal.
    fn requested(self) -> &'static str {
        match self {
            Method::Password => "server requested a cleartext password",
            Method::Md5 => "server requested a hashed password",
            Method::Gss => "server requested GSSAPI authentication",
            Method::Sspi => "server requested SSPI authentication",
            Method::ScramSha256 => "server requested SASL authentication",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequireAuth {
    /// The setting as written, for messages; `None` when unset.
    text: Option<String>,
    /// Bits of the allowed methods.
    allowed: u8,
    /// Whether the server must authenticate the client (`none` not allowed).
    required: bool,
}

impl Default for RequireAuth {
    fn default() -> RequireAuth {
        RequireAuth {
            text: None,
            allowed: u8::MAX,
            required: false,
        }
    }
}

impl RequireAuth {
    /// Parses the setting with libpq's rules and messages; empty is unset.
    pub(crate) fn parse(value: &str) -> Result<RequireAuth, SettingsError> {
        let refused = |message: String| Err(SettingsError::RequireAuth(message));
        if value.is_empty() {
            return Ok(RequireAuth::default());
        }
        let mut rule = RequireAuth {
            text: Some(value.to_string()),
            allowed: 0,
            required: true,
        };
        let mut negated = false;
        for (i, item) in value.split(',').map(str::trim).enumerate() {
            let name = match item.strip_prefix('!') {
                Some(name) if i == 0 => {
                    negated = true;
                    rule.required = false;
                    rule.allowed = u8::MAX;
                    name
                }
                Some(_) if !negated => {
                    return refused(format!(
                        "negative require_auth method \"{item}\" cannot be mixed with \
                         non-negative methods"
                    ));
                }
                Some(name) => name,
                None if negated => {
                    return refused(format!(
                        "require_auth method \"{item}\" cannot be mixed with negative methods"
                    ));
                }
                None => item,
            };
            let method = match name {
                "password" => Method::Password,
                "md5" => Method::Md5,
                "gss" => Method::Gss,
                "sspi" => Method::Sspi,
                "scram-sha-256" => Method::ScramSha256,
                "none" => {
                    rule.required = negated;
                    continue;
                }
                _ => return refused(format!("invalid require_auth value: \"{name}\"")),
            };
            let bit = method.bit();
            let already = if negated {
                rule.allowed & bit == 0
            } else {
                rule.allowed & bit != 0
            };
            if already {
                return refused(format!(
                    "require_auth method \"{name}\" is specified more than once"
                ));
            }
            rule.allowed ^= bit;
        }
        Ok(rule)
    }

    /// Whether the server may ask for `method`; the error is libpq's.
    pub(crate) fn check(&self, method: Method) -> Result<(), Error> {
        if self.allowed & method.bit() != 0 {
            Ok(())
        } else {
            Err(self.failed(method.requested()))
        }
    }

    /// Whether the server may accept the client after `authenticated`
    /// (an exchange the client completed).
    pub(crate) fn check_ok(&self, authenticated: bool) -> Result<(), Error> {
        if self.required && !authenticated {
            Err(self.failed("server did not complete authentication"))
        } else {
            Ok(())
        }
    }

    fn failed(&self, reason: &str) -> Error {
        Error::Connect(format!(
            "authentication method requirement \"{}\" failed: {reason}",
            self.text.as_deref().unwrap_or_default()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_allows_everything_and_no_authentication() {
        for rule in [RequireAuth::default(), RequireAuth::parse("").unwrap()] {
            for m in [Method::Password, Method::Md5, Method::ScramSha256] {
                assert!(rule.check(m).is_ok());
            }
            assert!(rule.check_ok(false).is_ok());
        }
    }

    #[test]
    fn a_list_allows_its_methods_only() {
        let rule = RequireAuth::parse("scram-sha-256, md5").unwrap();
        assert!(rule.check(Method::ScramSha256).is_ok());
        assert!(rule.check(Method::Md5).is_ok());
        assert_eq!(
            rule.check(Method::Password).unwrap_err().to_string(),
            "authentication method requirement \"scram-sha-256, md5\" failed: server \
             requested a cleartext password"
        );
        assert_eq!(
            rule.check_ok(false).unwrap_err().to_string(),
            "authentication method requirement \"scram-sha-256, md5\" failed: server did \
             not complete authentication"
        );
        assert!(rule.check_ok(true).is_ok());
        let rule = RequireAuth::parse("md5,none").unwrap();
        assert!(rule.check_ok(false).is_ok());
        assert!(rule.check(Method::ScramSha256).is_err());
    }

    #[test]
    fn negations_allow_every_other_method() {
        let rule = RequireAuth::parse("!password,!md5").unwrap();
        assert!(rule.check(Method::ScramSha256).is_ok());
        assert!(rule.check(Method::Gss).is_ok());
        assert!(rule.check(Method::Md5).is_err());
        assert!(rule.check(Method::Password).is_err());
        assert!(rule.check_ok(false).is_ok());
        let rule = RequireAuth::parse("!none").unwrap();
        assert!(rule.check(Method::Password).is_ok());
        assert!(rule.check_ok(false).is_err());
    }

    #[test]
    fn libpq_refuses_these_settings() {
        for (value, message) in [
            (
                "md5,!password",
                "negative require_auth method \"!password\" cannot be mixed with non-negative methods",
            ),
            (
                "!md5,password",
                "require_auth method \"password\" cannot be mixed with negative methods",
            ),
            (
                "md5,md5",
                "require_auth method \"md5\" is specified more than once",
            ),
            (
                "!md5,!md5",
                "require_auth method \"md5\" is specified more than once",
            ),
            ("scram", "invalid require_auth value: \"scram\""),
            ("md5,", "invalid require_auth value: \"\""),
        ] {
            let err = RequireAuth::parse(value).unwrap_err();
            assert_eq!(err.to_string(), message, "{value}");
        }
    }
}
