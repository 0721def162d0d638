//! The `Prefer` header.

/// `Prefer: tx=commit|rollback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxPreference {
    Commit,
    Rollback,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    pub tx: Option<TxPreference>,
}

impl Preferences {
    /// Reads every `Prefer` header value (comma-separated preferences);
    /// unknown preferences are ignored, as with PostgREST's default
    /// `handling=lenient`.
    pub fn parse<'a>(values: impl Iterator<Item = &'a str>) -> Preferences {
        let mut prefs = Preferences::default();
        for pref in values.flat_map(|v| v.split(',')).map(str::trim) {
            match pref {
                "tx=commit" => prefs.tx = Some(TxPreference::Commit),
                "tx=rollback" => prefs.tx = Some(TxPreference::Rollback),
                _ => {}
            }
        }
        prefs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tx_preference() {
        let p = Preferences::parse(["return=minimal, tx=rollback"].into_iter());
        assert_eq!(p.tx, Some(TxPreference::Rollback));
        assert_eq!(Preferences::parse(std::iter::empty()).tx, None);
        assert_eq!(Preferences::parse(["tx=maybe"].into_iter()).tx, None);
    }
}
