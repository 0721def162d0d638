//! pgrest's translator: PostgREST semantics as a pure library. It turns an HTTP
//! request plus the schema cache into SQL statements, and statement results into
//! an HTTP response. It does no I/O and reads no clock; hosts (the wasm
//! component's callers) provide both.
//!
//! The pipeline follows PostgREST's: `api_request` (HTTP -> ApiRequest),
//! `plan`, `query` (SQL text), `response`, beside `schema_cache`, `auth`,
//! `config` and `error`.

pub mod contract;
pub mod error;
