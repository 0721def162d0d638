//! SQL for reads. The main statement returns one row: the JSON body first
//! (streamed by the host), then the text columns `respond` needs.

use std::borrow::Cow;

use super::embed;
use super::sql::{
    Params, Placeholder, Separated, ident, push_all, push_column, push_ident, qualified, text_array,
};
use crate::api_request::ast::{
    AggregateFunction, Field, Filter, IsValue, JsonArrow, JsonOperand, LogicOperator, OpQuantifier,
    Operation, OrderDirection, OrderNulls, OrderTerm, QuantOperator,
};
use crate::contract::{RowUse, Statement};
use crate::error::ApiError;
use crate::plan::read::{Condition, ReadPlan, SelectField};
use crate::schema_cache::Table;

/// How the body column is built from the selected rows (PostgREST's bodyF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyShape {
    /// `application/json`, `vnd.pgrst.array+json`: a JSON array.
    JsonArray,
    /// `vnd.pgrst.object+json`: the first row as an object (`null` without
    /// rows; `respond` refuses any count but one).
    JsonObject,
    /// `text/csv`: a header line of column names, then one line per row.
    Csv,
    /// `application/geo+json`: a FeatureCollection (needs PostGIS).
    GeoJson,
    /// A media type handler: `aggregate(row::row_type)` (`aggregate(row)`
    /// for an `anyelement` one), cast to `bytea` (`bytes`) or `text`. The
    /// names are quoted SQL.
    Custom {
        aggregate: String,
        row_type: Option<String>,
        bytes: bool,
    },
    /// The values of a function returning scalars (or `void`): its rows'
    /// one column, `pgrst_scalar`.
    Scalar(ScalarBody),
}

/// How a scalar function's values become the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarBody {
    /// The JSON array of the values, or (`single`) the first value.
    Json { single: bool },
    /// The text as it is (`text/plain`, `text/xml`), values concatenated.
    Text,
    /// The bytes as they are (`application/octet-stream`).
    Bytes,
    /// No body (`void`).
    Void,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub shape: BodyShape,
    /// `nulls=stripped`: keys with null values are left out.
    pub strip_nulls: bool,
}

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

