//! The rows a read asks for: the `Range` request header, the top-level
//! `limit`/`offset` query parameters and `db-max-rows`, combined the way
//! PostgREST 16 combines them.
//!
//! PostgREST works with integer intervals: `limit=n` is `[0, n-1]`,
//! `offset=o` is `[o, ∞)`, both together `[o, o+n-1]`, `Range: a-b` is
//! `[a, b]`. The header interval (GET only) is intersected with the query
//! one. An empty result is PGRST103, except the `limit=0` interval
//! `[0, -1]`, which reads no rows. `Range-Unit` is never looked at.

use crate::error::{ApiError, RangeError};

/// A closed integer interval; `i128::MIN`/`MAX` stand for unbounded ends.
/// Empty when `upper < lower`; such an interval keeps its bounds, because
/// PostgREST tells `limit=0` (`[0, -1]`) from other empty ranges by them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Interval {
    lower: i128,
    upper: i128,
}

const UNBOUNDED: i128 = i128::MAX;
/// `[0, ∞)`: every row.
const ALL: Interval = Interval {
    lower: 0,
    upper: UNBOUNDED,
};
/// The canonical empty interval an intersection with an empty one yields.
const EMPTY: Interval = Interval {
    lower: i128::MAX,
    upper: i128::MIN,
};
/// `limit=0`.
const LIMIT_ZERO: Interval = Interval {
    lower: 0,
    upper: -1,
};

impl Interval {
    fn geq(n: i128) -> Interval {
        Interval {
            lower: n,
            upper: UNBOUNDED,
        }
    }

    fn is_empty(self) -> bool {
        self.upper < self.lower
    }

    fn intersect(self, other: Interval) -> Interval {
        if self.is_empty() || other.is_empty() {
            return EMPTY;
        }
        Interval {
            lower: self.lower.max(other.lower),
            upper: self.upper.min(other.upper),
        }
    }

    /// At most `limit` rows from this interval's start.
    fn restrict(self, limit: Option<i128>) -> Interval {
        match limit {
            None => self,
            Some(n) => self.intersect(Interval {
                lower: i128::MIN,
                upper: self.lower + n - 1,
            }),
        }
    }

    /// The number of rows when both ends are bounded.
    fn limit(self) -> Option<i128> {
        (self.upper != UNBOUNDED).then(|| 1 + self.upper - self.lower)
    }

    fn has_limit_zero(self) -> bool {
        self.upper == LIMIT_ZERO.upper
    }
}

/// The top-level rows of a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// `OFFSET`, also the first position in `Content-Range` (0: none).
    pub offset: i64,
    /// `LIMIT` after `db-max-rows` (`None`: no limit). Can be 0 (`limit=0`)
    /// and, with a non-positive `db-max-rows`, negative, which PostgreSQL
    /// rejects as PostgREST lets it.
    pub limit: Option<i64>,
}

/// The rows a request asks for at the top level.
///
/// - `method`: the `Range` header counts only on `GET` (RFC 9110; PostgREST
///   ignores it on every other method, `HEAD` included).
/// - `range`: the first `Range` header. Anything but `<digits>-<digits>` or
///   `<digits>-` is ignored; `5-2` is PGRST103.
/// - `limit`, `offset`: the top-level `limit` / `offset` the query grammar
///   read (the last one given; it refuses what is not an integer, where
///   PostgREST would read no limit).
/// - `max_rows`: `db-max-rows`.
///
/// Errors: PGRST103 (416) for an empty range other than `limit=0`, PGRST114
/// for any range on `PUT`.
pub fn page(
    method: &str,
    range: Option<&str>,
    limit: Option<i64>,
    offset: Option<i64>,
    max_rows: Option<i64>,
) -> Result<Page, ApiError> {
    let header = match range {
        Some(value) if method == "GET" => parse_range_header(value),
        _ => ALL,
    };
    let query = query_interval(limit, offset);
    let requested = if query.has_limit_zero() {
        LIMIT_ZERO
    } else {
        header.intersect(query)
    };
    if requested.is_empty() && !query.has_limit_zero() {
        return Err(ApiError::InvalidRange(if header.is_empty() {
            RangeError::LowerGtUpper
        } else {
            RangeError::NegativeLimit
        }));
    }
    if method == "PUT" && requested != ALL {
        return Err(ApiError::PutLimitNotAllowed);
    }
    let capped = requested.restrict(max_rows.map(i128::from));
    let capped = if requested.has_limit_zero() {
        LIMIT_ZERO
    } else {
        capped
    };
    Ok(Page {
        offset: to_i64(requested.lower),
        limit: capped.limit().map(to_i64),
    })
}

