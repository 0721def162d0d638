//! The statements that open a request's transaction context: search_path,
//! role, the `request.*` and `app.settings.*` settings, all as parameters of
//! one `set_config` SELECT (SET takes no parameters), in PostgREST's order;
//! then the `db-pre-request` call.

use std::fmt::Write as _;

use super::sql::{Params, ident};
use crate::contract::{RowUse, Statement};
use serde_json::{Map, Value};

/// What a request exposes to SQL.
pub struct RequestSettings<'a> {
    pub role: &'a str,
    /// The role's `ALTER ROLE … SET` settings, applied before the role
    /// switch (as the authenticator, which may have `GRANT SET` on them).
    pub role_settings: &'a [(String, String)],
    /// Exposed schema first, then `db-extra-search-path`.
    pub search_path: Vec<&'a str>,
    pub claims_json: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub headers: &'a [(String, String)],
    /// `Prefer: timezone=`, as sent: PostgreSQL refuses an unknown zone
    /// (22023, as PostgREST 16 answers it).
    pub timezone: Option<&'a str>,
    /// `app.settings.*` by full name, set last.
    pub app_settings: &'a [(&'a str, &'a str)],
    /// A called function's hoisted settings (name, value), applied last.
    pub function_settings: &'a [(String, String)],
}

pub fn statement(s: &RequestSettings) -> Statement {
    let mut params = Params::default();
    let search_path: Vec<String> = s.search_path.iter().map(|x| ident(x)).collect();
    let search_path = [("search_path", search_path.join(", "))];
    let role_settings = s
        .role_settings
        .iter()
        .map(|(name, value)| (name.as_str(), value.clone()));
    let settings = [
        ("role", s.role.to_string()),
        ("request.jwt.claims", s.claims_json.to_string()),
        ("request.method", s.method.to_string()),
        ("request.path", s.path.to_string()),
        ("request.headers", headers_json(s.headers)),
        ("request.cookies", cookies_json(s.headers)),
    ];
    let timezone = s.timezone.map(|tz| ("timezone", tz.to_string()));
    let app_settings = s.app_settings.iter().map(|(n, v)| (*n, v.to_string()));
    let hoisted = s
        .function_settings
        .iter()
        .map(|(name, value)| (name.as_str(), value.clone()));
    // Written into one buffer: this statement opens every request.
    let mut sql = String::with_capacity(512);
    sql.push_str("SELECT ");
    let all = search_path
        .into_iter()
        .chain(role_settings)
        .chain(settings)
        .chain(timezone)
        .chain(app_settings)
        .chain(hoisted);
    for (i, (name, value)) in all.enumerate() {
        let name = params.text(name);
        let value = params.text(value);
        let comma = if i == 0 { "" } else { ", " };
        let _ = write!(sql, "{comma}set_config({name}, {value}, true)");
    }
    Statement {
        sql,
        params: params.into_vec(),
        rows: RowUse::Ignore,
    }
}

/// `SELECT "schema"."function"()` for the `db-pre-request` and
/// `db-pre-config` hooks (`schema.function`, or a bare name the search_path
/// resolves).
pub fn call_hook(function: &str) -> Statement {
    let name = match function.split_once('.') {
        Some((schema, name)) => format!("{}.{}", ident(schema), ident(name)),
        None => ident(function),
    };
    Statement {
        sql: format!("SELECT {name}()"),
        params: Vec::new(),
        rows: RowUse::Ignore,
    }
}

/// Headers as a JSON object (names are lower-case already; a repeated header
/// keeps its last value).
fn headers_json(headers: &[(String, String)]) -> String {
    let map: Map<String, Value> = headers
        .iter()
        .filter(|(name, _)| name != "cookie")
        .map(|(n, v)| (n.clone(), Value::String(v.clone())))
        .collect();
    Value::Object(map).to_string()
}

/// Cookies of every Cookie header as a JSON object.
fn cookies_json(headers: &[(String, String)]) -> String {
    let map: Map<String, Value> = headers
        .iter()
        .filter(|(name, _)| name == "cookie")
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), Value::String(v.trim().to_string())))
        .collect();
    Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Param;

    #[test]
    fn everything_is_a_parameter() {
        let headers = vec![
            ("accept".to_string(), "*/*".to_string()),
            ("cookie".to_string(), "a=1; b = x=y".to_string()),
        ];
        let st = statement(&RequestSettings {
            role: "anon'; drop",
            role_settings: &[],
            search_path: vec!["api", "pub\"lic"],
            claims_json: "{}",
            method: "GET",
            path: "/items",
            headers: &headers,
            timezone: Some("+05:30"),
            app_settings: &[("app.settings.x\"y", "1'; drop")],
            function_settings: &[("statement_timeout".into(), "5s".into())],
        });
        assert!(
            st.sql
                .starts_with("SELECT set_config($1, $2, true), set_config($3, $4, true)")
        );
        assert!(!st.sql.contains("anon") && !st.sql.contains("drop"));
        let text = |i: usize| match &st.params[i] {
            Param::Text(t) => t.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(text(1), r#""api", "pub""lic""#);
        assert_eq!(text(3), "anon'; drop");
        assert_eq!(text(11), r#"{"accept":"*/*"}"#);
        assert_eq!(text(13), r#"{"a":"1","b":"x=y"}"#);
        // The time zone after the cookies, before the app settings.
        assert_eq!((text(14), text(15)), ("timezone".into(), "+05:30".into()));
        assert_eq!(text(16), "app.settings.x\"y");
        assert_eq!(text(17), "1'; drop");
        // A called function's hoisted settings come last.
        assert_eq!(
            (text(18), text(19)),
            ("statement_timeout".into(), "5s".into())
        );
        assert_eq!(st.rows, RowUse::Ignore);
    }

    #[test]
    fn role_settings_come_before_the_role() {
        let st = statement(&RequestSettings {
            role: "slow",
            role_settings: &[("statement_timeout".into(), "1ms".into())],
            search_path: vec!["api"],
            claims_json: "{}",
            method: "GET",
            path: "/",
            headers: &[],
            timezone: None,
            app_settings: &[],
            function_settings: &[],
        });
        let texts: Vec<&str> = st
            .params
            .iter()
            .map(|p| match p {
                Param::Text(t) => t.as_str(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            texts[..6],
            [
                "search_path",
                "\"api\"",
                "statement_timeout",
                "1ms",
                "role",
                "slow"
            ]
        );
    }

    #[test]
    fn hook_names_are_quoted() {
        assert_eq!(call_hook("api.check").sql, r#"SELECT "api"."check"()"#);
        assert_eq!(call_hook("Check").sql, r#"SELECT "Check"()"#);
        assert_eq!(call_hook(r#"a"b.c.d"#).sql, r#"SELECT "a""b"."c.d"()"#);
    }
}
