//! The drain-state store: the same behaviour from the DynamoDB adapter (against moto's server)
//! and the in-memory adapter, then what only one of them can show (a missing table, a server
//! that is down, a corrupt item; injected failures).

use aws_sdk_dynamodb::types::AttributeValue;
use lbpilot::state::{
    Claim, DrainRecord, DrainState, DrainStatus, DynamoState, MemoryState, StateError,
};
use lbpilot_tests::moto::{Moto, dynamodb_client};
use lbpilot_tests::ports::free_port;
use std::sync::Arc;
use std::time::Duration;

const TABLE: &str = "lbpilot-drain-state";

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn record(backend: &str, alert_key: &str, action_id: &str) -> DrainRecord {
    DrainRecord {
        backend: backend.to_string(),
        alert_key: alert_key.to_string(),
        status: DrainStatus::Draining,
        prior_weight: Some(100),
        action_id: action_id.to_string(),
        created_at: "2026-12-02T06:01:02Z".to_string(),
        expires_at: now() + 3600,
        fired_at: Some(1_000),
        resolved_at: None,
    }
}

fn expired(mut r: DrainRecord) -> DrainRecord {
    r.expires_at = now() - 60;
    r
}

fn is_conflict<T: std::fmt::Debug>(result: Result<T, StateError>) -> bool {
    matches!(result, Err(StateError::Conflict(_)))
}

// ---- the shared behaviour, written once ----

async fn claim_creates_and_get_reads<S: DrainState>(state: Arc<S>) {
    let b = "alb:cn-hangzhou:sgp-1:i-abc:80";
    assert_eq!(state.get(b).await.unwrap(), None);
    let r = record(b, "alertmanager:fab249b981721bbd", "drain-1");
    assert_eq!(state.claim(&r).await.unwrap(), Claim::Created);
    assert_eq!(state.get(b).await.unwrap(), Some(r));

    // An unknown prior weight is kept as unknown.
    let mut unknown = record("ga:eg-1", "alertmanager:1", "drain-2");
    unknown.prior_weight = None;
    assert_eq!(state.claim(&unknown).await.unwrap(), Claim::Created);
    assert_eq!(state.get("ga:eg-1").await.unwrap(), Some(unknown));
}

async fn second_claim_is_held<S: DrainState>(state: Arc<S>) {
    let b = "slb:cn-shanghai:rsp-1:i-1:8080";
    let first = record(b, "alertmanager:a", "drain-a");
    assert_eq!(state.claim(&first).await.unwrap(), Claim::Created);

    // The same alert again (a redelivery, a new action id) and another alert: both held.
    let again = record(b, "alertmanager:a", "drain-a-2");
    assert_eq!(
        state.claim(&again).await.unwrap(),
        Claim::Held(first.clone())
    );
    let mut other = record(b, "cloudwatch:b", "drain-b");
    other.prior_weight = Some(7);
    other.status = DrainStatus::Drained;
    assert_eq!(
        state.claim(&other).await.unwrap(),
        Claim::Held(first.clone())
    );
    // Nothing was overwritten.
    assert_eq!(state.get(b).await.unwrap(), Some(first));
}

async fn concurrent_claims_create_one<S: DrainState + 'static>(state: Arc<S>) {
    let b = "alb:cn-hangzhou:sgp-2:i-xyz:443";
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let state = state.clone();
            let r = record(b, &format!("alert:{i}"), &format!("drain-{i}"));
            tokio::spawn(async move { (r.clone(), state.claim(&r).await) })
        })
        .collect();
    let mut created = Vec::new();
    let mut held = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (r, Ok(Claim::Created)) => created.push(r),
            (_, Ok(Claim::Held(h))) => held.push(h),
            (r, Err(e)) => panic!("{}: {e}", r.alert_key),
            (r, Ok(Claim::Resolved(_))) => panic!("{}: no resolution was written", r.alert_key),
        }
    }
    assert_eq!(created.len(), 1, "exactly one claim wins: {created:?}");
    assert_eq!(held.len(), 9);
    let winner = created.pop().unwrap();
    assert!(held.iter().all(|h| *h == winner), "all see the winner");
    assert_eq!(state.get(b).await.unwrap(), Some(winner));
}

