//! JSON read as PostgREST's JSON library (aeson) reads it: of an object's
//! repeated keys the first is kept, at every depth. serde_json keeps the
//! last, so `{"role":"a","role":"b"}` would name another role than
//! PostgREST's. Token headers and payloads are read through here.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// `bytes` as a JSON value, the first of repeated keys kept.
pub(crate) fn from_slice(bytes: &[u8]) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = FirstKey.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

struct FirstKey;

impl<'de> DeserializeSeed<'de> for FirstKey {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FirstKey {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(n.into())
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(n.into())
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(n.into())
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(FirstKey)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(FirstKey)?;
            object.entry(key).or_insert(value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_first_of_repeated_keys_is_kept_at_every_depth() {
        let read = |text: &str| from_slice(text.as_bytes()).unwrap();
        assert_eq!(
            read(r#"{"role":"a","x":[{"k":1,"k":2}],"role":"b","o":{"p":true,"p":null}}"#),
            json!({"role": "a", "x": [{"k": 1}], "o": {"p": true}})
        );
        assert_eq!(
            read(r#" [1.5, -2, 18446744073709551615, "s\u00e9", null] "#),
            json!([1.5, -2, u64::MAX, "s\u{e9}", null])
        );
        assert!(from_slice(b"{} x").is_err());
        assert!(from_slice(b"{\"a\":").is_err());
    }
}
