//! SQL for writes: one statement, the mutation as the `pgrst_source` CTE
//! (as PostgREST names it) and one row built from what it returned: the
//! body (the read path's select list and body over the returned rows), then
//! the text columns `response::mutate` reads.
//!
//! The payload is expanded in SQL: an object becomes a one-element array,
//! and `json_to_recordset` types each key as its column, so PostgreSQL
//! validates every value and a failing row writes nothing.

use super::body::{Output, body};
use super::fragment::push_filters;
use super::read::representation;
use super::sql::{
    Params, Separated, ident, push_all, push_ident, push_list, qualified, text_array,
};
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
    let mut sql = String::with_capacity(1024);
    sql.push_str("WITH pgrst_source AS (");
    mutation(&mut sql, plan, read, &returning, &mut params);
    sql.push(')');
    let (rows, body_sql) = match &returning {
        Returning::Body(output) => {
            // Named as the table, as embeds and computed fields expect.
            let name = ident(&plan.table.name);
            let shown = representation(read, &name, &mut params)?;
            push_all(
                &mut sql,
                &[", ", SELECTION, " AS (SELECT ", &shown.select, " FROM "],
            );
            written_rows(&mut sql, plan, read, &name);
            // No filters: the written rows are shown.
            push_all(&mut sql, &[shown.after_from(), ")"]);
            (SELECTION, body(output, SELECTION))
        }
        _ => ("pgrst_source", "NULL::text".into()),
    };
    push_all(
        &mut sql,
        &[
            " SELECT ",
            &body_sql,
            " AS body, pg_catalog.count(_postgrest_t)::text AS page_total, ",
        ],
    );
    match returning {
        Returning::Location if !plan.table.primary_key.is_empty() => {
            let keys = params.text(text_array(&plan.table.primary_key));
            sql.push_str(
                "CASE WHEN pg_catalog.count(_postgrest_t) = 1 THEN \
                 (SELECT json_agg(json_build_array(k.key, k.value))::text \
                  FROM (SELECT row_to_json(_) AS r FROM pgrst_source AS _ LIMIT 1) d \
                  CROSS JOIN json_each_text(d.r) AS k WHERE k.key = ANY(",
            );
            keys.push_to(&mut sql);
            sql.push_str("::text[])) END");
        }
        _ => sql.push_str("NULL::text"),
    }
    let inserted = if counts_inserted(plan) {
        "nullif(current_setting('pgrst.inserted', true), '')"
    } else {
        "NULL::text"
    };
    push_all(
        &mut sql,
        &[
            " AS location, \
             nullif(current_setting('response.headers', true), '') AS response_headers, \
             nullif(current_setting('response.status', true), '') AS response_status, ",
            inserted,
            " AS inserted FROM (SELECT * FROM ",
            rows,
            ") _postgrest_t",
        ],
    );
    Ok(Statement {
        sql,
        params: params.into_vec(),
        rows: RowUse::Body,
    })
}

/// Writes the FROM item of the written rows, named `name`. A CTE's rows are
/// records, in which PostgreSQL finds no function taking the table's row
/// type: when the body selects a computed field, each row is cast back to
/// that type and expanded by `unnest`, a function whose rows are of it.
fn written_rows(sql: &mut String, plan: &MutatePlan, read: &ReadPlan, name: &str) {
    let computed = read
        .select
        .iter()
        .any(|item| item.field.name != "*" && read.table.column(&item.field.name).is_none());
    if computed {
        sql.push_str(
            "pgrst_source AS pgrst_written, LATERAL pg_catalog.unnest(ARRAY[pgrst_written::",
        );
        push_all(
            sql,
            &[
                &qualified(&plan.table.schema, &plan.table.name),
                "]) AS ",
                name,
            ],
        );
    } else {
        push_all(sql, &["pgrst_source AS ", name]);
    }
}

