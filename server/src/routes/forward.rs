//! `POST /api/offers/{id}/forward {"programmes": [ids], "message": "..."}`: the recruiter sends
//! an offer to the managers of the programmes chosen (one transmission per programme, never two
//! for the same offer and programme), and `GET /api/transmissions?programme=&offer=`: what a
//! manager sees. Transmissions are mailed by the outbox when an SMTP server is configured.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use schemas::Record;
use serde::{Deserialize, Serialize};
use store::{NewTransmission, Transmission};

use crate::auth::Caller;
use crate::error::from_json;
use crate::routes::blocking;
use crate::{ApiError, AppState};

/// Most programmes one forward may name.
pub const MAX_PROGRAMMES: usize = 50;
/// Longest message to the managers, in characters.
pub const MAX_MESSAGE_CHARS: usize = 5_000;

/// Which programmes' managers an offer goes to.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardBody {
    /// The programmes' record ids, 1 to 50.
    #[schema(min_items = 1, max_items = 50)]
    programmes: Vec<String>,
    /// A word to the managers, at most 5,000 characters.
    #[serde(default)]
    message: Option<String>,
}

/// One programme's transmission in a forward's answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Forwarded {
    /// The transmission, as stored.
    #[serde(flatten)]
    pub transmission: Transmission,
    /// True when this offer had already been sent to this programme (nothing new was sent).
    pub already_forwarded: bool,
}

/// The answer of a forward.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ForwardAnswer {
    /// The offer forwarded.
    pub offer_id: String,
    /// One per programme, in the order asked.
    pub transmissions: Vec<Forwarded>,
    /// Whether the transmissions are mailed (an SMTP server is configured) or only stored.
    pub mailed: bool,
}

/// Forwards an offer to programme managers
///
/// The recruiter sends the offer to the managers of the programmes chosen: one transmission per
/// programme, never two for the same offer and programme (forwarding again answers the first
/// one, `already_forwarded`). Transmissions are mailed by the outbox when the server has SMTP
/// settings (`mailed`), and the managers read them at `GET /api/transmissions`. A key bound to a
/// company forwards only that company's offers.
#[utoipa::path(
    post,
    path = "/api/offers/{id}/forward",
    operation_id = "forward_offer",
    tag = "offers",
    params(("id" = String, Path, description = "The offer's record id.")),
    request_body(content = ForwardBody, description = "The programmes, and optionally a message."),
    responses(
        (status = 201, description = "At least one transmission is new.", body = ForwardAnswer),
        (status = 200, description = "The offer had already been sent to every programme named.", body = ForwardAnswer),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn forward(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Path(offer_id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<ForwardAnswer>), ApiError> {
    let parsed: ForwardBody = from_json(&body, r#"{"programmes": ["programme-..."], "message": "..."}"#)?;
    if parsed.programmes.is_empty() {
        return Err(ApiError::invalid("programmes", "is empty: name at least one programme"));
    }
    if parsed.programmes.len() > MAX_PROGRAMMES {
        return Err(ApiError::invalid("programmes", format!("names {} programmes, at most {MAX_PROGRAMMES}", parsed.programmes.len())));
    }
    let message = parsed.message.map(|m| m.trim().to_string()).filter(|m| !m.is_empty());
    if let Some(m) = &message
        && m.chars().count() > MAX_MESSAGE_CHARS
    {
        return Err(ApiError::invalid("message", format!("has {} characters, at most {MAX_MESSAGE_CHARS}", m.chars().count())));
    }
    let s = state.clone();
    let sender = caller.name();
    let answer = blocking(move || {
        s.with_reads(|store| Ok(store.get(&offer_id)?.map(|o| (o, parsed.programmes.iter().map(|p| store.get(p)).collect::<Result<Vec<_>, _>>())))).and_then(
            |found| {
                let Some((offer, programmes)) = found else { return Err(ApiError::not_found(format!("no offer {offer_id}"))) };
                let Record::Offer(o) = &offer else { return Err(ApiError::not_found(format!("no offer {offer_id}"))) };
                if let Some(company) = caller.company()
                    && o.company_id.as_deref() != Some(company)
                {
                    return Err(ApiError::forbidden(format!("the key `{}` forwards only the offers of the company {company}", caller.name())));
                }
                let programmes = programmes.map_err(ApiError::from)?;
                let mut news = Vec::new();
                for (i, (id, found)) in parsed.programmes.iter().zip(programmes).enumerate() {
                    let Some(Record::Programme(p)) = found else {
                        return Err(ApiError::invalid(format!("programmes[{i}]"), format!("{id} is not a programme of the records store")));
                    };
                    let contact = p.contact.as_ref();
                    news.push(NewTransmission {
                        offer_id: offer_id.clone(),
                        programme_id: id.clone(),
                        recipient: contact.and_then(|c| c.email.clone()).filter(|e| !e.trim().is_empty()),
                        recipient_name: contact.and_then(|c| c.name.clone()),
                        message: message.clone(),
                        sender: sender.clone(),
                    });
                }
                let mut out = Vec::new();
                for new in news {
                    let (transmission, created) = s.with_reads(|store| store.add_transmission(new))?;
                    out.push(Forwarded { transmission, already_forwarded: !created });
                }
                Ok(ForwardAnswer { offer_id, transmissions: out, mailed: s.mailer.is_some() })
            },
        )
    })
    .await?;
    let created = answer.transmissions.iter().any(|t| !t.already_forwarded);
    if created {
        state.outbox.notify_one();
    }
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(answer)))
}

/// The query string of `/api/transmissions` (documentation; the route reads it itself).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct TransmissionsParams {
    /// Only those of these programmes (record ids, comma-separated). A key bound to programmes
    /// reads only theirs, and names no other.
    programme: Option<String>,
    /// Only those of this offer (its record id).
    offer: Option<String>,
}

/// The transmissions, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TransmissionsAnswer {
    /// The offers forwarded, with where each one's mail stands.
    pub transmissions: Vec<Transmission>,
    /// How many there are.
    pub total: usize,
}

/// The offers forwarded to programme managers
///
/// What a programme manager sees: the offers recruiters sent to their programmes, and where
/// each one's mail stands. A key bound to programmes sees only theirs.
#[utoipa::path(
    get,
    path = "/api/transmissions",
    operation_id = "list_transmissions",
    tag = "stats",
    params(TransmissionsParams),
    responses(
        (status = 200, description = "The transmissions.", body = TransmissionsAnswer),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 403, response = crate::openapi::Forbidden),
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<TransmissionsAnswer>, ApiError> {
    if let Some(unknown) = params.keys().find(|k| !matches!(k.as_str(), "programme" | "offer")) {
        return Err(ApiError::unknown_parameter(unknown, "programme, offer"));
    }
    let asked: Option<Vec<String>> = params.get("programme").map(|p| p.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
    let programmes = match (caller.programmes(), asked) {
        (None, asked) => asked,
        (Some(bound), None) => Some(bound.to_vec()),
        (Some(bound), Some(asked)) => {
            if let Some(other) = asked.iter().find(|p| !bound.contains(p)) {
                return Err(ApiError::forbidden(format!("the key `{}` reads only the transmissions of {}; not {other}", caller.name(), bound.join(", "))));
            }
            Some(asked)
        }
    };
    let offer = params.get("offer").cloned();
    let s = state.clone();
    let found = blocking(move || s.with_reads(|store| store.transmissions(programmes.as_deref(), offer.as_deref()))).await?;
    Ok(Json(TransmissionsAnswer { total: found.len(), transmissions: found }))
}
