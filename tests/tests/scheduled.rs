//! Scheduled changes: both event shapes, actions in order, the wait while a GA group is
//! PENDING, and a failure surfacing as an invocation error with its outcome emitted.

use lbpilot::triggers::schedule::{ScheduleError, Scheduler};
use lbpilot_tests::fakes::{Fault, Product, demo};
use lbpilot_tests::harness::{RunningFunction, Stack, actions, function_env};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

fn scheduler(s: &Stack) -> Scheduler<lbpilot::emitter::SqsEmitter> {
    let (executor, emitter) = s.parts();
    Scheduler::new(executor, emitter)
}

fn rule_event(detail: Value) -> Value {
    json!({"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
           "source": "aws.events", "account": "123456789012", "time": "2026-12-02T01:00:00Z", "region": "us-east-1",
           "resources": ["arn:aws:events:us-east-1:123456789012:rule/maintenance-start"], "detail": detail})
}

#[tokio::test]
async fn a_scheduler_input_runs_its_actions_in_order() {
    let s = Stack::start().await;
    let input = json!({
        "schedule": {"execution_id": "exec-20261202-0100", "scheduled_time": "2026-12-02T01:00:00Z"},
        "actions": [actions::ga_dial(50), actions::alb_drain(0, 30), actions::ga_dial(10)]
    });
    let answer = scheduler(&s)
        .handle(input, "req-1", deadline())
        .await
        .unwrap();
    assert_eq!(answer["actions"].as_array().unwrap().len(), 3);
    assert_eq!(
        s.cloud
            .ga_endpoint_group(demo::GA_GROUP)
            .unwrap()
            .traffic_dial_percentage,
        10
    );
    assert_eq!(
        s.cloud
            .alb_server(demo::ALB_GROUP, demo::ALB_SERVERS[0], demo::ALB_PORT)
            .unwrap()
            .weight,
        30
    );
    let dials: Vec<String> = s
        .cloud
        .requests_for(Product::Ga, "UpdateEndpointGroup")
        .iter()
        .map(|r| r.body.clone())
        .collect();
    assert!(
        dials[0].contains(":50") && dials[1].contains(":10"),
        "{dials:?}"
    );
    let outcomes = s.moto.drain(&s.results_url).await;
    assert_eq!(outcomes.len(), 3);
    for o in &outcomes {
        assert_eq!(o["source"]["kind"], "scheduler");
        assert_eq!(o["source"]["id"], "exec-20261202-0100");
        assert!(o["action"]["id"].as_str().unwrap().starts_with("sched-"));
    }
    let first = outcomes
        .iter()
        .find(|o| o["source"]["detail"]["index"] == 0)
        .unwrap();
    assert_eq!(first["detail"]["before"]["traffic_dial_percentage"], 100);
    assert_eq!(first["detail"]["after"]["traffic_dial_percentage"], 50);
}

#[tokio::test]
async fn a_rule_event_carries_its_actions_in_detail() {
    let s = Stack::start().await;
    scheduler(&s)
        .handle(rule_event(actions::ga_dial(0)), "req-2", deadline())
        .await
        .unwrap();
    assert_eq!(
        s.cloud
            .ga_endpoint_group(demo::GA_GROUP)
            .unwrap()
            .traffic_dial_percentage,
        0
    );
    scheduler(&s)
        .handle(
            rule_event(json!({"actions": [actions::roma_weight(0)]})),
            "req-3",
            deadline(),
        )
        .await
        .unwrap();
    assert_eq!(
        s.cloud
            .roma_member_group(demo::ROMA_GROUPS[0])
            .unwrap()
            .member_group_weight,
        Some(0)
    );
    let outcomes = s.moto.drain(&s.results_url).await;
    assert!(
        outcomes
            .iter()
            .all(|o| o["source"]["kind"] == "eventbridge" && o["status"] == "succeeded")
    );
    assert_eq!(
        outcomes[0]["source"]["detail"]["rule"],
        "arn:aws:events:us-east-1:123456789012:rule/maintenance-start"
    );
}

