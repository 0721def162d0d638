//! JSON read and written as PostgREST's JSON library (aeson) does, for
//! tokens and the claims text SQL sees.
//!
//! Reading: of an object's repeated keys the first is kept, at every depth
//! (serde_json keeps the last, so `{"role":"a","role":"b"}` would name
//! another role than PostgREST's).
//!
//! Writing: keys sorted (aeson's maps are ordered, as serde_json's are),
//! `\b` and `\f` escaped as `\u0008` and `\u000c`, and a number read with a
//! fraction or an exponent written as aeson writes its decimal: `0.1` to
//! `9999999.9` plainly, others as `1.0e-2`, `1.23456789e8`; one whose
//! exponent makes it a whole number of 10^16 or more as its digits.

use std::fmt;
use std::io;

use serde::Serialize;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::ser::{CharEscape, Formatter, Serializer};
use serde_json::{Map, Value};

/// `bytes` as a JSON value, the first of repeated keys kept.
pub(crate) fn from_slice(bytes: &[u8]) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = FirstKey.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// `value` as aeson encodes it.
pub(crate) fn to_string(value: &Value) -> String {
    let mut out = Vec::new();
    value
        .serialize(&mut Serializer::with_formatter(&mut out, AesonFormatter))
        .expect("a Value always serializes");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

struct AesonFormatter;

impl Formatter for AesonFormatter {
    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        match escape {
            CharEscape::Backspace => writer.write_all(b"\\u0008"),
            CharEscape::FormFeed => writer.write_all(b"\\u000c"),
            other => serde_json::ser::CompactFormatter.write_char_escape(writer, other),
        }
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(aeson_decimal(value).as_bytes())
    }
}

/// A number that had a fraction or an exponent, as aeson writes it
/// (Data.Scientific's `Generic` format, or the digits of a whole number
/// past 10^16, which JSON writers give in exponent form).
fn aeson_decimal(value: f64) -> String {
    if value == 0.0 {
        return "0.0".to_string();
    }
    // Rust's `{:e}` gives the shortest digits that read back as `value`;
    // a JSON number is finite, so it always has an exponent.
    let shortest = format!("{:e}", value.abs());
    let Some((digits, exponent)) = shortest
        .split_once('e')
        .and_then(|(m, e)| Some((m.replace('.', ""), e.parse::<i64>().ok()?)))
    else {
        return shortest;
    };
    let sign = if value < 0.0 { "-" } else { "" };
    // value = 0.d1d2… × 10^e
    let e = exponent + 1;
    if value.fract() == 0.0 && value.abs() >= 1e16 {
        let zeros = usize::try_from(e).unwrap_or(0).saturating_sub(digits.len());
        return format!("{sign}{digits}{}", "0".repeat(zeros));
    }
    let body = match usize::try_from(e) {
        Ok(0) => format!("0.{digits}"),
        Ok(e @ 1..=7) => {
            let whole = format!("{digits:0<e$}");
            let (int, frac) = whole.split_at(e);
            format!("{int}.{}", if frac.is_empty() { "0" } else { frac })
        }
        _ => {
            let (first, rest) = digits.split_at(1);
            format!(
                "{first}.{}e{exponent}",
                if rest.is_empty() { "0" } else { rest }
            )
        }
    };
    format!("{sign}{body}")
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

    #[test]
    fn written_as_aeson_writes_it() {
        let cases = [
            ("0.1", "0.1"),
            ("1.5", "1.5"),
            ("-1.5", "-1.5"),
            ("15.0", "15.0"),
            ("150e-1", "15.0"),
            ("0.01", "1.0e-2"),
            ("0.05", "5.0e-2"),
            ("1e-7", "1.0e-7"),
            ("-0.0", "0.0"),
            ("0.0", "0.0"),
            ("9999999.9", "9999999.9"),
            ("12345678.9", "1.23456789e7"),
            ("123456789.0", "1.23456789e8"),
            ("1700000000.123", "1.700000000123e9"),
            ("1e16", "10000000000000000"),
            ("1e+21", "1000000000000000000000"),
            ("-2.5e20", "-250000000000000000000"),
            ("42", "42"),
            ("-7", "-7"),
        ];
        for (text, aeson) in cases {
            assert_eq!(
                to_string(&from_slice(text.as_bytes()).unwrap()),
                aeson,
                "{text}"
            );
        }
        let huge = to_string(&from_slice(b"1.5e300").unwrap());
        assert_eq!(huge, format!("15{}", "0".repeat(299)));
        // Past a double's range serde_json gives up; aeson would keep it.
        assert!(from_slice(b"1e400").is_err());
        let text = r#"{"b":"\b\f\n\r\t\u0001\"\\/é","a":[true,null]}"#;
        assert_eq!(
            to_string(&from_slice(text.as_bytes()).unwrap()),
            r#"{"a":[true,null],"b":"\u0008\u000c\n\r\t\u0001\"\\/é"}"#
        );
    }
}
