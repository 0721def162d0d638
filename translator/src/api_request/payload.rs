//! The request body of a write (PostgREST's `ApiRequest.Payload`): which
//! columns it names and the JSON that SQL expands into rows.
//!
//! - `application/json` (also no `Content-Type`): with `?columns=` the body
//!   is passed to PostgreSQL unread (PostgreSQL reports bad JSON). Without it
//!   the body must be JSON: an object, or an array whose objects all have
//!   the same keys ("All object keys must match"); any other JSON value is
//!   an empty array.
//! - `text/csv`: a header line, then rows with as many fields; `NULL` is null.
//! - `application/x-www-form-urlencoded`: one object of string values.
//!
//! Keys are returned sorted and deduplicated (PostgREST keeps them in a set).
//! A JSON body is bound by the host from its own buffer (`request-body`);
//! the converted CSV and form bodies travel as text.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::accept::MediaType;
use crate::error::ApiError;

/// Where the JSON the statement expands comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyJson {
    /// The request body as it is.
    Request,
    /// JSON the component built (CSV, form, or `[]` for a JSON scalar).
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// The columns the rows set, sorted.
    pub keys: Vec<String>,
    pub json: BodyJson,
}

/// Reads a body of media type `content_type`; `columns` is `?columns=`.
pub fn parse(
    content_type: &MediaType,
    body: &[u8],
    columns: Option<&[String]>,
) -> Result<Payload, ApiError> {
    match content_type {
        MediaType::Json => match columns {
            Some(columns) => Ok(Payload {
                keys: columns
                    .iter()
                    .cloned()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                json: BodyJson::Request,
            }),
            None => json(body),
        },
        MediaType::Csv => csv(body),
        MediaType::UrlEncoded => Ok(form(body)),
        other => Err(invalid(&format!(
            "Content-Type not acceptable: {}",
            other.to_mime()
        ))),
    }
}

fn invalid(message: &str) -> ApiError {
    ApiError::InvalidBody {
        message: message.to_string(),
    }
}

/// The key set of a JSON body, checked without building the document.
fn json(body: &[u8]) -> Result<Payload, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let shape = Shape
        .deserialize(&mut de)
        .and_then(|shape| de.end().map(|()| shape))
        .map_err(|_| invalid("Empty or invalid json"))?;
    match shape {
        BodyShape::Object(keys) | BodyShape::Array(Some(keys)) => Ok(Payload {
            keys: keys.into_iter().map(Cow::into_owned).collect(),
            json: BodyJson::Request,
        }),
        BodyShape::Array(None) => Err(invalid("All object keys must match")),
        BodyShape::Other => Ok(Payload {
            keys: Vec::new(),
            json: BodyJson::Text("[]".into()),
        }),
    }
}

/// The keys of one object, sorted and deduplicated; borrowed from the body
/// unless they hold escapes (a bulk body repeats the same few keys).
type Keys<'de> = Vec<Cow<'de, str>>;

/// What the top-level JSON value is, for the key check.
enum BodyShape<'de> {
    Object(Keys<'de>),
    /// The common keys of the elements; `None` when an element is not an
    /// object or its keys differ from the first one's.
    Array(Option<Keys<'de>>),
    Other,
}

struct Shape;

impl<'de> DeserializeSeed<'de> for Shape {
    type Value = BodyShape<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<BodyShape<'de>, D::Error> {
        d.deserialize_any(ShapeVisitor)
    }
}

struct ShapeVisitor;

macro_rules! other_value {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method<E: de::Error>(self, _: $ty) -> Result<BodyShape<'de>, E> {
            Ok(BodyShape::Other)
        })*
    };
}

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = BodyShape<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }

    other_value!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);

    fn visit_unit<E: de::Error>(self) -> Result<BodyShape<'de>, E> {
        Ok(BodyShape::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<BodyShape<'de>, A::Error> {
        Ok(BodyShape::Object(object_keys(map)?))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<BodyShape<'de>, A::Error> {
        let mut first: Option<Keys<'de>> = None;
        let mut uniform = true;
        while let Some(keys) = seq.next_element_seed(Element)? {
            match (keys, &first) {
                (None, _) => uniform = false,
                (Some(keys), None) => first = Some(keys),
                (Some(keys), Some(f)) => uniform &= keys == *f,
            }
        }
        Ok(BodyShape::Array(match first {
            None if uniform => Some(Vec::new()),
            Some(keys) if uniform => Some(keys),
            _ => None,
        }))
    }
}

fn object_keys<'de, A: MapAccess<'de>>(mut map: A) -> Result<Keys<'de>, A::Error> {
    let mut keys = Vec::new();
    while let Some(Key(key)) = map.next_key::<Key>()? {
        map.next_value::<IgnoredAny>()?;
        keys.push(key);
    }
    keys.sort_unstable();
    keys.dedup();
    Ok(keys)
}

/// An object key, borrowed when the JSON text allows it.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// An array element: its keys if it is an object (other values are skipped).
struct Element;

impl<'de> DeserializeSeed<'de> for Element {
    type Value = Option<Keys<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(ElementVisitor)
    }
}

struct ElementVisitor;

macro_rules! not_an_object {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method<E: de::Error>(self, _: $ty) -> Result<Option<Keys<'de>>, E> {
            Ok(None)
        })*
    };
}

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Option<Keys<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }

    not_an_object!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        object_keys(map).map(Some)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// `a=1&b=x+y` as one object of strings; a repeated key keeps its last value.
fn form(body: &[u8]) -> Payload {
    let object: serde_json::Map<String, serde_json::Value> = form_pairs(body)
        .into_iter()
        .map(|(key, value)| (key, serde_json::Value::String(value)))
        .collect();
    Payload {
        keys: object.keys().cloned().collect(),
        json: BodyJson::Text(serde_json::Value::Object(object).to_string()),
    }
}

