//! The queue worker's bookkeeping with an in-memory sink: one outcome per record, rejected
//! records not retried, retryable failures reported, FIFO order kept, unpublished outcomes retried.

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use lbpilot::config::{ExecutorConfig, Settings};
use lbpilot::emitter::MemorySink;
use lbpilot::outcome::Status;
use lbpilot::triggers::sqs::QueueWorker;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// A port where nothing listens: calls fail to connect (retryable, nothing applied).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn worker() -> QueueWorker<MemorySink> {
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let vars: HashMap<String, String> = HashMap::from(
        [
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIexample".to_string()),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret".to_string()),
            ("HUAWEICLOUD_SDK_AK", "HWAK".to_string()),
            ("HUAWEICLOUD_SDK_SK", "HWSK".to_string()),
            ("LBPILOT_GA_ENDPOINT", dead.clone()),
            ("LBPILOT_ALB_ENDPOINT", dead),
            ("LBPILOT_MAX_ATTEMPTS", "1".to_string()),
        ]
        .map(|(k, v)| (k.to_string(), v)),
    );
    let config = ExecutorConfig::from_settings(&Settings::from_map(vars)).unwrap();
    QueueWorker::new(
        lbpilot::executor::Executor::new(config, lbpilot::app::transport().unwrap()),
        MemorySink::default(),
        4,
    )
}

fn record(id: &str, body: &str, group: Option<&str>) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.to_string());
    m.body = Some(body.to_string());
    m.event_source_arn = Some("arn:aws:sqs:us-east-1:123456789012:commands".into());
    m.attributes
        .insert("ApproximateReceiveCount".into(), "1".into());
    if let Some(g) = group {
        m.attributes.insert("MessageGroupId".into(), g.into());
    }
    m
}

fn event(records: Vec<SqsMessage>) -> SqsEvent {
    let mut e = SqsEvent::default();
    e.records = records;
    e
}

const GA_DRY: &str = r#"{"operation":"ga:UpdateEndpointGroup","params":{"endpoint_group_id":"g1","endpoint_group":{"traffic_dial_percentage":0}},"dry_run":true}"#;
const GA_REAL: &str = r#"{"operation":"ga:UpdateEndpointGroup","params":{"endpoint_group_id":"g1","endpoint_group":{"traffic_dial_percentage":0}}}"#;

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

fn failures(r: &aws_lambda_events::sqs::SqsBatchResponse) -> Vec<String> {
    let mut ids: Vec<String> = r
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn every_record_gets_one_outcome_and_bad_input_is_not_retried() {
    let w = worker();
    let resp = w
        .handle(
            event(vec![
                record("m-bad-json", "{not json", None),
                record("m-bad-op", r#"{"operation":"elb:Nope","params":{}}"#, None),
                record("m-dry", GA_DRY, None),
                record("m-weight", &GA_DRY.replace(":0}", ":150}"), None),
            ]),
            deadline(),
        )
        .await
        .unwrap();
    assert!(failures(&resp).is_empty(), "{resp:?}");
    let outcomes = w.sink().outcomes();
    assert_eq!(outcomes.len(), 4);
    let by_source: HashMap<String, _> = outcomes
        .iter()
        .map(|o| (o.source.id.clone(), o.clone()))
        .collect();
    assert_eq!(by_source["m-bad-json"].status, Status::Rejected);
    assert!(by_source["m-bad-json"].input.as_deref() == Some("{not json"));
    assert_eq!(
        by_source["m-bad-op"]
            .error
            .as_ref()
            .unwrap()
            .field
            .as_deref(),
        Some("operation")
    );
    let dry = &by_source["m-dry"];
    assert_eq!(dry.status, Status::DryRun);
    assert_eq!(dry.requests[0].method, "PUT");
    assert_eq!(dry.attempts, 0);
    let weight = &by_source["m-weight"];
    assert_eq!(weight.status, Status::Rejected);
    assert_eq!(
        weight.error.as_ref().unwrap().field.as_deref(),
        Some("params.endpoint_group.traffic_dial_percentage")
    );
    assert!(outcomes.iter().all(|o| o.is_final));
}

#[tokio::test]
async fn retryable_failures_are_reported_and_fifo_groups_wait() {
    let w = worker();
    let resp = w
        .handle(
            event(vec![
                record("a1", GA_REAL, Some("group-a")),
                record("a2", GA_DRY, Some("group-a")),
                record("b1", GA_DRY, Some("group-b")),
                record("s1", GA_REAL, None),
            ]),
            deadline(),
        )
        .await
        .unwrap();
    // a1 failed (cannot connect), a2 waits behind it; b1 ran; s1 failed on its own.
    assert_eq!(failures(&resp), vec!["a1", "a2", "s1"]);
    let outcomes = w.sink().outcomes();
    let sources: Vec<&str> = outcomes.iter().map(|o| o.source.id.as_str()).collect();
    assert!(
        !sources.contains(&"a2"),
        "a2 must not run before a1 succeeds"
    );
    let a1 = outcomes.iter().find(|o| o.source.id == "a1").unwrap();
    assert_eq!(a1.status, Status::Failed);
    assert!(!a1.is_final);
    assert_eq!(a1.error.as_ref().unwrap().code, "ConnectFailed");
    assert!(a1.error.as_ref().unwrap().retryable);
}

#[tokio::test]
async fn an_outcome_that_cannot_be_published_fails_its_record() {
    let w = worker();
    w.sink().refuse_next(1);
    let resp = w
        .handle(event(vec![record("m1", GA_DRY, None)]), deadline())
        .await
        .unwrap();
    assert_eq!(failures(&resp), vec!["m1"]);
}

#[tokio::test]
async fn a_failing_record_without_message_id_fails_the_batch() {
    let w = worker();
    let mut r = record("x", GA_REAL, None);
    r.message_id = None;
    assert!(w.handle(event(vec![r]), deadline()).await.is_err());
}
