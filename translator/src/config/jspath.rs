//! The `jwt-role-claim-key` path, e.g. `.role`, `.realm_access.roles[0]`,
//! `."https://example.com/role"` or `.roles[?(@ ^== "app_")]`: one or more
//! steps, each a key after a period (letters, digits, `_ $ @`, or
//! double-quoted), an `[index]`, or, last only, a filter on the strings of
//! an array (`==`, `!=`, `^==` starts with, `==^` ends with, `*==` contains).

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
    Filter(FilterOp, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Equals,
    NotEquals,
    StartsWith,
    EndsWith,
    Contains,
}

/// Parses a role claim key; the error names the value as PostgREST does.
pub fn parse(text: &str) -> Result<Vec<Step>, String> {
    let mut p = Cursor { text, pos: 0 };
    let mut steps = Vec::new();
    while p.pos < text.len() {
        if matches!(steps.last(), Some(Step::Filter(..))) {
            return Err(p.fail("the end (a filter is the last step)"));
        }
        steps.push(p.step()?);
    }
    if steps.is_empty() {
        return Err(p.fail("a key (.name), an index ([0]) or a filter ([?(@ == \"x\")])"));
    }
    Ok(steps)
}

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn eat(&mut self, s: &str) -> bool {
        let found = self.rest().starts_with(s);
        if found {
            self.pos += s.len();
        }
        found
    }

    fn fail(&self, expected: &str) -> String {
        format!(
            "failed to parse role-claim-key value ({}): expecting {expected} at column {}",
            self.text,
            self.text[..self.pos].chars().count() + 1
        )
    }

    fn step(&mut self) -> Result<Step, String> {
        if self.eat(".") {
            if self.rest().starts_with('"') {
                return self.quoted().map(Step::Key);
            }
            let len: usize = self
                .rest()
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '$' | '@'))
                .map(char::len_utf8)
                .sum();
            if len == 0 {
                return Err(self.fail("an attribute name [a..z0..9_$@] or a \"quoted name\""));
            }
            self.pos += len;
            return Ok(Step::Key(self.text[self.pos - len..self.pos].to_string()));
        }
        if self.eat("[?(") {
            return self.filter();
        }
        if self.eat("[") {
            let digits = self.rest().chars().take_while(char::is_ascii_digit).count();
            let index = self.rest()[..digits].parse().ok();
            self.pos += digits;
            return match index {
                Some(i) if self.eat("]") => Ok(Step::Index(i)),
                _ => Err(self.fail("an array index [0..n]")),
            };
        }
        Err(self.fail("a period (.) or a bracket ([)"))
    }

    /// After `[?(`: `@ op "value")]`.
    fn filter(&mut self) -> Result<Step, String> {
        if !self.eat("@") {
            return Err(self.fail("@"));
        }
        self.skip_spaces();
        let op = [
            ("==^", FilterOp::EndsWith),
            ("==", FilterOp::Equals),
            ("!=", FilterOp::NotEquals),
            ("^==", FilterOp::StartsWith),
            ("*==", FilterOp::Contains),
        ]
        .into_iter()
        .find(|(token, _)| self.eat(token))
        .map(|(_, op)| op)
        .ok_or_else(|| self.fail("an operator (== != ^== ==^ *==)"))?;
        self.skip_spaces();
        let value = self.quoted()?;
        if !self.eat(")]") {
            return Err(self.fail(")]"));
        }
        Ok(Step::Filter(op, value))
    }

    fn skip_spaces(&mut self) {
        let len = self.rest().len() - self.rest().trim_start().len();
        self.pos += len;
    }

    /// `"..."` without escapes (a `"` cannot be part of the value).
    fn quoted(&mut self) -> Result<String, String> {
        if !self.eat("\"") {
            return Err(self.fail("a quoted value (\")"));
        }
        let Some(len) = self.rest().find('"') else {
            self.pos = self.text.len();
            return Err(self.fail("a closing quote (\")"));
        };
        let value = self.rest()[..len].to_string();
        self.pos += len + 1;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Step {
        Step::Key(k.to_string())
    }

    #[test]
    fn keys_quoted_keys_indexes_and_filters() {
        assert_eq!(parse(".role").unwrap(), [key("role")]);
        assert_eq!(
            parse(r#".realm_access.roles[1]."a.b-c""#).unwrap(),
            [
                key("realm_access"),
                key("roles"),
                Step::Index(1),
                key("a.b-c")
            ]
        );
        assert_eq!(parse(".$a@b").unwrap(), [key("$a@b")]);
        assert_eq!(parse("[0][2]").unwrap(), [Step::Index(0), Step::Index(2)]);
        for (text, op) in [
            (r#".roles[?(@ == "admin")]"#, FilterOp::Equals),
            (r#".roles[?(@!="admin")]"#, FilterOp::NotEquals),
            (r#".roles[?(@ ^== "admin")]"#, FilterOp::StartsWith),
            (r#".roles[?(@ ==^ "admin")]"#, FilterOp::EndsWith),
            (r#".roles[?(@ *== "admin")]"#, FilterOp::Contains),
        ] {
            assert_eq!(
                parse(text).unwrap(),
                [key("roles"), Step::Filter(op, "admin".to_string())],
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in [
            "",
            "role",
            ".",
            "a..",
            ".a.",
            ".a[",
            ".a[]",
            ".a[x]",
            ".a-b",
            r#"."x"#,
            r#".a[?(@ = "x")]"#,
            r#".a[?(@ == x)]"#,
            r#".a[?(@ == "x")].b"#,
            r#".a[?(@ == "x""#,
        ] {
            let err = parse(bad).unwrap_err();
            assert!(
                err.starts_with(&format!("failed to parse role-claim-key value ({bad})")),
                "{bad}: {err}"
            );
        }
    }
}
