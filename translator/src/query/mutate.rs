//! SQL for writes: one statement, the mutation as the `pgrst_source` CTE
//! (as PostgREST names it) and one row built from what it returned: the
//! body (the read path's select list and body over the returned rows), then
//! the text columns `response::mutate` reads.
//!
//! The payload is expanded in SQL: an object becomes a one-element array,
//! and `json_to_recordset` types each key as its column, so PostgreSQL
//! validates every value and a failing row writes nothing.

use super::read::{Output, body, filters, representation};
use super::sql::{Params, ident, qualified, text_array};
use crate::api_request::payload::BodyJson;
use crate::api_request::preferences::Resolution;
use crate::contract::{Param, RowUse, Statement};
use crate::error::ApiError;
use crate::plan::mutate::{Conflict, MutatePlan, Mutation};
use crate::plan::read::ReadPlan;

/// What the statement returns besides the affected-row count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Returning {
    /// `return=minimal`: nothing.
    Nothing,
    /// `return=headers-only`: the `Location` of the one inserted row.
    Location,
    /// `return=representation`: the body in this shape.
    Body(Output),
}

/// The rows `select=` picks from the returned ones, for the body.
const SELECTION: &str = "pgrst_selection";

/// Counts inserted rows of an upsert in the `pgrst.inserted` setting: +1
/// for every payload row (the INSERT's WHERE), -1 for every conflicting one
/// that is updated instead (the DO UPDATE's WHERE). Both are always true.
const COUNT_INSERTED: &str = "set_config('pgrst.inserted', \
     (coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0) + 1)::text, true) <> '0'";
const UNCOUNT_UPDATED: &str = "set_config('pgrst.inserted', \
     (coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0) - 1)::text, true) <> '-1'";

pub fn statement(
    plan: &MutatePlan,
    read: &ReadPlan,
    returning: Returning,
) -> Result<Statement, ApiError> {
    let mut params = Params::default();
    let table = qualified(&plan.table.schema, &plan.table.name);
    let returned = match returning {
        Returning::Nothing => " RETURNING 1".to_string(),
        Returning::Location | Returning::Body(_) => format!(" RETURNING {table}.*"),
    };
    let mutation = match plan.mutation {
        Mutation::Insert | Mutation::SingleUpsert => {
            format!("{}{returned}", insert(plan, &table, &mut params))
        }
        // Nothing to set: no row is touched (PostgREST answers as if none
        // matched).
        Mutation::Update if plan.columns.is_empty() => {
            format!("SELECT {table}.* FROM {table} WHERE false")
        }
        Mutation::Update => {
            let set: Vec<String> = plan
                .columns
                .iter()
                .map(|c| format!("{0} = \"pgrst_body\".{0}", ident(&c.name)))
                .collect();
            let from = payload_rows(plan, &mut params);
            let filters = filters(read, &table, &mut params)?;
            format!(
                "UPDATE {table} SET {} FROM {from}{filters}{returned}",
                set.join(", ")
            )
        }
        Mutation::Delete => {
            let filters = filters(read, &table, &mut params)?;
            format!("DELETE FROM {table}{filters}{returned}")
        }
    };

    let (selection, rows, body_sql) = match &returning {
        Returning::Body(output) => {
            // Named as the table, as embeds and computed fields expect.
            let name = ident(&plan.table.name);
            let shown = representation(read, &name, &mut params)?;
            (
                format!(
                    ", {SELECTION} AS (SELECT {} FROM pgrst_source AS {name}{}{})",
                    shown.select, shown.joins, shown.tail
                ),
                SELECTION,
                body(output, SELECTION),
            )
        }
        _ => (String::new(), "pgrst_source", "NULL::text".to_string()),
    };
    let location = match returning {
        Returning::Location if !plan.table.primary_key.is_empty() => {
            let keys = params.text(text_array(&plan.table.primary_key));
            format!(
                "CASE WHEN pg_catalog.count(_postgrest_t) = 1 THEN \
                 (SELECT json_agg(json_build_array(k.key, k.value))::text \
                  FROM (SELECT row_to_json(_) AS r FROM pgrst_source AS _ LIMIT 1) d \
                  CROSS JOIN json_each_text(d.r) AS k WHERE k.key = ANY({keys}::text[])) END"
            )
        }
        _ => "NULL::text".to_string(),
    };
    let inserted = if counts_inserted(plan) {
        "nullif(current_setting('pgrst.inserted', true), '')"
    } else {
        "NULL::text"
    };
    Ok(Statement {
        sql: format!(
            "WITH pgrst_source AS ({mutation}){selection} \
             SELECT {body_sql} AS body, pg_catalog.count(_postgrest_t)::text AS page_total, \
             {location} AS location, \
             nullif(current_setting('response.headers', true), '') AS response_headers, \
             nullif(current_setting('response.status', true), '') AS response_status, \
             {inserted} AS inserted \
             FROM (SELECT * FROM {rows}) _postgrest_t"
        ),
        params: params.into_vec(),
        rows: RowUse::Body,
    })
}

