//! pgrest's integration tests: real HTTP against the real server and a real
//! PostgreSQL (one throwaway cluster for the whole binary).

mod aggregates;
mod auth;
mod cancellation;
mod config;
mod connections;
mod db_failures;
mod demo;
mod domain_representations;
mod embed;
mod errors;
mod explain;
mod failed_commit;
mod faults;
mod from_wit;
mod gateway;
mod geojson;
mod grammar;
mod harness;
mod in_db_config;
mod isolation;
mod jco;
mod lifecycle;
mod limits;
mod media;
mod media_handlers;
mod node_host;
mod npm;
mod observe;
mod openapi;
mod operators;
mod paging;
mod parity;
mod parity_embed;
mod parity_rpc;

mod parity_writes;

mod parity_auth;
mod parity_media;
mod postgrest_js;
mod prepared;
mod profiles;
mod read;
mod request_target;
mod resources;
mod role_settings;
mod rpc;
mod swagger_ui;
mod timezone;
mod writes;
