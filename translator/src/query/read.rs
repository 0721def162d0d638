//! SQL for reads. The main statement returns one row: the JSON body first
//! (streamed by the host), then the text columns `respond` needs.

use super::embed;
use super::sql::{Params, ident, qualified, text_array};
use crate::api_request::ast::{
    Field, Filter, IsValue, JsonArrow, JsonOperand, LogicOperator, OpQuantifier, Operation,
    OrderDirection, OrderNulls, OrderTerm, QuantOperator,
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
    /// A function call: writes the `SELECT` of its rows (the `pgrst_call`
    /// CTE), adding its values to the statement's parameters.
    Call(&'s dyn Fn(&mut Params) -> String),
}

impl Source<'_> {
    /// `WITH` items before the page, and the FROM item of the root rows.
    fn sql(self, plan: &ReadPlan, row: &str, params: &mut Params) -> (String, String) {
        match self {
            Source::Relation => (
                String::new(),
                qualified(&plan.table.schema, &plan.table.name),
            ),
            Source::Call(call) => (
                format!("pgrst_call AS ({}), ", call(params)),
                format!("pgrst_call AS {row}"),
            ),
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
        let with = match with.strip_suffix(", ") {
            Some(items) => format!("WITH {items} "),
            None => String::new(),
        };
        let root = level(plan, &row, Vec::new(), &mut params)?;
        Some(Statement {
            sql: format!(
                "EXPLAIN (FORMAT JSON) {with}SELECT 1 FROM {from}{}{}",
                root.joins, root.filters
            ),
            params: params.into_vec()[..root.source_params].to_vec(),
            rows: RowUse::ToRespond,
        })
    } else {
        None
    };

    let mut params = Params::default();
    let (with, source) = source.sql(plan, &row, &mut params);
    let root = level(plan, &row, Vec::new(), &mut params)?;
    let page = format!(
        "SELECT {} FROM {source}{}{}{}",
        root.select, root.joins, root.filters, root.tail
    );
    let (count_cte, total) = match count {
        Count::None => (String::new(), "null::text"),
        Count::Exact | Count::UpTo(_) => {
            let limit = match count {
                Count::UpTo(n) => format!(" LIMIT {}::bigint", params.text(n.to_string())),
                _ => String::new(),
            };
            // Embeds change the count only when they filter the rows.
            let joins = if embed::filters_parent(plan) {
                root.joins.as_str()
            } else {
                ""
            };
            (
                format!(
                    ", pgrst_source_count AS (SELECT 1 FROM {source}{joins}{}{limit})",
                    root.filters
                ),
                "(SELECT pg_catalog.count(*) FROM pgrst_source_count)::text",
            )
        }
    };
    let body = body(&output, SOURCE);
    Ok(ReadStatements {
        main: Statement {
            sql: format!(
                "WITH {with}{SOURCE} AS ({page}){count_cte} \
                 SELECT {body} AS body, {total} AS total_result_set, {RESPONSE_COLUMNS} \
                 FROM (SELECT * FROM {SOURCE}) _postgrest_t"
            ),
            params: params.into_vec(),
            rows: RowUse::Body,
        },
        planned_count,
    })
}

/// The columns after the body and the total, in this order, read by
/// `response::read`.
pub(super) const RESPONSE_COLUMNS: &str = "pg_catalog.count(_postgrest_t)::text AS page_total, \
     nullif(current_setting('response.headers', true), '') AS response_headers, \
     nullif(current_setting('response.status', true), '') AS response_status";

/// The SQL pieces of one level of a read, its rows referenced as
/// `qualifier` (a table name or an alias): `SELECT {select} FROM …{joins}
/// {filters}{tail}`.
pub(super) struct Level {
    /// The select list, embedded values included.
    pub select: String,
    /// ` LEFT JOIN LATERAL (…) AS … ON …` for each embed.
    pub joins: String,
    /// ` WHERE …` (the join conditions first), or nothing.
    pub filters: String,
    /// ` ORDER BY … LIMIT … OFFSET …`, or nothing.
    pub tail: String,
    /// How many parameters `joins` and `filters` use (the first ones).
    pub source_params: usize,
}

pub(super) fn level(
    plan: &ReadPlan,
    qualifier: &str,
    join_conditions: Vec<String>,
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
    build_level(plan, qualifier, Vec::new(), false, params)
}

/// ` WHERE …` for the request's root filters, or nothing (writes).
pub(super) fn filters(
    plan: &ReadPlan,
    qualifier: &str,
    params: &mut Params,
) -> Result<String, ApiError> {
    Ok(where_clause(conditions(
        plan,
        qualifier,
        Vec::new(),
        params,
    )?))
}

fn conditions(
    plan: &ReadPlan,
    qualifier: &str,
    mut conds: Vec<String>,
    params: &mut Params,
) -> Result<Vec<String>, ApiError> {
    for c in &plan.conditions {
        conds.push(logic(plan, qualifier, c, params)?);
    }
    Ok(conds)
}

fn where_clause(conds: Vec<String>) -> String {
    if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    }
}

