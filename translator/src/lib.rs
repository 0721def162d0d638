//! pgrest's translator: PostgREST semantics as a pure library. It turns an HTTP
//! request plus the schema cache into SQL statements, and statement results into
//! an HTTP response. It does no I/O and reads no clock; hosts (the wasm
//! component's callers) provide both.
//!
//! The pipeline follows PostgREST's: `api_request` (HTTP -> ApiRequest),
//! `plan`, `query` (SQL text), `response`, beside `schema_cache`, `auth`,
//! `config`, `cors` and `error`; `app` drives it and `engine` is the exported surface.

// `ApiError` carries PostgREST's full error data; it travels only on the
// cold path, and the Ok values (plans, statements) are as large.
#![allow(clippy::result_large_err)]

pub mod api_request;
pub(crate) mod app;
pub mod auth;
pub mod config;
pub mod contract;
pub(crate) mod cors;
pub mod engine;
pub(crate) mod error;
mod fuzzy;
mod haskell_show;
pub(crate) mod openapi;
pub(crate) mod plan;
pub(crate) mod query;
pub(crate) mod response;
pub(crate) mod schema_cache;
