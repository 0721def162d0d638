//! The answer to a write, as PostgREST 16 gives it: 201 for an insert (200
//! for a merge-duplicates upsert that inserted nothing), 200 with a body or
//! 204 without for PATCH/DELETE, 201/200/204 for PUT; `Content-Range`
//! (`*/total` for inserts and deletes, `first-last/total` for updates, none
//! for PUT), `Location` of the inserted row for `return=headers-only`, and
//! the checks that roll the write back: PGRST116 (singular), PGRST124
//! (`max-affected`), PGRST115 (PUT's key).

use serde::{Deserialize, Serialize};

use super::{guc, internal, range};
use crate::contract::{Answer, AnswerBody, Rows};
use crate::error::ApiError;
use crate::plan::mutate::Mutation;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MutateContext {
    pub mutation: Mutation,
    /// `return=representation`: the body is the returned rows.
    pub representation: bool,
    pub content_type: String,
    /// `vnd.pgrst.object+json`: exactly one row or PGRST116.
    pub singular: bool,
    /// `Prefer: count=exact|estimated`: the total in `Content-Range`.
    pub count: bool,
    /// `resolution=merge-duplicates` applied: 200 when nothing was inserted.
    pub merge_duplicates: bool,
    /// `max-affected` under `handling=strict`.
    pub max_affected: Option<i64>,
    /// `/table`, the start of `Location`.
    pub location_path: String,
    pub preference_applied: Option<String>,
    pub content_profile: Option<String>,
    /// How the transaction ends when every check passes.
    pub commit: bool,
}

/// The statement's columns after the body, in `query::mutate`'s order.
struct MainRow {
    affected: i64,
    location: Option<String>,
    guc_headers: Option<String>,
    guc_status: Option<String>,
    inserted: Option<i64>,
}

pub fn respond(ctx: &MutateContext, results: &[Rows]) -> Result<Answer, ApiError> {
    let row = main_row(results.first())?;
    let rows = u64::try_from(row.affected).unwrap_or(0);
    if ctx.singular && row.affected != 1 {
        return Err(ApiError::Singularity { rows });
    }
    if ctx.max_affected.is_some_and(|max| row.affected > max) {
        return Err(ApiError::MaxAffectedViolation { rows });
    }
    if ctx.mutation == Mutation::SingleUpsert && row.affected != 1 {
        return Err(ApiError::PutMatchingPk);
    }
    let total = ctx.count.then_some(row.affected);
    let star_range = || format!("*/{}", total.map_or("*".to_string(), |t| t.to_string()));
    let mut headers = Vec::new();
    let status = match ctx.mutation {
        Mutation::Insert => {
            if let Some(location) = &row.location {
                headers.push(("location".to_string(), location_header(ctx, location)?));
            }
            headers.push(("content-range".to_string(), star_range()));
            if ctx.merge_duplicates && row.inserted.unwrap_or(0) <= 0 {
                200
            } else {
                201
            }
        }
        Mutation::Update | Mutation::Delete => {
            let range = if ctx.mutation == Mutation::Update {
                range::read_range(0, row.affected, total).content_range
            } else {
                star_range()
            };
            headers.push(("content-range".to_string(), range));
            if ctx.representation { 200 } else { 204 }
        }
        Mutation::SingleUpsert if !ctx.representation => 204,
        Mutation::SingleUpsert if row.inserted.unwrap_or(0) > 0 => 201,
        Mutation::SingleUpsert => 200,
    };
    if let Some(applied) = &ctx.preference_applied {
        headers.push(("preference-applied".to_string(), applied.clone()));
    }
    if ctx.representation {
        headers.push(("content-type".to_string(), ctx.content_type.clone()));
        if let Some(schema) = &ctx.content_profile {
            headers.push(("content-profile".to_string(), schema.clone()));
        }
    }
    let (status, headers) = guc::apply(
        status,
        headers,
        row.guc_headers.as_deref(),
        row.guc_status.as_deref(),
    )?;
    Ok(Answer {
        status,
        headers,
        body: if ctx.representation {
            AnswerBody::FromStatement
        } else {
            AnswerBody::Empty
        },
        commit: ctx.commit,
    })
}

