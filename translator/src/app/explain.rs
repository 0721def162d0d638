//! Requests explained instead of answered (`Accept:
//! application/vnd.pgrst.plan`, allowed by `db-plan-enabled`): the same
//! transaction and settings, the main statement under `EXPLAIN`. With
//! `options=analyze` the statement really runs, so a write is committed or
//! rolled back as `db-tx-end` and `Prefer: tx` say, like any other.

use crate::api_request::accept::{self, MediaType};
use crate::api_request::profile::Profile;
use crate::auth;
use crate::contract::{Plan, Statement, TxEnd};
use crate::query;
use crate::response::plan::PlanContext;
use crate::response::{Context, Kind};

/// The plan that explains `main`. `opening` is BEGIN and the settings;
/// `tx_end` the request's own end (the row checks that would decide it
/// after `respond` do not apply to a plan).
pub(super) fn plan(
    explain: &accept::Plan,
    opening: impl IntoIterator<Item = Statement>,
    main: Statement,
    tx_end: TxEnd,
    auth: &auth::AuthResult,
    profile: &Profile,
    warning: Option<String>,
) -> Plan {
    let negotiated = MediaType::Plan(explain.clone());
    let context = Context {
        authenticated: auth.authenticated,
        warning,
        kind: Kind::Plan(PlanContext {
            content_type: negotiated.content_type(),
            content_profile: profile.negotiated.then(|| profile.schema.clone()),
            commit: tx_end == TxEnd::Commit,
        }),
    };
    Plan {
        statements: opening
            .into_iter()
            .chain([query::explain::wrap(main, explain)])
            .collect(),
        tx_end,
        context: context.encode(),
    }
}
