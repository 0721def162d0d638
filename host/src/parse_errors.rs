//! JSON bodies for the requests hyper's HTTP/1 parser refuses before any
//! handler runs (a malformed request line such as one with a space in its
//! target, a URI past 64 KiB, an oversized head). hyper answers those with an empty 4xx and closes the
//! connection; this wrapper around the socket recognises that answer (one of
//! those statuses with only `connection`, `content-length: 0` and `date`;
//! every handler answer has a `content-type`) and sends an error object in
//! PostgREST's shape in its place.

use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use hyper::rt::{Read, ReadBufCursor, Write};

pub struct ParseErrorBodies<T> {
    inner: T,
    /// The replacement answer, and how much of it is written.
    replacement: Option<(Vec<u8>, usize)>,
}

impl<T> ParseErrorBodies<T> {
    pub fn new(inner: T) -> Self {
        ParseErrorBodies {
            inner,
            replacement: None,
        }
    }
}

/// The JSON answer replacing hyper's empty one, if `head` is one.
fn replacement_for(head: &[u8]) -> Option<Vec<u8>> {
    // Every response head passes through here: rule out all but a 4xx
    // before looking for the head's end.
    if !head.starts_with(b"HTTP/1.1 4") {
        return None;
    }
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&head[..end]).ok()?;
    let (status_line, fields) = head.split_once("\r\n")?;
    let status = status_line.strip_prefix("HTTP/1.1 ")?;
    // Exactly hyper's empty answer: these statuses, and no field but these.
    let hypers_field =
        |f: &str| f == "connection: close" || f == "content-length: 0" || f.starts_with("date: ");
    let known = [
        "400 Bad Request",
        "414 URI Too Long",
        "431 Request Header Fields Too Large",
    ];
    if !known.contains(&status) || !fields.split("\r\n").all(hypers_field) {
        return None;
    }
    let (message, hint) = match &status[..3] {
        "414" => (
            "The request URI is longer than 65534 bytes",
            "Send large filters in a request body, e.g. to a function under /rpc",
        ),
        "431" => (
            "The request head is too large",
            "Send fewer or smaller headers",
        ),
        _ => (
            "The request is not valid HTTP/1.1",
            "Percent-encode spaces in the URL",
        ),
    };
    Some(closing_answer(status, "PGRSTX01", message, hint))
}

/// A whole HTTP/1.1 answer written on the socket, outside hyper: `status`
/// (code and reason), an error object in PostgREST's shape, and
/// `connection: close`.
pub fn closing_answer(status: &str, code: &str, message: &str, hint: &str) -> Vec<u8> {
    let body = serde_json::json!({
        "code": code,
        "message": message,
        "details": null,
        "hint": hint,
    })
    .to_string();
    format!(
        "HTTP/1.1 {status}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl<T: Write + Unpin> ParseErrorBodies<T> {
    /// Writes what is left of the replacement.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while let Some((bytes, written)) = &mut self.replacement {
            if *written == bytes.len() {
                return Poll::Ready(Ok(()));
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: Write + Unpin> Write for ParseErrorBodies<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if this.replacement.is_none() {
            match replacement_for(buf) {
                Some(answer) => this.replacement = Some((answer, 0)),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        // hyper's own answer is swallowed; ours goes out instead.
        ready!(this.poll_drain(cx))?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let first = bufs.iter().find(|b| !b.is_empty());
        if this.replacement.is_none() && first.is_none_or(|b| replacement_for(b).is_none()) {
            return Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        }
        let first = first.map_or(&[][..], |b| &b[..]);
        Pin::new(this).poll_write(cx, first)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

impl<T: Read + Unpin> Read for ParseErrorBodies<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::replacement_for;

    #[test]
    fn only_hypers_empty_4xx_heads_are_replaced() {
        let hyper_400 =
            b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let replaced = String::from_utf8(replacement_for(hyper_400).unwrap()).unwrap();
        let (head, body) = replaced.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["code"], "PGRSTX01");

        let handler_400 = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(replacement_for(handler_400), None);
        let chunked_404 = b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n";
        assert_eq!(replacement_for(chunked_404), None);
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(replacement_for(ok), None);
        // A body chunk that happens to start like a head is not one: no blank line.
        assert_eq!(replacement_for(b"HTTP/1.1 400 x"), None);
    }
}
