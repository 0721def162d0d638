//! `Range` with `limit` and `offset`: the input's lines are the header, the
//! `limit` value and the `offset` value (a missing line: absent).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgrest_translator::api_request::range::page;

fuzz_target!(|input: &str| {
    let mut lines = input.splitn(3, '\n');
    let (range, limit, offset) = (lines.next(), lines.next(), lines.next());
    for method in ["GET", "PUT"] {
        for max_rows in [None, Some(0), Some(1000), Some(i64::MAX)] {
            let _ = page(method, range, limit, offset, max_rows);
        }
    }
});
