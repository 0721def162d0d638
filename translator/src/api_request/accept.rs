//! `Accept` parsing and content negotiation, as PostgREST 16 does them.
//!
//! The header is split on `,`; every space is dropped; `;q=` (lower case,
//! exactly) cuts off the quality and anything after it; the entries are
//! sorted, stably, by quality and then specificity (`;` count minus `*`
//! count), highest first. `q=0` only sorts last: it does not refuse a type.
//! Each entry is then read as a media type, case-insensitively for type,
//! subtype and parameter names. `*/*` answers with the endpoint's first
//! type; `application/*` and `text/*` with its first type of that family
//! (PostgREST refuses them; pgrest follows RFC 9110 there).
//!
//! Negotiation takes the first entry, in that order, that the endpoint can
//! produce; none gives PGRST107 listing every entry.

use std::borrow::Cow;

use crate::error::ApiError;

/// A media type PostgREST knows, or any other as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaType {
    /// `application/json` (also `application/vnd.pgrst.array+json` without
    /// `nulls=stripped`).
    Json,
    /// `application/geo+json`.
    GeoJson,
    /// `text/csv`.
    Csv,
    /// `text/plain`.
    TextPlain,
    /// `text/xml`.
    TextXml,
    /// `application/openapi+json`.
    OpenApi,
    /// `application/x-www-form-urlencoded`.
    UrlEncoded,
    /// `application/octet-stream`.
    OctetStream,
    /// `*/*`.
    Any,
    /// `application/vnd.pgrst.array+json;nulls=stripped`.
    ArrayStripped,
    /// `application/vnd.pgrst.object+json`, `;nulls=stripped` when
    /// `stripped`.
    Object { stripped: bool },
    /// `application/vnd.pgrst.plan[+text|+json]`.
    Plan(Plan),
    /// Anything else, as written (after Latin-1 decoding, as PostgREST).
    Other(String),
}

/// `application/vnd.pgrst.plan+<format>; for="<for>"; options=<a|b>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The media type whose query is explained (`for`, default JSON).
    pub for_: Box<MediaType>,
    pub format: PlanFormat,
    /// In PostgREST's fixed order, whatever the request's order.
    pub options: Vec<PlanOption>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanOption {
    Analyze,
    Verbose,
    Settings,
    Buffers,
    Wal,
}

impl PlanOption {
    const ALL: [PlanOption; 5] = [
        PlanOption::Analyze,
        PlanOption::Verbose,
        PlanOption::Settings,
        PlanOption::Buffers,
        PlanOption::Wal,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            PlanOption::Analyze => "analyze",
            PlanOption::Verbose => "verbose",
            PlanOption::Settings => "settings",
            PlanOption::Buffers => "buffers",
            PlanOption::Wal => "wal",
        }
    }
}

impl MediaType {
    /// A `Content-Type` (or one `Accept` entry) as PostgREST reads it.
    pub fn decode(value: &str) -> MediaType {
        decode_text(&latin1(value.as_bytes()))
    }

    /// The media type as PostgREST names it (in PGRST107 and plan `for`).
    pub fn to_mime(&self) -> String {
        self.mime().into_owned()
    }

    /// `to_mime`, allocating only for the types that are not constants.
    fn mime(&self) -> Cow<'static, str> {
        match self {
            MediaType::Json => "application/json".into(),
            MediaType::GeoJson => "application/geo+json".into(),
            MediaType::Csv => "text/csv".into(),
            MediaType::TextPlain => "text/plain".into(),
            MediaType::TextXml => "text/xml".into(),
            MediaType::OpenApi => "application/openapi+json".into(),
            MediaType::UrlEncoded => "application/x-www-form-urlencoded".into(),
            MediaType::OctetStream => "application/octet-stream".into(),
            MediaType::Any => "*/*".into(),
            MediaType::ArrayStripped => "application/vnd.pgrst.array+json;nulls=stripped".into(),
            MediaType::Object { stripped: false } => "application/vnd.pgrst.object+json".into(),
            MediaType::Object { stripped: true } => {
                "application/vnd.pgrst.object+json;nulls=stripped".into()
            }
            MediaType::Plan(p) => {
                let format = match p.format {
                    PlanFormat::Text => "text",
                    PlanFormat::Json => "json",
                };
                let mut s = format!(
                    "application/vnd.pgrst.plan+{format}; for=\"{}\"",
                    p.for_.to_mime()
                );
                if !p.options.is_empty() {
                    let names: Vec<&str> = p.options.iter().map(|o| o.name()).collect();
                    s.push_str("; options=");
                    s.push_str(&names.join("|"));
                }
                s.into()
            }
            MediaType::Other(s) => s.clone().into(),
        }
    }

    /// The `Content-Type` a response in this media type is served with:
    /// `; charset=utf-8` appended, except for octet-stream and other types.
    pub fn content_type(&self) -> String {
        match self {
            MediaType::OctetStream | MediaType::Other(_) => self.to_mime(),
            _ => [&*self.mime(), "; charset=utf-8"].concat(),
        }
    }
}

