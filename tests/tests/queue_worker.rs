//! The queue worker end to end in-process: SQS records with actions for all five operations,
//! executed against the provider fakes, outcomes read back from moto's SQS server. Faults prove
//! retries, idempotency and that nothing is lost.

use lbpilot_tests::fakes::{Fault, FaultKind, Product, Seed, demo};
use lbpilot_tests::harness::{Stack, actions, sqs_event, sqs_record};
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(20)
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
async fn all_five_operations_change_the_fakes_and_report_outcomes() {
    let s = Stack::start().await;
    let event = sqs_event(vec![
        sqs_record("m-alb", &actions::alb_drain(0, 0).to_string(), 1),
        sqs_record("m-slb", &actions::slb_modify(1, 100, 20).to_string(), 1),
        sqs_record("m-create", &actions::slb_create("canary").to_string(), 1),
        sqs_record("m-roma", &actions::roma_weight(0).to_string(), 1),
        sqs_record("m-ga", &actions::ga_dial(0).to_string(), 1),
        sqs_record("m-bad", "{\"operation\": 42}", 1),
    ]);
    let response = s.worker.handle(event, deadline()).await.unwrap();
    assert!(failures(&response).is_empty(), "{response:?}");

    assert_eq!(
        s.cloud
            .alb_server(demo::ALB_GROUP, demo::ALB_SERVERS[0], demo::ALB_PORT)
            .unwrap()
            .weight,
        0
    );
    assert_eq!(
        s.cloud
            .alb_server(demo::ALB_GROUP, demo::ALB_SERVERS[1], demo::ALB_PORT)
            .unwrap()
            .weight,
        100
    );
    let slb = s.cloud.slb_backends(demo::SLB_VSG).unwrap();
    assert_eq!(
        slb.iter()
            .find(|b| b.server_id == demo::SLB_SERVERS[1])
            .unwrap()
            .weight,
        20
    );
    let groups = s.cloud.slb_vserver_groups(demo::SLB_LB);
    assert!(groups.iter().any(|g| g.vserver_group_name == "canary"));
    assert_eq!(
        s.cloud
            .roma_member_group(demo::ROMA_GROUPS[0])
            .unwrap()
            .member_group_weight,
        Some(0)
    );
    assert_eq!(
        s.cloud
            .ga_endpoint_group(demo::GA_GROUP)
            .unwrap()
            .traffic_dial_percentage,
        0
    );

    let outcomes = s.outcomes().await;
    assert_eq!(outcomes.len(), 6, "{outcomes:#?}");
    for id in ["m-alb", "m-slb", "m-create", "m-roma", "m-ga"] {
        let o = &outcomes[id];
        assert_eq!(o["status"], "succeeded", "{id}: {o:#}");
        assert_eq!(o["final"], true);
        assert_eq!(o["source"]["kind"], "sqs");
        assert!(o["provider_request_id"].is_string(), "{id}: {o:#}");
        assert!(o["action"]["id"].as_str().unwrap().starts_with("lbp-"));
    }
    assert_eq!(outcomes["m-alb"]["detail"]["job"]["Status"], "Succeeded");
    assert!(
        outcomes["m-create"]["response"]["VServerGroupId"]
            .as_str()
            .unwrap()
            .starts_with("rsp-")
    );
    assert_eq!(
        outcomes["m-ga"]["detail"]["before"]["traffic_dial_percentage"],
        100
    );
    assert_eq!(
        outcomes["m-ga"]["detail"]["after"]["traffic_dial_percentage"],
        0
    );
    assert_eq!(outcomes["m-bad"]["status"], "rejected");
    assert_eq!(outcomes["m-bad"]["error"]["field"], "operation");
}

#[tokio::test]
async fn server_errors_and_throttling_are_retried_within_the_deadline() {
    let s = Stack::start().await;
    s.cloud.inject(
        Fault::server_error(Product::Alb, 503)
            .action("UpdateServerGroupServersAttribute")
            .times(2),
    );
    s.cloud
        .inject(Fault::throttle(Product::Roma, None).times(1));
    s.cloud
        .inject(Fault::throttle(Product::Slb, Some(300)).times(1));
    let started = std::time::Instant::now();
    let response = s
        .worker
        .handle(
            sqs_event(vec![
                sqs_record("alb", &actions::alb_drain(0, 0).to_string(), 1),
                sqs_record("roma", &actions::roma_weight(5).to_string(), 1),
                sqs_record("slb", &actions::slb_modify(0, 100, 0).to_string(), 1),
            ]),
            deadline(),
        )
        .await
        .unwrap();
    assert!(failures(&response).is_empty(), "{response:?}");
    let outcomes = s.outcomes().await;
    assert_eq!(outcomes["alb"]["attempts"], 3);
    assert_eq!(outcomes["roma"]["attempts"], 2);
    assert_eq!(outcomes["slb"]["attempts"], 2);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "retry-after honoured"
    );
    assert!(outcomes.values().all(|o| o["status"] == "succeeded"));
    // Every ALB attempt carried the same ClientToken: the action id.
    let tokens: Vec<String> = s
        .cloud
        .requests_for(Product::Alb, "UpdateServerGroupServersAttribute")
        .iter()
        .map(|r| r.client_token().unwrap_or_default().to_string())
        .collect();
    assert_eq!(tokens.len(), 3);
    assert!(
        tokens
            .iter()
            .all(|t| t == outcomes["alb"]["action"]["id"].as_str().unwrap())
    );
}