fn build_level(
    plan: &ReadPlan,
    qualifier: &str,
    join_conditions: Vec<String>,
    filtered: bool,
    params: &mut Params,
) -> Result<Level, ApiError> {
    // Joins and filters take their parameters first: a statement that only
    // needs the rows (the planned count) keeps the first `source_params`.
    let embeds = embed::joins(plan, qualifier, params)?;
    let conds = if filtered {
        conditions(plan, qualifier, join_conditions, params)?
    } else {
        join_conditions
    };
    let filters = where_clause(conds);
    let source_params = params.len();

    let mut select = Vec::new();
    for item in &plan.select {
        match item.aggregate {
            // Hoisted to the parent: the plain value (`count()`: nothing).
            Some(_) if plan.hoist_aggregates => {
                if item.field.name != "*" {
                    let plain = SelectField {
                        field: item.field.clone(),
                        alias: item.alias.clone(),
                        cast: item.cast.clone(),
                        aggregate: None,
                        aggregate_cast: None,
                    };
                    select.push(select_item(plan.table, qualifier, &plain, params)?);
                }
            }
            None if item.field.name == "*" => select.extend(star(plan.table, qualifier)),
            _ => select.push(select_item(plan.table, qualifier, item, params)?),
        }
    }
    // Nothing selected and nothing embedded: every column (the empty embed
    // `actors()` still needs its rows).
    if plan.select.is_empty() && plan.embeds.is_empty() {
        select.extend(star(plan.table, qualifier));
    }
    // Aggregates group by everything else selected, embeds included.
    select.extend(embeds.selects);
    let aggregated = select.iter().any(|s| s.aggregated);
    let group: Vec<String> = select
        .iter()
        .filter(|s| !s.aggregated)
        .map(|s| s.expr.clone())
        .collect();
    let select: Vec<String> = select.iter().map(Selected::sql).collect();

    let mut tail = String::new();
    if aggregated && !group.is_empty() {
        tail.push_str(" GROUP BY ");
        tail.push_str(&group.join(", "));
    }
    if !plan.order.is_empty() {
        let terms: Vec<String> = plan
            .order
            .iter()
            .map(|t| order_term(plan, qualifier, t, params))
            .collect();
        tail.push_str(" ORDER BY ");
        tail.push_str(&terms.join(", "));
    }
    if let Some(limit) = plan.limit {
        let p = params.text(limit.to_string());
        tail.push_str(&format!(" LIMIT {p}::bigint"));
    }
    if plan.offset > 0 {
        let p = params.text(plan.offset.to_string());
        tail.push_str(&format!(" OFFSET {p}::bigint"));
    }
    Ok(Level {
        select: select.join(", "),
        joins: embeds.sql,
        filters,
        tail,
        source_params,
    })
}

