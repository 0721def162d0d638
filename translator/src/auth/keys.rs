//! `jwt-secret` as the set of keys tokens are checked against: a JWKS
//! (`{"keys":[...]}`), else one JWK, else text that is not JSON as an HS256
//! secret of at least 32 bytes.
//!
//! Fails closed where PostgREST falls back: PostgREST takes any text its JOSE
//! library does not read as a JWK or JWKS as an HMAC secret, so a public JWKS
//! holding one key it cannot read becomes a secret every holder of that
//! public text can sign with. Here JSON is never an HMAC secret: a JWKS key
//! whose `kty`, `crv`, `use` or `alg` pgrest cannot verify with is skipped
//! with a warning (RFC 7517 allows such keys), a malformed key, a document
//! that is neither a JWK nor a JWKS, or a set left without a key is an error.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

/// The `alg` a token header names (PostgREST's JOSE set plus RSASSA-PSS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JwsAlg {
    Hs256,
    Hs384,
    Hs512,
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    Es512,
    EdDsa,
}

impl JwsAlg {
    pub(crate) fn from_name(name: &str) -> Option<JwsAlg> {
        use JwsAlg::*;
        Some(match name {
            "HS256" => Hs256,
            "HS384" => Hs384,
            "HS512" => Hs512,
            "RS256" => Rs256,
            "RS384" => Rs384,
            "RS512" => Rs512,
            "PS256" => Ps256,
            "PS384" => Ps384,
            "PS512" => Ps512,
            "ES256" => Es256,
            "ES384" => Es384,
            "ES512" => Es512,
            "EdDSA" => EdDsa,
            _ => return None,
        })
    }

    /// jsonwebtoken's verifier; `None` for ES512, which it lacks.
    fn verifier(self) -> Option<Algorithm> {
        use JwsAlg::*;
        Some(match self {
            Hs256 => Algorithm::HS256,
            Hs384 => Algorithm::HS384,
            Hs512 => Algorithm::HS512,
            Rs256 => Algorithm::RS256,
            Rs384 => Algorithm::RS384,
            Rs512 => Algorithm::RS512,
            Ps256 => Algorithm::PS256,
            Ps384 => Algorithm::PS384,
            Ps512 => Algorithm::PS512,
            Es256 => Algorithm::ES256,
            Es384 => Algorithm::ES384,
            Es512 => return None,
            EdDsa => Algorithm::EdDSA,
        })
    }

    fn key_type(self) -> KeyType {
        use JwsAlg::*;
        match self {
            Hs256 | Hs384 | Hs512 => KeyType::Oct,
            Rs256 | Rs384 | Rs512 | Ps256 | Ps384 | Ps512 => KeyType::Rsa,
            Es256 | Es384 | Es512 => KeyType::Ec,
            EdDsa => KeyType::Okp,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyType {
    Oct,
    Rsa,
    Ec,
    Okp,
}

/// A key tokens may be verified with.
#[derive(Clone)]
pub(crate) struct Key {
    kid: Option<String>,
    alg: Option<JwsAlg>,
    kty: KeyType,
    key: DecodingKey,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// JOSE's `canDecodeJws`: same `kid` when the token names one, same `alg`
    /// when the key names one, right key type.
    pub(crate) fn can_verify(&self, alg: JwsAlg, kid: Option<&str>) -> bool {
        kid.is_none_or(|kid| self.kid.as_deref() == Some(kid))
            && self.alg.is_none_or(|a| a == alg)
            && self.kty == alg.key_type()
    }

    /// Whether `signature` signs `message` under this key.
    pub(crate) fn verifies(&self, alg: JwsAlg, message: &[u8], signature: &[u8]) -> bool {
        // jsonwebtoken takes the signature as canonical base64url.
        let signature = URL_SAFE_NO_PAD.encode(signature);
        alg.verifier().is_some_and(|algorithm| {
            jsonwebtoken::crypto::verify(&signature, message, &self.key, algorithm).unwrap_or(false)
        })
    }
}

/// The keys read from `jwt-secret`, and a warning per JWKS key skipped.
#[derive(Debug, Clone, Default)]
pub(crate) struct Secret {
    pub keys: Vec<Key>,
    pub warnings: Vec<String>,
}

/// Why `jwt-secret` gives no keys: the message stops the start-up (or a
/// reload), PostgREST's where it has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("The JWT secret must be at least 32 characters long.")]
    TooShort,
    #[error("jwt-secret is not valid base64: {0}")]
    NotBase64(String),
    #[error(
        "jwt-secret is JSON but neither a JWK nor a JWKS ({{\"keys\": [...]}}); \
         JSON text is never used as an HMAC secret"
    )]
    NeitherJwkNorJwks,
    #[error("jwt-secret is a JWKS whose \"keys\" is not an array")]
    KeysNotAnArray,
    /// The JWK (not in a set) has a value pgrest cannot verify with.
    #[error("jwt-secret: the JWK {0}")]
    UnsupportedJwk(String),
    #[error("jwt-secret: invalid JWK: {0}")]
    InvalidJwk(String),
    /// `label` names the key in the set (`key 2 (kid "k2")`).
    #[error("jwt-secret: the JWKS's {label} is invalid: {why}")]
    InvalidJwksKey { label: String, why: String },
    /// Every key of the set was skipped, for these reasons.
    #[error("jwt-secret: the JWKS holds no key pgrest can verify tokens with{}", skipped_list(.0))]
    NoUsableKey(Vec<String>),
}

