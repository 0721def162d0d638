//! CORS as PostgREST answers it (its `Cors.hs` policy through the wai-cors
//! middleware): permissive by default, `server-cors-allowed-origins` to
//! restrict origins. It looks only at the method and headers, before the
//! request is parsed; a request it does not like is served as if it were not
//! a CORS request (PostgREST ignores CORS failures), never refused.

use crate::contract::{CorsAnswer, HttpResponse};

/// Methods a preflight may ask for: PostgREST's list, then the CORS simple
/// methods it does not name (HEAD), compared byte for byte.
const METHODS: [&str; 7] = ["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS", "HEAD"];

/// Request headers always allowed after the requested ones: the CORS simple
/// headers but `Content-Type`.
const SIMPLE_HEADERS: [&str; 3] = ["Accept", "Accept-Language", "Content-Language"];

/// Response headers a script may read.
const EXPOSED: &str = "Content-Encoding, Content-Location, Content-Range, Content-Type, \
                       Date, Location, Server, Transfer-Encoding, Range-Unit";

/// A day: how long browsers may cache a preflight answer.
const MAX_AGE: &str = "86400";

/// `allowed_origins`: `server-cors-allowed-origins` (`None`: any origin).
/// `headers` are lower-cased names in arrival order.
pub fn answer(
    allowed_origins: Option<&[String]>,
    method: &str,
    headers: &[(String, String)],
) -> CorsAnswer {
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let Some(origin) = header("origin") else {
        return CorsAnswer::None;
    };
    // Websocket upgrades are not CORS requests.
    if header("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket")) {
        return CorsAnswer::None;
    }
    let mut common = match allowed_origins {
        None => vec![("access-control-allow-origin".to_string(), "*".to_string())],
        Some(list) if list.iter().any(|o| o == origin) => vec![
            ("access-control-allow-origin".to_string(), origin.clone()),
            (
                "access-control-allow-credentials".to_string(),
                "true".to_string(),
            ),
        ],
        Some(_) => return CorsAnswer::None,
    };
    if method != "OPTIONS" {
        common.push((
            "access-control-expose-headers".to_string(),
            EXPOSED.to_string(),
        ));
        return CorsAnswer::Headers(common);
    }
    // A preflight: the method asked for must be one of ours, and the
    // headers asked for must parse as header names.
    let Some(requested) = header("access-control-request-method") else {
        return CorsAnswer::None;
    };
    if !METHODS.contains(&requested.as_str()) {
        return CorsAnswer::None;
    }
    common.push((
        "access-control-allow-methods".to_string(),
        METHODS.join(", "),
    ));
    if let Some(asked) = header("access-control-request-headers") {
        let Some(allowed) = allowed_headers(asked) else {
            return CorsAnswer::None;
        };
        common.push(("access-control-allow-headers".to_string(), allowed));
    }
    common.push(("access-control-max-age".to_string(), MAX_AGE.to_string()));
    CorsAnswer::Preflight(HttpResponse {
        status: 200,
        headers: common,
        body: Vec::new(),
    })
}

/// The `Access-Control-Allow-Headers` value for an
/// `Access-Control-Request-Headers` value, or `None` when it asks for a
/// header the policy does not allow. The policy allows `Authorization`,
/// every comma-separated item as sent (trimmed, even empty or repeated),
/// and the simple headers it did not name; the check reads the value as
/// wai-cors does: header names separated by commas, up to the first
/// character that cannot continue that list.
fn allowed_headers(asked: &str) -> Option<String> {
    let mut allowed: Vec<&str> = vec!["Authorization"];
    // An empty value names no item.
    if !asked.is_empty() {
        allowed.extend(asked.split(',').map(str::trim));
    }
    let named = allowed.clone();
    allowed.extend(
        SIMPLE_HEADERS
            .iter()
            .filter(|s| !named.iter().any(|n| n.eq_ignore_ascii_case(s))),
    );
    let fits = header_names(asked)
        .iter()
        .all(|name| allowed.iter().any(|a| a.eq_ignore_ascii_case(name)));
    fits.then(|| allowed.join(", "))
}

