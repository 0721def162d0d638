//! Schema selection by profile (`Accept-Profile` for reads,
//! `Content-Profile` for writes): the requested schema must be one of
//! `db-schemas`; without the header the first one is used.

use crate::error::ApiError;

/// The schema a request runs against, and whether it was negotiated (the
/// response then names it in `Content-Profile`): chosen by a profile
/// header, or the default one of several schemas, as PostgREST 16 counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub schema: String,
    pub negotiated: bool,
}

pub fn select<'a>(
    schemas: &[String],
    method: &str,
    mut headers: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<Profile, ApiError> {
    let header = match method {
        "POST" | "PATCH" | "PUT" | "DELETE" => "content-profile",
        _ => "accept-profile",
    };
    let requested = headers.find(|(name, _)| *name == header).map(|(_, v)| v);
    match requested {
        None => Ok(Profile {
            schema: schemas.first().cloned().unwrap_or_else(|| "public".into()),
            negotiated: schemas.len() != 1,
        }),
        Some(wanted) if schemas.iter().any(|s| s == wanted) => Ok(Profile {
            schema: wanted.to_string(),
            negotiated: true,
        }),
        Some(wanted) => Err(ApiError::UnacceptableSchema {
            schema: wanted.to_string(),
            exposed: schemas.to_vec(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemas() -> Vec<String> {
        vec!["api".into(), "v2".into()]
    }

    #[test]
    fn default_is_the_first_schema_negotiated_only_among_several() {
        let p = select(&schemas(), "GET", std::iter::empty()).unwrap();
        assert_eq!((p.schema.as_str(), p.negotiated), ("api", true));
        let p = select(&schemas()[..1], "GET", std::iter::empty()).unwrap();
        assert_eq!((p.schema.as_str(), p.negotiated), ("api", false));
    }

    #[test]
    fn reads_use_accept_profile_and_writes_content_profile() {
        let headers = [("accept-profile", "v2"), ("content-profile", "api")];
        let p = select(&schemas(), "GET", headers.into_iter()).unwrap();
        assert_eq!((p.schema.as_str(), p.negotiated), ("v2", true));
        let p = select(&schemas(), "POST", headers.into_iter()).unwrap();
        assert_eq!((p.schema.as_str(), p.negotiated), ("api", true));
    }

    #[test]
    fn unexposed_schemas_are_pgrst106() {
        let err = select(&schemas(), "HEAD", [("accept-profile", "nope")].into_iter()).unwrap_err();
        assert_eq!(
            err,
            ApiError::UnacceptableSchema {
                schema: "nope".into(),
                exposed: schemas()
            }
        );
    }
}
