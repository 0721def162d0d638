//! The arguments of an `/rpc/` call, read before the function is known: the
//! names they use (which pick an overload) and where their values come from.

use super::accept::MediaType;
use super::payload::{self, BodyJson};
use crate::contract::HttpRequest;
use crate::error::{ApiError, RpcPayload};
use crate::schema_cache::Routine;

/// The arguments a request passes.
pub(crate) struct Arguments {
    /// Their names, sorted and distinct.
    pub(crate) keys: Vec<String>,
    pub(crate) payload: RpcPayload,
    /// A body's JSON object, or the query string's (name, value) pairs.
    source: ArgSource,
}

enum ArgSource {
    Body(BodyJson),
    Query(Vec<(String, String)>),
}

impl Arguments {
    /// The JSON object `json_to_record` reads. Query values are strings
    /// (PostgreSQL parses them as the argument's type); a repeated name is
    /// an array for a variadic argument, else its last value counts.
    pub(crate) fn json(&self, routine: &Routine) -> BodyJson {
        match &self.source {
            ArgSource::Body(json) => json.clone(),
            ArgSource::Query(pairs) => {
                let mut object = serde_json::Map::new();
                for name in &self.keys {
                    let mut values = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
                    let variadic = routine.args.iter().any(|a| &a.name == name && a.variadic);
                    let value = if variadic {
                        serde_json::Value::from(values.cloned().collect::<Vec<_>>())
                    } else {
                        values
                            .next_back()
                            .cloned()
                            .map_or(serde_json::Value::Null, Into::into)
                    };
                    object.insert(name.clone(), value);
                }
                BodyJson::Text(serde_json::Value::Object(object).to_string())
            }
        }
    }
}

/// A GET/HEAD call's arguments: the query string's values without an
/// operator.
pub(crate) fn from_query(pairs: Vec<(String, String)>) -> Arguments {
    let mut keys: Vec<String> = pairs.iter().map(|(k, _)| k.clone()).collect();
    keys.sort();
    keys.dedup();
    Arguments {
        keys,
        payload: RpcPayload::Named,
        source: ArgSource::Query(pairs),
    }
}

/// A POST body: a JSON object (empty: `{}`), a form, or a raw body for a
/// single unnamed argument.
pub(crate) fn from_body(req: &HttpRequest) -> Result<Arguments, ApiError> {
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
        MediaType::Json if req.body.iter().all(u8::is_ascii_whitespace) => Arguments {
            keys: Vec::new(),
            payload: RpcPayload::Json,
            source: ArgSource::Body(BodyJson::Text("{}".into())),
        },
        other => {
            let parsed = payload::parse(&other, &req.body, None)?;
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