/// The header names at the start of a comma-separated list: each name is a
/// run of token characters with optional white space around it; the list
/// ends (without failing) where that pattern stops.
fn header_names(value: &str) -> Vec<&str> {
    let is_name_char = |c: char| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?={}".contains(c);
    let mut names = Vec::new();
    let mut rest = value.trim_start();
    loop {
        let end = rest.find(|c| !is_name_char(c)).unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        names.push(&rest[..end]);
        let after = rest[end..].trim_start();
        let Some(next) = after.strip_prefix(',') else {
            break;
        };
        let next = next.trim_start();
        // A separator must be followed by a name, or the list ends before it.
        if !next.starts_with(is_name_char) {
            break;
        }
        rest = next;
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn header<'a>(answer: &'a CorsAnswer, name: &str) -> Option<&'a str> {
        let headers = match answer {
            CorsAnswer::Preflight(r) => &r.headers,
            CorsAnswer::Headers(h) => h,
            CorsAnswer::None => return None,
        };
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn without_origin_nothing_happens() {
        assert_eq!(answer(None, "GET", &req(&[])), CorsAnswer::None);
        assert_eq!(
            answer(
                None,
                "OPTIONS",
                &req(&[("access-control-request-method", "GET")])
            ),
            CorsAnswer::None
        );
    }

    #[test]
    fn actual_requests_get_origin_and_exposed_headers() {
        let a = answer(None, "GET", &req(&[("origin", "http://x.com")]));
        assert_eq!(header(&a, "access-control-allow-origin"), Some("*"));
        assert_eq!(header(&a, "access-control-allow-credentials"), None);
        assert!(
            header(&a, "access-control-expose-headers")
                .unwrap()
                .ends_with("Range-Unit")
        );
        let ws = req(&[("origin", "http://x.com"), ("upgrade", "WebSocket")]);
        assert_eq!(answer(None, "GET", &ws), CorsAnswer::None);
    }

    #[test]
    fn allowed_origins_are_echoed_with_credentials() {
        let list = ["http://a.com".to_string(), "http://b.com".to_string()];
        let a = answer(Some(&list), "POST", &req(&[("origin", "http://b.com")]));
        assert_eq!(
            header(&a, "access-control-allow-origin"),
            Some("http://b.com")
        );
        assert_eq!(header(&a, "access-control-allow-credentials"), Some("true"));
        let other = answer(Some(&list), "POST", &req(&[("origin", "http://c.com")]));
        assert_eq!(other, CorsAnswer::None);
    }

    #[test]
    fn preflights() {
        let pre = |m: &str, h: Option<&str>| {
            let mut r = req(&[("origin", "o"), ("access-control-request-method", m)]);
            if let Some(h) = h {
                r.push(("access-control-request-headers".into(), h.into()));
            }
            answer(None, "OPTIONS", &r)
        };
        let a = pre("PATCH", None);
        assert_eq!(
            header(&a, "access-control-allow-methods"),
            Some("GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD")
        );
        assert_eq!(header(&a, "access-control-allow-headers"), None);
        assert_eq!(header(&a, "access-control-max-age"), Some("86400"));
        assert_eq!(header(&a, "access-control-expose-headers"), None);
        // Methods compare byte for byte.
        assert_eq!(pre("patch", None), CorsAnswer::None);
        assert_eq!(pre("BREW", None), CorsAnswer::None);
        // No method asked: an ordinary OPTIONS request.
        let plain = answer(None, "OPTIONS", &req(&[("origin", "o")]));
        assert_eq!(plain, CorsAnswer::None);
        let h = |v| header(&pre("GET", Some(v)), "access-control-allow-headers").map(String::from);
        assert_eq!(
            h("content-type, X-App-Id,authorization").as_deref(),
            Some(
                "Authorization, content-type, X-App-Id, authorization, Accept, \
                 Accept-Language, Content-Language"
            )
        );
        assert_eq!(
            h("x,,y").as_deref(),
            Some("Authorization, x, , y, Accept, Accept-Language, Content-Language")
        );
        assert_eq!(
            h("accept").as_deref(),
            Some("Authorization, accept, Accept-Language, Content-Language")
        );
        // A name with a space inside is read as its first word, which the
        // policy (holding the whole item) does not allow.
        assert_eq!(h("a b, c"), None);
        assert_eq!(
            h("").as_deref(),
            Some("Authorization, Accept, Accept-Language, Content-Language")
        );
        assert_eq!(
            h("a,").as_deref(),
            Some("Authorization, a, , Accept, Accept-Language, Content-Language")
        );
        assert_eq!(h("x(y"), None);
    }

    #[test]
    fn header_name_lists() {
        assert_eq!(header_names(" a , b,c "), ["a", "b", "c"]);
        assert_eq!(header_names("a,,b"), ["a"]);
        assert_eq!(header_names("x(y"), ["x"]);
        assert!(header_names("(x").is_empty());
    }
}
