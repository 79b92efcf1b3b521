//! Live writes: `POST /api/offers` (one object or an array), `PUT /api/offers/{id}`, `DELETE
//! /api/offers/{id}`, `GET /api/offers/{id}`, and the same for `/api/programmes` and
//! `/api/questions`.
//!
//! A record is the JSON of its kind (the fields of `passerelle import`'s lines, without `kind`),
//! validated field by field, upserted by `(source, source_key)` like an import (`source` defaults
//! to `api`), committed to the records store before the answer, and served by the generation at
//! once. A key bound to a company writes only that company's offers: an offer posted with it
//! without a company becomes that company's.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use indexer::{Applied, LiveChange};
use schemas::{Record, RecordKind};
use serde::Serialize;
use serde_json::Value;
use store::{RecordStore, Upsert};

use crate::auth::Caller;
use crate::error::from_json;
use crate::routes::blocking;
use crate::{ApiError, AppState};

/// Most records one `POST` may hold.
pub const MAX_BATCH: usize = 100;
/// The source of records posted without one.
pub const DEFAULT_SOURCE: &str = "api";

/// One record written.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Written {
    /// Its stable id.
    pub id: String,
    /// What the write did to it.
    pub action: Action,
}

/// What a write did to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// It was not there.
    Inserted,
    /// It was there, with other values.
    Updated,
    /// It was there, the same.
    Unchanged,
}

/// The answer of a write.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WriteAnswer {
    /// The records, in the order sent.
    pub written: Vec<Written>,
    /// What the served generation did with them; `null` when no generation is served yet (the
    /// records are stored, and `passerelle index` serves them).
    pub served: Option<Applied>,
}

/// The answer of a delete.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deleted {
    /// The record's id.
    pub id: String,
    /// Always true (a record that was not there is a 404).
    pub deleted: bool,
    /// What the served generation did.
    pub served: Option<Applied>,
}

/// The fields a record of `kind` takes, read once from its schema.
fn known_fields(kind: RecordKind) -> &'static [String] {
    use std::sync::OnceLock;
    static FIELDS: OnceLock<Vec<(RecordKind, Vec<String>)>> = OnceLock::new();
    let all = FIELDS.get_or_init(|| RecordKind::ALL.iter().map(|k| (*k, schemas::schema::field_names(*k))).collect());
    all.iter().find(|(k, _)| *k == kind).map_or(&[], |(_, f)| f.as_slice())
}

fn action(a: Upsert) -> Action {
    match a {
        Upsert::Inserted => Action::Inserted,
        Upsert::Updated => Action::Updated,
        Upsert::Unchanged => Action::Unchanged,
    }
}

fn plural(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Programme => "programmes",
        RecordKind::Question => "questions",
        _ => "offers",
    }
}

/// Reads one record of `kind` from a JSON object; `at` prefixes the fields named in errors
/// (`[2].title` in a batch).
fn read_record(kind: RecordKind, mut value: Value, at: &str) -> Result<Record, ApiError> {
    let Some(object) = value.as_object_mut() else {
        return Err(ApiError::invalid(if at.is_empty() { "body" } else { at }, format!("must be a JSON object with the fields of a {kind}")));
    };
    match object.get("kind") {
        None => {}
        Some(Value::String(k)) if k == kind.as_str() => {}
        Some(other) => {
            return Err(ApiError::invalid(format!("{at}{}kind", if at.is_empty() { "" } else { "." }), format!("is {other}; this route takes {}s", kind)));
        }
    }
    object.remove("kind");
    let known = known_fields(kind);
    if let Some(unknown) = object.keys().find(|k| !known.contains(k)) {
        let named = if at.is_empty() { unknown.clone() } else { format!("{at}.{unknown}") };
        return Err(ApiError::invalid(named, format!("is not a field of a {kind}; the fields are {}", known.join(", "))));
    }
    if object.get("source").and_then(Value::as_str).is_none_or(|s| s.trim().is_empty()) {
        object.insert("source".into(), DEFAULT_SOURCE.into());
    }
    let text = value.to_string();
    let expected = format!("the fields of a {kind}");
    // Read as the kind's own struct, so serde names the field at fault.
    let parsed = match kind {
        RecordKind::Programme => from_json(text.as_bytes(), &expected).map(Record::Programme),
        RecordKind::Question => from_json(text.as_bytes(), &expected).map(Record::Question),
        _ => from_json(text.as_bytes(), &expected).map(Record::Offer),
    };
    let mut record = parsed.map_err(|mut e| {
        if let (Some(field), false) = (&e.field, at.is_empty()) {
            let named = format!("{at}.{field}");
            e.message = e.message.replace(&format!("`{field}`"), &format!("`{named}`"));
            e.field = Some(named);
        }
        e
    })?;
    record.assign_id();
    record.validate().map_err(|v| ApiError::invalid(if at.is_empty() { v.field.to_string() } else { format!("{at}.{}", v.field) }, v.message))?;
    Ok(record)
}