/// `limit`/`offset` as one interval, as PostgREST merges them.
fn query_interval(limit: Option<i64>, offset: Option<i64>) -> Interval {
    let limit = limit.map(|n| ALL.restrict(Some(n.into())));
    let offset = offset.map(|o| Interval::geq(o.into()));
    match (limit, offset) {
        (Some(l), Some(o)) => {
            let n = l.limit().unwrap_or(0);
            Interval {
                lower: o.lower,
                upper: o.lower + n - 1,
            }
        }
        (Some(l), None) => l,
        (None, Some(o)) => o,
        (None, None) => ALL,
    }
}

/// `Range: <first>-[<last>]` (no unit); anything else means every row.
fn parse_range_header(value: &str) -> Interval {
    let Some((first, last)) = value.split_once('-') else {
        return ALL;
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if first.is_empty() || !digits(first) || !digits(last) {
        return ALL;
    }
    let number = |s: &str| read_haskell_int(s).map_or(0, |n| i128::from(n.saturating_i64()));
    let lower = Interval::geq(number(first));
    if last.is_empty() {
        return lower;
    }
    lower.intersect(Interval {
        lower: i128::MIN,
        upper: number(last),
    })
}

fn to_i64(n: i128) -> i64 {
    i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX })
}

/// An integer as Haskell's `read` finds it: the magnitude modulo 2^64 and
/// whether it overflowed `u64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HaskellInt {
    negative: bool,
    magnitude: u64,
    overflow: bool,
}

impl HaskellInt {
    /// As an `Int64`: wraps around, like `fromInteger`.
    pub(crate) fn wrapping_i64(self) -> i64 {
        let n = self.magnitude as i64;
        if self.negative { n.wrapping_neg() } else { n }
    }

    /// As an `Integer` clamped to `i64`.
    pub(crate) fn saturating_i64(self) -> i64 {
        match (self.negative, self.overflow) {
            (false, true) => i64::MAX,
            (true, true) => i64::MIN,
            (false, false) => i64::try_from(self.magnitude).unwrap_or(i64::MAX),
            (true, false) => 0i64
                .checked_sub_unsigned(self.magnitude)
                .unwrap_or(i64::MIN),
        }
    }
}

/// Haskell's `readMaybe` for an integral type: surrounding whitespace and
/// parentheses, a `-` lexeme (`- 5` too), then decimal digits or a `0x`
/// (hex) / `0o` (octal) literal, and nothing else (`+5`, `5.0`, `1e3` fail).
pub(crate) fn read_haskell_int(s: &str) -> Option<HaskellInt> {
    let (n, rest) = parens(s)?;
    rest.trim_start().is_empty().then_some(n)
}

fn parens(s: &str) -> Option<(HaskellInt, &str)> {
    let s = s.trim_start();
    match s.strip_prefix('(') {
        Some(inner) => {
            let (n, rest) = parens(inner)?;
            Some((n, rest.trim_start().strip_prefix(')')?))
        }
        None => signed(s),
    }
}

fn signed(s: &str) -> Option<(HaskellInt, &str)> {
    const SYMBOL: &str = "!#$%&*+./<=>?@\\^|-~:";
    let symbol_len = s.find(|c: char| !SYMBOL.contains(c)).unwrap_or(s.len());
    match s.get(..symbol_len)? {
        "" => literal(s),
        "-" => {
            let (n, rest) = literal(s.get(1..)?.trim_start())?;
            Some((
                HaskellInt {
                    negative: true,
                    ..n
                },
                rest,
            ))
        }
        _ => None,
    }
}

