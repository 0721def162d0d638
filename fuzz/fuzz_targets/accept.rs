//! `Accept`: parsed, negotiated against a table read's media types, and
//! each media type rendered back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgrest_translator::api_request::accept::{
    MediaType, body_type, negotiate, parse_accept, relation_read_types,
};

fuzz_target!(|accept: &str| {
    let accepts = parse_accept(Some(accept));
    for media in &accepts {
        let _ = media.to_mime();
    }
    let produces = relation_read_types();
    for plan_enabled in [false, true] {
        if let Ok(chosen) = negotiate(&accepts, &produces, plan_enabled) {
            let _ = body_type(&chosen, &produces).content_type();
        }
    }
    let _ = MediaType::decode(accept).to_mime();
});
