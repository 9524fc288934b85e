//! CloudWatch Embedded Metric Format: one JSON line per outcome on stdout, which Lambda's log
//! pipeline turns into metrics (no API call, no secret: only counts, latency and names).

use crate::outcome::{Outcome, Status};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub const NAMESPACE: &str = "lbpilot";

fn metric_name(status: Status) -> &'static str {
    match status {
        Status::Succeeded => "ActionsSucceeded",
        Status::Failed => "ActionsFailed",
        Status::Rejected => "ActionsRejected",
        Status::DryRun => "ActionsDryRun",
        Status::Skipped => "ActionsSkipped",
    }
}

/// The EMF record of one outcome: a count under its status and, when the provider was called,
/// the time the action took (`ProviderLatency`, ms), by function and operation.
pub fn record(outcome: &Outcome, function: &str) -> Value {
    let operation = outcome
        .action
        .as_ref()
        .map_or("none", |a| a.operation.name());
    let name = metric_name(outcome.status);
    let mut metrics = vec![json!({"Name": name, "Unit": "Count"})];
    let mut record = json!({
        "Function": function,
        "Operation": operation,
        name: 1,
        "ActionId": outcome.action_id(),
        "Source": outcome.source.id,
    });
    if outcome.attempts > 0
        && let (Ok(start), Ok(end)) = (
            OffsetDateTime::parse(&outcome.started_at, &Rfc3339),
            OffsetDateTime::parse(&outcome.finished_at, &Rfc3339),
        )
    {
        metrics.push(json!({"Name": "ProviderLatency", "Unit": "Milliseconds"}));
        record["ProviderLatency"] = json!((end - start).whole_milliseconds() as u64);
        record["Attempts"] = json!(outcome.attempts);
    }
    record["_aws"] = json!({
        "Timestamp": (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as u64,
        "CloudWatchMetrics": [{
            "Namespace": NAMESPACE,
            "Dimensions": [["Function"], ["Function", "Operation"]],
            "Metrics": metrics,
        }],
    });
    record
}

/// Writes the records of `outcomes` to stdout, where Lambda collects them.
pub fn emit(outcomes: &[Outcome]) {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into());
    for o in outcomes {
        println!("{}", record(o, &function));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Source;

    #[test]
    fn counts_by_status_and_times_provider_calls() {
        let mut o = Outcome::start(None, Source::new("sqs", "m-1"));
        o.attempts = 2;
        o.started_at = "2026-12-02T06:00:00.000Z".into();
        o.finished_at = "2026-12-02T06:00:00.250Z".into();
        o.status = Status::Failed;
        let r = record(&o, "queue-worker");
        assert_eq!(r["ActionsFailed"], 1);
        assert_eq!(r["ProviderLatency"], 250);
        assert_eq!(r["_aws"]["CloudWatchMetrics"][0]["Namespace"], "lbpilot");
        let names: Vec<&str> = r["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["ActionsFailed", "ProviderLatency"]);
        let skipped = Outcome::decision(
            Status::Skipped,
            "no route matched",
            json!({}),
            Source::new("alertmanager", "g"),
        );
        let r = record(&skipped, "alert-webhook");
        assert_eq!(
            (r["ActionsSkipped"].as_u64(), r.get("ProviderLatency")),
            (Some(1), None)
        );
    }
}
