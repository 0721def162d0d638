//! The SQL fragments statements are built from (PostgREST's `SqlFragment`):
//! fields and JSON paths, filters and logic trees, order terms, casts,
//! aggregates and select-list items. Every value goes to `Params`; every
//! name is quoted (`sql`).

use super::sql::{
    Params, Placeholder, Separated, ident, push_all, push_column, push_ident, text_array,
};
use crate::api_request::ast::{
    AggregateFunction, Field, Filter, IsValue, JsonArrow, JsonOperand, LogicOperator, OpQuantifier,
    Operation, OrderDirection, OrderNulls, OrderTerm, QuantOperator,
};
use crate::error::ApiError;
use crate::plan::read::{Condition, ReadPlan, SelectField};
use crate::schema_cache::Table;

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

/// Writes ` WHERE …`: `join_conditions` first, then (`filtered`) the
/// level's own conditions; nothing without any.
pub(super) fn push_where(
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

/// Writes ` WHERE …` for the request's root filters, or nothing (writes).
pub(super) fn push_filters(
    out: &mut String,
    plan: &ReadPlan,
    qualifier: &str,
    params: &mut Params,
) {
    push_where(out, plan, qualifier, "", true, params);
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

pub(super) fn order_term(
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

/// A level's select list, written into one buffer; when the level
/// aggregates, the other items' expressions are copied for its GROUP BY.
pub(super) struct SelectList {
    pub sql: String,
    items: Separated,
    /// The GROUP BY list when the level aggregates.
    pub group: Option<String>,
}

impl SelectList {
    pub fn new(aggregates: bool) -> SelectList {
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

/// Writes one selected field; `with_aggregate: false` selects the plain
/// value of a hoisted aggregate.
pub(super) fn select_item(
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

/// Every column of `source`: `source.*`, or, when some column's domain has
/// a cast to `json`, the columns one by one (as PostgREST expands `*`) with
/// those formatted by their cast functions.
pub(super) fn star(select: &mut SelectList, table: &Table, source: &str) {
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

/// ` LIMIT $n::bigint` (`keyword` and `value` as given).
pub(super) fn push_bigint(sql: &mut String, keyword: &str, value: i64, params: &mut Params) {
    sql.push_str(keyword);
    params.text(value.to_string()).push_to(sql);
    sql.push_str("::bigint");
}
