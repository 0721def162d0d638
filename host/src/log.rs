//! The host's log, written through `tracing` with a formatter of our own so
//! the lines are PostgREST's, byte for byte.
//!
//! Events and where they go, by target:
//! - `ACCESS`, the request log, on stdout in the Apache combined format
//!   PostgREST writes:
//!   `127.0.0.1 - - [21/Nov/2026:21:00:00 +0000] "GET /todos HTTP/1.1" 200 56 "" "curl/8.5.0"`
//! - [`ADDRESS`], the address the server listens on, on stdout, where
//!   scripts read it.
//! - `STAMPED`, the lines PostgREST prefixes with the time on stderr
//!   (`log-query`'s statements, the exit without automatic recovery):
//!   `21/Nov/2026:21:00:00 +0000: SELECT ...`
//! - any other event of this crate: its message alone, on stderr.
//!
//! `log-level` onto tracing levels: a request's lines (its access line and
//! its statements) are at `status_level` (5xx `ERROR`, 4xx `WARN`, others
//! `INFO`), and a server's `log-level` is the most verbose level it writes
//! them at (`LogLevel::max_level`: `crit` off, `error`, `warn`, `info`,
//! `debug`). Each server applies its own level where it logs a request, not
//! in the subscriber, because one process can serve several servers with
//! different levels (the in-process tests do). The other events (startup,
//! reloads, recovery, warnings) are written at every `log-level`, as
//! PostgREST writes its observations; events of other crates (wasmtime's)
//! are not written.

use std::fmt::{self, Write as _};
use std::io;
use std::net::IpAddr;

use hyper::{Request, Version};
use time::format_description::BorrowedFormatItem;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, UtcTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

pub use crate::component::wit::LogLevel;

/// The request log's target.
pub(crate) const ACCESS: &str = "pgrest_host::access";
/// The listening address's target.
pub const ADDRESS: &str = "pgrest_host::address";
/// The target of stderr lines prefixed with the time.
pub(crate) const STAMPED: &str = "pgrest_host::stamped";

/// `21/Nov/2026:21:00:00 +0000` (UTC): the request log's time, also the
/// prefix of [`STAMPED`] lines.
const LOG_TIME: &[BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
);

/// Installs the subscriber writing this crate's events; a second call (a
/// test process starting many servers) keeps the first.
pub fn install() {
    let lines = tracing_subscriber::fmt::layer()
        .event_format(Lines)
        .with_writer(Streams)
        .with_filter(Targets::new().with_target("pgrest_host", LevelFilter::TRACE));
    let _ = tracing_subscriber::registry().with(lines).try_init();
}

impl LogLevel {
    /// The most verbose level of the request lines a server writes.
    pub(crate) fn max_level(self) -> LevelFilter {
        match self {
            LogLevel::Crit => LevelFilter::OFF,
            LogLevel::Error => LevelFilter::ERROR,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Debug => LevelFilter::DEBUG,
        }
    }

    pub fn logs_status(self, status: u16) -> bool {
        status_level(status) <= self.max_level()
    }

    /// Whether any request may be logged (so whether to note its details).
    pub fn logs_requests(self) -> bool {
        self != LogLevel::Crit
    }
}

/// The level of a request's lines, by the status of its answer.
pub(crate) fn status_level(status: u16) -> Level {
    match status {
        500.. => Level::ERROR,
        400.. => Level::WARN,
        _ => Level::INFO,
    }
}

/// An event at a level known only at run time (tracing's macros take a
/// constant one).
macro_rules! event_at {
    ($level:expr, $($event:tt)+) => {
        match $level {
            Level::ERROR => tracing::error!($($event)+),
            Level::WARN => tracing::warn!($($event)+),
            _ => tracing::info!($($event)+),
        }
    };
}

/// Logs a statement a request ran (`log-query`), at the request's level.
pub(crate) fn query(status: u16, sql: &str) {
    event_at!(status_level(status), target: STAMPED, "{sql}");
}

/// What is known of a request before it is handled.
pub struct RequestLine {
    peer: IpAddr,
    method: String,
    target: String,
    version: &'static str,
    referer: String,
    user_agent: String,
}

impl RequestLine {
    pub fn new<B>(req: &Request<B>, peer: IpAddr) -> RequestLine {
        let header = |name: hyper::header::HeaderName| {
            req.headers()
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default()
        };
        RequestLine {
            peer,
            method: req.method().to_string(),
            target: req
                .uri()
                .path_and_query()
                .map_or_else(|| req.uri().to_string(), |p| p.to_string()),
            version: match req.version() {
                Version::HTTP_09 => "HTTP/0.9",
                Version::HTTP_10 => "HTTP/1.0",
                Version::HTTP_2 => "HTTP/2.0",
                Version::HTTP_3 => "HTTP/3.0",
                _ => "HTTP/1.1",
            },
            referer: header(hyper::header::REFERER),
            user_agent: header(hyper::header::USER_AGENT),
        }
    }

    /// Logs the request with its answer's status and body size when known.
    pub fn log(&self, status: u16, size: Option<u64>) {
        let peer = self.peer.to_canonical();
        let line = self.after_time(status, size);
        event_at!(status_level(status), target: ACCESS, %peer, "{line}");
    }

