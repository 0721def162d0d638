//! Functions callable under `/rpc/`, as the introspection describes them.

use serde::{Deserialize, Serialize};

use super::QualifiedName;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Routine {
    /// Tells overloads apart (and keeps their order stable).
    pub oid: i64,
    pub schema: String,
    pub name: String,
    pub description: Option<String>,
    /// The input arguments, in declaration order.
    pub args: Vec<RoutineArg>,
    /// `format_type` of the return type, e.g. `integer`, `test.items`.
    pub return_type: String,
    pub returns_set: bool,
    pub returns_void: bool,
    /// The columns of a composite or `TABLE(...)` return; `None`: a scalar.
    pub return_columns: Option<Vec<ReturnColumn>>,
    /// The table or view whose row type is returned (embedding works there).
    pub return_table: Option<QualifiedName>,
    /// A composite return type's name (`record` with output arguments): as
    /// in PostgREST, the rows of the result are read as a relation of that
    /// name (in the function's schema), so embedding starts there.
    #[serde(default)]
    pub composite_name: Option<String>,
    /// The return type is a domain named after a media type (PostgREST's
    /// media type handlers): a matching `Accept` gets the value raw.
    #[serde(default)]
    pub media_type: Option<MediaHandler>,
    /// `i`mmutable, `s`table or `v`olatile.
    pub volatility: String,
    /// `SET name=value` clauses of the function (`proconfig`).
    pub settings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutineArg {
    /// Empty for an unnamed argument.
    pub name: String,
    pub data_type: String,
    pub has_default: bool,
    pub variadic: bool,
}

impl RoutineArg {
    /// The type a value is read as for this argument: `character` and `bit`
    /// (whose declared length a function's argument drops, so the bare type
    /// would mean length one) are read as their varying forms, so any
    /// length passes, as PostgREST reads them.
    pub fn call_type(&self) -> &str {
        match self.data_type.as_str() {
            "character" => "character varying",
            "character[]" => "character varying[]",
            "bit" => "bit varying",
            "bit[]" => "bit varying[]",
            other => other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaHandler {
    /// The domain's name, e.g. `text/plain`, `application/octet-stream`.
    pub name: String,
    /// A domain over `bytea` (else the value is sent as text).
    pub bytes: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnColumn {
    pub name: String,
    pub data_type: String,
}

impl Routine {
    pub fn is_volatile(&self) -> bool {
        self.volatility == "v"
    }

    /// One unnamed argument of this type (json/jsonb, text, xml, bytea
    /// receive the whole body).
    pub fn single_unnamed(&self) -> Option<&str> {
        match self.args.as_slice() {
            [arg] if arg.name.is_empty() => Some(arg.data_type.as_str()),
            _ => None,
        }
    }
}
