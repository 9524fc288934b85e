//! The drain state in a DynamoDB table (layout and requests: see the [module](super) docs).

use super::{
    Claim, DrainRecord, DrainState, DrainStatus, StateError, check_backend, check_record,
    check_seen_key,
};
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

const BACKEND: &str = "backend";
const ALERT_KEY: &str = "alert_key";
const STATUS: &str = "status";
const PRIOR_WEIGHT: &str = "prior_weight";
const ACTION_ID: &str = "action_id";
const CREATED_AT: &str = "created_at";
const EXPIRES_AT: &str = "expires_at";
const FIRED_AT: &str = "fired_at";
const RESOLVED_AT: &str = "resolved_at";

/// How often `claim` and `release` try again when the item their condition failed on changed
/// before it could be read (only when DynamoDB did not return it with the error).
const ROUNDS: usize = 3;

/// The drain state in the DynamoDB table `table`. The client comes from the AWS configuration
/// chain (`AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL` replace the endpoint); its retry and
/// timeout settings apply to every call.
#[derive(Debug, Clone)]
pub struct DynamoState {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoState {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> DynamoState {
        DynamoState {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn key(backend: &str) -> (String, AttributeValue) {
        (BACKEND.to_string(), AttributeValue::S(backend.to_string()))
    }

    /// The stored item for `backend`, expired or not (a consistent read).
    async fn read(&self, backend: &str) -> Result<Option<Item>, StateError> {
        let (name, value) = Self::key(backend);
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(name, value)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem", &e))?;
        Ok(out.item().cloned())
    }

    /// The condition failed for `backend`: the item it failed on, from the error or read.
    async fn refused_by(
        &self,
        backend: &str,
        item: Option<&Item>,
    ) -> Result<Option<Item>, StateError> {
        match item {
            Some(item) => Ok(Some(item.clone())),
            None => self.read(backend).await,
        }
    }
}

impl DrainState for DynamoState {
    async fn claim(&self, record: &DrainRecord) -> Result<Claim, StateError> {
        check_record(record)?;
        // A resolution gives way, unless it is this alert's and not older than this firing.
        let (condition, fired) = match record.fired_at {
            Some(fired) => (
                "attribute_not_exists(#b) OR #e < :now OR (#s = :resolved AND (#k <> :k OR #r < :fired))",
                Some(AttributeValue::N(fired.to_string())),
            ),
            None => (
                "attribute_not_exists(#b) OR #e < :now OR #s = :resolved",
                None,
            ),
        };
        for _ in 0..ROUNDS {
            let now = super::now_epoch();
            let mut put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(to_item(record)))
                .condition_expression(condition)
                .expression_attribute_names("#b", BACKEND)
                .expression_attribute_names("#e", EXPIRES_AT)
                .expression_attribute_names("#s", STATUS)
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
                .expression_attribute_values(":resolved", resolved_status());
            if let Some(fired) = &fired {
                put = put
                    .expression_attribute_names("#k", ALERT_KEY)
                    .expression_attribute_names("#r", RESOLVED_AT)
                    .expression_attribute_values(":k", AttributeValue::S(record.alert_key.clone()))
                    .expression_attribute_values(":fired", fired.clone());
            }
            let result = put
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let failed = match result {
                Ok(_) => return Ok(Claim::Created),
                Err(e) => match e.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(c)) => c.item().cloned(),
                    _ => return Err(classify("PutItem", &e)),
                },
            };
            // No holder any more (released between the refusal and the read), or one that
            // expired meanwhile: claim again.
            if let Some(item) = self.refused_by(&record.backend, failed.as_ref()).await? {
                let holder = from_item(&item)?;
                if holder.refuses(record) {
                    return Ok(Claim::Resolved(holder));
                }
                if !holder.is_expired_at(super::now_epoch()) && !holder.is_resolution() {
                    return Ok(Claim::Held(holder));
                }
            }
        }
        Err(StateError::Unavailable(format!(
            "{}: the claim kept racing other changes",
            record.backend
        )))
    }

