//! PostgreSQL column types as Swagger types and formats, the way PostgREST
//! maps them.

use super::json::{Json, Obj};

/// The type without its modifier, as PostgREST shows it in `format`:
/// `character varying(20)` is `character varying`, `numeric(9,2)[]` is
/// `numeric[]`, `timestamp(3) with time zone` is `timestamp with time zone`.
pub fn format(data_type: &str) -> String {
    match (data_type.find('('), data_type.find(')')) {
        (Some(open), Some(close)) if open < close => {
            let (before, after) = (&data_type[..open], &data_type[close + 1..]);
            format!("{}{after}", before.trim_end())
        }
        _ => data_type.to_string(),
    }
}

/// The length limit of `character varying(n)` / `character(n)`.
pub fn max_length(data_type: &str) -> Option<u64> {
    let rest = data_type
        .strip_prefix("character varying(")
        .or_else(|| data_type.strip_prefix("character("))?;
    let (n, after) = rest.split_once(')')?;
    if after.is_empty() {
        n.parse().ok()
    } else {
        None
    }
}

/// The Swagger type of a format; `json`/`jsonb` have none (any value).
pub fn swagger_type(format: &str) -> Option<&'static str> {
    Some(match format {
        "character varying" | "character" | "text" => "string",
        "boolean" => "boolean",
        "smallint" | "integer" | "bigint" => "integer",
        "numeric" | "real" | "double precision" => "number",
        "json" | "jsonb" => return None,
        f if f.ends_with("[]") => "array",
        _ => "string",
    })
}

/// `items` of an array property: the element's type.
pub fn array_items(format: &str) -> Option<Obj> {
    let element = format.strip_suffix("[]")?;
    Some(Obj::new().with_opt("type", swagger_type(element)))
}

/// A column default as a JSON value, when it is a literal: string types
/// drop their `::type` cast and quotes; other defaults count only when they
/// are JSON already (`0`, `true`), so `nextval(…)` and `now()` show none.
pub fn default_value(format: &str, default: &str) -> Option<Json> {
    let text = if swagger_type(format) == Some("string") {
        let literal = default
            .strip_suffix(&format!("::{format}"))
            .map_or(default, |d| d.trim_matches('\''));
        format!("\"{literal}\"")
    } else {
        default.to_string()
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .map(Json::Value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_drop_modifiers() {
        assert_eq!(format("character varying(20)"), "character varying");
        assert_eq!(format("numeric(9,2)[]"), "numeric[]");
        assert_eq!(
            format("timestamp(3) with time zone"),
            "timestamp with time zone"
        );
        assert_eq!(format("integer"), "integer");
        assert_eq!(max_length("character varying(20)"), Some(20));
        assert_eq!(max_length("character(3)"), Some(3));
        assert_eq!(max_length("character varying(20)[]"), None);
        assert_eq!(max_length("text"), None);
    }

    #[test]
    fn types_follow_postgrest() {
        assert_eq!(swagger_type("bigint"), Some("integer"));
        assert_eq!(swagger_type("double precision"), Some("number"));
        assert_eq!(swagger_type("jsonb"), None);
        assert_eq!(swagger_type("text[]"), Some("array"));
        assert_eq!(swagger_type("uuid"), Some("string"));
        let items = serde_json::to_string(&array_items("integer[]").unwrap()).unwrap();
        assert_eq!(items, r#"{"type":"integer"}"#);
        assert!(array_items("integer").is_none());
    }

    #[test]
    fn defaults_are_literals_only() {
        let v = |f, d| default_value(f, d).map(|j| serde_json::to_string(&j).unwrap());
        assert_eq!(v("text", "'unnamed'::text").as_deref(), Some("\"unnamed\""));
        assert_eq!(v("integer", "0").as_deref(), Some("0"));
        assert_eq!(v("boolean", "true").as_deref(), Some("true"));
        assert_eq!(v("integer", "nextval('s'::regclass)"), None);
        assert_eq!(
            v("timestamp with time zone", "now()").as_deref(),
            Some("\"now()\"")
        );
    }
}
