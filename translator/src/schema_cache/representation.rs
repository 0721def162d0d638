//! Domain representations (PostgREST 11.2+): implicit casts with a function
//! between a domain and `json` or `text` change how the domain's values are
//! presented and received. A cast from the domain to `json` formats its
//! output, one from `text` parses filter values, one from `json` parses body
//! values. PostgreSQL itself ignores casts on domains, so the SQL calls the
//! cast functions by name.

use serde::{Deserialize, Serialize};

/// One such cast, as introspected: the types as `format_type` names them
/// (as the columns' `data_type`) and the function as quoted SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cast {
    pub source: String,
    pub target: String,
    pub function: String,
}

/// The cast functions that apply to a column's type (quoted SQL names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Representation {
    /// Formats the value in a JSON body (`domain -> json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_json: Option<String>,
    /// Parses a filter value (`text -> domain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_text: Option<String>,
    /// Parses a JSON body value (`json -> domain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_json: Option<String>,
}

impl Representation {
    /// The representation of values of `data_type` under `casts`.
    pub fn of(casts: &[Cast], data_type: &str) -> Representation {
        let function = |source: &str, target: &str| {
            casts
                .iter()
                .find(|c| c.source == source && c.target == target)
                .map(|c| c.function.clone())
        };
        Representation {
            to_json: function(data_type, "json"),
            from_text: function("text", data_type),
            from_json: function("json", data_type),
        }
    }

    pub fn is_empty(&self) -> bool {
        self == &Representation::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_direction_of_a_domains_casts() {
        let cast = |source: &str, target: &str, function: &str| Cast {
            source: source.into(),
            target: target.into(),
            function: function.into(),
        };
        let casts = [
            cast("app_uuid", "json", "public.json"),
            cast("text", "app_uuid", "public.app_uuid"),
            cast("json", "other", "public.other"),
        ];
        let r = Representation::of(&casts, "app_uuid");
        assert_eq!(r.to_json.as_deref(), Some("public.json"));
        assert_eq!(r.from_text.as_deref(), Some("public.app_uuid"));
        assert_eq!(r.from_json, None);
        assert!(Representation::of(&casts, "integer").is_empty());
    }
}
