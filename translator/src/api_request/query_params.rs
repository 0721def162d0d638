//! The query string: splitting, percent-decoding, and sorting the parameters
//! into `select`, filters, `and`/`or`, `order`, `limit`/`offset`,
//! `on_conflict`, `columns` and RPC arguments, each parsed by its grammar.
//!
//! Rules (PostgREST's `ApiRequest.QueryParams`):
//! - Pairs are separated by `&` or `;`; `+` is a space; `%XX` is decoded (an
//!   invalid escape stays as typed); invalid UTF-8 becomes U+FFFD. A pair
//!   without `=` is ignored, except that `select` without `=` means `*`.
//! - `select`, `columns`, `on_conflict`: the first occurrence counts.
//! - A key whose last `.`-separated word is `order`, `limit`, `offset`, `and`
//!   or `or` is that parameter for the embed path before it (`child.order`).
//! - Every other key with a value is a filter on `embed.path.column->json`.
//!   For an RPC read (GET/HEAD on `/rpc/f`), a value without an operator is a
//!   function argument instead (see [`ParseOptions::rpc_read`]).
//! - Errors are checked in PostgREST's order: order, and/or, columns, select,
//!   filters, on_conflict, then `limit`/`offset` (key path, then value).
//! - Stricter than PostgREST: every key and value must parse whole, names
//!   hold no control characters, and `limit`/`offset` must be integers
//!   (README, "Strict query grammar").

use super::ast::{Filter, LogicTree, PathFilter, PathLogic, PathOrder, PathRange, SelectItem};
use super::cursor::{Cursor, ErrorPosition, PResult};
use super::{filter, order, select};
use crate::error::ApiError;
use std::fmt::Write as _;

pub use super::ast;
pub use super::cursor::MAX_DEPTH;

/// Everything the query string says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParams {
    /// Every decoded pair in input order (`None`: no `=`).
    pub raw: Vec<(String, Option<String>)>,
    /// `select`; `[*]` when absent; empty for `select=`.
    pub select: Vec<SelectItem>,
    /// Filters in input order, root and embedded.
    pub filters: Vec<PathFilter>,
    /// `and=`/`or=`/`not.or=`/`child.or=` trees in input order.
    pub logic: Vec<PathLogic>,
    /// `order=`/`child.order=` in input order.
    pub order: Vec<PathOrder>,
    /// `limit`/`offset` per embed path, in order of first appearance; a
    /// repeated key: the last value wins.
    pub ranges: Vec<PathRange>,
    /// `on_conflict=a,b`.
    pub on_conflict: Option<Vec<String>>,
    /// `columns=a,b` in input order, duplicates removed.
    pub columns: Option<Vec<String>>,
    /// RPC read arguments (`name`, `value`), in input order: the values
    /// without an operator when parsed with `rpc_read`; always empty otherwise.
    pub rpc_args: Vec<(String, String)>,
}

/// An empty query string: every row and column, unfiltered.
impl Default for QueryParams {
    fn default() -> QueryParams {
        QueryParams {
            raw: Vec::new(),
            select: vec![SelectItem::star()],
            filters: Vec::new(),
            logic: Vec::new(),
            order: Vec::new(),
            ranges: Vec::new(),
            on_conflict: None,
            columns: None,
            rpc_args: Vec::new(),
        }
    }
}

impl QueryParams {
    /// The filters on the root resource (used by UPDATE/DELETE).
    pub(crate) fn root_filters(&self) -> impl Iterator<Item = &Filter> {
        self.filters
            .iter()
            .filter(|f| f.path.is_empty())
            .map(|f| &f.filter)
    }

    /// `limit`/`offset` of the level at `path` (empty: root).
    pub(crate) fn range(&self, path: &[String]) -> Option<&PathRange> {
        self.ranges.iter().find(|r| r.path == path)
    }
}

/// How to read the query string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// GET/HEAD on `/rpc/f`: a key whose value has no operator is a function
    /// argument (`rpc_args`), not a filter. (A value starting with `not.`,
    /// `in.` or `is.` must still parse as a filter, as in PostgREST.)
    pub rpc_read: bool,
}

/// Which parameter failed; PostgREST's name for it in the error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Select,
    OnConflict,
    Columns,
    Filter,
    Order,
    LogicTree,
    TreePath,
    LogicPath,
    Limit,
    Offset,
}

impl ParamKind {
    /// As in PostgREST's message: `failed to parse <this> (<value>)`.
    pub(crate) fn label(self) -> &'static str {
        match self {
            ParamKind::Select => "select parameter",
            ParamKind::OnConflict => "on_conflict parameter",
            ParamKind::Columns => "columns parameter",
            ParamKind::Filter => "filter",
            ParamKind::Order => "order",
            ParamKind::LogicTree => "logic tree",
            ParamKind::TreePath => "tree path",
            ParamKind::LogicPath => "logic path",
            ParamKind::Limit => "limit parameter",
            ParamKind::Offset => "offset parameter",
        }
    }
}

