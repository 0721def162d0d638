//! SQL for embedded resources: each embed is a `LEFT JOIN LATERAL` (or
//! `INNER` for `!inner`) subquery correlated with its parent's row, so one
//! statement builds the whole tree, as in PostgREST:
//!
//! - to-one: the subquery gives at most one row, selected as
//!   `row_to_json(agg.*)` (`null` when no row);
//! - to-many: `json_agg` over the subquery, `[]` when it has no rows;
//! - spreads put the embed's columns beside the parent's (a to-many spread:
//!   one array per column).
//!
//! The parent is only referred to by `parent` (its qualifier), so the same
//! joins hang off a table, an alias or a CTE row such as `pgrst_source`.

use super::read::{Level, Selected, level, output_name, type_name};
use super::sql::{Params, ident, qualified};
use crate::error::ApiError;
use crate::plan::read::{Condition, Embed, ReadPlan, SelectField};
use crate::schema_cache::{Cardinality, Relationship};

/// The joins of one level and what they add to its select list.
pub(super) struct Joins {
    pub selects: Vec<Selected>,
    pub sql: String,
}

pub(super) fn joins(plan: &ReadPlan, parent: &str, params: &mut Params) -> Result<Joins, ApiError> {
    let mut out = Joins {
        selects: Vec::new(),
        sql: String::new(),
    };
    for e in &plan.embeds {
        let agg = ident(&e.agg_alias);
        let (from, conditions) = source(e, parent);
        let Level {
            select,
            joins,
            filters,
            tail,
            ..
        } = level(&e.plan, &ident(&e.table_alias), conditions, params)?;
        let sub = format!("SELECT {select} FROM {from}{joins}{filters}{tail}");
        let kind = if e.inner { "INNER" } else { "LEFT" };
        // A to-many subquery always gives one row; `!inner` drops the
        // parent when its array is null (no rows).
        let many_on = if e.inner {
            format!("{agg} IS NOT NULL")
        } else {
            "TRUE".to_string()
        };
        if e.rel.is_to_one() {
            out.sql
                .push_str(&format!(" {kind} JOIN LATERAL ({sub}) AS {agg} ON TRUE"));
            if e.spread {
                out.selects.extend(hoisted_or_plain(e, &agg)?);
            } else if !e.is_empty() {
                out.selects.push(Selected {
                    expr: format!("row_to_json({agg}.*)::jsonb"),
                    name: Some(e.name.clone()),
                    aggregated: false,
                });
            }
        } else if e.spread {
            let names = spread_names(e);
            let arrays: String = names
                .iter()
                .map(|n| {
                    format!(
                        ", COALESCE(json_agg({agg}.{0}), '[]')::jsonb AS {0}",
                        ident(n)
                    )
                })
                .collect();
            out.sql.push_str(&format!(
                " {kind} JOIN LATERAL (SELECT json_agg({agg})::jsonb AS {agg}{arrays} \
                 FROM ({sub}) AS {agg}) AS {agg} ON {many_on}"
            ));
            out.selects.extend(names.iter().map(|n| column(&agg, n)));
        } else {
            out.sql.push_str(&format!(
                " {kind} JOIN LATERAL (SELECT json_agg({agg})::jsonb AS {agg} \
                 FROM ({sub}) AS {agg}) AS {agg} ON {many_on}"
            ));
            if !e.is_empty() {
                out.selects.push(Selected {
                    expr: format!("COALESCE({agg}.{agg}, '[]')"),
                    name: Some(e.name.clone()),
                    aggregated: false,
                });
            }
        }
    }
    Ok(out)
}

/// A column of a lateral subquery, under its own name.
fn column(agg: &str, name: &str) -> Selected {
    Selected {
        expr: format!("{agg}.{}", ident(name)),
        name: None,
        aggregated: false,
    }
}

/// A to-one spread's columns in its parent; with hoisted aggregates, each
/// aggregate applies to the spread's plain value (`count()`: its rows) and
/// is named by its alias, else its function.
fn hoisted_or_plain(e: &Embed, agg: &str) -> Result<Vec<Selected>, ApiError> {
    if !e.plan.hoist_aggregates {
        return Ok(spread_names(e).iter().map(|n| column(agg, n)).collect());
    }
    let mut out = Vec::new();
    for item in &e.plan.select {
        let Some(f) = item.aggregate else {
            out.extend(names_of(e, item).iter().map(|n| column(agg, n)));
            continue;
        };
        let value = if item.field.name == "*" {
            format!("{agg}.*")
        } else {
            format!(
                "{agg}.{}",
                ident(item.alias.as_ref().unwrap_or(&item.field.name))
            )
        };
        let mut expr = format!("{}({value})", f.as_str().to_uppercase());
        if let Some(cast) = &item.aggregate_cast {
            expr = format!("CAST({expr} AS {})", type_name(cast)?);
        }
        out.push(Selected {
            expr,
            name: Some(output_name(item)),
            aggregated: true,
        });
    }
    out.extend(embed_names(e).iter().map(|n| column(agg, n)));
    Ok(out)
}