/// ` LIMIT $n::bigint` (`keyword` and `value` as given).
fn push_bigint(sql: &mut String, keyword: &str, value: i64, params: &mut Params) {
    sql.push_str(keyword);
    params.text(value.to_string()).push_to(sql);
    sql.push_str("::bigint");
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

/// Writes ` WHERE …` for the request's root filters, or nothing (writes).
pub(super) fn push_filters(
    out: &mut String,
    plan: &ReadPlan,
    qualifier: &str,
    params: &mut Params,
) {
    push_where(out, plan, qualifier, "", true, params);
}

/// Writes ` WHERE …`: `join_conditions` first, then (`filtered`) the
/// level's own conditions; nothing without any.
fn push_where(
    out: &mut String,
    plan: &ReadPlan,
    qualifier: &str,
    join_conditions: &str,
    filtered: bool,
    params: &mut Params,
) {
    let mut and = Separated::new(" WHERE ", " AND ");
    if !join_conditions.is_empty() {
        and.next(out);
        out.push_str(join_conditions);
    }
    if filtered {
        for c in &plan.conditions {
            and.next(out);
            logic(out, plan, qualifier, c, params);
        }
    }
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
            // Hoisted to the parent: the plain value (`count()`: nothing).
            Some(_) if plan.hoist_aggregates => {
                if item.field.name != "*" {
                    select_item(&mut select, plan.table, qualifier, item, false, params)?;
                }
            }
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
/// from a to-one spread), so its other items are grouped.
fn aggregates(plan: &ReadPlan) -> bool {
    (!plan.hoist_aggregates && plan.select.iter().any(|s| s.aggregate.is_some()))
        || plan.embeds.iter().any(|e| e.plan.hoist_aggregates)
}

/// A level's select list, written into one buffer; when the level
/// aggregates, the other items' expressions are copied for its GROUP BY.
pub(super) struct SelectList {
    pub sql: String,
    items: Separated,
    group: Option<String>,
}

impl SelectList {
    fn new(aggregates: bool) -> SelectList {
        SelectList {
            sql: String::with_capacity(128),
            items: Separated::new("", ", "),
            group: aggregates.then(String::new),
        }
    }

    /// Starts an item; its expression is written from the returned offset.
    pub fn start(&mut self) -> usize {
        self.items.next(&mut self.sql);
        self.sql.len()
    }

    /// Ends the item whose expression starts at `start`: `expr AS "name"`
    /// with a name (else PostgreSQL's own column name is PostgREST's).
    pub fn end(&mut self, start: usize, name: Option<&str>, aggregated: bool) {
        if let Some(group) = &mut self.group
            && !aggregated
        {
            if !group.is_empty() {
                group.push_str(", ");
            }
            group.push_str(&self.sql[start..]);
        }
        if let Some(name) = name {
            self.sql.push_str(" AS ");
            push_ident(&mut self.sql, name);
        }
    }

    /// A column of `source` under its own name.
    pub fn column(&mut self, source: &str, name: &str) {
        let start = self.start();
        push_column(&mut self.sql, source, name);
        self.end(start, None, false);
    }
}

/// The body column over the rows named `rows` (`_postgrest_t` in the
/// outer query).
pub(super) fn body(output: &Output, rows: &str) -> Cow<'static, str> {
    let strip = |json: &'static str| -> Cow<'static, str> {
        if output.strip_nulls {
            format!("json_strip_nulls({json})").into()
        } else {
            json.into()
        }
    };
    match &output.shape {
        BodyShape::Custom {
            aggregate,
            row_type,
            bytes,
        } => {
            let cast = if *bytes { "bytea" } else { "text" };
            let row = match row_type {
                Some(row_type) => format!("_postgrest_t::{row_type}"),
                None => "_postgrest_t".to_string(),
            };
            format!("{aggregate}({row})::{cast}").into()
        }
        BodyShape::Scalar(scalar) => scalar_body(*scalar, strip),
        BodyShape::JsonArray if !output.strip_nulls => "coalesce(json_agg(_postgrest_t), '[]')".into(),
        BodyShape::JsonArray => format!("coalesce({}, '[]')", strip("json_agg(_postgrest_t)")).into(),
        BodyShape::JsonObject => {
            format!("coalesce({}, 'null')", strip("json_agg(_postgrest_t)->0")).into()
        }
        BodyShape::GeoJson => "json_build_object('type', 'FeatureCollection', 'features', \
             coalesce(json_agg(ST_AsGeoJSON(_postgrest_t)::json), '[]'))"
            .into(),
        // The header comes from the first row's keys, so a CSV body of no
        // rows is a lone newline, as in PostgREST.
        BodyShape::Csv => format!(
            "(SELECT coalesce(string_agg(k, ','), '') FROM \
               (SELECT json_object_keys(row_to_json(h)) AS k FROM \
                 (SELECT * FROM {rows} LIMIT 1) h) keys) \
             || '\n' || \
             coalesce(string_agg(substring(_postgrest_t::text, 2, length(_postgrest_t::text) - 2), '\n'), '')"
        )
        .into(),
    }
}

/// The body of a scalar function's values, the `pgrst_scalar` column of
/// `_postgrest_t` (so a `select` renaming it leaves the body without it, as
/// in PostgREST). `strip` wraps JSON in `json_strip_nulls` when asked.
fn scalar_body(
    scalar: ScalarBody,
    strip: impl Fn(&'static str) -> Cow<'static, str>,
) -> Cow<'static, str> {
    match scalar {
        ScalarBody::Json { single: false } => format!(
            "coalesce({}, '[]')",
            strip("json_agg(_postgrest_t.pgrst_scalar)")
        )
        .into(),
        ScalarBody::Json { single: true } => format!(
            "coalesce({}, 'null')",
            strip("json_agg(_postgrest_t.pgrst_scalar)->0")
        )
        .into(),
        ScalarBody::Text => "coalesce(string_agg(_postgrest_t.pgrst_scalar::text, ''), '')".into(),
        ScalarBody::Bytes => {
            "coalesce(string_agg(_postgrest_t.pgrst_scalar::bytea, ''::bytea), ''::bytea)".into()
        }
        ScalarBody::Void => "NULL::text".into(),
    }
}

/// Writes one selected field; `with_aggregate: false` selects the plain
/// value of a hoisted aggregate.
fn select_item(
    select: &mut SelectList,
    table: &Table,
    source: &str,
    item: &SelectField,
    with_aggregate: bool,
    params: &mut Params,
) -> Result<(), ApiError> {
    let SelectField {
        field, alias, cast, ..
    } = item;
    let (aggregate, aggregate_cast) = match item.aggregate {
        Some(f) if with_aggregate => (Some(f), item.aggregate_cast.as_deref()),
        _ => (None, None),
    };
    let represented = table
        .column(&field.name)
        .and_then(|c| c.representation.to_json.as_deref())
        .filter(|_| field.json_path.is_empty() && cast.is_none() && aggregate.is_none());
    let cast = cast.as_deref().map(type_name).transpose()?;
    let aggregate_cast = aggregate_cast.map(type_name).transpose()?;

    let start = select.start();
    let sql = &mut select.sql;
    if let Some(f) = aggregate {
        open_aggregate(sql, f, aggregate_cast);
    }
    if cast.is_some() {
        sql.push_str("CAST(");
    }
    // A domain with a cast to `json`: its function formats the value.
    if let Some(function) = represented {
        push_all(sql, &[function, "("]);
    }
    match (field.name.as_str(), aggregate) {
        // `count()`.
        ("*", Some(_)) => sql.push('*'),
        ("*", None) => push_all(sql, &[source, ".*"]),
        _ => field_expr(sql, table, source, field, params),
    }
    if represented.is_some() {
        sql.push(')');
    }
    if let Some(cast) = cast {
        push_all(sql, &[" AS ", cast, ")"]);
    }
    if aggregate.is_some() {
        close_aggregate(sql, aggregate_cast);
    }
    // An aggregate keeps PostgreSQL's name (the function's) unless aliased.
    let named = alias.is_some()
        || (aggregate.is_none()
            && field.name != "*"
            && (cast.is_some() || !field.json_path.is_empty() || represented.is_some()));
    select.end(start, named.then(|| value_name(item)), aggregate.is_some());
    Ok(())
}

/// Opens `[CAST(]AGGREGATE(` around a value; `close_aggregate` closes it.
pub(super) fn open_aggregate(sql: &mut String, f: AggregateFunction, cast: Option<&str>) {
    if cast.is_some() {
        sql.push_str("CAST(");
    }
    push_all(sql, &[f.sql(), "("]);
}

/// Closes `open_aggregate`: `)[ AS type)]`.
pub(super) fn close_aggregate(sql: &mut String, cast: Option<&str>) {
    sql.push(')');
    if let Some(cast) = cast {
        push_all(sql, &[" AS ", cast, ")"]);
    }
}

/// Every column of `source`: `source.*`, or, when some column's domain has
/// a cast to `json`, the columns one by one (as PostgREST expands `*`) with
/// those formatted by their cast functions.
fn star(select: &mut SelectList, table: &Table, source: &str) {
    if table
        .columns
        .iter()
        .all(|c| c.representation.to_json.is_none())
    {
        let start = select.start();
        push_all(&mut select.sql, &[source, ".*"]);
        select.end(start, None, false);
        return;
    }
    for c in &table.columns {
        match &c.representation.to_json {
            Some(function) => {
                let start = select.start();
                push_all(&mut select.sql, &[function, "("]);
                push_column(&mut select.sql, source, &c.name);
                select.sql.push(')');
                select.end(start, Some(&c.name), false);
            }
            None => select.column(source, &c.name),
        }
    }
}

/// The key a selected field gets in the output (a column: its name; a JSON
/// path: its last key; an aggregate: the function, as in PostgREST).
pub(super) fn output_name(item: &SelectField) -> &str {
    match (&item.alias, item.aggregate) {
        (None, Some(f)) => f.as_str(),
        _ => value_name(item),
    }
}

/// The key of a selected field's value, leaving out any aggregate.
fn value_name(item: &SelectField) -> &str {
    if let Some(alias) = &item.alias {
        return alias;
    }
    match item.field.json_path.last().map(|op| &op.operand) {
        Some(JsonOperand::Key(k)) => k,
        _ => &item.field.name,
    }
}

/// A cast target from the URL: letters, digits and `_`, optionally `[]`, so
/// it can be written as a type name (`int`, `text`, `float8[]`) safely.
pub(super) fn type_name(cast: &str) -> Result<&str, ApiError> {
    let base = cast.strip_suffix("[]").unwrap_or(cast);
    let ok = !base.is_empty()
        && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !base.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(cast)
    } else {
        Err(ApiError::ParseError {
            message: format!("\"failed to parse select parameter ({cast})\""),
            details: "a cast must be a type name".into(),
        })
    }
}

