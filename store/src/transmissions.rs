//! Transmissions: an offer forwarded to a programme's manager. An offer is forwarded to a
//! programme once (a second forward returns the first one); each transmission keeps whether its
//! e-mail was sent, how many attempts it took and the last error.
//!
//! The store does not check that the offer and the programme exist, nor send anything: the
//! caller does (it knows the records it just read and how mail leaves the machine).

use rusqlite::{OptionalExtension, Row, params, params_from_iter};
use serde::Serialize;

use crate::store::{RecordStore, StoreError};

/// Where a transmission stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TransmissionStatus {
    /// Waiting to be sent (or to be tried again after a failure).
    Pending,
    /// Sent.
    Sent,
    /// Given up after retries; `last_error` says why.
    Failed,
    /// The programme has no manager address: it is recorded, and visible to the programme's
    /// keys, but no e-mail is sent.
    NoAddress,
}

impl TransmissionStatus {
    /// `pending`, `sent`, `failed` or `no_address`, as stored and serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            TransmissionStatus::Pending => "pending",
            TransmissionStatus::Sent => "sent",
            TransmissionStatus::Failed => "failed",
            TransmissionStatus::NoAddress => "no_address",
        }
    }

    /// The status written `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Sent, Self::Failed, Self::NoAddress].into_iter().find(|v| v.as_str() == s)
    }
}

/// An offer to forward to a programme's manager.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewTransmission {
    /// The offer's id.
    pub offer_id: String,
    /// The programme's id.
    pub programme_id: String,
    /// The manager's e-mail; without one nothing is sent ([`TransmissionStatus::NoAddress`]).
    pub recipient: Option<String>,
    /// The manager's name.
    pub recipient_name: Option<String>,
    /// A word from the sender.
    pub message: Option<String>,
    /// Who forwarded it (an API key's name).
    pub sender: String,
}

/// A stored transmission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transmission {
    /// Its id.
    pub id: i64,
    /// The offer's id.
    pub offer_id: String,
    /// The programme's id.
    pub programme_id: String,
    /// The manager's e-mail.
    pub recipient: Option<String>,
    /// The manager's name.
    pub recipient_name: Option<String>,
    /// A word from the sender.
    pub message: Option<String>,
    /// Who forwarded it.
    pub sender: String,
    /// When, RFC 3339.
    pub created_at: String,
    /// Pending, sent, failed or without an address.
    pub status: TransmissionStatus,
    /// Sending attempts so far.
    pub attempts: i64,
    /// When it was sent, RFC 3339.
    pub sent_at: Option<String>,
    /// The last attempt's error.
    pub last_error: Option<String>,
}

