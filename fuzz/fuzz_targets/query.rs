//! The query grammar: any query string parses into parameters or a
//! PostgREST error, read as a table's and as a function's (`GET /rpc/f`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgrest_translator::api_request::query_params::{ParseOptions, parse_query_with};

fuzz_target!(|query: &str| {
    for rpc_read in [false, true] {
        let _ = parse_query_with(query, ParseOptions { rpc_read });
    }
});
