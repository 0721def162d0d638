//! `Range` with `limit` and `offset`: the input's lines are the header, the
//! `limit` integer and the `offset` integer (a missing or unreadable line:
//! absent; the `query` target fuzzes their grammar).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgrest_translator::api_request::range::page;

fuzz_target!(|input: &str| {
    let mut lines = input.splitn(3, '\n');
    let range = lines.next();
    let mut integer = || lines.next().and_then(|line| line.parse::<i64>().ok());
    let (limit, offset) = (integer(), integer());
    for method in ["GET", "PUT"] {
        for max_rows in [None, Some(0), Some(1000), Some(i64::MAX)] {
            let _ = page(method, range, limit, offset, max_rows);
        }
    }
});
