//! Values on the wire: statement parameters, and result columns as text or
//! as received.

use std::ops::Range;

use bytes::{BufMut, Bytes, BytesMut};
use fallible_iterator::FallibleIterator;
use postgres_protocol::IsNull;
use postgres_protocol::message::backend::DataRowBody;

use crate::connection::Error;
use crate::pipeline::RowUse;

/// Bind format codes.
const TEXT: i16 = 0;
const BINARY: i16 = 1;

/// A statement parameter. Parameter types go out unspecified, so the server
/// parses text values as it parses literals.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    Null,
    /// Text format (UTF-8 text, sent as is).
    Text(&'a [u8]),
    /// Binary format (a `bytea` value's bytes).
    Binary(&'a [u8]),
}

/// Each parameter's format code for Bind.
pub(crate) fn formats<'a>(params: &'a [Value<'_>]) -> impl Iterator<Item = i16> + 'a {
    params.iter().map(|p| match p {
        Value::Binary(_) => BINARY,
        _ => TEXT,
    })
}

/// Writes one parameter's value for Bind.
pub(crate) fn write(
    param: &Value<'_>,
    out: &mut BytesMut,
) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
    match param {
        Value::Null => return Ok(IsNull::Yes),
        Value::Text(bytes) | Value::Binary(bytes) => out.put_slice(bytes),
    }
    Ok(IsNull::No)
}

/// Result formats for Bind: a `Body` statement's columns come binary, so a
/// bytea body arrives as its bytes (text and json are their UTF-8 text
/// either way); all others as text.
pub(crate) fn result_formats(rows: RowUse) -> &'static [i16] {
    match rows {
        RowUse::Body => &[BINARY],
        _ => &[],
    }
}

/// Columns `from..` of a row, as text.
pub(crate) fn text_columns(row: &DataRowBody, from: usize) -> Result<Vec<Option<String>>, Error> {
    let ranges: Vec<Option<Range<usize>>> = row.ranges().collect().map_err(Error::malformed)?;
    ranges
        .into_iter()
        .skip(from)
        .map(|range| range.map(|r| text(&row.buffer()[r])).transpose())
        .collect()
}

/// Column 0 of a row, as received and without a copy.
pub(crate) fn first_column(row: &DataRowBody) -> Result<Option<Bytes>, Error> {
    let first = row.ranges().next().map_err(Error::malformed)?.flatten();
    Ok(first.map(|r| row.buffer_bytes().slice(r)))
}

fn text(bytes: &[u8]) -> Result<String, Error> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| Error::Protocol("a result column is not UTF-8 text".to_string()))
}
