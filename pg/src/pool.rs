//! A pool of connections (deadpool), and the lease a request holds one by.
//!
//! A lease is used from the request's own task (a spawned task per request
//! costs a hand-off between threads). Should it be dropped mid-exchange (the
//! client hung up), it cancels the statement running (see `cancel`),
//! finishes what was sent and ends the transaction in a task of its own
//! before the connection goes back to the pool, so no pooled connection is
//! ever left inside a transaction and no backend works on for nobody. A
//! connection whose state is unknown is closed.

use std::time::Duration;

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult, TimeoutType};

use crate::connection::{Conn, Error};
use crate::tls::{PgConnect, SettingsError};

/// Opens connections for the pool, and checks them as they come back out.
struct Manager {
    connect: PgConnect,
    config: tokio_postgres::Config,
}

impl managed::Manager for Manager {
    type Type = Conn;
    type Error = Error;

    async fn create(&self) -> Result<Conn, Error> {
        crate::startup::open(&self.config, &self.connect).await
    }

    async fn recycle(&self, conn: &mut Conn, _: &Metrics) -> RecycleResult<Error> {
        if conn.closed_while_idle() {
            return Err(RecycleError::message("the connection is closed"));
        }
        Ok(())
    }
}

type Object = managed::Object<Manager>;

/// Why no connection could be had.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// Every connection stayed in use for the whole wait.
    #[error("timed out waiting for a free connection")]
    Timeout,
    /// Opening a connection failed; with the causes.
    #[error("{0}")]
    Unreachable(String),
}

#[derive(Clone)]
pub struct Pool(managed::Pool<Manager>);

impl Pool {
    /// Up to `size` connections opened with `connect`; `get` waits `wait`
    /// at most for one to come free.
    pub fn new(
        config: tokio_postgres::Config,
        connect: PgConnect,
        size: usize,
        wait: Duration,
    ) -> Result<Pool, SettingsError> {
        managed::Pool::builder(Manager { connect, config })
            .max_size(size)
            .wait_timeout(Some(wait))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map(Pool)
            .map_err(|e| SettingsError::Pool(e.to_string()))
    }

    /// A connection: an idle one, else a new one while under `size`.
    pub async fn get(&self) -> Result<Lease, PoolError> {
        match self.0.get().await {
            Ok(conn) => Ok(Lease(Some(conn))),
            Err(managed::PoolError::Timeout(TimeoutType::Wait)) => Err(PoolError::Timeout),
            Err(managed::PoolError::Backend(e)) => {
                Err(PoolError::Unreachable(crate::with_causes(&e)))
            }
            Err(other) => Err(PoolError::Unreachable(other.to_string())),
        }
    }

    /// The pool's size and use.
    pub fn status(&self) -> deadpool::Status {
        self.0.status()
    }

    /// Closes connections idle longer than `idle` or older than `lifetime`,
    /// checking every second; connections in use are checked once they are
    /// back.
    pub fn expire(&self, idle: Duration, lifetime: Duration) -> tokio::task::JoinHandle<()> {
        let pool = self.0.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                pool.retain(|_, m| m.last_used() < idle && m.age() < lifetime);
            }
        })
    }
}

/// A pooled connection held for one exchange; `release` hands it back.
pub struct Lease(Option<Object>);

impl Lease {
    pub fn conn(&mut self) -> &mut Conn {
        self.0
            .as_mut()
            .expect("the lease holds its connection until released")
    }

    /// Back to the pool when `clean` and outside any transaction, else
    /// closed.
    pub fn release(mut self, clean: bool) {
        let conn = self.0.take().expect("released once");
        if !clean || !conn.is_reusable() {
            drop(Object::take(conn));
        }
    }
}

impl Drop for Lease {
    /// Dropped unreleased, mid-exchange: a statement still running is
    /// cancelled, what was sent is drained, then ROLLBACK ends the
    /// transaction if it is still open.
    fn drop(&mut self) {
        if let Some(mut conn) = self.0.take() {
            tokio::spawn(async move {
                if !conn.is_settled()
                    && let Some(target) = conn.cancel.clone()
                    && let Some(pool) = Object::pool(&conn)
                    && let Err(e) = target.send(&pool.manager().connect).await
                {
                    eprintln!("cancelling a dropped request's statement: {e}");
                }
                let recovered = conn.recover().await;
                Lease(Some(conn)).release(recovered);
            });
        }
    }
}
