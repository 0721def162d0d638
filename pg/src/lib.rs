//! pgrest's PostgreSQL client. It speaks the wire protocol itself (framed by
//! `postgres-protocol`, tokio-postgres's own codec) so that a request's
//! statements go out as one pipeline closed by a single Sync: tokio-postgres
//! ends every statement with a Sync of its own, and each Sync costs the
//! server a transaction-state check and a flushed send; one per request
//! nearly doubles what PostgreSQL alone serves (pgbench, pipelined or not).
//! tokio-postgres parses the connection string (`tokio_postgres::Config`).
//!
//! - `tls`, `require_auth`, `startup`: connecting as libpq does (`sslmode`,
//!   `sslrootcert`, `require_auth`, `channel_binding`, SCRAM-SHA-256-PLUS).
//! - `pipeline`, `values`: statements behind one Sync, and their values.
//! - `pool`: a deadpool of connections; a `Lease` dropped mid-exchange
//!   cancels its statement (`cancel`) and ends its transaction.
//! - `listen`: a connection of its own that LISTENs on a channel.
//! - `replication`: a logical replication stream (`pgoutput`), decoded.

mod cancel;
mod connection;
mod listen;
mod pipeline;
mod pool;
mod replication;
mod require_auth;
mod startup;
pub mod tls;
mod values;

pub use connection::{Conn, DbError, Error, TxStatus};
pub use deadpool::Status as PoolStatus;
pub use listen::Listening;
pub use pipeline::{Executed, RowUse, Rows, Step};
pub use pool::{Lease, Pool, PoolError};
pub use replication::{Change, Datum, Lsn, Relation, RelationColumn, Replication};
pub use values::Value;

/// An error and its causes ("error performing TLS handshake: invalid peer
/// certificate: ..."): a top-level message alone hides the reason.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}
