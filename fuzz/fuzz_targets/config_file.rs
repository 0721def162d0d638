//! The config file: parsed and resolved into a configuration (or the error
//! PostgREST would stop with), with one environment variable to
//! interpolate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgrest_translator::engine::resolve_config;

fuzz_target!(|text: &str| {
    let env = [("HOME".to_string(), "/home/app".to_string())];
    let _ = resolve_config(Some(text), &env, &[], &[]);
});
