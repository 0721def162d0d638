//! `jwt-role-claim-key`: where the role sits in the JWT claims.
//!
//! As in PostgREST 16, the key is first read as an RFC 9535 JSONPath
//! (`serde_json_path`): `$.role`, `$["https://example.com/role"].key`,
//! `$.roles[-1]`, `$.roles[1:]`, `$..role`, `$.roles[?@ == "admin"]`,
//! `$.roles[?search(@, "^app_")]`. Of RFC 9535's functions only `search()`
//! is accepted, as PostgREST's JSONPath library (aeson-jsonpath) knows no
//! other. A key that is no JSONPath is then read as the pre-16 JSPath DSL
//! that PostgREST 16.2 still accepts (deprecated there): steps `.key`,
//! `."quoted key"` and `[n]` in any order, the last possibly a filter
//! `[?(@ op "text")]` with `==`, `!=`, `^==`, `==^` or `*==` that picks the
//! first string element of an array matching it. A key that is neither is a
//! startup error. The first node selected is the role (see
//! [`super::jwt::JwtSettings::role`]); none means no role claim.
//!
//! Gaps left versus PostgREST:
//! - `search()` patterns are the `regex` crate's (as RFC 9535's I-Regexp);
//!   PostgREST's are POSIX ones (regex-tdfa), so e.g. `\p{Lu}` matches here only.
//! - `search()` with an argument that selects several nodes (`@.*`) is
//!   refused at startup, as RFC 9535 types it; PostgREST accepts it and
//!   finds no match.
//! - A JSONPath whose brackets and parentheses nest more than
//!   [`MAX_NESTING`] deep is refused at startup (its parse time doubles with
//!   each nested filter); PostgREST reads it.
//! - PostgREST's startup error goes on with its parser's position and
//!   expectations (`(line 1, column 1): unexpected ...`); only the first
//!   part is given here.
//! - `--dump-config` shows the key as given; PostgREST shows it as its
//!   library prints the parsed path (`$.a[1:3]` as `$.a[1:3:1]`).

use serde_json::Value;
use serde_json_path::JsonPath;

/// A `jwt-role-claim-key` that is neither a JSONPath nor the pre-16 DSL,
/// with PostgREST's startup message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to parse role-claim-key value ({0})")]
pub struct RoleClaimKeyError(pub String);

/// A parsed `jwt-role-claim-key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleClaimKey {
    /// RFC 9535 JSONPath.
    JsonPath(JsonPath),
    /// The pre-16 JSPath DSL.
    Legacy(Vec<LegacyStep>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyStep {
    Key(String),
    Index(usize),
    /// Only last: the first string element of an array that matches.
    Filter(LegacyOp, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyOp {
    Equals,
    NotEquals,
    StartsWith,
    EndsWith,
    Contains,
}

impl Default for RoleClaimKey {
    fn default() -> Self {
        RoleClaimKey::parse("$.role").expect("`$.role` is a JSONPath")
    }
}

impl RoleClaimKey {
    /// Parses a configuration value.
    pub fn parse(text: &str) -> Result<RoleClaimKey, RoleClaimKeyError> {
        json_path(text)
            .map(RoleClaimKey::JsonPath)
            .or_else(|| parse_legacy(text).map(RoleClaimKey::Legacy))
            .ok_or_else(|| RoleClaimKeyError(text.to_string()))
    }

    /// The first node the path selects in `claims`, if any.
    pub fn select<'a>(&self, claims: &'a Value) -> Option<&'a Value> {
        match self {
            RoleClaimKey::JsonPath(path) => path.query(claims).first(),
            RoleClaimKey::Legacy(steps) => select_legacy(steps, claims),
        }
    }
}

/// How deep brackets and parentheses may nest in a JSONPath key. The
/// parser's time doubles with each filter nested in another and its stack
/// grows with each level (small in a WASI component); real keys nest a few
/// levels (`$.g[?(@.a == 1 && search(@.b, "x"))]` is 4).
const MAX_NESTING: usize = 8;

fn json_path(text: &str) -> Option<JsonPath> {
    if !screened(text) {
        return None;
    }
    JsonPath::parse(text).ok()
}

/// Whether a JSONPath nests at most [`MAX_NESTING`] deep, calls no
/// function but `search` and has only well-formed `\u` escapes. Both are read outside string literals; a call is
/// a name right before `(` (RFC 9535 allows no blank between them, and a
/// name before `(` means nothing else).
fn screened(text: &str) -> bool {
    let mut quote = None;
    let mut escaped = false;
    let mut depth = 0usize;
    for (at, c) in text.char_indices() {
        match quote {
            Some(_) if escaped => {
                escaped = false;
                // serde_json_path panics on a `\u` not followed by four
                // characters; anything but four hex digits is invalid anyway.
                let hex = text.as_bytes().get(at + 1..at + 5);
                if c == 'u' && !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return false;
                }
            }
            Some(_) if c == '\\' => escaped = true,
            Some(open) if c == open => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' | '[' => {
                    depth += 1;
                    if depth > MAX_NESTING || (c == '(' && calls_another_function(&text[..at])) {
                        return false;
                    }
                }
                ')' | ']' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    true
}

/// Whether `before`, the text before a `(`, ends with a function name other
/// than `search`.
fn calls_another_function(before: &str) -> bool {
    let rest = before.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    !matches!(&before[rest.len()..], "" | "search")
}

fn select_legacy<'a>(steps: &[LegacyStep], root: &'a Value) -> Option<&'a Value> {
    let mut node = root;
    for step in steps {
        node = match (step, node) {
            (LegacyStep::Key(key), Value::Object(map)) => map.get(key)?,
            (LegacyStep::Index(i), Value::Array(items)) => items.get(*i)?,
            (LegacyStep::Filter(op, text), Value::Array(items)) => {
                return items
                    .iter()
                    .find(|v| matches!(v, Value::String(s) if op.matches(s, text)));
            }
            _ => return None,
        };
    }
    Some(node)
}

