//! `POST`/`PATCH`/`PUT`/`DELETE` on a table or view.

use super::read::negotiate_body;
use super::{begin, explain, legacy_warning, settings, tx_end};
use crate::api_request::accept::MediaType;
use crate::api_request::ast::SelectItem;
use crate::api_request::preferences::{
    Count as PreferCount, Handling, Missing, Preferences, Representation,
};
use crate::api_request::range::Page;
use crate::api_request::{ApiRequest, RequestBody};
use crate::auth;
use crate::config::Config;
use crate::contract::{Plan, TxEnd};
use crate::error::ApiError;
use crate::plan::mutate::{MutatePlan, Mutation};
use crate::plan::read::{Limits, ReadPlan};
use crate::query;
use crate::query::mutate::Returning;
use crate::response::mutate::MutateContext;
use crate::response::{Context, Kind};
use crate::schema_cache::{SchemaCache, Table};

pub(super) fn write(
    config: &Config,
    cache: &SchemaCache,
    auth: &auth::AuthResult,
    mut api: ApiRequest,
    table: &Table,
    mutation: Mutation,
) -> Result<Plan, ApiError> {
    let params = std::mem::take(&mut api.query);
    let payload = match api.body.take() {
        Some(RequestBody::Rows(rows)) => Some(rows),
        _ => None,
    };
    let default_select = params.select == [SelectItem::star()];
    let body = negotiate_body(config, cache, &api.accept, table, default_select)?;
    let negotiated = body.negotiated;
    let prefs = &api.preferences;
    prefs.check_strict()?;

    let applies_defaults = matches!(mutation, Mutation::Insert | Mutation::Update)
        && prefs.missing == Some(Missing::Default);
    let plan = MutatePlan::new(
        mutation,
        table,
        payload,
        &params,
        prefs.resolution,
        applies_defaults,
    )?;
    let page = Page {
        limit: None,
        offset: 0,
    };
    let limits = Limits::of(config);
    let read = ReadPlan::new(cache, &api.profile.schema, table, params, page, limits)?;
    let returning = match prefs.representation {
        Some(Representation::Full) => Returning::Body(body.output),
        Some(Representation::HeadersOnly) if mutation == Mutation::Insert => Returning::Location,
        _ => Returning::Nothing,
    };
    let representation = matches!(returning, Returning::Body(_));
    let statement = query::mutate::statement(&plan, &read, returning)?;
    let warning = legacy_warning(&read.legacy_target_names);

    let (tx_end, tx_overridable) = tx_end(config.db_tx_end, prefs.tx);
    let opening = [begin(config, auth, false)]
        .into_iter()
        .chain(settings(config, auth, &api));
    let profile = &api.profile;
    if let MediaType::Plan(p) = &negotiated {
        return Ok(explain::plan(
            p, opening, statement, tx_end, auth, profile, warning,
        ));
    }
    let singular = body.singular;
    let strict = prefs.handling == Some(Handling::Strict);
    let max_affected = prefs
        .max_affected
        .filter(|_| strict && matches!(mutation, Mutation::Update | Mutation::Delete));
    let checked = singular || max_affected.is_some() || mutation == Mutation::SingleUpsert;
    let context = Context {
        authenticated: auth.authenticated,
        warning,
        kind: Kind::Mutate(MutateContext {
            mutation,
            representation,
            content_type: body.content_type,
            singular,
            count: matches!(
                prefs.count,
                Some(PreferCount::Exact | PreferCount::Estimated)
            ),
            merge_duplicates: plan.conflict.as_ref().is_some_and(|c| {
                c.resolution == crate::api_request::preferences::Resolution::MergeDuplicates
            }) && mutation == Mutation::Insert,
            max_affected,
            location_path: format!("/{}", table.name),
            preference_applied: applied(prefs, mutation, &plan, tx_overridable).applied_header(),
            content_profile: profile.negotiated.then(|| profile.schema.clone()),
            commit: tx_end == TxEnd::Commit,
        }),
    };
    Ok(Plan {
        statements: opening.chain([statement]).collect(),
        tx_end: if checked { TxEnd::AfterRespond } else { tx_end },
        context: context.encode(),
    })
}

/// What each write reports in `Preference-Applied` (PostgREST 16): the
/// resolution only for an insert that has a conflict target, `missing` for
/// inserts and updates, `max-affected` for updates and deletes.
fn applied(
    prefs: &Preferences,
    mutation: Mutation,
    plan: &MutatePlan,
    tx_overridable: bool,
) -> Preferences {
    let insert_or_update = matches!(mutation, Mutation::Insert | Mutation::Update);
    Preferences {
        resolution: prefs
            .resolution
            .filter(|_| mutation == Mutation::Insert && plan.conflict.is_some()),
        missing: prefs.missing.filter(|_| insert_or_update),
        representation: prefs.representation,
        count: prefs.count,
        tx: prefs.tx.filter(|_| tx_overridable),
        handling: prefs.handling,
        timezone: prefs.timezone.clone(),
        max_affected: prefs
            .max_affected
            .filter(|_| matches!(mutation, Mutation::Update | Mutation::Delete)),
        ..Preferences::default()
    }
}