    async fn get(&self, backend: &str) -> Result<Option<DrainRecord>, StateError> {
        check_backend(backend)?;
        let Some(item) = self.read(backend).await? else {
            return Ok(None);
        };
        let record = from_item(&item)?;
        let live = !record.is_expired_at(super::now_epoch()) && !record.is_resolution();
        Ok(live.then_some(record))
    }

    async fn release(&self, backend: &str, alert_key: &str) -> Result<(), StateError> {
        check_backend(backend)?;
        for _ in 0..ROUNDS {
            let (name, value) = Self::key(backend);
            let result = self
                .client
                .delete_item()
                .table_name(&self.table)
                .key(name, value)
                .condition_expression("attribute_not_exists(#b) OR #k = :k")
                .expression_attribute_names("#b", BACKEND)
                .expression_attribute_names("#k", ALERT_KEY)
                .expression_attribute_values(":k", AttributeValue::S(alert_key.to_string()))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let failed = match result {
                Ok(_) => return Ok(()),
                Err(e) => match e.as_service_error() {
                    Some(DeleteItemError::ConditionalCheckFailedException(c)) => c.item().cloned(),
                    _ => return Err(classify("DeleteItem", &e)),
                },
            };
            let Some(item) = self.refused_by(backend, failed.as_ref()).await? else {
                return Ok(());
            };
            let holder = string(&item, ALERT_KEY)?;
            // A resolution holds nothing, so there is nothing to release.
            if string(&item, STATUS).is_ok_and(|s| s == DrainStatus::Resolved.as_str()) {
                return Ok(());
            }
            // Another alert's record is absent (so there is nothing to release) once expired;
            // `claim` overwrites it, TTL deletes it.
            if holder != alert_key {
                if number(&item, EXPIRES_AT)? < super::now_epoch() {
                    return Ok(());
                }
                return Err(StateError::Conflict(format!("{backend}: held by {holder}")));
            }
            // Claimed by this alert again between the refusal and the read: delete again.
        }
        Err(StateError::Unavailable(format!(
            "{backend}: the release kept racing other changes"
        )))
    }

    async fn resolve(
        &self,
        backend: &str,
        alert_key: &str,
        resolved_at: i64,
        expires_at: i64,
    ) -> Result<(), StateError> {
        check_backend(backend)?;
        let resolution = DrainRecord::resolution(backend, alert_key, resolved_at, expires_at);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&resolution)))
            .condition_expression(
                "attribute_not_exists(#b) OR #e < :now OR (#s = :resolved AND (#k <> :k OR #r < :at)) OR (#k = :k AND #s <> :resolved)",
            )
            .expression_attribute_names("#b", BACKEND)
            .expression_attribute_names("#e", EXPIRES_AT)
            .expression_attribute_names("#s", STATUS)
            .expression_attribute_names("#k", ALERT_KEY)
            .expression_attribute_names("#r", RESOLVED_AT)
            .expression_attribute_values(":now", AttributeValue::N(super::now_epoch().to_string()))
            .expression_attribute_values(":resolved", resolved_status())
            .expression_attribute_values(":k", AttributeValue::S(alert_key.to_string()))
            .expression_attribute_values(":at", AttributeValue::N(resolved_at.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let failed = match result {
            Ok(_) => return Ok(()),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(c)) => c.item().cloned(),
                _ => return Err(classify("PutItem", &e)),
            },
        };
        // Refused by a newer resolution of this alert (kept), or by another alert's record.
        match self.refused_by(backend, failed.as_ref()).await? {
            Some(item) if string(&item, STATUS)? != DrainStatus::Resolved.as_str() => Err(
                StateError::Conflict(format!("{backend}: held by {}", string(&item, ALERT_KEY)?)),
            ),
            _ => Ok(()),
        }
    }

    async fn note_once(&self, key: &str, expires_at: i64) -> Result<bool, StateError> {
        check_seen_key(key)?;
        let item = Item::from([
            (BACKEND.into(), AttributeValue::S(key.to_string())),
            (ALERT_KEY.into(), AttributeValue::S("seen".into())),
            (STATUS.into(), AttributeValue::S("seen".into())),
            (CREATED_AT.into(), AttributeValue::S(crate::outcome::now())),
            (EXPIRES_AT.into(), AttributeValue::N(expires_at.to_string())),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#b) OR #e < :now")
            .expression_attribute_names("#b", BACKEND)
            .expression_attribute_names("#e", EXPIRES_AT)
            .expression_attribute_values(":now", AttributeValue::N(super::now_epoch().to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(_)) => Ok(false),
                _ => Err(classify("PutItem", &e)),
            },
        }
    }
}