impl LegacyOp {
    fn matches(self, value: &str, pattern: &str) -> bool {
        match self {
            LegacyOp::Equals => value == pattern,
            LegacyOp::NotEquals => value != pattern,
            LegacyOp::StartsWith => value.starts_with(pattern),
            LegacyOp::EndsWith => value.ends_with(pattern),
            LegacyOp::Contains => value.contains(pattern),
        }
    }
}

/// The pre-16 DSL: one or more of `.key` (letters, digits, `_$@`),
/// `."quoted"` and `[n]`, the last possibly `[?(@ op "text")]`.
fn parse_legacy(text: &str) -> Option<Vec<LegacyStep>> {
    let mut rest = text;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(key) = rest.strip_prefix('.') {
            let (name, after) = legacy_key(key)?;
            steps.push(LegacyStep::Key(name.to_string()));
            rest = after;
        } else if rest.starts_with("[?(") {
            steps.push(parse_legacy_filter(rest)?);
            break;
        } else {
            let indexed = rest.strip_prefix('[')?;
            let end = indexed.find(|c: char| !c.is_ascii_digit())?;
            if end == 0 || !indexed[end..].starts_with(']') {
                return None;
            }
            // One past usize selects nothing (PostgREST wraps it in its Int).
            let index = indexed[..end].parse().unwrap_or(usize::MAX);
            steps.push(LegacyStep::Index(index));
            rest = &indexed[end + 1..];
        }
    }
    (!steps.is_empty()).then_some(steps)
}

/// A key after its `.`: a run of name characters or a quoted string, and
/// what follows it.
fn legacy_key(text: &str) -> Option<(&str, &str)> {
    if let Some(quoted) = text.strip_prefix('"') {
        let end = quoted.find('"')?;
        return Some((&quoted[..end], &quoted[end + 1..]));
    }
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || "_$@".contains(c)))
        .unwrap_or(text.len());
    (end > 0).then(|| text.split_at(end))
}

