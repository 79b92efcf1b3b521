//! The marketing team's side: `GET /api/export/contacts.csv` and `.jsonl` (the command line's
//! export: `region`, `kind`, `country`, `bom`), each logged with the key that asked (`GET /api/exports`);
//! the suppression list, `POST/GET /api/contacts/suppressions` and `DELETE
//! /api/contacts/suppressions/{value}`. A suppressed address, domain or phone is never exported.
//! `GET /api/export/contacts/count` says what an export would hold, before it is made.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use crawler::export::{ContactCounts, ExportFilter, ExportFormat, count_contacts, export_contacts};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::{ExportLogEntry, Suppression, SuppressionEntry};

use crate::auth::Caller;
use crate::error::from_json;
use crate::routes::blocking;
use crate::{ApiError, AppState};

/// The query string of the CSV export (documentation; the route reads it itself).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CsvParams {
    /// Only the schools of this region (`Wallonie`, `Bretagne`...), case aside.
    region: Option<String>,
    /// Only the schools of this type (`Lycée`, `Haute École`...), case aside.
    kind: Option<String>,
    /// Only the schools of this country (ISO code: `BE`, `FR`), case aside.
    country: Option<String>,
    /// Start the file with a UTF-8 byte order mark, for spreadsheets that need one to read accents; `false` by default.
    bom: Option<bool>,
}

/// The query string of the JSON Lines export (documentation; the route reads it itself).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct JsonlParams {
    /// Only the schools of this region (`Wallonie`, `Bretagne`...), case aside.
    region: Option<String>,
    /// Only the schools of this type (`Lycée`, `Haute École`...), case aside.
    kind: Option<String>,
    /// Only the schools of this country (ISO code: `BE`, `FR`), case aside.
    country: Option<String>,
}

/// The school contacts, as CSV
///
/// What `passerelle export contacts` writes: the schools' checked e-mails, phones and websites,
/// deduplicated, each with where it came from, minus the suppression list. Cells that a
/// spreadsheet would run as a formula are neutralised. Each export is logged with the key that
/// asked (`GET /api/exports`).
#[utoipa::path(
    get,
    path = "/api/export/contacts.csv",
    operation_id = "export_contacts_csv",
    tag = "export",
    params(CsvParams),
    responses(
        (status = 200, description = "The contacts, one per row, with a header line (`attachment; filename=\"contacts.csv\"`).", body = String, content_type = "text/csv"),
        (status = 400, response = crate::openapi::BadRequest),
    )
)]
pub async fn contacts_csv(state: State<Arc<AppState>>, caller: Extension<Caller>, params: Query<HashMap<String, String>>) -> Result<Response, ApiError> {
    contacts(true, state, caller, params).await
}

/// The school contacts, as JSON Lines
///
/// The same contacts as the CSV export, one JSON object per line. Each export is logged with
/// the key that asked (`GET /api/exports`).
#[utoipa::path(
    get,
    path = "/api/export/contacts.jsonl",
    operation_id = "export_contacts_jsonl",
    tag = "export",
    params(JsonlParams),
    responses(
        (status = 200, description = "The contacts, one JSON object per line (`attachment; filename=\"contacts.jsonl\"`).", body = String, content_type = "application/x-ndjson"),
        (status = 400, response = crate::openapi::BadRequest),
    )
)]
pub async fn contacts_jsonl(state: State<Arc<AppState>>, caller: Extension<Caller>, params: Query<HashMap<String, String>>) -> Result<Response, ApiError> {
    contacts(false, state, caller, params).await
}

/// How many contacts an export would hold
///
/// The rows and contacts `/api/export/contacts.csv` would write with the same filters (the
/// suppression list applied), without exporting anything: nothing is logged.
#[utoipa::path(
    get,
    path = "/api/export/contacts/count",
    operation_id = "count_contacts",
    tag = "export",
    params(JsonlParams),
    responses(
        (status = 200, description = "The counts.", body = ContactCounts),
        (status = 400, response = crate::openapi::BadRequest),
    )
)]
pub async fn contacts_count(State(state): State<Arc<AppState>>, Query(params): Query<HashMap<String, String>>) -> Result<Json<ContactCounts>, ApiError> {
    let filter = export_filter(&params, "region, kind, country")?;
    let s = state.clone();
    let counts = blocking(move || {
        s.with_reads(|store| {
            count_contacts(store, &filter).map_err(|e| store::StoreError::Io { path: "contacts count".into(), source: std::io::Error::other(e.to_string()) })
        })
    })
    .await?;
    Ok(Json(counts))
}

