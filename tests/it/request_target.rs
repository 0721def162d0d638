//! Request targets written byte for byte as PostgREST's documentation's
//! `curl` commands send them: unencoded `"`, `<`, `>`, `{`, `|`, `}`, `\`,
//! `^`, `` ` `` and UTF-8 mean what they mean percent-encoded, on a
//! keep-alive connection too, after bodies of every framing.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::shared;

/// What the server answers to requests written byte for byte on one
/// connection, until it closes it (the last request asks it to).
async fn raw(requests: &[u8]) -> Vec<u8> {
    let talk = async {
        let mut stream = tokio::net::TcpStream::connect(shared().addr)
            .await
            .expect("connect");
        stream.write_all(requests).await.expect("requests written");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.expect("answers read");
        answer
    };
    tokio::time::timeout(Duration::from_secs(30), talk)
        .await
        .expect("answered in time")
}

/// The answers (status, body) to requests written byte for byte on one
/// connection.
async fn exchange(requests: &[u8]) -> Vec<(u16, String)> {
    responses(&raw(requests).await)
}

/// Splits a stream of HTTP/1.1 responses (1xx ones left out).
fn responses(mut bytes: &[u8]) -> Vec<(u16, String)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        let httparse::Status::Complete(len) = response.parse(bytes).expect("a response head")
        else {
            panic!("a partial response: {}", String::from_utf8_lossy(bytes));
        };
        let status = response.code.expect("a status");
        let field = |name: &str| {
            response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).into_owned())
        };
        let length: usize = field("content-length").map_or(0, |n| n.parse().expect("a length"));
        assert_eq!(
            field("transfer-encoding"),
            None,
            "the server sizes its bodies"
        );
        let body = &bytes[len..len + length];
        if status >= 200 {
            out.push((status, String::from_utf8_lossy(body).into_owned()));
        }
        bytes = &bytes[len + length..];
    }
    out
}

/// A GET of `target` that closes the connection.
fn get(target: &[u8]) -> Vec<u8> {
    [
        b"GET ",
        target,
        b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    ]
    .concat()
}

