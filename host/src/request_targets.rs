//! Request targets as PostgREST's users send them. Warp, PostgREST's HTTP
//! server, takes the request target as every byte between the request
//! line's first two spaces, so `curl` commands from PostgREST's
//! documentation send `"`, `<`, `>`, `{`, `|`, `}`, `` ` `` and raw UTF-8
//! unencoded (`?name=in.("a,b","c")`, `?select=json->>field`). hyper builds
//! an `http::Uri` from the target and refuses most of those bytes, with no
//! hook to change that; this wrapper around an HTTP/1 socket percent-encodes
//! them in each request line before hyper reads it, which gives the request
//! the meaning it has with those bytes encoded, as in Warp.
//!
//! To find each request line on a keep-alive connection the wrapper frames
//! the byte stream as hyper does: the head is parsed with `httparse` (the
//! parser hyper uses) and the body followed by `Content-Length` or the
//! chunked coding (hyper's rules, see [`Body`]). Whatever it cannot frame
//! exactly as hyper would (a head httparse refuses, an HTTP/2 preface, a
//! `Transfer-Encoding` other than chunked, an upgrade, a bad chunk) makes it
//! step aside for the rest of the connection, leaving hyper to answer or
//! refuse the bytes unchanged. A request for an upgrade counts as one even
//! when it is not granted: the wrapper sees the requests only.
//!
//! Bytes go socket → one reused buffer → hyper: one extra copy, no
//! allocation per request unless a target is rewritten.

use std::io::IoSlice;
use std::ops::Range;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use hyper::rt::{Read, ReadBuf, ReadBufCursor, Write};

/// How much is read from the socket at a time.
const READ_SIZE: usize = 8 * 1024;
/// hyper's default limit on a buffered request head (its `max_buf_size`):
/// a head not complete by then is hyper's to refuse.
const MAX_HEAD: usize = 8192 + 4096 * 100;
/// hyper's default limit on the number of header fields.
const MAX_HEADERS: usize = 100;

pub struct RequestTargets<T> {
    inner: T,
    /// Bytes read from the socket and not yet handed to hyper:
    /// `buf[start..end]` (the rest of `buf` is room for the next read).
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// A rewritten request head, handed over before anything in `buf`.
    head: Vec<u8>,
    head_sent: usize,
    /// Bytes at `buf[start..]` of a request head handed over unchanged.
    forward: usize,
    state: State,
}

#[derive(Clone, Copy)]
enum State {
    /// Before a request head; `checked` bytes of `buf[start..end]` hold no
    /// blank line ending it.
    Head { checked: usize },
    /// In a request body.
    Body(Body),
    /// Everything goes to hyper unchanged from here on.
    Aside,
}

impl State {
    /// The state after a request head with this body.
    fn after_head(body: Option<Body>) -> State {
        match body {
            None => State::Aside,
            Some(Body::Length(0)) => State::Head { checked: 0 },
            Some(body) => State::Body(body),
        }
    }
}

impl<T> RequestTargets<T> {
    pub fn new(inner: T) -> Self {
        RequestTargets {
            inner,
            buf: Vec::new(),
            start: 0,
            end: 0,
            head: Vec::new(),
            head_sent: 0,
            forward: 0,
            state: State::Head { checked: 0 },
        }
    }

    /// Hands `n` bytes of `buf[start..]` to hyper.
    fn hand_over(&mut self, cursor: &mut ReadBufCursor<'_>, n: usize) {
        cursor.put_slice(&self.buf[self.start..self.start + n]);
        self.start += n;
    }

