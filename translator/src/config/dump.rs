//! `--dump-config`: the resolved configuration in the config file format.

use serde_json::Value;

use super::Config;

impl Config {
    /// One `key = value` line per option, in name order; lists
    /// comma-joined, unset options as `""`; a group of options
    /// (`app-settings`) as one line per member, by the member's full name
    /// (`app.settings.x = "v"`).
    pub fn dump(&self) -> String {
        let Value::Object(options) = serde_json::to_value(self).expect("Config serializes") else {
            unreachable!("Config serializes to an object");
        };
        let mut out = String::new();
        for (key, value) in &options {
            if let Value::Object(members) = value {
                for (name, value) in members {
                    let text = value.as_str().map_or_else(|| value.to_string(), quote);
                    out.push_str(&format!("{name} = {text}\n"));
                }
                continue;
            }
            let text = match value {
                Value::String(s) => quote(s),
                Value::Null => quote(""),
                Value::Array(items) => quote(
                    &items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                other => other.to_string(),
            };
            out.push_str(&format!("{key} = {text}\n"));
        }
        out
    }
}

/// A string in the file format; `$` starts an interpolation there, so a
/// literal one is `$$`.
fn quote(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "$$");
    format!("\"{escaped}\"")
}