/// The body column over the rows named `rows` (`_postgrest_t` in the
/// outer query).
pub(super) fn body(output: &Output, rows: &str) -> String {
    let strip = |json: &str| {
        if output.strip_nulls {
            format!("json_strip_nulls({json})")
        } else {
            json.to_string()
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
            format!("{aggregate}({row})::{cast}")
        }
        BodyShape::JsonArray => format!("coalesce({}, '[]')", strip("json_agg(_postgrest_t)")),
        BodyShape::JsonObject => {
            format!("coalesce({}, 'null')", strip("json_agg(_postgrest_t)->0"))
        }
        BodyShape::GeoJson => "json_build_object('type', 'FeatureCollection', 'features', \
             coalesce(json_agg(ST_AsGeoJSON(_postgrest_t)::json), '[]'))"
            .to_string(),
        // The header comes from the first row's keys, so a CSV body of no
        // rows is a lone newline, as in PostgREST.
        BodyShape::Csv => format!(
            "(SELECT coalesce(string_agg(k, ','), '') FROM \
               (SELECT json_object_keys(row_to_json(h)) AS k FROM \
                 (SELECT * FROM {rows} LIMIT 1) h) keys) \
             || '\n' || \
             coalesce(string_agg(substring(_postgrest_t::text, 2, length(_postgrest_t::text) - 2), '\n'), '')"
        ),
    }
}

/// One item of a select list: `expr AS name`, or `expr` when PostgreSQL's
/// own column name is the one PostgREST gives.
pub(super) struct Selected {
    pub expr: String,
    pub name: Option<String>,
    /// An aggregate: the other items of its level are grouped.
    pub aggregated: bool,
}

impl Selected {
    pub fn sql(&self) -> String {
        match &self.name {
            Some(n) => format!("{} AS {}", self.expr, ident(n)),
            None => self.expr.clone(),
        }
    }
}

fn select_item(
    table: &Table,
    source: &str,
    item: &SelectField,
    params: &mut Params,
) -> Result<Selected, ApiError> {
    let SelectField {
        field,
        alias,
        cast,
        aggregate,
        aggregate_cast,
    } = item;
    let represented = table
        .column(&field.name)
        .and_then(|c| c.representation.to_json.as_deref())
        .filter(|_| field.json_path.is_empty() && cast.is_none() && aggregate.is_none());
    let mut expr = if field.name == "*" {
        // `*`, or `count()`.
        match aggregate {
            Some(_) => "*".to_string(),
            None => format!("{source}.*"),
        }
    } else {
        field_expr(table, source, field, params)
    };
    // A domain with a cast to `json`: its function formats the value.
    if let Some(function) = represented {
        expr = format!("{function}({expr})");
    }
    if let Some(cast) = cast {
        expr = format!("CAST({expr} AS {})", type_name(cast)?);
    }
    if let Some(f) = aggregate {
        expr = format!("{}({expr})", f.as_str().to_uppercase());
        if let Some(cast) = aggregate_cast {
            expr = format!("CAST({expr} AS {})", type_name(cast)?);
        }
    }
    // An aggregate keeps PostgreSQL's name (the function's) unless aliased.
    let named = alias.is_some()
        || (aggregate.is_none()
            && field.name != "*"
            && (cast.is_some() || !field.json_path.is_empty() || represented.is_some()));
    Ok(Selected {
        expr,
        name: named.then(|| output_name(item)),
        aggregated: aggregate.is_some(),
    })
}

/// Every column of `source`: `source.*`, or, when some column's domain has
/// a cast to `json`, the columns one by one (as PostgREST expands `*`) with
/// those formatted by their cast functions.
fn star(table: &Table, source: &str) -> Vec<Selected> {
    if table
        .columns
        .iter()
        .all(|c| c.representation.to_json.is_none())
    {
        return vec![Selected {
            expr: format!("{source}.*"),
            name: None,
            aggregated: false,
        }];
    }
    table
        .columns
        .iter()
        .map(|c| {
            let column = format!("{source}.{}", ident(&c.name));
            match &c.representation.to_json {
                Some(function) => Selected {
                    expr: format!("{function}({column})"),
                    name: Some(c.name.clone()),
                    aggregated: false,
                },
                None => Selected {
                    expr: column,
                    name: None,
                    aggregated: false,
                },
            }
        })
        .collect()
}

