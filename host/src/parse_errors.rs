//! JSON bodies for the requests hyper's HTTP/1 parser refuses before any
//! handler runs (a malformed request line such as one with a space in its
//! target, a URI past 64 KiB, an oversized head). hyper answers those with
//! an empty 4xx and closes the connection; this wrapper around the socket
//! recognises that answer (one of those statuses with only `connection`,
//! `content-length: 0` and `date`; every handler answer has a
//! `content-type`) and sends the component's error for it in its place.
//! `RawAnswers` holds those answers, and the 408 for a head not received in
//! time (`connection_watch`), rendered once per configuration.

use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use hyper::rt::{Read, ReadBufCursor, Write};

use crate::component::wit;

/// Whole HTTP/1.1 answers written on the socket outside hyper, each closing
/// the connection.
pub struct RawAnswers {
    malformed: Vec<u8>,
    uri_too_long: Vec<u8>,
    too_large: Vec<u8>,
    /// A request head not received in time.
    pub timed_out: Vec<u8>,
}

impl RawAnswers {
    /// The answers `render` gives for each fault of a request head.
    pub fn new(render: impl Fn(&wit::HostError) -> wit::HttpResponse) -> RawAnswers {
        let answer = |fault| closing_answer(&render(&wit::HostError::RequestHead(fault)));
        RawAnswers {
            malformed: answer(wit::HeadFault::Malformed),
            uri_too_long: answer(wit::HeadFault::UriTooLong),
            too_large: answer(wit::HeadFault::TooLarge),
            timed_out: answer(wit::HeadFault::TimedOut),
        }
    }
}

/// `response` as bytes on the wire, with `connection: close`.
fn closing_answer(response: &wit::HttpResponse) -> Vec<u8> {
    let reason = hyper::StatusCode::from_u16(response.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nconnection: close\r\n",
        response.status
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", response.body.len()));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&response.body);
    bytes
}

pub struct ParseErrorBodies<T> {
    inner: T,
    answers: Arc<RawAnswers>,
    /// The replacement answer, and how much of it is written.
    replacement: Option<(Vec<u8>, usize)>,
}

impl<T> ParseErrorBodies<T> {
    pub fn new(inner: T, answers: Arc<RawAnswers>) -> Self {
        ParseErrorBodies {
            inner,
            answers,
            replacement: None,
        }
    }
}

/// The answer replacing hyper's empty one, if `head` is one.
fn replacement_for(head: &[u8], answers: &RawAnswers) -> Option<Vec<u8>> {
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
    if !fields.split("\r\n").all(hypers_field) {
        return None;
    }
    let answer = match status {
        "400 Bad Request" => &answers.malformed,
        "414 URI Too Long" => &answers.uri_too_long,
        "431 Request Header Fields Too Large" => &answers.too_large,
        _ => return None,
    };
    Some(answer.clone())
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
            match replacement_for(buf, &this.answers) {
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
        if this.replacement.is_none()
            && first.is_none_or(|b| replacement_for(b, &this.answers).is_none())
        {
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
    use super::*;

    /// Answers whose body names the fault, to see which one was picked.
    fn answers() -> RawAnswers {
        RawAnswers::new(|err| wit::HttpResponse {
            status: 400,
            headers: vec![("content-type".into(), "application/json".into())],
            body: format!("{err:?}").into_bytes(),
        })
    }

    #[test]
    fn only_hypers_empty_4xx_heads_are_replaced() {
        let answers = answers();
        let hyper_400 =
            b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let replaced = String::from_utf8(replacement_for(hyper_400, &answers).unwrap()).unwrap();
        let (head, body) = replaced.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
        assert!(head.contains("connection: close\r\ncontent-type: application/json\r\n"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert_eq!(body, "HostError::RequestHead(HeadFault::Malformed)");
        let hyper_414 =
            b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        let replaced = String::from_utf8(replacement_for(hyper_414, &answers).unwrap()).unwrap();
        assert!(replaced.ends_with("UriTooLong)"), "{replaced}");

        let handler_400 = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(replacement_for(handler_400, &answers), None);
        let chunked_404 = b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n";
        assert_eq!(replacement_for(chunked_404, &answers), None);
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(replacement_for(ok, &answers), None);
        // A body chunk that happens to start like a head is not one: no blank line.
        assert_eq!(replacement_for(b"HTTP/1.1 400 x", &answers), None);
    }
}
