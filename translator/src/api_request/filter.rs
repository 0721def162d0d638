//! Filters (`col=[not.]op.value`), `and`/`or` trees and the key paths
//! (`embed.path.col->json`) they are attached to.
//!
//! ```text
//! op_expr   := ["not."] operation
//! operation := "in." list | "is." is_val | "isdistinct." value
//!            | fts_op ["(" ident ")"] "." value
//!            | simple_op "." value
//!            | quant_op ["(any)" | "(all)"] "." value
//! list      := ws "(" elem {"," elem} ")" ws      elem := quoted | [^,)]*
//! logic     := field "." op_expr                  (values end at `,` or `)`)
//!            | ["not."] ("and" | "or") ws "(" ws logic {ws "," ws logic} ws ")" ws
//! tree_path := name {"." name} json_path
//! ```
//!
//! A filter value ends after `in.(…)` or `is.null`, and a key path at the
//! first character it cannot use; the caller then requires the end of the
//! input (PostgREST does not: `is.nullx` is `is.null` there).

use super::ast::{
    EmbedPath, Field, Filter, FtsOperator, IsValue, LogicOperator, LogicTree, OpExpr, OpQuantifier,
    Operation, QuantOperator, SimpleOperator,
};
use super::cursor::{Cursor, MAX_DEPTH, PResult};

const OPERATOR: &str = "operator (eq, gt, ...)";
const DELIMITER: &str = "delimiter (.)";

/// Where an operator's value ends.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueKind {
    /// A query-parameter value: everything to the end.
    Rest,
    /// Inside `and`/`or`: up to `,` or `)` unless quoted or a `{…}` array.
    Logic,
}

/// `[not.]operation`.
pub(crate) fn op_expr(c: &mut Cursor, kind: ValueKind) -> PResult<OpExpr> {
    let negated = if c.starts_with("not.") {
        c.pos += 4;
        true
    } else {
        let _ = c.expect_str("not");
        false
    };
    let operation = operation(c, kind)?;
    Ok(OpExpr { negated, operation })
}

fn operation(c: &mut Cursor, kind: ValueKind) -> PResult<Operation> {
    let start = c.pos;
    if c.starts_with("in.") {
        c.pos += 3;
        return Ok(Operation::In(list_val(c)?));
    }
    if c.starts_with("is.") {
        c.pos += 3;
        return Ok(Operation::Is(is_val(c)?));
    }
    if c.starts_with("isdistinct.") {
        c.pos += "isdistinct.".len();
        return Ok(Operation::IsDistinctFrom(value(c, kind)));
    }
    let mut word = String::new();
    while let Some(ch) = c.peek() {
        if ch == '.' || ch == '(' {
            break;
        }
        word.push(ch);
        c.pos += 1;
    }
    let parsed = if let Some(op) = FtsOperator::from_name(&word) {
        fts(c, op, kind)
    } else if let Some(op) = SimpleOperator::from_name(&word) {
        delimiter(c).map(|()| Operation::Simple {
            op,
            value: value(c, kind),
        })
    } else if let Some(op) = QuantOperator::from_name(&word) {
        quant(c, op, kind)
    } else {
        None
    };
    match parsed {
        Some(op) => Ok(op),
        None => {
            c.pos = start;
            c.fail(&[OPERATOR])
        }
    }
}

fn delimiter(c: &mut Cursor) -> Option<()> {
    c.expect_char('.', DELIMITER).ok()
}

fn fts(c: &mut Cursor, op: FtsOperator, kind: ValueKind) -> Option<Operation> {
    let mut language = None;
    if c.peek() == Some('(') {
        let save = c.pos;
        c.pos += 1;
        match c.plain_identifier() {
            Ok(lang) if c.peek() == Some(')') => {
                c.pos += 1;
                language = Some(lang);
            }
            _ => {
                let _ = c.expect_char(')', "\")\"");
                c.pos = save;
            }
        }
    }
    delimiter(c)?;
    Some(Operation::Fts {
        op,
        language,
        value: value(c, kind),
    })
}

fn quant(c: &mut Cursor, op: QuantOperator, kind: ValueKind) -> Option<Operation> {
    let quantifier = if c.starts_with("(any)") {
        c.pos += 5;
        Some(OpQuantifier::Any)
    } else if c.starts_with("(all)") {
        c.pos += 5;
        Some(OpQuantifier::All)
    } else {
        if c.peek() == Some('(') {
            c.pos += 1;
            let _ = c.expect_str("any");
            let _ = c.expect_str("all");
            c.pos -= 1;
        }
        None
    };
    delimiter(c)?;
    let mut value = value(c, kind);
    if matches!(op, QuantOperator::Like | QuantOperator::ILike) {
        value = value.replace('*', "%");
    }
    Some(Operation::Quant {
        op,
        quantifier,
        value,
    })
}

fn value(c: &mut Cursor, kind: ValueKind) -> String {
    match kind {
        ValueKind::Rest => c.take_rest(),
        ValueKind::Logic => logic_single_val(c),
    }
}