/// A record as a DynamoDB item (`prior_weight` absent when `None`).
pub(crate) fn to_item(record: &DrainRecord) -> Item {
    let mut item = Item::from([
        (BACKEND.into(), AttributeValue::S(record.backend.clone())),
        (
            ALERT_KEY.into(),
            AttributeValue::S(record.alert_key.clone()),
        ),
        (
            STATUS.into(),
            AttributeValue::S(record.status.as_str().into()),
        ),
        (
            ACTION_ID.into(),
            AttributeValue::S(record.action_id.clone()),
        ),
        (
            CREATED_AT.into(),
            AttributeValue::S(record.created_at.clone()),
        ),
        (
            EXPIRES_AT.into(),
            AttributeValue::N(record.expires_at.to_string()),
        ),
    ]);
    for (name, value) in [
        (PRIOR_WEIGHT, record.prior_weight),
        (FIRED_AT, record.fired_at),
        (RESOLVED_AT, record.resolved_at),
    ] {
        if let Some(n) = value {
            item.insert(name.into(), AttributeValue::N(n.to_string()));
        }
    }
    item
}

fn resolved_status() -> AttributeValue {
    AttributeValue::S(DrainStatus::Resolved.as_str().into())
}

/// An optional number: absent or NULL is `None`.
fn optional_number(item: &Item, name: &str) -> Result<Option<i64>, StateError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(true)) => Ok(None),
        Some(_) => number(item, name).map(Some),
    }
}

/// A DynamoDB item as a record; attributes other than the record's are ignored.
pub(crate) fn from_item(item: &Item) -> Result<DrainRecord, StateError> {
    let backend = string(item, BACKEND)?;
    let status_text = string(item, STATUS)?;
    let status = DrainStatus::parse(&status_text)
        .ok_or_else(|| StateError::Corrupt(format!("{backend}: unknown status {status_text:?}")))?;
    let prior_weight = optional_number(item, PRIOR_WEIGHT)?;
    Ok(DrainRecord {
        fired_at: optional_number(item, FIRED_AT)?,
        resolved_at: optional_number(item, RESOLVED_AT)?,
        alert_key: string(item, ALERT_KEY)?,
        status,
        prior_weight,
        action_id: string(item, ACTION_ID)?,
        created_at: string(item, CREATED_AT)?,
        expires_at: number(item, EXPIRES_AT)?,
        backend,
    })
}

fn describe(item: &Item) -> String {
    match item.get(BACKEND) {
        Some(AttributeValue::S(b)) => b.clone(),
        _ => "an item".to_string(),
    }
}

fn string(item: &Item, name: &str) -> Result<String, StateError> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Ok(s.clone()),
        Some(_) => Err(StateError::Corrupt(format!(
            "{}: {name} is not a string",
            describe(item)
        ))),
        None => Err(StateError::Corrupt(format!(
            "{}: {name} is missing",
            describe(item)
        ))),
    }
}

fn number(item: &Item, name: &str) -> Result<i64, StateError> {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().map_err(|_| {
            StateError::Corrupt(format!(
                "{}: {name} is not a whole number: {n}",
                describe(item)
            ))
        }),
        Some(_) => Err(StateError::Corrupt(format!(
            "{}: {name} is not a number",
            describe(item)
        ))),
        None => Err(StateError::Corrupt(format!(
            "{}: {name} is missing",
            describe(item)
        ))),
    }
}

