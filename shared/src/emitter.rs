//! Publishes outcomes: one port (`OutcomeSink`) with an SQS adapter for production and an
//! in-memory adapter for tests.

use crate::outcome::Outcome;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

/// Where outcomes go. `publish` reports, per outcome, whether it was published: an outcome that
/// was not must make its event fail, so nothing is silently lost.
pub trait OutcomeSink: Send + Sync {
    fn publish(&self, outcomes: &[Outcome]) -> impl Future<Output = Vec<bool>> + Send;
}

/// SQS allows 10 entries per batch; keep a batch well under the request size limit.
const MAX_BATCH_ENTRIES: usize = 10;
const MAX_BATCH_BYTES: usize = 256 * 1024;
/// A provider answer larger than this is replaced by a note in the outcome.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
const SEND_ATTEMPTS: u32 = 3;

/// A value of an oversized outcome's `detail` larger than this is replaced by a note.
const MAX_DETAIL_VALUE_BYTES: usize = 4 * 1024;

/// The JSON text of an outcome, cut down to fit a message when it would not: an oversized
/// provider response, then the input's start, then the large values of `detail` (a decision's
/// detail repeats the alert's labels, which the sender controls), each replaced by a note of
/// its size.
pub fn outcome_json(outcome: &Outcome) -> String {
    let text = serde_json::to_string(outcome).expect("outcomes always serialize");
    if text.len() <= MAX_BATCH_BYTES / 2 {
        return text;
    }
    let mut small = outcome.clone();
    let bytes = small.response.as_ref().map_or(0, |r| r.to_string().len());
    if bytes > MAX_RESPONSE_BYTES || small.response.is_some() {
        small.response = Some(serde_json::json!({"truncated": true, "bytes": bytes}));
    }
    small.input = small.input.map(|i| i.chars().take(256).collect());
    let text = serde_json::to_string(&small).expect("outcomes always serialize");
    if text.len() <= MAX_BATCH_BYTES / 2 {
        return text;
    }
    for detail in [small.detail.as_mut(), small.source.detail.as_mut()]
        .into_iter()
        .flatten()
    {
        let note = |v: &serde_json::Value| serde_json::json!({"truncated": true, "bytes": v.to_string().len()});
        match detail {
            serde_json::Value::Object(fields) => {
                for v in fields.values_mut() {
                    if v.to_string().len() > MAX_DETAIL_VALUE_BYTES {
                        *v = note(v);
                    }
                }
            }
            other if other.to_string().len() > MAX_DETAIL_VALUE_BYTES => *other = note(other),
            _ => {}
        }
    }
    serde_json::to_string(&small).expect("outcomes always serialize")
}

/// Sends outcomes to the results queue with `SendMessageBatch`, retrying entries that failed
/// for the service's reasons.
#[derive(Debug, Clone)]
pub struct SqsEmitter {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsEmitter {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: String) -> Self {
        Self { client, queue_url }
    }

    fn is_fifo(&self) -> bool {
        self.queue_url.ends_with(".fifo")
    }

    fn entry(&self, index: usize, body: &str, outcome: &Outcome) -> SendMessageBatchRequestEntry {
        let mut entry = SendMessageBatchRequestEntry::builder()
            .id(index.to_string())
            .message_body(body);
        if self.is_fifo() {
            let dedup = hex::encode(Sha256::digest(body.as_bytes()));
            entry = entry
                .message_group_id(outcome.action_id().unwrap_or("lbpilot"))
                .message_deduplication_id(dedup);
        }
        entry.build().expect("id and body are set")
    }

