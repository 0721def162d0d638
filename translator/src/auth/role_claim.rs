//! `jwt-role-claim-key`: where the role sits in the JWT claims.
//!
//! PostgREST 16 reads it as an RFC 9535 JSONPath (`$.role`, `$.a.b`,
//! `$["key with.dots"]`, `$.roles[0]`, `$.roles[-1]`,
//! `$.roles[?(@ == "admin")]`) and, since 16.2, still accepts the older JSPath
//! DSL (`.role`, `."key"[0]`, a trailing `[?(@ ^== "pre")]` with `==`, `!=`,
//! `^==`, `==^`, `*==`). The JSONPath subset here covers names, indexes and
//! string (in)equality filters; other constructs (wildcards, descendants,
//! slices, `search()`) are refused at startup rather than misread.

use serde_json::Value;

/// A parsed `jwt-role-claim-key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleClaimKey {
    /// RFC 9535 JSONPath: the first node it selects is the role.
    JsonPath(Vec<Segment>),
    /// The pre-16 JSPath DSL.
    Legacy(Vec<LegacyStep>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Name(String),
    /// Negative counts from the end.
    Index(i64),
    /// `[?@ == "x"]` (`equal`) or `[?@ != "x"]`: children of an array or
    /// object compared with a string.
    Filter {
        equal: bool,
        literal: String,
    },
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
        RoleClaimKey::JsonPath(vec![Segment::Name("role".into())])
    }
}

impl RoleClaimKey {
    /// Parses a configuration value; the error is PostgREST's startup message.
    pub fn parse(text: &str) -> Result<RoleClaimKey, String> {
        let parsed = if text.starts_with('$') {
            JsonPathParser::new(text)
                .parse()
                .map(RoleClaimKey::JsonPath)
        } else {
            parse_legacy(text).map(RoleClaimKey::Legacy)
        };
        parsed.ok_or_else(|| format!("failed to parse role-claim-key value ({text})"))
    }

    /// The value the path selects in `claims`, if any.
    pub fn select<'a>(&self, claims: &'a Value) -> Option<&'a Value> {
        match self {
            RoleClaimKey::JsonPath(segments) => select_json_path(segments, claims),
            RoleClaimKey::Legacy(steps) => select_legacy(steps, claims),
        }
    }
}

fn select_json_path<'a>(segments: &[Segment], root: &'a Value) -> Option<&'a Value> {
    let mut nodes = vec![root];
    for segment in segments {
        nodes = nodes
            .into_iter()
            .flat_map(|node| children(segment, node))
            .collect();
    }
    nodes.into_iter().next()
}

fn children<'a>(segment: &Segment, node: &'a Value) -> Vec<&'a Value> {
    match (segment, node) {
        (Segment::Name(name), Value::Object(map)) => map.get(name).into_iter().collect(),
        (Segment::Index(i), Value::Array(items)) => {
            let at = if *i < 0 {
                (items.len() as i64).checked_add(*i)
            } else {
                Some(*i)
            };
            at.and_then(|at| usize::try_from(at).ok())
                .and_then(|at| items.get(at))
                .into_iter()
                .collect()
        }
        (Segment::Filter { equal, literal }, Value::Array(items)) => items
            .iter()
            .filter(|v| is_string(v, literal) == *equal)
            .collect(),
        (Segment::Filter { equal, literal }, Value::Object(map)) => map
            .values()
            .filter(|v| is_string(v, literal) == *equal)
            .collect(),
        _ => Vec::new(),
    }
}

fn is_string(value: &Value, literal: &str) -> bool {
    matches!(value, Value::String(s) if s == literal)
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

/// RFC 9535's `jsonpath-query` for the supported selectors; `None` on
/// anything else.
struct JsonPathParser<'a> {
    rest: &'a str,
}

impl<'a> JsonPathParser<'a> {
    fn new(text: &'a str) -> Self {
        JsonPathParser { rest: text }
    }

