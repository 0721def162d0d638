//! The answer to a read (GET/HEAD on a table or view): status and
//! `Content-Range` from the counts, the negotiated `Content-Type`,
//! `Content-Location`, `Preference-Applied`, and what SQL set in
//! `response.headers` / `response.status`.

use serde::{Deserialize, Serialize};

use super::{guc, internal, range};
use crate::contract::{Answer, AnswerBody, Rows};
use crate::error::ApiError;

/// Where the total of `Content-Range` comes from (`Prefer: count=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TotalFrom {
    /// No total: `*`.
    None,
    /// The main statement's exact count.
    Exact,
    /// The planner's estimate (the second statement's `EXPLAIN`).
    Planned,
    /// The exact count, unless it passed `db-max-rows` (counted up to
    /// max + 1): then the larger of it and the planner's estimate.
    Estimated { max_rows: Option<i64> },
}

/// What `respond` needs to know about a planned read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadContext {
    /// The first row asked for, the start of `Content-Range`.
    pub offset: i64,
    /// HEAD: headers only.
    pub head: bool,
    pub content_type: String,
    /// `vnd.pgrst.object+json`: exactly one row or PGRST116.
    pub singular: bool,
    pub total: TotalFrom,
    /// `/table?canonical-query` (`/rpc/` answers have none).
    pub content_location: Option<String>,
    /// A function returning `void`: 204 without a body or `Content-Type`.
    pub void: bool,
    /// `max-affected` with `handling=strict` on a set-returning function:
    /// more rows are PGRST124 (and the call is rolled back).
    pub max_affected: Option<i64>,
    /// Whether to commit when `respond` decides (`tx-end = after-respond`).
    pub commit: bool,
    pub preference_applied: Option<String>,
    /// The schema chosen by `Accept-Profile`, echoed in `Content-Profile`.
    pub content_profile: Option<String>,
}

/// The main statement's columns after the body, in `query::read`'s order.
struct MainRow {
    total: Option<i64>,
    page_total: i64,
    guc_headers: Option<String>,
    guc_status: Option<String>,
}

pub fn respond(ctx: &ReadContext, results: &[Rows]) -> Result<Answer, ApiError> {
    let row = main_row(results.first())?;
    let total = match ctx.total {
        TotalFrom::None => None,
        TotalFrom::Exact => row.total,
        TotalFrom::Planned => Some(planned_rows(results.get(1))?),
        TotalFrom::Estimated { max_rows } => match (row.total, max_rows) {
            (Some(exact), Some(max)) if exact <= max => Some(exact),
            (exact, _) => Some(planned_rows(results.get(1))?.max(exact.unwrap_or(0))),
        },
    };
    let rows = u64::try_from(row.page_total).unwrap_or(0);
    if ctx.singular && row.page_total != 1 {
        return Err(ApiError::Singularity { rows });
    }
    if ctx.max_affected.is_some_and(|max| row.page_total > max) {
        return Err(ApiError::MaxAffectedViolation { rows });
    }
    let range = range::read_range(ctx.offset, row.page_total, total);
    let mut headers = vec![("content-range".to_string(), range.content_range)];
    if let Some(location) = &ctx.content_location {
        headers.push(("content-location".to_string(), location.clone()));
    }
    if !ctx.void {
        headers.push(("content-type".to_string(), ctx.content_type.clone()));
        if let Some(schema) = &ctx.content_profile {
            headers.push(("content-profile".to_string(), schema.clone()));
        }
    }
    if let Some(applied) = &ctx.preference_applied {
        headers.push(("preference-applied".to_string(), applied.clone()));
    }
    let (status, headers) = guc::apply(
        range.status,
        headers,
        row.guc_headers.as_deref(),
        row.guc_status.as_deref(),
    )?;
    if ctx.void {
        // As PostgREST: 204 whatever `response.status` says.
        return Ok(Answer {
            status: 204,
            headers,
            body: AnswerBody::Empty,
            commit: ctx.commit,
        });
    }
    let body = match range.error {
        // PGRST103's body replaces the rows, on HEAD too.
        Some(err) => AnswerBody::Bytes(err.body().to_string().into_bytes()),
        None if ctx.head => AnswerBody::Empty,
        None => AnswerBody::FromStatement,
    };
    Ok(Answer {
        status,
        headers,
        body,
        commit: ctx.commit,
    })
}

