//! Deadlines of one client connection while no request of it is being
//! served: `server-read-header-timeout` from its first byte to a complete
//! request head (and from the accept to the first request), then
//! `server-idle-timeout` between requests. A connection past its deadline
//! is closed; one that sent part of an HTTP/1 head first gets a 408 with a
//! JSON body.
//!
//! hand-written rather than hyper's `header_read_timeout`: hyper starts
//! that timer when a connection becomes idle, so it is also the keep-alive
//! timeout; it closes without an answer; and it covers neither the bytes
//! hyper-util reads to tell HTTP/1 from HTTP/2 nor HTTP/2 connections. The
//! request body has its own timeout (`request_body`), counted while a
//! request is served.

use crate::parse_errors::RawAnswers;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;

/// What the deadlines are computed from, shared by the socket (bytes),
/// the service (requests) and the watching task.
pub struct Watch {
    state: Mutex<State>,
    changed: Notify,
    header_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
}

struct State {
    /// Requests handed to the service and not answered yet.
    in_flight: usize,
    /// Since when no request was served: the accept, the last answer or
    /// the last byte of an answer written (a slow reader is not idle).
    idle_since: Instant,
    /// A request was answered on this connection.
    served: bool,
    /// The first byte received while no request was in flight.
    head_started: Option<Instant>,
    /// Whether the client speaks HTTP/2 (decided by its first bytes).
    http2: Option<bool>,
    /// Answer 408 before closing (the watch expired on a partial head).
    answer_timeout: bool,
}

impl Watch {
    pub fn new(header_timeout: Option<Duration>, idle_timeout: Option<Duration>) -> Arc<Watch> {
        Arc::new(Watch {
            state: Mutex::new(State {
                in_flight: 0,
                idle_since: Instant::now(),
                served: false,
                head_started: None,
                http2: None,
                answer_timeout: false,
            }),
            changed: Notify::new(),
            header_timeout,
            idle_timeout,
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("connection watch lock")
    }

    /// Marks a request as being served until the guard is dropped.
    pub fn request(self: &Arc<Self>) -> InFlight {
        let mut state = self.state();
        state.in_flight += 1;
        state.head_started = None;
        drop(state);
        self.changed.notify_one();
        InFlight(self.clone())
    }

    /// The deadline in force, and whether it is a partial head's.
    fn deadline(&self) -> Option<(Instant, bool)> {
        let state = self.state();
        if state.in_flight > 0 {
            return None;
        }
        match state.head_started {
            Some(started) if state.http2 != Some(true) => {
                Some((started + self.header_timeout?, true))
            }
            _ => {
                let timeout = if state.served {
                    self.idle_timeout
                } else {
                    self.header_timeout
                };
                Some((state.idle_since + timeout?, false))
            }
        }
    }

    /// Completes when the connection is past its deadline (never, with
    /// both timeouts off).
    pub async fn expired(&self) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let Some((at, partial_head)) = self.deadline() else {
                changed.await;
                continue;
            };
            tokio::select! {
                _ = changed => {}
                _ = tokio::time::sleep_until(at) => {
                    // The deadline may have moved since it was read.
                    if self.deadline() == Some((at, partial_head)) {
                        self.state().answer_timeout = partial_head;
                        return;
                    }
                }
            }
        }
    }
}

/// A request being served (see `Watch::request`).
pub struct InFlight(Arc<Watch>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.in_flight -= 1;
        if state.in_flight == 0 {
            state.idle_since = Instant::now();
            state.served = true;
        }
        drop(state);
        self.0.changed.notify_one();
    }
}

/// The client's socket, telling the watch what it reads and writes. When
/// dropped after the watch expired on a partial head, it sends the 408.
pub struct Watched {
    stream: TcpStream,
    watch: Arc<Watch>,
    answers: Arc<RawAnswers>,
}

impl Watched {
    pub fn new(stream: TcpStream, watch: Arc<Watch>, answers: Arc<RawAnswers>) -> Watched {
        Watched {
            stream,
            watch,
            answers,
        }
    }

    fn received(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut state = self.watch.state();
        if state.http2.is_none() {
            let n = bytes.len().min(3);
            state.http2 = Some(bytes[..n] == b"PRI"[..n]);
        }
        if state.in_flight == 0 && state.head_started.is_none() {
            state.head_started = Some(Instant::now());
            drop(state);
            self.watch.changed.notify_one();
        }
    }

    fn sent(&self, n: usize) {
        let mut state = self.watch.state();
        // HTTP/2 pings are writes too: they must not keep a connection open.
        if n > 0 && state.in_flight == 0 && state.http2 != Some(true) {
            state.idle_since = Instant::now();
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        let state = self.watch.state();
        if state.answer_timeout && state.http2 != Some(true) {
            // Best effort, without blocking: the answer is small and nothing
            // else was written since the last one.
            let _ = self.stream.try_write(&self.answers.timed_out);
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            this.received(&buf.filled()[before..]);
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            this.sent(n);
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            this.sent(n);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