    fn parse(mut self) -> Option<Vec<Segment>> {
        self.eat("$")?;
        let mut segments = Vec::new();
        loop {
            self.blank();
            if self.rest.is_empty() {
                return Some(segments);
            }
            if self.eat(".").is_some() {
                segments.push(Segment::Name(self.shorthand_name()?));
            } else {
                self.eat("[")?;
                self.blank();
                segments.push(self.selector()?);
                self.blank();
                self.eat("]")?;
            }
        }
    }

    fn eat(&mut self, token: &str) -> Option<()> {
        self.rest = self.rest.strip_prefix(token)?;
        Some(())
    }

    fn blank(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t', '\n', '\r']);
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let end = self.rest.find(|c| !keep(c)).unwrap_or(self.rest.len());
        let (taken, rest) = self.rest.split_at(end);
        self.rest = rest;
        taken
    }

    fn shorthand_name(&mut self) -> Option<String> {
        let first = self.rest.chars().next()?;
        if !(first.is_ascii_alphabetic() || first == '_' || first >= '\u{80}') {
            return None;
        }
        let name = self.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c >= '\u{80}');
        Some(name.to_string())
    }

    fn selector(&mut self) -> Option<Segment> {
        match self.rest.chars().next()? {
            '\'' | '"' => self.string_literal().map(Segment::Name),
            '?' => {
                self.eat("?")?;
                self.blank();
                self.filter()
            }
            _ => self.index().map(Segment::Index),
        }
    }

    fn index(&mut self) -> Option<i64> {
        let negative = self.eat("-").is_some();
        let digits = self.take_while(|c| c.is_ascii_digit());
        // RFC 9535: no leading zeros, and no "-0".
        if digits.is_empty() || (digits.starts_with('0') && (digits.len() > 1 || negative)) {
            return None;
        }
        let value: i64 = digits.parse().ok()?;
        Some(if negative { -value } else { value })
    }

    /// `@ == "x"` / `@ != "x"`, optionally parenthesised.
    fn filter(&mut self) -> Option<Segment> {
        let parenthesised = self.eat("(").is_some();
        self.blank();
        self.eat("@")?;
        self.blank();
        let equal = if self.eat("==").is_some() {
            true
        } else {
            self.eat("!=")?;
            false
        };
        self.blank();
        let literal = self.string_literal()?;
        if parenthesised {
            self.blank();
            self.eat(")")?;
        }
        Some(Segment::Filter { equal, literal })
    }

    /// A single- or double-quoted string with RFC 9535 escapes.
    fn string_literal(&mut self) -> Option<String> {
        // Only the two ASCII quotes open one: the slicing below counts on it.
        let quote = self
            .rest
            .chars()
            .next()
            .filter(|c| matches!(c, '\'' | '"'))?;
        let mut chars = self.rest[1..].char_indices();
        let mut out = String::new();
        while let Some((at, c)) = chars.next() {
            match c {
                c if c == quote => {
                    self.rest = &self.rest[1 + at + 1..];
                    return Some(out);
                }
                '\\' => {
                    let (_, escaped) = chars.next()?;
                    out.push(match escaped {
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        '/' | '\\' => escaped,
                        '\'' | '"' if escaped == quote => escaped,
                        'u' => {
                            let hex: String = (0..4)
                                .filter_map(|_| chars.next())
                                .map(|(_, c)| c)
                                .collect();
                            char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                        }
                        _ => return None,
                    });
                }
                c if c < ' ' => return None,
                c => out.push(c),
            }
        }
        None
    }
}