fn main_row(rows: Option<&Rows>) -> Result<MainRow, ApiError> {
    let row = rows
        .and_then(|rows| rows.first())
        .ok_or_else(|| internal("the read statement returned no row"))?;
    let text = |i: usize| row.get(i).cloned().flatten();
    let number = |i: usize| text(i).and_then(|v| v.parse::<i64>().ok());
    Ok(MainRow {
        total: number(0),
        page_total: number(1).ok_or_else(|| internal("the read statement has no page total"))?,
        guc_headers: text(2),
        guc_status: text(3),
    })
}

/// `Plan Rows` of the top plan node in `EXPLAIN (FORMAT JSON)` output.
fn planned_rows(rows: Option<&Rows>) -> Result<i64, ApiError> {
    let plan = rows
        .and_then(|rows| rows.first())
        .and_then(|row| row.first().cloned().flatten())
        .ok_or_else(|| internal("the planned count statement returned no plan"))?;
    let json: serde_json::Value = serde_json::from_str(&plan)
        .map_err(|e| internal(&format!("unreadable EXPLAIN output: {e}")))?;
    json.get(0)
        .and_then(|p| p.get("Plan"))
        .and_then(|p| p.get("Plan Rows"))
        .and_then(serde_json::Value::as_f64)
        .map(|rows| rows as i64)
        .ok_or_else(|| internal("EXPLAIN output has no Plan Rows"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(total: TotalFrom, singular: bool) -> ReadContext {
        ReadContext {
            offset: 0,
            head: false,
            content_type: "application/json; charset=utf-8".into(),
            singular,
            total,
            content_location: Some("/items".into()),
            void: false,
            max_affected: None,
            commit: true,
            preference_applied: None,
            content_profile: None,
        }
    }

    fn main(total: Option<&str>, page: &str) -> Rows {
        vec![vec![total.map(Into::into), Some(page.into()), None, None]]
    }

    fn explain(rows: u32) -> Rows {
        vec![vec![Some(format!(
            r#"[{{"Plan": {{"Plan Rows": {rows}}}}}]"#
        ))]]
    }

    #[test]
    fn totals_come_from_the_chosen_count() {
        let a = respond(&ctx(TotalFrom::None, false), &[main(None, "2")]).unwrap();
        assert_eq!((a.status, a.header("content-range")), (200, Some("0-1/*")));
        let a = respond(&ctx(TotalFrom::Exact, false), &[main(Some("5"), "2")]).unwrap();
        assert_eq!((a.status, a.header("content-range")), (206, Some("0-1/5")));
        let a = respond(
            &ctx(TotalFrom::Planned, false),
            &[main(None, "2"), explain(1000)],
        )
        .unwrap();
        assert_eq!(a.header("content-range"), Some("0-1/1000"));
    }

    #[test]
    fn estimated_counts_exactly_up_to_max_rows() {
        let estimated = ctx(TotalFrom::Estimated { max_rows: Some(10) }, false);
        let a = respond(&estimated, &[main(Some("7"), "2"), explain(1000)]).unwrap();
        assert_eq!(a.header("content-range"), Some("0-1/7"));
        let a = respond(&estimated, &[main(Some("11"), "2"), explain(1000)]).unwrap();
        assert_eq!(a.header("content-range"), Some("0-1/1000"));
        // The estimate never goes below what was counted.
        let a = respond(&estimated, &[main(Some("11"), "2"), explain(3)]).unwrap();
        assert_eq!(a.header("content-range"), Some("0-1/11"));
    }

    #[test]
    fn singular_needs_exactly_one_row() {
        assert!(respond(&ctx(TotalFrom::None, true), &[main(None, "1")]).is_ok());
        assert_eq!(
            respond(&ctx(TotalFrom::None, true), &[main(None, "0")]).unwrap_err(),
            ApiError::Singularity { rows: 0 }
        );
    }

    #[test]
    fn out_of_range_offset_is_416_with_the_error_body() {
        let mut c = ctx(TotalFrom::Exact, false);
        c.offset = 10;
        c.head = true;
        let a = respond(&c, &[main(Some("3"), "0")]).unwrap();
        assert_eq!(a.status, 416);
        assert_eq!(a.header("content-range"), Some("*/3"));
        let AnswerBody::Bytes(body) = a.body else {
            panic!("416 carries PGRST103");
        };
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], "PGRST103");
    }

    #[test]
    fn missing_rows_are_an_internal_error() {
        assert!(respond(&ctx(TotalFrom::None, false), &[]).is_err());
        assert!(respond(&ctx(TotalFrom::Planned, false), &[main(None, "1")]).is_err());
    }
}
