//! The durable drain state: which backends lbpilot changed because of an alert, and what to
//! restore when the alert resolves. One port ([`DrainState`]) with a DynamoDB adapter
//! ([`DynamoState`]) for production and an in-memory adapter ([`MemoryState`]) for tests.
//!
//! # Rules
//!
//! - **One active change per backend.** [`DrainState::claim`] creates a record only when the
//!   backend has no live record; otherwise it returns [`Claim::Held`] with the record that holds
//!   the backend (whichever alert holds it, the same alert included).
//! - **Only the holder changes a record.** [`DrainState::release`] and [`DrainState::resolve`]
//!   name the alert (`alert_key`) that holds the record and are refused with
//!   [`StateError::Conflict`] when another alert holds it.
//! - **One write per drain.** The claim stays as written after the change: whether the
//!   backend is drained is the group's to say (the drain engine reads it before every claim).
//! - **Expiry.** A record whose `expires_at` (epoch seconds) is in the past is absent: `get`
//!   does not return it, and `claim` overwrites it,
//!   `release` by another alert leaves it alone and succeeds. DynamoDB's TTL deletes such items
//!   eventually (up to 48 hours late); the checks here do not depend on that.
//! - **Release is idempotent.** Releasing a backend that has no live record succeeds, so a
//!   retried restore never fails on its own earlier success.
//! - **Retried claims.** A claim that failed with [`StateError::Unavailable`] may still have
//!   been written (a lost answer). Claiming again then returns `Held` with the caller's own
//!   record: compare `alert_key` and `action_id` to recognise it.
//! - **Late notifications.** A restore leaves a *resolution* in place of the record
//!   ([`DrainState::resolve`]: status `resolved`, the alert, and when the source says it
//!   resolved). It holds nothing: any other alert's claim replaces it. But the same alert's
//!   claim for a firing that is not newer than that resolution (`fired_at <= resolved_at`, both
//!   the source's own times) is refused with [`Claim::Resolved`]: a notification delivered
//!   again, or late, after its resolution drains nothing. A backend keeps one resolution, the
//!   last; a claim without `fired_at` (a source that gives no time) is not compared.
//! - **Seen requests.** [`DrainState::note_once`] records a signed request (key `seen:…`, never
//!   a backend key) until its signature expires, so a replay inside the window is recognised.
//!   Such an item is not a drain record: `get` is never asked for it.
//!
//! # DynamoDB table
//!
//! | attribute | type | meaning |
//! |---|---|---|
//! | `backend` | S | **partition key** (no sort key), built by the caller, e.g. `alb:cn-hangzhou:sgp-1:i-abc:80` |
//! | `alert_key` | S | the alert that holds the backend, e.g. `alertmanager:fab249b981721bbd` |
//! | `status` | S | `draining` (the backend's claim: its change sent, in flight or done; the group shows which), `resolved` (a resolution: holds nothing), or `drained` (a confirmed change, as lbpilot wrote it before 2026-12-03: read as a claim) |
//! | `prior_weight` | N | the weight (or dial) before the change; absent when unknown |
//! | `action_id` | S | the drain action's id |
//! | `created_at` | S | RFC 3339 |
//! | `fired_at` | N | epoch milliseconds: when the alert fired, as its source says; absent when unknown |
//! | `resolved_at` | N | epoch milliseconds: when the alert resolved, as its source says (resolutions only) |
//! | `expires_at` | N | epoch seconds; the table's **TTL attribute** |
//!
//! Billing mode and capacity are free to choose; no index is needed. The function needs
//! `dynamodb:PutItem`, `dynamodb:GetItem` and `dynamodb:DeleteItem` on
//! the table. Every read is strongly consistent.
//!
//! | operation | request |
//! |---|---|
//! | `claim` | `PutItem`, condition `attribute_not_exists(backend) OR expires_at < :now OR (status = resolved AND (alert_key <> :k OR resolved_at < :fired_at))` (without `fired_at`: `... OR status = resolved`); when it fails, the holder's item comes back with the error (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), or is read |
//! | `get` | `GetItem`, `ConsistentRead: true` |
//! | `release` | `DeleteItem`, condition `attribute_not_exists(backend) OR alert_key = :k` |
//! | `resolve` | `PutItem` of the resolution, condition `attribute_not_exists(backend) OR expires_at < :now OR (status = resolved AND (alert_key <> :k OR resolved_at < :at)) OR (alert_key = :k AND status <> resolved)` |
//! | `note_once` | `PutItem` of `{backend: "seen:…", alert_key: "seen", status: "seen", created_at, expires_at}`, condition `attribute_not_exists(backend) OR expires_at < :now` |
//!
//! An item that cannot be read as a record (a missing or mistyped attribute, an unknown
//! status) is reported as [`StateError::Corrupt`] and keeps holding its backend until someone
//! deletes it, since nothing safe can be done with it automatically.

