//! The request log, at PostgREST's `log-level`: `crit` logs no request,
//! `error` the 5xx answers, `warn` the 4xx and 5xx, `info` and `debug` every
//! request. Lines go to stdout in the Apache combined format PostgREST uses:
//!
//! `127.0.0.1 - - [21/Nov/2026:21:00:00 +0000] "GET /todos HTTP/1.1" 200 56 "" "curl/8.5.0"`

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use hyper::{Request, Version};

pub use crate::component::wit::LogLevel;

impl LogLevel {
    pub fn logs_status(self, status: u16) -> bool {
        match self {
            LogLevel::Crit => false,
            LogLevel::Error => status >= 500,
            LogLevel::Warn => status >= 400,
            LogLevel::Info | LogLevel::Debug => true,
        }
    }

    /// Whether any request may be logged (so whether to note its details).
    pub fn logs_requests(self) -> bool {
        self != LogLevel::Crit
    }
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

    /// The log line, given the answer's status and body size when known.
    pub fn format(&self, status: u16, size: Option<u64>, at: SystemTime) -> String {
        format!(
            "{} - - [{}] \"{} {} {}\" {status} {} \"{}\" \"{}\"",
            self.peer.to_canonical(),
            log_time(at),
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

/// `21/Nov/2026:21:00:00 +0000` (UTC): the request log's time, also the
/// prefix of the stderr lines PostgREST writes (e.g. `log-query`).
pub fn log_time(at: SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} +0000",
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn levels_choose_statuses() {
        assert!(!LogLevel::Crit.logs_status(500));
        assert!(LogLevel::Error.logs_status(503) && !LogLevel::Error.logs_status(404));
        assert!(LogLevel::Warn.logs_status(404) && !LogLevel::Warn.logs_status(200));
        assert!(LogLevel::Info.logs_status(200) && LogLevel::Debug.logs_status(204));
    }

    #[test]
    fn combined_log_format() {
        let req = Request::builder()
            .uri("/todos?id=eq.1")
            .header("user-agent", "curl/8 \"x\"")
            .body(())
            .unwrap();
        let line = RequestLine::new(&req, "127.0.0.1".parse().unwrap());
        // 2024-02-29 13:04:05 UTC
        let at = UNIX_EPOCH + Duration::from_secs(1_709_211_845);
        assert_eq!(
            line.format(200, Some(56), at),
            "127.0.0.1 - - [29/Feb/2024:13:04:05 +0000] \"GET /todos?id=eq.1 HTTP/1.1\" 200 56 \"\" \"curl/8 \\\"x\\\"\""
        );
        assert!(
            line.format(404, None, UNIX_EPOCH)
                .contains("[01/Jan/1970:00:00:00 +0000]")
        );
    }
}