/// `[?(@`, blanks, an operator, blanks, a double-quoted text, `)]`, and
/// nothing after it.
fn parse_legacy_filter(text: &str) -> Option<LegacyStep> {
    let inner = text.strip_prefix("[?(@")?.strip_suffix(")]")?.trim_start();
    let ops = [
        ("==^", LegacyOp::EndsWith),
        ("==", LegacyOp::Equals),
        ("!=", LegacyOp::NotEquals),
        ("^==", LegacyOp::StartsWith),
        ("*==", LegacyOp::Contains),
    ];
    let (op, value) = ops
        .iter()
        .find_map(|(token, op)| inner.strip_prefix(token).map(|v| (*op, v.trim_start())))?;
    let value = value.strip_prefix('"')?.strip_suffix('"')?;
    (!value.contains('"')).then(|| LegacyStep::Filter(op, value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role(key: &str, claims: Value) -> Option<Value> {
        RoleClaimKey::parse(key).unwrap().select(&claims).cloned()
    }

    fn refused(key: &str) -> bool {
        RoleClaimKey::parse(key) == Err(RoleClaimKeyError(key.to_string()))
    }

    #[test]
    fn default_is_dollar_role() {
        assert_eq!(
            RoleClaimKey::default(),
            RoleClaimKey::parse("$.role").unwrap()
        );
        assert_eq!(
            RoleClaimKey::default().select(&json!({"role": "web"})),
            Some(&json!("web"))
        );
    }

    /// A filter whose literal opens with a multi-byte character instead of a
    /// quote is refused (found by the `jwt` fuzz target).
    #[test]
    fn a_filter_literal_must_open_with_a_quote() {
        assert!(refused("$.soes[?(@==\n\u{8d}[\"2\n)]"));
        assert!(refused("$.roles[?(@==\u{e9}x\u{e9})]"));
    }

    #[test]
    fn json_path_names_indexes_and_quoted_keys() {
        let claims = json!({
            "realm": {"roles": ["reader", "writer"]},
            "https://example.com/role": {"key with.dots": "author"},
        });
        assert_eq!(
            role("$.realm.roles[1]", claims.clone()),
            Some(json!("writer"))
        );
        assert_eq!(
            role("$.realm.roles[-1]", claims.clone()),
            Some(json!("writer"))
        );
        assert_eq!(role("$.realm.roles[-3]", claims.clone()), None);
        assert_eq!(role("$.realm.roles[2]", claims.clone()), None);
        assert_eq!(
            role(
                r#"$["https://example.com/role"]['key with.dots']"#,
                claims.clone()
            ),
            Some(json!("author"))
        );
        assert_eq!(role("$ .realm [ 0 ]", claims.clone()), None);
        assert_eq!(
            role("$.realm .roles [ 0 ]", claims.clone()),
            Some(json!("reader"))
        );
        assert_eq!(role("$.missing", claims.clone()), None);
        assert_eq!(role("$.realm.roles.x", claims), None);
        assert_eq!(
            role(r#"$['it\'s']"#, json!({"it's": "q"})),
            Some(json!("q"))
        );
        assert_eq!(role(r#"$["\u0041"]"#, json!({"A": "u"})), Some(json!("u")));
        // A dotted name is one key, not a path.
        assert_eq!(
            role(r#"$["a.b"]"#, json!({"a.b": "flat", "a": {"b": "nested"}})),
            Some(json!("flat"))
        );
    }

    #[test]
    fn json_path_wildcards_descendants_and_slices() {
        let claims = json!({
            "app": {"meta": {"role": "deep"}, "roles": ["r0", "r1", "r2", "r3"]},
            "role": "top",
        });
        assert_eq!(role("$.app.roles[*]", claims.clone()), Some(json!("r0")));
        assert_eq!(role("$.app.roles.*", claims.clone()), Some(json!("r0")));
        assert_eq!(role("$.app.*.role", claims.clone()), Some(json!("deep")));
        // Descendants in document order: the root's own member first.
        assert_eq!(role("$..role", claims.clone()), Some(json!("top")));
        assert_eq!(role("$.app..role", claims.clone()), Some(json!("deep")));
        assert_eq!(role("$.app.roles[2:]", claims.clone()), Some(json!("r2")));
        assert_eq!(role("$.app.roles[::-1]", claims.clone()), Some(json!("r3")));
        assert_eq!(
            role("$.app.roles[1:3:2]", claims.clone()),
            Some(json!("r1"))
        );
        assert_eq!(role("$.app.roles[4:]", claims.clone()), None);
        assert_eq!(role("$.app.roles[3,0]", claims), Some(json!("r3")));
    }

    #[test]
    fn json_path_filters_pick_the_first_match() {
        let claims = json!({"roles": [1, "one", "two", "twenty"]});
        assert_eq!(
            role(r#"$.roles[?(@ == "two")]"#, claims.clone()),
            Some(json!("two"))
        );
        assert_eq!(
            role(r#"$.roles[?@=="twenty"]"#, claims.clone()),
            Some(json!("twenty"))
        );
        // RFC 9535: a number is "not equal" to a string, so it matches.
        assert_eq!(
            role(r#"$.roles[?(@ != "one")]"#, claims.clone()),
            Some(json!(1))
        );
        assert_eq!(role(r#"$.roles[?(@ == "none")]"#, claims), None);
        assert_eq!(
            role(r#"$.r[?@ == "b"]"#, json!({"r": {"y": "b", "x": "a"}})),
            Some(json!("b"))
        );
        assert_eq!(role(r#"$.r[?@ == "b"]"#, json!({"r": "b"})), None);
    }

    #[test]
    fn json_path_search_filters() {
        let claims = json!({"roles": [7, "other", "pgrst_reader", "pgrst_writer"]});
        assert_eq!(
            role(r#"$.roles[?search(@, "^pgrst_")]"#, claims.clone()),
            Some(json!("pgrst_reader"))
        );
        assert_eq!(
            role("$.roles[?search(@, 'writer$')]", claims.clone()),
            Some(json!("pgrst_writer"))
        );
        assert_eq!(
            role(r#"$.roles[?!search(@, "^pgrst_")]"#, claims.clone()),
            Some(json!(7))
        );
        assert_eq!(
            role(r#"$.roles[?search(@, "^nobody")]"#, claims.clone()),
            None
        );
        // A pattern the regex crate refuses matches nothing.
        assert_eq!(role(r#"$.roles[?search(@, "(")]"#, claims), None);
        let members = json!({"groups": [
            {"name": "staff", "role": "web_staff"},
            {"name": "admins", "role": "web_admin"},
        ]});
        assert_eq!(
            role(r#"$.groups[?search(@.name, "^adm")].role"#, members),
            Some(json!("web_admin"))
        );
    }

    /// PostgREST's JSONPath library knows `search()` alone: a key calling
    /// another function fails at startup there, and so it does here.
    #[test]
    fn json_path_functions_other_than_search_are_refused() {
        for key in [
            r#"$.roles[?match(@, "pgrst_.*")]"#,
            "$.roles[?length(@) > 3]",
            "$[?count(@.*) == 1]",
            r#"$.roles[?value(@) == "a"]"#,
            r#"$.roles[?@ == "a" || match(@, "b")]"#,
        ] {
            assert!(refused(key), "{key}");
        }
        // Inside a string, a name before `(` is no call.
        assert_eq!(
            role(
                r#"$[?search(@, "match(es)?")]"#,
                json!({"a": "matches", "b": "x"})
            ),
            Some(json!("matches"))
        );
        assert_eq!(
            role(r#"$['match(']"#, json!({"match(": "q"})),
            Some(json!("q"))
        );
    }

    #[test]
    fn json_path_comparisons_with_numbers_and_other_literals() {
        let claims = json!({"grants": [
            {"level": 1, "role": "guest", "active": false},
            {"level": 5, "role": "editor", "active": true},
            {"level": 9, "role": "admin", "active": true},
        ]});
        for (key, expected) in [
            ("$.grants[?@.level > 3].role", Some("editor")),
            ("$.grants[?@.level >= 9].role", Some("admin")),
            ("$.grants[?@.level < 5].role", Some("guest")),
            ("$.grants[?@.level == 5.0].role", Some("editor")),
            ("$.grants[?@.level <= 0].role", None),
            (
                "$.grants[?@.active == true && @.level != 5].role",
                Some("admin"),
            ),
            (
                "$.grants[?@.level > 3 || @.role == 'guest'].role",
                Some("guest"),
            ),
            ("$.grants[?@.missing == null].role", None),
            ("$.grants[?@.level > $.min].role", Some("editor")),
        ] {
            let mut claims = claims.clone();
            claims["min"] = json!(1);
            assert_eq!(role(key, claims), expected.map(|s| json!(s)), "{key}");
        }
        // Strings and numbers are not ordered against each other.
        assert_eq!(role(r#"$.grants[?@.level > "1"].role"#, claims), None);
    }

    #[test]
    fn legacy_dsl_still_works() {
        let claims = json!({
            "postgrest": {"roles": ["other", "author"]},
            "https://www.example.com/role": {"key": "author"},
            "realm": {"roles": ["other", "pgrst_test_author", 3]},
            "nested": [["a", "b"], ["c"]],
        });
        for (key, expected) in [
            (".postgrest.roles[1]", Some("author")),
            (r#"."https://www.example.com/role".key"#, Some("author")),
            (r#".realm.roles[?(@ == "other")]"#, Some("other")),
            (
                r#".realm.roles[?(@ != "other")]"#,
                Some("pgrst_test_author"),
            ),
            (
                r#".realm.roles[?(@ ^== "pgrst_")]"#,
                Some("pgrst_test_author"),
            ),
            (
                r#".realm.roles[?(@ ==^ "author")]"#,
                Some("pgrst_test_author"),
            ),
            (r#".realm.roles[?(@*=="test")]"#, Some("pgrst_test_author")),
            (r#".realm.roles[?(@ == "3")]"#, None),
            (r#".postgrest[?(@ == "x")]"#, None),
            // Steps in any order, several indexes in a row.
            (".nested[0][1]", Some("b")),
            (r#".nested[1][?(@ == "c")]"#, Some("c")),
            ("[0]", None),
            (".realm.roles[99999999999999999999999]", None),
        ] {
            assert_eq!(
                role(key, claims.clone()),
                expected.map(|s| json!(s)),
                "{key}"
            );
        }
        assert_eq!(role(".a$b@c_1", json!({"a$b@c_1": "x"})), Some(json!("x")));
        assert_eq!(
            RoleClaimKey::parse(r#"[?(@ == "x")]"#),
            Ok(RoleClaimKey::Legacy(vec![LegacyStep::Filter(
                LegacyOp::Equals,
                "x".into()
            )]))
        );
    }

    /// A `\u` escape without four hex digits is refused, not handed to
    /// serde_json_path, which panics on some (found by the `jwt` fuzz target).
    #[test]
    fn a_unicode_escape_needs_four_hex_digits() {
        for key in [
            "$[\"X\\u\u{a4}?\n@",
            r#"$['\u"#,
            r#"$["\u12"]"#,
            r#"$["\uZZZZ"]"#,
        ] {
            assert!(refused(key), "{key}");
        }
        assert_eq!(
            role(r#"$["\u00e9"]"#, json!({"\u{e9}": "e"})),
            Some(json!("e"))
        );
    }

    /// A key nested deeper than [`MAX_NESTING`] is refused before the
    /// parser could spend its time or stack on it.
    #[test]
    fn deeply_nested_keys_are_refused() {
        let parens = |depth| format!("$[?{}@{}]", "(".repeat(depth), ")".repeat(depth));
        let filters = |depth| format!("$.a{}", "[?@".repeat(depth) + &"]".repeat(depth));
        assert!(RoleClaimKey::parse(&parens(MAX_NESTING - 1)).is_ok());
        assert!(RoleClaimKey::parse(&filters(MAX_NESTING)).is_ok());
        for key in [parens(MAX_NESTING), filters(MAX_NESTING + 1), parens(5000)] {
            assert!(refused(&key), "{key}");
        }
        // Brackets inside a string literal do not count.
        let quoted = format!("$['{}']", "[".repeat(100));
        assert_eq!(
            role(&quoted, json!({"[".repeat(100): "deep"})),
            Some(json!("deep"))
        );
    }

    #[test]
    fn invalid_keys_are_startup_errors() {
        for bad in [
            "",
            "role",
            "$.",
            "$...role",
            "$.roles[01]",
            "$.roles[-0]",
            "$.roles[1:2:0:1]",
            "$.a[",
            "$.a. b",
            "$.a b",
            "$.a-b",
            r#"$.r[?@ <> "a"]"#,
            r#"$.r[?search(@.*, "a")]"#,
            r#"$.r[?@.* == "a"]"#,
            r#"$["unterminated"#,
            "$['it's']",
            ".",
            ".a-b",
            ".a[-1]",
            ".a[]",
            ".a[1",
            r#".a["x"]"#,
            r#"."open"#,
            r#".roles[?(@ == "a")].next"#,
            r#".roles[?(@ == 'a')]"#,
            r#".roles[?(@ == "a" )]"#,
            r#".roles[?( @ == "a")]"#,
            r#".roles[?(@ = "a")]"#,
            "@@.role.other",
        ] {
            assert!(refused(bad), "{bad}");
        }
    }
}
