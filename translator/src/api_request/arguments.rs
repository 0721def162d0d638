//! The arguments of an `/rpc/` call, read before the function is known: the
//! names they use (which pick an overload) and where their values come from.

use super::accept::MediaType;
use super::payload::{self, BodyJson};
use crate::contract::HttpRequest;
use crate::error::{ApiError, RpcPayload};

/// The arguments a request passes.
pub(crate) struct Arguments {
    /// Their names, sorted and distinct.
    pub(crate) keys: Vec<String>,
    pub(crate) payload: RpcPayload,
    pub(crate) source: ArgSource,
}

/// Where the argument values are.
pub(crate) enum ArgSource {
    /// A JSON (or CSV) body: the object, or an array whose first object
    /// holds them; or a raw body for a single unnamed argument.
    Body(BodyJson),
    /// The query string's or a form's (name, value) pairs, as sent.
    Pairs(Vec<(String, String)>),
}

impl Arguments {
    /// The values as one JSON text, for a function taking them whole: the
    /// body as it is, or the pairs as an object of strings (a repeated name:
    /// its last value).
    pub(crate) fn whole(&self) -> BodyJson {
        match &self.source {
            ArgSource::Body(json) => json.clone(),
            ArgSource::Pairs(pairs) => {
                let object: serde_json::Map<String, serde_json::Value> = pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone().into()))
                    .collect();
                BodyJson::Text(serde_json::Value::Object(object).to_string())
            }
        }
    }
}

/// A GET/HEAD call's arguments: the query string's values without an
/// operator.
pub(crate) fn from_query(pairs: Vec<(String, String)>) -> Arguments {
    from_pairs(pairs, RpcPayload::Named)
}

fn from_pairs(pairs: Vec<(String, String)>, payload: RpcPayload) -> Arguments {
    let mut keys: Vec<String> = pairs.iter().map(|(k, _)| k.clone()).collect();
    keys.sort();
    keys.dedup();
    Arguments {
        keys,
        payload,
        source: ArgSource::Pairs(pairs),
    }
}

/// A POST body: a JSON object or array (empty: `{}`; `?columns=` names the
/// arguments instead of its keys), CSV, a form, or a raw body for a single
/// unnamed argument.
pub(crate) fn from_body(
    req: &HttpRequest,
    columns: Option<&[String]>,
) -> Result<Arguments, ApiError> {
    let content_type = req
        .header("content-type")
        .map_or(MediaType::Json, MediaType::decode);
    let raw = |payload| Arguments {
        keys: Vec::new(),
        payload,
        source: ArgSource::Body(BodyJson::Request),
    };
    Ok(match content_type {
        MediaType::TextPlain => raw(RpcPayload::Text),
        MediaType::TextXml => raw(RpcPayload::Xml),
        MediaType::OctetStream => raw(RpcPayload::Bytes),
        MediaType::UrlEncoded => from_pairs(payload::form_pairs(&req.body), RpcPayload::Named),
        MediaType::Json if columns.is_none() && req.body.iter().all(u8::is_ascii_whitespace) => {
            Arguments {
                keys: Vec::new(),
                payload: RpcPayload::Json,
                source: ArgSource::Body(BodyJson::Text("{}".into())),
            }
        }
        other => {
            let parsed = payload::parse(&other, &req.body, columns)?;
            Arguments {
                keys: parsed.keys,
                payload: if other == MediaType::Json {
                    RpcPayload::Json
                } else {
                    RpcPayload::Named
                },
                source: ArgSource::Body(parsed.json),
            }
        }
    })
}
