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

/// The columns after the body, in this order, read by `response::read`.
pub const RESPONSE_COLUMNS: &str = "null::text AS total_result_set, \
     pg_catalog.count(_postgrest_t)::text AS page_total, \
     nullif(current_setting('response.headers', true), '') AS response_headers, \
     nullif(current_setting('response.status', true), '') AS response_status";

pub fn statement(plan: &ReadPlan) -> Result<Statement, ApiError> {
    let mut params = Params::default();
    let source = qualified(&plan.table.schema, &plan.table.name);
    let select = plan
        .select
        .iter()
        .map(|item| select_item(&source, item, &mut params))
        .collect::<Result<Vec<_>, _>>()?
        .join(", ");
    let mut sql = format!("SELECT {select} FROM {source}");
    if !plan.conditions.is_empty() {
        let conds: Vec<String> = plan
            .conditions
            .iter()
            .map(|c| logic(&source, c, &mut params))
            .collect::<Result<_, _>>()?;
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    if !plan.order.is_empty() {
        let terms: Vec<String> = plan
            .order
            .iter()
            .map(|t| order_term(&source, t, &mut params))
            .collect();
        sql.push_str(" ORDER BY ");
        sql.push_str(&terms.join(", "));
    }
    if let Some(limit) = plan.limit {
        let p = params.text(limit.to_string());
        sql.push_str(&format!(" LIMIT {p}::bigint"));
    }
    if plan.offset > 0 {
        let p = params.text(plan.offset.to_string());
        sql.push_str(&format!(" OFFSET {p}::bigint"));
    }
    Ok(Statement {
        sql: format!(
            "SELECT coalesce(json_agg(_postgrest_t), '[]') AS body, {RESPONSE_COLUMNS} FROM ({sql}) _postgrest_t"
        ),
        params: params.into_vec(),
        rows: RowUse::Body,
    })
}

fn select_item(source: &str, item: &SelectField, params: &mut Params) -> Result<String, ApiError> {
    let SelectField { field, alias, cast } = item;
    if field.name == "*" {
        return Ok(format!("{source}.*"));
    }
    let mut expr = field_expr(source, field, params);
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
            param: "select".into(),
            value: cast.to_string(),
            details: "a cast must be a type name".into(),
        })
    }
}

fn field_expr(source: &str, field: &Field, params: &mut Params) -> String {
    let mut expr = format!("{source}.{}", ident(&field.name));
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

fn logic(source: &str, tree: &LogicTree, params: &mut Params) -> Result<String, ApiError> {
    match tree {
        LogicTree::Stmnt(filter) => condition(source, filter, params),
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
                .map(|c| logic(source, c, params))
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

fn condition(source: &str, filter: &Filter, params: &mut Params) -> Result<String, ApiError> {
    let field = field_expr(source, &filter.field, params);
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
            let query = match language {
                Some(lang) => {
                    let l = params.text(lang.clone());
                    format!(
                        "{}({l}::regconfig, {})",
                        op.sql_function(),
                        params.text(value.clone())
                    )
                }
                None => format!("{}({})", op.sql_function(), params.text(value.clone())),
            };
            format!("{field} @@ {query}")
        }
    };
    Ok(if filter.expr.negated {
        format!("NOT ({expr})")
    } else {
        expr
    })
}

fn order_term(source: &str, term: &OrderTerm, params: &mut Params) -> String {
    let mut sql = field_expr(source, &term.field, params);
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