fn skipped_list(skipped: &[String]) -> String {
    skipped.iter().map(|why| format!("; {why}")).collect()
}

/// Reads `jwt-secret` (already decoded from base64 when
/// `jwt-secret-is-base64`).
pub(crate) fn parse_secret(secret: &[u8]) -> Result<Secret, SecretError> {
    let Ok(doc) = serde_json::from_slice::<Value>(secret) else {
        if secret.len() < 32 {
            return Err(SecretError::TooShort);
        }
        let key = Key {
            kid: None,
            alg: Some(JwsAlg::Hs256),
            kty: KeyType::Oct,
            key: DecodingKey::from_secret(secret),
        };
        return Ok(Secret {
            keys: vec![key],
            warnings: Vec::new(),
        });
    };
    let Value::Object(doc) = doc else {
        return Err(SecretError::NeitherJwkNorJwks);
    };
    match doc.get("keys") {
        Some(Value::Array(keys)) => parse_jwks(keys),
        Some(_) => Err(SecretError::KeysNotAnArray),
        None if !doc.contains_key("kty") => Err(SecretError::NeitherJwkNorJwks),
        None => match parse_jwk(&doc) {
            Ok(key) => Ok(Secret {
                keys: vec![key],
                warnings: Vec::new(),
            }),
            Err(Unusable::Unsupported(why)) => Err(SecretError::UnsupportedJwk(why)),
            Err(Unusable::Malformed(why)) => Err(SecretError::InvalidJwk(why)),
        },
    }
}

/// `jwt-secret-is-base64`: standard base64, URL-safe characters allowed,
/// surrounding blanks ignored.
pub(crate) fn decode_base64_secret(secret: &str) -> Result<Vec<u8>, SecretError> {
    let normalised: String = secret
        .chars()
        .map(|c| match c {
            '_' => '/',
            '-' => '+',
            '.' => '=',
            c => c,
        })
        .collect();
    STANDARD
        .decode(normalised.trim())
        .map_err(|e| SecretError::NotBase64(e.to_string()))
}

