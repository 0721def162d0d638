//! Parser primitives shared by the query-string grammars: a character cursor
//! with parsec-like error reporting, and the lexical pieces (field names,
//! quoted values, JSON paths) every grammar uses.
//!
//! Conventions (they mirror parsec, which PostgREST uses, so accepted inputs and
//! error positions match):
//! - A parse function that fails *without consuming* leaves `pos` where it
//!   started ("try" behaviour); one that fails after consuming leaves `pos`
//!   advanced, and callers treat that as a committed error.
//! - Every failure is recorded in `Failure`; the furthest position wins and
//!   failures at the same position merge their expectations. The final error
//!   reports that position, like parsec's merged errors.

use std::borrow::Cow;

use super::ast::{Field, JsonArrow, JsonOperand, JsonOperation};
use crate::haskell_show;

/// Maximum nesting of embedded relations in `select` and of `and`/`or` trees.
pub const MAX_DEPTH: usize = 64;

/// A parse failed; details are in the cursor's `Failure`.
#[derive(Debug)]
pub(crate) struct Fail;

pub(crate) type PResult<T> = Result<T, Fail>;

#[derive(Debug, Default)]
struct Failure {
    recorded: bool,
    pos: usize,
    /// parsec's `UnExpect` (from `eof`/`notFollowedBy`): shown as `'c'`.
    unexpected: Option<char>,
    /// parsec's `SysUnExpect` (from a token mismatch): shown as `"c"`;
    /// `Some(None)` is the end of the input.
    sys_unexpected: Option<Option<char>>,
    /// Labels are static but for `expect_str`'s: recording (which happens
    /// on successful parses too, for optional items) allocates nothing.
    expected: Vec<Cow<'static, str>>,
    /// A message that replaces everything else (nesting limit).
    fatal: Option<String>,
}

/// Failures set aside by [`Cursor::take_failures`].
pub(crate) struct FailureSet(Failure);

/// Where a failed parse stopped and what it expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPosition {
    pub line: usize,
    pub column: usize,
    pub details: String,
}

pub(crate) struct Cursor {
    chars: Vec<char>,
    pub(crate) pos: usize,
    failure: Failure,
}

impl Cursor {
    pub(crate) fn new(input: &str) -> Cursor {
        Cursor {
            chars: input.chars().collect(),
            pos: 0,
            failure: Failure::default(),
        }
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    pub(crate) fn peek_at(&self, offset: usize) -> Option<char> {
        self.pos
            .checked_add(offset)
            .and_then(|i| self.chars.get(i))
            .copied()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    pub(crate) fn starts_with(&self, s: &str) -> bool {
        (self.pos..)
            .zip(s.chars())
            .all(|(i, c)| self.chars.get(i) == Some(&c))
    }

    /// The rest of the input, consumed.
    pub(crate) fn take_rest(&mut self) -> String {
        let s: String = self.chars.get(self.pos..).unwrap_or(&[]).iter().collect();
        self.pos = self.chars.len();
        s
    }

    /// Skips spaces and tabs (PostgREST's `ws`).
    pub(crate) fn ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.pos += 1;
        }
    }

    // ---- failures -------------------------------------------------------

    fn record(
        &mut self,
        pos: usize,
        sys: Option<Option<char>>,
        un: Option<char>,
        expected: impl IntoIterator<Item = Cow<'static, str>>,
    ) {
        let f = &mut self.failure;
        if f.fatal.is_some() {
            return;
        }
        if !f.recorded || pos > f.pos {
            // Reset in place, keeping the list's capacity.
            f.recorded = true;
            f.pos = pos;
            f.unexpected = None;
            f.sys_unexpected = None;
            f.expected.clear();
        } else if pos < f.pos {
            return;
        }
        if f.sys_unexpected.is_none() {
            f.sys_unexpected = sys;
        }
        if f.unexpected.is_none() {
            f.unexpected = un;
        }
        for e in expected {
            if !f.expected.contains(&e) {
                f.expected.push(e);
            }
        }
    }

