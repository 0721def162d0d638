//! What a request path names.

use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/`: the OpenAPI description.
    Root,
    /// `/name`: a table or view.
    Relation(String),
    /// `/rpc/name`: a function.
    Routine(String),
}

/// Parses a percent-encoded path. A trailing slash is ignored; anything
/// deeper than `/rpc/name` is PGRST125.
pub fn parse(path: &str) -> Result<Target, ApiError> {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    match segments.as_slice() {
        [] => Ok(Target::Root),
        [rpc, name] if rpc == "rpc" => Ok(Target::Routine(name.clone())),
        [name] => Ok(Target::Relation(name.clone())),
        _ => Err(ApiError::InvalidResourcePath),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(parse("/").unwrap(), Target::Root);
        assert_eq!(parse("").unwrap(), Target::Root);
        assert_eq!(parse("/items").unwrap(), Target::Relation("items".into()));
        assert_eq!(parse("/items/").unwrap(), Target::Relation("items".into()));
        assert_eq!(
            parse("/my%20table").unwrap(),
            Target::Relation("my table".into())
        );
        assert_eq!(parse("/rpc/f").unwrap(), Target::Routine("f".into()));
        assert_eq!(parse("/a/b/c"), Err(ApiError::InvalidResourcePath));
        assert_eq!(parse("/a/b"), Err(ApiError::InvalidResourcePath));
    }
}