    /// Sends one batch, retrying entries that failed transiently; returns the indexes that
    /// were not accepted in the end.
    async fn send_batch(
        &self,
        indexes: &[usize],
        bodies: &[String],
        outcomes: &[Outcome],
    ) -> Vec<usize> {
        let mut pending: Vec<usize> = indexes.to_vec();
        let mut refused = Vec::new();
        for attempt in 1..=SEND_ATTEMPTS {
            if attempt > 1 {
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
            }
            let entries = pending
                .iter()
                .map(|&i| self.entry(i, &bodies[i], &outcomes[i]))
                .collect::<Vec<_>>();
            let result = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await;
            match result {
                Ok(out) => {
                    let mut retry = Vec::new();
                    for failed in out.failed() {
                        let Ok(i) = failed.id().parse::<usize>() else {
                            continue;
                        };
                        tracing::warn!(
                            code = failed.code(),
                            sender_fault = failed.sender_fault(),
                            "results queue refused an outcome"
                        );
                        // A sender fault will not pass on a retry.
                        if failed.sender_fault() {
                            refused.push(i)
                        } else {
                            retry.push(i)
                        }
                    }
                    pending = retry;
                }
                Err(e) => {
                    tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), attempt, "sending outcomes failed");
                }
            }
            if pending.is_empty() {
                break;
            }
        }
        refused.extend(pending);
        refused
    }
}

impl OutcomeSink for SqsEmitter {
    async fn publish(&self, outcomes: &[Outcome]) -> Vec<bool> {
        crate::metrics::emit(outcomes);
        let bodies: Vec<String> = outcomes.iter().map(outcome_json).collect();
        let mut published = vec![true; outcomes.len()];
        let mut batch: Vec<usize> = Vec::new();
        let mut batch_bytes = 0;
        let mut batches = Vec::new();
        for (i, body) in bodies.iter().enumerate() {
            if !batch.is_empty()
                && (batch.len() == MAX_BATCH_ENTRIES || batch_bytes + body.len() > MAX_BATCH_BYTES)
            {
                batches.push(std::mem::take(&mut batch));
                batch_bytes = 0;
            }
            batch.push(i);
            batch_bytes += body.len();
        }
        if !batch.is_empty() {
            batches.push(batch);
        }
        let results = futures::future::join_all(
            batches
                .iter()
                .map(|b| self.send_batch(b, &bodies, outcomes)),
        )
        .await;
        for failed in results.into_iter().flatten() {
            published[failed] = false;
        }
        published
    }
}

/// Keeps outcomes in memory (tests, the local runner); can be told to refuse some.
#[derive(Debug, Default)]
pub struct MemorySink {
    outcomes: Mutex<Vec<Outcome>>,
    refuse_next: Mutex<usize>,
}

impl MemorySink {
    pub fn outcomes(&self) -> Vec<Outcome> {
        self.outcomes.lock().expect("not poisoned").clone()
    }

    /// The next `n` outcomes are refused, as a failing queue would.
    pub fn refuse_next(&self, n: usize) {
        *self.refuse_next.lock().expect("not poisoned") = n;
    }
}

impl OutcomeSink for MemorySink {
    async fn publish(&self, outcomes: &[Outcome]) -> Vec<bool> {
        let mut refuse = self.refuse_next.lock().expect("not poisoned");
        let mut stored = self.outcomes.lock().expect("not poisoned");
        outcomes
            .iter()
            .map(|o| {
                if *refuse > 0 {
                    *refuse -= 1;
                    false
                } else {
                    stored.push(o.clone());
                    true
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Source, Status};
    use serde_json::{Value, json};

    #[test]
    fn a_decision_repeating_huge_labels_still_fits_a_message() {
        let labels: serde_json::Map<String, Value> = (0..400)
            .map(|i| (format!("l{i:03}"), json!("v".repeat(1000))))
            .collect();
        let o = Outcome::decision(
            Status::Skipped,
            "no route matched",
            json!({"alert": "alertmanager:fp", "labels": labels}),
            Source::new("alertmanager", "group"),
        );
        assert!(serde_json::to_string(&o).unwrap().len() > MAX_BATCH_BYTES);
        let text = outcome_json(&o);
        assert!(text.len() < 16 * 1024, "{} bytes", text.len());
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["detail"]["labels"]["truncated"], true);
        assert_eq!(v["detail"]["alert"], "alertmanager:fp");
        assert_eq!(v["status"], "skipped");
    }
}