    /// [`Cursor::record`] for static labels.
    fn record_static(
        &mut self,
        pos: usize,
        sys: Option<Option<char>>,
        un: Option<char>,
        expected: &[&'static str],
    ) {
        self.record(pos, sys, un, expected.iter().map(|e| Cow::Borrowed(*e)));
    }

    /// Takes the failures recorded so far, leaving none: used before an
    /// alternative that may consume input after others failed. parsec keeps
    /// the earlier failures only if that alternative consumes nothing; see
    /// [`Cursor::restore_failures`].
    pub(crate) fn take_failures(&mut self) -> FailureSet {
        FailureSet(std::mem::take(&mut self.failure))
    }

    /// After an alternative: keeps `earlier` failures only if the alternative
    /// consumed nothing (its start is still the furthest consumed position).
    pub(crate) fn restore_failures(&mut self, earlier: FailureSet, consumed: bool) {
        if consumed || self.failure.fatal.is_some() {
            return;
        }
        let e = earlier.0;
        if !e.recorded {
            return;
        }
        if let Some(m) = e.fatal {
            self.failure.fatal = Some(m);
            self.failure.pos = e.pos;
            self.failure.recorded = true;
            return;
        }
        self.record(e.pos, e.sys_unexpected, e.unexpected, e.expected);
    }

    /// Records "unexpected <char at pos> expecting <expected>" and fails.
    pub(crate) fn fail_at<T>(&mut self, pos: usize, expected: &[&'static str]) -> PResult<T> {
        let sys = Some(self.chars.get(pos).copied());
        self.record_static(pos, sys, None, expected);
        Err(Fail)
    }

    /// Fails here, expecting `expected`.
    pub(crate) fn fail<T>(&mut self, expected: &[&'static str]) -> PResult<T> {
        self.fail_at(self.pos, expected)
    }

    /// Adds an expectation at the current position without failing (an
    /// optional item that was absent).
    pub(crate) fn note(&mut self, expected: &[&'static str]) {
        let _ = self.fail::<()>(expected);
    }

    /// Records an `eof` failure: "unexpected 'c' expecting end of input".
    pub(crate) fn note_end_expected(&mut self) {
        match self.peek() {
            None => {}
            Some(c) => self.record_static(self.pos, None, Some(c), &["end of input"]),
        }
    }

    /// Fails for good with a message that overrides the usual details.
    pub(crate) fn fatal<T>(&mut self, message: String) -> PResult<T> {
        self.failure.recorded = true;
        self.failure.pos = self.pos;
        self.failure.fatal = Some(message);
        Err(Fail)
    }

    /// The error to report once the parse failed.
    pub(crate) fn error_position(&self) -> ErrorPosition {
        let f = &self.failure;
        let pos = if f.recorded { f.pos } else { self.pos };
        let (line, column) = self.line_column(pos);
        let details = match &f.fatal {
            Some(m) => m.clone(),
            None => render_details(f),
        };
        ErrorPosition {
            line,
            column,
            details,
        }
    }

    /// parsec's source position: 1-based, tabs to the next multiple of 8.
    fn line_column(&self, pos: usize) -> (usize, usize) {
        let mut line = 1usize;
        let mut col = 1usize;
        for c in self.chars.iter().take(pos) {
            match c {
                '\n' => {
                    line = line.saturating_add(1);
                    col = 1;
                }
                '\t' => col = col.saturating_add(8 - ((col - 1) % 8)),
                _ => col = col.saturating_add(1),
            }
        }
        (line, col)
    }

    // ---- tokens ---------------------------------------------------------

    /// Consumes `c` or fails (without consuming) expecting `label`.
    pub(crate) fn expect_char(&mut self, c: char, label: &'static str) -> PResult<()> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            self.fail(&[label])
        }
    }

    /// Consumes `s` entirely or fails without consuming (parsec's
    /// `try (string s)`), reporting the first mismatching character.
    pub(crate) fn expect_str(&mut self, s: &str) -> PResult<()> {
        if self.starts_with(s) {
            self.pos += s.chars().count();
            return Ok(());
        }
        let mut i = self.pos;
        for c in s.chars() {
            if self.chars.get(i) != Some(&c) {
                break;
            }
            i += 1;
        }
        let sys = Some(self.chars.get(i).copied());
        let label = Cow::Owned(format!("\"{s}\""));
        self.record(self.pos, sys, None, [label]);
        Err(Fail)
    }

    /// `"…"` with backslash escapes (`\x` is `x`). Fails without consuming
    /// if there is no opening quote; an unterminated value fails consumed.
    pub(crate) fn quoted_value(&mut self) -> PResult<String> {
        self.quoted(true)
    }

    /// A quoted name: [`Cursor::quoted_value`] without control characters,
    /// which fail consumed where they stand (see [`is_name_char`]).
    fn quoted_name(&mut self) -> PResult<String> {
        self.quoted(false)
    }

    fn quoted(&mut self, controls: bool) -> PResult<String> {
        if self.peek() != Some('"') {
            return self.fail(&["\"\\\"\""]);
        }
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                Some(c) if !controls && !is_name_char(c) => {
                    return self.fail(&["\"\\\\\"", "\"\\\"\""]);
                }
                None => return self.fail(&["\"\\\"\""]),
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) if controls || is_name_char(c) => {
                            self.pos += 1;
                            out.push(c);
                        }
                        _ => return self.fail(&["any character"]),
                    }
                }
                Some(c) => {
                    self.pos += 1;
                    out.push(c);
                }
            }
        }
    }

    /// PostgREST's identifier: letters, digits, `_`, `$` and spaces, trimmed.
    fn identifier(&mut self, label: &'static str) -> PResult<String> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if is_identifier_char(c) {
                self.pos += 1;
            } else {
                break;
            }
        }
        if self.pos == start {
            return self.fail(&[label]);
        }
        Ok(self.trimmed(start, self.pos))
    }

    /// An identifier for casts, fts languages: at least one identifier char.
    pub(crate) fn plain_identifier(&mut self) -> PResult<String> {
        self.identifier("letter or digit")
    }

    /// The characters from `from` to `to`, trimmed as `str::trim` does,
    /// collected once.
    fn trimmed(&self, from: usize, to: usize) -> String {
        let chars = self.chars.get(from..to).unwrap_or(&[]);
        let first = chars
            .iter()
            .position(|c| !c.is_whitespace())
            .unwrap_or(chars.len());
        let end = chars
            .iter()
            .rposition(|c| !c.is_whitespace())
            .map_or(first, |i| i + 1);
        chars[first..end].iter().collect()
    }

    /// Parts separated by `-` (a `-` not followed by `>`, which starts an
    /// arrow), joined again with `-`.
    fn sep_by_dash(
        &mut self,
        part: &mut dyn FnMut(&mut Cursor) -> PResult<String>,
    ) -> PResult<String> {
        let mut out = part(self)?;
        while self.peek() == Some('-') && self.peek_at(1) != Some('>') {
            self.pos += 1;
            out.push('-');
            out.push_str(&part(self)?);
        }
        Ok(out)
    }

    /// A column or relation name: quoted, or identifiers joined by dashes.
    pub(crate) fn field_name(&mut self) -> PResult<String> {
        if self.peek() == Some('"') {
            return self.quoted_name();
        }
        self.sep_by_dash(&mut |c: &mut Cursor| c.identifier(FIELD_NAME))
    }

    /// A JSON key: quoted, or any characters but `(-:.,>)` and control
    /// characters, trimmed.
    fn json_key_name(&mut self) -> PResult<String> {
        if self.peek() == Some('"') {
            return self.quoted_name();
        }
        self.sep_by_dash(&mut |c: &mut Cursor| {
            let start = c.pos;
            while let Some(ch) = c.peek() {
                if "(-:.,>)".contains(ch) || !is_name_char(ch) {
                    break;
                }
                c.pos += 1;
            }
            if c.pos == start {
                return c.fail(&["any non reserved character different from: .,>()"]);
            }
            Ok(c.trimmed(start, c.pos))
        })
    }

    /// Zero or more `->operand` / `->>operand`. An arrow without a valid
    /// operand fails consumed.
    pub(crate) fn json_path(&mut self) -> PResult<Vec<JsonOperation>> {
        let mut path = Vec::new();
        loop {
            let arrow = if self.starts_with("->>") {
                self.pos += 3;
                JsonArrow::DoubleArrow
            } else if self.starts_with("->") {
                self.pos += 2;
                JsonArrow::Arrow
            } else {
                self.note(&["\"->>\"", "\"->\""]);
                return Ok(path);
            };
            let operand = match self.json_index() {
                Some(idx) => JsonOperand::Index(idx),
                None => JsonOperand::Key(self.json_key_name()?),
            };
            path.push(JsonOperation { arrow, operand });
        }
    }

    /// `-?[0-9]+` followed by `->`, `::`, `.`, `,` or the end; restores the
    /// position when it does not match.
    fn json_index(&mut self) -> Option<String> {
        let start = self.pos;
        let mut s = String::new();
        if self.peek() == Some('-') {
            self.pos += 1;
            s.push('-');
        }
        let digits_start = self.pos;
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            self.pos += 1;
            s.push(c);
        }
        if self.pos == digits_start {
            self.note(&["digit"]);
            self.pos = start;
            return None;
        }
        if self.at_end()
            || self.starts_with("->")
            || self.starts_with("::")
            || self.starts_with(".")
            || self.starts_with(",")
        {
            Some(s)
        } else {
            self.note(&["digit", "\"->\"", "\"::\"", "\".\"", "\",\""]);
            self.note_end_expected();
            self.pos = start;
            None
        }
    }

    /// `name` plus an optional JSON path, with surrounding whitespace.
    pub(crate) fn field(&mut self) -> PResult<Field> {
        self.ws();
        let name = self.field_name()?;
        let json_path = self.json_path()?;
        self.ws();
        Ok(Field { name, json_path })
    }
}

