//! Safe SQL text pieces: quoted identifiers and array literals. Values from a
//! request never enter SQL text; they are parameters (`Params`).

use crate::contract::Param;

/// `name` as a quoted identifier: `"` doubled, wrapped in `"`.
pub fn ident(name: &str) -> String {
    // One allocation: this runs for every column and table of every plan.
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for c in name.chars() {
        if c == '"' {
            quoted.push('"');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// `"schema"."name"`.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// A PostgreSQL array literal (`{"a","b\"c"}`) of text items, for `= ANY($n)`
/// and other array parameters.
pub fn text_array(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|i| format!("\"{}\"", i.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", quoted.join(","))
}

/// The parameters of one statement, numbered as they are added.
#[derive(Debug, Default)]
pub struct Params(Vec<Param>);

/// A parameter's placeholder (`$n`), written straight into the SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placeholder(usize);

impl std::fmt::Display for Placeholder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${}", self.0)
    }
}

impl Params {
    /// Adds a text parameter and returns its placeholder.
    pub fn text(&mut self, value: impl Into<String>) -> Placeholder {
        self.push(Param::Text(value.into()))
    }

    pub fn push(&mut self, param: Param) -> Placeholder {
        self.0.push(param);
        Placeholder(self.0.len())
    }

    /// How many parameters there are so far.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<Param> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(ident("a"), "\"a\"");
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(qualified("My Schema", "t"), "\"My Schema\".\"t\"");
    }

    #[test]
    fn array_literals_escape_quotes_and_backslashes() {
        let items = ["a,b".to_string(), "c\"d".to_string(), "e\\f".to_string()];
        assert_eq!(text_array(&items), r#"{"a,b","c\"d","e\\f"}"#);
        assert_eq!(text_array(&[]), "{}");
    }

    #[test]
    fn params_are_numbered_in_order() {
        let mut p = Params::default();
        assert_eq!(p.text("x").to_string(), "$1");
        assert_eq!(p.push(Param::SqlNull).to_string(), "$2");
        assert_eq!(p.into_vec(), vec![Param::Text("x".into()), Param::SqlNull]);
    }
}