/// What a read of a table or view can produce, `*/*` answering JSON.
/// `vnd.pgrst.object` and `vnd.pgrst.array;nulls=stripped` need not be
/// listed: they are always producible.
pub fn relation_read_types() -> Vec<MediaType> {
    vec![MediaType::Json, MediaType::Csv, MediaType::GeoJson]
}

/// The `Accept` entries in PostgREST's order; no header is `*/*`. An empty
/// header has no entries (so nothing is acceptable).
pub fn parse_accept(header: Option<&str>) -> Vec<MediaType> {
    let Some(header) = header else {
        return vec![MediaType::Any];
    };
    if header.is_empty() {
        return Vec::new();
    }
    let mut entries: Vec<(Vec<u8>, f64, i64)> = header
        .as_bytes()
        .split(|&b| b == b',')
        .map(|raw| {
            let s: Vec<u8> = raw.iter().copied().filter(|&b| b != b' ').collect();
            let (media, q) = match find(&s, b";q=") {
                Some(i) => {
                    let rest = s.get(i + 3..).unwrap_or_default();
                    let q_text = rest.split(|&b| b == b';').next().unwrap_or_default();
                    (
                        s.get(..i).unwrap_or_default().to_vec(),
                        read_q(&latin1(q_text)),
                    )
                }
                None => (s, 1.0),
            };
            let count = |c: u8| media.iter().filter(|&&b| b == c).count() as i64;
            let specificity = count(b';') - count(b'*');
            (media, q, specificity)
        })
        .collect();
    // Stable, highest first. `total_cmp` keeps the order total (a NaN
    // quality sorts first) where Haskell's comparison is not.
    entries.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.cmp(&a.2)));
    entries
        .into_iter()
        .map(|(media, _, _)| decode_text(&latin1(&media)))
        .collect()
}

/// The media type to answer with: the first entry of `accepts` that the
/// endpoint can produce. `produces` is in server preference order, its
/// first entry answering `*/*`; the vendored object/stripped-array types
/// always match; a plan matches when `plan_enabled` (`db-plan-enabled`) and
/// its `for` type matches. PGRST107 (406) when nothing does.
pub fn negotiate(
    accepts: &[MediaType],
    produces: &[MediaType],
    plan_enabled: bool,
) -> Result<MediaType, ApiError> {
    match negotiate_with(accepts, produces, plan_enabled, |_| None::<()>)? {
        Choice::Builtin(media) => Ok(media),
        Choice::Handler(()) | Choice::PlanOfHandler((), _) => {
            unreachable!("no handlers were offered")
        }
    }
}

/// What negotiation chose: a type pgrest builds itself, or a handler of the
/// database's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Choice<H> {
    Builtin(MediaType),
    Handler(H),
    /// A plan whose `for` type a handler builds.
    PlanOfHandler(H, Plan),
}

