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
//! An answer `plan` or `screen` gives without the database names the stage
//! it ends (the component attributes it as PostgREST does).

use std::time::Duration;

use crate::component::wit;

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

impl From<wit::Stage> for Stage {
    fn from(stage: wit::Stage) -> Stage {
        match stage {
            wit::Stage::Jwt => Stage::Jwt,
            wit::Stage::Parse => Stage::Parse,
            wit::Stage::Plan => Stage::Plan,
            wit::Stage::Response => Stage::Response,
        }
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
}