fn counts_inserted(plan: &MutatePlan) -> bool {
    matches!(
        plan.conflict,
        Some(Conflict {
            resolution: Resolution::MergeDuplicates,
            ..
        })
    )
}

/// `INSERT … SELECT` from the payload, with `ON CONFLICT` for upserts; PUT
/// also keeps only the payload row that carries the URL's key values.
fn insert(plan: &MutatePlan, table: &str, params: &mut Params) -> String {
    let names: Vec<String> = plan.columns.iter().map(|c| ident(&c.name)).collect();
    let target = if names.is_empty() {
        table.to_string()
    } else {
        format!("{table}({})", names.join(", "))
    };
    let values: Vec<String> = names
        .iter()
        .map(|n| format!("\"pgrst_body\".{n}"))
        .collect();
    let from = payload_rows(plan, params);
    let mut conditions = Vec::new();
    if counts_inserted(plan) {
        conditions.push(COUNT_INSERTED.to_string());
    }
    for (column, value) in &plan.key_values {
        let p = params.text(value.clone());
        conditions.push(format!("\"pgrst_body\".{} = {p}", ident(column)));
    }
    let filters = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let on_conflict = match &plan.conflict {
        None => String::new(),
        Some(conflict) => {
            let target: Vec<String> = conflict.columns.iter().map(|c| ident(c)).collect();
            let action = match conflict.resolution {
                Resolution::MergeDuplicates if !names.is_empty() => {
                    let set: Vec<String> = names
                        .iter()
                        .map(|n| format!("{n} = EXCLUDED.{n}"))
                        .collect();
                    format!("DO UPDATE SET {} WHERE {UNCOUNT_UPDATED}", set.join(", "))
                }
                _ => "DO NOTHING".to_string(),
            };
            format!(" ON CONFLICT({}) {action}", target.join(", "))
        }
    };
    format!(
        "INSERT INTO {target} SELECT {} FROM {from}{filters}{on_conflict}",
        values.join(", ")
    )
}

/// The payload as rows named `pgrst_body` (the FROM items of an INSERT …
/// SELECT or an UPDATE … FROM). `missing=default` first merges each
/// element into an object of the column defaults, so absent keys take them.
fn payload_rows(plan: &MutatePlan, params: &mut Params) -> String {
    let body = match &plan.body {
        Some(BodyJson::Text(json)) => params.text(json.clone()),
        _ => params.push(Param::RequestBody),
    };
    let defaults: Vec<(String, &str)> = if plan.apply_defaults {
        plan.columns
            .iter()
            .filter_map(|c| c.default.as_deref().map(|d| (c.name.clone(), d)))
            .collect()
    } else {
        Vec::new()
    };
    let json = if defaults.is_empty() { "json" } else { "jsonb" };
    let mut from = format!(
        "(SELECT {body}::{json} AS json_data) pgrst_payload, \
         LATERAL (SELECT CASE WHEN {json}_typeof(pgrst_payload.json_data) = 'array' \
         THEN pgrst_payload.json_data ELSE {json}_build_array(pgrst_payload.json_data) END AS val) pgrst_uniform_json"
    );
    let mut rows = "pgrst_uniform_json";
    if !defaults.is_empty() {
        // The defaults are SQL expressions from the catalog, evaluated once
        // per element.
        let pairs: Vec<String> = defaults
            .into_iter()
            .map(|(name, default)| format!("{}::text, {default}", params.text(name)))
            .collect();
        from.push_str(&format!(
            ", LATERAL (SELECT jsonb_agg(jsonb_build_object({}) || elem) AS val \
             FROM jsonb_array_elements(pgrst_uniform_json.val) elem) pgrst_json_defs",
            pairs.join(", ")
        ));
        rows = "pgrst_json_defs";
    }
    if plan.columns.is_empty() {
        from.push_str(&format!(
            ", LATERAL (SELECT FROM {json}_array_elements({rows}.val) _) pgrst_body"
        ));
    } else {
        // A domain with a cast from `json` is read as `json` and parsed by
        // its cast function.
        let names: Vec<String> = plan
            .columns
            .iter()
            .map(|c| match &c.representation.from_json {
                Some(function) => format!("{function}({0}) AS {0}", ident(&c.name)),
                None => ident(&c.name),
            })
            .collect();
        let typed: Vec<String> = plan
            .columns
            .iter()
            .map(|c| {
                let data_type = match c.representation.from_json {
                    Some(_) => "json",
                    None => &c.data_type,
                };
                format!("{} {data_type}", ident(&c.name))
            })
            .collect();
        from.push_str(&format!(
            ", LATERAL (SELECT {} FROM {json}_to_recordset({rows}.val) AS _({})) pgrst_body",
            names.join(", "),
            typed.join(", ")
        ));
    }
    from
}
