//! The `Prefer` header (RFC 7240) as PostgREST 16 reads it.
//!
//! Every `Prefer` header counts; each is split on `,` and each piece is
//! trimmed. A piece is matched byte for byte (case-sensitive, no spaces
//! around `=`). When a preference appears several times, across pieces or
//! headers, the first accepted spelling wins. Pieces that are not a known
//! preference are kept, in order, as invalid: ignored under the default
//! `handling=lenient`, PGRST122 under `handling=strict`. Any
//! `timezone=…` or `max-affected=…` piece is valid: the time zone is checked
//! by PostgreSQL and an unreadable `max-affected` is simply not applied.

use super::range::read_haskell_int;
use crate::error::ApiError;

/// An enumerated preference: its variants and their exact spellings.
macro_rules! preference {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $spelling:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            const ALL: &'static [$name] = &[$($name::$variant),+];

            fn spelling(self) -> &'static str {
                match self {
                    $($name::$variant => $spelling),+
                }
            }
        }
    };
}

preference!(
    /// `Prefer: resolution=…`.
    Resolution {
        MergeDuplicates => "resolution=merge-duplicates",
        IgnoreDuplicates => "resolution=ignore-duplicates",
    }
);
preference!(
    /// `Prefer: return=…`.
    Representation {
        Full => "return=representation",
        Minimal => "return=minimal",
        HeadersOnly => "return=headers-only",
    }
);
preference!(
    /// `Prefer: count=…`.
    Count {
        Exact => "count=exact",
        Planned => "count=planned",
        Estimated => "count=estimated",
    }
);
preference!(
    /// `Prefer: tx=…`.
    TxPreference {
        Commit => "tx=commit",
        Rollback => "tx=rollback",
    }
);
preference!(
    /// `Prefer: missing=…`.
    Missing {
        Default => "missing=default",
        Null => "missing=null",
    }
);
preference!(
    /// `Prefer: handling=…`.
    Handling {
        Strict => "handling=strict",
        Lenient => "handling=lenient",
    }
);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    pub resolution: Option<Resolution>,
    pub representation: Option<Representation>,
    pub count: Option<Count>,
    /// Parsed whatever `db-tx-end` says; whether it may apply is the
    /// caller's decision (PostgREST drops it unless the config allows it).
    pub tx: Option<TxPreference>,
    pub missing: Option<Missing>,
    pub handling: Option<Handling>,
    /// The text after the first `timezone=`, possibly empty.
    pub timezone: Option<String>,
    /// The first `max-affected=` value, if it reads as a 64-bit integer.
    pub max_affected: Option<i64>,
    /// Unknown pieces, as sent (trimmed), in order, duplicates kept.
    pub invalid: Vec<String>,
}

/// The first piece that is one of `all`'s spellings.
fn first_of<T: Copy>(pieces: &[&str], all: &[T], spelling: fn(T) -> &'static str) -> Option<T> {
    pieces
        .iter()
        .find_map(|p| all.iter().copied().find(|v| spelling(*v) == *p))
}

fn is_known(piece: &str) -> bool {
    let mut spellings = Resolution::ALL
        .iter()
        .map(|v| v.spelling())
        .chain(Representation::ALL.iter().map(|v| v.spelling()))
        .chain(Count::ALL.iter().map(|v| v.spelling()))
        .chain(TxPreference::ALL.iter().map(|v| v.spelling()))
        .chain(Missing::ALL.iter().map(|v| v.spelling()))
        .chain(Handling::ALL.iter().map(|v| v.spelling()));
    spellings.any(|s| s == piece)
        || piece.starts_with("timezone=")
        || piece.starts_with("max-affected=")
}