const COLUMNS: &str = "id, offer_id, programme_id, recipient, recipient_name, message, sender, created_at, status, attempts, sent_at, last_error";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Transmission> {
    let status: String = row.get(8)?;
    Ok(Transmission {
        id: row.get(0)?,
        offer_id: row.get(1)?,
        programme_id: row.get(2)?,
        recipient: row.get(3)?,
        recipient_name: row.get(4)?,
        message: row.get(5)?,
        sender: row.get(6)?,
        created_at: row.get(7)?,
        // The table's CHECK allows only the four; a stranger would come from a newer build.
        status: TransmissionStatus::parse(&status).unwrap_or(TransmissionStatus::Failed),
        attempts: row.get(9)?,
        sent_at: row.get(10)?,
        last_error: row.get(11)?,
    })
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl RecordStore {
    /// Records that `t.offer_id` is forwarded to `t.programme_id`: pending when there is a
    /// recipient, without an address otherwise. When this offer was already forwarded to this
    /// programme, nothing is written and the existing transmission is returned with `false`.
    pub fn add_transmission(&mut self, t: NewTransmission) -> Result<(Transmission, bool), StoreError> {
        for (field, value) in [("offer_id", &t.offer_id), ("programme_id", &t.programme_id), ("sender", &t.sender)] {
            if value.trim().is_empty() {
                return Err(StoreError::Transmission(format!("{field}: empty")));
            }
        }
        let recipient = non_empty(t.recipient);
        let status = if recipient.is_some() { TransmissionStatus::Pending } else { TransmissionStatus::NoAddress };
        self.with_transaction(|tx| {
            let existing = tx
                .query_row(
                    &format!("SELECT {COLUMNS} FROM transmissions WHERE offer_id = ?1 AND programme_id = ?2"),
                    params![t.offer_id, t.programme_id],
                    from_row,
                )
                .optional()?;
            if let Some(existing) = existing {
                return Ok(((existing, false), false));
            }
            tx.execute(
                "INSERT INTO transmissions (offer_id, programme_id, recipient, recipient_name, message, sender, created_at, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    t.offer_id,
                    t.programme_id,
                    recipient,
                    non_empty(t.recipient_name),
                    non_empty(t.message),
                    t.sender,
                    schemas::now_rfc3339(),
                    status.as_str()
                ],
            )?;
            let id = tx.last_insert_rowid();
            let stored = tx.query_row(&format!("SELECT {COLUMNS} FROM transmissions WHERE id = ?1"), [id], from_row)?;
            Ok(((stored, true), true))
        })
    }

    /// The transmission `id`, if any.
    pub fn transmission(&self, id: i64) -> Result<Option<Transmission>, StoreError> {
        Ok(self.conn().query_row(&format!("SELECT {COLUMNS} FROM transmissions WHERE id = ?1"), [id], from_row).optional()?)
    }

    /// Transmissions newest first: to these programmes only (none for an empty list), of this
    /// offer only, or all.
    pub fn transmissions(&self, programmes: Option<&[String]>, offer_id: Option<&str>) -> Result<Vec<Transmission>, StoreError> {
        let mut sql = format!("SELECT {COLUMNS} FROM transmissions WHERE 1 = 1");
        let mut values: Vec<&str> = Vec::new();
        if let Some(programmes) = programmes {
            if programmes.is_empty() {
                return Ok(Vec::new());
            }
            sql.push_str(&format!(" AND programme_id IN ({})", vec!["?"; programmes.len()].join(", ")));
            values.extend(programmes.iter().map(String::as_str));
        }
        if let Some(offer) = offer_id {
            sql.push_str(" AND offer_id = ?");
            values.push(offer);
        }
        sql.push_str(" ORDER BY id DESC");
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(values), from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The transmissions waiting to be sent, oldest first.
    pub fn transmissions_to_send(&self) -> Result<Vec<Transmission>, StoreError> {
        let mut stmt = self.conn().prepare(&format!("SELECT {COLUMNS} FROM transmissions WHERE status = 'pending' ORDER BY id"))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a sending attempt of the pending transmission `id`: sent (`Ok`), or failed with
    /// its error, to be tried again, or given up when `give_up`. Fails for an unknown id or a
    /// transmission that is not pending.
    pub fn record_attempt(&mut self, id: i64, outcome: Result<(), &str>, give_up: bool) -> Result<(), StoreError> {
        let now = schemas::now_rfc3339();
        self.with_transaction(|tx| {
            let status: Option<String> = tx.query_row("SELECT status FROM transmissions WHERE id = ?1", [id], |row| row.get(0)).optional()?;
            match status.as_deref() {
                None => return Err(StoreError::Transmission(format!("no transmission with id {id}"))),
                Some("pending") => {}
                Some(other) => return Err(StoreError::Transmission(format!("transmission {id} is {other}, not pending: nothing to attempt"))),
            }
            match outcome {
                Ok(()) => tx.execute(
                    "UPDATE transmissions SET attempts = attempts + 1, status = 'sent', sent_at = ?2, last_error = NULL WHERE id = ?1",
                    params![id, now],
                )?,
                Err(error) => {
                    let status = if give_up { TransmissionStatus::Failed } else { TransmissionStatus::Pending };
                    tx.execute(
                        "UPDATE transmissions SET attempts = attempts + 1, status = ?2, last_error = ?3 WHERE id = ?1",
                        params![id, status.as_str(), error],
                    )?
                }
            };
            Ok(((), true))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forward(offer: &str, programme: &str, recipient: Option<&str>) -> NewTransmission {
        NewTransmission {
            offer_id: offer.into(),
            programme_id: programme.into(),
            recipient: recipient.map(Into::into),
            recipient_name: Some("Mme Dubois".into()),
            message: Some("Cette offre de stage pourrait intéresser vos étudiants de bachelier.".into()),
            sender: "recruteur-1".into(),
        }
    }

    fn store() -> (tempfile::TempDir, RecordStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = RecordStore::open_dir(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn a_second_forward_returns_the_first_and_writes_nothing() {
        let (_dir, mut store) = store();
        let (first, added) = store.add_transmission(forward("offer:1", "programme:a", Some("dubois@henallux.be"))).unwrap();
        assert!(added);
        assert_eq!((first.status, first.attempts, first.recipient.as_deref()), (TransmissionStatus::Pending, 0, Some("dubois@henallux.be")));
        let mut again = forward("offer:1", "programme:a", Some("autre@henallux.be"));
        again.sender = "recruteur-2".into();
        let (second, added) = store.add_transmission(again).unwrap();
        assert!(!added);
        assert_eq!(second, first, "the existing one, unchanged");
        assert_eq!(store.transmissions(None, None).unwrap().len(), 1);

        let (no_address, added) = store.add_transmission(forward("offer:1", "programme:b", Some("  "))).unwrap();
        assert!(added);
        assert_eq!((no_address.status, no_address.recipient.as_deref()), (TransmissionStatus::NoAddress, None));
        assert_eq!(serde_json::to_value(&no_address).unwrap()["status"], "no_address");
        let err = store.add_transmission(forward("", "programme:b", None)).unwrap_err();
        assert!(err.to_string().contains("offer_id"), "{err}");
    }

    #[test]
    fn listing_by_programme_and_offer_newest_first() {
        let (_dir, mut store) = store();
        store.add_transmission(forward("offer:1", "programme:a", Some("a@ecole.be"))).unwrap();
        store.add_transmission(forward("offer:2", "programme:a", Some("a@ecole.be"))).unwrap();
        store.add_transmission(forward("offer:2", "programme:b", None)).unwrap();
        let ids = |list: Vec<Transmission>| list.into_iter().map(|t| (t.offer_id, t.programme_id)).collect::<Vec<_>>();
        let pair = |o: &str, p: &str| (o.to_string(), p.to_string());
        assert_eq!(
            ids(store.transmissions(None, None).unwrap()),
            vec![pair("offer:2", "programme:b"), pair("offer:2", "programme:a"), pair("offer:1", "programme:a")]
        );
        let a = vec!["programme:a".to_string()];
        assert_eq!(ids(store.transmissions(Some(&a), None).unwrap()), vec![pair("offer:2", "programme:a"), pair("offer:1", "programme:a")]);
        assert_eq!(ids(store.transmissions(Some(&a), Some("offer:1")).unwrap()), vec![pair("offer:1", "programme:a")]);
        assert_eq!(ids(store.transmissions(None, Some("offer:2")).unwrap()).len(), 2);
        assert!(store.transmissions(Some(&[]), None).unwrap().is_empty(), "a key tied to no programme sees none");
        assert_eq!(store.transmissions_to_send().unwrap().len(), 2, "the one without an address is not sent");
    }

    #[test]
    fn attempts_retry_then_send_or_give_up() {
        let (_dir, mut store) = store();
        let (t, _) = store.add_transmission(forward("offer:1", "programme:a", Some("a@ecole.be"))).unwrap();
        let (u, _) = store.add_transmission(forward("offer:1", "programme:b", Some("b@ecole.be"))).unwrap();
        store.record_attempt(t.id, Err("connection refused"), false).unwrap();
        let after = store.transmission(t.id).unwrap().unwrap();
        assert_eq!((after.status, after.attempts, after.last_error.as_deref()), (TransmissionStatus::Pending, 1, Some("connection refused")));
        store.record_attempt(t.id, Ok(()), false).unwrap();
        let sent = store.transmission(t.id).unwrap().unwrap();
        assert_eq!((sent.status, sent.attempts, sent.last_error), (TransmissionStatus::Sent, 2, None));
        assert!(sent.sent_at.is_some());
        assert!(store.record_attempt(t.id, Ok(()), false).unwrap_err().to_string().contains("not pending"));

        store.record_attempt(u.id, Err("550 mailbox unavailable"), true).unwrap();
        let failed = store.transmission(u.id).unwrap().unwrap();
        assert_eq!((failed.status, failed.attempts, failed.sent_at), (TransmissionStatus::Failed, 1, None));
        assert!(store.transmissions_to_send().unwrap().is_empty());
        assert!(store.record_attempt(999, Ok(()), false).unwrap_err().to_string().contains("no transmission with id 999"));
    }
}
