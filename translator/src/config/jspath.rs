//! The `jwt-role-claim-key` path, e.g. `.role`, `.realm_access.roles[0]` or
//! `."https://example.com/role"`: keys after periods (letters, digits,
//! `_ $ @`, or double-quoted), each optionally followed by one `[index]`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// Parses a role claim key; the error names the value as PostgREST does.
pub fn parse(text: &str) -> Result<Vec<Step>, String> {
    let fail = |what: &str, at: usize| {
        format!(
            "failed to parse role-claim-key value ({text}): expecting {what} at column {}",
            at + 1
        )
    };
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut steps = Vec::new();
    loop {
        if chars.get(i) != Some(&'.') {
            return Err(fail("period (.)", i));
        }
        i += 1;
        if chars.get(i) == Some(&'"') {
            let close = chars[i + 1..]
                .iter()
                .position(|&c| c == '"')
                .ok_or_else(|| fail("closing quote (\")", chars.len()))?;
            steps.push(Step::Key(chars[i + 1..i + 1 + close].iter().collect()));
            i += close + 2;
        } else {
            let len = chars[i..]
                .iter()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '$' | '@'))
                .count();
            if len == 0 {
                return Err(fail("attribute name [a..z0..9_$@]", i));
            }
            steps.push(Step::Key(chars[i..i + len].iter().collect()));
            i += len;
        }
        if chars.get(i) == Some(&'[') {
            let digits = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if digits == 0 || chars.get(i + 1 + digits) != Some(&']') {
                return Err(fail("array index [0..n]", i));
            }
            let index: String = chars[i + 1..i + 1 + digits].iter().collect();
            let index = index.parse().map_err(|_| fail("array index [0..n]", i))?;
            steps.push(Step::Index(index));
            i += digits + 2;
        }
        if i == chars.len() {
            return Ok(steps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_quoted_keys_and_indexes() {
        assert_eq!(parse(".role").unwrap(), [Step::Key("role".into())]);
        assert_eq!(
            parse(r#".realm_access.roles[1]."a.b-c""#).unwrap(),
            [
                Step::Key("realm_access".into()),
                Step::Key("roles".into()),
                Step::Index(1),
                Step::Key("a.b-c".into()),
            ]
        );
        assert_eq!(parse(".$a@b").unwrap(), [Step::Key("$a@b".into())]);
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in [
            "", "role", ".", "a..", ".a.", ".a[", ".a[]", ".a[x]", ".a-b", r#"."x"#,
        ] {
            let err = parse(bad).unwrap_err();
            assert!(
                err.starts_with(&format!("failed to parse role-claim-key value ({bad})")),
                "{bad}: {err}"
            );
        }
    }
}