/// The embed's FROM item and the conditions that tie it to `parent`.
fn source(e: &Embed, parent: &str) -> (String, Vec<String>) {
    let alias = ident(&e.table_alias);
    let table = qualified(&e.plan.table.schema, &e.plan.table.name);
    let eq = |left: String, right: String| format!("{left} = {right}");
    match e.rel {
        Relationship::Computed {
            function,
            table: arg,
            ..
        } => (
            // The cast names the row type when `parent` is a CTE row.
            format!(
                "{}({parent}::{}) AS {alias}",
                qualified(&function.schema, &function.name),
                qualified(&arg.schema, &arg.name)
            ),
            Vec::new(),
        ),
        Relationship::ForeignKey {
            cardinality: Cardinality::ManyToMany(j),
            ..
        } => {
            let junction = qualified(&j.table.schema, &j.table.name);
            let conds = j
                .target_columns
                .iter()
                .map(|(col, jcol)| {
                    eq(
                        format!("{junction}.{}", ident(jcol)),
                        format!("{alias}.{}", ident(col)),
                    )
                })
                .chain(j.source_columns.iter().map(|(col, jcol)| {
                    eq(
                        format!("{junction}.{}", ident(jcol)),
                        format!("{parent}.{}", ident(col)),
                    )
                }))
                .collect();
            (format!("{table} AS {alias}, {junction}"), conds)
        }
        Relationship::ForeignKey {
            cardinality:
                Cardinality::ManyToOne { columns, .. }
                | Cardinality::OneToMany { columns, .. }
                | Cardinality::OneToOne { columns, .. },
            ..
        } => (
            format!("{table} AS {alias}"),
            columns
                .iter()
                .map(|(col, fcol)| {
                    eq(
                        format!("{alias}.{}", ident(fcol)),
                        format!("{parent}.{}", ident(col)),
                    )
                })
                .collect(),
        ),
    }
}

/// The keys a spread adds to its parent: its fields (`*`: every column), its
/// embeds, and the keys of spreads inside it.
fn spread_names(e: &Embed) -> Vec<String> {
    let mut names: Vec<String> = e.plan.select.iter().flat_map(|i| names_of(e, i)).collect();
    names.extend(embed_names(e));
    names
}

/// The key(s) of one selected item of a spread (`*`: every column).
fn names_of(e: &Embed, item: &SelectField) -> Vec<String> {
    if item.field.name == "*" && item.field.json_path.is_empty() && item.aggregate.is_none() {
        e.plan
            .table
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect()
    } else {
        vec![output_name(item)]
    }
}

/// The keys the embeds inside a spread add.
fn embed_names(e: &Embed) -> Vec<String> {
    let mut names = Vec::new();
    for child in &e.plan.embeds {
        if child.spread {
            names.extend(spread_names(child));
        } else if !child.is_empty() {
            names.push(child.name.clone());
        }
    }
    names
}

/// Whether the embeds of `plan` can remove its rows (`!inner`, or a filter
/// on an embed), so a count must join them too.
pub(super) fn filters_parent(plan: &ReadPlan) -> bool {
    fn tests_embed(c: &Condition) -> bool {
        match c {
            Condition::NullEmbed { .. } => true,
            Condition::Filter(_) => false,
            Condition::Expr { children, .. } => children.iter().any(tests_embed),
        }
    }
    plan.embeds.iter().any(|e| e.inner) || plan.conditions.iter().any(tests_embed)
}

#[cfg(test)]
mod tests {
    use crate::contract::{HttpRequest, Outcome, RowUse};
    use crate::engine::{self, Engine};

    /// directors, films (→ directors), actors, roles (junction).
    const TABLES: &str = include_str!("../../testdata/films_tables.json");
    const KEYS: &str = include_str!("../../testdata/films_keys.json");

    #[test]
    fn a_three_level_embed_is_one_main_statement() {
        let env = vec![("PGRST_DB_ANON_ROLE".to_string(), "anon".to_string())];
        let config = engine::resolve_config(None, &env, &[]).unwrap();
        let none = "[]".to_string();
        let engine = Engine::load(
            &config,
            &[
                TABLES.to_string(),
                KEYS.to_string(),
                none.clone(),
                none.clone(),
                none.clone(),
                none.clone(),
                none.clone(),
                // No role settings.
                none,
            ],
        )
        .unwrap();
        let req = HttpRequest {
            method: "GET".into(),
            path: "/directors".into(),
            query: "select=id,films!inner(id,actors(id))&films.id=gt.1&films.actors.id=lt.9".into(),
            headers: vec![],
            body: vec![],
        };
        let Outcome::Run(plan) = engine.plan(&req, None, 0) else {
            panic!("not planned")
        };
        let reading: Vec<_> = plan
            .statements
            .iter()
            .filter(|s| s.sql.contains("\"films\"") || s.sql.contains("\"actors\""))
            .collect();
        assert_eq!(reading.len(), 1, "{:#?}", plan.statements);
        assert_eq!(reading[0].rows, RowUse::Body);
        let sql = &reading[0].sql;
        assert_eq!(sql.matches("JOIN LATERAL").count(), 2, "{sql}");
        assert!(sql.contains("INNER JOIN LATERAL"), "{sql}");
        // Every value is a parameter.
        assert!(!sql.contains("gt") && !sql.contains('9'), "{sql}");
    }
}