fn field_expr(out: &mut String, table: &Table, source: &str, field: &Field, params: &mut Params) {
    // JSON paths on array columns go through `to_jsonb`, as in PostgREST.
    let to_jsonb = !field.json_path.is_empty()
        && table
            .column(&field.name)
            .is_some_and(|c| c.data_type.ends_with("[]"));
    if to_jsonb {
        out.push_str("to_jsonb(");
    }
    push_column(out, source, &field.name);
    if to_jsonb {
        out.push(')');
    }
    for op in &field.json_path {
        out.push_str(match op.arrow {
            JsonArrow::Arrow => "->",
            JsonArrow::DoubleArrow => "->>",
        });
        let (operand, cast) = match &op.operand {
            JsonOperand::Key(k) => (k, "::text"),
            JsonOperand::Index(i) => (i, "::int"),
        };
        params.text(operand.clone()).push_to(out);
        out.push_str(cast);
    }
}

fn logic(out: &mut String, plan: &ReadPlan, source: &str, tree: &Condition, params: &mut Params) {
    match tree {
        Condition::Filter(filter) => condition(out, plan, source, filter, params),
        // As PostgREST: the lateral subquery's value (to-many) or row (to-one).
        Condition::NullEmbed {
            not_null,
            agg_alias,
        } => {
            push_ident(out, agg_alias);
            out.push_str(if *not_null {
                " IS DISTINCT FROM NULL"
            } else {
                " IS NOT DISTINCT FROM NULL"
            });
        }
        Condition::Expr {
            negated,
            op,
            children,
        } => {
            out.push_str(if *negated { "NOT (" } else { "(" });
            let mut parts = Separated::new(
                "",
                match op {
                    LogicOperator::And => " AND ",
                    LogicOperator::Or => " OR ",
                },
            );
            for c in children {
                parts.next(out);
                logic(out, plan, source, c, params);
            }
            out.push(')');
        }
    }
}

