//! Verified tokens, shared by every component instance and kept across
//! schema reloads: `verify-token` depends only on the JWT configuration and
//! the header value, so its `valid` answers are cached by that value
//! (bounded by `jwt-cache-max-entries`, 0 turns the cache off). Time checks
//! are not cached: `plan` runs them on every request. Its lookups, hits and
//! evictions are counted for `/metrics` (PostgREST's `pgrst_jwt_cache_*`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, Lifecycle, UnitWeighter};

use crate::component::wit;

/// How long after `exp` a token may still pass `plan` (PostgREST's skew).
const ALLOWED_SKEW_SECONDS: i64 = 30;

pub struct TokenCache {
    /// By Authorization header value; `None` when turned off.
    entries: Option<Cache<String, Entry, UnitWeighter, DefaultHashBuilder, Evictions>>,
    stats: Arc<CacheStats>,
    /// Bumped when the JWT configuration may have changed (config reload):
    /// answers verified under an older epoch are not used.
    epoch: AtomicU64,
}

/// A `valid` answer, and the epoch it was verified in.
type Entry = (Arc<wit::Verified>, u64);

/// Counters of the enabled cache.
#[derive(Default)]
pub struct CacheStats {
    pub lookups: AtomicU64,
    pub hits: AtomicU64,
    /// Entries dropped: expired, from an older epoch, or pushed out by the
    /// bound.
    pub evictions: AtomicU64,
}

/// Counts the entries the cache pushes out to stay within its bound.
#[derive(Clone)]
struct Evictions(Arc<CacheStats>);

impl Lifecycle<String, Entry> for Evictions {
    type RequestState = ();

    fn begin_request(&self) {}

    fn on_evict(&self, _: &mut (), _: String, _: Entry) {
        self.0.evictions.fetch_add(1, Ordering::Relaxed);
    }
}

impl TokenCache {
    pub fn new(max_entries: u32) -> TokenCache {
        let stats = Arc::new(CacheStats::default());
        let entries = (max_entries > 0).then(|| {
            let n = max_entries as usize;
            let evictions = Evictions(stats.clone());
            Cache::with(n, n as u64, UnitWeighter, Default::default(), evictions)
        });
        TokenCache {
            entries,
            stats,
            epoch: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> &CacheStats {
        &self.stats
    }

    /// The current epoch. Read it before taking the schema generation that
    /// verifies a token, and pass it to `insert`.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Forgets every answer (the JWT configuration may have changed). Call
    /// it after the new generation serves.
    pub fn forget_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if let Some(entries) = &self.entries {
            entries.clear();
        }
    }

    /// The claims of a token verified earlier in this epoch; an entry past
    /// its expiry (with skew) or from an older epoch is evicted instead.
    pub fn get(&self, authorization: &str, now: i64) -> Option<Arc<wit::Verified>> {
        let entries = self.entries.as_ref()?;
        self.stats.lookups.fetch_add(1, Ordering::Relaxed);
        let (claims, epoch) = entries.get(authorization)?;
        if is_expired(&claims, now) || epoch != self.epoch() {
            if entries.remove(authorization).is_some() {
                self.stats.evictions.fetch_add(1, Ordering::Relaxed);
            }
            return None;
        }
        self.stats.hits.fetch_add(1, Ordering::Relaxed);
        Some(claims)
    }

    /// Keeps a `valid` answer verified in `epoch`, unless the token can no
    /// longer pass or the epoch is over.
    pub fn insert(
        &self,
        authorization: &str,
        verified: wit::Verified,
        now: i64,
        epoch: u64,
    ) -> Arc<wit::Verified> {
        let claims = Arc::new(verified);
        if let Some(entries) = &self.entries
            && !is_expired(&claims, now)
            && epoch == self.epoch()
        {
            entries.insert(authorization.to_string(), (claims.clone(), epoch));
        }
        claims
    }

    pub fn len(&self) -> usize {
        self.entries.as_ref().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn is_expired(claims: &wit::Verified, now: i64) -> bool {
    matches!(claims.exp, wit::TimeClaim::At(exp) if exp < now.saturating_sub(ALLOWED_SKEW_SECONDS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified(claims: &str, expires_at: Option<i64>) -> wit::Verified {
        wit::Verified {
            claims_json: claims.to_string(),
            role: None,
            exp: expires_at.map_or(wit::TimeClaim::Absent, wit::TimeClaim::At),
            nbf: wit::TimeClaim::Absent,
            iat: wit::TimeClaim::Absent,
            aud: wit::AudienceClaim::Absent,
        }
    }

    #[test]
    fn entries_are_bounded_and_expire_with_skew() {
        let cache = TokenCache::new(2);
        cache.insert("Bearer a", verified("{\"a\":1}", Some(100)), 50, 0);
        assert_eq!(
            cache.get("Bearer a", 130).map(|v| v.claims_json.clone()),
            Some("{\"a\":1}".to_string())
        );
        assert!(cache.get("Bearer a", 131).is_none());
        assert!(cache.is_empty(), "the expired entry is evicted");
        // An already expired token is not kept.
        cache.insert("Bearer old", verified("{}", Some(10)), 50, 0);
        assert!(cache.is_empty());
        for i in 0..10 {
            cache.insert(&format!("Bearer {i}"), verified("{}", None), 0, 0);
        }
        assert!(cache.len() <= 2, "{} entries", cache.len());
        let stats = cache.stats();
        let count = |c: &AtomicU64| c.load(Ordering::Relaxed);
        assert_eq!((count(&stats.lookups), count(&stats.hits)), (2, 1));
        // The expired entry, then the ones over the bound.
        assert_eq!(count(&stats.evictions), 1 + 10 - cache.len() as u64);
    }

    #[test]
    fn zero_entries_turns_the_cache_off() {
        let cache = TokenCache::new(0);
        let claims = cache.insert("Bearer a", verified("{}", None), 0, 0);
        assert_eq!(claims.claims_json, "{}");
        assert!(cache.get("Bearer a", 0).is_none());
    }

    #[test]
    fn a_config_reload_forgets_every_answer() {
        let cache = TokenCache::new(10);
        let before = cache.epoch();
        cache.insert("Bearer a", verified("{}", None), 0, before);
        assert!(cache.get("Bearer a", 0).is_some());
        cache.forget_all();
        assert!(cache.get("Bearer a", 0).is_none());
        // An answer verified before the reload, stored after it, is dropped.
        cache.insert("Bearer b", verified("{}", None), 0, before);
        assert!(cache.get("Bearer b", 0).is_none());
        cache.insert("Bearer c", verified("{}", None), 0, cache.epoch());
        assert!(cache.get("Bearer c", 0).is_some());
    }
}
