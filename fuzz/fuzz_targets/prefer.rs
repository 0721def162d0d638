//! `Prefer`: each input line is one header value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgrest_translator::api_request::preferences::Preferences;

fuzz_target!(|values: &str| {
    let prefer = Preferences::parse(values.split('\n'));
    let _ = prefer.check_strict();
    let _ = prefer.applied_header();
    let _ = prefer.applied_to_read(true).applied_header();
});