/// A company-bound key's offers are that company's: an offer without a company becomes the
/// company's, one naming another company is refused.
fn bind_to_company(caller: &Caller, record: &mut Record, store: &RecordStore, at: &str) -> Result<(), ApiError> {
    let Some(company) = caller.company() else { return Ok(()) };
    let Record::Offer(offer) = record else {
        return Err(ApiError::forbidden(format!("the key `{}` is bound to a company: it writes only that company's offers", caller.name())));
    };
    if offer.company_key.as_deref().is_none_or(|k| k.trim().is_empty()) {
        let Some(Record::Company(c)) = store.get(company)? else {
            return Err(ApiError::forbidden(format!("the key `{}` is bound to the company {company}, which is not in the records store", caller.name())));
        };
        offer.source = c.source.clone();
        offer.company_key = Some(Record::Company(c.clone()).key());
        if offer.company_name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            offer.company_name = Some(c.name.clone());
        }
        record.assign_id();
    }
    match record {
        Record::Offer(offer) if offer.company_id.as_deref() == Some(company) => Ok(()),
        _ => Err(ApiError::forbidden(format!(
            "{}the key `{}` writes only the offers of the company {company}",
            if at.is_empty() { String::new() } else { format!("{at}: ") },
            caller.name()
        ))),
    }
}

/// A stored record a company-bound key may change or delete: one of its company's offers.
fn owned(caller: &Caller, existing: &Record) -> Result<(), ApiError> {
    match (caller.company(), existing) {
        (None, _) => Ok(()),
        (Some(company), Record::Offer(o)) if o.company_id.as_deref() == Some(company) => Ok(()),
        (Some(company), _) => {
            Err(ApiError::forbidden(format!("the key `{}` changes only the offers of the company {company}; {} is not one", caller.name(), existing.id())))
        }
    }
}

/// `POST /api/{kind}s`: one record or an array of at most [`MAX_BATCH`], all or none.
async fn create(kind: RecordKind, state: Arc<AppState>, caller: Caller, body: Bytes) -> Result<(StatusCode, Json<WriteAnswer>), ApiError> {
    let value: Value = from_json(&body, &format!("a {kind} object, or an array of them"))?;
    let items: Vec<(String, Value)> = match value {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(ApiError::invalid("body", format!("is an empty array: send at least one {kind}")));
            }
            if items.len() > MAX_BATCH {
                return Err(ApiError::invalid("body", format!("holds {} records, at most {MAX_BATCH} per request", items.len())));
            }
            items.into_iter().enumerate().map(|(i, v)| (format!("[{i}]"), v)).collect()
        }
        other => vec![(String::new(), other)],
    };
    let mut records = Vec::with_capacity(items.len());
    for (at, item) in items {
        records.push((at.clone(), read_record(kind, item, &at)?));
    }
    let s = state.clone();
    let (written, served) = blocking(move || {
        s.write(|store| {
            let mut bound = Vec::with_capacity(records.len());
            for (at, mut record) in records {
                bind_to_company(&caller, &mut record, store, &at)?;
                bound.push(record);
            }
            let outcomes = store.upsert_live(bound.clone(), &caller.name())?;
            // The records as stored (their ids are set): served without reading them back.
            let changes =
                bound.into_iter().zip(&outcomes).filter(|(_, o)| o.action != Upsert::Unchanged).map(|(r, _)| LiveChange::Upsert(Box::new(r))).collect();
            Ok((outcomes, changes))
        })
    })
    .await?;
    state.metrics.live_write(kind.as_str(), "upsert", written.iter().filter(|o| o.action != Upsert::Unchanged).count() as u64);
    let status = if written.iter().any(|o| o.action == Upsert::Inserted) { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(WriteAnswer { written: written.into_iter().map(|o| Written { id: o.id, action: action(o.action) }).collect(), served })))
}

