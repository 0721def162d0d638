//! SQL for reads. The main statement returns one row: the JSON body first
//! (streamed by the host), then the text columns `respond` needs.

use super::sql::{Params, ident, qualified, text_array};
use crate::api_request::ast::{
    Field, Filter, IsValue, JsonArrow, JsonOperand, LogicOperator, LogicTree, OpQuantifier,
    Operation, OrderDirection, OrderNulls, OrderTerm,
};
use crate::contract::{RowUse, Statement};
use crate::error::ApiError;
use crate::plan::read::{ReadPlan, SelectField};
use crate::schema_cache::Table;

/// How the body column is built from the selected rows (PostgREST's bodyF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

pub fn statements(
    plan: &ReadPlan,
    output: Output,
    count: Count,
    planned_count: bool,
) -> Result<ReadStatements, ApiError> {
    let mut params = Params::default();
    let source = qualified(&plan.table.schema, &plan.table.name);
    let filters = where_clause(plan, &source, &mut params)?;
    let planned_count = planned_count.then(|| Statement {
        sql: format!("EXPLAIN (FORMAT JSON) SELECT 1 FROM {source}{filters}"),
        params: params.snapshot(),
        rows: RowUse::ToRespond,
    });

    let select = plan
        .select
        .iter()
        .map(|item| select_item(plan.table, &source, item, &mut params))
        .collect::<Result<Vec<_>, _>>()?
        .join(", ");
    let mut page = format!("SELECT {select} FROM {source}{filters}");
    if !plan.order.is_empty() {
        let terms: Vec<String> = plan
            .order
            .iter()
            .map(|t| order_term(plan.table, &source, t, &mut params))
            .collect();
        page.push_str(" ORDER BY ");
        page.push_str(&terms.join(", "));
    }
    if let Some(limit) = plan.limit {
        let p = params.text(limit.to_string());
        page.push_str(&format!(" LIMIT {p}::bigint"));
    }
    if plan.offset > 0 {
        let p = params.text(plan.offset.to_string());
        page.push_str(&format!(" OFFSET {p}::bigint"));
    }

    let (count_cte, total) = match count {
        Count::None => (String::new(), "null::text"),
        Count::Exact | Count::UpTo(_) => {
            let limit = match count {
                Count::UpTo(n) => format!(" LIMIT {}::bigint", params.text(n.to_string())),
                _ => String::new(),
            };
            (
                format!(", pgrst_source_count AS (SELECT 1 FROM {source}{filters}{limit})"),
                "(SELECT pg_catalog.count(*) FROM pgrst_source_count)::text",
            )
        }
    };
    let body = body(output);
    Ok(ReadStatements {
        main: Statement {
            sql: format!(
                "WITH {SOURCE} AS ({page}){count_cte} \
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
const RESPONSE_COLUMNS: &str = "pg_catalog.count(_postgrest_t)::text AS page_total, \
     nullif(current_setting('response.headers', true), '') AS response_headers, \
     nullif(current_setting('response.status', true), '') AS response_status";

/// ` WHERE …` for the root filters, or nothing.
fn where_clause(plan: &ReadPlan, source: &str, params: &mut Params) -> Result<String, ApiError> {
    if plan.conditions.is_empty() {
        return Ok(String::new());
    }
    let conds: Vec<String> = plan
        .conditions
        .iter()
        .map(|c| logic(plan, source, c, params))
        .collect::<Result<_, _>>()?;
    Ok(format!(" WHERE {}", conds.join(" AND ")))
}

fn body(output: Output) -> String {
    let strip = |json: &str| {
        if output.strip_nulls {
            format!("json_strip_nulls({json})")
        } else {
            json.to_string()
        }
    };
    match output.shape {
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
                 (SELECT * FROM {SOURCE} LIMIT 1) h) keys) \
             || '\n' || \
             coalesce(string_agg(substring(_postgrest_t::text, 2, length(_postgrest_t::text) - 2), '\n'), '')"
        ),
    }
}

fn select_item(
    table: &Table,
    source: &str,
    item: &SelectField,
    params: &mut Params,
) -> Result<String, ApiError> {
    let SelectField { field, alias, cast } = item;
    if field.name == "*" {
        return Ok(format!("{source}.*"));
    }
    let mut expr = field_expr(table, source, field, params);
    if let Some(cast) = cast {
        expr = format!("CAST({expr} AS {})", type_name(cast)?);
    }
    // A JSON path's value is named after its last key, as in PostgREST.
    let name = alias.clone().or_else(|| match field.json_path.last() {
        Some(op) => Some(match &op.operand {
            JsonOperand::Key(k) => k.clone(),
            JsonOperand::Index(_) => field.name.clone(),
        }),
        None => cast.as_ref().map(|_| field.name.clone()),
    });
    Ok(match name {
        Some(n) => format!("{expr} AS {}", ident(&n)),
        None => expr,
    })
}

/// A cast target from the URL: letters, digits and `_`, optionally `[]`, so
/// it can be written as a type name (`int`, `text`, `float8[]`) safely.
fn type_name(cast: &str) -> Result<String, ApiError> {
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
    tree: &LogicTree,
    params: &mut Params,
) -> Result<String, ApiError> {
    match tree {
        LogicTree::Stmnt(filter) => condition(plan, source, filter, params),
        LogicTree::Expr {
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
    let expr = match &filter.expr.operation {
        Operation::Simple { op, value } => {
            format!("{field} {} {}", op.sql(), params.text(value.clone()))
        }
        Operation::Quant {
            op,
            quantifier,
            value,
        } => {
            let p = params.text(value.clone());
            match quantifier {
                None => format!("{field} {} {p}", op.sql()),
                Some(OpQuantifier::Any) => format!("{field} {} ANY({p})", op.sql()),
                Some(OpQuantifier::All) => format!("{field} {} ALL({p})", op.sql()),
            }
        }
        // `in.()` (one empty value) is the empty list, as in PostgREST.
        Operation::In(values) if values.len() == 1 && values[0].is_empty() => {
            format!("{field} = ANY('{{}}')")
        }
        Operation::In(values) => format!("{field} = ANY({})", params.text(text_array(values))),
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
        Operation::IsDistinctFrom(value) => {
            format!("{field} IS DISTINCT FROM {}", params.text(value.clone()))
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

fn order_term(table: &Table, source: &str, term: &OrderTerm, params: &mut Params) -> String {
    let mut sql = field_expr(table, source, &term.field, params);
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