/// An SDK error as a [`StateError`]. A failed condition reaching this (operations handle
/// their own) is a `Conflict`; a request DynamoDB calls invalid is `Corrupt`; everything else
/// (throttling, server errors, a missing table, refused credentials, timeouts, no connection,
/// an unreadable answer) is `Unavailable`.
fn classify<E>(operation: &str, error: &SdkError<E>) -> StateError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = DisplayErrorContext(error);
    match error {
        SdkError::ConstructionFailure(_) => {
            StateError::Corrupt(format!("{operation} could not be built: {detail}"))
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().unwrap_or("unknown");
            let message = format!(
                "{operation} failed: HTTP {status} {code}: {}",
                service.err().message().unwrap_or_default()
            );
            match code {
                "ConditionalCheckFailedException" => StateError::Conflict(message),
                "ValidationException" | "SerializationException" => StateError::Corrupt(message),
                _ => StateError::Unavailable(message),
            }
        }
        _ => StateError::Unavailable(format!("{operation} failed: {detail}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(prior_weight: Option<i64>) -> DrainRecord {
        DrainRecord {
            backend: "alb:cn-hangzhou:sgp-1:i-abc:80".into(),
            alert_key: "alertmanager:fab249b981721bbd".into(),
            status: DrainStatus::Draining,
            prior_weight,
            action_id: "lbp-drain-1".into(),
            created_at: "2026-12-02T06:01:02Z".into(),
            expires_at: 1_796_000_000,
            fired_at: None,
            resolved_at: None,
        }
    }

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(v.into())
    }

    #[test]
    fn an_item_has_the_documented_attributes() {
        let item = to_item(&record(Some(100)));
        assert_eq!(
            item,
            Item::from([
                ("backend".into(), s("alb:cn-hangzhou:sgp-1:i-abc:80")),
                ("alert_key".into(), s("alertmanager:fab249b981721bbd")),
                ("status".into(), s("draining")),
                ("prior_weight".into(), n("100")),
                ("action_id".into(), s("lbp-drain-1")),
                ("created_at".into(), s("2026-12-02T06:01:02Z")),
                ("expires_at".into(), n("1796000000")),
            ])
        );
    }

    #[test]
    fn an_unknown_prior_weight_is_absent() {
        let item = to_item(&record(None));
        assert!(!item.contains_key("prior_weight"));
        assert_eq!(item.len(), 6);
    }

    #[test]
    fn records_round_trip() {
        for weight in [None, Some(0), Some(100), Some(-1), Some(i64::MAX)] {
            for status in [DrainStatus::Draining, DrainStatus::Drained] {
                let mut r = record(weight);
                r.status = status;
                assert_eq!(from_item(&to_item(&r)).unwrap(), r);
            }
        }
    }

    #[test]
    fn extra_attributes_are_ignored_and_null_weight_is_none() {
        let mut item = to_item(&record(None));
        item.insert("note".into(), s("added by hand"));
        item.insert("prior_weight".into(), AttributeValue::Null(true));
        assert_eq!(from_item(&item).unwrap(), record(None));
    }

    #[test]
    fn malformed_items_are_corrupt() {
        let good = to_item(&record(Some(5)));
        let cases: Vec<(&str, Option<AttributeValue>, &str)> = vec![
            ("status", Some(s("Drained")), "unknown status"),
            ("status", None, "status is missing"),
            ("alert_key", Some(n("1")), "alert_key is not a string"),
            ("action_id", None, "action_id is missing"),
            ("created_at", None, "created_at is missing"),
            (
                "expires_at",
                Some(s("1796000000")),
                "expires_at is not a number",
            ),
            ("expires_at", Some(n("1.5")), "not a whole number"),
            ("expires_at", None, "expires_at is missing"),
            (
                "prior_weight",
                Some(s("100")),
                "prior_weight is not a number",
            ),
            ("prior_weight", Some(n("1e3")), "not a whole number"),
            ("backend", None, "backend is missing"),
        ];
        for (name, value, expected) in cases {
            let mut item = good.clone();
            match value {
                Some(v) => item.insert(name.into(), v),
                None => item.remove(name),
            };
            match from_item(&item) {
                Err(StateError::Corrupt(m)) => {
                    assert!(m.contains(expected), "{name}: {m}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn corrupt_messages_name_the_backend() {
        let mut item = to_item(&record(None));
        item.remove("status");
        let Err(StateError::Corrupt(m)) = from_item(&item) else {
            panic!("corrupt")
        };
        assert!(m.starts_with("alb:cn-hangzhou:sgp-1:i-abc:80: "), "{m}");
    }
}