/// The key a selected field gets in the output (a column: its name; a JSON
/// path: its last key; an aggregate: the function, as in PostgREST).
pub(super) fn output_name(item: &SelectField) -> String {
    if let Some(alias) = &item.alias {
        return alias.clone();
    }
    if let Some(f) = item.aggregate {
        return f.as_str().to_string();
    }
    match item.field.json_path.last().map(|op| &op.operand) {
        Some(JsonOperand::Key(k)) => k.clone(),
        _ => item.field.name.clone(),
    }
}

/// A cast target from the URL: letters, digits and `_`, optionally `[]`, so
/// it can be written as a type name (`int`, `text`, `float8[]`) safely.
pub(super) fn type_name(cast: &str) -> Result<String, ApiError> {
    let base = cast.strip_suffix("[]").unwrap_or(cast);
    let ok = !base.is_empty()
        && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !base.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(cast.to_string())
    } else {
        Err(ApiError::ParseError {
            message: format!("\"failed to parse select parameter ({cast})\""),
            details: "a cast must be a type name".into(),
        })
    }
}

fn field_expr(table: &Table, source: &str, field: &Field, params: &mut Params) -> String {
    let mut expr = format!("{source}.{}", ident(&field.name));
    // JSON paths on array columns go through `to_jsonb`, as in PostgREST.
    let is_array = table
        .column(&field.name)
        .is_some_and(|c| c.data_type.ends_with("[]"));
    if is_array && !field.json_path.is_empty() {
        expr = format!("to_jsonb({expr})");
    }
    for op in &field.json_path {
        let arrow = match op.arrow {
            JsonArrow::Arrow => "->",
            JsonArrow::DoubleArrow => "->>",
        };
        let operand = match &op.operand {
            JsonOperand::Key(k) => format!("{}::text", params.text(k.clone())),
            JsonOperand::Index(i) => format!("{}::int", params.text(i.clone())),
        };
        expr = format!("{expr}{arrow}{operand}");
    }
    expr
}

fn logic(
    plan: &ReadPlan,
    source: &str,
    tree: &Condition,
    params: &mut Params,
) -> Result<String, ApiError> {
    match tree {
        Condition::Filter(filter) => condition(plan, source, filter, params),
        // As PostgREST: the lateral subquery's value (to-many) or row (to-one).
        Condition::NullEmbed {
            not_null,
            agg_alias,
        } => Ok(format!(
            "{} IS {}DISTINCT FROM NULL",
            ident(agg_alias),
            if *not_null { "" } else { "NOT " }
        )),
        Condition::Expr {
            negated,
            op,
            children,
        } => {
            let joiner = match op {
                LogicOperator::And => " AND ",
                LogicOperator::Or => " OR ",
            };
            let parts: Vec<String> = children
                .iter()
                .map(|c| logic(plan, source, c, params))
                .collect::<Result<_, _>>()?;
            let expr = format!("({})", parts.join(joiner));
            Ok(if *negated {
                format!("NOT {expr}")
            } else {
                expr
            })
        }
    }
}