fn condition(
    out: &mut String,
    plan: &ReadPlan,
    source: &str,
    filter: &Filter,
    params: &mut Params,
) {
    if filter.expr.negated {
        out.push_str("NOT (");
    }
    match &filter.expr.operation {
        Operation::Fts {
            op,
            language,
            value,
        } => {
            // Text and JSON columns are searched through `to_tsvector`, as
            // PostgREST does; tsvector columns as they are. A text document
            // is a plain column, without parameters: the language's is
            // numbered after the field's either way.
            let text = is_text_document(plan, &filter.field);
            if !text {
                field_expr(out, plan.table, source, &filter.field, params);
            }
            let language = language.as_ref().map(|l| params.text(l.clone()));
            if text {
                out.push_str("to_tsvector(");
                push_language(out, language);
                field_expr(out, plan.table, source, &filter.field, params);
                out.push(')');
            }
            push_all(out, &[" @@ ", op.sql_function(), "("]);
            push_language(out, language);
            params.text(value.clone()).push_to(out);
            out.push(')');
        }
        operation => {
            field_expr(out, plan.table, source, &filter.field, params);
            comparison(out, plan, filter, operation, params);
        }
    }
    if filter.expr.negated {
        out.push(')');
    }
}

/// `$n::regconfig, `: a text search's language, when given.
fn push_language(out: &mut String, language: Option<Placeholder>) {
    if let Some(p) = language {
        p.push_to(out);
        out.push_str("::regconfig, ");
    }
}

