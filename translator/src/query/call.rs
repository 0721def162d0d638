//! SQL for `/rpc/` calls. The call is the `pgrst_call` CTE, whose rows the
//! read path then reads like a table's: a table's, a composite's or
//! `TABLE(...)` columns, or a scalar's one column `pgrst_scalar`.
//!
//! Arguments are passed as PostgREST passes them, with named notation
//! (omitted arguments take their defaults): query string and form values as
//! text parameters cast to each argument's type; a JSON body through
//! `json_to_record` (`json_to_recordset` for an array, its first row) with
//! each given argument's type, so PostgreSQL converts (and checks) every
//! value; a single unnamed argument as the whole body, by position.

use super::sql::{
    Params, Placeholder, push_all, push_ident, push_list, push_qualified, text_array,
};
use crate::api_request::payload::BodyJson;
use crate::contract::Param;
use crate::plan::call::{CallArgs, CallPlan, DirectValue};
use crate::schema_cache::{Routine, RoutineArg};

/// Writes the `SELECT` of the call's rows: every returned column, or the
/// scalar as `pgrst_scalar`.
pub fn call(sql: &mut String, plan: &CallPlan, scalar: bool, params: &mut Params) {
    // JSON arguments are read from the payload, the row `pgrst_body`.
    let payload = match &plan.args {
        CallArgs::Json { names, json, array } if !names.is_empty() => {
            let body = match json {
                BodyJson::Request => params.push(Param::RequestBody),
                BodyJson::Text(text) => params.text(text.clone()),
            };
            Some((body, names.as_slice(), *array))
        }
        _ => None,
    };
    sql.push_str("SELECT ");
    if scalar {
        invocation(sql, plan, params);
        sql.push_str(" AS pgrst_scalar");
        if let Some((body, names, array)) = payload {
            sql.push_str(" FROM ");
            payload_row(sql, plan.routine, body, names, array);
        }
    } else {
        sql.push_str("pgrst_call.* FROM ");
        if let Some((body, names, array)) = payload {
            payload_row(sql, plan.routine, body, names, array);
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
        CallArgs::Json { names, .. } => push_list(sql, passed(routine, names), |sql, a| {
            named(sql, a);
            sql.push_str("pgrst_body.");
            push_ident(sql, &a.name);
        }),
        CallArgs::Direct(values) => push_list(sql, values, |sql, (index, value)| {
            let a = &routine.args[*index];
            named(sql, a);
            let placeholder = match value {
                DirectValue::Text(text) => params.text(text.clone()),
                DirectValue::Variadic(values) => params.text(text_array(values)),
            };
            placeholder.push_to(sql);
            push_all(sql, &["::", a.call_type()]);
        }),
        CallArgs::Single(body) => {
            let data_type = routine.single_unnamed().unwrap_or("json");
            params.push(body.clone()).push_to(sql);
            push_all(sql, &["::", data_type]);
        }
    }
    sql.push(')');
}

/// `[VARIADIC ]"name" := `
fn named(sql: &mut String, a: &RoutineArg) {
    if a.variadic {
        sql.push_str("VARIADIC ");
    }
    push_ident(sql, &a.name);
    sql.push_str(" := ");
}

/// The payload (`body`) as the row `pgrst_body`, each given argument typed:
/// the object, or an array's first element.
fn payload_row(
    sql: &mut String,
    routine: &Routine,
    body: Placeholder,
    names: &[String],
    array: bool,
) {
    sql.push_str("(SELECT ");
    body.push_to(sql);
    sql.push_str("::json AS json_data) pgrst_payload, LATERAL (SELECT ");
    push_list(sql, passed(routine, names), |sql, a| {
        push_ident(sql, &a.name)
    });
    sql.push_str(if array {
        " FROM json_to_recordset(pgrst_payload.json_data) AS _("
    } else {
        " FROM json_to_record(pgrst_payload.json_data) AS _("
    });
    push_list(sql, passed(routine, names), |sql, a| {
        push_ident(sql, &a.name);
        push_all(sql, &[" ", a.call_type()]);
    });
    sql.push_str(") LIMIT 1) pgrst_body");
}

/// The routine's arguments the request names, in the routine's order.
fn passed<'r>(routine: &'r Routine, names: &'r [String]) -> impl Iterator<Item = &'r RoutineArg> {
    routine.args.iter().filter(|a| names.contains(&a.name))
}
