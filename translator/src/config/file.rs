//! PostgREST's configuration file grammar (the configurator-pg format):
//!
//! ```text
//! # a comment
//! db-uri     = "postgres://app@db/app"   # strings: \" \\ \n \t \r \uXXXX escapes
//! db-pool    = 10                        # numbers, unquoted
//! db-prepared-statements = false         # true/false/on/off
//! app.settings { secret = "x" }          # a group: keys `app.settings.secret`
//! #; db-max-rows = 5                     # `#;` comments out the next binding
//! ```
//!
//! Strings may name environment variables or earlier keys as `$(NAME)`
//! (`$$` is a literal `$`). Keys keep their spelling; unknown keys are the
//! caller's business. Errors carry the line and column.

/// Why a config file cannot be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("config file, line {line}, column {column}: {expected}, found {found}")]
    Syntax {
        line: usize,
        column: usize,
        expected: String,
        found: String,
    },
    #[error("config file, line {line}: `import` is not supported; put all options in one file")]
    Import { line: usize },
    #[error("config file, line {line}: {problem}")]
    Interpolation {
        line: usize,
        problem: InterpolationError,
    },
}

/// A `$(NAME)` or `$` in a string that cannot be replaced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolationError {
    #[error("unterminated $( in {0:?}")]
    Unterminated(String),
    #[error("no such variable: '{0}'")]
    NoSuchVariable(String),
    #[error("a lone $ in {0:?} (write $$ for a literal $)")]
    LoneDollar(String),
}

/// A value as written in the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    /// The number's text, e.g. `10` or `1.5`.
    Number(String),
    Bool(bool),
    List(Vec<Value>),
}

/// One `key = value` binding, with its line for error messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub key: String,
    pub value: Value,
    pub line: usize,
}