    /// Frames the request head at `buf[start..end]`: false while it is not
    /// whole.
    fn take_head(&mut self, checked: usize) -> bool {
        let pending = &self.buf[self.start..self.end];
        let framed = if !ends_head(pending, checked) {
            Framed::Partial
        } else {
            match target(pending) {
                Err(()) => Framed::Unframed,
                Ok(None) => Framed::Partial,
                Ok(Some(range)) if range.clone().any(|i| needs_encoding(pending[i])) => {
                    let head = encode_target(pending, range.clone());
                    match frame(&head) {
                        Framed::Head { len, body } => {
                            let grown = head.len() - pending.len();
                            self.start += len - grown;
                            self.head = head;
                            self.head.truncate(len);
                            self.head_sent = 0;
                            self.state = State::after_head(body);
                            return true;
                        }
                        other => other,
                    }
                }
                Ok(Some(_)) => frame(pending),
            }
        };
        match framed {
            Framed::Partial if pending.len() <= MAX_HEAD => {
                self.state = State::Head {
                    checked: pending.len(),
                };
                return false;
            }
            Framed::Partial | Framed::Unframed => self.state = State::Aside,
            Framed::Head { len, body } => {
                self.forward = len;
                self.state = State::after_head(body);
            }
        }
        true
    }
}

impl<T: Read + Unpin> RequestTargets<T> {
    /// Reads more bytes from the socket into `buf`; `Ok(false)` at its end.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<bool>> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
            // A long head's room is not kept for the connection's life.
            self.buf.truncate(READ_SIZE);
            self.buf.shrink_to(READ_SIZE);
        }
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                (self.start, self.end) = (0, self.end - self.start);
            } else {
                self.buf.resize(self.buf.len() + READ_SIZE, 0);
            }
        }
        let mut read = ReadBuf::new(&mut self.buf[self.end..]);
        ready!(Pin::new(&mut self.inner).poll_read(cx, read.unfilled()))?;
        let n = read.filled().len();
        self.end += n;
        Poll::Ready(Ok(n > 0))
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Bytes of a request target to percent-encode: all but RFC 3986's
/// unreserved, sub-delims, `:@/?%` and the `[]` of an IPv6 authority. hyper
/// refuses some of the others; `#` it takes for a fragment, which Warp keeps
/// as part of the query.
fn needs_encoding(b: u8) -> bool {
    !(b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%[]".contains(&b))
}

/// `head` with the bytes at `target` that need it percent-encoded.
fn encode_target(head: &[u8], target: Range<usize>) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len() + 2 * target.len());
    out.extend_from_slice(&head[..target.start]);
    for &b in &head[target.clone()] {
        if needs_encoding(b) {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        } else {
            out.push(b);
        }
    }
    out.extend_from_slice(&head[target.end..]);
    out
}

/// Whether `pending` holds a blank line (hyper's cheap check before it
/// parses a head); the first `checked` bytes were looked at already.
fn ends_head(pending: &[u8], checked: usize) -> bool {
    let from = checked.saturating_sub(3);
    let bytes = &pending[from..];
    bytes
        .windows(2)
        .enumerate()
        .any(|(i, w)| w == b"\n\n" || (w == b"\n\r" && bytes.get(i + 2) == Some(&b'\n')))
}

/// Where the request line's target lies: its bytes between the first two
/// spaces, as Warp reads it, after httparse's leading empty lines. `Ok(None)`
/// while the line is not whole; `Err` when it is no HTTP/1 request line.
fn target(pending: &[u8]) -> Result<Option<Range<usize>>, ()> {
    let mut at = 0;
    loop {
        match pending.get(at..).unwrap_or_default() {
            [b'\r', b'\n', ..] => at += 2,
            [b'\n', ..] => at += 1,
            [] | [b'\r'] => return Ok(None),
            [b'\r', ..] => return Err(()),
            _ => break,
        }
    }
    let Some(end) = pending[at..].iter().position(|&b| b == b'\n') else {
        return Ok(None);
    };
    let mut line = &pending[at..at + end];
    if let [rest @ .., b'\r'] = line {
        line = rest;
    }
    let space = line.iter().position(|&b| b == b' ').ok_or(())?;
    let from = space + 1;
    let to = from + line[from..].iter().position(|&b| b == b' ').ok_or(())?;
    if space == 0 || to == from || !matches!(&line[to + 1..], b"HTTP/1.1" | b"HTTP/1.0") {
        return Err(());
    }
    Ok(Some(at + from..at + to))
}