/// Keys pgrest cannot verify with are skipped with a warning; a malformed
/// key, or a set left empty, is an error.
fn parse_jwks(jwks: &[Value]) -> Result<Secret, SecretError> {
    let mut secret = Secret::default();
    let mut skipped = Vec::new();
    for (i, jwk) in jwks.iter().enumerate() {
        let label = match jwk.get("kid").and_then(Value::as_str) {
            Some(kid) => format!("key {} (kid {kid:?})", i + 1),
            None => format!("key {}", i + 1),
        };
        let parsed = match jwk {
            Value::Object(jwk) => parse_jwk(jwk),
            _ => Err(Unusable::Malformed("not a JSON object".into())),
        };
        match parsed {
            Ok(key) => secret.keys.push(key),
            Err(Unusable::Unsupported(why)) => {
                skipped.push(format!("skipped the JWKS's {label}: it {why}"))
            }
            Err(Unusable::Malformed(why)) => {
                return Err(SecretError::InvalidJwksKey { label, why });
            }
        }
    }
    if secret.keys.is_empty() {
        return Err(SecretError::NoUsableKey(skipped));
    }
    secret.warnings = skipped
        .into_iter()
        .map(|why| format!("jwt-secret: {why}"))
        .collect();
    Ok(secret)
}

/// Why a JWK is not used: a value RFC 7517 allows but pgrest cannot verify
/// with (skipped in a set), or a key that is not a valid JWK.
enum Unusable {
    Unsupported(String),
    Malformed(String),
}

fn parse_jwk(jwk: &Map<String, Value>) -> Result<Key, Unusable> {
    let kty = match optional_str(jwk, "kty")? {
        Some("oct") => KeyType::Oct,
        Some("RSA") => KeyType::Rsa,
        Some("EC") => KeyType::Ec,
        Some("OKP") => KeyType::Okp,
        Some(other) => return Err(unsupported("kty", other)),
        None => return Err(Unusable::Malformed("no \"kty\"".into())),
    };
    match optional_str(jwk, "use")? {
        None | Some("sig") => {}
        Some(other) => return Err(unsupported("use", other)),
    }
    let alg = match optional_str(jwk, "alg")? {
        None => None,
        Some(name) => match JwsAlg::from_name(name).filter(|a| a.verifier().is_some()) {
            Some(alg) => Some(alg),
            None => return Err(unsupported("alg", name)),
        },
    };
    let kid = optional_str(jwk, "kid")?.map(str::to_string);
    let key = decoding_key(kty, jwk)?;
    Ok(Key { kid, alg, kty, key })
}

fn unsupported(field: &str, value: &str) -> Unusable {
    Unusable::Unsupported(format!(
        "has {field} {value:?}, which pgrest does not support"
    ))
}

/// An optional string member; any other JSON type is malformed.
fn optional_str<'a>(jwk: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, Unusable> {
    match jwk.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Unusable::Malformed(format!("{field:?} is not a string"))),
    }
}

/// The verifying key from the key type's members.
fn decoding_key(kty: KeyType, jwk: &Map<String, Value>) -> Result<DecodingKey, Unusable> {
    let bytes = |field: &str| -> Result<Vec<u8>, Unusable> {
        let text = optional_str(jwk, field)?
            .ok_or_else(|| Unusable::Malformed(format!("no {field:?}")))?;
        URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| Unusable::Malformed(format!("{field:?} is not base64url")))
    };
    let crv = optional_str(jwk, "crv")?;
    match kty {
        KeyType::Oct => Ok(DecodingKey::from_secret(&bytes("k")?)),
        KeyType::Rsa => match crv {
            None => Ok(DecodingKey::from_rsa_raw_components(
                &bytes("n")?,
                &bytes("e")?,
            )),
            Some(_) => Err(Unusable::Malformed("an RSA key has no \"crv\"".into())),
        },
        KeyType::Ec => match crv {
            Some("P-256" | "P-384") => {
                let mut point = vec![0x04];
                point.extend_from_slice(&bytes("x")?);
                point.extend_from_slice(&bytes("y")?);
                Ok(DecodingKey::from_ec_der(&point))
            }
            Some(other) => Err(unsupported("crv", other)),
            None => Err(Unusable::Malformed("no \"crv\"".into())),
        },
        KeyType::Okp => match crv {
            Some("Ed25519") => Ok(DecodingKey::from_ed_der(&bytes("x")?)),
            Some(other) => Err(unsupported("crv", other)),
            None => Err(Unusable::Malformed("no \"crv\"".into())),
        },
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
