//! `Server-Timing` (`server-timing-enabled`): PostgREST's stages, timed by
//! the host around its own work and each component call, since the
//! component reads no clock. PostgREST 16 names five stages and, on an
//! error, keeps the stages run so far:
//!
//! - `jwt`: the token (the host's cache, then `verify-token`);
//! - `parse`: reading the request into the component's record;
//! - `plan`: the `plan` call (PostgREST's parse of the query grammar and
//!   its plan happen together there);
//! - `transaction`: the database exchange, the pool wait included;
//! - `response`: the `respond` call.
//!
//! Answers `plan` gives without the database are attributed by their kind:
//! a success (OPTIONS) is the response stage, as in PostgREST; a request
//! error (PGRST1xx in `Proxy-Status`) ends the parse stage, a JWT error
//! (PGRST3xx: expired, wrong audience…) the jwt stage, others the plan.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Jwt,
    Parse,
    Plan,
    Transaction,
    Response,
}

const NAMES: [&str; 5] = ["jwt", "parse", "plan", "transaction", "response"];

/// The recorded durations of one request, by stage.
#[derive(Debug, Default)]
pub struct ServerTiming {
    stages: [Option<Duration>; 5],
}

impl ServerTiming {
    /// Adds `took` to a stage (a stage may be reached in parts).
    pub fn record(&mut self, stage: Stage, took: Duration) {
        let slot = &mut self.stages[stage as usize];
        *slot = Some(slot.unwrap_or_default() + took);
    }

    /// Drops a stage recorded earlier (its work turned out to belong to
    /// a later one's failure).
    pub fn forget(&mut self, stage: Stage) -> Duration {
        self.stages[stage as usize].take().unwrap_or_default()
    }

    /// `jwt;dur=0.1, parse;dur=0.0, …` in milliseconds with one decimal, in
    /// stage order; `None` when nothing was recorded.
    pub fn header(&self) -> Option<String> {
        let parts: Vec<String> = NAMES
            .iter()
            .zip(&self.stages)
            .filter_map(|(name, took)| {
                took.map(|d| format!("{name};dur={:.1}", d.as_secs_f64() * 1000.0))
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// The stage a reply of `plan` ends, from its status and `Proxy-Status`
/// error code (see the module comment).
pub fn reply_stage(status: u16, headers: &[(String, String)]) -> Stage {
    if status < 400 {
        return Stage::Response;
    }
    let code = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("proxy-status"))
        .and_then(|(_, v)| v.split("error=").nth(1))
        .unwrap_or("");
    if code.starts_with("PGRST1") {
        Stage::Parse
    } else if code.starts_with("PGRST3") {
        Stage::Jwt
    } else {
        Stage::Plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_recorded_stages_in_order() {
        let mut t = ServerTiming::default();
        assert_eq!(t.header(), None);
        t.record(Stage::Transaction, Duration::from_micros(2_345));
        t.record(Stage::Jwt, Duration::from_micros(40));
        t.record(Stage::Jwt, Duration::from_micros(60));
        assert_eq!(t.header().unwrap(), "jwt;dur=0.1, transaction;dur=2.3");
        assert_eq!(t.forget(Stage::Transaction), Duration::from_micros(2_345));
        assert_eq!(t.header().unwrap(), "jwt;dur=0.1");
    }

    #[test]
    fn replies_end_the_stage_of_their_error() {
        let with = |code: &str| {
            vec![(
                "proxy-status".to_string(),
                format!("PostgREST; error={code}"),
            )]
        };
        assert_eq!(reply_stage(200, &[]), Stage::Response);
        assert_eq!(reply_stage(400, &with("PGRST100")), Stage::Parse);
        assert_eq!(reply_stage(404, &with("PGRST205")), Stage::Plan);
        assert_eq!(reply_stage(401, &with("PGRST303")), Stage::Jwt);
        assert_eq!(reply_stage(500, &[]), Stage::Plan);
    }
}