enum Framed {
    Partial,
    Unframed,
    /// A head of `len` bytes; its body, or `None` when the wrapper must step
    /// aside after it.
    Head {
        len: usize,
        body: Option<Body>,
    },
}

/// Parses a request head as hyper does and finds its body's framing.
fn frame(head: &[u8]) -> Framed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(head) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Framed::Partial,
        Err(_) => return Framed::Unframed,
    };
    let http11 = request.version == Some(1);
    // hyper's reading of the fields: the last `Transfer-Encoding` decides,
    // and must end in chunked (HTTP/1.1 only); it overrides
    // `Content-Length`, which must be digits and agree when repeated.
    let mut chunked = None;
    let mut length = None;
    let mut upgrade = request.method == Some("CONNECT");
    for field in request.headers.iter() {
        let name = field.name;
        if name.eq_ignore_ascii_case("transfer-encoding") {
            if !http11 {
                return Framed::Unframed;
            }
            chunked = Some(ends_in_chunked(field.value));
        } else if name.eq_ignore_ascii_case("content-length") {
            if chunked.is_some() {
                continue;
            }
            let Some(n) = digits(field.value) else {
                return Framed::Unframed;
            };
            if length.is_some_and(|m| m != n) {
                return Framed::Unframed;
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case("upgrade") {
            upgrade = http11;
        }
    }
    let body = match chunked {
        Some(false) => return Framed::Unframed,
        Some(true) => Body::Chunked(Chunk::Start, 0),
        None => Body::Length(length.unwrap_or(0)),
    };
    Framed::Head {
        len,
        body: (!upgrade).then_some(body),
    }
}

fn ends_in_chunked(value: &[u8]) -> bool {
    // hyper reads the value as visible ASCII (`HeaderValue::to_str`).
    let visible = value
        .iter()
        .all(|&b| (b' '..=b'~').contains(&b) || b == b'\t');
    visible
        && std::str::from_utf8(value).is_ok_and(|s| {
            s.rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
        })
}

fn digits(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit()
            .then_some(())
            .and_then(|()| n.checked_mul(10)?.checked_add(u64::from(b - b'0')))
    })
}

/// A request body being handed over: the bytes left of a `Content-Length`
/// body, or where a chunked body is and the bytes left of its chunk.
#[derive(Clone, Copy)]
enum Body {
    Length(u64),
    Chunked(Chunk, u64),
}

/// hyper's chunked decoder's states (`proto/h1/decode.rs`), with its
/// transitions; what it refuses makes the wrapper step aside, and hyper
/// closes the connection.
#[derive(Clone, Copy, PartialEq)]
enum Chunk {
    Start,
    Size,
    SizeSpace,
    Extension,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    Trailer,
    TrailerLf,
    EndCr,
    EndLf,
    End,
}

impl Body {
    /// How many of `bytes` belong to the body, and whether it ends with
    /// them; `None` for bytes hyper refuses.
    fn advance(&mut self, bytes: &[u8]) -> Option<(usize, bool)> {
        let up_to = |left: u64, n: usize| usize::try_from(left).map_or(n, |left| left.min(n));
        match self {
            Body::Length(left) => {
                let n = up_to(*left, bytes.len());
                *left -= n as u64;
                Some((n, *left == 0))
            }
            Body::Chunked(state, left) => {
                let mut i = 0;
                while i < bytes.len() {
                    if *state == Chunk::Data {
                        let n = up_to(*left, bytes.len() - i);
                        *left -= n as u64;
                        i += n;
                        if *left == 0 {
                            *state = Chunk::DataCr;
                        }
                        continue;
                    }
                    *state = step(*state, left, bytes[i])?;
                    i += 1;
                    if *state == Chunk::End {
                        return Some((i, true));
                    }
                }
                Some((i, false))
            }
        }
    }
}

