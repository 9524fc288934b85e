//! Every sample event in `events/` runs through its function against the demo seed, so none
//! can rot: the same files the README and `scripts/demo` use with `cargo lambda invoke`.

use aws_lambda_events::sqs::SqsEvent;
use lbpilot_tests::harness::Stack;
use std::path::Path;
use std::time::Duration;
use tokio::time::Instant;

fn event_file(path: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../events")
            .join(path),
    )
    .unwrap_or_else(|e| panic!("events/{path}: {e}"))
}

#[test]
fn every_event_file_is_covered_here() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut files = Vec::new();
    for function in std::fs::read_dir(&dir).unwrap() {
        let function = function.unwrap();
        for file in std::fs::read_dir(function.path()).unwrap() {
            files.push(format!(
                "{}/{}",
                function.file_name().to_string_lossy(),
                file.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    files.sort();
    // A new sample event must get a test in this file.
    assert_eq!(
        files,
        vec![
            "alert-webhook/alertmanager-firing.json",
            "alert-webhook/alertmanager-resolved.json",
            "alert-webhook/cloudmonitor-alert.json",
            "alert-webhook/cloudwatch-sns-alarm.json",
            "alert-webhook/grafana-firing.json",
            "chatops/slash-command-drain.json",
            "queue-worker/sqs-batch.json",
            "scheduled/eventbridge-rule-nightly-shift.json",
            "scheduled/scheduler-maintenance-start.json",
        ]
    );
}

#[tokio::test]
async fn queue_worker_sqs_batch() {
    let s = Stack::start().await;
    let event: SqsEvent = serde_json::from_str(&event_file("queue-worker/sqs-batch.json")).unwrap();
    let response = s
        .worker
        .handle(event, Instant::now() + Duration::from_secs(20))
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());
    let outcomes = s.outcomes().await;
    let mut statuses: Vec<(String, String)> = outcomes
        .values()
        .map(|o| {
            let id = o["action"]["id"].as_str().unwrap();
            let id = if id.starts_with("lbp-") {
                "(derived id)"
            } else {
                id
            };
            (id.to_string(), o["status"].as_str().unwrap().to_string())
        })
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            ("(derived id)", "rejected"),
            ("create-canary-group", "succeeded"),
            ("drain-web-1", "succeeded"),
            ("dry-run-alb-web-2", "dry_run"),
            ("ga-dial-0-maintenance", "succeeded"),
            ("roma-secondary-to-0", "succeeded"),
            ("shift-slb-backend-2", "succeeded"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
}

async fn run_schedule(file: &str) -> (Stack, serde_json::Value) {
    let s = Stack::start().await;
    let (executor, emitter) = s.parts();
    let scheduler = lbpilot::triggers::schedule::Scheduler::new(executor, emitter);
    let event = serde_json::from_str(&event_file(file)).unwrap();
    let answer = scheduler
        .handle(
            event,
            "local-request",
            Instant::now() + Duration::from_secs(20),
        )
        .await
        .unwrap();
    (s, answer)
}

#[tokio::test]
async fn scheduled_scheduler_maintenance_start() {
    let (s, answer) = run_schedule("scheduled/scheduler-maintenance-start.json").await;
    assert_eq!(answer["source"], "c1d9a7e2-5b8f-4a3e-9d51-0f6e7a2b3c4d");
    let group = s
        .cloud
        .ga_endpoint_group(lbpilot_tests::fakes::demo::GA_GROUP)
        .unwrap();
    assert_eq!(group.traffic_dial_percentage, 0);
}

#[tokio::test]
async fn scheduled_eventbridge_rule_nightly_shift() {
    use lbpilot_tests::fakes::demo;
    let (s, answer) = run_schedule("scheduled/eventbridge-rule-nightly-shift.json").await;
    assert_eq!(answer["actions"].as_array().unwrap().len(), 2);
    let web2 = s
        .cloud
        .alb_server(demo::ALB_GROUP, demo::ALB_SERVERS[1], demo::ALB_PORT)
        .unwrap();
    assert_eq!(web2.weight, 20);
    let b3 = s.cloud.slb_backends(demo::SLB_VSG).unwrap();
    assert_eq!(
        b3.iter()
            .find(|b| b.server_id == demo::SLB_SERVERS[2])
            .unwrap()
            .weight,
        50
    );
}

/// The sample slash command is signed at a fixed time with Slack's documented example secret;
/// re-sign it now (Slack refuses anything older than 5 minutes) and run it through chat-ops.
#[tokio::test]
async fn chatops_slash_command_drain() {
    use base64::Engine;
    use lbpilot::chatops::ChatOps;
    use lbpilot::chatops::aliases::Aliases;
    use lbpilot::chatops::queue::MemoryQueue;
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let mut event: serde_json::Value =
        serde_json::from_str(&event_file("chatops/slash-command-drain.json")).unwrap();
    let form = base64::engine::general_purpose::STANDARD
        .decode(event["body"].as_str().unwrap())
        .unwrap();
    let form = String::from_utf8(form).unwrap();
    let fresh = lbpilot_tests::harness::slack_command_event(
        secret,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
        &form,
    );
    event["headers"]["x-slack-request-timestamp"] =
        fresh["headers"]["x-slack-request-timestamp"].clone();
    event["headers"]["x-slack-signature"] = fresh["headers"]["x-slack-signature"].clone();
    let s = Stack::start().await;
    let (executor, _) = s.parts();
    let aliases = Aliases::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../config/chatops-aliases.json"
    ))
    .unwrap();
    let chatops = ChatOps::new(
        lbpilot::secret::Secret::new(secret),
        aliases,
        executor,
        MemoryQueue::default(),
    );
    let answer = chatops
        .handle(&serde_json::from_value(event).unwrap())
        .await;
    assert_eq!(answer.status_code, 200);
    assert!(answer.body.contains("Queued"), "{}", answer.body);
    let sent = chatops.queue().sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0.params["Servers"][0]["Weight"], 0);
}