/// The pre-16 DSL: `.key` (letters, digits, `_$@`) or `."quoted"`, each
/// with an optional `[n]`, then an optional `[?(@ op "text")]`.
fn parse_legacy(text: &str) -> Option<Vec<LegacyStep>> {
    let mut rest = text;
    let mut steps = Vec::new();
    loop {
        rest = rest.strip_prefix('.')?;
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"')?;
            steps.push(LegacyStep::Key(quoted[..end].to_string()));
            rest = &quoted[end + 1..];
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || "_$@".contains(c)))
                .unwrap_or(rest.len());
            if end == 0 {
                return None;
            }
            steps.push(LegacyStep::Key(rest[..end].to_string()));
            rest = &rest[end..];
        }
        if let Some(indexed) = rest
            .strip_prefix('[')
            .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        {
            let end = indexed.find(']')?;
            steps.push(LegacyStep::Index(indexed[..end].parse().ok()?));
            rest = &indexed[end + 1..];
        }
        if rest.is_empty() {
            return Some(steps);
        }
        if rest.starts_with("[?") {
            steps.push(parse_legacy_filter(rest)?);
            return Some(steps);
        }
    }
}

fn parse_legacy_filter(text: &str) -> Option<LegacyStep> {
    let inner = text.strip_prefix("[?(@")?.strip_suffix(")]")?.trim_start();
    let ops = [
        ("==^", LegacyOp::EndsWith),
        ("^==", LegacyOp::StartsWith),
        ("*==", LegacyOp::Contains),
        ("==", LegacyOp::Equals),
        ("!=", LegacyOp::NotEquals),
    ];
    let (op, value) = ops
        .iter()
        .find_map(|(token, op)| inner.strip_prefix(token).map(|v| (*op, v.trim())))?;
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
    /// quote is refused, not sliced inside that character (found by the
    /// `jwt` fuzz target).
    #[test]
    fn a_filter_literal_must_open_with_a_quote() {
        assert!(RoleClaimKey::parse("$.soes[?(@==\n\u{8d}[\"2\n)]").is_err());
        assert!(RoleClaimKey::parse("$.roles[?(@==\u{e9}x\u{e9})]").is_err());
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
            role("$.realm .roles [ 0 ] ", claims.clone()),
            Some(json!("reader"))
        );
        assert_eq!(role("$.missing", claims.clone()), None);
        assert_eq!(role("$.realm.roles.x", claims), None);
        assert_eq!(
            role(r#"$['it\'s']"#, json!({"it's": "q"})),
            Some(json!("q"))
        );
        assert_eq!(role(r#"$["\u0041"]"#, json!({"A": "u"})), Some(json!("u")));
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
    fn legacy_dsl_still_works() {
        let claims = json!({
            "postgrest": {"roles": ["other", "author"]},
            "https://www.example.com/role": {"key": "author"},
            "realm": {"roles": ["other", "pgrst_test_author", 3]},
        });
        assert_eq!(
            role(".postgrest.roles[1]", claims.clone()),
            Some(json!("author"))
        );
        assert_eq!(
            role(r#"."https://www.example.com/role".key"#, claims.clone()),
            Some(json!("author"))
        );
        for (key, expected) in [
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
        ] {
            assert_eq!(
                role(key, claims.clone()),
                expected.map(|s| json!(s)),
                "{key}"
            );
        }
        assert_eq!(role(".a$b@c_1", json!({"a$b@c_1": "x"})), Some(json!("x")));
    }

    #[test]
    fn invalid_keys_are_startup_errors() {
        for bad in [
            "",
            "role",
            "$.",
            "$..role",
            "$.*",
            "$.roles[*]",
            "$.roles[0:2]",
            "$.roles[01]",
            "$.roles[-0]",
            "$.a[",
            "$.a. b",
            "$.a b",
            r#"$.roles[?search(@, "x")]"#,
            r#"$.r[?@ < "a"]"#,
            r#"$["unterminated"#,
            ".",
            ".a-b",
            ".a[-1]",
            r#".a["x"]"#,
            r#"."open"#,
            r#".roles[?(@ == "a")].next"#,
            r#".roles[?(@ == 'a')]"#,
            "@@.role.other",
        ] {
            assert_eq!(
                RoleClaimKey::parse(bad),
                Err(format!("failed to parse role-claim-key value ({bad})")),
                "{bad}"
            );
        }
    }
}
