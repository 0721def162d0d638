//! SQL for reads (PostgREST's `QueryBuilder` for a read plan). The main
//! statement returns one row: the JSON body first (streamed by the host),
//! then the text columns `respond` needs. Each level of the read (the root,
//! an embed, a write's representation) is a `Level`, built from the
//! fragments of `fragment`.

use super::body::{Output, body};
use super::embed;
use super::fragment::{SelectList, order_term, push_bigint, push_where, select_item, star};
use super::sql::{Params, Separated, ident, push_all, qualified};
use crate::contract::{RowUse, Statement};
use crate::error::ApiError;
use crate::plan::read::ReadPlan;

/// Which total the main statement computes (`Prefer: count=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    None,
    /// Every row matching the filters.
    Exact,
    /// Matching rows, but no more than this many (`count=estimated` counts
    /// exactly up to `db-max-rows` + 1).
    UpTo(i64),
}

/// The statements of a read: the main one, and for `count=planned` or
/// `count=estimated` the planner's row estimate of the same filters.
#[derive(Debug)]
pub struct ReadStatements {
    pub main: Statement,
    pub planned_count: Option<Statement>,
}

/// The CTE holding the page of rows, as PostgREST names it (visible to
/// functions that read `pg_stat_activity` and in query logs).
const SOURCE: &str = "pgrst_source";

/// Where the root rows of a read come from.
#[derive(Clone, Copy)]
pub enum Source<'s> {
    /// The plan's table or view.
    Relation,
    /// A function call: `rows` writes the `SELECT` of its rows (the
    /// `pgrst_call` CTE), adding its values to the statement's parameters.
    Call {
        rows: &'s dyn Fn(&mut String, &mut Params),
        /// It returns one value or row, not a set.
        single: bool,
    },
}

impl Source<'_> {
    /// The rows of the page, for `respond`: a function returning one value
    /// or row counts as that one row even when a filter left none (it then
    /// answers `null`), as PostgREST counts it.
    fn page_total(self) -> &'static str {
        match self {
            Source::Call { single: true, .. } => "'1'",
            _ => "pg_catalog.count(_postgrest_t)::text",
        }
    }

    /// `WITH` items before the page, and the FROM item of the root rows.
    fn sql(self, plan: &ReadPlan, row: &str, params: &mut Params) -> (String, String) {
        match self {
            Source::Relation => (
                String::new(),
                qualified(&plan.table.schema, &plan.table.name),
            ),
            Source::Call { rows, .. } => {
                let mut with = String::with_capacity(256);
                with.push_str("pgrst_call AS (");
                rows(&mut with, params);
                with.push_str("), ");
                (with, ["pgrst_call AS ", row].concat())
            }
        }
    }
}

pub fn statements(
    plan: &ReadPlan,
    source: Source,
    output: Output,
    count: Count,
    planned_count: bool,
) -> Result<ReadStatements, ApiError> {
    // The unaliased table's rows are `"name"` too: a whole-row reference
    // (computed relationships pass the row) cannot be schema-qualified.
    let row = ident(&plan.table.name);
    // The planned count is a statement of its own, numbered from $1.
    let planned_count = if planned_count {
        let mut params = Params::default();
        let (with, from) = source.sql(plan, &row, &mut params);
        let (open, items, close) = match with.strip_suffix(", ") {
            Some(items) => ("WITH ", items, " "),
            None => ("", "", ""),
        };
        let root = level(plan, &row, "", &mut params)?;
        let mut params = params.into_vec();
        params.truncate(root.source_params);
        Some(Statement {
            sql: [
                "EXPLAIN (FORMAT JSON) ",
                open,
                items,
                close,
                "SELECT 1 FROM ",
                &from,
                root.rows(),
            ]
            .concat(),
            params,
            rows: RowUse::ToRespond,
        })
    } else {
        None
    };

    let mut params = Params::default();
    let (with, from) = source.sql(plan, &row, &mut params);
    let root = level(plan, &row, "", &mut params)?;
    let (count_cte, total) = match count {
        Count::None => (String::new(), "null::text"),
        Count::Exact | Count::UpTo(_) => (
            count_cte(plan, &from, &root, count, &mut params),
            "(SELECT pg_catalog.count(*) FROM pgrst_source_count)::text",
        ),
    };
    let body = body(&output, SOURCE);
    Ok(ReadStatements {
        main: Statement {
            sql: [
                "WITH ",
                &with,
                SOURCE,
                " AS (SELECT ",
                &root.select,
                " FROM ",
                &from,
                root.after_from(),
                ")",
                &count_cte,
                " SELECT ",
                &body,
                " AS body, ",
                total,
                " AS total_result_set, ",
                source.page_total(),
                " AS page_total, ",
                GUC_COLUMNS,
                " FROM (SELECT * FROM ",
                SOURCE,
                ") _postgrest_t",
            ]
            .concat(),
            params: params.into_vec(),
            rows: RowUse::Body,
        },
        planned_count,
    })
}

/// `, pgrst_source_count AS (…)`: the rows the root's filters match (up to
/// `Count::UpTo`'s limit), counted for the total.
fn count_cte(
    plan: &ReadPlan,
    from: &str,
    root: &Level,
    count: Count,
    params: &mut Params,
) -> String {
    let mut sql = String::with_capacity(128);
    push_all(&mut sql, &[", pgrst_source_count AS (SELECT 1 FROM ", from]);
    // Embeds change the count only when they filter the rows.
    if embed::filters_parent(plan) {
        sql.push_str(root.joins());
    }
    sql.push_str(root.filters());
    if let Count::UpTo(n) = count {
        push_bigint(&mut sql, " LIMIT ", n, params);
    }
    sql.push(')');
    sql
}