#[tokio::test]
async fn a_pending_endpoint_group_is_waited_for_not_failed() {
    let s = Stack::start().await;
    s.cloud.set_ga_pending_delay(Duration::from_millis(1500));
    // A previous change leaves the group PENDING for 1.5 s.
    scheduler(&s)
        .handle(actions::ga_dial(80), "req-a", deadline())
        .await
        .unwrap();
    assert_eq!(
        s.cloud.ga_endpoint_group(demo::GA_GROUP).unwrap().status,
        "PENDING"
    );
    let started = std::time::Instant::now();
    scheduler(&s)
        .handle(actions::ga_dial(0), "req-b", deadline())
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "waited for ACTIVE"
    );
    assert_eq!(
        s.cloud
            .ga_endpoint_group(demo::GA_GROUP)
            .unwrap()
            .traffic_dial_percentage,
        0
    );
    // No update was sent while the group was PENDING.
    let puts = s.cloud.requests_for(Product::Ga, "UpdateEndpointGroup");
    assert!(
        puts.iter().all(|r| r.status == Some(200)),
        "{:?}",
        puts.iter().map(|r| r.summary()).collect::<Vec<_>>()
    );
    let outcomes = s.moto.drain(&s.results_url).await;
    let second = outcomes
        .iter()
        .find(|o| o["source"]["id"] == "req-b")
        .unwrap();
    assert_eq!(second["detail"]["before"]["traffic_dial_percentage"], 80);
    assert_eq!(second["detail"]["after"]["traffic_dial_percentage"], 0);
}

#[tokio::test]
async fn a_failure_is_an_invocation_error_and_stops_the_list() {
    let s = Stack::start().await;
    let mut missing = actions::alb_drain(0, 0);
    missing["params"]["ServerGroupId"] = "sgp-gone".into();
    let input = json!([actions::ga_dial(40), missing, actions::ga_dial(0)]);
    let error = scheduler(&s)
        .handle(input, "req-x", deadline())
        .await
        .unwrap_err();
    assert!(matches!(error, ScheduleError::Failed(_)));
    let text = error.to_string();
    assert!(
        text.contains("action 2 of 3")
            && text.contains("ResourceNotFound.ServerGroup")
            && text.contains("1 after it"),
        "{text}"
    );
    assert_eq!(
        s.cloud
            .ga_endpoint_group(demo::GA_GROUP)
            .unwrap()
            .traffic_dial_percentage,
        40,
        "the third action did not run"
    );
    let outcomes = s.moto.drain(&s.results_url).await;
    assert_eq!(outcomes.len(), 2);
    let bad = serde_json::to_string(&json!({"operation": "ga:UpdateEndpointGroup"})).unwrap();
    let error = scheduler(&s)
        .handle(serde_json::from_str(&bad).unwrap(), "req-y", deadline())
        .await
        .unwrap_err();
    assert!(matches!(error, ScheduleError::Failed(_)), "{error}");
    let rejected = s.moto.drain(&s.results_url).await;
    assert_eq!(rejected[0]["status"], "rejected");
}

#[tokio::test]
async fn the_binary_reports_a_failed_change_as_an_invocation_error() {
    let s = Stack::start().await;
    s.cloud.inject(Fault::server_error(Product::Ga, 500));
    let mut env = function_env(&s.cloud, &s.moto, &s.results_url);
    env.insert("LBPILOT_MAX_ATTEMPTS".into(), "2".into());
    let function = RunningFunction::start("scheduled", &env).await;
    let error = function
        .runtime
        .invoke(rule_event(actions::ga_dial(0)), Duration::from_secs(20))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("APIG.9999"), "{error}");
    s.cloud.clear_faults();
    let ok = function
        .runtime
        .invoke(rule_event(actions::ga_dial(0)), Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(ok["actions"][0]["status"], "succeeded");
    let outcomes = s.moto.drain(&s.results_url).await;
    assert_eq!(
        outcomes.len(),
        2,
        "every attempt's outcome is on the results queue"
    );
    assert_eq!(outcomes.iter().filter(|o| o["final"] == false).count(), 1);
}