/// [`negotiate`], where `handler` may claim an entry (by its lower-case
/// name) before the built-in types: PostgREST's custom media type handlers,
/// which can override `application/json`, `text/csv` and `*/*` but never
/// the `vnd.pgrst` types.
pub(crate) fn negotiate_with<H>(
    accepts: &[MediaType],
    produces: &[MediaType],
    plan_enabled: bool,
    handler: impl Fn(&str) -> Option<H>,
) -> Result<Choice<H>, ApiError> {
    accepts
        .iter()
        .find_map(|m| match m {
            MediaType::Plan(p) if plan_enabled => handler(&p.for_.to_mime().to_ascii_lowercase())
                .map(|h| Choice::PlanOfHandler(h, p.clone()))
                .or_else(|| producible(&p.for_, produces).map(|_| Choice::Builtin(m.clone()))),
            MediaType::Plan(_) => None,
            MediaType::Object { .. } | MediaType::ArrayStripped => Some(Choice::Builtin(m.clone())),
            other => handler(&other.to_mime().to_ascii_lowercase())
                .map(Choice::Handler)
                .or_else(|| producible(other, produces).map(Choice::Builtin)),
        })
        .ok_or_else(|| ApiError::MediaTypeError {
            media_types: accepts.iter().map(MediaType::to_mime).collect(),
        })
}

/// What the body is built as for a negotiated type: a plan's `for` type as
/// the endpoint produces it (`*/*` is its first type), anything else itself.
pub fn body_type(negotiated: &MediaType, produces: &[MediaType]) -> MediaType {
    match negotiated {
        MediaType::Plan(p) => producible(&p.for_, produces).unwrap_or(MediaType::Json),
        other => other.clone(),
    }
}

/// The type an endpoint answers an `Accept` entry with, if it can.
fn producible(m: &MediaType, produces: &[MediaType]) -> Option<MediaType> {
    match m {
        MediaType::Object { .. } | MediaType::ArrayStripped => Some(m.clone()),
        MediaType::Any => produces.first().cloned(),
        // `application/*`, `text/*`: the first producible type of the
        // family. PostgREST refuses subtype wildcards; accepting them is a
        // deliberate superset (RFC 9110 defines them).
        MediaType::Other(range) if range.ends_with("/*") => {
            let family = range.strip_suffix('*').unwrap_or(range);
            produces
                .iter()
                .find(|p| p.to_mime().starts_with(family))
                .cloned()
        }
        other => produces.contains(other).then(|| other.clone()),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Bytes as Latin-1 characters (PostgREST's `decodeLatin1`).
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// A quality as Haskell's `reads :: Double` takes a prefix of it; 1 when
/// none reads.
fn read_q(s: &str) -> f64 {
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let hex = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X"));
    let value = if let Some(h) = hex.filter(|h| h.starts_with(|c: char| c.is_ascii_hexdigit())) {
        let end = h.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(h.len());
        h.get(..end)
            .and_then(|d| u128::from_str_radix(d, 16).ok())
            .map(|n| n as f64)
    } else if body.starts_with("NaN") {
        Some(f64::NAN)
    } else if body.starts_with("Infinity") {
        Some(f64::INFINITY)
    } else {
        decimal_prefix(body).and_then(|p| p.parse::<f64>().ok())
    };
    match value {
        Some(v) if negative => -v,
        Some(v) => v,
        None => 1.0,
    }
}

/// The longest `digits[.digits][e[+-]digits]` prefix.
fn decimal_prefix(s: &str) -> Option<&str> {
    let digits = |from: usize| {
        s.get(from..)
            .map_or(0, |t| t.bytes().take_while(u8::is_ascii_digit).count())
    };
    let mut end = digits(0);
    if end == 0 {
        return None;
    }
    if s.as_bytes().get(end) == Some(&b'.') && digits(end + 1) > 0 {
        end += 1 + digits(end + 1);
    }
    if matches!(s.as_bytes().get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(s.as_bytes().get(end + 1), Some(b'+' | b'-')));
        let exp = digits(end + 1 + sign);
        if exp > 0 {
            end += 1 + sign + exp;
        }
    }
    s.get(..end)
}

/// Haskell's `isSpace` on Latin-1 characters.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t'..='\r' | '\u{a0}')
}

/// Media type parameters: lower-cased name, value.
type Params = Vec<(String, String)>;

/// `type/subtype` and `;key=value` parameters (names lower-cased) with
/// PostgREST's grammar; `None` when even `type/subtype` does not read.
/// Whatever follows the last readable parameter is ignored.
fn tokenize(s: &str) -> Option<(&str, &str, Params)> {
    let mut rest = s;
    let main_type = take_while1(&mut rest, |c| c.is_alphanumeric() || c == '.' || c == '*')?;
    rest = rest.strip_prefix('/')?;
    let sub_type = take_while1(&mut rest, |c| {
        c.is_alphanumeric() || matches!(c, '.' | '*' | '+' | '-')
    })?;
    let mut params = Vec::new();
    while let Some((key, value, after)) = parameter(rest) {
        params.push((key.to_lowercase(), value.to_string()));
        rest = after;
    }
    Some((main_type, sub_type, params))
}

/// One `;key=value`, with optional spaces around `;` and `=`; the value
/// quoted (anything up to the next `"`) or of letters, digits, `|`, `-`.
fn parameter(s: &str) -> Option<(&str, &str, &str)> {
    let mut rest = s.trim_start_matches(is_space).strip_prefix(';')?;
    rest = rest.trim_start_matches(is_space);
    let key = take_while1(&mut rest, |c| c.is_alphanumeric() || c == '-')?;
    rest = rest.trim_start_matches(is_space).strip_prefix('=')?;
    rest = rest.trim_start_matches(is_space);
    let value = match rest.strip_prefix('"') {
        Some(quoted) => {
            let (value, after) = quoted.split_once('"')?;
            rest = after;
            value
        }
        None => take_while1(&mut rest, |c| c.is_alphanumeric() || c == '|' || c == '-')?,
    };
    Some((key, value, rest))
}

fn take_while1<'a>(s: &mut &'a str, keep: impl Fn(char) -> bool) -> Option<&'a str> {
    let end = s.find(|c: char| !keep(c)).unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    let (taken, rest) = s.split_at(end);
    *s = rest;
    Some(taken)
}