    /// The line after the time: request, status, size, referer, user agent.
    fn after_time(&self, status: u16, size: Option<u64>) -> String {
        format!(
            "\"{} {} {}\" {status} {} \"{}\" \"{}\"",
            self.method,
            escape(&self.target),
            self.version,
            size.map_or_else(|| "-".to_string(), |s| s.to_string()),
            escape(&self.referer),
            escape(&self.user_agent),
        )
    }
}

/// Quotes and control characters escaped, so a client cannot forge lines.
fn escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '"' => "\\\"".chars().collect::<Vec<_>>(),
            '\\' => "\\\\".chars().collect(),
            c if c.is_control() => c.escape_default().collect(),
            c => vec![c],
        })
        .collect()
}

/// Writes an event as the line its target calls for (see the module doc).
struct Lines;

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _: &FmtContext<'_, S, N>,
        mut out: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let time = UtcTime::new(LOG_TIME);
        match event.metadata().target() {
            ACCESS => {
                write!(out, "{} - - [", fields.peer)?;
                time.format_time(&mut out)?;
                out.write_str("] ")?;
            }
            STAMPED => {
                time.format_time(&mut out)?;
                out.write_str(": ")?;
            }
            _ => {}
        }
        writeln!(out, "{}", fields.message)
    }
}

/// The fields the lines use.
#[derive(Default)]
struct Fields {
    message: String,
    peer: String,
}

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        let into = match field.name() {
            "message" => &mut self.message,
            "peer" => &mut self.peer,
            _ => return,
        };
        let _ = write!(into, "{value:?}");
    }
}

/// Stdout for [`ACCESS`] and [`ADDRESS`], stderr for the rest.
struct Streams;

impl<'a> MakeWriter<'a> for Streams {
    type Writer = Stream;

    fn make_writer(&'a self) -> Stream {
        Stream::Stderr
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Stream {
        match meta.target() {
            ACCESS | ADDRESS => Stream::Stdout,
            _ => Stream::Stderr,
        }
    }
}

/// A standard stream, written with `print!`/`eprint!` (as tracing's
/// `TestWriter` does) so that a test harness captures the lines of the
/// servers a test starts in-process. The fmt layer writes each line whole,
/// as UTF-8.
#[derive(Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

impl io::Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        match self {
            Stream::Stdout => print!("{text}"),
            Stream::Stderr => eprint!("{text}"),
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn levels_choose_statuses() {
        assert!(!LogLevel::Crit.logs_status(500));
        assert!(LogLevel::Error.logs_status(503) && !LogLevel::Error.logs_status(404));
        assert!(LogLevel::Warn.logs_status(404) && !LogLevel::Warn.logs_status(200));
        assert!(LogLevel::Info.logs_status(200) && LogLevel::Debug.logs_status(204));
    }

    #[test]
    fn log_time() {
        let at = time::macros::datetime!(2024-02-29 13:04:05 UTC);
        assert_eq!(at.format(LOG_TIME).unwrap(), "29/Feb/2024:13:04:05 +0000");
        let epoch = time::OffsetDateTime::UNIX_EPOCH;
        assert_eq!(
            epoch.format(LOG_TIME).unwrap(),
            "01/Jan/1970:00:00:00 +0000"
        );
    }

    /// The lines `Lines` writes for the events logged in `f`.
    fn lines_of(f: impl FnOnce()) -> String {
        let written = Arc::new(Mutex::new(Vec::new()));
        let sink = written.clone();
        let writer = move || Sink(sink.clone());
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .event_format(Lines)
                .with_writer(writer),
        );
        tracing::subscriber::with_default(subscriber, f);
        String::from_utf8(written.lock().unwrap().clone()).unwrap()
    }

    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// `line` with its `[...]` time replaced by `[T]`, checking its shape.
    fn without_time(line: &str, open: &str, close: &str) -> String {
        let start = line.find(open).expect("time") + open.len();
        let time = &line[start..start + 26];
        assert!(
            time.ends_with(" +0000") && time.as_bytes()[2] == b'/',
            "{line}"
        );
        assert!(line[start + 26..].starts_with(close), "{line}");
        format!("{}T{}", &line[..start], &line[start + 26..])
    }

    #[test]
    fn combined_log_format() {
        let req = Request::builder()
            .uri("/todos?id=eq.1")
            .header("user-agent", "curl/8 \"x\"")
            .body(())
            .unwrap();
        let line = RequestLine::new(&req, "::ffff:127.0.0.1".parse().unwrap());
        let written = lines_of(|| {
            line.log(200, Some(56));
            line.log(404, None);
        });
        let lines: Vec<_> = written
            .lines()
            .map(|l| without_time(l, " - - [", "]"))
            .collect();
        assert_eq!(
            lines,
            [
                "127.0.0.1 - - [T] \"GET /todos?id=eq.1 HTTP/1.1\" 200 56 \"\" \"curl/8 \\\"x\\\"\"",
                "127.0.0.1 - - [T] \"GET /todos?id=eq.1 HTTP/1.1\" 404 - \"\" \"curl/8 \\\"x\\\"\"",
            ]
        );
    }

    #[test]
    fn stamped_and_plain_lines() {
        let written = lines_of(|| {
            query(200, "SELECT 1");
            tracing::warn!("Warning: {}", "db-pool is large");
        });
        let lines: Vec<_> = written.lines().collect();
        assert_eq!(without_time(lines[0], "", ":"), "T: SELECT 1");
        assert_eq!(lines[1..], ["Warning: db-pool is large"]);
        assert!(written.ends_with('\n'));
    }
}
