//! Status and `Content-Range` of a read, from the rows it asked for, the
//! rows it got and the total when one was counted — PostgREST 16's rules.

use crate::error::{ApiError, RangeError};

/// What the range part of a read response is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRange {
    /// 200, 206 (a known total larger than the page) or 416.
    pub status: u16,
    /// `first-last/total`, `*` for an empty page or an unknown total.
    pub content_range: String,
    /// With 416: PGRST103, whose body replaces the rows (on HEAD too).
    pub error: Option<ApiError>,
}

/// `offset`: the first position asked for (the `Page` offset);
/// `page_rows`: how many rows the page holds; `total`: the count, when
/// `Prefer: count=…` produced one.
///
/// Without a total the status is always 200. With one: 416 when `offset`
/// is past it (an offset equal to the total is not: it is an empty 206),
/// 206 when the page holds fewer rows than the total, 200 otherwise. The
/// range is `*` when the page is empty or the total is 0.
pub fn read_range(offset: i64, page_rows: i64, total: Option<i64>) -> ReadRange {
    let lower = i128::from(offset);
    let upper = lower + i128::from(page_rows) - 1;
    let range = if total != Some(0) && lower <= upper {
        format!("{lower}-{upper}")
    } else {
        "*".to_string()
    };
    let content_range = match total {
        Some(t) => format!("{range}/{t}"),
        None => format!("{range}/*"),
    };
    let (status, error) = match total.map(i128::from) {
        Some(t) if lower > t => (
            416,
            Some(ApiError::InvalidRange(RangeError::OutOfBounds {
                lower: u64::try_from(offset).unwrap_or(0),
                total: u64::try_from(t).unwrap_or(0),
            })),
        ),
        Some(t) if 1 + upper - lower < t => (206, None),
        _ => (200, None),
    };
    ReadRange {
        status,
        content_range,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(offset: i64, rows: i64, total: Option<i64>, status: u16, range: &str) {
        let r = read_range(offset, rows, total);
        assert_eq!(
            (r.status, r.content_range.as_str()),
            (status, range),
            "{offset} {rows} {total:?}"
        );
        assert_eq!(r.error.is_some(), status == 416);
    }

    #[test]
    fn without_a_count() {
        check(0, 15, None, 200, "0-14/*");
        check(10, 5, None, 200, "10-14/*");
        check(0, 1, None, 200, "0-0/*");
        check(0, 0, None, 200, "*/*");
        // Past the end without a count: nothing to compare with.
        check(100, 0, None, 200, "*/*");
    }

    #[test]
    fn with_a_count() {
        check(0, 15, Some(15), 200, "0-14/15");
        check(0, 2, Some(15), 206, "0-1/15");
        check(3, 2, Some(15), 206, "3-4/15");
        check(10, 5, Some(15), 206, "10-14/15");
        // A planned count can be below the rows actually read.
        check(0, 7, Some(5), 200, "0-6/5");
    }

    #[test]
    fn an_empty_table_with_a_count() {
        check(0, 0, Some(0), 200, "*/0");
    }

    #[test]
    fn limit_zero_with_a_count() {
        check(0, 0, Some(10), 206, "*/10");
        check(0, 0, None, 200, "*/*");
    }

    #[test]
    fn an_offset_at_the_total_is_an_empty_206() {
        check(15, 0, Some(15), 206, "*/15");
        check(1, 0, Some(1), 206, "*/1");
    }

    #[test]
    fn an_offset_past_the_total_is_416() {
        check(100, 0, Some(15), 416, "*/15");
        check(1, 0, Some(0), 416, "*/0");
        let r = read_range(100, 0, Some(15));
        let err = r.error.unwrap();
        assert_eq!((err.status(), err.code()), (416, "PGRST103"));
        assert_eq!(
            err,
            ApiError::InvalidRange(RangeError::OutOfBounds {
                lower: 100,
                total: 15
            })
        );
    }
}