/// One byte of a chunked body's framing (`size` is the chunk's).
fn step(state: Chunk, size: &mut u64, b: u8) -> Option<Chunk> {
    let hex = (b as char).to_digit(16).map(u64::from);
    Some(match (state, b) {
        (Chunk::Start, _) => {
            *size = hex?;
            Chunk::Size
        }
        (Chunk::Size, _) if hex.is_some() => {
            *size = size.checked_mul(16)?.checked_add(hex?)?;
            Chunk::Size
        }
        (Chunk::Size | Chunk::SizeSpace, b'\t' | b' ') => Chunk::SizeSpace,
        (Chunk::Size | Chunk::SizeSpace, b';') => Chunk::Extension,
        (Chunk::Size | Chunk::SizeSpace | Chunk::Extension, b'\r') => Chunk::SizeLf,
        (Chunk::Extension, b'\n') => return None,
        (Chunk::Extension, _) => Chunk::Extension,
        (Chunk::SizeLf, b'\n') if *size == 0 => Chunk::EndCr,
        (Chunk::SizeLf, b'\n') => Chunk::Data,
        (Chunk::DataCr, b'\r') => Chunk::DataLf,
        (Chunk::DataLf, b'\n') => Chunk::Start,
        (Chunk::Trailer, b'\r') => Chunk::TrailerLf,
        (Chunk::Trailer, _) => Chunk::Trailer,
        (Chunk::TrailerLf, b'\n') => Chunk::EndCr,
        (Chunk::EndCr, b'\r') => Chunk::EndLf,
        (Chunk::EndCr, _) => Chunk::Trailer,
        (Chunk::EndLf, b'\n') => Chunk::End,
        _ => return None,
    })
}

impl<T: Read + Unpin> Read for RequestTargets<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut cursor: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if cursor.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            if this.head_sent < this.head.len() {
                let n = cursor.remaining().min(this.head.len() - this.head_sent);
                cursor.put_slice(&this.head[this.head_sent..this.head_sent + n]);
                this.head_sent += n;
                return Poll::Ready(Ok(()));
            }
            if this.forward > 0 {
                let n = this.forward.min(cursor.remaining());
                this.hand_over(&mut cursor, n);
                this.forward -= n;
                return Poll::Ready(Ok(()));
            }
            let pending = this.end - this.start;
            let state = this.state;
            match state {
                State::Aside if pending > 0 => {
                    let n = pending.min(cursor.remaining());
                    this.hand_over(&mut cursor, n);
                    return Poll::Ready(Ok(()));
                }
                State::Aside => return Pin::new(&mut this.inner).poll_read(cx, cursor),
                State::Body(mut body) if pending > 0 => {
                    let n = pending.min(cursor.remaining());
                    let Some((n, ended)) = body.advance(&this.buf[this.start..this.start + n])
                    else {
                        this.state = State::Aside;
                        continue;
                    };
                    this.state = if ended {
                        State::Head { checked: 0 }
                    } else {
                        State::Body(body)
                    };
                    this.hand_over(&mut cursor, n);
                    return Poll::Ready(Ok(()));
                }
                State::Head { checked } if pending > 0 && this.take_head(checked) => {}
                State::Head { .. } | State::Body(_) => {
                    if !ready!(this.poll_fill(cx))? {
                        // The socket's end: hyper gets what is left, then
                        // the end.
                        this.state = State::Aside;
                    }
                }
            }
        }
    }
}