/// `null`, `not_null`, `true`, `false`, `unknown`, ASCII case-insensitively.
fn is_val(c: &mut Cursor) -> PResult<IsValue> {
    let values = [
        ("null", IsValue::Null),
        ("not_null", IsValue::NotNull),
        ("true", IsValue::True),
        ("false", IsValue::False),
        ("unknown", IsValue::Unknown),
    ];
    for (word, v) in values {
        let n = word.len();
        let matches = word
            .chars()
            .enumerate()
            .all(|(i, w)| c.peek_at(i).is_some_and(|ch| ch.eq_ignore_ascii_case(&w)));
        if matches {
            c.pos += n;
            return Ok(v);
        }
    }
    c.fail(&["isVal: (null, not_null, true, false, unknown)"])
}

/// `(a,"b,c",d)`.
fn list_val(c: &mut Cursor) -> PResult<Vec<String>> {
    c.ws();
    c.expect_char('(', "\"(\"")?;
    c.ws();
    let mut items = vec![list_element(c)];
    while c.peek() == Some(',') {
        c.pos += 1;
        items.push(list_element(c));
    }
    c.ws();
    c.expect_char(')', "\")\"")?;
    c.ws();
    Ok(items)
}

/// A quoted value followed by `,` / `)` / the end, else raw text up to `,` / `)`.
fn quoted_element(c: &mut Cursor) -> Option<String> {
    if c.peek() != Some('"') {
        return None;
    }
    let save = c.pos;
    match c.quoted_value() {
        Ok(v) if matches!(c.peek(), None | Some(',') | Some(')')) => Some(v),
        _ => {
            c.pos = save;
            None
        }
    }
}

fn raw_element(c: &mut Cursor) -> String {
    let mut out = String::new();
    while let Some(ch) = c.peek() {
        if ch == ',' || ch == ')' {
            break;
        }
        out.push(ch);
        c.pos += 1;
    }
    out
}

fn list_element(c: &mut Cursor) -> String {
    quoted_element(c).unwrap_or_else(|| raw_element(c))
}

/// A value inside `and`/`or`: quoted, a `{…}` array literal, or raw text.
fn logic_single_val(c: &mut Cursor) -> String {
    if let Some(v) = quoted_element(c) {
        return v;
    }
    if c.peek() == Some('{') {
        let save = c.pos;
        let mut out = String::from("{");
        c.pos += 1;
        while let Some(ch) = c.peek() {
            if ch == '{' || ch == '}' {
                break;
            }
            out.push(ch);
            c.pos += 1;
        }
        if c.peek() == Some('}') {
            c.pos += 1;
            out.push('}');
            return out;
        }
        c.pos = save;
    }
    raw_element(c)
}

/// The parsed `and=`/`or=` value: `op` is `and`, `or`, `not.and` or `not.or`
/// and `c` holds `op` followed by the value.
pub(crate) fn logic_tree(c: &mut Cursor, depth: usize) -> PResult<LogicTree> {
    let start = c.pos;
    match logic_filter(c) {
        Ok(f) => return Ok(LogicTree::Stmnt(f)),
        Err(_) => c.pos = start,
    }
    let negated = if c.starts_with("not.") {
        c.pos += 4;
        true
    } else {
        c.note(&["negation operator (not)"]);
        false
    };
    let op = if c.starts_with("and") {
        c.pos += 3;
        LogicOperator::And
    } else if c.starts_with("or") {
        c.pos += 2;
        LogicOperator::Or
    } else {
        return c.fail(&["logic operator (and, or)"]);
    };
    if depth >= MAX_DEPTH {
        return c.fatal(format!(
            "logic trees are nested more than {MAX_DEPTH} levels deep"
        ));
    }
    c.ws();
    c.expect_char('(', "\"(\"")?;
    c.ws();
    let mut children = vec![logic_tree(c, depth + 1)?];
    loop {
        c.ws();
        if c.peek() != Some(',') {
            c.note(&["\",\""]);
            break;
        }
        c.pos += 1;
        c.ws();
        children.push(logic_tree(c, depth + 1)?);
    }
    c.ws();
    c.expect_char(')', "\")\"")?;
    c.ws();
    Ok(LogicTree::Expr {
        negated,
        op,
        children,
    })
}

fn logic_filter(c: &mut Cursor) -> PResult<Filter> {
    let field = c.field()?;
    c.expect_char('.', DELIMITER)?;
    let expr = op_expr(c, ValueKind::Logic)?;
    Ok(Filter { field, expr })
}

/// `a.b.col->json`: the embed path and the field.
pub(crate) fn tree_path(c: &mut Cursor) -> PResult<(EmbedPath, Field)> {
    let mut names = vec![c.field_name()?];
    while c.peek() == Some('.') {
        c.pos += 1;
        names.push(c.field_name()?);
    }
    let json_path = c.json_path()?;
    let name = names.pop().unwrap_or_default();
    Ok((names, Field { name, json_path }))
}

/// `a.b.not.or`: the embed path (without `not`) and `or` / `not.or`.
pub(crate) fn logic_path(c: &mut Cursor) -> PResult<(EmbedPath, String)> {
    let mut names = vec![c.field_name()?];
    while c.peek() == Some('.') {
        c.pos += 1;
        names.push(c.field_name()?);
    }
    let op = names.pop().unwrap_or_default();
    let negated = op == "not" || names.iter().any(|n| n == "not");
    names.retain(|n| n != "not");
    let op = if negated { format!("not.{op}") } else { op };
    Ok((names, op))
}
