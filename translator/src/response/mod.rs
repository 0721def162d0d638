//! HTTP responses built from statement results: status, headers, and where
//! the body comes from.

mod guc;
pub mod mutate;
pub mod openapi;
pub mod plan;
pub mod range;
pub mod read;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// What `respond` needs to know about the planned request; it crosses the
/// host as the plan's opaque context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// The request ran as a role other than the anonymous one (42501 is then
    /// 403, not 401).
    pub authenticated: bool,
    /// A `Warning` header for a successful answer (PostgREST's deprecation
    /// notice for embeds named by their relation instead of their alias).
    pub warning: Option<String>,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Read(read::ReadContext),
    Mutate(mutate::MutateContext),
    OpenApi(openapi::OpenApiContext),
    /// `Accept: application/vnd.pgrst.plan`: the main statement's `EXPLAIN`.
    Plan(plan::PlanContext),
}

/// Adds `warning` before `Vary` (PostgREST puts it after its own headers
/// and before the default `Vary`).
pub fn add_warning(headers: &mut Vec<(String, String)>, warning: &str) {
    let at = headers
        .iter()
        .position(|(name, _)| name.eq_ignore_ascii_case("vary"))
        .unwrap_or(headers.len());
    headers.insert(at, ("warning".to_string(), warning.to_string()));
}

/// An answer the statement's rows should not allow (a bug, not a request
/// error).
fn internal(message: &str) -> ApiError {
    ApiError::Internal {
        message: message.to_string(),
    }
}

impl Context {
    pub fn encode(&self) -> Vec<u8> {
        // Sized for a usual context, so the buffer is allocated once.
        postcard::to_extend(self, Vec::with_capacity(256)).expect("Context serializes")
    }

    pub fn decode(bytes: &[u8]) -> Result<Context, ApiError> {
        postcard::from_bytes(bytes).map_err(|e| ApiError::Internal {
            message: format!("invalid respond context: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_round_trips() {
        let c = Context {
            authenticated: false,
            warning: Some("299 pgrest/0.1.0 \"x\"".into()),
            kind: Kind::Read(read::ReadContext {
                offset: 5,
                head: true,
                content_type: "text/csv; charset=utf-8".into(),
                singular: false,
                total: read::TotalFrom::Estimated { max_rows: Some(9) },
                content_location: Some("/items?id=eq.1".into()),
                void: false,
                max_affected: None,
                commit: true,
                preference_applied: Some("count=estimated".into()),
                content_profile: Some("v2".into()),
            }),
        };
        assert_eq!(Context::decode(&c.encode()).unwrap(), c);
        assert!(Context::decode(b"junk").is_err());
    }
}
