//! The OpenAPI schemas of [`ApiKey`] and [`KeyStatus`] (feature `openapi`), described by mirrors
//! of their serialised form: a test compares each mirror with what the type serialises, so a
//! field added to one and not the other fails it.

use std::borrow::Cow;

use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::{ApiKey, KeyStatus};

/// A stored key, without its secret.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ApiKeyFields {
    /// Its name.
    name: String,
    /// What it may do (`search`, `offers.write`, `export`...).
    scopes: Vec<String>,
    /// The company whose offers alone it writes, if it is bound to one.
    company_id: Option<String>,
    /// The programmes whose transmissions alone it reads, if it is bound to some.
    programme_ids: Vec<String>,
    /// When it was created, RFC 3339.
    created_at: String,
    /// When it stops working, RFC 3339; never when null.
    expires_at: Option<String>,
    /// When it was last used, RFC 3339 (written at most once a minute).
    last_used_at: Option<String>,
    /// When it was revoked, RFC 3339.
    revoked_at: Option<String>,
}

/// Whether a key works.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum KeyStatusValues {
    /// Neither revoked nor expired.
    Active,
    /// Revoked (whether or not it has expired too).
    Revoked,
    /// Past its expiry.
    Expired,
}

impl PartialSchema for ApiKey {
    fn schema() -> RefOr<Schema> {
        ApiKeyFields::schema()
    }
}

impl ToSchema for ApiKey {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ApiKey")
    }
}

impl PartialSchema for KeyStatus {
    fn schema() -> RefOr<Schema> {
        KeyStatusValues::schema()
    }
}

impl ToSchema for KeyStatus {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("KeyStatus")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schemas_name_what_the_types_serialise() {
        let key = ApiKey {
            name: "k".into(),
            scopes: vec!["search".into()],
            company_id: Some("company-1".into()),
            programme_ids: vec!["programme-1".into()],
            created_at: "2026-01-01T00:00:00Z".into(),
            expires_at: Some("2027-01-01T00:00:00Z".into()),
            last_used_at: Some("2026-01-02T00:00:00Z".into()),
            revoked_at: Some("2026-01-03T00:00:00Z".into()),
            hash: [0; 32],
        };
        let serialised: Vec<String> = serde_json::to_value(&key).unwrap().as_object().unwrap().keys().cloned().collect();
        let schema = serde_json::to_value(ApiKey::schema()).unwrap();
        let mut documented: Vec<String> = schema["properties"].as_object().unwrap().keys().cloned().collect();
        documented.sort();
        assert_eq!(documented, serialised, "ApiKey serialises other fields than its schema documents: update openapi.rs");

        let schema = serde_json::to_value(KeyStatus::schema()).unwrap();
        let values: Vec<serde_json::Value> =
            [KeyStatus::Active, KeyStatus::Revoked, KeyStatus::Expired].iter().map(|s| serde_json::to_value(s).unwrap()).collect();
        assert_eq!(schema["enum"], serde_json::Value::Array(values), "{schema}");
    }
}