fn literal(s: &str) -> Option<(HaskellInt, &str)> {
    let (radix, body) = match s.get(..2) {
        Some("0x" | "0X") => (16, s.get(2..)?),
        Some("0o" | "0O") => (8, s.get(2..)?),
        _ => (10, s),
    };
    let len = body
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(body.len());
    if len == 0 {
        // `0x` without digits lexes as `0` followed by junk.
        return None;
    }
    let mut n = HaskellInt {
        negative: false,
        magnitude: 0,
        overflow: false,
    };
    for c in body.get(..len)?.chars() {
        let d = u64::from(c.to_digit(radix)?);
        let (m, o1) = n.magnitude.overflowing_mul(u64::from(radix));
        let (m, o2) = m.overflowing_add(d);
        n.magnitude = m;
        n.overflow |= o1 || o2;
    }
    Some((n, body.get(len..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(
        range: Option<&str>,
        limit: Option<&str>,
        offset: Option<&str>,
    ) -> Result<Page, ApiError> {
        let int = |s: &str| s.parse::<i64>().expect("an integer");
        page("GET", range, limit.map(int), offset.map(int), None)
    }

    fn ok(offset: i64, limit: Option<i64>) -> Result<Page, ApiError> {
        Ok(Page { offset, limit })
    }

    fn range_error(e: RangeError) -> Result<Page, ApiError> {
        Err(ApiError::InvalidRange(e))
    }

    #[test]
    fn nothing_asked_is_every_row() {
        assert_eq!(get(None, None, None), ok(0, None));
    }

    #[test]
    fn limit_and_offset() {
        assert_eq!(get(None, Some("3"), None), ok(0, Some(3)));
        assert_eq!(get(None, None, Some("2")), ok(2, None));
        assert_eq!(get(None, Some("3"), Some("2")), ok(2, Some(3)));
        assert_eq!(get(None, None, Some("0")), ok(0, None));
    }

    #[test]
    fn limit_zero_reads_no_rows() {
        assert_eq!(get(None, Some("0"), None), ok(0, Some(0)));
        assert_eq!(get(Some("2-5"), Some("0"), None), ok(0, Some(0)));
        // PostgREST's quirk: limit=0 with an offset is not the limit-zero
        // interval any more, so it is an empty range.
        assert_eq!(
            get(None, Some("0"), Some("5")),
            range_error(RangeError::NegativeLimit)
        );
    }

    #[test]
    fn a_negative_limit_is_pgrst103() {
        assert_eq!(
            get(None, Some("-1"), None),
            range_error(RangeError::NegativeLimit)
        );
        assert_eq!(
            get(None, Some("-1"), Some("3")),
            range_error(RangeError::NegativeLimit)
        );
        let err = get(None, Some("-1"), None).unwrap_err();
        assert_eq!((err.status(), err.code()), (416, "PGRST103"));
    }

    #[test]
    fn a_negative_offset_is_clamped_and_shortens_a_limit() {
        assert_eq!(get(None, None, Some("-4")), ok(0, None));
        // [-2, 2] ∩ [0, ∞) = [0, 2]
        assert_eq!(get(None, Some("5"), Some("-2")), ok(0, Some(3)));
        // [-1, -1] ends at -1: taken for limit=0.
        assert_eq!(get(None, Some("1"), Some("-1")), ok(0, Some(0)));
        assert_eq!(
            get(None, Some("1"), Some("-2")),
            range_error(RangeError::NegativeLimit)
        );
    }

    #[test]
    fn the_range_header() {
        assert_eq!(get(Some("0-9"), None, None), ok(0, Some(10)));
        assert_eq!(get(Some("10-"), None, None), ok(10, None));
        assert_eq!(get(Some("0-0"), None, None), ok(0, Some(1)));
        assert_eq!(get(Some("007-008"), None, None), ok(7, Some(2)));
    }

    #[test]
    fn a_malformed_range_header_is_ignored() {
        for junk in [
            "items=0-9",
            "bytes=0-9",
            "-5",
            "a-b",
            "0-9,20-29",
            " 0-9",
            "0 - 9",
            "0-9 ",
            "",
            "-",
            "0--9",
            "0-+9",
            "٣-٤",
        ] {
            assert_eq!(get(Some(junk), None, None), ok(0, None), "{junk:?}");
        }
    }

    #[test]
    fn an_offside_range_header_is_pgrst103() {
        assert_eq!(
            get(Some("1-0"), None, None),
            range_error(RangeError::LowerGtUpper)
        );
        assert_eq!(
            get(Some("5-2"), Some("10"), None),
            range_error(RangeError::LowerGtUpper)
        );
    }

    #[test]
    fn the_header_intersects_limit_and_offset() {
        // Headers override a wider limit …
        assert_eq!(get(Some("0-1"), Some("3"), None), ok(0, Some(2)));
        // … and a narrower limit overrides the header.
        assert_eq!(get(Some("0-9"), Some("3"), None), ok(0, Some(3)));
        assert_eq!(get(Some("2-"), Some("3"), Some("1")), ok(2, Some(2)));
        // Disjoint: the header is fine, so the limit is blamed.
        assert_eq!(
            get(Some("10-20"), Some("3"), None),
            range_error(RangeError::NegativeLimit)
        );
    }

    #[test]
    fn the_range_header_counts_only_on_get() {
        for method in ["HEAD", "POST", "PATCH", "DELETE"] {
            assert_eq!(page(method, Some("1-0"), None, None, None), ok(0, None));
            assert_eq!(
                page(method, Some("2-3"), Some(5), None, None),
                ok(0, Some(5))
            );
        }
    }

    #[test]
    fn put_takes_no_range() {
        assert_eq!(page("PUT", None, None, None, None), ok(0, None));
        assert_eq!(page("PUT", Some("0-1"), None, None, None), ok(0, None));
        assert_eq!(
            page("PUT", None, Some(1), None, None),
            Err(ApiError::PutLimitNotAllowed)
        );
        assert_eq!(
            page("PUT", None, None, Some(1), None),
            Err(ApiError::PutLimitNotAllowed)
        );
        // offset=0 is every row again.
        assert_eq!(page("PUT", None, None, Some(0), None), ok(0, None));
    }

    #[test]
    fn db_max_rows_caps_the_limit_but_not_the_offset() {
        let capped = |r, l, o| page("GET", r, l, o, Some(10));
        assert_eq!(capped(None, None, None), ok(0, Some(10)));
        assert_eq!(capped(None, Some(3), None), ok(0, Some(3)));
        assert_eq!(capped(None, Some(30), Some(5)), ok(5, Some(10)));
        assert_eq!(capped(Some("20-"), None, None), ok(20, Some(10)));
        assert_eq!(capped(None, Some(0), None), ok(0, Some(0)));
        assert_eq!(page("GET", None, None, None, Some(0)), ok(0, Some(0)));
    }

    #[test]
    fn haskell_integers() {
        let read = |s: &str| read_haskell_int(s).map(HaskellInt::saturating_i64);
        assert_eq!(read("42"), Some(42));
        assert_eq!(read("-42"), Some(-42));
        assert_eq!(read("  ( ( -42 ) ) "), Some(-42));
        assert_eq!(read("0o17"), Some(15));
        assert_eq!(read("0XfF"), Some(255));
        assert_eq!(read("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(read("-99999999999999999999999"), Some(i64::MIN));
        for bad in [
            "", "-", "--1", "-(1)", "(1", "1)", "0x", "0b1", "1_000", "1e3", "1.", "½", "1 2",
        ] {
            assert_eq!(read(bad), None, "{bad:?}");
        }
        let wrap = |s: &str| read_haskell_int(s).map(HaskellInt::wrapping_i64);
        assert_eq!(wrap("18446744073709551617"), Some(1));
        assert_eq!(wrap("-1"), Some(-1));
    }
}
