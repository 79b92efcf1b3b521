//! API keys: a name, scopes, an optional expiry and an optional tie to a company or to
//! programmes. Only the SHA-256 of each secret is stored; the secret itself is shown once, when
//! the key is created.
//!
//! A secret is `pk_` followed by 64 lowercase hex digits: 32 bytes from the operating system's
//! random source. Such a secret has 256 bits of entropy, so nobody can guess it from its hash by
//! trying candidates: a plain SHA-256 is the right hash (as for GitHub's tokens), and a password
//! KDF (argon2, bcrypt), made to slow down guessing of low-entropy passwords, would only slow
//! down every request.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::store::{RecordStore, StoreError};

/// The scopes a key may hold, with what each one allows.
pub const SCOPES: &[(&str, &str)] = &[
    ("search", "the search box"),
    ("match", "the matchers"),
    ("questions", "the similar-questions check and reading questions"),
    ("stats", "trends"),
    ("offers.write", "post, change and delete offers and programmes, forward offers"),
    ("questions.write", "post, change and delete questions"),
    ("export", "download contacts"),
    ("transmissions", "read forwarded offers"),
    ("keys", "manage keys"),
];

/// The prefix of every secret.
pub const SECRET_PREFIX: &str = "pk_";

/// Longest key name.
pub const MAX_NAME_CHARS: usize = 64;

/// A key to create.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewKey {
    /// Its name: 1 to 64 letters, digits, `-`, `_` or `.`; unique among unrevoked keys.
    pub name: String,
    /// What it may do (names from [`SCOPES`]), at least one.
    pub scopes: Vec<String>,
    /// When it stops working, RFC 3339; never when `None`.
    pub expires_at: Option<String>,
    /// The company whose offers it writes, if it is tied to one.
    pub company_id: Option<String>,
    /// The programmes whose forwarded offers it reads, if it is tied to some.
    pub programme_ids: Vec<String>,
}

/// A stored key (without its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    /// Its name.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<String>,
    /// The company it is tied to, if any.
    pub company_id: Option<String>,
    /// The programmes it is tied to, if any.
    pub programme_ids: Vec<String>,
    /// When it was created, RFC 3339.
    pub created_at: String,
    /// When it stops working, RFC 3339.
    pub expires_at: Option<String>,
    /// When it was last used, RFC 3339.
    pub last_used_at: Option<String>,
    /// When it was revoked, RFC 3339.
    pub revoked_at: Option<String>,
    /// SHA-256 of the secret (never serialised).
    #[serde(skip)]
    pub hash: [u8; 32],
}

/// Whether a key works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// Neither revoked nor expired.
    Active,
    /// Revoked (whether or not it has expired too).
    Revoked,
    /// Past its expiry.
    Expired,
}

impl KeyStatus {
    /// `active`, `revoked` or `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Revoked => "revoked",
            KeyStatus::Expired => "expired",
        }
    }
}

impl ApiKey {
    /// Whether it works at `now`: not revoked and not expired. An expiry that no longer parses
    /// counts as expired: a key is refused rather than trusted on a doubt.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.status(now) == KeyStatus::Active
    }

    /// Active, revoked or expired at `now`.
    pub fn status(&self, now: OffsetDateTime) -> KeyStatus {
        if self.revoked_at.is_some() {
            return KeyStatus::Revoked;
        }
        match &self.expires_at {
            None => KeyStatus::Active,
            Some(at) => match OffsetDateTime::parse(at, &Rfc3339) {
                Ok(at) if at > now => KeyStatus::Active,
                _ => KeyStatus::Expired,
            },
        }
    }

    /// Whether it holds `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// SHA-256 of a secret, as stored.
pub fn key_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// The key whose hash is the secret's, if any (revoked and expired keys included: check
/// [`ApiKey::is_active`]). The secret is hashed once and compared with every candidate in
/// constant time, without stopping at the first match and without branching on the result, so
/// the time taken tells nothing about which key, or how much of a hash, matched.
pub fn verify_secret<'a>(candidates: &'a [ApiKey], secret: &str) -> Option<&'a ApiKey> {
    let hash = key_hash(secret);
    let mut found = Choice::from(0);
    let mut index = 0u64;
    for (i, key) in candidates.iter().enumerate() {
        let same = key.hash.ct_eq(&hash);
        index = u64::conditional_select(&index, &(i as u64), same);
        found |= same;
    }
    if bool::from(found) { candidates.get(index as usize) } else { None }
}

