//! `order`, `columns` and `on_conflict`.
//!
//! ```text
//! order   := term {"," term}                 each term must end at `,` or the end
//! term    := ws (name "(" field ")" | field) [".asc" | ".desc"] [".nullsfirst" | ".nullslast"] ws
//! columns := name {ws "," ws name}           (also on_conflict)
//! ```

use super::ast::{OrderDirection, OrderNulls, OrderTerm};
use super::cursor::{Cursor, Fail, PResult};

pub(crate) fn order(c: &mut Cursor) -> PResult<Vec<OrderTerm>> {
    let mut terms = vec![order_term(c)?];
    while c.peek() == Some(',') {
        c.pos += 1;
        terms.push(order_term(c)?);
    }
    Ok(terms)
}

fn order_term(c: &mut Cursor) -> PResult<OrderTerm> {
    c.ws();
    let start = c.pos;
    let term = match relation_term(c) {
        Ok(t) => t,
        Err(_) => {
            c.pos = start;
            let earlier = c.take_failures();
            let field = c.field();
            let consumed = c.pos > start;
            c.restore_failures(earlier, consumed);
            let field = field?;
            let (direction, nulls) = modifiers(c)?;
            OrderTerm {
                relation: None,
                field,
                direction,
                nulls,
            }
        }
    };
    c.ws();
    Ok(term)
}

fn relation_term(c: &mut Cursor) -> PResult<OrderTerm> {
    let relation = c.field_name()?;
    c.expect_char('(', "\"(\"")?;
    let field = c.field()?;
    c.expect_char(')', "\")\"")?;
    let (direction, nulls) = modifiers(c)?;
    Ok(OrderTerm {
        relation: Some(relation),
        field,
        direction,
        nulls,
    })
}

fn modifiers(c: &mut Cursor) -> PResult<(Option<OrderDirection>, Option<OrderNulls>)> {
    let direction = dot_word(
        c,
        &[("asc", OrderDirection::Asc), ("desc", OrderDirection::Desc)],
    );
    let nulls = dot_word(
        c,
        &[
            ("nullsfirst", OrderNulls::NullsFirst),
            ("nullslast", OrderNulls::NullsLast),
        ],
    );
    match c.peek() {
        None | Some(',') => Ok((direction, nulls)),
        Some(_) => {
            if nulls.is_none() {
                c.note(&["delimiter (.)"]);
            }
            c.note(&["\",\""]);
            c.note_end_expected();
            Err(Fail)
        }
    }
}

/// `.word` for one of `words`; restores the position when absent.
fn dot_word<T: Copy>(c: &mut Cursor, words: &[(&str, T)]) -> Option<T> {
    let start = c.pos;
    if c.peek() != Some('.') {
        return None;
    }
    c.pos += 1;
    for (w, v) in words {
        if c.expect_str(w).is_ok() {
            return Some(*v);
        }
    }
    c.pos = start;
    None
}

/// `a,b,c` (names only).
pub(crate) fn columns(c: &mut Cursor) -> PResult<Vec<String>> {
    let mut names = vec![c.field_name()?];
    loop {
        let save = c.pos;
        c.ws();
        if c.peek() != Some(',') {
            c.pos = save;
            c.note(&["\",\""]);
            return Ok(names);
        }
        c.pos += 1;
        c.ws();
        names.push(c.field_name()?);
    }
}
