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

use super::fragment::{SelectList, close_aggregate, open_aggregate, output_name, type_name};
use super::read::level;
use super::sql::{Params, Separated, ident, push_all, push_column, push_ident, push_qualified};
use crate::error::ApiError;
use crate::plan::read::{Condition, Embed, ReadPlan, SelectField};
use crate::schema_cache::{Cardinality, Relationship};

/// Writes the joins of the embeds of `plan` into `out`, their levels'
/// parameters numbered in order.
pub(super) fn joins(
    out: &mut String,
    plan: &ReadPlan,
    parent: &str,
    params: &mut Params,
) -> Result<(), ApiError> {
    for e in &plan.embeds {
        let agg = ident(&e.agg_alias);
        let alias = ident(&e.table_alias);
        let (from, conditions) = source(e, &alias, parent);
        let sub = level(&e.plan, &alias, &conditions, params)?;
        // Hoisted aggregates' casts are written later, with the parent's
        // select list (`selects`): checked now, with their own level, so the
        // first bad cast of a request is still the one reported.
        if e.plan.hoist_aggregates {
            for cast in e
                .plan
                .select
                .iter()
                .filter_map(|i| i.aggregate_cast.as_deref())
            {
                type_name(cast)?;
            }
        }
        let kind = if e.inner { "INNER" } else { "LEFT" };
        push_all(out, &[" ", kind, " JOIN LATERAL ("]);
        let to_many = !e.rel.is_to_one();
        // A to-many subquery always gives one row: the array of the rows.
        if to_many {
            push_all(out, &["SELECT json_agg(", &agg, ")::jsonb AS ", &agg]);
            if e.spread {
                for n in spread_names(e) {
                    push_all(out, &[", COALESCE(json_agg(", &agg, "."]);
                    push_ident(out, n);
                    out.push_str("), '[]')::jsonb AS ");
                    push_ident(out, n);
                }
            }
            out.push_str(" FROM (");
        }
        push_all(
            out,
            &["SELECT ", &sub.select, " FROM ", &from, sub.after_from()],
        );
        if to_many {
            push_all(out, &[") AS ", &agg]);
        }
        push_all(out, &[") AS ", &agg, " ON "]);
        // `!inner` drops the parent when its array is null (no rows).
        if to_many && e.inner {
            push_all(out, &[&agg, " IS NOT NULL"]);
        } else {
            out.push_str("TRUE");
        }
    }
    Ok(())
}

/// Writes what the embeds of `plan` add to its select list.
pub(super) fn selects(select: &mut SelectList, plan: &ReadPlan) -> Result<(), ApiError> {
    for e in &plan.embeds {
        if e.spread {
            let agg = ident(&e.agg_alias);
            if e.rel.is_to_one() {
                hoisted_or_plain(select, e, &agg, plan.hoist_aggregates)?;
            } else {
                for n in spread_names(e) {
                    select.column(&agg, n);
                }
            }
        } else if !e.is_empty() {
            let start = select.start();
            let sql = &mut select.sql;
            if e.rel.is_to_one() {
                sql.push_str("row_to_json(");
                push_ident(sql, &e.agg_alias);
                sql.push_str(".*)::jsonb");
            } else {
                sql.push_str("COALESCE(");
                push_ident(sql, &e.agg_alias);
                sql.push('.');
                push_ident(sql, &e.agg_alias);
                sql.push_str(", '[]')");
            }
            select.end(start, Some(&e.name), false);
        }
    }
    Ok(())
}

/// A to-one spread's columns in its parent. With hoisted aggregates, each
/// aggregate (the spread's own and those of to-one spreads inside it)
/// applies to its plain value (`count()`: the spread's rows) and is named by
/// its alias, else its function; a parent that hoists them itself
/// (`pass_on`) selects the plain values for its own parent.
fn hoisted_or_plain(
    select: &mut SelectList,
    e: &Embed,
    agg: &str,
    pass_on: bool,
) -> Result<(), ApiError> {
    if !e.plan.hoist_aggregates {
        for n in spread_names(e) {
            select.column(agg, n);
        }
        return Ok(());
    }
    for key in hoisted_keys(e) {
        let item = match key {
            SpreadKey::Plain(n) => {
                select.column(agg, n);
                continue;
            }
            SpreadKey::Aggregate(item) => item,
        };
        // The column holding the value, the row for an aliased `count()`;
        // `count()` without one counts the spread's rows (`agg.*`).
        let column = match (&item.alias, item.field.name.as_str()) {
            (None, "*") => None,
            (alias, name) => Some(alias.as_deref().unwrap_or(name)),
        };
        if pass_on {
            if let Some(column) = column {
                select.column(agg, column);
            }
            continue;
        }
        let Some(f) = item.aggregate else { continue };
        let cast = item.aggregate_cast.as_deref().map(type_name).transpose()?;
        let start = select.start();
        let sql = &mut select.sql;
        open_aggregate(sql, f, cast);
        match column {
            Some(column) => push_column(sql, agg, column),
            None => push_all(sql, &[agg, ".*"]),
        }
        close_aggregate(sql, cast);
        select.end(start, Some(output_name(item)), true);
    }
    Ok(())
}

