//! Reading a request body under the limits: `server-max-body-bytes` (a
//! declared `Content-Length` over it is refused before a byte of the body
//! is read), `server-body-timeout` between two pieces of it, and
//! `server-body-bytes-in-flight` for all bodies held at once: a request
//! whose body would pass it waits its turn, as long as the body timeout.
//!
//! The body is gathered into the one buffer the component call lowers from
//! and the statements bind from (no copy between the two).

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::component::wit;

/// The bytes-in-flight semaphore counts KiB (its permits are `u32`).
const UNIT: u64 = 1024;

pub struct Limits {
    pub max_body_bytes: u64,
    timeout: Option<Duration>,
    /// One permit per KiB of body held.
    in_flight: Arc<Semaphore>,
    in_flight_units: usize,
}

/// A body not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    TooLarge,
    /// No bytes of it for `server-body-timeout`.
    TimedOut,
    /// The client broke it off (or sent a malformed chunk).
    Interrupted,
    /// Too many bytes of other bodies in flight for the body timeout.
    Busy,
}

/// A body's place among the bytes in flight (see `Limits::reserve`).
pub struct Reserved {
    declared: Option<u64>,
    held: Option<OwnedSemaphorePermit>,
}

/// A body read, and its share of the bytes in flight, released when this
/// is dropped.
pub struct Body {
    pub bytes: Vec<u8>,
    _held: Option<OwnedSemaphorePermit>,
}

impl Limits {
    pub fn new(settings: &crate::settings::ClientLimits) -> Limits {
        let units = usize::try_from(settings.body_bytes_in_flight.div_ceil(UNIT))
            .unwrap_or(usize::MAX)
            .min(Semaphore::MAX_PERMITS);
        Limits {
            max_body_bytes: settings.max_body_bytes,
            timeout: settings.body_timeout(),
            in_flight: Arc::new(Semaphore::new(units)),
            in_flight_units: units,
        }
    }

    /// Refuses a declared length over the limit, before reading anything.
    pub fn check_declared(&self, declared: Option<u64>) -> Result<(), Refused> {
        match declared {
            Some(n) if n > self.max_body_bytes => Err(Refused::TooLarge),
            _ => Ok(()),
        }
    }

    /// Takes a body's place among the bytes in flight before reading it
    /// (`declared`: its `Content-Length`, already checked), waiting at most
    /// the body timeout; a body of unknown length takes it as it comes.
    pub async fn reserve(&self, declared: Option<u64>) -> Result<Reserved, Refused> {
        let mut held = None;
        if let Some(n) = declared.filter(|&n| n > 0) {
            self.hold(&mut held, n).await?;
        }
        Ok(Reserved { declared, held })
    }

    /// Reads the whole body into its reserved place.
    pub async fn read(&self, mut body: Incoming, reserved: Reserved) -> Result<Body, Refused> {
        let Reserved { declared, mut held } = reserved;
        let capacity = declared.and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
        let mut bytes = Vec::with_capacity(capacity);
        while let Some(frame) = self.within_timeout(body.frame()).await? {
            let Ok(data) = frame.map_err(|_| Refused::Interrupted)?.into_data() else {
                continue; // trailers
            };
            let total = (bytes.len() + data.len()) as u64;
            if total > self.max_body_bytes {
                return Err(Refused::TooLarge);
            }
            if declared.is_none() {
                self.hold(&mut held, total).await?;
            }
            bytes.extend_from_slice(&data);
        }
        Ok(Body { bytes, _held: held })
    }

    /// Grows `held` to cover `bytes`, waiting at most the body timeout.
    async fn hold(
        &self,
        held: &mut Option<OwnedSemaphorePermit>,
        bytes: u64,
    ) -> Result<(), Refused> {
        let units = usize::try_from(bytes.div_ceil(UNIT))
            .unwrap_or(usize::MAX)
            .min(self.in_flight_units);
        let more = units - held.as_ref().map_or(0, OwnedSemaphorePermit::num_permits);
        if more == 0 {
            return Ok(());
        }
        let more = u32::try_from(more).map_err(|_| Refused::Busy)?;
        let acquire = self.in_flight.clone().acquire_many_owned(more);
        let permit = match self.timeout {
            Some(t) => tokio::time::timeout(t, acquire)
                .await
                .map_err(|_| Refused::Busy)?,
            None => acquire.await,
        }
        .expect("never closed");
        match held {
            Some(h) => h.merge(permit),
            None => *held = Some(permit),
        }
        Ok(())
    }

    async fn within_timeout<T>(&self, next: impl Future<Output = T>) -> Result<T, Refused> {
        match self.timeout {
            Some(t) => tokio::time::timeout(t, next)
                .await
                .map_err(|_| Refused::TimedOut),
            None => Ok(next.await),
        }
    }

    /// Reads and drops a body the answer did not need, up to the body limit
    /// and under the body timeout, so the client, still sending, reads the
    /// answer (closing a socket with unread bytes resets it, and the answer
    /// may be lost with them). `serving` is held until then.
    pub fn discard<T: Send + 'static>(self: &Arc<Self>, mut body: Incoming, serving: T) {
        let limits = self.clone();
        tokio::spawn(async move {
            let _serving = serving;
            let mut left = limits.max_body_bytes;
            while let Ok(Some(Ok(frame))) = limits.within_timeout(body.frame()).await {
                let n = frame.data_ref().map_or(0, |d| d.len() as u64);
                match left.checked_sub(n) {
                    Some(rest) => left = rest,
                    None => break,
                }
            }
        });
    }
}

impl Refused {
    /// The failure the component renders for it.
    pub fn host_error(&self, limits: &Limits) -> wit::HostError {
        match self {
            Refused::TooLarge => wit::HostError::BodyTooLarge(limits.max_body_bytes),
            Refused::TimedOut => {
                wit::HostError::BodyTimeout(limits.timeout.map_or(0, |t| t.as_secs() as u32))
            }
            Refused::Interrupted => wit::HostError::BodyInterrupted,
            Refused::Busy => wit::HostError::BodiesInFlight,
        }
    }
}
