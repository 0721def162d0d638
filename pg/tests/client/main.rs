//! The client against a real PostgreSQL: one throwaway cluster for the
//! whole binary, on its unix socket and on 127.0.0.1 with TLS.

mod cancel;
mod common;
mod connecting;
mod listen;
mod pipelines;
mod replication;
