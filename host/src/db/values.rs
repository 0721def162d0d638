//! Values on the wire: statement parameters as the plan gives them, and
//! result columns as `respond` and the socket take them.

use std::ops::Range;

use bytes::{BufMut, Bytes, BytesMut};
use fallible_iterator::FallibleIterator;
use postgres_protocol::IsNull;
use postgres_protocol::message::backend::DataRowBody;

use super::connection::Error;
use crate::component::wit;

/// Bind format codes.
const TEXT: i16 = 0;
const BINARY: i16 = 1;

/// Each parameter's format: parameter types go out unspecified, so the
/// server parses text values like literals; only explicit `bytes` are
/// binary, and a request body is text (see the bytea note on issue 2).
pub fn formats(params: &[wit::Param]) -> impl Iterator<Item = i16> + '_ {
    params.iter().map(|p| match p {
        wit::Param::Bytes(_) => BINARY,
        _ => TEXT,
    })
}

/// Writes one parameter's value for Bind.
pub fn write(
    param: &wit::Param,
    body: &[u8],
    out: &mut BytesMut,
) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
    match param {
        wit::Param::SqlNull => return Ok(IsNull::Yes),
        wit::Param::Text(t) => out.put_slice(t.as_bytes()),
        wit::Param::Bytes(b) => out.put_slice(b),
        wit::Param::RequestBody => out.put_slice(body),
    }
    Ok(IsNull::No)
}

/// Result formats for Bind: a `body` statement's columns come binary, so a
/// bytea body arrives as its bytes (text and json are their UTF-8 text
/// either way); all others as text.
pub fn result_formats(rows: wit::RowUse) -> &'static [i16] {
    match rows {
        wit::RowUse::Body => &[BINARY],
        _ => &[],
    }
}

/// Columns `from..` of a row, as text.
pub fn text_columns(row: &DataRowBody, from: usize) -> Result<Vec<Option<String>>, Error> {
    let ranges: Vec<Option<Range<usize>>> = row.ranges().collect().map_err(Error::malformed)?;
    ranges
        .into_iter()
        .skip(from)
        .map(|range| range.map(|r| text(&row.buffer()[r])).transpose())
        .collect()
}

/// Column 0 of a row, as received and without a copy.
pub fn first_column(row: &DataRowBody) -> Result<Option<Bytes>, Error> {
    let first = row.ranges().next().map_err(Error::malformed)?.flatten();
    Ok(first.map(|r| row.buffer_bytes().slice(r)))
}

fn text(bytes: &[u8]) -> Result<String, Error> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| Error::Protocol("a result column is not UTF-8 text".to_string()))
}
