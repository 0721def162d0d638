//! pgrest's integration tests: real HTTP against the real server and a real
//! PostgreSQL (one throwaway cluster for the whole binary).

mod cancellation;
mod errors;
mod gateway;
mod harness;
mod jco;
mod node_host;
mod npm;
mod parity;
mod read;
