//! Who is asking, and may they: API keys, scopes, and the rate limits.
//!
//! A request carries `Authorization: Bearer KEY` or nothing. The key is the master key (from
//! the environment, every scope) or one created by `passerelle keys create` / `POST /api/keys`
//! (its SHA-256 is in the records store, compared in constant time with every stored hash).
//! Each route needs one scope ([`required_scope`]); the public scopes (by default `search`,
//! `match`, `questions`, `stats`: the website) need no key. Without a key where one is needed:
//! 401; with a key that lacks the scope: 403. A key that is unknown, revoked or expired is a 401
//! even on a public route, so a client learns at once that its key is wrong.
//!
//! Limits (governor, one quota per minute each): per client address, per key, and failed key
//! attempts per client address (past it, a wrong key gets 429 instead of 401). A 429 says when to
//! come back in `Retry-After`.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use store::ApiKey;
use subtle::ConstantTimeEq;

use crate::config::Limits;
use crate::{ApiError, AppState};

/// Who made a request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No key.
    Anonymous,
    /// The master key: every scope, bound to nothing.
    Master,
    /// A stored key.
    Key(Box<ApiKey>),
}

impl Caller {
    /// The name written in logs, transmissions and the export log.
    pub fn name(&self) -> String {
        match self {
            Caller::Anonymous => "anonymous".into(),
            Caller::Master => "master key".into(),
            Caller::Key(k) => k.name.clone(),
        }
    }

    /// Whether the caller's key holds `scope` (public scopes aside).
    pub fn has_scope(&self, scope: &str) -> bool {
        match self {
            Caller::Anonymous => false,
            Caller::Master => true,
            Caller::Key(k) => k.has_scope(scope),
        }
    }

    /// The company whose offers alone this key may write, if it is bound to one.
    pub fn company(&self) -> Option<&str> {
        match self {
            Caller::Key(k) => k.company_id.as_deref(),
            _ => None,
        }
    }

    /// The programmes whose transmissions alone this key may read, if it is bound to some.
    pub fn programmes(&self) -> Option<&[String]> {
        match self {
            Caller::Key(k) if !k.programme_ids.is_empty() => Some(&k.programme_ids),
            _ => None,
        }
    }
}

/// The scope a route needs (`route` is the route's template, as `/api/offers/{id}`); `None` for
/// the pages, the probes and the metrics.
pub fn required_scope(method: &Method, route: &str) -> Option<&'static str> {
    Some(match route {
        "/api/search" | "/api/places" => "search",
        "/api/stats" | "/api/stats/gaps" => "stats",
        "/api/match/offer-to-programmes" | "/api/match/student-to-offers" | "/api/match/student-to-programmes" => "match",
        "/api/questions/similar" => "questions",
        "/api/offers/{id}" | "/api/programmes/{id}" if method == Method::GET => "search",
        "/api/questions/{id}" if method == Method::GET => "questions",
        "/api/offers" | "/api/offers/{id}" | "/api/offers/{id}/forward" | "/api/programmes" | "/api/programmes/{id}" => "offers.write",
        "/api/questions" | "/api/questions/{id}" => "questions.write",
        "/api/transmissions" => "transmissions",
        "/api/export/contacts.csv"
        | "/api/export/contacts.jsonl"
        | "/api/export/contacts/count"
        | "/api/contacts/suppressions"
        | "/api/contacts/suppressions/{value}"
        | "/api/exports" => "export",
        "/api/keys" | "/api/keys/{name}" => "keys",
        _ => return None,
    })
}

/// The keys, the public scopes and the limiters of a server.
pub struct Guard {
    public: BTreeSet<String>,
    master: Option<[u8; 32]>,
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    per_key: DefaultKeyedRateLimiter<String>,
    failed: DefaultKeyedRateLimiter<IpAddr>,
    touched: Mutex<HashMap<String, Instant>>,
}

/// How often a key's "last used" is written.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

fn per_minute(n: NonZeroU32) -> Quota {
    Quota::per_minute(n)
}