/// Each raw target is answered as its percent-encoded twin is.
async fn same_as_encoded(cases: &[(&[u8], &str)]) {
    for (raw, encoded) in cases {
        let raw_answer = exchange(&get(raw)).await;
        let encoded_answer = exchange(&get(encoded.as_bytes())).await;
        assert_eq!(raw_answer.len(), 1, "{raw_answer:?}");
        assert_eq!(
            raw_answer,
            encoded_answer,
            "{}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[tokio::test]
async fn documented_curl_targets_mean_what_they_mean_encoded() {
    let cases: &[(&[u8], &str)] = &[
        (
            b"/items?select=id,color:data->>color&id=lt.3",
            "/items?select=id,color:data-%3E%3Ecolor&id=lt.3",
        ),
        (
            b"/items?name=in.(\"a,b\",\"c\\\"d\")&select=id,name",
            "/items?name=in.(%22a,b%22,%22c%5C%22d%22)&select=id,name",
        ),
        (
            b"/items?tags=cs.{fruit,red}&select=id,first_tag:tags->0",
            "/items?tags=cs.%7Bfruit,red%7D&select=id,first_tag:tags-%3E0",
        ),
        (
            b"/items?data->size->>cm=eq.8&select=id",
            "/items?data-%3Esize-%3E%3Ecm=eq.8&select=id",
        ),
    ];
    same_as_encoded(cases).await;
    // And they find rows, under a canonical Content-Location.
    let answer = String::from_utf8(raw(&get(cases[0].0)).await).expect("UTF-8");
    assert!(
        answer.contains(
            "\r\ncontent-location: /items?id=lt.3&select=id%2Ccolor%3Adata-%3E%3Ecolor\r\n"
        ),
        "{answer}"
    );
    let answer = exchange(&get(cases[0].0)).await;
    assert_eq!(
        answer,
        [(
            200,
            "[{\"id\":1,\"color\":\"red\"}, \n {\"id\":2,\"color\":\"none\"}]".to_string()
        )]
    );
    let answer = exchange(&get(cases[1].0)).await;
    assert_eq!(
        answer,
        [(
            200,
            "[{\"id\":2,\"name\":\"a,b\"}, \n {\"id\":3,\"name\":\"c\\\"d\"}]".to_string()
        )]
    );
}

#[tokio::test]
async fn every_byte_warp_takes_is_taken() {
    same_as_encoded(&[
        (b"/it<e>ms`\\^", "/it%3Ce%3Ems%60%5C%5E"),
        (
            b"/items?name=eq.<a|b>&select=id",
            "/items?name=eq.%3Ca%7Cb%3E&select=id",
        ),
        (
            b"/items?name=eq.`\\^{}&select=id",
            "/items?name=eq.%60%5C%5E%7B%7D&select=id",
        ),
        (
            b"/items?name=eq.a#b&select=id",
            "/items?name=eq.a%23b&select=id",
        ),
        (
            "/caf\u{e9}?name=eq.\u{e9}t\u{e9}".as_bytes(),
            "/caf%C3%A9?name=eq.%C3%A9t%C3%A9",
        ),
        (
            b"/items?name=eq.a\tb&select=id",
            "/items?name=eq.a%09b&select=id",
        ),
    ])
    .await;
    let answer = exchange(&get(b"/it<e>ms")).await;
    assert_eq!(answer[0].0, 404, "{answer:?}");
    assert!(answer[0].1.contains("test.it<e>ms"), "{answer:?}");
    // A space still ends the target: Warp refuses the line, and so does pgrest.
    let answer = exchange(&get(b"/items?name=eq.a b")).await;
    assert_eq!(answer[0].0, 400, "{answer:?}");
    assert!(answer[0].1.contains("PGRSTX01"), "{answer:?}");
}

/// A POST of `body` to verbatim_bodies answering with the rows, keeping the
/// connection open, with `framing` headers.
fn post(framing: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /verbatim_bodies HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Prefer: return=representation\r\n{framing}\r\n{body}"
    )
    .into_bytes()
}

/// A row whose note looks like a request line with a raw target: were the
/// body taken for a request head, its bytes would come back encoded. The
/// server answers with the row as it was sent.
const NOTE: &str = r#"[{"id":1,"note":"GET /x?a=\"b\" HTTP/1.1"}]"#;

/// `first`, which stores [`NOTE`], then a GET with a raw target on the same
/// connection: the note comes back as sent and the GET is answered.
async fn note_then_raw_target(first: Vec<u8>) {
    let second = get(b"/items?id=eq.1&select=id,data->>color");
    let answers = exchange(&[first, second].concat()).await;
    assert_eq!(
        answers,
        [
            (201, NOTE.to_string()),
            (200, r#"[{"id":1,"color":"red"}]"#.to_string())
        ]
    );
}

#[tokio::test]
async fn a_raw_target_after_a_sized_body_on_one_connection_and_the_body_kept() {
    note_then_raw_target(post(&format!("Content-Length: {}\r\n", NOTE.len()), NOTE)).await;
    // Expecting a 100 Continue changes nothing of the framing.
    let expecting = format!("Expect: 100-continue\r\nContent-Length: {}\r\n", NOTE.len());
    note_then_raw_target(post(&expecting, NOTE)).await;
}

#[tokio::test]
async fn a_raw_target_after_a_chunked_body_on_one_connection() {
    // Chunks cut inside the note, an extension, a trailer field.
    let (a, b) = NOTE.split_at(20);
    let body = format!(
        "{:x};ext=\"GET / HTTP/1.1\"\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\nX-Note: GET /y<z> HTTP/1.1\r\n\r\n",
        a.len(),
        b.len()
    );
    note_then_raw_target(post("Transfer-Encoding: chunked\r\n", &body)).await;
}
