//! `POST /api/keys`, `GET /api/keys`, `DELETE /api/keys/{name}`: managing keys over HTTP, with
//! the master key or a key holding the scope `keys`. A key other than the master key grants only
//! scopes it holds itself, and a bound key only its own binding, so no key can make a stronger one.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use store::{ApiKey, KeyStatus, NewKey};

use crate::auth::Caller;
use crate::error::from_json;
use crate::routes::blocking;
use crate::{ApiError, AppState};

/// A key to make.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// Its name: 1 to 64 letters, digits, `-`, `_` or `.`; unique among the keys not revoked.
    name: String,
    /// What it may do: `search`, `match`, `questions`, `stats`, `offers.write`, `questions.write`,
    /// `transmissions`, `export`, `keys`. A key (other than the master key) grants only scopes it
    /// holds itself.
    scopes: Vec<String>,
    /// How long it works (`90d`, `12h`, `30m`, `1y`); forever when absent.
    #[serde(default)]
    expires_in: Option<String>,
    /// The company whose offers alone it writes (its record id).
    #[serde(default)]
    company: Option<String>,
    /// The programmes whose transmissions alone it reads (their record ids).
    #[serde(default)]
    programmes: Vec<String>,
}

/// A key just made: the stored key, and its secret, shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    /// The key as stored.
    #[serde(flatten)]
    pub stored: ApiKey,
    /// The secret to send as `Authorization: Bearer ...`; only its hash is kept.
    pub key: String,
    /// A reminder that the secret is shown once.
    pub note: &'static str,
}

/// A key as the list shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListedKey {
    /// The key as stored, without its secret.
    #[serde(flatten)]
    pub stored: ApiKey,
    /// Whether it works now.
    pub status: KeyStatus,
}

/// The keys.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyList {
    /// Every key, revoked and expired ones included.
    pub keys: Vec<ListedKey>,
}

/// The answer of a revocation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Revoked {
    /// The key's name.
    pub name: String,
    /// Always true (a key that is not active is a 404).
    pub revoked: bool,
}

/// Makes an API key
///
/// With the master key, or a key holding the scope `keys`: such a key grants only scopes it
/// holds itself, and a bound key only its own binding, so no key can make a stronger one. The
/// secret is in this answer only.
#[utoipa::path(
    post,
    path = "/api/keys",
    operation_id = "create_key",
    tag = "keys",
    request_body(content = CreateBody, description = "The key's name, scopes, and optionally its expiry and binding."),
    responses(
        (status = 201, description = "Made; `key` is the secret, shown once.", body = CreatedKey),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 403, response = crate::openapi::Forbidden),
    )
)]
pub async fn create(State(state): State<Arc<AppState>>, Extension(caller): Extension<Caller>, body: Bytes) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let parsed: CreateBody =
        from_json(&body, r#"{"name": "recruteur-ardennes", "scopes": ["offers.write"], "expires_in": "90d", "company": "company-...", "programmes": []}"#)?;
    if let Caller::Key(own) = &caller {
        if let Some(scope) = parsed.scopes.iter().find(|s| !own.has_scope(s)) {
            return Err(ApiError::forbidden(format!("the key `{}` cannot grant the scope `{scope}`, which it does not hold", own.name)));
        }
        if let Some(company) = &own.company_id
            && parsed.company.as_ref() != Some(company)
        {
            return Err(ApiError::forbidden(format!("the key `{}` is bound to the company {company}: the keys it makes must be too", own.name)));
        }
        if !own.programme_ids.is_empty() && (parsed.programmes.is_empty() || parsed.programmes.iter().any(|p| !own.programme_ids.contains(p))) {
            return Err(ApiError::forbidden(format!("the key `{}` is bound to programmes: the keys it makes must be bound to some of them", own.name)));
        }
    }
    let expires_at = match &parsed.expires_in {
        None => None,
        Some(text) => {
            let span = store::parse_duration_days(text).map_err(|why| ApiError::invalid("expires_in", why))?;
            let at = time::OffsetDateTime::now_utc() + span;
            Some(at.format(&time::format_description::well_known::Rfc3339).map_err(|e| ApiError::invalid("expires_in", e.to_string()))?)
        }
    };
    let new = NewKey { name: parsed.name, scopes: parsed.scopes, expires_at, company_id: parsed.company, programme_ids: parsed.programmes };
    let s = state.clone();
    let (key, secret) = blocking(move || s.with_reads(|store| store.create_key(&new))).await?;
    tracing::info!(key = %key.name, by = %caller.name(), "API key created");
    Ok((StatusCode::CREATED, Json(CreatedKey { stored: key, key: secret, note: "the key is shown once: store it now; only its hash is kept" })))
}

/// Lists the API keys
///
/// Every key without its secret, with its scopes, its binding and whether it works now.
#[utoipa::path(
    get,
    path = "/api/keys",
    operation_id = "list_keys",
    tag = "keys",
    responses((status = 200, description = "The keys.", body = KeyList))
)]
pub async fn list(State(state): State<Arc<AppState>>) -> Result<Json<KeyList>, ApiError> {
    let s = state.clone();
    let keys = blocking(move || s.with_reads(|store| store.keys())).await?;
    let now = time::OffsetDateTime::now_utc();
    Ok(Json(KeyList { keys: keys.into_iter().map(|k| ListedKey { status: k.status(now), stored: k }).collect() }))
}

/// Revokes an API key
///
/// The key stops working at once (it stays in the list, revoked).
#[utoipa::path(
    delete,
    path = "/api/keys/{name}",
    operation_id = "revoke_key",
    tag = "keys",
    params(("name" = String, Path, description = "The key's name.")),
    responses(
        (status = 200, description = "Revoked.", body = Revoked),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn revoke(State(state): State<Arc<AppState>>, Extension(caller): Extension<Caller>, Path(name): Path<String>) -> Result<Json<Revoked>, ApiError> {
    let s = state.clone();
    let n = name.clone();
    let revoked = blocking(move || s.with_reads(|store| store.revoke_key(&n))).await?;
    if !revoked {
        return Err(ApiError::not_found(format!("no active key named `{name}`")));
    }
    tracing::info!(key = %name, by = %caller.name(), "API key revoked");
    Ok(Json(Revoked { name, revoked: true }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_documented_scopes_are_the_store_s() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(super::CreateBody::schema()).unwrap();
        let described = schema["properties"]["scopes"]["description"].as_str().unwrap().to_string();
        for (scope, _) in store::SCOPES {
            assert!(described.contains(&format!("`{scope}`")), "the scope {scope} is missing from CreateBody.scopes: {described}");
        }
    }
}