/// `PUT /api/{kind}s/{id}`: replaces the record `id`. A body without `source` and
/// `source_key` keeps the stored ones; with them, they must give the same id.
async fn replace(kind: RecordKind, state: Arc<AppState>, caller: Caller, id: String, body: Bytes) -> Result<(StatusCode, Json<WriteAnswer>), ApiError> {
    let value: Value = from_json(&body, &format!("a {kind} object"))?;
    let s = state.clone();
    let (written, served) = blocking(move || {
        s.write(|store| {
            let existing = match store.get(&id)? {
                Some(r) if r.kind() == kind => r,
                _ => return Err(ApiError::not_found(format!("no {kind} {id}; create it with POST /api/{}", plural(kind)))),
            };
            owned(&caller, &existing)?;
            let mut value = value;
            if let Some(object) = value.as_object_mut() {
                for (field, stored) in [("source", existing.source().to_string()), ("source_key", existing.key())] {
                    if object.get(field).and_then(Value::as_str).is_none_or(|v| v.trim().is_empty()) {
                        object.insert(field.into(), stored.into());
                    }
                }
            }
            let mut record = read_record(kind, value, "")?;
            bind_to_company(&caller, &mut record, store, "")?;
            if record.id() != id {
                return Err(ApiError::invalid(
                    "source_key",
                    format!("`source` and `source_key` give the id {}, not {id}: leave them out to keep the stored ones", record.id()),
                ));
            }
            let outcomes = store.upsert_live(vec![record.clone()], &caller.name())?;
            let changes = if outcomes[0].action == Upsert::Unchanged { Vec::new() } else { vec![LiveChange::Upsert(Box::new(record))] };
            Ok((outcomes, changes))
        })
    })
    .await?;
    state.metrics.live_write(kind.as_str(), "upsert", written.iter().filter(|o| o.action != Upsert::Unchanged).count() as u64);
    Ok((StatusCode::OK, Json(WriteAnswer { written: written.into_iter().map(|o| Written { id: o.id, action: action(o.action) }).collect(), served })))
}

/// `DELETE /api/{kind}s/{id}`: gone from the store and from both legs at once.
async fn remove(kind: RecordKind, state: Arc<AppState>, caller: Caller, id: String) -> Result<Json<Deleted>, ApiError> {
    let s = state.clone();
    let id2 = id.clone();
    let ((), served) = blocking(move || {
        s.write(|store| {
            match store.get(&id2)? {
                Some(r) if r.kind() == kind => owned(&caller, &r)?,
                _ => return Err(ApiError::not_found(format!("no {kind} {id2}"))),
            }
            store.delete_live(&id2, &caller.name())?;
            Ok(((), vec![LiveChange::Delete(id2)]))
        })
    })
    .await?;
    state.metrics.live_write(kind.as_str(), "delete", 1);
    Ok(Json(Deleted { id, deleted: true, served }))
}

/// `GET /api/{kind}s/{id}`: the stored record (the store is the truth; a record written a
/// moment ago is there).
async fn get(kind: RecordKind, state: Arc<AppState>, id: String) -> Result<Json<Record>, ApiError> {
    let s = state.clone();
    let id2 = id.clone();
    let found = blocking(move || s.with_reads(|store| store.get(&id2))).await?;
    match found {
        Some(record) if record.kind() == kind => Ok(Json(record)),
        _ => Err(ApiError::not_found(format!("no {kind} {id}"))),
    }
}

