//! Where an option's value comes from, and its coercion to a type.
//!
//! PostgREST looks each option up in the in-database settings (`db_schemas`,
//! only for the options of `IN_DATABASE_OPTIONS`), then the environment
//! (`PGRST_DB_SCHEMAS`), then the file (`db-schemas`); the first source that
//! has it wins, and an empty value then means "unset".
//! Environment and database values are text; file values are typed.

use std::collections::BTreeMap;
use std::str::FromStr;

use super::ConfigError;
use super::file::{Binding, Value, text_of};
use super::in_database::IN_DATABASE_OPTIONS;

pub struct Sources<'a> {
    file: &'a [Binding],
    env: &'a [(String, String)],
    db: &'a [(String, String)],
}

/// A value found for an option, and where, for error messages.
struct Found {
    value: Value,
    origin: String,
}

impl<'a> Sources<'a> {
    pub fn new(
        file: &'a [Binding],
        env: &'a [(String, String)],
        db: &'a [(String, String)],
    ) -> Sources<'a> {
        Sources { file, env, db }
    }

    /// The highest-precedence value of one option name; later entries of a
    /// source win (the host appends overrides).
    fn lookup(&self, name: &str) -> Option<Found> {
        let db_name = name.replace('-', "_");
        let in_database = IN_DATABASE_OPTIONS.contains(&db_name.as_str());
        if let Some((k, v)) = self
            .db
            .iter()
            .rev()
            .find(|(k, _)| in_database && k.replace('-', "_") == db_name)
        {
            return Some(Found {
                value: Value::Str(v.clone()),
                origin: format!("in-database setting {k}"),
            });
        }
        let var = format!("PGRST_{}", db_name.to_ascii_uppercase());
        if let Some((_, v)) = self.env.iter().rev().find(|(k, _)| *k == var) {
            return Some(Found {
                value: Value::Str(v.clone()),
                origin: var,
            });
        }
        self.file
            .iter()
            .rev()
            .find(|b| b.key == name)
            .map(|b| Found {
                value: b.value.clone(),
                origin: format!("config file, line {}", b.line),
            })
    }

    /// The first of `names` (an option, then its aliases) with a non-empty value.
    fn find<'n>(&self, names: &[&'n str]) -> Option<(&'n str, Found)> {
        names.iter().find_map(|&name| {
            let found = self.lookup(name)?;
            let empty = matches!(&found.value, Value::Str(s) if s.is_empty());
            (!empty).then_some((name, found))
        })
    }

    pub fn text(&self, names: &[&str]) -> Option<String> {
        self.find(names).map(|(_, f)| text_of(&f.value))
    }

    /// Like `text`, but an empty value is a value (`db-extra-search-path = ""`).
    pub fn emptyable_text(&self, name: &str) -> Option<String> {
        self.lookup(name).map(|f| text_of(&f.value))
    }

    /// Every option named `file_prefix`+suffix in the file or `env_prefix`+suffix
    /// in the environment (which wins), by `file_prefix`+suffix; the suffix is
    /// kept as written (`PGRST_APP_SETTINGS_X` is `app.settings.X`).
    pub fn prefixed(&self, file_prefix: &str, env_prefix: &str) -> BTreeMap<String, String> {
        let file = self
            .file
            .iter()
            .filter(|b| b.key.starts_with(file_prefix))
            .map(|b| (b.key.clone(), text_of(&b.value)));
        let env = self.env.iter().filter_map(|(k, v)| {
            let suffix = k.strip_prefix(env_prefix)?;
            Some((format!("{file_prefix}{suffix}"), v.clone()))
        });
        file.chain(env).collect()
    }

    pub fn int<T: FromStr>(&self, names: &[&str]) -> Result<Option<T>, ConfigError> {
        let Some((name, found)) = self.find(names) else {
            return Ok(None);
        };
        let parsed = match &found.value {
            Value::Str(s) | Value::Number(s) => s.trim().parse().ok(),
            _ => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| invalid(name, &found, "an integer in range"))
    }

    /// `true`/`false`/`on`/`off` in the file; as text, any case of true/false
    /// (other characters ignored, as PostgREST does), or an integer (> 0 is true).
    pub fn bool(&self, names: &[&str]) -> Result<Option<bool>, ConfigError> {
        let Some((name, found)) = self.find(names) else {
            return Ok(None);
        };
        let parsed = match &found.value {
            Value::Bool(b) => Some(*b),
            Value::Str(s) | Value::Number(s) => {
                let letters: String = s
                    .chars()
                    .filter(|c| c.is_alphabetic())
                    .collect::<String>()
                    .to_lowercase();
                match letters.as_str() {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => s.trim().parse::<i64>().ok().map(|n| n > 0),
                }
            }
            Value::List(_) => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| invalid(name, &found, "true or false"))
    }
}

fn invalid(name: &str, found: &Found, expected: &'static str) -> ConfigError {
    ConfigError::Value {
        name: name.to_string(),
        origin: found.origin.clone(),
        value: match &found.value {
            Value::Str(s) => format!("{s:?}"),
            other => text_of(other),
        },
        expected,
    }
}