pub(crate) const FIELD_NAME: &str = "field name (* or [a..z0..9_$])";

/// Whether a name from a request may hold `c`: not a control character
/// (U+0000–U+001F, U+007F). PostgreSQL's quoted identifiers can hold all of
/// them but NUL; the rest are refused too, as no name a client can see in a
/// header, a log line or an error message should hide them.
fn is_name_char(c: char) -> bool {
    !c.is_ascii_control()
}

fn is_identifier_char(c: char) -> bool {
    c.is_alphabetic() || c.is_ascii_digit() || c == '_' || c == ' ' || c == '$'
}

/// parsec's `showErrorMessages`, on one line.
fn render_details(f: &Failure) -> String {
    let mut parts = Vec::new();
    if let Some(u) = f.unexpected {
        parts.push(format!("unexpected {}", haskell_show::char(u)));
    } else if let Some(s) = f.sys_unexpected {
        match s {
            None => parts.push("unexpected end of input".to_string()),
            Some(c) => {
                let shown = haskell_show::string(c.encode_utf8(&mut [0; 4]));
                parts.push(format!("unexpected {shown}"));
            }
        }
    }
    let expected: Vec<&str> = f
        .expected
        .iter()
        .map(|e| e.as_ref())
        .filter(|e| !e.is_empty())
        .collect();
    if !expected.is_empty() {
        parts.push(format!("expecting {}", commas_or(&expected)));
    }
    if parts.is_empty() {
        "unknown parse error".to_string()
    } else {
        parts.join(" ")
    }
}

fn commas_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
