//! The answer to `GET /`: the OpenAPI document for the relations the
//! request may see.

use serde::{Deserialize, Serialize};

use super::internal;
use crate::config::Config;
use crate::contract::{Answer, AnswerBody, Rows};
use crate::error::ApiError;
use crate::openapi;
use crate::schema_cache::SchemaCache;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenApiContext {
    /// The schema described (the request's profile).
    pub schema: String,
    pub head: bool,
    /// The second and third results list the relations the role has
    /// privileges on and the functions it may execute; otherwise every
    /// relation and function of the schema is described.
    pub follow_privileges: bool,
    pub content_profile: Option<String>,
}

/// `results`: the schema's comment (zero or one row), then, when following
/// privileges, the names of the accessible relations and the oids of the
/// executable functions.
pub fn respond(
    config: &Config,
    cache: &SchemaCache,
    ctx: &OpenApiContext,
    results: &[Rows],
) -> Result<Answer, ApiError> {
    let comment = results
        .first()
        .ok_or_else(|| internal("no schema comment result"))?
        .first()
        .and_then(|row| row.first().cloned().flatten());
    let listed = |index: usize, what: &str| -> Result<Option<Vec<&str>>, ApiError> {
        if !ctx.follow_privileges {
            return Ok(None);
        }
        let rows = results
            .get(index)
            .ok_or_else(|| internal(&format!("no {what} result")))?;
        Ok(Some(
            rows.iter()
                .filter_map(|row| row.first().and_then(|c| c.as_deref()))
                .collect(),
        ))
    };
    let accessible = listed(1, "accessible relations")?;
    // Oids come as text; compared as numbers, once parsed.
    let executable: Option<Vec<i64>> = listed(2, "executable functions")?
        .map(|oids| oids.iter().filter_map(|o| o.parse().ok()).collect());
    let tables: Vec<_> = cache
        .tables
        .iter()
        .filter(|t| t.schema == ctx.schema)
        .filter(|t| {
            accessible
                .as_ref()
                .is_none_or(|names| names.contains(&t.name.as_str()))
        })
        .collect();
    let routines: Vec<_> = cache
        .routines
        .iter()
        .filter(|r| r.schema == ctx.schema)
        .filter(|r| executable.as_ref().is_none_or(|oids| oids.contains(&r.oid)))
        .collect();
    let mut headers = vec![(
        "content-type".to_string(),
        "application/openapi+json; charset=utf-8".to_string(),
    )];
    if let Some(schema) = &ctx.content_profile {
        headers.push(("content-profile".to_string(), schema.clone()));
    }
    let body = if ctx.head {
        AnswerBody::Empty
    } else {
        AnswerBody::Bytes(openapi::document(
            config,
            cache,
            &tables,
            &routines,
            comment.as_deref(),
        ))
    };
    Ok(Answer {
        status: 200,
        headers,
        body,
        commit: true,
    })
}
