//! Safe SQL text pieces: quoted identifiers and array literals. Values from a
//! request never enter SQL text; they are parameters (`Params`).

use crate::contract::Param;

/// `name` as a quoted identifier: `"` doubled, wrapped in `"`.
pub fn ident(name: &str) -> String {
    let mut quoted = String::with_capacity(name.len() + 2);
    push_ident(&mut quoted, name);
    quoted
}

/// Appends `name` quoted (see `ident`): SQL is written into one buffer,
/// so quoting a name allocates nothing of its own.
pub fn push_ident(out: &mut String, name: &str) {
    out.reserve(name.len() + 2);
    out.push('"');
    for (i, part) in name.split('"').enumerate() {
        if i > 0 {
            out.push_str("\"\"");
        }
        out.push_str(part);
    }
    out.push('"');
}

/// `"schema"."name"`.
pub fn qualified(schema: &str, name: &str) -> String {
    let mut quoted = String::with_capacity(schema.len() + name.len() + 5);
    push_qualified(&mut quoted, schema, name);
    quoted
}

/// Appends `"schema"."name"`.
pub fn push_qualified(out: &mut String, schema: &str, name: &str) {
    push_ident(out, schema);
    out.push('.');
    push_ident(out, name);
}

/// Appends `qualifier."name"` (`qualifier`: quoted SQL already).
pub fn push_column(out: &mut String, qualifier: &str, name: &str) {
    out.push_str(qualifier);
    out.push('.');
    push_ident(out, name);
}

/// Appends each of `parts`: SQL pieces without `format!`'s machinery.
pub fn push_all(out: &mut String, parts: &[&str]) {
    for part in parts {
        out.push_str(part);
    }
}

/// Appends `each` of `items`, `, ` between them.
pub fn push_list<T>(
    out: &mut String,
    items: impl IntoIterator<Item = T>,
    mut each: impl FnMut(&mut String, T),
) {
    let mut separated = Separated::new("", ", ");
    for item in items {
        separated.next(out);
        each(out, item);
    }
}

/// A PostgreSQL array literal (`{"a","b\"c"}`) of text items, for `= ANY($n)`
/// and other array parameters.
pub fn text_array(items: &[String]) -> String {
    let mut out = String::with_capacity(2 + items.iter().map(|i| i.len() + 3).sum::<usize>());
    out.push('{');
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push('"');
        for c in item.chars() {
            if matches!(c, '\\' | '"') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// Writes a list into a buffer: `open` before the first item, `separator`
/// before each other one (` WHERE a AND b`, `a, b`).
pub struct Separated {
    open: &'static str,
    separator: &'static str,
    started: bool,
}

impl Separated {
    pub fn new(open: &'static str, separator: &'static str) -> Separated {
        Separated {
            open,
            separator,
            started: false,
        }
    }

    /// Writes what goes before the next item.
    pub fn next(&mut self, out: &mut String) {
        out.push_str(if self.started {
            self.separator
        } else {
            self.open
        });
        self.started = true;
    }
}

/// The parameters of one statement, numbered as they are added.
#[derive(Debug, Default)]
pub struct Params(Vec<Param>);

/// A parameter's placeholder (`$n`), written straight into the SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placeholder(usize);

impl Placeholder {
    /// Appends `$n` (without `core::fmt`).
    pub fn push_to(self, out: &mut String) {
        out.push('$');
        push_number(out, self.0);
    }
}

fn push_number(out: &mut String, n: usize) {
    if n >= 10 {
        push_number(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

impl Params {
    pub fn with_capacity(capacity: usize) -> Params {
        Params(Vec::with_capacity(capacity))
    }

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
        let written = |placeholder: Placeholder| {
            let mut sql = String::new();
            placeholder.push_to(&mut sql);
            sql
        };
        let mut p = Params::default();
        assert_eq!(written(p.text("x")), "$1");
        assert_eq!(written(p.push(Param::SqlNull)), "$2");
        assert_eq!(p.into_vec(), vec![Param::Text("x".into()), Param::SqlNull]);
    }

    #[test]
    fn placeholders_past_nine_have_every_digit() {
        let mut p = Params::default();
        let mut last = String::new();
        for _ in 0..120 {
            last.clear();
            p.push(Param::SqlNull).push_to(&mut last);
        }
        assert_eq!(last, "$120");
    }
}
