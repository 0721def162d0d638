//! The statements that open a request's transaction context: search_path,
//! role, the `request.*` and `app.settings.*` settings, all as parameters of
//! one `set_config` SELECT (SET takes no parameters), in PostgREST's order;
//! then the `db-pre-request` call.

use super::sql::{Params, push_all, push_ident, push_list, push_qualified};
use crate::contract::{RowUse, Statement};

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
    /// A called function's hoisted settings (name, value), applied just
    /// before the app settings.
    pub function_settings: &'a [(String, String)],
}

pub fn statement(s: &RequestSettings) -> Statement {
    let mut search_path = String::with_capacity(64);
    push_list(&mut search_path, &s.search_path, |out, schema| {
        push_ident(out, schema)
    });
    let mut set = Setter::default();
    set.fixed("search_path", search_path);
    for (name, value) in s.role_settings {
        set.named(name, value);
    }
    set.fixed("role", s.role);
    set.fixed("request.jwt.claims", s.claims_json);
    set.fixed("request.method", s.method);
    set.fixed("request.path", s.path);
    set.fixed("request.headers", headers_json(s.headers));
    set.fixed("request.cookies", cookies_json(s.headers));
    if let Some(tz) = s.timezone {
        set.fixed("timezone", tz);
    }
    // PostgREST's order: a function's hoisted settings, then the app
    // settings, so an `app.settings.*` key both name keeps the configured
    // value for the transaction (the function still runs with its own).
    for (name, value) in s.function_settings {
        set.named(name, value);
    }
    for (name, value) in s.app_settings {
        set.named(name, *value);
    }
    Statement {
        sql: set.sql,
        params: set.params.into_vec(),
        rows: RowUse::Ignore,
    }
}

/// The `set_config` SELECT, written into one buffer: it opens every request.
/// Values are always parameters; so are names that come from configuration
/// or the database. pgrest's own fixed names are literals.
struct Setter {
    sql: String,
    params: Params,
}

impl Default for Setter {
    fn default() -> Setter {
        let mut sql = String::with_capacity(512);
        sql.push_str("SELECT ");
        Setter {
            sql,
            // PostgREST's seven settings, and a few more.
            params: Params::with_capacity(12),
        }
    }
}

impl Setter {
    fn fixed(&mut self, name: &'static str, value: impl Into<String>) {
        self.separate();
        let value = self.params.text(value);
        push_all(&mut self.sql, &["set_config('", name, "', "]);
        value.push_to(&mut self.sql);
        self.sql.push_str(", true)");
    }

    fn named(&mut self, name: &str, value: impl Into<String>) {
        self.separate();
        let name = self.params.text(name);
        let value = self.params.text(value);
        self.sql.push_str("set_config(");
        name.push_to(&mut self.sql);
        self.sql.push_str(", ");
        value.push_to(&mut self.sql);
        self.sql.push_str(", true)");
    }

    fn separate(&mut self) {
        if !self.params.is_empty() {
            self.sql.push_str(", ");
        }
    }
}

/// `SELECT "schema"."function"()` for the `db-pre-request` and
/// `db-pre-config` hooks (`schema.function`, or a bare name the search_path
/// resolves).
pub fn call_hook(function: &str) -> Statement {
    let mut sql = String::with_capacity(function.len() + 13);
    sql.push_str("SELECT ");
    match function.split_once('.') {
        Some((schema, name)) => push_qualified(&mut sql, schema, name),
        None => push_ident(&mut sql, function),
    }
    sql.push_str("()");
    Statement {
        sql,
        params: Vec::new(),
        rows: RowUse::Ignore,
    }
}

/// Headers as a JSON object (names are lower-case already; a repeated header
/// keeps its last value; keys in order).
fn headers_json(headers: &[(String, String)]) -> String {
    let pairs = headers
        .iter()
        .filter(|(name, _)| name != "cookie")
        .map(|(n, v)| (n.as_str(), v.as_str()));
    json_object(pairs)
}

/// Cookies of every Cookie header as a JSON object.
fn cookies_json(headers: &[(String, String)]) -> String {
    let pairs = headers
        .iter()
        .filter(|(name, _)| name == "cookie")
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()));
    json_object(pairs)
}

/// A JSON object of string values, keys sorted, the last of equal keys
/// winning; written directly (no intermediate JSON value).
fn json_object<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = pairs.collect();
    // Stable: equal keys keep their order, so the last one is the latest.
    pairs.sort_by_key(|(key, _)| *key);
    let mut out = Vec::with_capacity(64 * pairs.len() + 2);
    out.push(b'{');
    for (i, (key, value)) in pairs.iter().enumerate() {
        if pairs.get(i + 1).is_some_and(|(next, _)| next == key) {
            continue;
        }
        if out.len() > 1 {
            out.push(b',');
        }
        json_string(&mut out, key);
        out.push(b':');
        json_string(&mut out, value);
    }
    out.push(b'}');
    String::from_utf8(out).expect("JSON of UTF-8 strings is UTF-8")
}

fn json_string(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(out, s).expect("writing to a Vec cannot fail");
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
        assert!(st.sql.starts_with(
            "SELECT set_config('search_path', $1, true), set_config('role', $2, true)"
        ));
        assert!(!st.sql.contains("anon") && !st.sql.contains("drop"));
        let text = |i: usize| match &st.params[i] {
            Param::Text(t) => t.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(text(0), r#""api", "pub""lic""#);
        assert_eq!(text(1), "anon'; drop");
        assert_eq!(text(5), r#"{"accept":"*/*"}"#);
        assert_eq!(text(6), r#"{"a":"1","b":"x=y"}"#);
        // The time zone after the cookies, then a called function's hoisted
        // settings, then the app settings (names are parameters too).
        assert!(
            st.sql
                .contains("set_config('timezone', $8, true), set_config($9, $10, true)")
        );
        assert_eq!(text(7), "+05:30");
        assert_eq!(
            (text(8), text(9)),
            ("statement_timeout".into(), "5s".into())
        );
        assert_eq!(text(10), "app.settings.x\"y");
        assert_eq!(text(11), "1'; drop");
        assert!(st.sql.ends_with("set_config($11, $12, true)"));
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
        assert_eq!(texts[..4], ["\"api\"", "statement_timeout", "1ms", "slow"]);
        assert!(st.sql.starts_with(
            "SELECT set_config('search_path', $1, true), set_config($2, $3, true), \
             set_config('role', $4, true)"
        ));
    }

    #[test]
    fn headers_and_cookies_are_json_objects_whose_last_value_wins() {
        let headers: Vec<(String, String)> = [
            ("x-b", "1"),
            ("cookie", "k=\"v\"; j=2"),
            ("x-a", "a\\b\u{7}"),
            ("x-b", "2"),
            ("cookie", "k=3"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
        assert_eq!(headers_json(&headers), r#"{"x-a":"a\\b\u0007","x-b":"2"}"#);
        assert_eq!(cookies_json(&headers), r#"{"j":"2","k":"3"}"#);
        assert_eq!(headers_json(&[]), "{}");
    }

    #[test]
    fn hook_names_are_quoted() {
        assert_eq!(call_hook("api.check").sql, r#"SELECT "api"."check"()"#);
        assert_eq!(call_hook("Check").sql, r#"SELECT "Check"()"#);
        assert_eq!(call_hook(r#"a"b.c.d"#).sql, r#"SELECT "a""b"."c.d"()"#);
    }
}