fn condition(
    plan: &ReadPlan,
    source: &str,
    filter: &Filter,
    params: &mut Params,
) -> Result<String, ApiError> {
    let field = field_expr(plan.table, source, &filter.field, params);
    // A domain with a cast from `text`: its function parses the values.
    let parse = plan
        .table
        .column(&filter.field.name)
        .and_then(|c| c.representation.from_text.as_deref())
        .filter(|_| filter.field.json_path.is_empty());
    let value = |params: &mut Params, value: &str| {
        let p = params.text(value.to_string());
        match parse {
            Some(function) => format!("{function}({p}::text)"),
            None => p.to_string(),
        }
    };
    let expr = match &filter.expr.operation {
        Operation::Simple { op, value: v } => {
            format!("{field} {} {}", op.sql(), value(params, v))
        }
        Operation::Quant {
            op,
            quantifier,
            value: v,
        } => match quantifier {
            // A pattern is not a value of the domain (as PostgREST).
            None if matches!(op, QuantOperator::Like | QuantOperator::ILike) => {
                format!("{field} {} {}", op.sql(), params.text(v.clone()))
            }
            None => format!("{field} {} {}", op.sql(), value(params, v)),
            Some(q) => {
                let p = params.text(v.clone());
                let q = match q {
                    OpQuantifier::Any => "ANY",
                    OpQuantifier::All => "ALL",
                };
                format!("{field} {} {q}({p})", op.sql())
            }
        },
        // `in.()` (one empty value) is the empty list, as in PostgREST.
        Operation::In(values) if values.len() == 1 && values[0].is_empty() => {
            format!("{field} = ANY('{{}}')")
        }
        Operation::In(values) => {
            let list = params.text(text_array(values));
            match parse {
                Some(function) => format!(
                    "{field} = ANY(ARRAY(SELECT {function}(v) FROM unnest({list}::text[]) v))"
                ),
                None => format!("{field} = ANY({list})"),
            }
        }
        Operation::Is(v) => format!(
            "{field} IS {}",
            match v {
                IsValue::Null => "NULL",
                IsValue::NotNull => "NOT NULL",
                IsValue::True => "TRUE",
                IsValue::False => "FALSE",
                IsValue::Unknown => "UNKNOWN",
            }
        ),
        Operation::IsDistinctFrom(v) => {
            format!("{field} IS DISTINCT FROM {}", value(params, v))
        }
        Operation::Fts {
            op,
            language,
            value,
        } => {
            let language = language
                .as_ref()
                .map(|l| format!("{}::regconfig, ", params.text(l.clone())));
            let language = language.as_deref().unwrap_or("");
            // Text and JSON columns are searched through `to_tsvector`, as
            // PostgREST does; tsvector columns as they are.
            let document = if is_text_document(plan, &filter.field) {
                format!("to_tsvector({language}{field})")
            } else {
                field
            };
            let query = params.text(value.clone());
            format!("{document} @@ {}({language}{query})", op.sql_function())
        }
    };
    Ok(if filter.expr.negated {
        format!("NOT ({expr})")
    } else {
        expr
    })
}

/// A plain column (no JSON path) of a text or JSON type.
fn is_text_document(plan: &ReadPlan, field: &Field) -> bool {
    field.json_path.is_empty()
        && plan.table.column(&field.name).is_some_and(|c| {
            matches!(c.data_type.as_str(), "text" | "json" | "jsonb")
                || c.data_type.starts_with("character")
        })
}

fn order_term(plan: &ReadPlan, source: &str, term: &OrderTerm, params: &mut Params) -> String {
    // `relation(col)`: a column of a to-one embed's lateral subquery.
    let embedded = term
        .relation
        .as_ref()
        .and_then(|alias| plan.embeds.iter().find(|e| &e.agg_alias == alias));
    let mut sql = match embedded {
        Some(e) => field_expr(e.plan.table, &ident(&e.agg_alias), &term.field, params),
        None => field_expr(plan.table, source, &term.field, params),
    };
    match term.direction {
        Some(OrderDirection::Asc) => sql.push_str(" ASC"),
        Some(OrderDirection::Desc) => sql.push_str(" DESC"),
        None => {}
    }
    match term.nulls {
        Some(OrderNulls::NullsFirst) => sql.push_str(" NULLS FIRST"),
        Some(OrderNulls::NullsLast) => sql.push_str(" NULLS LAST"),
        None => {}
    }
    sql
}
