//! Automatic recovery when the database goes away, as PostgREST's connection
//! worker does: one background loop reloads the schema cache, retrying with
//! exponential backoff (1, 2, 4 … 32 s), while requests keep trying the pool
//! and answer 503 with `Retry-After` set to the seconds until the next try.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// PostgREST's backoff cap.
const MAX_DELAY_SECS: u64 = 32;

#[derive(Default)]
pub struct Recovery {
    /// Seconds until the next attempt; 0 when no recovery is running.
    delay_secs: AtomicU64,
}

impl Recovery {
    /// Starts the recovery loop unless one is running, and returns the
    /// seconds a client should wait (`Retry-After`). `attempt` reconnects and
    /// reloads; the loop ends at its first success.
    pub fn start<F, Fut>(self: &Arc<Self>, attempt: F) -> u64
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), crate::SetupError>> + Send,
    {
        if self
            .delay_secs
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return self.retry_after();
        }
        tracing::error!("Database connection lost. Attempting to reconnect...");
        let recovery = self.clone();
        tokio::spawn(async move {
            loop {
                let delay = recovery.retry_after();
                tokio::time::sleep(Duration::from_secs(delay)).await;
                match attempt().await {
                    Ok(()) => {
                        tracing::info!("Connection successful; schema cache reloaded");
                        recovery.delay_secs.store(0, Ordering::Release);
                        return;
                    }
                    Err(why) => {
                        let next = (delay * 2).min(MAX_DELAY_SECS);
                        tracing::warn!("Reconnection failed ({why}); retrying in {next} s");
                        recovery.delay_secs.store(next, Ordering::Release);
                    }
                }
            }
        });
        1
    }

    pub fn is_recovering(&self) -> bool {
        self.delay_secs.load(Ordering::Acquire) != 0
    }

    /// The seconds until the next attempt (1 when none is scheduled yet).
    pub fn retry_after(&self) -> u64 {
        self.delay_secs.load(Ordering::Acquire).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test(start_paused = true)]
    async fn backs_off_exponentially_until_an_attempt_succeeds() {
        let recovery = Arc::new(Recovery::default());
        let attempts = Arc::new(AtomicUsize::new(0));
        let counter = attempts.clone();
        let attempt = move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 3 {
                    Err(crate::SetupError::Database(format!("down {n}")))
                } else {
                    Ok(())
                }
            }
        };
        assert_eq!(recovery.start(attempt.clone()), 1);
        // A second failure while recovering joins the running loop.
        assert_eq!(recovery.start(attempt), 1);
        for expected in [2, 4, 8] {
            tokio::time::sleep(Duration::from_millis(1001 * expected / 2)).await;
            assert_eq!(recovery.retry_after(), expected);
        }
        tokio::time::sleep(Duration::from_secs(9)).await;
        assert_eq!(attempts.load(Ordering::SeqCst), 4);
        assert_eq!(recovery.delay_secs.load(Ordering::SeqCst), 0);
    }
}