async fn release_only_by_the_holder<S: DrainState>(state: Arc<S>) {
    let b = "alb:cn-hangzhou:sgp-3:i-1:80";
    // Nothing to release: fine (idempotent).
    state.release(b, "alert:a").await.unwrap();

    let r = record(b, "alert:a", "drain-a");
    state.claim(&r).await.unwrap();
    assert!(is_conflict(state.release(b, "alert:b").await));
    assert_eq!(state.get(b).await.unwrap(), Some(r.clone()));

    state.release(b, "alert:a").await.unwrap();
    assert_eq!(state.get(b).await.unwrap(), None);
    // A retried release succeeds; the backend can be claimed again, by anyone.
    state.release(b, "alert:a").await.unwrap();
    let next = record(b, "alert:b", "drain-b");
    assert_eq!(state.claim(&next).await.unwrap(), Claim::Created);
    assert_eq!(state.get(b).await.unwrap(), Some(next));
}

async fn expired_records_are_absent<S: DrainState>(state: Arc<S>) {
    let b = "alb:cn-hangzhou:sgp-4:i-1:80";
    let old = expired(record(b, "alert:a", "drain-a"));
    assert_eq!(state.claim(&old).await.unwrap(), Claim::Created);
    assert_eq!(state.get(b).await.unwrap(), None);
    // Another alert has nothing to release.
    state.release(b, "alert:b").await.unwrap();

    // It is claimed over, by another alert or the same one.
    let fresh = record(b, "alert:b", "drain-b");
    assert_eq!(state.claim(&fresh).await.unwrap(), Claim::Created);
    assert_eq!(state.get(b).await.unwrap(), Some(fresh.clone()));
    assert!(is_conflict(state.release(b, "alert:a").await));

    let b2 = "alb:cn-hangzhou:sgp-4:i-2:80";
    state
        .claim(&expired(record(b2, "alert:a", "drain-a")))
        .await
        .unwrap();
    let again = record(b2, "alert:a", "drain-a-2");
    assert_eq!(state.claim(&again).await.unwrap(), Claim::Created);
    assert_eq!(state.get(b2).await.unwrap(), Some(again));

    // The holder may still clean up its own expired record.
    let b3 = "alb:cn-hangzhou:sgp-4:i-3:80";
    state
        .claim(&expired(record(b3, "alert:a", "drain-a")))
        .await
        .unwrap();
    state.release(b3, "alert:a").await.unwrap();
}

async fn empty_keys_are_refused<S: DrainState>(state: Arc<S>) {
    let r = record("", "alert:a", "drain-a");
    assert!(matches!(state.claim(&r).await, Err(StateError::Corrupt(_))));
    let r = record("b", "", "drain-a");
    assert!(matches!(state.claim(&r).await, Err(StateError::Corrupt(_))));
    assert!(matches!(state.get("").await, Err(StateError::Corrupt(_))));
}

/// A seen request is noted once while it lives, again once expired; its keys are its own.
async fn seen_requests_are_noted_once<S: DrainState + 'static>(state: Arc<S>) {
    let key = "seen:grafana:3f9a";
    assert!(
        state.note_once(key, now() + 300).await.unwrap(),
        "the first time"
    );
    assert!(
        !state.note_once(key, now() + 300).await.unwrap(),
        "a replay"
    );
    assert!(
        !state.note_once(key, now() + 600).await.unwrap(),
        "a replay, later expiry"
    );
    assert!(
        state
            .note_once("seen:grafana:other", now() + 300)
            .await
            .unwrap()
    );
    // Expired: noted again (as after the window, where the signature is refused anyway).
    let old = "seen:grafana:old";
    assert!(state.note_once(old, now() - 1).await.unwrap());
    assert!(state.note_once(old, now() + 300).await.unwrap());
    // Concurrent replays: exactly one is first.
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let state = state.clone();
            tokio::spawn(async move { state.note_once("seen:grafana:race", now() + 300).await })
        })
        .collect();
    let mut firsts = 0;
    for t in tasks {
        firsts += usize::from(t.await.unwrap().unwrap());
    }
    assert_eq!(firsts, 1);
    // Only `seen:` keys, so a backend's record is never touched.
    let b = "alb:cn-hangzhou:sgp-7:i-1:80";
    let r = record(b, "alert:a", "drain-a");
    state.claim(&r).await.unwrap();
    for bad in [b, "", "seen:"] {
        assert!(
            matches!(
                state.note_once(bad, now() + 300).await,
                Err(StateError::Corrupt(_))
            ),
            "{bad:?}"
        );
    }
    assert_eq!(state.get(b).await.unwrap(), Some(r));
}