/// Parses a whole file into its bindings, in file order (a later binding of
/// the same key wins), with `$(NAME)` interpolated from earlier keys or `env`.
pub fn parse(text: &str, env: &[(String, String)]) -> Result<Vec<Binding>, FileError> {
    let mut p = Parser {
        src: text,
        pos: 0,
        out: Vec::new(),
    };
    p.directives("", false)?;
    let bindings = p.out;
    let mut done: Vec<Binding> = Vec::with_capacity(bindings.len());
    for b in bindings {
        let value =
            interpolate_value(b.value, &done, env).map_err(|problem| FileError::Interpolation {
                line: b.line,
                problem,
            })?;
        done.push(Binding { value, ..b });
    }
    Ok(done)
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    out: Vec<Binding>,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn error(&self, what: &str) -> FileError {
        let before = &self.src[..self.pos];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let found = match self.peek() {
            None => "end of input".to_string(),
            Some('\n' | '\r') => "end of line".to_string(),
            Some(c) => format!("{c:?}"),
        };
        FileError::Syntax {
            line,
            column,
            expected: what.to_string(),
            found,
        }
    }

    fn line(&self) -> usize {
        self.src[..self.pos].matches('\n').count() + 1
    }

    /// Whitespace (newlines included) and `#` comments, but not `#;`.
    fn skip_lines(&mut self) {
        loop {
            let trimmed = self.rest().trim_start();
            self.pos = self.src.len() - trimmed.len();
            if trimmed.starts_with('#') && !trimmed.starts_with("#;") {
                self.skip_to_eol();
            } else {
                return;
            }
        }
    }

    /// Spaces, tabs and a trailing comment, up to the end of the line.
    fn skip_horizontal(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.pos += 1;
        }
        if self.peek() == Some('#') {
            self.skip_to_eol();
        }
    }

    fn skip_to_eol(&mut self) {
        let len = self.rest().find(['\n', '\r']).unwrap_or(self.rest().len());
        self.pos += len;
    }

    /// Directives up to the end of input, or up to `}` inside a group.
    fn directives(&mut self, prefix: &str, in_group: bool) -> Result<(), FileError> {
        loop {
            self.skip_lines();
            match self.peek() {
                None if in_group => return Err(self.error("expected \"}\"")),
                None => return Ok(()),
                Some('}') if in_group => return Ok(()),
                _ => {}
            }
            self.directive(prefix)?;
            self.skip_horizontal();
            match self.peek() {
                None | Some('\n' | '\r') => {}
                Some('}') if in_group => {}
                _ => return Err(self.error("expected the end of the line")),
            }
        }
    }

    fn directive(&mut self, prefix: &str) -> Result<(), FileError> {
        if self.eat("#;") {
            // Parse the next directive for its syntax, then drop what it bound.
            let kept = self.out.len();
            while matches!(self.peek(), Some(' ' | '\t')) {
                self.pos += 1;
            }
            self.directive(prefix)?;
            self.out.truncate(kept);
            return Ok(());
        }
        let line = self.line();
        let ident = self.ident()?;
        if ident == "import" {
            return Err(FileError::Import { line });
        }
        let key = format!("{prefix}{ident}");
        self.skip_lines();
        if self.eat("=") {
            self.skip_lines();
            let value = self.value()?;
            self.out.push(Binding { key, value, line });
            Ok(())
        } else if self.eat("{") {
            self.directives(&format!("{key}."), true)?;
            if !self.eat("}") {
                return Err(self.error("expected \"}\""));
            }
            Ok(())
        } else {
            Err(self.error(&format!("expected \"=\" or \"{{\" after {ident:?}")))
        }
    }

    /// A letter, then letters, digits, `_` or `-`; dots separate parts.
    fn ident(&mut self) -> Result<String, FileError> {
        let start = self.pos;
        loop {
            if !self.peek().is_some_and(char::is_alphabetic) {
                return Err(self.error("expected an option name"));
            }
            while self
                .peek()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
            {
                self.bump();
            }
            if !self.eat(".") {
                return Ok(self.src[start..self.pos].to_string());
            }
        }
    }

    fn value(&mut self) -> Result<Value, FileError> {
        for (word, b) in [
            ("on", true),
            ("off", false),
            ("true", true),
            ("false", false),
        ] {
            if self.eat(word) {
                return Ok(Value::Bool(b));
            }
        }
        match self.peek() {
            Some('"') => self.string().map(Value::Str),
            Some(c) if c.is_ascii_digit() => Ok(Value::Number(self.number())),
            Some('[') => {
                self.bump();
                let mut items = Vec::new();
                self.skip_lines();
                if self.eat("]") {
                    return Ok(Value::List(items));
                }
                loop {
                    items.push(self.value()?);
                    self.skip_lines();
                    if self.eat("]") {
                        return Ok(Value::List(items));
                    }
                    if !self.eat(",") {
                        return Err(self.error("expected \",\" or \"]\""));
                    }
                    self.skip_lines();
                }
            }
            _ => Err(self.error(
                "expected a value (a \"quoted string\", a number, true/false/on/off or a [list])",
            )),
        }
    }

    /// Digits, an optional fraction and an optional exponent.
    fn number(&mut self) -> String {
        let start = self.pos;
        let digits = |p: &mut Self| {
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.bump();
            }
        };
        digits(self);
        let mark = self.pos;
        if self.eat(".") {
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                digits(self);
            } else {
                self.pos = mark;
            }
        }
        let mark = self.pos;
        if self.eat("e") || self.eat("E") {
            let _ = self.eat("+") || self.eat("-");
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                digits(self);
            } else {
                self.pos = mark;
            }
        }
        self.src[start..self.pos].to_string()
    }

    /// A double-quoted string with `\" \\ \n \t \r \uXXXX` escapes; it may span lines.
    fn string(&mut self) -> Result<String, FileError> {
        self.bump();
        let mut s = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error("unterminated string")),
                Some('"') => return Ok(s),
                Some('\\') => {
                    let at = self.pos;
                    let escaped = match self.bump() {
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('r') => '\r',
                        Some('"') => '"',
                        Some('\\') => '\\',
                        Some('u') => self.unicode_escape()?,
                        _ => {
                            self.pos = at;
                            return Err(
                                self.error("invalid escape (use \\\" \\\\ \\n \\t \\r or \\uXXXX)")
                            );
                        }
                    };
                    s.push(escaped);
                }
                Some(c) => s.push(c),
            }
        }
    }

    /// The four hex digits after `\u`, with a UTF-16 surrogate pair as two escapes.
    fn unicode_escape(&mut self) -> Result<char, FileError> {
        let high = self.hex4()?;
        if !(0xd800..=0xdfff).contains(&high) {
            return char::from_u32(high).ok_or_else(|| self.error("invalid \\u escape"));
        }
        if high <= 0xdbff && self.eat("\\u") {
            let low = self.hex4()?;
            if (0xdc00..=0xdfff).contains(&low) {
                let code = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
                return char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"));
            }
        }
        Err(self.error("invalid UTF-16 surrogates in \\u escapes"))
    }

    fn hex4(&mut self) -> Result<u32, FileError> {
        let digits = self
            .rest()
            .get(..4)
            .filter(|d| d.chars().all(|c| c.is_ascii_hexdigit()));
        let expected = "expected four hex digits after \\u";
        let Some(digits) = digits else {
            return Err(self.error(expected));
        };
        let code = u32::from_str_radix(digits, 16).map_err(|_| self.error(expected))?;
        self.pos += 4;
        Ok(code)
    }
}

fn interpolate_value(
    value: Value,
    earlier: &[Binding],
    env: &[(String, String)],
) -> Result<Value, InterpolationError> {
    Ok(match value {
        Value::Str(s) => Value::Str(interpolate(&s, earlier, env)?),
        Value::List(items) => Value::List(
            items
                .into_iter()
                .map(|v| interpolate_value(v, earlier, env))
                .collect::<Result<_, _>>()?,
        ),
        other => other,
    })
}

/// Replaces `$(NAME)` by the latest earlier binding of key NAME, else the
/// environment variable NAME; `$$` is a literal `$`.
fn interpolate(
    s: &str,
    earlier: &[Binding],
    env: &[(String, String)],
) -> Result<String, InterpolationError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
        } else if let Some(after) = rest.strip_prefix('(') {
            let end = after
                .find(')')
                .ok_or_else(|| InterpolationError::Unterminated(s.to_string()))?;
            let name = &after[..end];
            let found = earlier
                .iter()
                .rev()
                .find(|b| b.key == name)
                .map(|b| text_of(&b.value))
                .or_else(|| {
                    env.iter()
                        .rev()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                })
                .ok_or_else(|| InterpolationError::NoSuchVariable(name.to_string()))?;
            out.push_str(&found);
            rest = &after[end + 1..];
        } else {
            return Err(InterpolationError::LoneDollar(s.to_string()));
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// A value's text when a string is wanted (numbers and booleans as written).
pub fn text_of(value: &Value) -> String {
    match value {
        Value::Str(s) => s.clone(),
        Value::Number(n) => n.clone(),
        Value::Bool(b) => b.to_string(),
        Value::List(items) => items.iter().map(text_of).collect::<Vec<_>>().join(","),
    }
}