#[tokio::test]
async fn a_lost_answer_never_applies_a_change_twice() {
    let s = Stack::start().await;
    s.cloud.inject(
        Fault::applied_then_drop(Product::Alb)
            .action("UpdateServerGroupServersAttribute")
            .once(),
    );
    s.cloud.inject(
        Fault::applied_then_drop(Product::Slb)
            .action("ModifyVServerGroupBackendServers")
            .once(),
    );
    s.cloud.inject(
        Fault::applied_then_drop(Product::Slb)
            .action("CreateVServerGroup")
            .once(),
    );
    let response = s
        .worker
        .handle(
            sqs_event(vec![
                sqs_record("alb", &actions::alb_drain(1, 0).to_string(), 1),
                sqs_record("slb", &actions::slb_modify(2, 100, 0).to_string(), 1),
                sqs_record("create", &actions::slb_create("blue").to_string(), 1),
            ]),
            deadline(),
        )
        .await
        .unwrap();
    assert!(failures(&response).is_empty(), "{response:?}");
    let outcomes = s.outcomes().await;
    // ALB: the retry reused the token; the fake answered it as a replay and applied nothing new.
    let alb_calls = s
        .cloud
        .requests_for(Product::Alb, "UpdateServerGroupServersAttribute");
    assert_eq!(alb_calls.len(), 2);
    assert!(alb_calls[1].replayed);
    assert_eq!(s.cloud.alb_jobs().len(), 1);
    // SLB: the retry looked first and did not send the change again.
    assert_eq!(
        s.cloud
            .requests_for(Product::Slb, "ModifyVServerGroupBackendServers")
            .len(),
        1
    );
    assert_eq!(outcomes["slb"]["detail"]["already_applied"], true);
    assert_eq!(
        s.cloud
            .requests_for(Product::Slb, "CreateVServerGroup")
            .len(),
        1
    );
    let blue: Vec<_> = s
        .cloud
        .slb_vserver_groups(demo::SLB_LB)
        .into_iter()
        .filter(|g| g.vserver_group_name == "blue")
        .collect();
    assert_eq!(blue.len(), 1, "exactly one group created");
    assert_eq!(
        outcomes["create"]["response"]["VServerGroupId"],
        Value::String(blue[0].vserver_group_id.clone())
    );
    assert!(
        outcomes.values().all(|o| o["status"] == "succeeded"),
        "{outcomes:#?}"
    );
}

#[tokio::test]
async fn a_redelivered_message_looks_before_repeating() {
    let s = Stack::start().await;
    let body = actions::slb_modify(0, 100, 0).to_string();
    s.worker
        .handle(sqs_event(vec![sqs_record("m1", &body, 1)]), deadline())
        .await
        .unwrap();
    // The same message again (its outcome was lost, say): seen as applied, nothing sent.
    s.worker
        .handle(sqs_event(vec![sqs_record("m1", &body, 2)]), deadline())
        .await
        .unwrap();
    assert_eq!(
        s.cloud
            .requests_for(Product::Slb, "ModifyVServerGroupBackendServers")
            .len(),
        1
    );
    let outcomes = s.moto.drain(&s.results_url).await;
    assert_eq!(outcomes.len(), 2);
    assert!(
        outcomes
            .iter()
            .any(|o| o["detail"]["already_applied"] == true)
    );
}

#[tokio::test]
async fn failures_that_a_retry_cannot_fix_are_final_and_not_redelivered() {
    let s = Stack::start().await;
    s.cloud.inject(Fault::alb_job_fails());
    let mut missing_group = actions::alb_drain(0, 0);
    missing_group["params"]["ServerGroupId"] = "sgp-doesnotexist".into();
    let response = s
        .worker
        .handle(
            sqs_event(vec![
                sqs_record("job", &actions::alb_drain(0, 0).to_string(), 1),
                sqs_record("missing", &missing_group.to_string(), 1),
            ]),
            deadline(),
        )
        .await
        .unwrap();
    assert!(failures(&response).is_empty());
    let outcomes = s.outcomes().await;
    assert_eq!(outcomes["job"]["status"], "failed");
    assert_eq!(outcomes["job"]["error"]["retryable"], false);
    assert_eq!(outcomes["job"]["detail"]["job"]["Status"], "Failed");
    assert_eq!(
        outcomes["missing"]["error"]["code"],
        "ResourceNotFound.ServerGroup"
    );
    assert_eq!(outcomes["missing"]["error"]["http_status"], 404);
    assert_eq!(outcomes["missing"]["attempts"], 1);
}