use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::Arc;

mod dynamo;
mod memory;

pub use dynamo::DynamoState;
pub use memory::MemoryState;

/// One backend lbpilot changed because of an alert: what to restore later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrainRecord {
    /// The key, e.g. `alb:cn-hangzhou:sgp-1:i-abc:80` (built by the caller).
    pub backend: String,
    /// Which alert holds it, e.g. `alertmanager:fab249b981721bbd`.
    pub alert_key: String,
    pub status: DrainStatus,
    /// The weight (or dial) before lbpilot changed it; `None` when unknown.
    pub prior_weight: Option<i64>,
    /// The drain action's id (stable: a retry reuses it).
    pub action_id: String,
    /// RFC 3339.
    pub created_at: String,
    /// Epoch seconds, the table's TTL attribute: records do not live forever.
    pub expires_at: i64,
    /// Epoch milliseconds: when the alert fired, by its source's clock (`None`: not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fired_at: Option<i64>,
    /// Epoch milliseconds: when the alert resolved, by its source's clock (resolutions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<i64>,
}

impl DrainRecord {
    /// Whether the record is past its expiry at `now` (epoch seconds), and so absent.
    pub fn is_expired_at(&self, now: i64) -> bool {
        self.expires_at < now
    }

    /// A resolution left by a restore: it holds nothing.
    pub fn is_resolution(&self) -> bool {
        self.status == DrainStatus::Resolved
    }

    /// Whether this resolution refuses `claim`: the same alert, firing no later than it resolved.
    pub fn refuses(&self, claim: &DrainRecord) -> bool {
        self.is_resolution()
            && self.alert_key == claim.alert_key
            && match (claim.fired_at, self.resolved_at) {
                (Some(fired), Some(resolved)) => fired <= resolved,
                _ => false,
            }
    }

