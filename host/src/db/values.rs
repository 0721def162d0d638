//! Values crossing the driver: statement parameters as the plan gives them,
//! and result columns as `respond` and the socket take them.

use bytes::{BufMut, BytesMut};
use tokio_postgres::Row;
use tokio_postgres::types::{Format, FromSql, IsNull, ToSql, Type, to_sql_checked};

use crate::component::wit;

/// Columns `from..` of every row, which the SQL casts to text (or which are
/// `json`, e.g. `EXPLAIN (FORMAT JSON)`).
pub fn text_rows(rows: &[Row], from: usize) -> Result<wit::Rows, tokio_postgres::Error> {
    rows.iter()
        .map(|row| {
            (from..row.len())
                .map(|i| row.try_get::<_, Option<Text>>(i).map(|v| v.map(|t| t.0)))
                .collect()
        })
        .collect()
}

/// A column whose binary form is its UTF-8 text: text types and `json`.
pub struct Text(pub String);

impl<'a> FromSql<'a> for Text {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        <&str as FromSql>::from_sql(ty, raw).map(|s| Text(s.to_owned()))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON || <&str as FromSql>::accepts(ty)
    }
}

/// A statement parameter as the driver sends it.
#[derive(Debug)]
pub enum Bound<'a> {
    Null,
    Text(&'a str),
    Bytes(&'a [u8]),
    Body(&'a [u8]),
}

pub fn bind<'a>(params: &'a [wit::Param], body: &'a [u8]) -> Vec<Bound<'a>> {
    params
        .iter()
        .map(|p| match p {
            wit::Param::SqlNull => Bound::Null,
            wit::Param::Text(t) => Bound::Text(t),
            wit::Param::Bytes(b) => Bound::Bytes(b),
            wit::Param::RequestBody => Bound::Body(body),
        })
        .collect()
}

impl ToSql for Bound<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Bound::Null => return Ok(IsNull::Yes),
            Bound::Text(t) => out.put_slice(t.as_bytes()),
            Bound::Bytes(b) | Bound::Body(b) => out.put_slice(b),
        }
        Ok(IsNull::No)
    }

    /// PostgreSQL infers each parameter's type from the statement; text
    /// values are parsed by the server like literals.
    fn accepts(_ty: &Type) -> bool {
        true
    }

    /// Parameter types go out as `unknown`, so only explicit `bytes` are
    /// binary; a request body is text (see the bytea note on issue 2).
    fn encode_format(&self, _ty: &Type) -> Format {
        match self {
            Bound::Bytes(_) => Format::Binary,
            _ => Format::Text,
        }
    }

    to_sql_checked!();
}

/// A column's bytes as received (text, json and bytea are sent as they are).
pub struct Raw<'a>(pub &'a [u8]);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(raw))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// Statement parameters as the driver's trait objects.
pub fn as_sql<'a>(bound: &'a [Bound<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    bound.iter().map(|b| b as &(dyn ToSql + Sync)).collect()
}