async fn a_resolution_refuses_late_firings_of_its_alert_only<S: DrainState>(state: Arc<S>) {
    let b = "alb:cn-hangzhou:sgp-4:i-1:80";
    let firing = |alert: &str, fired_at: Option<i64>| DrainRecord {
        fired_at,
        ..record(b, alert, &format!("drain-{fired_at:?}"))
    };
    // Drained for alert:a (fired at 1000), then restored: resolved at 5000.
    let first = firing("alert:a", Some(1_000));
    assert_eq!(state.claim(&first).await.unwrap(), Claim::Created);
    state
        .resolve(b, "alert:a", 5_000, now() + 3600)
        .await
        .unwrap();
    // A resolution holds nothing and is not a record.
    assert_eq!(state.get(b).await.unwrap(), None);
    state.release(b, "alert:b").await.unwrap();

    // The same firing again (or any not newer than the resolution) is refused.
    for fired_at in [1_000, 5_000] {
        match state
            .claim(&firing("alert:a", Some(fired_at)))
            .await
            .unwrap()
        {
            Claim::Resolved(r) => {
                assert_eq!(
                    (r.status, r.resolved_at),
                    (DrainStatus::Resolved, Some(5_000))
                );
                assert_eq!(r.alert_key, "alert:a");
            }
            other => panic!("a firing at {fired_at} after the resolution at 5000: {other:?}"),
        }
    }
    // An older resolution of the same alert keeps the newer one.
    state
        .resolve(b, "alert:a", 4_000, now() + 3600)
        .await
        .unwrap();
    assert!(matches!(
        state.claim(&firing("alert:a", Some(4_500))).await.unwrap(),
        Claim::Resolved(_)
    ));
    // A firing without a time is not compared; neither is another alert's.
    assert_eq!(
        state.claim(&firing("alert:a", None)).await.unwrap(),
        Claim::Created
    );
    state
        .resolve(b, "alert:a", 5_000, now() + 3600)
        .await
        .unwrap();
    assert_eq!(
        state.claim(&firing("alert:b", Some(10))).await.unwrap(),
        Claim::Created
    );
    // A live record of another alert is not replaced by a resolution.
    assert!(is_conflict(
        state.resolve(b, "alert:a", 9_000, now() + 3600).await
    ));
    assert_eq!(state.get(b).await.unwrap().unwrap().alert_key, "alert:b");
    // The alert firing anew (after its resolution) drains again.
    state.resolve(b, "alert:b", 20, now() + 3600).await.unwrap();
    state
        .resolve(b, "alert:a", 5_000, now() + 3600)
        .await
        .unwrap();
    let anew = firing("alert:a", Some(5_001));
    assert_eq!(state.claim(&anew).await.unwrap(), Claim::Created);
    assert_eq!(state.get(b).await.unwrap(), Some(anew));
    // An expired resolution refuses nothing.
    state
        .resolve(b, "alert:a", 9_000, now() - 60)
        .await
        .unwrap();
    assert_eq!(
        state.claim(&firing("alert:a", Some(6_000))).await.unwrap(),
        Claim::Created
    );
}

/// One test per behaviour for each adapter. `dynamo` tests each get their own moto.
macro_rules! behaviour {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(std::sync::Arc::new(lbpilot::state::MemoryState::default())).await;
                }
            )*
        }
        mod dynamo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let moto = lbpilot_tests::moto::Moto::start().await;
                    moto.create_state_table(super::TABLE).await;
                    let state = lbpilot::state::DynamoState::new(moto.dynamodb(), super::TABLE);
                    super::$name(std::sync::Arc::new(state)).await;
                }
            )*
        }
    };
}

behaviour!(
    claim_creates_and_get_reads,
    second_claim_is_held,
    concurrent_claims_create_one,
    release_only_by_the_holder,
    expired_records_are_absent,
    empty_keys_are_refused,
    seen_requests_are_noted_once,
    a_resolution_refuses_late_firings_of_its_alert_only,
);

// ---- the DynamoDB adapter only ----