/// A key a hoisting to-one spread adds to its parent.
enum SpreadKey<'p> {
    /// A plain column, by name.
    Plain(&'p str),
    /// A hoisted aggregate of the spread or of a to-one spread inside it.
    Aggregate(&'p SelectField),
}

/// The keys of a spread that hoists aggregates, in its select's order, then
/// its embeds' (those of hoisting spreads inside it included).
fn hoisted_keys<'p>(e: &'p Embed) -> Vec<SpreadKey<'p>> {
    let mut keys = Vec::new();
    for item in &e.plan.select {
        if item.aggregate.is_some() {
            keys.push(SpreadKey::Aggregate(item));
        } else {
            keys.extend(names_of(e, item).into_iter().map(SpreadKey::Plain));
        }
    }
    for child in &e.plan.embeds {
        if child.spread && child.plan.hoist_aggregates {
            keys.extend(hoisted_keys(child));
        } else if child.spread {
            keys.extend(spread_names(child).into_iter().map(SpreadKey::Plain));
        } else if !child.is_empty() {
            keys.push(SpreadKey::Plain(&child.name));
        }
    }
    keys
}

/// The embed's FROM item (its table as `alias`) and the conditions that tie
/// it to `parent`, ANDed.
fn source(e: &Embed, alias: &str, parent: &str) -> (String, String) {
    let mut from = String::with_capacity(64);
    let mut conditions = String::with_capacity(64);
    let mut and = Separated::new("", " AND ");
    let mut equal = |left: (&str, &str), right: (&str, &str)| {
        and.next(&mut conditions);
        push_column(&mut conditions, left.0, left.1);
        conditions.push_str(" = ");
        push_column(&mut conditions, right.0, right.1);
    };
    let table = e.plan.table;
    match e.rel {
        Relationship::Computed {
            function,
            table: arg,
            ..
        } => {
            // The cast names the row type when `parent` is a CTE row.
            push_qualified(&mut from, &function.schema, &function.name);
            push_all(&mut from, &["(", parent, "::"]);
            push_qualified(&mut from, &arg.schema, &arg.name);
            push_all(&mut from, &[") AS ", alias]);
        }
        Relationship::ForeignKey {
            cardinality: Cardinality::ManyToMany(j),
            ..
        } => {
            push_qualified(&mut from, &table.schema, &table.name);
            push_all(&mut from, &[" AS ", alias, ", "]);
            let start = from.len();
            push_qualified(&mut from, &j.table.schema, &j.table.name);
            let junction = &from[start..];
            for (col, jcol) in &j.target_columns {
                equal((junction, jcol), (alias, col));
            }
            for (col, jcol) in &j.source_columns {
                equal((junction, jcol), (parent, col));
            }
        }
        Relationship::ForeignKey {
            cardinality:
                Cardinality::ManyToOne { columns, .. }
                | Cardinality::OneToMany { columns, .. }
                | Cardinality::OneToOne { columns, .. },
            ..
        } => {
            push_qualified(&mut from, &table.schema, &table.name);
            push_all(&mut from, &[" AS ", alias]);
            for (col, fcol) in columns {
                equal((alias, fcol), (parent, col));
            }
        }
    }
    (from, conditions)
}

/// The keys a spread adds to its parent: its fields (`*`: every column), its
/// embeds, and the keys of spreads inside it.
fn spread_names<'p>(e: &'p Embed) -> Vec<&'p str> {
    let mut names: Vec<&str> = e.plan.select.iter().flat_map(|i| names_of(e, i)).collect();
    names.extend(embed_names(e));
    names
}

/// The key(s) of one selected item of a spread (`*`: every column).
fn names_of<'p>(e: &'p Embed, item: &'p SelectField) -> Vec<&'p str> {
    if item.field.name == "*" && item.field.json_path.is_empty() && item.aggregate.is_none() {
        e.plan
            .table
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect()
    } else {
        vec![output_name(item)]
    }
}

/// The keys the embeds inside a spread add.
fn embed_names<'p>(e: &'p Embed) -> Vec<&'p str> {
    let mut names = Vec::new();
    for child in &e.plan.embeds {
        if child.spread {
            names.extend(spread_names(child));
        } else if !child.is_empty() {
            names.push(child.name.as_str());
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
        let config = engine::resolve_config(None, &env, &[], &[])
            .and_then(|r| r.resolved())
            .unwrap();
        let none = "[]".to_string();
        let engine = Engine::load(
            &config.config,
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
