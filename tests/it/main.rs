//! pgrest's integration tests: real HTTP against the real server and a real
//! PostgreSQL (one throwaway cluster for the whole binary).

mod cancellation;
mod config;
mod demo;
mod errors;
mod harness;
mod media;
mod npm;
mod operators;
mod paging;
mod postgrest_js;
mod profiles;
mod read;
mod resources;
