//! Every error the API can answer with: PostgREST's code, HTTP status, and
//! `{"code","message","details","hint"}` body.

use crate::contract::{DbError, HttpResponse};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// PGRST100: a query parameter does not parse.
    ParseError {
        param: String,
        value: String,
        details: String,
    },
    /// PGRST205: no such table or view in the exposed schema.
    TableNotFound {
        schema: String,
        table: String,
        hint: Option<String>,
    },
    /// PGRST300: a token arrived but no JWT secret is configured.
    JwtSecretMissing,
    /// PGRST302: no token and no anonymous role.
    AnonymousDisabled,
    /// An error PostgreSQL raised.
    Db(DbError),
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::ParseError { .. } => 400,
            ApiError::TableNotFound { .. } => 404,
            ApiError::JwtSecretMissing => 500,
            ApiError::AnonymousDisabled => 401,
            ApiError::Db(e) => db_status(&e.sqlstate),
        }
    }

    pub fn code(&self) -> &str {
        match self {
            ApiError::ParseError { .. } => "PGRST100",
            ApiError::TableNotFound { .. } => "PGRST205",
            ApiError::JwtSecretMissing => "PGRST300",
            ApiError::AnonymousDisabled => "PGRST302",
            ApiError::Db(e) => &e.sqlstate,
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::ParseError { param, value, .. } => {
                format!("failed to parse {param} parameter ({value})")
            }
            ApiError::TableNotFound { schema, table, .. } => {
                format!("Could not find the table '{schema}.{table}' in the schema cache")
            }
            ApiError::JwtSecretMissing => "Server lacks JWT secret".to_string(),
            ApiError::AnonymousDisabled => "Anonymous access is disabled".to_string(),
            ApiError::Db(e) => e.message.clone(),
        }
    }

    fn details(&self) -> Option<String> {
        match self {
            ApiError::ParseError { details, .. } => Some(details.clone()),
            ApiError::Db(e) => e.detail.clone(),
            _ => None,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            ApiError::TableNotFound { hint, .. } => hint.clone(),
            ApiError::Db(e) => e.hint.clone(),
            _ => None,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({
            "code": self.code(),
            "details": self.details(),
            "hint": self.hint(),
            "message": self.message(),
        })
    }

    /// The full HTTP response.
    pub fn to_response(&self) -> HttpResponse {
        let mut headers = vec![
            (
                "content-type".to_string(),
                "application/json; charset=utf-8".to_string(),
            ),
            (
                "proxy-status".to_string(),
                format!("PostgREST; error={}", self.code()),
            ),
        ];
        if self.status() == 401 {
            headers.push(("www-authenticate".to_string(), "Bearer".to_string()));
        }
        HttpResponse {
            status: self.status(),
            headers,
            body: self.body().to_string().into_bytes(),
        }
    }
}

/// PostgREST's SQLSTATE -> HTTP status mapping.
fn db_status(sqlstate: &str) -> u16 {
    match sqlstate {
        "23503" | "23505" => 409,
        "42501" => 403,
        "42P01" | "42883" => 404,
        s if s.starts_with("22") || s.starts_with("23") => 400,
        s if s.starts_with("42") => 400,
        _ => 500,
    }
}