async fn assert_all_unavailable(state: &DynamoState) {
    let r = record("alb:cn-hangzhou:sgp-9:i-1:80", "alert:a", "drain-a");
    let results = [
        ("claim", state.claim(&r).await.map(|_| ())),
        ("get", state.get(&r.backend).await.map(|_| ())),
        ("release", state.release(&r.backend, "alert:a").await),
        (
            "resolve",
            state
                .resolve(&r.backend, "alert:a", 1_000, now() + 300)
                .await,
        ),
        (
            "note_once",
            state
                .note_once("seen:grafana:x", now() + 300)
                .await
                .map(drop),
        ),
    ];
    for (op, result) in results {
        match result {
            Err(e @ StateError::Unavailable(_)) => assert!(e.is_retryable()),
            other => panic!("{op}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_missing_table_is_unavailable() {
    let moto = Moto::start().await;
    let state = DynamoState::new(moto.dynamodb(), "no-such-table");
    assert_all_unavailable(&state).await;
    let Err(StateError::Unavailable(m)) = state.get("b").await else {
        panic!("unavailable")
    };
    assert!(m.contains("ResourceNotFoundException"), "{m}");
}

#[tokio::test]
async fn a_server_that_is_down_is_unavailable() {
    let client = dynamodb_client(&format!("http://127.0.0.1:{}", free_port()));
    let config = client
        .config()
        .to_builder()
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::standard().with_max_attempts(2))
        .timeout_config(
            aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .build();
    let state = DynamoState::new(aws_sdk_dynamodb::Client::from_conf(config), TABLE);
    assert_all_unavailable(&state).await;
}

#[tokio::test]
async fn a_corrupt_item_is_reported_not_guessed() {
    let moto = Moto::start().await;
    moto.create_state_table(TABLE).await;
    let b = "alb:cn-hangzhou:sgp-5:i-1:80";
    // An item without a status, written by hand.
    moto.dynamodb()
        .put_item()
        .table_name(TABLE)
        .item("backend", AttributeValue::S(b.into()))
        .item("alert_key", AttributeValue::S("alert:a".into()))
        .item("expires_at", AttributeValue::N((now() + 3600).to_string()))
        .send()
        .await
        .unwrap();
    let state = DynamoState::new(moto.dynamodb(), TABLE);
    let corrupt = |r: Result<_, StateError>| matches!(r, Err(StateError::Corrupt(_)));
    assert!(corrupt(state.get(b).await.map(|_| ())));
    // It keeps holding the backend: a claim cannot say by whom, so it does not guess.
    assert!(corrupt(
        state
            .claim(&record(b, "alert:b", "drain-b"))
            .await
            .map(|_| ())
    ));
    assert!(is_conflict(state.release(b, "alert:b").await));
    // Its holder can still release it.
    state.release(b, "alert:a").await.unwrap();
    assert_eq!(state.get(b).await.unwrap(), None);
}

#[tokio::test]
async fn items_are_stored_as_documented() {
    let moto = Moto::start().await;
    moto.create_state_table(TABLE).await;
    let state = DynamoState::new(moto.dynamodb(), TABLE);
    let mut r = record("alb:cn-hangzhou:sgp-6:i-1:80", "alert:a", "drain-a");
    r.prior_weight = None;
    state.claim(&r).await.unwrap();
    let item = moto
        .dynamodb()
        .get_item()
        .table_name(TABLE)
        .key("backend", AttributeValue::S(r.backend.clone()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let mut names: Vec<&str> = item.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "action_id",
            "alert_key",
            "backend",
            "created_at",
            "expires_at",
            "fired_at",
            "status"
        ]
    );
    assert_eq!(item["status"], AttributeValue::S("draining".into()));
    assert_eq!(
        item["expires_at"],
        AttributeValue::N(r.expires_at.to_string())
    );
}

// ---- the in-memory adapter only ----

#[tokio::test]
async fn memory_can_be_told_to_fail() {
    let state = MemoryState::default();
    let r = record("alb:cn-hangzhou:sgp-7:i-1:80", "alert:a", "drain-a");
    state.fail_next(2);
    assert!(matches!(
        state.claim(&r).await,
        Err(StateError::Unavailable(_))
    ));
    assert!(matches!(
        state.get(&r.backend).await,
        Err(StateError::Unavailable(_))
    ));
    // A failed call changed nothing; the next one works.
    assert!(state.records().is_empty());
    assert_eq!(state.claim(&r).await.unwrap(), Claim::Created);
    assert_eq!(state.records(), vec![r]);
}
