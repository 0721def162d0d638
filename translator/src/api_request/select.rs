//! The `select` grammar:
//!
//! ```text
//! forest   := [tree {ws "," ws tree}]
//! tree     := spread | relation | field
//! spread   := "..." name embed_params "(" forest ")"
//! relation := [name ":"] name embed_params "(" forest ")"     (name ≠ "count")
//! field    := "*" | [name ":"] "count()" ["::" ident]
//!           | [name ":"] name json_path ["::" ident] ["." agg "()"] ["::" ident]
//! embed_params := ["!" param] ["!" param]     param := "left" | "inner" | name
//! agg      := "sum" | "avg" | "count" | "max" | "min"
//! ```
//!
//! The list ends at the first item that cannot continue it, as in
//! PostgREST; the caller then requires the end of the input (PostgREST
//! does not: it reads `a,b)x` as `a,b`).

use super::ast::{AggregateFunction, Field, JoinType, SelectItem};
use super::cursor::{Cursor, MAX_DEPTH, PResult};

/// Parses a whole `select` value.
pub(crate) fn select(c: &mut Cursor) -> PResult<Vec<SelectItem>> {
    forest(c, 0)
}

fn forest(c: &mut Cursor, depth: usize) -> PResult<Vec<SelectItem>> {
    let mut items = Vec::new();
    let start = c.pos;
    match tree(c, depth) {
        Ok(item) => items.push(item),
        // Nothing consumed: an empty list.
        Err(_) if c.pos == start => return Ok(items),
        Err(e) => return Err(e),
    }
    loop {
        let before = c.pos;
        c.ws();
        if c.peek() != Some(',') {
            c.note(&["\",\""]);
            if c.pos != before {
                // parsec's `lexeme (char ',')` consumed the spaces: committed.
                return Err(super::cursor::Fail);
            }
            return Ok(items);
        }
        c.pos += 1;
        c.ws();
        items.push(tree(c, depth)?);
    }
}

fn tree(c: &mut Cursor, depth: usize) -> PResult<SelectItem> {
    let start = c.pos;
    if let Some((name, hint, join)) = attempt(c, spread_head) {
        let children = children(c, depth)?;
        return Ok(SelectItem::Spread {
            name,
            hint,
            join,
            children,
        });
    }
    c.pos = start;
    if let Some((alias, name, hint, join)) = attempt(c, relation_head) {
        let children = children(c, depth)?;
        return Ok(SelectItem::Relation {
            name,
            alias,
            hint,
            join,
            children,
        });
    }
    c.pos = start;
    let earlier = c.take_failures();
    let result = field_item(c);
    // parsec: the field branch consumed input, so the failed embed attempts
    // no longer count for the error message.
    let consumed = c.pos > start || result.is_ok();
    c.restore_failures(earlier, consumed);
    result
}

/// Runs `p`, restoring the position when it fails (parsec's `try`).
fn attempt<T>(c: &mut Cursor, p: fn(&mut Cursor) -> PResult<T>) -> Option<T> {
    let start = c.pos;
    match p(c) {
        Ok(v) => Some(v),
        Err(_) => {
            c.pos = start;
            None
        }
    }
}

fn children(c: &mut Cursor, depth: usize) -> PResult<Vec<SelectItem>> {
    if depth >= MAX_DEPTH {
        return c.fatal(format!(
            "embedded resources are nested more than {MAX_DEPTH} levels deep"
        ));
    }
    c.expect_char('(', "\"(\"")?;
    let items = forest(c, depth + 1)?;
    c.expect_char(')', "\")\"")?;
    Ok(items)
}

type Head = (String, Option<String>, Option<JoinType>);
type AliasedHead = (Option<String>, String, Option<String>, Option<JoinType>);

fn spread_head(c: &mut Cursor) -> PResult<Head> {
    c.ws();
    c.expect_str("...")?;
    let name = c.field_name()?;
    let (hint, join) = embed_params(c)?;
    if c.peek() != Some('(') {
        return c.fail(&["\"(\""]);
    }
    Ok((name, hint, join))
}