/// `/table?k1=eq.v1&k2=is.null` from the `[[key, value], …]` the statement
/// returned, percent-encoded as a query string.
fn location_header(ctx: &MutateContext, pairs: &str) -> Result<String, ApiError> {
    let pairs: Vec<(String, Option<String>)> =
        serde_json::from_str(pairs).map_err(|e| ApiError::Internal {
            message: format!("unreadable Location keys: {e}"),
        })?;
    let query: Vec<String> = pairs
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                Some(v) => format!("eq.{v}"),
                None => "is.null".to_string(),
            };
            format!("{}={}", query_encode(&key), query_encode(&value))
        })
        .collect();
    Ok(format!("{}?{}", ctx.location_path, query.join("&")))
}

/// Unreserved characters stay, a space is `+`, everything else is `%XX`.
fn query_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn main_row(rows: Option<&Rows>) -> Result<MainRow, ApiError> {
    let row = rows
        .and_then(|rows| rows.first())
        .ok_or_else(|| internal("the write statement returned no row"))?;
    let text = |i: usize| row.get(i).cloned().flatten();
    let number = |i: usize| text(i).and_then(|v| v.parse::<i64>().ok());
    Ok(MainRow {
        affected: number(0).ok_or_else(|| internal("the write statement has no row count"))?,
        location: text(1),
        guc_headers: text(2),
        guc_status: text(3),
        inserted: number(4),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(mutation: Mutation) -> MutateContext {
        MutateContext {
            mutation,
            representation: false,
            content_type: "application/json; charset=utf-8".into(),
            singular: false,
            count: false,
            merge_duplicates: false,
            max_affected: None,
            location_path: "/items".into(),
            preference_applied: None,
            content_profile: None,
            commit: true,
        }
    }

    fn row(affected: &str, location: Option<&str>, inserted: Option<&str>) -> Vec<Rows> {
        vec![vec![vec![
            Some(affected.into()),
            location.map(Into::into),
            None,
            None,
            inserted.map(Into::into),
        ]]]
    }

    #[test]
    fn inserts_are_201_with_a_location_for_headers_only() {
        let a = respond(
            &ctx(Mutation::Insert),
            &row("1", Some(r#"[["id","1"],["k","a b/c"],["n",null]]"#), None),
        )
        .unwrap();
        assert_eq!(a.status, 201);
        assert_eq!(
            a.header("location"),
            Some("/items?id=eq.1&k=eq.a+b%2Fc&n=is.null")
        );
        assert_eq!(a.header("content-range"), Some("*/*"));
        assert_eq!(a.body, AnswerBody::Empty);
    }

    #[test]
    fn merge_upserts_that_insert_nothing_are_200() {
        let mut c = ctx(Mutation::Insert);
        c.merge_duplicates = true;
        c.count = true;
        let a = respond(&c, &row("2", None, Some("0"))).unwrap();
        assert_eq!((a.status, a.header("content-range")), (200, Some("*/2")));
        assert_eq!(respond(&c, &row("2", None, Some("1"))).unwrap().status, 201);
    }

    #[test]
    fn updates_and_deletes() {
        let mut c = ctx(Mutation::Update);
        c.count = true;
        let a = respond(&c, &row("3", None, None)).unwrap();
        assert_eq!((a.status, a.header("content-range")), (204, Some("0-2/3")));
        c.representation = true;
        let a = respond(&c, &row("0", None, None)).unwrap();
        assert_eq!((a.status, a.header("content-range")), (200, Some("*/0")));
        let a = respond(&ctx(Mutation::Delete), &row("3", None, None)).unwrap();
        assert_eq!((a.status, a.header("content-range")), (204, Some("*/*")));
    }

    #[test]
    fn put_needs_exactly_one_row() {
        let mut c = ctx(Mutation::SingleUpsert);
        assert_eq!(respond(&c, &row("1", None, Some("1"))).unwrap().status, 204);
        assert_eq!(
            respond(&c, &row("0", None, None)).unwrap_err(),
            ApiError::PutMatchingPk
        );
        c.representation = true;
        assert_eq!(respond(&c, &row("1", None, Some("1"))).unwrap().status, 201);
        let a = respond(&c, &row("1", None, Some("0"))).unwrap();
        assert_eq!((a.status, a.header("content-range")), (200, None));
    }

    #[test]
    fn checks_that_roll_back() {
        let mut c = ctx(Mutation::Delete);
        c.max_affected = Some(1);
        assert_eq!(
            respond(&c, &row("2", None, None)).unwrap_err(),
            ApiError::MaxAffectedViolation { rows: 2 }
        );
        assert!(respond(&c, &row("1", None, None)).is_ok());
        c.singular = true;
        assert_eq!(
            respond(&c, &row("0", None, None)).unwrap_err(),
            ApiError::Singularity { rows: 0 }
        );
    }
}
