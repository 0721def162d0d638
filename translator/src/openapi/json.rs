//! A JSON value whose objects keep their keys in insertion order, so the
//! document lists columns, paths and parameters in PostgREST's order
//! (serde_json's own map sorts keys unless a crate-wide feature is on).

use serde::ser::{Serialize, SerializeMap, Serializer};

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// Any plain value (string, number, bool, array of plain values).
    Value(serde_json::Value),
    Array(Vec<Json>),
    Object(Obj),
}

/// An object under construction, in key order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Obj(Vec<(String, Json)>);

impl Obj {
    pub fn new() -> Obj {
        Obj::default()
    }

    pub fn with(mut self, key: &str, value: impl Into<Json>) -> Obj {
        self.0.push((key.to_string(), value.into()));
        self
    }

    /// Adds `key` only when there is a value.
    pub fn with_opt(self, key: &str, value: Option<impl Into<Json>>) -> Obj {
        match value {
            Some(v) => self.with(key, v),
            None => self,
        }
    }
}

impl From<Obj> for Json {
    fn from(o: Obj) -> Json {
        Json::Object(o)
    }
}

impl From<Vec<Json>> for Json {
    fn from(items: Vec<Json>) -> Json {
        Json::Array(items)
    }
}

impl From<serde_json::Value> for Json {
    fn from(v: serde_json::Value) -> Json {
        Json::Value(v)
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::Value(s.into())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::Value(s.into())
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Value(b.into())
    }
}

impl From<u64> for Json {
    fn from(n: u64) -> Json {
        Json::Value(n.into())
    }
}

/// An array of strings.
pub fn strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Json {
    Json::Array(items.into_iter().map(|s| s.as_ref().into()).collect())
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Value(v) => v.serialize(serializer),
            Json::Array(items) => items.serialize(serializer),
            Json::Object(obj) => obj.serialize(serializer),
        }
    }
}

impl Serialize for Obj {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_order() {
        let o = Obj::new()
            .with("z", 1u64)
            .with("a", strings(["x"]))
            .with_opt("m", None::<&str>)
            .with("b", Obj::new().with("y", true));
        assert_eq!(
            serde_json::to_string(&o).unwrap(),
            r#"{"z":1,"a":["x"],"b":{"y":true}}"#
        );
    }
}
