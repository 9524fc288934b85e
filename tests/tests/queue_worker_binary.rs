//! The real `queue-worker` binary under a local Lambda Runtime API: an SQS event in, a
//! `batchItemFailures` answer out, outcomes on moto's results queue, changes in the fakes.
//! (That no secret reaches its logs, or anything else, is `secret_scan.rs`'s job.)

use lbpilot_tests::fakes::{FakeCloud, Fault, Product, Seed, demo};
use lbpilot_tests::harness::{RunningFunction, actions, function_env, sqs_event, sqs_record};
use lbpilot_tests::moto::Moto;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn the_binary_executes_a_batch_and_reports_only_retryable_failures() {
    let cloud = FakeCloud::start(Seed::demo()).await;
    let moto = Moto::start().await;
    let results = moto.create_queue("results").await;
    let mut env = function_env(&cloud, &moto, &results);
    env.insert("LBPILOT_MAX_ATTEMPTS".into(), "2".into());
    cloud.inject(Fault::server_error(Product::Ga, 503));
    let function = RunningFunction::start("queue-worker", &env).await;

    let event = sqs_event(vec![
        sqs_record("m-alb", &actions::alb_drain(0, 0).to_string(), 1),
        sqs_record("m-slb", &actions::slb_modify(0, 100, 0).to_string(), 1),
        sqs_record("m-create", &actions::slb_create("green").to_string(), 1),
        sqs_record("m-roma", &actions::roma_weight(0).to_string(), 1),
        sqs_record("m-ga", &actions::ga_dial(0).to_string(), 1),
        sqs_record("m-junk", "\u{0}not an action", 1),
    ]);
    let answer = function
        .runtime
        .invoke(
            serde_json::to_value(&event).unwrap(),
            Duration::from_secs(20),
        )
        .await
        .expect("the handler answered");
    assert_eq!(
        answer,
        json!({"batchItemFailures": [{"itemIdentifier": "m-ga"}]})
    );

    assert_eq!(
        cloud
            .alb_server(demo::ALB_GROUP, demo::ALB_SERVERS[0], demo::ALB_PORT)
            .unwrap()
            .weight,
        0
    );
    assert_eq!(
        cloud
            .roma_member_group(demo::ROMA_GROUPS[0])
            .unwrap()
            .member_group_weight,
        Some(0)
    );
    let outcomes = moto.drain(&results).await;
    assert_eq!(outcomes.len(), 6);
    let junk = outcomes
        .iter()
        .find(|o| o["source"]["id"] == "m-junk")
        .unwrap();
    assert_eq!(junk["status"], "rejected");
    let ga = outcomes
        .iter()
        .find(|o| o["source"]["id"] == "m-ga")
        .unwrap();
    assert_eq!(
        (ga["status"].as_str(), ga["final"].as_bool()),
        (Some("failed"), Some(false))
    );

    // A second invocation on the same process: clients are reused, the GA outage is over.
    cloud.clear_faults();
    let retry = sqs_event(vec![sqs_record(
        "m-ga",
        &actions::ga_dial(0).to_string(),
        2,
    )]);
    let answer = function
        .runtime
        .invoke(
            serde_json::to_value(&retry).unwrap(),
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert_eq!(answer, json!({"batchItemFailures": []}));
    assert_eq!(
        cloud
            .ga_endpoint_group(demo::GA_GROUP)
            .unwrap()
            .traffic_dial_percentage,
        0
    );

    let logs = function.stop();
    assert!(
        logs.contains("outcome"),
        "JSON logs carry each outcome: {logs}"
    );
}

#[tokio::test]
async fn provider_keys_can_come_from_a_secrets_manager_secret() {
    let cloud = FakeCloud::start(Seed::demo()).await;
    let moto = Moto::start().await;
    let results = moto.create_queue("results").await;
    let mut env = function_env(&cloud, &moto, &results);
    let mut secret = serde_json::Map::new();
    for name in ["ALIBABA_CLOUD_ACCESS_KEY_SECRET", "HUAWEICLOUD_SDK_SK"] {
        secret.insert(name.into(), env.remove(name).unwrap().into());
    }
    let arn = moto
        .create_secret(
            "lbpilot/providers",
            &serde_json::Value::Object(secret).to_string(),
        )
        .await;
    env.insert("LBPILOT_SECRET_ID".into(), arn);
    let function = RunningFunction::start("queue-worker", &env).await;
    let event = sqs_event(vec![
        sqs_record("alb", &actions::alb_drain(2, 0).to_string(), 1),
        sqs_record("ga", &actions::ga_dial(30).to_string(), 1),
    ]);
    let answer = function
        .runtime
        .invoke(
            serde_json::to_value(&event).unwrap(),
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert_eq!(answer, json!({"batchItemFailures": []}));
    assert_eq!(
        cloud
            .ga_endpoint_group(demo::GA_GROUP)
            .unwrap()
            .traffic_dial_percentage,
        30
    );
    function.stop();
}

#[tokio::test]
async fn an_unreadable_secret_fails_the_cold_start() {
    let cloud = FakeCloud::start(Seed::demo()).await;
    let moto = Moto::start().await;
    let mut env = function_env(&cloud, &moto, "http://unused");
    env.insert("LBPILOT_SECRET_ID".into(), "no-such-secret".into());
    let function = RunningFunction::start("queue-worker", &env).await;
    let started = std::time::Instant::now();
    while function.runtime.init_error().is_none() && started.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let error = function
        .runtime
        .init_error()
        .expect("an init error was reported")
        .to_string();
    assert!(
        error.contains("LBPILOT_SECRET_ID") && error.contains("no-such-secret"),
        "{error}"
    );
}

#[tokio::test]
async fn a_missing_setting_fails_the_cold_start_with_its_name() {
    let cloud = FakeCloud::start(Seed::demo()).await;
    let moto = Moto::start().await;
    let mut env = function_env(&cloud, &moto, "http://unused");
    env.remove("LBPILOT_RESULTS_QUEUE_URL");
    let function = RunningFunction::start("queue-worker", &env).await;
    let started = std::time::Instant::now();
    while function.runtime.init_error().is_none() && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let error = function
        .runtime
        .init_error()
        .expect("an init error was reported");
    assert!(
        error.to_string().contains("LBPILOT_RESULTS_QUEUE_URL"),
        "{error}"
    );
}
