//! JSON Schemas of the record types, as written to `schemas/json/`.

use schemars::{JsonSchema, schema_for};

use crate::record::*;

/// (file name, pretty JSON) of every schema the project publishes.
pub fn all() -> Vec<(&'static str, String)> {
    fn render<T: JsonSchema>() -> String {
        let schema = schema_for!(T);
        let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serialises");
        text.push('\n');
        text
    }
    vec![
        ("record.schema.json", render::<Record>()),
        ("school.schema.json", render::<School>()),
        ("programme.schema.json", render::<Programme>()),
        ("offer.schema.json", render::<Offer>()),
        ("company.schema.json", render::<Company>()),
        ("question.schema.json", render::<Question>()),
        ("contact.schema.json", render::<Contact>()),
    ]
}

/// The JSON fields of a record of `kind` (without `kind`), as its schema lists them: what an
/// API write accepts, so a misspelt field is refused instead of dropped.
pub fn field_names(kind: RecordKind) -> Vec<String> {
    fn names<T: JsonSchema>() -> Vec<String> {
        let schema = serde_json::to_value(schema_for!(T)).unwrap_or_default();
        schema.get("properties").and_then(|p| p.as_object()).map(|p| p.keys().cloned().collect()).unwrap_or_default()
    }
    match kind {
        RecordKind::School => names::<School>(),
        RecordKind::Programme => names::<Programme>(),
        RecordKind::Offer => names::<Offer>(),
        RecordKind::Company => names::<Company>(),
        RecordKind::Question => names::<Question>(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// The committed schemas must match the types. Regenerate with
    /// `UPDATE_SCHEMAS=1 cargo test -p passerelle-schemas`.
    #[test]
    fn committed_schemas_are_current() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("json");
        let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
        let mut stale = Vec::new();
        for (name, text) in super::all() {
            let path = dir.join(name);
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(name);
            }
        }
        assert!(super::field_names(crate::RecordKind::Offer).iter().any(|f| f == "valid_through"));
        assert!(!super::field_names(crate::RecordKind::Question).iter().any(|f| f == "kind"));
        assert!(stale.is_empty(), "schemas/json is stale for {stale:?}: run `UPDATE_SCHEMAS=1 cargo test -p passerelle-schemas` and commit");
    }
}