/// The filters of an export's query string; any other parameter than `accepted` is refused.
fn export_filter(params: &HashMap<String, String>, accepted: &str) -> Result<ExportFilter, ApiError> {
    if let Some(unknown) = params.keys().find(|k| !accepted.split(", ").any(|a| a == k.as_str())) {
        return Err(ApiError::unknown_parameter(unknown, accepted));
    }
    let nonempty = |k: &str| params.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    Ok(ExportFilter { region: nonempty("region"), kind: nonempty("kind"), country: nonempty("country") })
}

/// The export of `/api/export/contacts.csv` (`csv`) or `.jsonl`.
async fn contacts(
    csv: bool,
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let accepted = if csv { "region, kind, country, bom" } else { "region, kind, country" };
    let filter = export_filter(&params, accepted)?;
    let bom = match params.get("bom").map(String::as_str) {
        None | Some("false" | "0") => false,
        Some("true" | "1" | "") => true,
        Some(other) => return Err(ApiError::invalid("bom", format!("must be true or false, got `{other}`"))),
    };
    let filters = serde_json::json!({"region": filter.region, "kind": filter.kind, "country": filter.country, "bom": bom}).to_string();
    let format = if csv { ExportFormat::Csv { bom } } else { ExportFormat::Jsonl };
    let s = state.clone();
    let who = caller.name();
    let body = blocking(move || {
        let mut out: Vec<u8> = Vec::new();
        let rows = s.with_reads(|store| {
            let rows = export_contacts(store, &filter, format, &mut out)
                .map_err(|e| store::StoreError::Io { path: "contacts export".into(), source: std::io::Error::other(e.to_string()) })?;
            store.log_export(&ExportLogEntry {
                at: schemas::now_rfc3339(),
                who,
                what: "contacts".into(),
                format: if csv { "csv" } else { "jsonl" }.into(),
                filters,
                rows: rows as u64,
            })?;
            Ok(rows)
        })?;
        tracing::info!(rows, "contacts exported");
        Ok(out)
    })
    .await?;
    let (content_type, name) = if csv { ("text/csv; charset=utf-8", "contacts.csv") } else { ("application/x-ndjson; charset=utf-8", "contacts.jsonl") };
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))], body)
        .into_response())
}

/// The query string of `/api/exports` (documentation; the route reads it itself).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct LogParams {
    /// How many entries, newest first: 100 by default, 1 to 10,000.
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<usize>,
}

/// One export, as the log answers it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoggedExport {
    /// When, RFC 3339.
    pub at: String,
    /// Who: an API key's name, `master key`, or `command line`.
    pub who: String,
    /// What was exported (`contacts`).
    pub what: String,
    /// `csv` or `jsonl`.
    pub format: String,
    /// The filters asked for (`{"region": "Wallonie", "kind": null, "bom": false}`).
    pub filters: Value,
    /// How many rows were written.
    pub rows: u64,
}

impl From<ExportLogEntry> for LoggedExport {
    /// The stored entry, its filters read back as JSON (kept as text when they are not).
    fn from(e: ExportLogEntry) -> LoggedExport {
        let filters = serde_json::from_str::<Value>(&e.filters).unwrap_or(e.filters.into());
        LoggedExport { at: e.at, who: e.who, what: e.what, format: e.format, filters, rows: e.rows }
    }
}

/// The export log's answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExportLog {
    /// Newest first.
    pub exports: Vec<LoggedExport>,
}

/// Who exported contacts, and when
///
/// The export log: every contacts export, by the command line or over HTTP, with who asked,
/// the format, the filters and the rows written. Contacts are personal data: the log answers
/// "who has a copy?".
#[utoipa::path(
    get,
    path = "/api/exports",
    operation_id = "export_log",
    tag = "export",
    params(LogParams),
    responses(
        (status = 200, description = "The log, newest first.", body = ExportLog),
        (status = 400, response = crate::openapi::BadRequest),
    )
)]
pub async fn log(State(state): State<Arc<AppState>>, Query(params): Query<HashMap<String, String>>) -> Result<Json<ExportLog>, ApiError> {
    if let Some(unknown) = params.keys().find(|k| k.as_str() != "limit") {
        return Err(ApiError::unknown_parameter(unknown, "limit"));
    }
    let limit = crate::routes::search::number(&params, "limit", 100)?.clamp(1, 10_000);
    let s = state.clone();
    let entries = blocking(move || s.with_reads(|store| store.export_log(limit))).await?;
    Ok(Json(ExportLog { exports: entries.into_iter().map(LoggedExport::from).collect() }))
}