/// `decodeMediaType` on already decoded text.
fn decode_text(text: &str) -> MediaType {
    let (main_type, sub_type, params) = tokenize(text).unwrap_or((text, "", Vec::new()));
    // The last value of a repeated parameter wins.
    let param = |name: &str| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let stripped = param("nulls") == Some("stripped");
    let plan = |format| {
        let options: Vec<&str> = param("options").unwrap_or_default().split('|').collect();
        MediaType::Plan(Plan {
            for_: Box::new(decode_text(param("for").unwrap_or("application/json"))),
            format,
            options: PlanOption::ALL
                .into_iter()
                .filter(|o| options.contains(&o.name()))
                .collect(),
        })
    };
    match (
        main_type.to_lowercase().as_str(),
        sub_type.to_lowercase().as_str(),
    ) {
        ("application", "json") => MediaType::Json,
        ("application", "geo+json") => MediaType::GeoJson,
        ("text", "csv") => MediaType::Csv,
        ("text", "plain") => MediaType::TextPlain,
        ("text", "xml") => MediaType::TextXml,
        ("application", "openapi+json") => MediaType::OpenApi,
        ("application", "x-www-form-urlencoded") => MediaType::UrlEncoded,
        ("application", "octet-stream") => MediaType::OctetStream,
        ("application", "vnd.pgrst.plan" | "vnd.pgrst.plan+text") => plan(PlanFormat::Text),
        ("application", "vnd.pgrst.plan+json") => plan(PlanFormat::Json),
        ("application", "vnd.pgrst.object+json" | "vnd.pgrst.object") => {
            MediaType::Object { stripped }
        }
        ("application", "vnd.pgrst.array+json" | "vnd.pgrst.array") if stripped => {
            MediaType::ArrayStripped
        }
        ("application", "vnd.pgrst.array+json" | "vnd.pgrst.array") => MediaType::Json,
        ("*", "*") => MediaType::Any,
        _ => MediaType::Other(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MediaType::*;

    fn accept(h: &str) -> Vec<MediaType> {
        parse_accept(Some(h))
    }

    fn other(s: &str) -> MediaType {
        Other(s.to_string())
    }

    fn pick(h: Option<&str>) -> Result<MediaType, ApiError> {
        negotiate(&parse_accept(h), &relation_read_types(), false)
    }

    #[test]
    fn no_header_is_anything() {
        assert_eq!(parse_accept(None), vec![Any]);
        assert_eq!(pick(None), Ok(Json));
    }

    #[test]
    fn known_types() {
        assert_eq!(MediaType::decode("application/json"), Json);
        assert_eq!(MediaType::decode("application/geo+json"), GeoJson);
        assert_eq!(MediaType::decode("text/csv"), Csv);
        assert_eq!(MediaType::decode("text/plain"), TextPlain);
        assert_eq!(MediaType::decode("text/xml"), TextXml);
        assert_eq!(MediaType::decode("application/openapi+json"), OpenApi);
        assert_eq!(
            MediaType::decode("application/x-www-form-urlencoded"),
            UrlEncoded
        );
        assert_eq!(MediaType::decode("application/octet-stream"), OctetStream);
        assert_eq!(MediaType::decode("*/*"), Any);
        assert_eq!(MediaType::decode("application/json; charset=utf-8"), Json);
    }

    #[test]
    fn vendored_json_types_and_nulls_stripped() {
        let d = MediaType::decode;
        assert_eq!(
            d("application/vnd.pgrst.object+json"),
            Object { stripped: false }
        );
        assert_eq!(
            d("application/vnd.pgrst.object"),
            Object { stripped: false }
        );
        assert_eq!(
            d("application/vnd.pgrst.object+json;nulls=stripped"),
            Object { stripped: true }
        );
        assert_eq!(
            d("application/vnd.pgrst.object+json ; NULLS = stripped"),
            Object { stripped: true }
        );
        assert_eq!(
            d("application/vnd.pgrst.object+json;nulls=\"stripped\""),
            Object { stripped: true }
        );
        // The value is compared as is.
        assert_eq!(
            d("application/vnd.pgrst.object+json;nulls=Stripped"),
            Object { stripped: false }
        );
        assert_eq!(
            d("application/vnd.pgrst.array+json;nulls=stripped"),
            ArrayStripped
        );
        assert_eq!(
            d("application/vnd.pgrst.array;nulls=stripped"),
            ArrayStripped
        );
        assert_eq!(d("application/vnd.pgrst.array+json"), Json);
        assert_eq!(d("application/vnd.pgrst.array+json;nulls=kept"), Json);
        // The last of repeated parameters wins.
        assert_eq!(
            d("application/vnd.pgrst.array+json;nulls=stripped;nulls=no"),
            Json
        );
    }

    #[test]
    fn case_insensitive_names() {
        assert_eq!(
            MediaType::decode("ApplicatIon/vnd.PgRsT.object+json"),
            Object { stripped: false }
        );
        assert_eq!(MediaType::decode("TEXT/CSV"), Csv);
        assert_eq!(accept("Application/JSON"), vec![Json]);
    }

    #[test]
    fn other_types_keep_their_text() {
        assert_eq!(
            MediaType::decode("application/vnd.twkb"),
            other("application/vnd.twkb")
        );
        assert_eq!(MediaType::decode("application/*"), other("application/*"));
        assert_eq!(MediaType::decode("text/*;q=x"), other("text/*;q=x"));
        assert_eq!(MediaType::decode("junk"), other("junk"));
        assert_eq!(MediaType::decode(""), other(""));
        // Trailing junk after a readable type is ignored.
        assert_eq!(MediaType::decode("application/json garbage"), Json);
        // Bytes are read as Latin-1.
        assert_eq!(MediaType::decode("text/é"), other("text/Ã©"));
    }

    #[test]
    fn plan_types() {
        let plan = |for_: MediaType, format, options: Vec<PlanOption>| {
            Plan(super::Plan {
                for_: Box::new(for_),
                format,
                options,
            })
        };
        let d = MediaType::decode;
        assert_eq!(
            d("application/vnd.pgrst.plan"),
            plan(Json, PlanFormat::Text, vec![])
        );
        assert_eq!(
            d("application/vnd.pgrst.plan;"),
            plan(Json, PlanFormat::Text, vec![])
        );
        assert_eq!(
            d("application/vnd.pgrst.plan+json;for=\"text/csv\""),
            plan(Csv, PlanFormat::Json, vec![])
        );
        assert_eq!(
            d("application/vnd.pgrst.plan ; for=\"text/xml\" ; options=wal|analyze|nope"),
            plan(
                TextXml,
                PlanFormat::Text,
                vec![PlanOption::Analyze, PlanOption::Wal]
            )
        );
        assert_eq!(
            d(
                "application/vnd.pgrst.plan+text;for=\"application/vnd.pgrst.object+json;nulls=stripped\""
            ),
            plan(Object { stripped: true }, PlanFormat::Text, vec![])
        );
        assert_eq!(
            d("application/vnd.pgrst.plan+json; for=\"text/csv\"; options=analyze|verbose|settings|buffers|wal").to_mime(),
            "application/vnd.pgrst.plan+json; for=\"text/csv\"; options=analyze|verbose|settings|buffers|wal"
        );
        assert_eq!(
            d("application/vnd.pgrst.plan").content_type(),
            "application/vnd.pgrst.plan+text; for=\"application/json\"; charset=utf-8"
        );
    }

    #[test]
    fn content_types() {
        assert_eq!(Json.content_type(), "application/json; charset=utf-8");
        assert_eq!(Csv.content_type(), "text/csv; charset=utf-8");
        assert_eq!(
            GeoJson.content_type(),
            "application/geo+json; charset=utf-8"
        );
        assert_eq!(
            OpenApi.content_type(),
            "application/openapi+json; charset=utf-8"
        );
        assert_eq!(TextPlain.content_type(), "text/plain; charset=utf-8");
        assert_eq!(
            Object { stripped: false }.content_type(),
            "application/vnd.pgrst.object+json; charset=utf-8"
        );
        assert_eq!(
            Object { stripped: true }.content_type(),
            "application/vnd.pgrst.object+json;nulls=stripped; charset=utf-8"
        );
        assert_eq!(
            ArrayStripped.content_type(),
            "application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8"
        );
        assert_eq!(OctetStream.content_type(), "application/octet-stream");
        assert_eq!(other("image/png").content_type(), "image/png");
    }

    #[test]
    fn quality_and_specificity_order() {
        assert_eq!(
            accept(
                "text/plain; q=0.5, text/html;charset=utf-8, text/*;q=0.8;ext=blah, text/x-dvi; q=0.8, text/x-c"
            ),
            vec![
                other("text/html;charset=utf-8"),
                other("text/x-c"),
                other("text/x-dvi"),
                other("text/*"),
                TextPlain
            ]
        );
        assert_eq!(accept("*/*;q=0.1,text/csv;q=0.3"), vec![Csv, Any]);
        // Equal rank keeps the header order.
        assert_eq!(accept("text/csv, application/json"), vec![Csv, Json]);
        assert_eq!(accept("application/json, text/csv"), vec![Json, Csv]);
        // A wildcard ranks below a concrete type of the same quality.
        assert_eq!(accept("*/*, text/csv"), vec![Csv, Any]);
    }

    #[test]
    fn odd_qualities() {
        assert_eq!(accept("text/csv;q=0, application/json"), vec![Json, Csv]);
        assert_eq!(
            accept("text/csv;q=abc, application/json;q=0.9"),
            vec![Csv, Json]
        );
        assert_eq!(
            accept("text/csv;q=.5, application/json;q=0.9"),
            vec![Csv, Json]
        );
        assert_eq!(
            accept("text/csv;q=0.5x, application/json;q=0.9"),
            vec![Json, Csv]
        );
        assert_eq!(
            accept("text/csv;q=1e-3, application/json;q=-1"),
            vec![Csv, Json]
        );
        assert_eq!(accept("text/csv;q=2, application/json"), vec![Csv, Json]);
        assert_eq!(
            accept("text/csv;q=0x0, application/json;q=0.5"),
            vec![Json, Csv]
        );
        // Only `;q=` in lower case is the quality.
        assert_eq!(
            accept("text/csv;Q=0.1, application/json;q=0.9"),
            vec![Csv, Json]
        );
        // Parameters after the quality are dropped.
        assert_eq!(
            accept("application/vnd.pgrst.object+json;q=0.9;nulls=stripped"),
            vec![Object { stripped: false }]
        );
    }

    #[test]
    fn whitespace_and_junk() {
        assert_eq!(
            accept(" text/csv ,\tapplication/json"),
            vec![Csv, other("\tapplication/json")]
        );
        assert_eq!(accept("text/csv,,"), vec![Csv, other(""), other("")]);
        assert_eq!(accept(""), vec![]);
        assert_eq!(
            accept("application/vnd.pgrst.object+json; nulls=stripped"),
            vec![Object { stripped: true }]
        );
    }

    #[test]
    fn negotiation_picks_the_first_producible_entry() {
        assert_eq!(pick(Some("*/*")), Ok(Json));
        assert_eq!(pick(Some("text/csv")), Ok(Csv));
        assert_eq!(pick(Some("text/csv;q=0")), Ok(Csv));
        assert_eq!(pick(Some("application/xml, text/csv;q=0.5")), Ok(Csv));
        assert_eq!(pick(Some("image/png, */*;q=0.1")), Ok(Json));
        assert_eq!(pick(Some("application/geo+json")), Ok(GeoJson));
        assert_eq!(
            pick(Some("application/vnd.pgrst.object+json")),
            Ok(Object { stripped: false })
        );
        assert_eq!(
            pick(Some("application/vnd.pgrst.array+json;nulls=stripped")),
            Ok(ArrayStripped)
        );
        assert_eq!(pick(Some("application/vnd.pgrst.array+json")), Ok(Json));
        // Subtype wildcards take the first type of their family.
        assert_eq!(pick(Some("application/*")), Ok(Json));
        assert_eq!(pick(Some("text/*")), Ok(Csv));
        assert_eq!(pick(Some("image/*, text/*;q=0.5")), Ok(Csv));
        let other_server = [TextPlain, Json];
        assert_eq!(negotiate(&[Any], &other_server, false), Ok(TextPlain));
    }

    #[test]
    fn nothing_producible_is_pgrst107() {
        let err = pick(Some("text/xml, image/*;q=0.5, text/html;q=0.4")).unwrap_err();
        assert_eq!(
            err,
            ApiError::MediaTypeError {
                media_types: vec!["text/xml".into(), "image/*".into(), "text/html".into()]
            }
        );
        assert_eq!((err.status(), err.code()), (406, "PGRST107"));
        // Entries are named as PostgREST normalises them; an array type
        // without stripped nulls is plain JSON, hence producible.
        assert_eq!(
            pick(Some(
                "TEXT/XML;charset=utf-8, application/vnd.pgrst.array+json;nulls=x"
            )),
            Ok(Json)
        );
        assert_eq!(
            pick(Some("TEXT/XML;charset=utf-8")),
            Err(ApiError::MediaTypeError {
                media_types: vec!["text/xml".into()]
            })
        );
        assert_eq!(
            pick(Some("")),
            Err(ApiError::MediaTypeError {
                media_types: vec![]
            })
        );
        assert!(negotiate(&[Any], &[], false).is_err());
    }

    #[test]
    fn handlers_come_before_builtins_but_never_replace_vnd_pgrst() {
        let handler =
            |m: &str| (m == "text/csv" || m == "application/x-mine").then(|| m.to_string());
        let produces = relation_read_types();
        let pick =
            |accept: &str| negotiate_with(&parse_accept(Some(accept)), &produces, false, handler);
        assert_eq!(pick("text/csv"), Ok(Choice::Handler("text/csv".into())));
        assert_eq!(
            pick("application/X-Mine, application/json"),
            Ok(Choice::Handler("application/x-mine".into()))
        );
        assert_eq!(pick("application/json"), Ok(Choice::Builtin(Json)));
        assert_eq!(
            pick("application/vnd.pgrst.object+json"),
            Ok(Choice::Builtin(Object { stripped: false }))
        );
        assert!(pick("application/x-other").is_err());
    }

    #[test]
    fn plans_need_db_plan_enabled_and_a_producible_for() {
        let accepts = accept("application/vnd.pgrst.plan+json;for=\"text/csv\"");
        let produces = relation_read_types();
        assert_eq!(negotiate(&accepts, &produces, true), Ok(accepts[0].clone()));
        assert!(negotiate(&accepts, &produces, false).is_err());
        let xml = accept("application/vnd.pgrst.plan;for=\"text/xml\"");
        assert!(negotiate(&xml, &produces, true).is_err());
        let any = accept("application/vnd.pgrst.plan;for=\"*/*\"");
        assert!(negotiate(&any, &produces, true).is_ok());
        let object = accept("application/vnd.pgrst.plan;for=\"application/vnd.pgrst.object\"");
        assert!(negotiate(&object, &[], true).is_ok());
        // Disabled, a plan falls through to the next entry.
        let both = accept("application/vnd.pgrst.plan, text/csv;q=0.5");
        assert_eq!(negotiate(&both, &produces, false), Ok(Csv));
    }
}
