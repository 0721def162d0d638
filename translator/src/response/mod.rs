//! HTTP responses built from statement results: status, headers, and where
//! the body comes from.

pub mod range;

use serde::{Deserialize, Serialize};

use crate::contract::{Answer, AnswerBody, Rows};
use crate::error::ApiError;

/// What `respond` needs to know about the planned request; it crosses the
/// host as the plan's opaque context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// The request ran as a role other than the anonymous one (42501 is then
    /// 403, not 401).
    pub authenticated: bool,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Read { offset: i64, head: bool },
}

impl Context {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("Context serializes")
    }

    pub fn decode(bytes: &[u8]) -> Result<Context, ApiError> {
        serde_json::from_slice(bytes).map_err(|e| ApiError::Internal {
            message: format!("invalid respond context: {e}"),
        })
    }
}

/// The answer to a read, from the main statement's columns after the body:
/// total_result_set, page_total, response_headers, response_status.
pub fn read(offset: i64, head: bool, results: &[Rows]) -> Result<Answer, ApiError> {
    let row = results
        .first()
        .and_then(|rows| rows.first())
        .ok_or_else(|| ApiError::Internal {
            message: "the read statement returned no row".into(),
        })?;
    let page_total: i64 = row
        .get(1)
        .and_then(|v| v.as_deref())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let range = if page_total == 0 {
        "*/*".to_string()
    } else {
        format!("{}-{}/*", offset, offset + page_total - 1)
    };
    Ok(Answer {
        status: 200,
        headers: vec![
            (
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            ),
            ("content-range".into(), range),
        ],
        body: if head {
            AnswerBody::Empty
        } else {
            AnswerBody::FromStatement
        },
        commit: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(page_total: &str) -> Vec<Rows> {
        vec![vec![vec![None, Some(page_total.into()), None, None]]]
    }

    #[test]
    fn content_range_counts_the_page() {
        let a = read(0, false, &row("3")).unwrap();
        assert_eq!(a.status, 200);
        assert!(
            a.headers
                .contains(&("content-range".into(), "0-2/*".into()))
        );
        assert_eq!(a.body, AnswerBody::FromStatement);
        let a = read(10, true, &row("2")).unwrap();
        assert!(
            a.headers
                .contains(&("content-range".into(), "10-11/*".into()))
        );
        assert_eq!(a.body, AnswerBody::Empty);
        let a = read(0, false, &row("0")).unwrap();
        assert!(a.headers.contains(&("content-range".into(), "*/*".into())));
    }

    #[test]
    fn missing_rows_are_an_internal_error() {
        assert!(read(0, false, &[]).is_err());
    }

    #[test]
    fn context_round_trips() {
        let c = Context {
            authenticated: false,
            kind: Kind::Read {
                offset: 5,
                head: true,
            },
        };
        assert_eq!(Context::decode(&c.encode()).unwrap(), c);
        assert!(Context::decode(b"junk").is_err());
    }
}