#[tokio::test]
async fn persistent_outages_become_batch_item_failures() {
    let s = Stack::start_with(Seed::demo(), &[("LBPILOT_MAX_ATTEMPTS", "2")]).await;
    s.cloud.inject(Fault::server_error(Product::Ga, 500));
    s.cloud
        .inject(Fault::new(Product::Roma, FaultKind::MalformedBody));
    let response = s
        .worker
        .handle(
            sqs_event(vec![
                sqs_record("ga", &actions::ga_dial(50).to_string(), 1),
                sqs_record("roma", &actions::roma_weight(1).to_string(), 1),
                sqs_record("ok", &actions::alb_drain(2, 50).to_string(), 1),
            ]),
            deadline(),
        )
        .await
        .unwrap();
    assert_eq!(failures(&response), vec!["ga", "roma"]);
    let outcomes = s.outcomes().await;
    assert_eq!(outcomes["ga"]["final"], false);
    assert_eq!(outcomes["ga"]["error"]["code"], "APIG.9999");
    assert_eq!(outcomes["roma"]["error"]["code"], "MalformedResponse");
    assert_eq!(outcomes["ok"]["status"], "succeeded");
}

#[tokio::test]
async fn latency_past_the_deadline_is_cut_short_and_retried_later() {
    let s = Stack::start().await;
    s.cloud.inject(Fault::latency(Product::Ga, 10_000));
    let started = std::time::Instant::now();
    let response = s
        .worker
        .handle(
            sqs_event(vec![sqs_record("ga", &actions::ga_dial(10).to_string(), 1)]),
            Instant::now() + Duration::from_secs(3),
        )
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "stopped before the deadline"
    );
    assert_eq!(failures(&response), vec!["ga"]);
    let outcomes = s.outcomes().await;
    assert_eq!(outcomes["ga"]["status"], "failed");
    assert_eq!(outcomes["ga"]["error"]["retryable"], true);
}

#[tokio::test]
async fn a_results_queue_that_refuses_outcomes_fails_the_records() {
    let s = Stack::start().await;
    let missing_queue = format!("{}/123456789012/no-such-queue", s.moto.endpoint);
    let executor =
        lbpilot_tests::harness::executor(&lbpilot_tests::harness::executor_env(&s.cloud));
    let worker = lbpilot::triggers::sqs::QueueWorker::new(
        executor,
        lbpilot::emitter::SqsEmitter::new(s.moto.sqs(), missing_queue),
        4,
    );
    let response = worker
        .handle(
            sqs_event(vec![sqs_record("a", &actions::ga_dial(10).to_string(), 1)]),
            deadline(),
        )
        .await
        .unwrap();
    assert_eq!(failures(&response), vec!["a"]);
}

#[tokio::test]
async fn a_dry_run_changes_nothing() {
    let s = Stack::start().await;
    let mut alb = actions::alb_drain(0, 0);
    alb["dry_run"] = true.into();
    let mut ga = actions::ga_dial(0);
    ga["dry_run"] = true.into();
    s.worker
        .handle(
            sqs_event(vec![
                sqs_record("alb", &alb.to_string(), 1),
                sqs_record("ga", &ga.to_string(), 1),
            ]),
            deadline(),
        )
        .await
        .unwrap();
    assert_eq!(
        s.cloud
            .alb_server(demo::ALB_GROUP, demo::ALB_SERVERS[0], demo::ALB_PORT)
            .unwrap()
            .weight,
        100
    );
    assert_eq!(
        s.cloud
            .ga_endpoint_group(demo::GA_GROUP)
            .unwrap()
            .traffic_dial_percentage,
        100
    );
    assert!(
        s.cloud
            .requests_for(Product::Ga, "UpdateEndpointGroup")
            .is_empty()
    );
    let outcomes = s.outcomes().await;
    assert_eq!(outcomes["alb"]["status"], "dry_run");
    assert_eq!(outcomes["alb"]["response"]["Code"], "DryRunOperation");
    assert_eq!(outcomes["ga"]["status"], "dry_run");
    assert_eq!(outcomes["ga"]["requests"][0]["method"], "PUT");
}
