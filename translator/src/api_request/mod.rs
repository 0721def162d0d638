//! HTTP request -> ApiRequest: target, query-string grammar, Prefer, Accept /
//! Content-Type negotiation, Range, profiles.

pub mod accept;
pub mod ast;
mod cursor;
mod filter;
mod order;
pub mod preferences;
pub mod profile;
pub mod query_params;
pub mod range;
mod select;
pub mod target;

#[cfg(test)]
mod query_params_tests;
