//! The queue worker: each SQS record's body is an action. Records run concurrently (bounded);
//! FIFO records keep their order within a message group.

use crate::action::Action;
use crate::chatops::queue::{REQUESTED_BY_ATTRIBUTE, RESPONSE_URL_ATTRIBUTE, SUMMARY_ATTRIBUTE};
use crate::chatops::replies::Replier;
use crate::emitter::OutcomeSink;
use crate::executor::{Execution, Executor};
use crate::outcome::{Outcome, Source};
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures::StreamExt;
use serde_json::json;
use tokio::time::Instant;

pub struct QueueWorker<S> {
    executor: Executor,
    sink: S,
    concurrency: usize,
    replier: Option<Replier>,
}

/// The batch could not be answered record by record: SQS retries it whole.
#[derive(Debug, thiserror::Error)]
#[error("{0} record(s) failed and have no messageId to report them by")]
pub struct UnreportableFailure(pub usize);

/// One record's result: its outcome (if it was processed) and whether SQS must deliver it again.
struct RecordResult {
    message_id: Option<String>,
    outcome: Option<Outcome>,
    /// A chat command's response URL, requester and summary (message attributes).
    reply: Option<(String, String, String)>,
}

fn attribute(record: &SqsMessage, name: &str) -> Option<String> {
    record.message_attributes.get(name)?.string_value.clone()
}

fn reply_of(record: &SqsMessage) -> Option<(String, String, String)> {
    Some((
        attribute(record, RESPONSE_URL_ATTRIBUTE)?,
        attribute(record, REQUESTED_BY_ATTRIBUTE).unwrap_or_default(),
        attribute(record, SUMMARY_ATTRIBUTE).unwrap_or_else(|| "the command".into()),
    ))
}

impl<S: OutcomeSink> QueueWorker<S> {
    pub fn new(executor: Executor, sink: S, concurrency: usize) -> Self {
        Self {
            executor,
            sink,
            concurrency: concurrency.max(1),
            replier: None,
        }
    }

    /// Replies to chat commands (records carrying a response URL) with their outcome.
    pub fn with_replier(mut self, replier: Replier) -> Self {
        self.replier = Some(replier);
        self
    }

    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// Executes the batch and reports, as batch item failures, only the records SQS should
    /// deliver again: a retryable failure, an unpublished outcome, or a FIFO record held back
    /// behind one of those.
    pub async fn handle(
        &self,
        event: SqsEvent,
        deadline: Instant,
    ) -> Result<SqsBatchResponse, UnreportableFailure> {
        let groups = group_records(event.records);
        let results: Vec<RecordResult> = futures::stream::iter(groups)
            .map(|group| self.run_group(group, deadline))
            .buffer_unordered(self.concurrency)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .flatten()
            .collect();
        let outcomes: Vec<Outcome> = results.iter().filter_map(|r| r.outcome.clone()).collect();
        let mut published = self.sink.publish(&outcomes).await.into_iter();
        self.post_replies(&results).await;
        let mut response = SqsBatchResponse::default();
        let mut unreportable = 0;
        for result in results {
            let retry = match &result.outcome {
                Some(o) => {
                    let was_published = published.next().unwrap_or(false);
                    log_outcome(o, was_published);
                    !was_published || o.is_retryable_failure()
                }
                None => true,
            };
            if retry {
                match result.message_id {
                    Some(id) => response.add_failure(id),
                    None => unreportable += 1,
                }
            }
        }
        if unreportable > 0 {
            return Err(UnreportableFailure(unreportable));
        }
        Ok(response)
    }

    async fn post_replies(&self, results: &[RecordResult]) {
        let Some(replier) = &self.replier else { return };
        let posts = results.iter().filter_map(|r| {
            let (url, by, summary) = r.reply.as_ref()?;
            let outcome = r.outcome.as_ref()?;
            Some(replier.post(url, by, summary, outcome))
        });
        futures::future::join_all(posts).await;
    }

    /// Runs a group's records in order; after a retryable failure the rest wait for redelivery.
    async fn run_group(&self, group: Vec<SqsMessage>, deadline: Instant) -> Vec<RecordResult> {
        let mut results = Vec::with_capacity(group.len());
        let mut held = false;
        for record in group {
            if held {
                results.push(RecordResult {
                    message_id: record.message_id,
                    outcome: None,
                    reply: None,
                });
                continue;
            }
            let outcome = self.run_record(&record, deadline).await;
            held = outcome.is_retryable_failure() && is_fifo(&record);
            results.push(RecordResult {
                reply: reply_of(&record),
                message_id: record.message_id,
                outcome: Some(outcome),
            });
        }
        results
    }

    async fn run_record(&self, record: &SqsMessage, deadline: Instant) -> Outcome {
        let receive_count: u32 = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let mut source = Source::new("sqs", record.message_id.clone().unwrap_or_default());
        source.detail = Some(json!({
            "queue": record.event_source_arn,
            "receive_count": receive_count,
            "requested_by": attribute(record, REQUESTED_BY_ATTRIBUTE),
        }));
        let body = record.body.as_deref().unwrap_or_default();
        let action = match Action::from_json(body) {
            Ok(a) => a,
            Err(e) => return Outcome::invalid_input(body, &e, source),
        };
        let ctx = Execution {
            deadline,
            redelivered: receive_count > 1,
        };
        let mut outcome = self.executor.execute(action, source, ctx).await;
        outcome.is_final = !outcome.is_retryable_failure();
        outcome
    }
}

fn is_fifo(record: &SqsMessage) -> bool {
    record.attributes.contains_key("MessageGroupId")
}

/// FIFO records grouped by message group (order kept); every other record alone.
fn group_records(records: Vec<SqsMessage>) -> Vec<Vec<SqsMessage>> {
    let mut groups: Vec<Vec<SqsMessage>> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    for record in records {
        match record.attributes.get("MessageGroupId").cloned() {
            Some(group) => match index.get(&group) {
                Some(&i) => groups[i].push(record),
                None => {
                    index.insert(group, groups.len());
                    groups.push(vec![record]);
                }
            },
            None => groups.push(vec![record]),
        }
    }
    groups
}

fn log_outcome(o: &Outcome, published: bool) {
    let error = o.error.as_ref().map(|e| e.code.as_str());
    if published {
        tracing::info!(action_id = o.action_id(), source = %o.source.id, status = ?o.status, error, attempts = o.attempts, "outcome");
    } else {
        tracing::error!(action_id = o.action_id(), source = %o.source.id, status = ?o.status, error, "outcome could not be published; the record will be delivered again");
    }
}