fn relation_head(c: &mut Cursor) -> PResult<AliasedHead> {
    c.ws();
    let alias = alias(c);
    let name = c.field_name()?;
    if name == "count" {
        return c.fail(&[]);
    }
    let (hint, join) = embed_params(c)?;
    if c.peek() != Some('(') {
        return c.fail(&["\"(\""]);
    }
    Ok((alias, name, hint, join))
}

/// `name:` (but not `name::`); restores the position when absent.
fn alias(c: &mut Cursor) -> Option<String> {
    let start = c.pos;
    if let Ok(name) = c.field_name()
        && c.peek() == Some(':')
        && c.peek_at(1) != Some(':')
    {
        c.pos += 1;
        return Some(name);
    }
    c.pos = start;
    None
}

fn embed_params(c: &mut Cursor) -> PResult<(Option<String>, Option<JoinType>)> {
    let mut hint = None;
    let mut join = None;
    for _ in 0..2 {
        if c.peek() != Some('!') {
            c.note(&["\"!\""]);
            break;
        }
        c.pos += 1;
        if c.starts_with("left") {
            c.pos += 4;
            join = join.or(Some(JoinType::Left));
        } else if c.starts_with("inner") {
            c.pos += 5;
            join = join.or(Some(JoinType::Inner));
        } else {
            let h = c.field_name()?;
            hint = hint.or(Some(h));
        }
    }
    Ok((hint, join))
}

/// `)`, `,` or the end must follow a field.
fn field_end(c: &mut Cursor) -> PResult<()> {
    match c.peek() {
        None | Some(')') | Some(',') => Ok(()),
        Some(_) => {
            c.note(&["\")\"", "\",\""]);
            c.note_end_expected();
            Err(super::cursor::Fail)
        }
    }
}

fn field_item(c: &mut Cursor) -> PResult<SelectItem> {
    c.ws();
    let start = c.pos;
    // `*`
    if c.peek() == Some('*') {
        c.pos += 1;
        if field_end(c).is_ok() {
            c.ws();
            return Ok(SelectItem::star());
        }
        c.pos = start;
    } else {
        c.note(&["\"*\""]);
    }
    // `[alias:]count()[::cast]`
    let alias_ = alias(c);
    if c.starts_with("count()") {
        let after_alias = c.pos;
        c.pos += 7;
        let cast = optional_cast(c).unwrap_or_default();
        if field_end(c).is_ok() {
            c.ws();
            return Ok(SelectItem::Field {
                field: Field::plain("*"),
                alias: alias_,
                cast: None,
                aggregate: Some(AggregateFunction::Count),
                aggregate_cast: cast,
            });
        }
        c.pos = after_alias;
    }
    // `[alias:]field[::cast][.agg()][::cast]`
    let field = c.field()?;
    let cast = optional_cast(c)?;
    let aggregate = aggregate(c);
    let aggregate_cast = optional_cast(c)?;
    field_end(c)?;
    c.ws();
    Ok(SelectItem::Field {
        field,
        alias: alias_,
        cast,
        aggregate,
        aggregate_cast,
    })
}

/// `::ident`; `::` without an identifier fails consumed.
fn optional_cast(c: &mut Cursor) -> PResult<Option<String>> {
    if c.starts_with("::") {
        c.pos += 2;
        Ok(Some(c.plain_identifier()?))
    } else {
        c.note(&["\"::\""]);
        Ok(None)
    }
}

/// `.sum()` etc.; restores the position when absent.
fn aggregate(c: &mut Cursor) -> Option<AggregateFunction> {
    let start = c.pos;
    if c.peek() != Some('.') {
        c.note(&["\".\""]);
        return None;
    }
    c.pos += 1;
    let functions = [
        ("sum", AggregateFunction::Sum),
        ("avg", AggregateFunction::Avg),
        ("count", AggregateFunction::Count),
        ("max", AggregateFunction::Max),
        ("min", AggregateFunction::Min),
    ];
    for (name, f) in functions {
        if c.starts_with(name) {
            c.pos += name.len();
            if c.starts_with("()") {
                c.pos += 2;
                return Some(f);
            }
            c.note(&["\"()\""]);
            break;
        }
    }
    c.note(&["\"sum\"", "\"avg\"", "\"count\"", "\"max\"", "\"min\""]);
    c.pos = start;
    None
}