/// Writes what follows the field of a filter (` = $1`, ` IS NULL`, …).
fn comparison(
    out: &mut String,
    plan: &ReadPlan,
    filter: &Filter,
    operation: &Operation,
    params: &mut Params,
) {
    // A domain with a cast from `text`: its function parses the values.
    let parse = plan
        .table
        .column(&filter.field.name)
        .and_then(|c| c.representation.from_text.as_deref())
        .filter(|_| filter.field.json_path.is_empty());
    let value = |out: &mut String, params: &mut Params, value: &str| {
        let p = params.text(value);
        match parse {
            Some(function) => {
                push_all(out, &[function, "("]);
                p.push_to(out);
                out.push_str("::text)");
            }
            None => p.push_to(out),
        }
    };
    match operation {
        Operation::Simple { op, value: v } => {
            push_all(out, &[" ", op.sql(), " "]);
            value(out, params, v);
        }
        Operation::Quant {
            op,
            quantifier,
            value: v,
        } => {
            push_all(out, &[" ", op.sql(), " "]);
            match quantifier {
                // A pattern is not a value of the domain (as PostgREST).
                None if matches!(op, QuantOperator::Like | QuantOperator::ILike) => {
                    params.text(v.clone()).push_to(out);
                }
                None => value(out, params, v),
                Some(q) => {
                    out.push_str(match q {
                        OpQuantifier::Any => "ANY(",
                        OpQuantifier::All => "ALL(",
                    });
                    params.text(v.clone()).push_to(out);
                    out.push(')');
                }
            }
        }
        // `in.()` (one empty value) is the empty list, as in PostgREST.
        Operation::In(values) if values.len() == 1 && values[0].is_empty() => {
            out.push_str(" = ANY('{}')");
        }
        Operation::In(values) => {
            let list = params.text(text_array(values));
            match parse {
                Some(function) => {
                    push_all(out, &[" = ANY(ARRAY(SELECT ", function, "(v) FROM unnest("]);
                    list.push_to(out);
                    out.push_str("::text[]) v))");
                }
                None => {
                    out.push_str(" = ANY(");
                    list.push_to(out);
                    out.push(')');
                }
            }
        }
        Operation::Is(v) => out.push_str(match v {
            IsValue::Null => " IS NULL",
            IsValue::NotNull => " IS NOT NULL",
            IsValue::True => " IS TRUE",
            IsValue::False => " IS FALSE",
            IsValue::Unknown => " IS UNKNOWN",
        }),
        Operation::IsDistinctFrom(v) => {
            out.push_str(" IS DISTINCT FROM ");
            value(out, params, v);
        }
        Operation::Fts { .. } => unreachable!("written by `condition`"),
    }
}

/// A plain column (no JSON path) of a text or JSON type.
fn is_text_document(plan: &ReadPlan, field: &Field) -> bool {
    field.json_path.is_empty()
        && plan.table.column(&field.name).is_some_and(|c| {
            matches!(c.data_type.as_str(), "text" | "json" | "jsonb")
                || c.data_type.starts_with("character")
        })
}

fn order_term(
    out: &mut String,
    plan: &ReadPlan,
    source: &str,
    term: &OrderTerm,
    params: &mut Params,
) {
    // `relation(col)`: a column of a to-one embed's lateral subquery.
    let embedded = term
        .relation
        .as_ref()
        .and_then(|alias| plan.embeds.iter().find(|e| &e.agg_alias == alias));
    match embedded {
        Some(e) => field_expr(out, e.plan.table, &ident(&e.agg_alias), &term.field, params),
        None => field_expr(out, plan.table, source, &term.field, params),
    }
    match term.direction {
        Some(OrderDirection::Asc) => out.push_str(" ASC"),
        Some(OrderDirection::Desc) => out.push_str(" DESC"),
        None => {}
    }
    match term.nulls {
        Some(OrderNulls::NullsFirst) => out.push_str(" NULLS FIRST"),
        Some(OrderNulls::NullsLast) => out.push_str(" NULLS LAST"),
        None => {}
    }
}
