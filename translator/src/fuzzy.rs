//! "Perhaps you meant" matching, as PostgREST 16 ranks candidates: the fuzzy
//! set of the Haskell `fuzzyset` 0.2 package. A name matching a candidate
//! case-insensitively is the only match; otherwise, for trigrams and then
//! bigrams, the candidates sharing a gram with the name are ranked by cosine
//! similarity, the best 50 scored again by normalized Levenshtein
//! similarity, and those scoring at least the minimum kept, best first.
//!
//! Written here rather than taken from a crate because a hint must name
//! what PostgREST names, and that depends on each of these steps (the gram
//! pre-selection above all, which drops names a plain Levenshtein ranking
//! would suggest).

use std::collections::HashMap;

/// How similar a table or function name must be to be revealed in a hint.
pub(crate) const NAME_HINT: f64 = 0.75;
/// The package's default, which PostgREST keeps for argument lists and
/// relationships.
pub(crate) const DEFAULT: f64 = 0.33;

/// Candidates ranked by the last gram size pre-selection runs at.
const LEVENSHTEIN_POOL: usize = 50;

/// The candidates matching `name` with a score of at least `min`, best
/// first; on a tie, in the order given. Candidates equal but for case count
/// once (the last one given, as the package keeps it).
pub(crate) fn matches<'a>(
    candidates: impl IntoIterator<Item = &'a str>,
    name: &str,
    min: f64,
) -> Vec<(f64, &'a str)> {
    let mut entries: Vec<(String, &'a str)> = Vec::new();
    for candidate in candidates {
        let key = candidate.to_lowercase();
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = candidate,
            None => entries.push((key, candidate)),
        }
    }
    let key = name.to_lowercase();
    if let Some((_, exact)) = entries.iter().find(|(k, _)| *k == key) {
        return vec![(1.0, exact)];
    }
    for size in [3, 2] {
        let wanted = grams(&key, size);
        let wanted_norm = norm(&wanted);
        let mut ranked: Vec<(f64, usize)> = entries
            .iter()
            .enumerate()
            .filter_map(|(i, (k, _))| {
                let have = grams(k, size);
                let dot: usize = wanted
                    .iter()
                    .filter_map(|(g, n)| have.get(g).map(|m| n * m))
                    .sum();
                (dot > 0).then(|| (dot as f64 / (wanted_norm * norm(&have)), i))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.truncate(LEVENSHTEIN_POOL);
        let mut scored: Vec<(f64, &'a str)> = ranked
            .into_iter()
            .map(|(_, i)| {
                let (k, candidate) = &entries[i];
                (strsim::normalized_levenshtein(&key, k), *candidate)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored.retain(|(score, _)| *score >= min);
        if !scored.is_empty() {
            return scored;
        }
    }
    Vec::new()
}

/// The best match of `name` scoring at least `min`.
pub(crate) fn best<'a>(
    candidates: impl IntoIterator<Item = &'a str>,
    name: &str,
    min: f64,
) -> Option<&'a str> {
    matches(candidates, name, min)
        .first()
        .map(|(_, candidate)| *candidate)
}

/// The `size`-grams of `text` and how often each occurs: lower-cased,
/// letters, digits, spaces and commas kept, enclosed in hyphens.
fn grams(text: &str, size: usize) -> HashMap<Vec<char>, usize> {
    let chars: Vec<char> = std::iter::once('-')
        .chain(
            text.to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || c.is_whitespace() || *c == ','),
        )
        .chain(std::iter::once('-'))
        .collect();
    let mut counts = HashMap::new();
    for gram in chars.windows(size) {
        *counts.entry(gram.to_vec()).or_insert(0) += 1;
    }
    counts
}

fn norm(vector: &HashMap<Vec<char>, usize>) -> f64 {
    (vector.values().map(|n| n * n).sum::<usize>() as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_insensitive_equal_is_the_only_match() {
        assert_eq!(
            matches(["Films", "film"], "FILMS", DEFAULT),
            vec![(1.0, "Films")]
        );
    }

    #[test]
    fn names_sharing_no_gram_are_never_suggested() {
        // "ab" and "ba" share no bigram or trigram of "-ab-" and "-ba-".
        assert_eq!(best(["ba"], "ab", 0.0), None);
        assert_eq!(best(["abc"], "abd", DEFAULT), Some("abc"));
    }

    #[test]
    fn function_and_parameter_hints() {
        let functions = ["test", "another"];
        assert_eq!(best(functions, "testt", NAME_HINT), Some("test"));
        assert_eq!(best(functions, "other", NAME_HINT), None);
        assert_eq!(best(functions, "noclosealternative", NAME_HINT), None);
        let lists = ["(name, param, val)", "(attr, id)"];
        for (call, hint) in [
            ("(nam, pqaram, vall)", Some("(name, param, val)")),
            ("(param, val)", Some("(name, param, val)")),
            ("(attrs, id)", Some("(attr, id)")),
            ("(id)", Some("(attr, id)")),
            ("(noclosealternative)", None),
        ] {
            assert_eq!(best(lists, call, DEFAULT), hint, "{call}");
        }
    }

    #[test]
    fn relationship_hints() {
        assert_eq!(best(["films"], "film", DEFAULT), Some("films"));
        assert_eq!(best(["films"], "noclosealternative", DEFAULT), None);
        let children = ["directors", "roles", "actors"];
        assert_eq!(best(children, "role", DEFAULT), Some("roles"));
        assert_eq!(matches(children, "actors", DEFAULT), vec![(1.0, "actors")]);
    }

    #[test]
    fn the_name_threshold_keeps_distant_names_secret() {
        assert_eq!(best(["projects"], "project", NAME_HINT), Some("projects"));
        assert_eq!(best(["projects"], "prjct", NAME_HINT), None);
    }
}