/// The four routes of one kind: `POST /api/{kind}s`, and `GET`, `PUT`, `DELETE /api/{kind}s/{id}`,
/// each documented with the kind's own schema.
macro_rules! record_routes {
    (
        $kind:expr, $schema:ty, $body:ident, $a:tt, $name:tt, $tag:tt, $collection:tt, $item:tt, $create_note:tt,
        $create:ident, $get:ident, $replace:ident, $remove:ident
    ) => {
        #[doc = concat!("The body of `POST ", $collection, "`: one ", $name, ", or an array of them.")]
        #[derive(utoipa::ToSchema)]
        #[serde(untagged)]
        #[allow(dead_code)]
        pub enum $body {
            /// One record.
            One(Box<$schema>),
            /// At most 100, written in one transaction: all or none.
            Many(Vec<$schema>),
        }

        #[utoipa::path(
                    post,
                    path = $collection,
                    tag = $tag,
                    summary = concat!("Writes ", $name, "s"),
                    description = concat!(
                        "One ", $name, ", or an array of at most 100 written all or none: the fields of ", $a, " ", $name, " line of `passerelle import` \
                 (`kind` may be left out), checked field by field (a misspelt field is refused), upserted by (`source`, `source_key`) like \
                 an import (`source` defaults to `api`), committed to the records store before the answer, and served by the index at once. ",
                        $create_note
                    ),
                    request_body(content = $body, description = concat!("One ", $name, " or an array of them; `id` is derived, not read.")),
                    responses(
                        (status = 201, description = "At least one record was inserted.", body = WriteAnswer),
                        (status = 200, description = "The records were there already (updated or unchanged).", body = WriteAnswer),
                        (status = 400, response = crate::openapi::BadRequest),
                        (status = 403, response = crate::openapi::Forbidden),
                    )
                )]
        pub async fn $create(
            State(state): State<Arc<AppState>>,
            Extension(caller): Extension<Caller>,
            body: Bytes,
        ) -> Result<(StatusCode, Json<WriteAnswer>), ApiError> {
            create($kind, state, caller, body).await
        }

        #[utoipa::path(
                    get,
                    path = $item,
                    tag = $tag,
                    summary = concat!("Reads ", $a, " ", $name),
                    description = "The stored record (the records store is the truth: a record written a moment ago is there), with its `kind`.",
                    params(("id" = String, Path, description = "The record's id.")),
                    responses(
                        (status = 200, description = "The record.", body = Record),
                        (status = 404, response = crate::openapi::NotFound),
                    )
                )]
        pub async fn $get(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Json<Record>, ApiError> {
            get($kind, state, id).await
        }

        #[utoipa::path(
                    put,
                    path = $item,
                    tag = $tag,
                    summary = concat!("Replaces ", $a, " ", $name),
                    description = "Replaces the record `id`, served at once. A body without `source` and `source_key` keeps the stored ones; with them, \
                           they must give the same id. A key bound to a company changes only that company's offers.",
                    params(("id" = String, Path, description = "The record's id.")),
                    request_body(content = $schema, description = concat!("The whole ", $name, ", as in an import line.")),
                    responses(
                        (status = 200, description = "Written (`updated` or `unchanged`).", body = WriteAnswer),
                        (status = 400, response = crate::openapi::BadRequest),
                        (status = 403, response = crate::openapi::Forbidden),
                        (status = 404, response = crate::openapi::NotFound),
                    )
                )]
        pub async fn $replace(
            State(state): State<Arc<AppState>>,
            Extension(caller): Extension<Caller>,
            Path(id): Path<String>,
            body: Bytes,
        ) -> Result<(StatusCode, Json<WriteAnswer>), ApiError> {
            replace($kind, state, caller, id, body).await
        }

        #[utoipa::path(
                    delete,
                    path = $item,
                    tag = $tag,
                    summary = concat!("Deletes ", $a, " ", $name),
                    description = "Gone from the records store, and from both legs of the served index at once.",
                    params(("id" = String, Path, description = "The record's id.")),
                    responses(
                        (status = 200, description = "Deleted.", body = Deleted),
                        (status = 403, response = crate::openapi::Forbidden),
                        (status = 404, response = crate::openapi::NotFound),
                    )
                )]
        pub async fn $remove(
            State(state): State<Arc<AppState>>,
            Extension(caller): Extension<Caller>,
            Path(id): Path<String>,
        ) -> Result<Json<Deleted>, ApiError> {
            remove($kind, state, caller, id).await
        }
    };
}

record_routes!(
    RecordKind::Offer,
    schemas::Offer,
    OffersBody,
    "an",
    "offer",
    "offers",
    "/api/offers",
    "/api/offers/{id}",
    "A key bound to a company writes only that company's offers: an offer posted with it without a company becomes that company's.",
    create_offer,
    get_offer,
    replace_offer,
    remove_offer
);
record_routes!(
    RecordKind::Programme,
    schemas::Programme,
    ProgrammesBody,
    "a",
    "programme",
    "programmes",
    "/api/programmes",
    "/api/programmes/{id}",
    "",
    create_programme,
    get_programme,
    replace_programme,
    remove_programme
);
record_routes!(
    RecordKind::Question,
    schemas::Question,
    QuestionsBody,
    "a",
    "question",
    "questions",
    "/api/questions",
    "/api/questions/{id}",
    "`POST /api/questions/similar` shows its near-duplicates first.",
    create_question,
    get_question,
    replace_question,
    remove_question
);
