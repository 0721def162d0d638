//! SQL for `/rpc/` calls. The call is the `pgrst_call` CTE; a function
//! returning rows (a table's, a composite's, `TABLE(...)`) is then read like
//! a table by the read path, a scalar one here.
//!
//! Named arguments are expanded in SQL as PostgREST does: the JSON object
//! goes through `json_to_record` with each given argument's type, so
//! PostgreSQL converts (and checks) every value, and the function is called
//! with named notation, omitted arguments taking their defaults.

use super::read::{Count, RESPONSE_COLUMNS, push_bigint};
use super::sql::{Params, Placeholder, push_all, push_ident, push_list, push_qualified};
use crate::api_request::payload::BodyJson;
use crate::contract::{Param, RowUse, Statement};
use crate::plan::call::{CallArgs, CallPlan};
use crate::schema_cache::{Routine, RoutineArg};

/// Writes the `SELECT` of the call's rows: every returned column, or the
/// scalar as `pgrst_scalar`.
pub fn call(sql: &mut String, plan: &CallPlan, scalar: bool, params: &mut Params) {
    // Named arguments are read from the payload, the row `pgrst_body`.
    let payload = match &plan.args {
        CallArgs::Named { names, json } if !names.is_empty() => {
            let body = match json {
                BodyJson::Request => params.push(Param::RequestBody),
                BodyJson::Text(text) => params.text(text.clone()),
            };
            Some((body, names.as_slice()))
        }
        _ => None,
    };
    sql.push_str("SELECT ");
    if scalar {
        invocation(sql, plan, params);
        sql.push_str(" AS pgrst_scalar");
        if let Some((body, names)) = payload {
            sql.push_str(" FROM ");
            payload_row(sql, plan.routine, body, names);
        }
    } else {
        sql.push_str("pgrst_call.* FROM ");
        if let Some((body, names)) = payload {
            payload_row(sql, plan.routine, body, names);
            sql.push_str(", LATERAL ");
        }
        invocation(sql, plan, params);
        sql.push_str(" AS pgrst_call");
    }
}

/// `"schema"."function"(…)`: named notation, or the one unnamed argument.
fn invocation(sql: &mut String, plan: &CallPlan, params: &mut Params) {
    let routine = plan.routine;
    push_qualified(sql, &routine.schema, &routine.name);
    sql.push('(');
    match &plan.args {
        CallArgs::Named { names, .. } => push_list(sql, passed(routine, names), |sql, a| {
            if a.variadic {
                sql.push_str("VARIADIC ");
            }
            push_ident(sql, &a.name);
            sql.push_str(" := pgrst_body.");
            push_ident(sql, &a.name);
        }),
        CallArgs::Single(body) => {
            let data_type = routine.single_unnamed().unwrap_or("json");
            params.push(body.clone()).push_to(sql);
            push_all(sql, &["::", data_type]);
        }
    }
    sql.push(')');
}

/// The payload (`body`) as the row `pgrst_body`, each given argument typed;
/// an array body: its first object, as PostgREST.
fn payload_row(sql: &mut String, routine: &Routine, body: Placeholder, names: &[String]) {
    sql.push_str("(SELECT ");
    body.push_to(sql);
    sql.push_str(
        "::json AS v) pgrst_payload, \
         LATERAL json_to_record(CASE WHEN json_typeof(pgrst_payload.v) = 'array' \
         THEN pgrst_payload.v->0 ELSE pgrst_payload.v END) AS pgrst_body(",
    );
    push_list(sql, passed(routine, names), |sql, a| {
        push_ident(sql, &a.name);
        push_all(sql, &[" ", &a.data_type]);
    });
    sql.push(')');
}

/// The routine's arguments the request names, in its order.
fn passed<'r>(routine: &'r Routine, names: &'r [String]) -> impl Iterator<Item = &'r RoutineArg> {
    names
        .iter()
        .filter_map(|n| routine.args.iter().find(|a| &a.name == n))
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
    let mut sql = String::with_capacity(640);
    sql.push_str("WITH pgrst_call AS (");
    call(&mut sql, plan, true, &mut params);
    sql.push_str("), pgrst_source AS (SELECT pgrst_scalar FROM pgrst_call");
    if let Some(limit) = limit {
        push_bigint(&mut sql, " LIMIT ", limit, &mut params);
    }
    if offset > 0 {
        push_bigint(&mut sql, " OFFSET ", offset, &mut params);
    }
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
    push_all(&mut sql, &[") SELECT ", body, " AS body, "]);
    match count {
        Count::None => sql.push_str("null::text"),
        Count::Exact => sql.push_str("(SELECT pg_catalog.count(*) FROM pgrst_call)::text"),
        Count::UpTo(n) => {
            sql.push_str("(SELECT pg_catalog.count(*) FROM (SELECT 1 FROM pgrst_call");
            push_bigint(&mut sql, " LIMIT ", n, &mut params);
            sql.push_str(") c)::text");
        }
    }
    push_all(
        &mut sql,
        &[
            " AS total_result_set, ",
            RESPONSE_COLUMNS,
            " FROM (SELECT * FROM pgrst_source) _postgrest_t",
        ],
    );
    Statement {
        sql,
        params: params.into_vec(),
        rows: RowUse::Body,
    }
}
