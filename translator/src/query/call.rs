//! SQL for `/rpc/` calls. The call is the `pgrst_call` CTE; a function
//! returning rows (a table's, a composite's, `TABLE(...)`) is then read like
//! a table by the read path, a scalar one here.
//!
//! Named arguments are expanded in SQL as PostgREST does: the JSON object
//! goes through `json_to_record` with each given argument's type, so
//! PostgreSQL converts (and checks) every value, and the function is called
//! with named notation, omitted arguments taking their defaults.

use super::read::{Count, RESPONSE_COLUMNS};
use super::sql::{Params, ident, qualified};
use crate::api_request::payload::BodyJson;
use crate::contract::{Param, RowUse, Statement};
use crate::plan::call::{CallArgs, CallPlan};

/// The `SELECT` of the call's rows: every returned column, or the scalar
/// as `pgrst_scalar`.
pub fn call(plan: &CallPlan, scalar: bool, params: &mut Params) -> String {
    let routine = plan.routine;
    let function = qualified(&routine.schema, &routine.name);
    let (from, arguments) = match &plan.args {
        CallArgs::Named { names, .. } if names.is_empty() => (None, String::new()),
        CallArgs::Named { names, json } => {
            let body = match json {
                BodyJson::Request => params.push(Param::RequestBody),
                BodyJson::Text(text) => params.text(text.clone()),
            };
            let args: Vec<_> = names
                .iter()
                .filter_map(|n| routine.args.iter().find(|a| &a.name == n))
                .collect();
            let typed: Vec<String> = args
                .iter()
                .map(|a| format!("{} {}", ident(&a.name), a.data_type))
                .collect();
            let passed: Vec<String> = args
                .iter()
                .map(|a| {
                    let variadic = if a.variadic { "VARIADIC " } else { "" };
                    format!("{variadic}{0} := pgrst_body.{0}", ident(&a.name))
                })
                .collect();
            // An array body: its first object, as PostgREST.
            (
                Some(format!(
                    "(SELECT {body}::json AS v) pgrst_payload, \
                     LATERAL json_to_record(CASE WHEN json_typeof(pgrst_payload.v) = 'array' \
                     THEN pgrst_payload.v->0 ELSE pgrst_payload.v END) AS pgrst_body({})",
                    typed.join(", ")
                )),
                passed.join(", "),
            )
        }
        CallArgs::Single(body) => {
            let data_type = routine.single_unnamed().unwrap_or("json");
            let value = params.push(body.clone());
            (None, format!("{value}::{data_type}"))
        }
    };
    let invocation = format!("{function}({arguments})");
    match (scalar, from) {
        (true, None) => format!("SELECT {invocation} AS pgrst_scalar"),
        (true, Some(from)) => format!("SELECT {invocation} AS pgrst_scalar FROM {from}"),
        (false, None) => format!("SELECT pgrst_call.* FROM {invocation} AS pgrst_call"),
        (false, Some(from)) => {
            format!("SELECT pgrst_call.* FROM {from}, LATERAL {invocation} AS pgrst_call")
        }
    }
}

/// How a scalar result becomes the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarBody {
    /// The JSON value (`single`), or the JSON array of the values.
    Json { single: bool },
    /// The text as it is (`text/plain`, `text/xml`), values concatenated.
    Text,
    /// The bytes as they are (`application/octet-stream`).
    Bytes,
}

/// A scalar (or `SETOF` scalar, or void) call: one row whose body is the
/// value, or the array of values of the page.
pub fn scalar_statement(
    plan: &CallPlan,
    shape: ScalarBody,
    limit: Option<i64>,
    offset: i64,
    count: Count,
) -> Statement {
    let mut params = Params::default();
    let call = call(plan, true, &mut params);
    let mut page = "SELECT pgrst_scalar FROM pgrst_call".to_string();
    if let Some(limit) = limit {
        page.push_str(&format!(
            " LIMIT {}::bigint",
            params.text(limit.to_string())
        ));
    }
    if offset > 0 {
        page.push_str(&format!(
            " OFFSET {}::bigint",
            params.text(offset.to_string())
        ));
    }
    let total = match count {
        Count::None => "null::text".to_string(),
        Count::Exact => "(SELECT pg_catalog.count(*) FROM pgrst_call)::text".to_string(),
        Count::UpTo(n) => format!(
            "(SELECT pg_catalog.count(*) FROM (SELECT 1 FROM pgrst_call LIMIT {}::bigint) c)::text",
            params.text(n.to_string())
        ),
    };
    let body = match shape {
        _ if plan.routine.returns_void => "NULL::text",
        ScalarBody::Json { single: true } => {
            "coalesce(json_agg(_postgrest_t.pgrst_scalar)->0, 'null')"
        }
        ScalarBody::Json { single: false } => "coalesce(json_agg(_postgrest_t.pgrst_scalar), '[]')",
        ScalarBody::Text => "coalesce(string_agg(_postgrest_t.pgrst_scalar::text, ''), '')",
        ScalarBody::Bytes => {
            "coalesce(string_agg(_postgrest_t.pgrst_scalar::bytea, ''::bytea), ''::bytea)"
        }
    };
    Statement {
        sql: format!(
            "WITH pgrst_call AS ({call}), pgrst_source AS ({page}) \
             SELECT {body} AS body, {total} AS total_result_set, {RESPONSE_COLUMNS} \
             FROM (SELECT * FROM pgrst_source) _postgrest_t"
        ),
        params: params.into_vec(),
        rows: RowUse::Body,
    }
}