/// Writes the mutation (the `pgrst_source` CTE's statement).
fn mutation(
    sql: &mut String,
    plan: &MutatePlan,
    read: &ReadPlan,
    returning: &Returning,
    params: &mut Params,
) {
    let table = qualified(&plan.table.schema, &plan.table.name);
    match plan.mutation {
        Mutation::Insert | Mutation::SingleUpsert => insert(sql, plan, &table, params),
        // Nothing to set: no row is touched (PostgREST answers as if none
        // matched).
        Mutation::Update if plan.columns.is_empty() => {
            push_all(
                sql,
                &["SELECT ", &table, ".* FROM ", &table, " WHERE false"],
            );
            return;
        }
        Mutation::Update => {
            push_all(sql, &["UPDATE ", &table, " SET "]);
            push_list(sql, &plan.columns, |sql, c| {
                push_ident(sql, &c.name);
                sql.push_str(" = \"pgrst_body\".");
                push_ident(sql, &c.name);
            });
            sql.push_str(" FROM ");
            payload_rows(sql, plan, params);
            push_filters(sql, read, &table, params);
        }
        Mutation::Delete => {
            push_all(sql, &["DELETE FROM ", &table]);
            push_filters(sql, read, &table, params);
        }
    }
    match returning {
        Returning::Nothing => sql.push_str(" RETURNING 1"),
        Returning::Location | Returning::Body(_) => push_all(sql, &[" RETURNING ", &table, ".*"]),
    }
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
fn insert(sql: &mut String, plan: &MutatePlan, table: &str, params: &mut Params) {
    push_all(sql, &["INSERT INTO ", table]);
    if !plan.columns.is_empty() {
        sql.push('(');
        push_list(sql, &plan.columns, |sql, c| push_ident(sql, &c.name));
        sql.push(')');
    }
    sql.push_str(" SELECT ");
    push_list(sql, &plan.columns, |sql, c| {
        sql.push_str("\"pgrst_body\".");
        push_ident(sql, &c.name);
    });
    sql.push_str(" FROM ");
    payload_rows(sql, plan, params);
    let mut conditions = Separated::new(" WHERE ", " AND ");
    if counts_inserted(plan) {
        conditions.next(sql);
        sql.push_str(COUNT_INSERTED);
    }
    for (column, value) in &plan.key_values {
        conditions.next(sql);
        sql.push_str("\"pgrst_body\".");
        push_ident(sql, column);
        sql.push_str(" = ");
        params.text(value.clone()).push_to(sql);
    }
    let Some(conflict) = &plan.conflict else {
        return;
    };
    sql.push_str(" ON CONFLICT(");
    push_list(sql, &conflict.columns, |sql, c| push_ident(sql, c));
    sql.push_str(") ");
    match conflict.resolution {
        Resolution::MergeDuplicates if !plan.columns.is_empty() => {
            sql.push_str("DO UPDATE SET ");
            push_list(sql, &plan.columns, |sql, c| {
                push_ident(sql, &c.name);
                sql.push_str(" = EXCLUDED.");
                push_ident(sql, &c.name);
            });
            push_all(sql, &[" WHERE ", UNCOUNT_UPDATED]);
        }
        _ => sql.push_str("DO NOTHING"),
    }
}

/// Writes the payload as rows named `pgrst_body` (the FROM items of an
/// INSERT … SELECT or an UPDATE … FROM). `missing=default` reads the body
/// as `jsonb` (so a repeated key keeps its last value, as in PostgREST) and
/// merges each element into an object of the column defaults, so absent
/// keys take them.
fn payload_rows(sql: &mut String, plan: &MutatePlan, params: &mut Params) {
    let body = match &plan.body {
        Some(BodyJson::Text(json)) => params.text(json.clone()),
        _ => params.push(Param::RequestBody),
    };
    let defaults = plan.apply_defaults && plan.columns.iter().any(|c| c.default.is_some());
    let json = if plan.apply_defaults { "jsonb" } else { "json" };
    sql.push_str("(SELECT ");
    body.push_to(sql);
    push_all(
        sql,
        &[
            "::",
            json,
            " AS json_data) pgrst_payload, LATERAL (SELECT CASE WHEN ",
            json,
            "_typeof(pgrst_payload.json_data) = 'array' THEN pgrst_payload.json_data ELSE ",
            json,
            "_build_array(pgrst_payload.json_data) END AS val) pgrst_uniform_json",
        ],
    );
    let mut rows = "pgrst_uniform_json";
    if defaults {
        // The defaults are SQL expressions from the catalog, evaluated once
        // per element.
        sql.push_str(", LATERAL (SELECT jsonb_agg(jsonb_build_object(");
        let columns = plan
            .columns
            .iter()
            .filter_map(|c| Some((&c.name, c.default.as_deref()?)));
        push_list(sql, columns, |sql, (name, default)| {
            params.text(name.clone()).push_to(sql);
            push_all(sql, &["::text, ", default]);
        });
        sql.push_str(
            ") || elem) AS val \
             FROM jsonb_array_elements(pgrst_uniform_json.val) elem) pgrst_json_defs",
        );
        rows = "pgrst_json_defs";
    }
    if plan.columns.is_empty() {
        push_all(
            sql,
            &[
                ", LATERAL (SELECT FROM ",
                json,
                "_array_elements(",
                rows,
                ".val) _) pgrst_body",
            ],
        );
        return;
    }
    // A domain with a cast from `json` is read as `json` and parsed by its
    // cast function.
    sql.push_str(", LATERAL (SELECT ");
    push_list(sql, &plan.columns, |sql, c| {
        if let Some(function) = &c.representation.from_json {
            push_all(sql, &[function, "("]);
            push_ident(sql, &c.name);
            sql.push_str(") AS ");
        }
        push_ident(sql, &c.name);
    });
    push_all(
        sql,
        &[" FROM ", json, "_to_recordset(", rows, ".val) AS _("],
    );
    push_list(sql, &plan.columns, |sql, c| {
        push_ident(sql, &c.name);
        let data_type = match c.representation.from_json {
            Some(_) => "json",
            None => &c.data_type,
        };
        push_all(sql, &[" ", data_type]);
    });
    sql.push_str(")) pgrst_body");
}
