//! The OpenAPI document rendered by Swagger UI in a real headless browser
//! (Debian's chromium): a page served from another origin loads
//! `swagger-ui-dist` (installed with `npm ci` from `tests/swagger-ui`),
//! fetches `GET /` across origins (CORS) and renders one block per
//! operation.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{client, send, shared};
use crate::npm;

#[tokio::test]
async fn swagger_ui_renders_the_operations() {
    let Some(chromium) = chromium() else {
        // Visible even under libtest's capture: never skip silently.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED swagger_ui_renders_the_operations: chromium is not installed and \
             `apt-get install -y chromium` failed"
        );
        return;
    };
    let package = npm::package_dir("tests/swagger-ui");
    npm::install(&package);
    let spec_url = shared().url("/");
    let doc = send(client().get(&spec_url)).await.body;
    let page = serve_page(&package.join("node_modules/swagger-ui-dist"), &spec_url);
    let dom = dump_dom(&chromium, &page);

    for error in ["errors-wrapper", "Unable to render", "Failed to load"] {
        assert!(!dom.contains(error), "Swagger UI reports errors:\n{dom}");
    }
    assert!(dom.contains(">PostgREST API"), "no title rendered:\n{dom}");
    // Every operation of the tags the page filters on, and nothing else.
    let described: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_object().expect("a path item");
            item.iter()
                .filter(|(_, op)| op["tags"][0].as_str().is_some_and(|t| t.contains(TAGS)))
                .map(|(verb, _)| (verb.to_uppercase(), path.clone()))
        })
        .collect();
    let rendered = operations(&dom);
    assert_eq!(rendered, described);
    for (method, path) in [
        ("GET", "/oa_pets"),
        ("POST", "/oa_pets"),
        ("PATCH", "/oa_pets"),
        ("DELETE", "/oa_pets"),
        ("GET", "/oa_counts"),
        ("GET", "/rpc/oa_root"),
        ("POST", "/rpc/oa_root"),
    ] {
        assert!(
            rendered.contains(&(method.to_string(), path.to_string())),
            "{method} {path} is not rendered; rendered: {rendered:?}"
        );
    }
    // A read-only view has no write verbs; what the anonymous role may not
    // use (a table, a function) is not there at all.
    assert!(!rendered.contains(&("POST".to_string(), "/oa_counts".to_string())));
    assert!(
        !rendered
            .iter()
            .any(|(_, p)| p == "/oa_hidden" || p == "/rpc/oa_secret")
    );
}

/// Swagger UI's `filter`: only tags containing it are rendered (the test
/// schema's hundred-odd paths would be rendered lazily, by viewport).
const TAGS: &str = "oa_";

/// The browser: `CHROMIUM` or `chromium` on the PATH, installed with apt
/// when missing and possible (as `.ci/run` does).
fn chromium() -> Option<PathBuf> {
    let find = || {
        std::env::var_os("CHROMIUM")
            .map(PathBuf::from)
            .into_iter()
            .chain(["chromium", "chromium-browser"].map(PathBuf::from))
            .find(|c| {
                Command::new(c)
                    .arg("--version")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            })
    };
    find().or_else(|| {
        let installed = Command::new("apt-get")
            .args(["install", "-y", "-qq", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        installed.then(find).flatten()
    })
}

/// Serves the page, `swagger-ui-bundle.js` and `swagger-ui.css` on a port of
/// its own (another origin than pgrest's); returns the page's URL.
fn serve_page(dist: &Path, spec_url: &str) -> String {
    let index = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
         <link rel=\"stylesheet\" href=\"swagger-ui.css\"></head>\
         <body><div id=\"ui\"></div><script src=\"swagger-ui-bundle.js\"></script>\
         <script>SwaggerUIBundle({{url: {spec_url:?}, dom_id: \"#ui\", validatorUrl: null, \
         filter: {TAGS:?}}});\
         </script></body></html>"
    );
    let files: Vec<(String, &str, Vec<u8>)> = vec![
        ("/".into(), "text/html", index.into_bytes()),
        (
            "/swagger-ui-bundle.js".into(),
            "text/javascript",
            std::fs::read(dist.join("swagger-ui-bundle.js")).expect("swagger-ui-bundle.js"),
        ),
        (
            "/swagger-ui.css".into(),
            "text/css",
            std::fs::read(dist.join("swagger-ui.css")).expect("swagger-ui.css"),
        ),
    ];
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the page server");
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            serve_file(stream, &files);
        }
    });
    url
}

fn serve_file(mut stream: TcpStream, files: &[(String, &str, Vec<u8>)]) {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Read the rest of the head.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let path = request_line.split(' ').nth(1).unwrap_or("");
    let head = |status: &str, kind: &str, len: usize| {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len}\r\n\
             Connection: close\r\n\r\n"
        )
    };
    let _ = match files.iter().find(|(p, _, _)| p == path) {
        Some((_, kind, body)) => stream
            .write_all(head("200 OK", kind, body.len()).as_bytes())
            .and_then(|()| stream.write_all(body)),
        None => stream.write_all(head("404 Not Found", "text/plain", 0).as_bytes()),
    };
}

/// The DOM after the page's scripts ran (virtual time: the spec's fetch is
/// waited for, not a wall-clock sleep).
fn dump_dom(chromium: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().expect("a chromium profile dir");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--window-size=1280,4000",
            "--virtual-time-budget=20000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().expect("chromium's stdout");
    let reader = std::thread::spawn(move || {
        let mut dom = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut dom).map(|_| dom)
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("chromium's status").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap().expect("chromium's output")
}

/// (method, path) of every rendered operation block.
fn operations(dom: &str) -> BTreeSet<(String, String)> {
    const METHOD: &str = "<span class=\"opblock-summary-method\">";
    const PATH: &str = "data-path=\"";
    dom.split(METHOD)
        .skip(1)
        .filter_map(|block| {
            let method = block.split('<').next()?;
            let rest = &block[block.find(PATH)? + PATH.len()..];
            let path = rest.split('"').next()?;
            Some((method.to_string(), path.to_string()))
        })
        .collect()
}
