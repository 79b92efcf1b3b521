//! The mail outbox: transmissions waiting in the records store are mailed one at a time, by one
//! task, so none is sent twice by this server. A failed send is tried again (every
//! [`RETRY_EVERY`], at most [`MAX_ATTEMPTS`] times) and its error kept; a server killed between
//! the send and its record sends that one again on restart, with the same `Message-ID`, which
//! mail clients use to show it once.

use std::sync::Arc;
use std::time::Duration;

use schemas::Record;
use store::Transmission;

use crate::AppState;
use crate::mail::{self, OutgoingMail};

/// Attempts before a transmission is marked failed.
pub const MAX_ATTEMPTS: i64 = 5;
/// Wait before pending transmissions are tried again (a new one wakes the outbox at once).
pub const RETRY_EVERY: Duration = Duration::from_secs(30);

/// Runs until the process ends; returns at once when no mailer is configured.
pub async fn run(state: Arc<AppState>) {
    if state.mailer.is_none() {
        return;
    }
    loop {
        let s = state.clone();
        let pending = tokio::task::spawn_blocking(move || s.with_reads(|store| store.transmissions_to_send())).await;
        match pending {
            Ok(Ok(pending)) => {
                for t in pending {
                    send_one(&state, t).await;
                }
            }
            Ok(Err(e)) => tracing::error!("outbox: cannot read the transmissions: {}", e.message),
            Err(e) => tracing::error!("outbox: {e}"),
        }
        tokio::select! {
            _ = state.outbox.notified() => {}
            _ = tokio::time::sleep(RETRY_EVERY) => {}
        }
    }
}

async fn send_one(state: &Arc<AppState>, t: Transmission) {
    let Some(mailer) = &state.mailer else { return };
    let Some(to) = t.recipient.clone() else { return };
    let s = state.clone();
    let (offer_id, programme_id) = (t.offer_id.clone(), t.programme_id.clone());
    let records = tokio::task::spawn_blocking(move || s.with_reads(|store| Ok((store.get(&offer_id)?, store.get(&programme_id)?)))).await;
    let (offer, programme) = match records {
        Ok(Ok((Some(Record::Offer(o)), Some(Record::Programme(p))))) => (o, p),
        Ok(Ok(_)) => {
            record(state, t.id, Err("the offer or the programme is no longer in the records store"), true).await;
            return;
        }
        Ok(Err(e)) => return tracing::error!("outbox: {}", e.message),
        Err(e) => return tracing::error!("outbox: {e}"),
    };
    let excerpt: String = offer.description.chars().take(1200).collect();
    let (subject, text) = mail::transmission_mail(
        &offer.title,
        offer.company_name.as_deref(),
        offer.url.as_deref(),
        &excerpt,
        &programme.title,
        programme.school_name.as_deref(),
        t.message.as_deref(),
        &t.sender,
    );
    let mail = OutgoingMail {
        to,
        to_name: t.recipient_name.clone(),
        subject,
        text,
        message_id: mail::message_id(&t.offer_id, &t.programme_id, mailer.domain()),
        // The recruiter's address came from a page or a post: a wrong one would fail the mail for
        // good, so it is left out rather than trusted.
        reply_to: offer.contact.as_ref().and_then(|c| c.email.clone()).filter(|e| e.trim().parse::<lettre::Address>().is_ok()),
    };
    let sent = mailer.send(&mail).await;
    let give_up = t.attempts + 1 >= MAX_ATTEMPTS;
    match &sent {
        Ok(()) => tracing::info!(transmission = t.id, "transmission mailed"),
        Err(e) => tracing::warn!(transmission = t.id, attempt = t.attempts + 1, "transmission not mailed: {e}"),
    }
    let error = sent.err().map(|e| e.to_string());
    record(state, t.id, error.as_deref().map_or(Ok(()), Err), give_up).await;
}

async fn record(state: &Arc<AppState>, id: i64, outcome: Result<(), &str>, give_up: bool) {
    let s = state.clone();
    let outcome = outcome.map_err(str::to_string);
    let done =
        tokio::task::spawn_blocking(move || s.with_reads(|store| store.record_attempt(id, outcome.as_ref().map(|_| ()).map_err(String::as_str), give_up)))
            .await;
    if let Ok(Err(e)) = done {
        tracing::error!(transmission = id, "outbox: cannot record the attempt: {}", e.message);
    }
}
