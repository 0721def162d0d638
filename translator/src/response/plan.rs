//! The answer to a request explained with `application/vnd.pgrst.plan`:
//! 200, the plan's `Content-Type`, and `EXPLAIN`'s output as the body, one
//! line per row, each ending in a newline (PostgREST 16). No count, range or
//! row checks: the statement's own answer is never looked at.

use serde::{Deserialize, Serialize};

use super::guc;
use crate::contract::{Answer, AnswerBody, Rows};
use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanContext {
    pub content_type: String,
    /// The schema chosen by a profile header, echoed in `Content-Profile`.
    pub content_profile: Option<String>,
    pub commit: bool,
}

pub fn respond(ctx: &PlanContext, results: &[Rows]) -> Result<Answer, ApiError> {
    let mut body = String::new();
    for line in results.first().into_iter().flatten() {
        body.push_str(line.first().and_then(Option::as_deref).unwrap_or_default());
        body.push('\n');
    }
    let mut headers = vec![("content-type".to_string(), ctx.content_type.clone())];
    if let Some(schema) = &ctx.content_profile {
        headers.push(("content-profile".to_string(), schema.clone()));
    }
    let (status, headers) = guc::apply(200, headers, None, None)?;
    Ok(Answer {
        status,
        headers,
        body: AnswerBody::Bytes(body.into_bytes()),
        commit: ctx.commit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_ends_in_a_newline() {
        let ctx = PlanContext {
            content_type: "application/vnd.pgrst.plan+text; for=\"text/csv\"; charset=utf-8".into(),
            content_profile: Some("v2".into()),
            commit: false,
        };
        let rows = vec![
            vec![Some("Aggregate".to_string())],
            vec![Some("  ->  Seq Scan".to_string())],
        ];
        let answer = respond(&ctx, &[rows]).unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.body,
            AnswerBody::Bytes(b"Aggregate\n  ->  Seq Scan\n".to_vec())
        );
        assert_eq!(answer.headers[1], ("content-profile".into(), "v2".into()));
        assert!(!answer.commit);
    }
}
