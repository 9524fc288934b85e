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
    assert_eq!(files, vec!["queue-worker/sqs-batch.json"]);
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