/// The main row's last columns, after the body, the total and the page's
/// row count (`response::read` reads them in this order): what SQL set in
/// `response.headers` and `response.status`.
const GUC_COLUMNS: &str = "nullif(current_setting('response.headers', true), '') AS response_headers, \
     nullif(current_setting('response.status', true), '') AS response_status";

/// The SQL pieces of one level of a read, its rows referenced as
/// `qualifier` (a table name or an alias): `SELECT {select} FROM …{joins}
/// {filters}{tail}`. The select list is written after the rest (its
/// parameters come after theirs), so it has a buffer of its own.
pub(super) struct Level {
    /// The select list, embedded values included.
    pub select: String,
    /// `{joins}{filters}{tail}`, one after the other.
    after_from: String,
    joins_end: usize,
    filters_end: usize,
    /// How many parameters `joins` and `filters` use (the first ones).
    pub source_params: usize,
}

impl Level {
    /// ` LEFT JOIN LATERAL (…) AS … ON …` for each embed.
    pub fn joins(&self) -> &str {
        &self.after_from[..self.joins_end]
    }

    /// ` WHERE …` (the join conditions first), or nothing.
    pub fn filters(&self) -> &str {
        &self.after_from[self.joins_end..self.filters_end]
    }

    /// The joins and filters: which rows, unordered and unpaged.
    pub fn rows(&self) -> &str {
        &self.after_from[..self.filters_end]
    }

    /// The joins, filters and ` GROUP BY … ORDER BY … LIMIT … OFFSET …`.
    pub fn after_from(&self) -> &str {
        &self.after_from
    }
}

/// `join_conditions`: what ties the level to its parent (ANDed), or "".
pub(super) fn level(
    plan: &ReadPlan,
    qualifier: &str,
    join_conditions: &str,
    params: &mut Params,
) -> Result<Level, ApiError> {
    build_level(plan, qualifier, join_conditions, true, params)
}

/// A write's representation: the level over the written rows, without the
/// request's filters (they chose the rows the write touched; an updated
/// row need not match them any more).
pub(super) fn representation(
    plan: &ReadPlan,
    qualifier: &str,
    params: &mut Params,
) -> Result<Level, ApiError> {
    build_level(plan, qualifier, "", false, params)
}

fn build_level(
    plan: &ReadPlan,
    qualifier: &str,
    join_conditions: &str,
    filtered: bool,
    params: &mut Params,
) -> Result<Level, ApiError> {
    // Joins and filters take their parameters first: a statement that only
    // needs the rows (the planned count) keeps the first `source_params`.
    // Sized for the usual level; embeds' subqueries are copied in whole.
    let mut sql = String::with_capacity(if plan.embeds.is_empty() { 128 } else { 512 });
    embed::joins(&mut sql, plan, qualifier, params)?;
    let joins_end = sql.len();
    push_where(&mut sql, plan, qualifier, join_conditions, filtered, params);
    let filters_end = sql.len();
    let source_params = params.len();

    let mut select = SelectList::new(aggregates(plan));
    for item in &plan.select {
        match item.aggregate {
            // Hoisted to the parent: the plain value. `count()` counts the
            // parent's rows of this level, or with an alias (PostgREST's
            // full-row count) the non-null rows selected under it.
            Some(_) if plan.hoist_aggregates => match (&item.alias, item.field.name.as_str()) {
                (None, "*") => {}
                (Some(alias), "*") => {
                    let start = select.start();
                    select.sql.push_str(qualifier);
                    select.end(start, Some(alias), false);
                }
                _ => select_item(&mut select, plan.table, qualifier, item, false, params)?,
            },
            None if item.field.name == "*" => star(&mut select, plan.table, qualifier),
            _ => select_item(&mut select, plan.table, qualifier, item, true, params)?,
        }
    }
    // Nothing selected and nothing embedded: every column (the empty embed
    // `actors()` still needs its rows).
    if plan.select.is_empty() && plan.embeds.is_empty() {
        star(&mut select, plan.table, qualifier);
    }
    embed::selects(&mut select, plan)?;

    if let Some(group) = select.group.as_deref().filter(|g| !g.is_empty()) {
        push_all(&mut sql, &[" GROUP BY ", group]);
    }
    let mut order = Separated::new(" ORDER BY ", ", ");
    for term in &plan.order {
        order.next(&mut sql);
        order_term(&mut sql, plan, qualifier, term, params);
    }
    if let Some(limit) = plan.limit {
        push_bigint(&mut sql, " LIMIT ", limit, params);
    }
    if plan.offset > 0 {
        push_bigint(&mut sql, " OFFSET ", plan.offset, params);
    }
    Ok(Level {
        select: select.sql,
        after_from: sql,
        joins_end,
        filters_end,
        source_params,
    })
}

/// Whether a level's select list has aggregates (its own, or those hoisted
/// from to-one spreads), so its other items are grouped; a level that hoists
/// its aggregates groups nothing.
fn aggregates(plan: &ReadPlan) -> bool {
    !plan.hoist_aggregates
        && (plan.select.iter().any(|s| s.aggregate.is_some())
            || plan.embeds.iter().any(|e| e.plan.hoist_aggregates))
}