/// A new secret: `pk_` and 64 lowercase hex digits of 32 random bytes from the OS.
fn new_secret() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Key(format!("the system's random source failed: {e}")))?;
    Ok(format!("{SECRET_PREFIX}{}", schemas::hex(&bytes)))
}

/// Reads `--expires-in` durations: a positive whole number and a unit, `d` (days), `h`
/// (hours), `m` (minutes) or `y` (365 days): `90d`, `12h`, `30m`, `1y`. At most 100 years.
pub fn parse_duration_days(s: &str) -> Result<time::Duration, String> {
    let t = s.trim();
    let hint = "write a number and a unit: 90d (days), 12h (hours), 30m (minutes) or 1y (365 days)";
    let Some(unit) = t.chars().last() else {
        return Err(format!("empty duration: {hint}"));
    };
    let number = &t[..t.len() - unit.len_utf8()];
    let minutes_per_unit: i64 = match unit.to_ascii_lowercase() {
        'm' => 1,
        'h' => 60,
        'd' => 24 * 60,
        'y' => 365 * 24 * 60,
        _ => return Err(format!("`{t}`: unknown or missing unit; {hint}")),
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{t}`: not a whole number of units; {hint}"));
    }
    const MAX_MINUTES: i64 = 100 * 365 * 24 * 60;
    let n: i64 = number.parse().map_err(|_| format!("`{t}`: too long; at most 100 years"))?;
    if n == 0 {
        return Err(format!("`{t}`: a key that expires at once is of no use; {hint}"));
    }
    match n.checked_mul(minutes_per_unit) {
        Some(minutes) if minutes <= MAX_MINUTES => Ok(time::Duration::minutes(minutes)),
        _ => Err(format!("`{t}`: too long; at most 100 years")),
    }
}

fn known_scopes() -> String {
    SCOPES.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
}

fn validate(new: &NewKey) -> Result<Option<String>, StoreError> {
    let name = &new.name;
    let n = name.chars().count();
    if n == 0 || n > MAX_NAME_CHARS || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Err(StoreError::Key(format!("name `{name}`: a key name is 1 to {MAX_NAME_CHARS} letters, digits, '-', '_' or '.' (no spaces or accents)")));
    }
    if new.scopes.is_empty() {
        return Err(StoreError::Key(format!("scopes: a key needs at least one scope; the scopes are {}", known_scopes())));
    }
    let unknown: Vec<&str> = new.scopes.iter().map(String::as_str).filter(|s| !SCOPES.iter().any(|(k, _)| k == s)).collect();
    if !unknown.is_empty() {
        return Err(StoreError::Key(format!("scopes: unknown scope `{}`; the scopes are {}", unknown.join("`, `"), known_scopes())));
    }
    if new.company_id.as_deref().is_some_and(|c| c.trim().is_empty()) {
        return Err(StoreError::Key("company: an empty company id; leave it out for a key tied to no company".into()));
    }
    if new.programme_ids.iter().any(|p| p.trim().is_empty()) {
        return Err(StoreError::Key("programmes: an empty programme id".into()));
    }
    match &new.expires_at {
        None => Ok(None),
        Some(at) => {
            let parsed = OffsetDateTime::parse(at.trim(), &Rfc3339)
                .map_err(|e| StoreError::Key(format!("expires_at `{at}`: not an RFC 3339 time such as 2027-01-31T00:00:00Z ({e})")))?;
            Ok(Some(parsed.format(&Rfc3339).unwrap_or_else(|_| at.trim().to_string())))
        }
    }
}

fn dedup(list: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for item in list {
        let item = item.trim().to_string();
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn key_from_row(row: &Row<'_>) -> rusqlite::Result<ApiKey> {
    let hash: Vec<u8> = row.get(1)?;
    let scopes: String = row.get(2)?;
    let programmes: String = row.get(4)?;
    Ok(ApiKey {
        name: row.get(0)?,
        // A hash of another length (never written by this crate) matches no secret.
        hash: hash.try_into().unwrap_or([0u8; 32]),
        scopes: json_list(&scopes),
        company_id: row.get(3)?,
        programme_ids: json_list(&programmes),
        created_at: row.get(5)?,
        expires_at: row.get(6)?,
        last_used_at: row.get(7)?,
        revoked_at: row.get(8)?,
    })
}

const KEY_COLUMNS: &str = "name, hash, scopes, company_id, programme_ids, created_at, expires_at, last_used_at, revoked_at";

impl RecordStore {
    /// Creates a key; returns it and its secret, which is stored nowhere (only its hash is):
    /// show it once. Refuses a bad name, no scope or an unknown one (the message lists the
    /// known ones), a bad expiry, and a name an unrevoked key already has.
    pub fn create_key(&mut self, new: &NewKey) -> Result<(ApiKey, String), StoreError> {
        let expires_at = validate(new)?;
        let secret = new_secret()?;
        let key = ApiKey {
            name: new.name.clone(),
            scopes: dedup(&new.scopes),
            company_id: new.company_id.as_ref().map(|c| c.trim().to_string()),
            programme_ids: dedup(&new.programme_ids),
            created_at: schemas::now_rfc3339(),
            expires_at,
            last_used_at: None,
            revoked_at: None,
            hash: key_hash(&secret),
        };
        self.with_transaction(|tx| {
            let taken: Option<i64> =
                tx.query_row("SELECT id FROM api_keys WHERE name = ?1 AND revoked_at IS NULL", [&key.name], |row| row.get(0)).optional()?;
            if taken.is_some() {
                return Err(StoreError::Key(format!("name `{}`: an unrevoked key already has this name; choose another or revoke that one first", key.name)));
            }
            tx.execute(
                "INSERT INTO api_keys (name, hash, scopes, company_id, programme_ids, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    key.name,
                    key.hash.as_slice(),
                    serde_json::to_string(&key.scopes).unwrap_or_else(|_| "[]".into()),
                    key.company_id,
                    serde_json::to_string(&key.programme_ids).unwrap_or_else(|_| "[]".into()),
                    key.created_at,
                    key.expires_at,
                ],
            )?;
            Ok(((), true))
        })?;
        Ok((key, secret))
    }

    /// Every key, revoked and expired ones included, by name (then oldest first).
    pub fn keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let mut stmt = self.conn().prepare(&format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY name, id"))?;
        let rows = stmt.query_map([], key_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Revokes the unrevoked key named `name`; `false` when there is none.
    pub fn revoke_key(&mut self, name: &str) -> Result<bool, StoreError> {
        let n = self.conn().execute("UPDATE api_keys SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL", params![name, schemas::now_rfc3339()])?;
        Ok(n > 0)
    }

    /// Records that the unrevoked key named `name` was used at `at` (RFC 3339).
    pub fn touch_key(&mut self, name: &str, at: &str) -> Result<(), StoreError> {
        self.conn().execute("UPDATE api_keys SET last_used_at = ?2 WHERE name = ?1 AND revoked_at IS NULL", params![name, at])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_key(name: &str, scopes: &[&str]) -> NewKey {
        NewKey { name: name.into(), scopes: scopes.iter().map(|s| s.to_string()).collect(), ..Default::default() }
    }

    fn store() -> (tempfile::TempDir, RecordStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = RecordStore::open_dir(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn a_created_key_is_stored_hashed_and_found_by_its_secret() {
        let (_dir, mut store) = store();
        let (key, secret) = store.create_key(&new_key("marketing", &["export", "search", "export"])).unwrap();
        assert!(secret.starts_with("pk_") && secret.len() == 3 + 64, "{secret}");
        assert!(secret[3..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{secret}");
        assert_eq!(key.scopes, vec!["export", "search"], "duplicates dropped");
        assert_eq!(key.hash, key_hash(&secret));
        let (other, other_secret) = store.create_key(&new_key("recruteur-1", &["offers.write"])).unwrap();
        assert_ne!(secret, other_secret);

        let keys = store.keys().unwrap();
        assert_eq!(keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), vec!["marketing", "recruteur-1"]);
        assert_eq!(verify_secret(&keys, &secret).map(|k| k.name.as_str()), Some("marketing"));
        assert_eq!(verify_secret(&keys, &other_secret).map(|k| k.name.as_str()), Some("recruteur-1"));
        assert!(verify_secret(&keys, "pk_0000000000000000000000000000000000000000000000000000000000000000").is_none());
        assert!(verify_secret(&keys, &secret[..secret.len() - 1]).is_none());
        assert!(verify_secret(&[], &secret).is_none());
        assert!(keys[0].has_scope("export") && !keys[0].has_scope("keys"));
        assert!(keys[0].is_active(OffsetDateTime::now_utc()));
        assert_eq!(other.created_at, keys[1].created_at);

        // The secret is stored nowhere, and the hash is not serialised.
        let json = serde_json::to_string(&keys[0]).unwrap();
        assert!(!json.contains("hash") && !json.contains(&secret), "{json}");
        let stored: i64 = store.conn().query_row("SELECT COUNT(*) FROM api_keys WHERE hash = ?1", [secret.as_bytes()], |r| r.get(0)).unwrap();
        assert_eq!(stored, 0);
    }

    #[test]
    fn revoked_and_expired_keys_are_not_active() {
        let (_dir, mut store) = store();
        let now = OffsetDateTime::now_utc();
        store.create_key(&new_key("ancienne", &["search"])).unwrap();
        assert!(store.revoke_key("ancienne").unwrap());
        assert!(!store.revoke_key("ancienne").unwrap(), "already revoked");
        assert!(!store.revoke_key("inconnue").unwrap());
        let mut expired = new_key("expiree", &["search"]);
        expired.expires_at = Some("2020-01-01T00:00:00Z".into());
        store.create_key(&expired).unwrap();
        let mut later = new_key("future", &["search"]);
        later.expires_at = Some((now + time::Duration::days(90)).format(&Rfc3339).unwrap());
        store.create_key(&later).unwrap();

        let keys = store.keys().unwrap();
        let status: Vec<(&str, KeyStatus)> = keys.iter().map(|k| (k.name.as_str(), k.status(now))).collect();
        assert_eq!(status, vec![("ancienne", KeyStatus::Revoked), ("expiree", KeyStatus::Expired), ("future", KeyStatus::Active)]);
        assert!(!keys[0].is_active(now) && !keys[1].is_active(now) && keys[2].is_active(now));
        assert!(!keys[2].is_active(now + time::Duration::days(91)), "expires in 90 days");

        // A revoked key's name can be given again; an unrevoked one's cannot.
        store.create_key(&new_key("ancienne", &["stats"])).unwrap();
        let err = store.create_key(&new_key("future", &["stats"])).unwrap_err();
        assert!(err.to_string().contains("already has this name"), "{err}");
        assert_eq!(store.keys().unwrap().len(), 4);
    }

    #[test]
    fn bad_names_scopes_and_expiries_are_refused_with_the_reason() {
        let (_dir, mut store) = store();
        for name in ["", "deux mots", "clé", &"x".repeat(65)] {
            let err = store.create_key(&new_key(name, &["search"])).unwrap_err();
            assert!(matches!(err, StoreError::Key(_)) && err.to_string().contains("1 to 64"), "{name}: {err}");
        }
        assert!(store.create_key(&new_key(&"x".repeat(64), &["search"])).is_ok());
        let err = store.create_key(&new_key("a", &[])).unwrap_err();
        assert!(err.to_string().contains("at least one scope"), "{err}");
        let err = store.create_key(&new_key("a", &["search", "admin"])).unwrap_err();
        assert!(err.to_string().contains("unknown scope `admin`") && err.to_string().contains("offers.write"), "{err}");
        let mut bad = new_key("a", &["search"]);
        bad.expires_at = Some("demain".into());
        assert!(store.create_key(&bad).unwrap_err().to_string().contains("RFC 3339"));
        assert_eq!(store.keys().unwrap().len(), 1);
    }

    #[test]
    fn last_use_is_recorded() {
        let (_dir, mut store) = store();
        let mut new = new_key("ecole-1", &["transmissions"]);
        new.programme_ids = vec!["programme:1".into(), "programme:2".into()];
        new.company_id = Some("company:9".into());
        store.create_key(&new).unwrap();
        store.touch_key("ecole-1", "2026-11-05T10:00:00Z").unwrap();
        let key = store.keys().unwrap().remove(0);
        assert_eq!(key.last_used_at.as_deref(), Some("2026-11-05T10:00:00Z"));
        assert_eq!(key.programme_ids, vec!["programme:1", "programme:2"]);
        assert_eq!(key.company_id.as_deref(), Some("company:9"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_days("90d").unwrap(), time::Duration::days(90));
        assert_eq!(parse_duration_days("12h").unwrap(), time::Duration::hours(12));
        assert_eq!(parse_duration_days("30m").unwrap(), time::Duration::minutes(30));
        assert_eq!(parse_duration_days(" 1y ").unwrap(), time::Duration::days(365));
        for bad in ["", "90", "d", "0d", "-3d", "1.5d", "3w", "101y", "99999999999999999999d", "9é"] {
            assert!(parse_duration_days(bad).is_err(), "{bad}");
        }
    }
}
