//! `/`: the OpenAPI document (GET/HEAD) and its `Allow` (OPTIONS).

use super::{begin, settings, tx_end};
use crate::api_request::ApiRequest;
use crate::api_request::accept::{self, MediaType};
use crate::auth;
use crate::config::{Config, OpenApiMode};
use crate::contract::{Outcome, Param, Plan, RowUse, Statement};
use crate::error::ApiError;
use crate::response::openapi::OpenApiContext;
use crate::response::{Context, Kind};

/// GET/HEAD `/`.
pub(super) fn root(
    config: &Config,
    auth: &auth::AuthResult,
    api: &ApiRequest,
    head: bool,
) -> Result<Outcome, ApiError> {
    accept::negotiate(&api.accept, &[MediaType::OpenApi, MediaType::Json], false)?;
    let follow_privileges = config.openapi_mode == OpenApiMode::FollowPrivileges;
    let schema = Param::Text(api.profile.schema.clone());
    let mut statements = vec![begin(config, auth, true)];
    statements.extend(settings(config, auth, api));
    statements.push(Statement {
        sql: SCHEMA_COMMENT.to_string(),
        params: vec![schema.clone()],
        rows: RowUse::ToRespond,
    });
    if follow_privileges {
        // Privileges are the request role's, so they are read inside the
        // request's transaction, after `role` is set.
        for sql in [ACCESSIBLE_RELATIONS, EXECUTABLE_FUNCTIONS] {
            statements.push(Statement {
                sql: sql.to_string(),
                params: vec![schema.clone()],
                rows: RowUse::ToRespond,
            });
        }
    }
    let context = Context {
        authenticated: auth.authenticated,
        warning: None,
        kind: Kind::OpenApi(OpenApiContext {
            schema: api.profile.schema.clone(),
            head,
            follow_privileges,
            content_profile: api.profile.negotiated.then(|| api.profile.schema.clone()),
        }),
    };
    Ok(Outcome::Run(Plan {
        statements,
        tx_end: tx_end(config.db_tx_end, None).0,
        context: context.encode(),
    }))
}

/// The schema's `COMMENT ON SCHEMA`: the document's title and description.
const SCHEMA_COMMENT: &str = "SELECT pg_catalog.obj_description(n.oid, 'pg_namespace')::text \
     FROM pg_catalog.pg_namespace n WHERE n.nspname = $1";

/// The schema's tables and views on which the current role holds any
/// privilege (owning one, or any column privilege, counts).
const ACCESSIBLE_RELATIONS: &str = "SELECT c.relname::text \
     FROM pg_catalog.pg_class c \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'f', 'p') \
       AND (pg_catalog.pg_has_role(c.relowner, 'USAGE') \
         OR pg_catalog.has_table_privilege(c.oid, \
              'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER') \
         OR pg_catalog.has_any_column_privilege(c.oid, 'SELECT, INSERT, UPDATE, REFERENCES')) \
     ORDER BY c.relname";

/// The oids of the schema's functions the current role may execute.
const EXECUTABLE_FUNCTIONS: &str = "SELECT p.oid::int8::text \
     FROM pg_catalog.pg_proc p \
     JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace \
     WHERE n.nspname = $1 AND pg_catalog.has_function_privilege(p.oid, 'EXECUTE') \
     ORDER BY p.oid";