impl Guard {
    /// A guard with these public scopes, this master key (if any) and these limits.
    pub fn new(public: impl IntoIterator<Item = String>, master_key: Option<&str>, limits: Limits) -> Guard {
        Guard {
            public: public.into_iter().collect(),
            master: master_key.map(str::trim).filter(|k| !k.is_empty()).map(store::key_hash),
            per_client: RateLimiter::keyed(per_minute(limits.per_client_per_minute)),
            per_key: RateLimiter::keyed(per_minute(limits.per_key_per_minute)),
            failed: RateLimiter::keyed(per_minute(limits.failed_auth_per_minute)),
            touched: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `scope` needs no key.
    pub fn is_public(&self, scope: &str) -> bool {
        self.public.contains(scope)
    }

    /// Whether a master key is configured.
    pub fn has_master(&self) -> bool {
        self.master.is_some()
    }

    /// Forgets the limiters' idle entries (called now and then, so memory stays flat).
    pub fn forget_idle(&self) {
        self.per_client.retain_recent();
        self.per_key.retain_recent();
        self.failed.retain_recent();
    }
}

/// 429 `rate_limited` with `Retry-After` in whole seconds (at least 1).
fn too_many(wait: Duration, message: String) -> ApiError {
    ApiError::rate_limited(wait.as_secs_f64().ceil().max(1.0) as u64, message)
}

fn client_address(request: &Request) -> IpAddr {
    request.extensions().get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// The middleware of every `/api` route: limits, key, scope; the [`Caller`] goes into the
/// request's extensions for the routes that need to know who asks.
pub async fn authorize(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    match check(&state, &mut request).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

async fn check(state: &Arc<AppState>, request: &mut Request) -> Result<Caller, ApiError> {
    let guard = &state.guard;
    let client = client_address(request);
    let clock = DefaultClock::default();
    if let Err(not_until) = guard.per_client.check_key(&client) {
        state.metrics.rate_limited("client");
        return Err(too_many(not_until.wait_time_from(clock.now()), format!("too many requests from {client}; slow down")));
    }
    let header = request.headers().get(header::AUTHORIZATION).map(|v| v.to_str().map(str::to_string));
    let caller = match header {
        None => Caller::Anonymous,
        Some(value) => {
            let secret = value.ok().and_then(|v| v.strip_prefix("Bearer ").map(|s| s.trim().to_string()));
            let found = match secret {
                None => Err("the Authorization header must be `Bearer KEY`".to_string()),
                Some(secret) => identify(state, &secret).await,
            };
            match found {
                Ok(caller) => caller,
                Err(why) => {
                    if let Err(not_until) = guard.failed.check_key(&client) {
                        state.metrics.rate_limited("failed_auth");
                        return Err(too_many(not_until.wait_time_from(clock.now()), "too many failed key attempts from this address; wait".into()));
                    }
                    return Err(ApiError::unauthorized(why));
                }
            }
        }
    };
    if let Caller::Key(key) = &caller {
        if let Err(not_until) = guard.per_key.check_key(&key.name) {
            state.metrics.rate_limited("key");
            return Err(too_many(not_until.wait_time_from(clock.now()), format!("too many requests with the key `{}`; slow down", key.name)));
        }
        touch(state, &key.name);
    }
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_default();
    let Some(scope) = required_scope(request.method(), &route) else { return Ok(caller) };
    if guard.is_public(scope) || caller.has_scope(scope) {
        return Ok(caller);
    }
    Err(match &caller {
        Caller::Anonymous => {
            ApiError::unauthorized(format!("{} {route} needs an API key with the scope `{scope}`: send `Authorization: Bearer KEY`", request.method()))
        }
        Caller::Key(key) => ApiError::forbidden(format!("the key `{}` does not have the scope `{scope}` (it has: {})", key.name, key.scopes.join(", "))),
        Caller::Master => ApiError::internal("the master key lacks a scope"),
    })
}

/// The caller a secret names, or why it names none.
async fn identify(state: &Arc<AppState>, secret: &str) -> Result<Caller, String> {
    if let Some(master) = &state.guard.master
        && bool::from(store::key_hash(secret).ct_eq(master))
    {
        return Ok(Caller::Master);
    }
    let s = state.clone();
    let keys = tokio::task::spawn_blocking(move || s.with_reads(|store| store.keys()))
        .await
        .map_err(|e| format!("the keys could not be read: {e}"))?
        .map_err(|e| format!("the keys could not be read: {}", e.message))?;
    let now = time::OffsetDateTime::now_utc();
    match store::verify_secret(&keys, secret) {
        None => Err("this API key is not valid".into()),
        Some(key) if key.is_active(now) => Ok(Caller::Key(Box::new(key.clone()))),
        Some(key) => Err(format!("the API key `{}` is {}", key.name, key.status(now).as_str())),
    }
}

/// Writes a key's "last used", at most once a minute per key, off the request's path.
fn touch(state: &Arc<AppState>, name: &str) {
    {
        let mut touched = state.guard.touched.lock().unwrap_or_else(|e| e.into_inner());
        if touched.get(name).is_some_and(|at| at.elapsed() < TOUCH_EVERY) {
            return;
        }
        touched.insert(name.to_string(), Instant::now());
    }
    let (s, name) = (state.clone(), name.to_string());
    tokio::task::spawn_blocking(move || {
        if let Err(e) = s.with_reads(|store| store.touch_key(&name, &schemas::now_rfc3339())) {
            tracing::warn!(key = %name, "could not record the key's last use: {}", e.message);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_route_needs_a_scope_and_reads_differ_from_writes() {
        assert_eq!(required_scope(&Method::GET, "/api/offers/{id}"), Some("search"));
        assert_eq!(required_scope(&Method::PUT, "/api/offers/{id}"), Some("offers.write"));
        assert_eq!(required_scope(&Method::GET, "/api/questions/{id}"), Some("questions"));
        assert_eq!(required_scope(&Method::DELETE, "/api/questions/{id}"), Some("questions.write"));
        assert_eq!(required_scope(&Method::GET, "/api/export/contacts.csv"), Some("export"));
        assert_eq!(required_scope(&Method::GET, "/healthz"), None);
        for (scope, _) in store::SCOPES {
            let used = [Method::GET, Method::POST, Method::PUT, Method::DELETE].iter().any(|m| {
                [
                    "/api/search",
                    "/api/stats",
                    "/api/match/student-to-offers",
                    "/api/questions/similar",
                    "/api/offers",
                    "/api/offers/{id}",
                    "/api/questions",
                    "/api/transmissions",
                    "/api/export/contacts.csv",
                    "/api/keys",
                ]
                .iter()
                .any(|r| required_scope(m, r) == Some(*scope))
            });
            assert!(used, "no route needs the scope {scope}");
        }
    }
}