/// The alert webhook with the demo's routes and tokens (see scripts/demo), on a fresh stack.
async fn alert_webhook() -> (
    Stack,
    lbpilot::triggers::alerts::AlertWebhook<
        lbpilot::state::MemoryState,
        lbpilot::emitter::SqsEmitter,
    >,
) {
    use lbpilot::alerts::auth::{Credentials, UrlToken};
    let s = Stack::start().await;
    let (executor, emitter) = s.parts();
    let routes = lbpilot::drain::routes::Routes::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../config/routes.json"
    ))
    .unwrap();
    let mut auth = lbpilot::triggers::alerts::WebhookAuth {
        alertmanager: vec![Credentials::bearer("demo-alertmanager-token")],
        cloudmonitor: Some(UrlToken::new("demo-cloudmonitor-token")),
        ..Default::default()
    };
    auth.grafana
        .authorization
        .push(Credentials::bearer("demo-grafana-token"));
    let engine = lbpilot::drain::engine::DrainEngine::new(
        routes,
        executor,
        lbpilot::state::MemoryState::new(),
        emitter,
    );
    (
        s,
        lbpilot::triggers::alerts::AlertWebhook::new(engine, auth),
    )
}

async fn post_event(
    hook: &lbpilot::triggers::alerts::AlertWebhook<
        lbpilot::state::MemoryState,
        lbpilot::emitter::SqsEmitter,
    >,
    file: &str,
) -> serde_json::Value {
    let event = serde_json::from_str(&event_file(file)).unwrap();
    hook.handle(event, "local", Instant::now() + Duration::from_secs(20))
        .await
        .unwrap()
}

#[tokio::test]
async fn alert_webhook_alertmanager_firing_then_resolved() {
    use lbpilot_tests::fakes::demo;
    let (s, hook) = alert_webhook().await;
    let answer = post_event(&hook, "alert-webhook/alertmanager-firing.json").await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(
        s.cloud
            .alb_server(demo::ALB_GROUP, demo::ALB_SERVERS[1], demo::ALB_PORT)
            .unwrap()
            .weight,
        0
    );
    let answer = post_event(&hook, "alert-webhook/alertmanager-resolved.json").await;
    assert!(
        answer["body"].as_str().unwrap().contains("\"restored\":1"),
        "{answer}"
    );
    assert_eq!(
        s.cloud
            .alb_server(demo::ALB_GROUP, demo::ALB_SERVERS[1], demo::ALB_PORT)
            .unwrap()
            .weight,
        100
    );
}

#[tokio::test]
async fn alert_webhook_grafana_cloudwatch_and_cloudmonitor() {
    use lbpilot_tests::fakes::demo;
    let (s, hook) = alert_webhook().await;
    let grafana = post_event(&hook, "alert-webhook/grafana-firing.json").await;
    assert_eq!(grafana["statusCode"], 200, "{grafana}");
    assert_eq!(
        s.cloud
            .ga_endpoint_group(demo::GA_GROUP)
            .unwrap()
            .traffic_dial_percentage,
        0
    );
    let cloudmonitor = post_event(&hook, "alert-webhook/cloudmonitor-alert.json").await;
    assert!(
        cloudmonitor["body"]
            .as_str()
            .unwrap()
            .contains("\"drained\":1"),
        "{cloudmonitor}"
    );
    assert_eq!(
        s.cloud
            .alb_server(demo::ALB_GROUP, demo::ALB_SERVERS[2], demo::ALB_PORT)
            .unwrap()
            .weight,
        0
    );
    // The SNS alarm matches the GA route too; the group is already at 0 for Grafana's alert.
    let sns = post_event(&hook, "alert-webhook/cloudwatch-sns-alarm.json").await;
    assert_eq!(sns["summaries"][0]["duplicates"], 1, "{sns}");
}
