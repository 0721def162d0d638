//! pgrest's integration tests: real HTTP against the real server and a real
//! PostgreSQL (one throwaway cluster for the whole binary).

mod aggregates;
mod auth;
mod cancellation;
mod config;
mod connections;
mod demo;
mod domain_representations;
mod embed;
mod errors;
mod explain;
mod gateway;
mod geojson;
mod harness;
mod in_db_config;
mod jco;
mod lifecycle;
mod media;
mod media_handlers;
mod node_host;
mod npm;
mod observe;
mod openapi;
mod operators;
mod paging;
mod parity;
mod postgrest_js;
mod prepared;
mod profiles;
mod read;
mod resources;
mod role_settings;
mod rpc;
mod swagger_ui;
mod timezone;
mod writes;