/// What to suppress.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressBody {
    /// An e-mail address (`name@example.be`), a whole domain (`@example.be`) or a phone number
    /// (`+32 81 23 45 67`).
    value: String,
    /// Why (kept with the entry, at most 500 characters).
    #[serde(default)]
    reason: Option<String>,
}

/// The answer of a suppression.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Suppressed {
    /// The canonical form stored (lower-cased address or domain, E.164 phone).
    pub value: String,
    /// `email`, `domain` or `phone`.
    pub kind: &'static str,
    /// False when it was on the list already.
    pub added: bool,
}

/// The suppression list's answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Suppressions {
    /// By kind, then value.
    pub suppressions: Vec<SuppressionEntry>,
}

/// The answer of taking an entry off the suppression list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Unsuppressed {
    /// The entry, as named in the path.
    pub value: String,
    /// Always true (an entry that was not there is a 404).
    pub removed: bool,
}

/// Never exports an address, a domain or a phone again
///
/// Adds an entry to the suppression list: the contacts it names are left out of every export
/// from now on, by the command line and over HTTP.
#[utoipa::path(
    post,
    path = "/api/contacts/suppressions",
    operation_id = "suppress_contact",
    tag = "export",
    request_body(content = SuppressBody, description = "The address, domain or phone, and why."),
    responses(
        (status = 201, description = "Added.", body = Suppressed),
        (status = 200, description = "It was on the list already.", body = Suppressed),
        (status = 400, response = crate::openapi::BadRequest),
    )
)]
pub async fn suppress(State(state): State<Arc<AppState>>, body: Bytes) -> Result<(StatusCode, Json<Suppressed>), ApiError> {
    let parsed: SuppressBody = from_json(&body, r#"{"value": "name@example.be | @example.be | +32 81 23 45 67", "reason": "..."}"#)?;
    let suppression = Suppression::parse(&parsed.value).map_err(|why| ApiError::invalid("value", why))?;
    let reason = parsed.reason.map(|r| r.trim().chars().take(500).collect::<String>()).filter(|r| !r.is_empty());
    let s = state.clone();
    let value = suppression.value();
    let kind = suppression.kind();
    let added = blocking(move || s.with_reads(|store| store.suppress(&suppression, reason.as_deref()))).await?;
    Ok((if added { StatusCode::CREATED } else { StatusCode::OK }, Json(Suppressed { value, kind, added })))
}

/// The suppression list
///
/// Every address, domain and phone that is never exported, with why and when it was added.
#[utoipa::path(
    get,
    path = "/api/contacts/suppressions",
    operation_id = "list_suppressions",
    tag = "export",
    responses((status = 200, description = "The list.", body = Suppressions))
)]
pub async fn suppressions(State(state): State<Arc<AppState>>) -> Result<Json<Suppressions>, ApiError> {
    let s = state.clone();
    let entries = blocking(move || s.with_reads(|store| store.suppressions())).await?;
    Ok(Json(Suppressions { suppressions: entries }))
}

/// Takes an entry off the suppression list
///
/// Its contacts are exported again from the next export on.
#[utoipa::path(
    delete,
    path = "/api/contacts/suppressions/{value}",
    operation_id = "unsuppress_contact",
    tag = "export",
    params(("value" = String, Path, description = "The entry as the list writes it (`name@example.be`, `@example.be`, `+3281234567`), URL-encoded.")),
    responses(
        (status = 200, description = "Taken off.", body = Unsuppressed),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn unsuppress(State(state): State<Arc<AppState>>, Path(value): Path<String>) -> Result<Json<Unsuppressed>, ApiError> {
    let s = state.clone();
    let v = value.clone();
    let removed = blocking(move || s.with_reads(|store| store.unsuppress(&v))).await?;
    if !removed {
        return Err(ApiError::not_found(format!("`{value}` is not on the suppression list")));
    }
    Ok(Json(Unsuppressed { value, removed: true }))
}
