//! `response.headers` and `response.status`: SQL run by a request (a view, a
//! function, the pre-request hook) may set them to change the answer.

use serde_json::Value;

use crate::error::ApiError;

/// What every successful answer varies on, for caches (PostgREST 14+).
const VARY: &str = "Accept, Prefer, Range";

/// Applies the settings over PostgREST's own status and headers (with
/// `Vary`): a header set by SQL replaces the one of the same name
/// (case-insensitive).
pub fn apply(
    status: u16,
    mut headers: Vec<(String, String)>,
    guc_headers: Option<&str>,
    guc_status: Option<&str>,
) -> Result<(u16, Vec<(String, String)>), ApiError> {
    let set = guc_headers
        .map(parse_headers)
        .transpose()?
        .unwrap_or_default();
    let status = guc_status.map(parse_status).transpose()?.unwrap_or(status);
    headers.push(("vary".to_string(), VARY.to_string()));
    let mut merged: Vec<(String, String)> = headers
        .into_iter()
        .filter(|(name, _)| !set.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)))
        .collect();
    merged.extend(set);
    Ok((status, merged))
}

/// A JSON array of objects with one key and a string value each.
fn parse_headers(text: &str) -> Result<Vec<(String, String)>, ApiError> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
        return Err(ApiError::GucHeaders);
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Object(map) if map.len() == 1 => match map.into_iter().next() {
                Some((name, Value::String(value))) => Ok((name, value)),
                _ => Err(ApiError::GucHeaders),
            },
            _ => Err(ApiError::GucHeaders),
        })
        .collect()
}

/// The leading decimal digits, as PostgREST reads them; HTTP needs three.
fn parse_status(text: &str) -> Result<u16, ApiError> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse::<u16>()
        .ok()
        .filter(|s| (100..=999).contains(s))
        .ok_or(ApiError::GucStatus)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn nothing_set_adds_only_vary() {
        let headers = h(&[("content-type", "application/json")]);
        assert_eq!(
            apply(200, headers, None, None),
            Ok((
                200,
                h(&[
                    ("content-type", "application/json"),
                    ("vary", "Accept, Prefer, Range")
                ])
            ))
        );
    }

    #[test]
    fn set_headers_replace_same_named_ones_and_status_overrides() {
        let (status, headers) = apply(
            200,
            h(&[
                ("content-type", "application/json"),
                ("content-range", "0-0/*"),
            ]),
            Some(r#"[{"Content-Type": "text/plain"}, {"X-Extra": "1"}, {"Vary": "X-A"}]"#),
            Some("201"),
        )
        .unwrap();
        assert_eq!(status, 201);
        assert_eq!(
            headers,
            h(&[
                ("content-range", "0-0/*"),
                ("Content-Type", "text/plain"),
                ("X-Extra", "1"),
                ("Vary", "X-A")
            ])
        );
    }

    #[test]
    fn malformed_settings_are_pgrst111_and_pgrst112() {
        for bad in [
            r#"{"a": "b"}"#,
            r#"[{"a": 1}]"#,
            r#"[{"a": "b", "c": "d"}]"#,
            "nope",
        ] {
            assert_eq!(
                apply(200, vec![], Some(bad), None),
                Err(ApiError::GucHeaders)
            );
        }
        assert_eq!(
            apply(200, vec![], None, Some("abc")),
            Err(ApiError::GucStatus)
        );
        assert_eq!(
            apply(200, vec![], None, Some("42")),
            Err(ApiError::GucStatus)
        );
        assert_eq!(apply(200, vec![], None, Some("404 gone")).unwrap().0, 404);
    }
}