/// A PGRST100 with everything PostgREST reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParamError {
    pub kind: ParamKind,
    /// The decoded key or value that failed, as given.
    pub value: String,
    /// parsec's position (1-based; a tab advances to the next multiple of 8).
    pub line: usize,
    pub column: usize,
    /// parsec-style `unexpected "x" expecting …`.
    pub details: String,
}

impl QueryParamError {
    /// PostgREST's exact message:
    /// `"failed to parse filter (eq)" (line 1, column 4)`.
    pub(crate) fn message(&self) -> String {
        format!(
            "\"failed to parse {} ({})\" (line {}, column {})",
            self.kind.label(),
            self.value,
            self.line,
            self.column
        )
    }
}

impl From<QueryParamError> for ApiError {
    fn from(e: QueryParamError) -> ApiError {
        ApiError::ParseError {
            message: e.message(),
            details: e.details,
        }
    }
}

/// Parses a raw (percent-encoded) query string, without the leading `?`, for
/// a request that is not an RPC read.
// `ApiError` is the crate's one error type; boxing it here alone would not help.
pub(crate) fn parse_query(query: &str) -> Result<QueryParams, ApiError> {
    parse_query_with(query, ParseOptions::default()).map_err(ApiError::from)
}

/// Parses a raw query string; the error keeps PostgREST's position.
pub fn parse_query_with(
    query: &str,
    options: ParseOptions,
) -> Result<QueryParams, QueryParamError> {
    let raw = split_query(query);
    let first = |name: &str| -> Option<&str> {
        raw.iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref())
    };
    let with_value: Vec<(&str, &str)> = raw
        .iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k.as_str(), v)))
        .collect();

    let mut order = Vec::new();
    let mut logic = Vec::new();
    let mut filter_pairs = Vec::new();
    let mut range_pairs = Vec::new();
    for &(k, v) in &with_value {
        match last_word(k) {
            "order" => order.push((k, v)),
            "and" | "or" => logic.push((k, v)),
            "limit" | "offset" => range_pairs.push((k, v)),
            _ if matches!(k, "select" | "columns" | "on_conflict") => {}
            _ => filter_pairs.push((k, v)),
        }
    }

    let order = order
        .into_iter()
        .map(|(k, v)| {
            let (path, _) = run(k, ParamKind::TreePath, filter::tree_path)?;
            let terms = run(v, ParamKind::Order, order::order)?;
            Ok(PathOrder { path, terms })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let logic = logic
        .into_iter()
        .map(|(k, v)| {
            let (path, op) = run(k, ParamKind::LogicPath, filter::logic_path)?;
            let tree = parse_logic_value(&op, v)?;
            Ok(PathLogic { path, tree })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let columns = first("columns")
        .map(|v| run(v, ParamKind::Columns, order::columns).map(dedup))
        .transpose()?;

    let select = match first("select") {
        None => vec![SelectItem::star()],
        Some(v) => run(v, ParamKind::Select, select::select)?,
    };

    let mut filters = Vec::new();
    let mut rpc_args = Vec::new();
    for (k, v) in filter_pairs {
        let (path, field) = run(k, ParamKind::TreePath, filter::tree_path)?;
        match run(v, ParamKind::Filter, |c| {
            filter::op_expr(c, filter::ValueKind::Rest)
        }) {
            Ok(expr) => filters.push(PathFilter {
                path,
                filter: Filter { field, expr },
            }),
            Err(_) if options.rpc_read && !commits_to_operator(v) => {
                rpc_args.push((field.name, v.to_string()));
            }
            Err(e) => return Err(e),
        }
    }

    let on_conflict = first("on_conflict")
        .map(|v| run(v, ParamKind::OnConflict, order::columns))
        .transpose()?;

    let ranges = ranges(&range_pairs)?;

    Ok(QueryParams {
        raw,
        select,
        filters,
        logic,
        order,
        ranges,
        on_conflict,
        columns,
        rpc_args,
    })
}

/// PostgREST parses `and=(…)` as `and(…)` (and `not.or=(…)` as
/// `not.or(…)`); positions count the prefix, the message shows the value.
fn parse_logic_value(op: &str, value: &str) -> Result<LogicTree, QueryParamError> {
    let text = format!("{op}{value}");
    let mut c = Cursor::new(&text);
    whole(&mut c, |c| filter::logic_tree(c, 0)).map_err(|_| error(&c, ParamKind::LogicTree, value))
}

/// In an RPC read, a value whose parse went past `not.`, `in.` or `is.`
/// failed for good (parsec consumed input): it is an error, not an argument.
fn commits_to_operator(v: &str) -> bool {
    v.starts_with("not.") || v.starts_with("in.") || v.starts_with("is.")
}

fn ranges(pairs: &[(&str, &str)]) -> Result<Vec<PathRange>, QueryParamError> {
    let mut out: Vec<PathRange> = Vec::new();
    for &(k, v) in pairs {
        let (path, _) = run(k, ParamKind::TreePath, filter::tree_path)?;
        let is_limit = last_word(k) == "limit";
        let kind = if is_limit {
            ParamKind::Limit
        } else {
            ParamKind::Offset
        };
        let n = run(v, kind, integer)?;
        let idx = match out.iter().position(|r| r.path == path) {
            Some(i) => i,
            None => {
                out.push(PathRange {
                    path,
                    limit: None,
                    offset: None,
                });
                out.len() - 1
            }
        };
        if let Some(r) = out.get_mut(idx) {
            if is_limit {
                r.limit = Some(n);
            } else {
                r.offset = Some(n);
            }
        }
    }
    Ok(out)
}

/// `limit`/`offset`: `["-"] digit {digit}`, saturating beyond `i64`.
/// Stricter than PostgREST, which ignores what Haskell's `read` cannot
/// take as an integer (`limit=ten` reads every row); a negative value is
/// left to the range rules, as in PostgREST.
fn integer(c: &mut Cursor) -> PResult<i64> {
    let negative = c.peek() == Some('-');
    if negative {
        c.pos += 1;
    } else {
        c.note(&["\"-\""]);
    }
    let start = c.pos;
    let mut n: i64 = 0;
    while let Some(d) = c.peek().and_then(|ch| ch.to_digit(10)) {
        c.pos += 1;
        n = n.saturating_mul(10);
        n = if negative {
            n.saturating_sub(i64::from(d))
        } else {
            n.saturating_add(i64::from(d))
        };
    }
    if c.pos == start {
        return c.fail(&["digit"]);
    }
    c.note(&["digit"]);
    Ok(n)
}

fn dedup(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for n in names {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// The last `.`-separated word of a key.
fn last_word(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

/// Runs a grammar on a decoded key or value, which it must read whole.
fn run<T>(
    input: &str,
    kind: ParamKind,
    parser: impl FnOnce(&mut Cursor) -> PResult<T>,
) -> Result<T, QueryParamError> {
    let mut c = Cursor::new(input);
    whole(&mut c, parser).map_err(|_| error(&c, kind, input))
}

/// `parser` followed by the end of the input. PostgREST stops some
/// grammars at the first character they cannot use and ignores the rest
/// (`select=a,b)x`, `in.(1)x`, `is.nullx`, a filter key `a(b`); here the
/// rest is an error, reported where it starts.
fn whole<T>(c: &mut Cursor, parser: impl FnOnce(&mut Cursor) -> PResult<T>) -> PResult<T> {
    let value = parser(c)?;
    if c.at_end() {
        Ok(value)
    } else {
        c.note_end_expected();
        Err(super::cursor::Fail)
    }
}

fn error(c: &Cursor, kind: ParamKind, value: &str) -> QueryParamError {
    let ErrorPosition {
        line,
        column,
        details,
    } = c.error_position();
    QueryParamError {
        kind,
        value: value.to_string(),
        line,
        column,
        details,
    }
}

/// Splits on `&` and `;` and decodes both sides (`+` is a space).
pub(crate) fn split_query(query: &str) -> Vec<(String, Option<String>)> {
    let query = query.strip_prefix('?').unwrap_or(query);
    if query.is_empty() {
        return Vec::new();
    }
    query
        .split(['&', ';'])
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), Some(decode(v))),
            None => (decode(pair), None),
        })
        .collect()
}

/// The query string in PostgREST's canonical form (for `Content-Location`),
/// from its decoded pairs ([`QueryParams::raw`]): sorted by name, the values
/// of a repeated name joined by `,`, and every byte but ASCII letters,
/// digits and `-_.~` percent-encoded.
pub(crate) fn canonical(pairs: &[(String, Option<String>)]) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    fn encode(s: &str) -> percent_encoding::PercentEncode<'_> {
        utf8_percent_encode(s, RESERVED)
    }
    let mut pairs: Vec<&(String, Option<String>)> = pairs.iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    // Written into one buffer, sized for values that need no encoding:
    // this runs for every read.
    let size = pairs
        .iter()
        .map(|(n, v)| n.len() + v.as_ref().map_or(0, String::len) + 2);
    let mut out = String::with_capacity(size.sum());
    let mut last: Option<&str> = None;
    for (name, value) in pairs {
        let value = encode(value.as_deref().unwrap_or(""));
        if last == Some(name.as_str()) {
            let _ = write!(out, ",{value}");
        } else {
            let separator = if last.is_some() { "&" } else { "" };
            let _ = write!(out, "{separator}{}={value}", encode(name));
        }
        last = Some(name);
    }
    out
}

/// Percent-decoding as `application/x-www-form-urlencoded`: `+` is a space,
/// `%XX` a byte, a `%` without two hex digits stays; invalid UTF-8 → U+FFFD.
pub(crate) fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|&h| hex(h));
                let lo = bytes.get(i + 2).and_then(|&l| hex(l));
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push(hi * 16 + lo);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            _ => out.push(b),
        }
        i += 1;
    }
    // Valid UTF-8 (the usual case) keeps the buffer.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