impl<T: Write + Unpin> Write for RequestTargets<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::RequestTargets;
    use hyper::rt::{Read, ReadBuf, ReadBufCursor};
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// A socket that yields `bytes` `step` at a time.
    struct Drip {
        bytes: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl Read for Drip {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            mut buf: ReadBufCursor<'_>,
        ) -> Poll<std::io::Result<()>> {
            let this = self.get_mut();
            let n = this
                .step
                .min(this.bytes.len() - this.at)
                .min(buf.remaining());
            buf.put_slice(&this.bytes[this.at..this.at + n]);
            this.at += n;
            Poll::Ready(Ok(()))
        }
    }

    /// What hyper reads through the wrapper, for every way of splitting
    /// the socket's reads and hyper's.
    fn through(bytes: &[u8]) -> Vec<u8> {
        let mut seen = None;
        for step in [1, 2, 3, 7, 64, 1 << 20] {
            for room in [1, 5, 4096] {
                let drip = Drip {
                    bytes: bytes.to_vec(),
                    at: 0,
                    step,
                };
                let mut wrapper = RequestTargets::new(drip);
                let mut out = Vec::new();
                let mut cx = Context::from_waker(std::task::Waker::noop());
                loop {
                    let mut room = vec![0; room];
                    let mut read = ReadBuf::new(&mut room);
                    let polled = Pin::new(&mut wrapper).poll_read(&mut cx, read.unfilled());
                    assert!(matches!(polled, Poll::Ready(Ok(()))));
                    if read.filled().is_empty() {
                        break;
                    }
                    out.extend_from_slice(read.filled());
                }
                match &seen {
                    None => seen = Some(out),
                    Some(seen) => assert_eq!(seen, &out, "step {step}, room {room}"),
                }
            }
        }
        seen.unwrap()
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(&through(bytes)).into_owned()
    }

    #[test]
    fn refused_bytes_in_targets_are_percent_encoded() {
        assert_eq!(
            text(b"GET /t`<>?a=in.(\"x\",<>)&b=`\\^{|}#\t\xc3\xa9%2C+ HTTP/1.1\r\nHost: h\r\n\r\n"),
            "GET /t%60%3C%3E?a=in.(%22x%22,%3C%3E)&b=%60%5C%5E%7B%7C%7D%23%09%C3%A9%2C+ HTTP/1.1\r\nHost: h\r\n\r\n",
        );
    }

    #[test]
    fn plain_requests_pass_unchanged() {
        let plain = b"\r\n\nGET /t?select=a,b&c=eq.1 HTTP/1.1\nHost: h\n\nHEAD / HTTP/1.0\r\n\r\n";
        assert_eq!(through(plain), plain);
    }

    #[test]
    fn bodies_are_followed_to_the_next_request_line() {
        let body = r#"{"t":"GET /x?a=\"b\" HTTP/1.1\r\n\r\n"}"#;
        let sized = format!(
            "POST /t HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}GET /t?a=\"1\" HTTP/1.1\r\n\r\n",
            body.len()
        );
        assert_eq!(
            text(sized.as_bytes()),
            sized.replace("?a=\"1\"", "?a=%221%22")
        );
        let chunked = format!(
            "POST /t HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n\
             {:x} ;ext=\"x\"\r\n{body}\r\n5\r\nGET /\r\n0\r\nX-Trailer: GET /\"\r\n\r\n\
             GET /t?a=\"1\" HTTP/1.1\r\n\r\n",
            body.len()
        );
        assert_eq!(
            text(chunked.as_bytes()),
            chunked.replace("?a=\"1\"", "?a=%221%22")
        );
    }

    #[test]
    fn what_cannot_be_framed_passes_unchanged_for_good() {
        let raw = "GET /t?a=\"1\" HTTP/1.1\r\n\r\n";
        for first in [
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\na",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n",
            "GET /a b HTTP/1.1\r\n\r\n",
            "GET /a\r\n\r\n",
            "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
        ] {
            let both = format!("{first}{raw}");
            assert_eq!(text(both.as_bytes()), both, "{first:?}");
        }
        // A head never finished goes to hyper as it is.
        let unfinished = &raw[..raw.len() - 2];
        assert_eq!(text(unfinished.as_bytes()), unfinished);
    }
}
