//! SQL for `/rpc/` calls. The call is the `pgrst_call` CTE, whose rows the
//! read path then reads like a table's: a table's, a composite's or
//! `TABLE(...)` columns, or a scalar's one column `pgrst_scalar`.
//!
//! Named arguments are expanded in SQL as PostgREST does: the JSON object
//! goes through `json_to_record` with each given argument's type, so
//! PostgreSQL converts (and checks) every value, and the function is called
//! with named notation, omitted arguments taking their defaults.

use super::sql::{Params, Placeholder, push_all, push_ident, push_list, push_qualified};
use crate::api_request::payload::BodyJson;
use crate::contract::Param;
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