impl Preferences {
    /// Reads every `Prefer` header value, in request order.
    pub fn parse<'a>(values: impl Iterator<Item = &'a str>) -> Preferences {
        let pieces: Vec<&str> = values
            .flat_map(|v| v.split(','))
            .map(|p| p.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b'))
            .collect();
        let after = |prefix: &str| pieces.iter().find_map(|p| p.strip_prefix(prefix));
        Preferences {
            resolution: first_of(&pieces, Resolution::ALL, Resolution::spelling),
            representation: first_of(&pieces, Representation::ALL, Representation::spelling),
            count: first_of(&pieces, Count::ALL, Count::spelling),
            tx: first_of(&pieces, TxPreference::ALL, TxPreference::spelling),
            missing: first_of(&pieces, Missing::ALL, Missing::spelling),
            handling: first_of(&pieces, Handling::ALL, Handling::spelling),
            timezone: after("timezone=").map(str::to_string),
            max_affected: after("max-affected=")
                .and_then(read_haskell_int)
                .map(|n| n.wrapping_i64()),
            invalid: pieces
                .iter()
                .filter(|p| !is_known(p))
                .map(|p| p.to_string())
                .collect(),
        }
    }

    /// PGRST122 when `handling=strict` came with invalid preferences.
    /// PostgREST checks this after content negotiation (PGRST107 first).
    pub fn check_strict(&self) -> Result<(), ApiError> {
        if self.handling == Some(Handling::Strict) && !self.invalid.is_empty() {
            return Err(ApiError::InvalidPreferences {
                preferences: self.invalid.clone(),
            });
        }
        Ok(())
    }

    /// What a read (GET/HEAD on a table, view or function) reports as
    /// applied: `count`, `tx` (only when `db-tx-end` allows overriding),
    /// `handling` and `timezone` (always applied: PostgreSQL refuses a zone
    /// it does not know, which fails the request).
    pub fn applied_to_read(&self, tx_overridable: bool) -> Preferences {
        Preferences {
            count: self.count,
            tx: self.tx.filter(|_| tx_overridable),
            handling: self.handling,
            timezone: self.timezone.clone(),
            ..Preferences::default()
        }
    }

    /// The `Preference-Applied` value for the preferences the caller
    /// applied, in PostgREST's order; `None` when nothing was applied.
    /// `max-affected` is reported only together with `handling=strict`.
    pub fn applied_header(&self) -> Option<String> {
        let max_affected = self
            .max_affected
            .filter(|_| self.handling == Some(Handling::Strict))
            .map(|n| format!("max-affected={n}"));
        let values: Vec<String> = [
            self.resolution.map(|v| v.spelling().to_string()),
            self.missing.map(|v| v.spelling().to_string()),
            self.representation.map(|v| v.spelling().to_string()),
            self.count.map(|v| v.spelling().to_string()),
            self.tx.map(|v| v.spelling().to_string()),
            self.handling.map(|v| v.spelling().to_string()),
            self.timezone.as_ref().map(|tz| format!("timezone={tz}")),
            max_affected,
        ]
        .into_iter()
        .flatten()
        .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(headers: &[&str]) -> Preferences {
        Preferences::parse(headers.iter().copied())
    }

    #[test]
    fn one_header_with_a_comma_list() {
        let p = parse(&[
            "resolution=ignore-duplicates, count=exact, timezone=America/Los_Angeles, max-affected=100",
        ]);
        assert_eq!(p.resolution, Some(Resolution::IgnoreDuplicates));
        assert_eq!(p.count, Some(Count::Exact));
        assert_eq!(p.timezone.as_deref(), Some("America/Los_Angeles"));
        assert_eq!(p.max_affected, Some(100));
        assert_eq!(p.representation, None);
        assert!(p.invalid.is_empty());
    }

    #[test]
    fn several_headers() {
        let p = parse(&[
            "resolution=merge-duplicates",
            "count=planned",
            "missing=null",
            "handling=lenient",
            "invalid",
            "max-affected=5999",
            "return=headers-only",
            "tx=rollback",
        ]);
        assert_eq!(p.resolution, Some(Resolution::MergeDuplicates));
        assert_eq!(p.count, Some(Count::Planned));
        assert_eq!(p.missing, Some(Missing::Null));
        assert_eq!(p.handling, Some(Handling::Lenient));
        assert_eq!(p.max_affected, Some(5999));
        assert_eq!(p.representation, Some(Representation::HeadersOnly));
        assert_eq!(p.tx, Some(TxPreference::Rollback));
        assert_eq!(p.invalid, vec!["invalid".to_string()]);
    }

    #[test]
    fn the_first_value_wins_within_and_across_headers() {
        assert_eq!(
            parse(&["tx=commit, tx=rollback"]).tx,
            Some(TxPreference::Commit)
        );
        let p = parse(&[
            "resolution=ignore-duplicates",
            "resolution=merge-duplicates",
        ]);
        assert_eq!(p.resolution, Some(Resolution::IgnoreDuplicates));
        let p = parse(&[
            "count=estimated",
            "count=exact",
            "return=minimal, return=representation",
        ]);
        assert_eq!(p.count, Some(Count::Estimated));
        assert_eq!(p.representation, Some(Representation::Minimal));
        let p = parse(&[
            "timezone=UTC, timezone=Europe/Paris",
            "max-affected=1, max-affected=2",
        ]);
        assert_eq!(p.timezone.as_deref(), Some("UTC"));
        assert_eq!(p.max_affected, Some(1));
        // A repeated preference is not invalid, even with another value.
        assert!(p.invalid.is_empty());
    }

    #[test]
    fn whitespace_around_pieces_is_ignored_but_not_inside() {
        let p = parse(&[
            "count=exact,    tx=commit   ,return=representation , missing=default, handling=strict, anything",
        ]);
        assert_eq!(p.count, Some(Count::Exact));
        assert_eq!(p.tx, Some(TxPreference::Commit));
        assert_eq!(p.representation, Some(Representation::Full));
        assert_eq!(p.missing, Some(Missing::Default));
        assert_eq!(p.handling, Some(Handling::Strict));
        assert_eq!(p.invalid, vec!["anything".to_string()]);
        let p = parse(&["\tcount=exact\t", "count = exact", "Count=Exact"]);
        assert_eq!(p.count, Some(Count::Exact));
        assert_eq!(p.invalid, vec!["count = exact", "Count=Exact"]);
    }

    #[test]
    fn unknown_values_and_empty_pieces_are_invalid() {
        let p = parse(&["count=none, return=everything, , foo, bar=baz", ""]);
        assert_eq!(p.count, None);
        assert_eq!(p.representation, None);
        assert_eq!(
            p.invalid,
            vec!["count=none", "return=everything", "", "foo", "bar=baz", ""]
        );
        // The removed params=single-object is unknown since PostgREST 13.
        assert_eq!(
            parse(&["params=single-object"]).invalid,
            vec!["params=single-object"]
        );
        assert_eq!(parse(&[]), Preferences::default());
    }

    #[test]
    fn timezone_and_max_affected_are_never_invalid() {
        let p = parse(&["timezone=, max-affected=lots"]);
        assert_eq!(p.timezone.as_deref(), Some(""));
        assert_eq!(p.max_affected, None);
        assert!(p.invalid.is_empty());
        let p = parse(&["timezone=Jupiter/Red_Spot"]);
        assert_eq!(p.timezone.as_deref(), Some("Jupiter/Red_Spot"));
        assert!(p.invalid.is_empty());
        // The first max-affected decides, even when it does not read.
        assert_eq!(
            parse(&["max-affected=x, max-affected=3"]).max_affected,
            None
        );
    }

    #[test]
    fn max_affected_reads_as_haskell_reads_an_int64() {
        let read = |v: &str| parse(&[&format!("max-affected={v}")]).max_affected;
        assert_eq!(read("0"), Some(0));
        assert_eq!(read("-5"), Some(-5));
        assert_eq!(read("0x10"), Some(16));
        assert_eq!(read("(7)"), Some(7));
        assert_eq!(read("+5"), None);
        assert_eq!(read("5.0"), None);
        assert_eq!(read("1e3"), None);
        assert_eq!(read(""), None);
        // Int64 wraps around like Haskell's fromInteger.
        assert_eq!(read("9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn strict_handling_rejects_invalid_preferences() {
        let err = parse(&["handling=strict, foo, bar"])
            .check_strict()
            .unwrap_err();
        assert_eq!(
            err,
            ApiError::InvalidPreferences {
                preferences: vec!["foo".into(), "bar".into()]
            }
        );
        assert_eq!(err.status(), 400);
        assert_eq!(err.code(), "PGRST122");
        assert!(
            parse(&["handling=lenient, foo, bar"])
                .check_strict()
                .is_ok()
        );
        assert!(parse(&["foo"]).check_strict().is_ok());
        assert!(
            parse(&["handling=strict, count=exact"])
                .check_strict()
                .is_ok()
        );
        // The first handling decides.
        assert!(
            parse(&["handling=lenient, handling=strict, foo"])
                .check_strict()
                .is_ok()
        );
        assert!(
            parse(&["handling=strict", "handling=lenient", "foo"])
                .check_strict()
                .is_err()
        );
    }

    #[test]
    fn applied_header_follows_postgrests_order() {
        let p = parse(&[
            "max-affected=10, handling=strict, timezone=UTC, tx=commit, count=exact, return=minimal, missing=default, resolution=merge-duplicates",
        ]);
        assert_eq!(
            p.applied_header().as_deref(),
            Some(
                "resolution=merge-duplicates, missing=default, return=minimal, count=exact, tx=commit, handling=strict, timezone=UTC, max-affected=10"
            )
        );
        assert_eq!(Preferences::default().applied_header(), None);
    }

    #[test]
    fn max_affected_is_applied_only_with_strict_handling() {
        let p = parse(&["max-affected=10, return=representation"]);
        assert_eq!(p.applied_header().as_deref(), Some("return=representation"));
        let p = parse(&["max-affected=10, handling=lenient"]);
        assert_eq!(p.applied_header().as_deref(), Some("handling=lenient"));
        let p = parse(&["max-affected=10"]);
        assert_eq!(p.applied_header(), None);
    }

    #[test]
    fn a_read_applies_count_tx_handling_and_timezone() {
        let p = parse(&[
            "return=representation, count=planned, tx=rollback, handling=lenient, resolution=ignore-duplicates, missing=null, timezone=UTC, max-affected=1",
        ]);
        assert_eq!(
            p.applied_to_read(true).applied_header().as_deref(),
            Some("count=planned, tx=rollback, handling=lenient, timezone=UTC")
        );
        assert_eq!(
            p.applied_to_read(false).applied_header().as_deref(),
            Some("count=planned, handling=lenient, timezone=UTC")
        );
        assert_eq!(
            parse(&["return=minimal"])
                .applied_to_read(true)
                .applied_header(),
            None
        );
    }
}