/// The (name, value) pairs of an `application/x-www-form-urlencoded` body,
/// in order.
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.iter().position(|b| *b == b'=') {
            Some(i) => (form_decode(&pair[..i]), form_decode(&pair[i + 1..])),
            None => (form_decode(pair), String::new()),
        })
        .collect()
}

fn form_decode(bytes: &[u8]) -> String {
    let spaced: Vec<u8> = bytes
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// A CSV body (RFC 4180: `"` quotes, `""` escapes, CRLF or LF lines) as a
/// JSON array of objects keyed by the header line.
fn csv(body: &[u8]) -> Result<Payload, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| invalid("CSV body is not UTF-8"))?;
    let mut records = csv_records(text)?.into_iter();
    let header = records.next().unwrap_or_default();
    let mut rows = Vec::new();
    for record in records {
        if record.len() != header.len() {
            return Err(invalid("All lines must have same number of fields"));
        }
        let object: serde_json::Map<String, serde_json::Value> = header
            .iter()
            .zip(record)
            .map(|(k, v)| {
                let value = if v == "NULL" {
                    serde_json::Value::Null
                } else {
                    serde_json::Value::String(v)
                };
                (k.clone(), value)
            })
            .collect();
        rows.push(serde_json::Value::Object(object));
    }
    Ok(Payload {
        keys: header
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        json: BodyJson::Text(serde_json::Value::Array(rows).to_string()),
    })
}

fn csv_records(text: &str) -> Result<Vec<Vec<String>>, ApiError> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted_field = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if field.is_empty() && !quoted_field => {
                quoted_field = true;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => field.push(c),
                        None => return Err(invalid("CSV: unterminated quoted field")),
                    }
                }
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                quoted_field = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                quoted_field = false;
            }
            c if quoted_field => {
                return Err(invalid(&format!(
                    "CSV: unexpected character {c:?} after a quoted field"
                )));
            }
            c => field.push(c),
        }
    }
    if !field.is_empty() || quoted_field || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(p: &Payload) -> Vec<&str> {
        p.keys.iter().map(String::as_str).collect()
    }

    #[test]
    fn json_objects_and_uniform_arrays() {
        let p = parse(&MediaType::Json, br#"{"b":1,"a":{"x":[1]}}"#, None).unwrap();
        assert_eq!((keys(&p), &p.json), (vec!["a", "b"], &BodyJson::Request));
        let p = parse(
            &MediaType::Json,
            br#"[{"a":1,"b":2},{"b":3,"a":null}]"#,
            None,
        )
        .unwrap();
        assert_eq!(keys(&p), ["a", "b"]);
        let p = parse(&MediaType::Json, b"[]", None).unwrap();
        assert!(p.keys.is_empty());
        // Escaped keys compare by value; duplicate keys count once.
        let p = parse(
            &MediaType::Json,
            br#"[{"ab":1,"ab":2},{"a\u0062":[{"x":1}]}]"#,
            None,
        )
        .unwrap();
        assert_eq!(keys(&p), ["ab"]);
    }

    #[test]
    fn json_errors_are_pgrst102() {
        let message = |body: &[u8]| match parse(&MediaType::Json, body, None) {
            Err(ApiError::InvalidBody { message }) => message,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            message(br#"[{"a":1},{"b":1}]"#),
            "All object keys must match"
        );
        assert_eq!(message(br#"[{"a":1},2]"#), "All object keys must match");
        assert_eq!(message(b"[1]"), "All object keys must match");
        assert_eq!(message(b""), "Empty or invalid json");
        assert_eq!(message(b"{\"a\":"), "Empty or invalid json");
        assert_eq!(message(b"{} x"), "Empty or invalid json");
    }

    #[test]
    fn json_scalars_are_an_empty_array() {
        let p = parse(&MediaType::Json, b" 1 ", None).unwrap();
        assert_eq!(p.json, BodyJson::Text("[]".into()));
        assert!(p.keys.is_empty());
    }

    #[test]
    fn columns_skip_reading_the_body() {
        let cols = ["b".to_string(), "a".to_string()];
        let p = parse(&MediaType::Json, b"not json", Some(&cols)).unwrap();
        assert_eq!((keys(&p), &p.json), (vec!["a", "b"], &BodyJson::Request));
    }

    #[test]
    fn csv_rows_become_objects() {
        let p = parse(
            &MediaType::Csv,
            b"name,qty\r\n\"a, \"\"b\"\"\",1\nNULL,\n",
            None,
        )
        .unwrap();
        assert_eq!(keys(&p), ["name", "qty"]);
        let BodyJson::Text(json) = p.json else {
            panic!()
        };
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v,
            serde_json::json!([{"name": "a, \"b\"", "qty": "1"}, {"name": null, "qty": ""}])
        );
        assert!(matches!(
            parse(&MediaType::Csv, b"a,b\n1\n", None),
            Err(ApiError::InvalidBody { .. })
        ));
    }

    #[test]
    fn forms_are_one_object_of_strings() {
        let p = parse(&MediaType::UrlEncoded, b"b=x+y%21&a=1&a=2", None).unwrap();
        assert_eq!(keys(&p), ["a", "b"]);
        assert_eq!(p.json, BodyJson::Text(r#"{"a":"2","b":"x y!"}"#.into()));
    }

    #[test]
    fn other_types_are_refused() {
        let err = parse(&MediaType::TextXml, b"<a/>", None).unwrap_err();
        assert_eq!(
            err,
            ApiError::InvalidBody {
                message: "Content-Type not acceptable: text/xml".into()
            }
        );
    }
}