    /// The resolution `alert_key` leaves on `backend` at `resolved_at` (epoch ms).
    pub fn resolution(backend: &str, alert_key: &str, resolved_at: i64, expires_at: i64) -> Self {
        DrainRecord {
            backend: backend.to_string(),
            alert_key: alert_key.to_string(),
            status: DrainStatus::Resolved,
            prior_weight: None,
            action_id: String::new(),
            created_at: crate::outcome::now(),
            expires_at,
            fired_at: None,
            resolved_at: Some(resolved_at),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrainStatus {
    /// The backend's claim: its change sent, in flight or done (the group shows which).
    Draining,
    /// A confirmed change, as lbpilot wrote it before 2026-12-03 (a second write per drain);
    /// read as a claim, no longer written.
    Drained,
    /// The alert resolved and the backend was restored: remembered, holding nothing.
    Resolved,
}

impl DrainStatus {
    /// The stored form: `draining` or `drained`.
    pub fn as_str(self) -> &'static str {
        match self {
            DrainStatus::Draining => "draining",
            DrainStatus::Drained => "drained",
            DrainStatus::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<DrainStatus> {
        match text {
            "draining" => Some(DrainStatus::Draining),
            "drained" => Some(DrainStatus::Drained),
            "resolved" => Some(DrainStatus::Resolved),
            _ => None,
        }
    }
}

impl std::fmt::Display for DrainStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`DrainState::claim`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The record was written: the caller holds the backend.
    Created,
    /// A live record already holds the backend (possibly the caller's own, from an earlier
    /// attempt): this one, unchanged.
    Held(DrainRecord),
    /// The same alert resolved at or after the time this firing gives: a late or repeated
    /// notification. The resolution, unchanged.
    Resolved(DrainRecord),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The store could not be reached or refused for now (throttling, a server error, a
    /// timeout, a missing table or permission): a retry can help.
    #[error("drain state unavailable: {0}")]
    Unavailable(String),
    /// A condition failed on update or delete: another alert holds the backend, or no live
    /// record exists.
    #[error("drain state conflict: {0}")]
    Conflict(String),
    /// A stored item is not a valid record, or the request was malformed: a retry cannot help.
    #[error("drain state corrupt: {0}")]
    Corrupt(String),
}

impl StateError {
    /// Only [`StateError::Unavailable`] can pass on a retry.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StateError::Unavailable(_))
    }
}

/// The durable record of backends changed because of alerts.
pub trait DrainState: Send + Sync {
    /// Conditionally creates the record (only if no live record exists for `backend`): one
    /// active change per backend.
    fn claim(&self, record: &DrainRecord)
    -> impl Future<Output = Result<Claim, StateError>> + Send;

    /// The live record for `backend` (an expired one is absent).
    fn get(
        &self,
        backend: &str,
    ) -> impl Future<Output = Result<Option<DrainRecord>, StateError>> + Send;

    /// Deletes the record, only if it is held by `alert_key` (after a restore, or when a drain
    /// failed for good). Succeeds when there is no live record.
    fn release(
        &self,
        backend: &str,
        alert_key: &str,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Replaces the record `alert_key` holds on `backend` (or nothing, an expired record, or a
    /// resolution older than `resolved_at`, or another alert's resolution) with its resolution
    /// at `resolved_at` (epoch ms, the source's time), kept until `expires_at`. A newer
    /// resolution of the same alert is kept; another alert's live record is a `Conflict`.
    fn resolve(
        &self,
        backend: &str,
        alert_key: &str,
        resolved_at: i64,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Records `key` (which must start with [`SEEN_PREFIX`]) until `expires_at` (epoch
    /// seconds), in one conditional write: `true` the first time, `false` while an earlier
    /// record of it lives (a replay). An expired record is overwritten.
    fn note_once(
        &self,
        key: &str,
        expires_at: i64,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;
}

/// The prefix of [`DrainState::note_once`] keys, which no backend key has.
pub const SEEN_PREFIX: &str = "seen:";

impl<T: DrainState> DrainState for Arc<T> {
    fn claim(
        &self,
        record: &DrainRecord,
    ) -> impl Future<Output = Result<Claim, StateError>> + Send {
        (**self).claim(record)
    }

    fn get(
        &self,
        backend: &str,
    ) -> impl Future<Output = Result<Option<DrainRecord>, StateError>> + Send {
        (**self).get(backend)
    }

    fn release(
        &self,
        backend: &str,
        alert_key: &str,
    ) -> impl Future<Output = Result<(), StateError>> + Send {
        (**self).release(backend, alert_key)
    }

    fn resolve(
        &self,
        backend: &str,
        alert_key: &str,
        resolved_at: i64,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), StateError>> + Send {
        (**self).resolve(backend, alert_key, resolved_at, expires_at)
    }

    fn note_once(
        &self,
        key: &str,
        expires_at: i64,
    ) -> impl Future<Output = Result<bool, StateError>> + Send {
        (**self).note_once(key, expires_at)
    }
}

/// Now, in epoch seconds, as expiry is compared.
pub(crate) fn now_epoch() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Refuses a record no adapter should store.
pub(crate) fn check_record(record: &DrainRecord) -> Result<(), StateError> {
    if record.backend.is_empty() {
        return Err(StateError::Corrupt("the record's backend is empty".into()));
    }
    if record.alert_key.is_empty() {
        return Err(StateError::Corrupt(
            "the record's alert_key is empty".into(),
        ));
    }
    Ok(())
}

/// Refuses a [`DrainState::note_once`] key outside its namespace.
pub(crate) fn check_seen_key(key: &str) -> Result<(), StateError> {
    if key.len() > SEEN_PREFIX.len() && key.starts_with(SEEN_PREFIX) {
        Ok(())
    } else {
        Err(StateError::Corrupt(format!(
            "a seen-request key must start with {SEEN_PREFIX:?} and name something"
        )))
    }
}

/// Refuses an empty backend key (DynamoDB refuses an empty key too).
pub(crate) fn check_backend(backend: &str) -> Result<(), StateError> {
    if backend.is_empty() {
        Err(StateError::Corrupt("the backend is empty".into()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips() {
        for s in [
            DrainStatus::Draining,
            DrainStatus::Drained,
            DrainStatus::Resolved,
        ] {
            assert_eq!(DrainStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::json!(s.as_str())
            );
        }
        assert_eq!(DrainStatus::parse("Drained"), None);
    }

    #[test]
    fn expiry_is_strict() {
        let r = DrainRecord {
            backend: "b".into(),
            alert_key: "a".into(),
            status: DrainStatus::Draining,
            prior_weight: None,
            action_id: "x".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            expires_at: 100,
            fired_at: None,
            resolved_at: None,
        };
        assert!(!r.is_expired_at(100));
        assert!(r.is_expired_at(101));
    }

    #[test]
    fn a_resolution_refuses_only_its_own_alert_firing_no_later() {
        let resolved = DrainRecord::resolution("b", "am:1", 2_000, 100);
        let mut firing = DrainRecord::resolution("b", "am:1", 0, 100);
        firing.status = DrainStatus::Draining;
        firing.resolved_at = None;
        for (fired_at, refused) in [
            (Some(1_000), true),
            (Some(2_000), true),
            (Some(2_001), false),
            (None, false),
        ] {
            firing.fired_at = fired_at;
            assert_eq!(resolved.refuses(&firing), refused, "{fired_at:?}");
        }
        firing.fired_at = Some(1_000);
        firing.alert_key = "am:2".into();
        assert!(!resolved.refuses(&firing));
    }
}
