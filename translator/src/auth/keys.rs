//! `jwt-secret` as the set of keys tokens are checked against, read as
//! PostgREST reads it: a JWKS (`{"keys":[...]}`), else one JWK, else the text
//! itself as an HS256 secret of at least 32 bytes. A JWK whose `kty` or `alg`
//! is unknown is kept but never matches, as PostgREST's JOSE library does;
//! Ed448 and P-521 keys, which jsonwebtoken cannot verify, are kept the same way.

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

/// A key's `alg`: a signature algorithm, or one that can never sign (`none`
/// or a JWE key-management algorithm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyAlg {
    Signs(JwsAlg),
    Other,
}

#[derive(Clone)]
pub(crate) struct Key {
    kid: Option<String>,
    for_encryption: bool,
    alg: Option<KeyAlg>,
    /// `None`: kept from the configuration but never usable.
    material: Option<(KeyType, DecodingKey)>,
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
    /// JOSE's `canDecodeJws`: not an encryption key, same `kid` when the
    /// token names one, same `alg` when the key names one, right key type.
    pub(crate) fn can_verify(&self, alg: JwsAlg, kid: Option<&str>) -> bool {
        !self.for_encryption
            && kid.is_none_or(|kid| self.kid.as_deref() == Some(kid))
            && self.alg.is_none_or(|a| a == KeyAlg::Signs(alg))
            && self
                .material
                .as_ref()
                .is_some_and(|(kty, _)| *kty == alg.key_type())
    }

    /// Whether `signature` (base64url) signs `message` under this key.
    pub(crate) fn verifies(&self, alg: JwsAlg, message: &[u8], signature: &str) -> bool {
        match (&self.material, alg.verifier()) {
            (Some((_, key)), Some(algorithm)) => {
                jsonwebtoken::crypto::verify(signature, message, key, algorithm).unwrap_or(false)
            }
            _ => false,
        }
    }
}

/// Reads `jwt-secret` (already decoded from base64 when
/// `jwt-secret-is-base64`); the error is PostgREST's startup message.
pub(crate) fn parse_secret(secret: &[u8]) -> Result<Vec<Key>, String> {
    if let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(secret) {
        if let Some(keys) = parse_jwks(&doc) {
            return Ok(keys);
        }
        if let Some(key) = parse_jwk(&doc) {
            return Ok(vec![key]);
        }
    }
    if secret.len() < 32 {
        return Err("The JWT secret must be at least 32 characters long.".into());
    }
    Ok(vec![Key {
        kid: None,
        for_encryption: false,
        alg: Some(KeyAlg::Signs(JwsAlg::Hs256)),
        material: Some((KeyType::Oct, DecodingKey::from_secret(secret))),
    }])
}

/// `jwt-secret-is-base64`: standard base64, URL-safe characters allowed,
/// surrounding blanks ignored.
pub(crate) fn decode_base64_secret(secret: &str) -> Result<Vec<u8>, String> {
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
        .map_err(|e| format!("jwt-secret is not valid base64: {e}"))
}

/// A JWKS parses only when every key in it does.
fn parse_jwks(doc: &Map<String, Value>) -> Option<Vec<Key>> {
    match doc.get("keys")? {
        Value::Array(keys) => keys
            .iter()
            .map(|k| k.as_object().and_then(parse_jwk))
            .collect(),
        _ => None,
    }
}

fn parse_jwk(jwk: &Map<String, Value>) -> Option<Key> {
    let kty = match jwk.get("kty")? {
        Value::String(kty) => match kty.as_str() {
            "oct" => Some(KeyType::Oct),
            "RSA" => Some(KeyType::Rsa),
            "EC" => Some(KeyType::Ec),
            "OKP" => Some(KeyType::Okp),
            _ => None,
        },
        _ => None,
    };
    let alg = match jwk.get("alg") {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(name)) => key_alg(name).map(Some),
        Some(_) => None,
    };
    let (Some(kty), Some(alg)) = (kty, alg) else {
        return Some(Key {
            kid: None,
            for_encryption: false,
            alg: None,
            material: None,
        });
    };
    let for_encryption = match optional_str(jwk, "use")? {
        None | Some("sig") => false,
        Some("enc") => true,
        Some(_) => return None,
    };
    let kid = optional_str(jwk, "kid")?.map(str::to_string);
    let material = key_material(kty, jwk)?;
    Some(Key {
        kid,
        for_encryption,
        alg,
        material: material.map(|key| (kty, key)),
    })
}

/// The JOSE algorithms a key may name: signatures (RSASSA-PSS added), `none`
/// and the JWE key-management ones.
fn key_alg(name: &str) -> Option<KeyAlg> {
    if let Some(alg) = JwsAlg::from_name(name) {
        return Some(KeyAlg::Signs(alg));
    }
    matches!(
        name,
        "none" | "RSA1_5" | "RSA-OAEP" | "RSA-OAEP-256" | "A128KW" | "A192KW" | "A256KW"
    )
    .then_some(KeyAlg::Other)
}

/// `Some(None)` absent or null, `None` when not a string.
fn optional_str<'a>(jwk: &'a Map<String, Value>, field: &str) -> Option<Option<&'a str>> {
    match jwk.get(field) {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s)),
        Some(_) => None,
    }
}

/// The verifying key; `Some(None)` for a valid key jsonwebtoken cannot use.
fn key_material(kty: KeyType, jwk: &Map<String, Value>) -> Option<Option<DecodingKey>> {
    let bytes = |field: &str| -> Option<Option<Vec<u8>>> {
        match optional_str(jwk, field)? {
            None => Some(None),
            Some(text) => URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .ok()
                .map(Some),
        }
    };
    let crv = optional_str(jwk, "crv")?;
    match kty {
        KeyType::Oct => {
            let k = bytes("k")??;
            Some(Some(DecodingKey::from_secret(&k)))
        }
        KeyType::Rsa => {
            let (n, e) = (bytes("n")??, bytes("e")??);
            if crv.is_some() {
                return None;
            }
            Some(Some(DecodingKey::from_rsa_raw_components(&n, &e)))
        }
        KeyType::Ec => {
            let (x, y) = (bytes("x")??, bytes("y")??);
            match crv? {
                "P-256" | "P-384" => {
                    let mut point = vec![0x04];
                    point.extend_from_slice(&x);
                    point.extend_from_slice(&y);
                    Some(Some(DecodingKey::from_ec_der(&point)))
                }
                "P-521" => Some(None),
                _ => None,
            }
        }
        KeyType::Okp => {
            let x = bytes("x")??;
            match crv? {
                "Ed25519" => Some(Some(DecodingKey::from_ed_der(&x))),
                "Ed448" => Some(None),
                _ => None,
            }
        }
    }
}
