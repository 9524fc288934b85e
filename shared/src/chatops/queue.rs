//! The command queue port: chat commands are queued (SQS FIFO, one message group per target)
//! and answered at once; the queue worker executes them and replies to Slack.

use crate::action::Action;
use aws_sdk_sqs::types::MessageAttributeValue;
use std::future::Future;
use std::sync::Mutex;

/// Message attributes the queue worker reads to reply to the requester.
pub const RESPONSE_URL_ATTRIBUTE: &str = "lbpilot.response_url";
pub const REQUESTED_BY_ATTRIBUTE: &str = "lbpilot.requested_by";
pub const SUMMARY_ATTRIBUTE: &str = "lbpilot.summary";

/// Where and how to tell the requester what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub response_url: String,
    /// e.g. `<@U2CERLKJA>`.
    pub requested_by: String,
    /// e.g. "drain `i-1:80` on *web-alb*".
    pub summary: String,
}

pub trait CommandQueue: Send + Sync {
    /// Queues `action` in message group `group`; returns the message id.
    fn enqueue(
        &self,
        action: &Action,
        group: &str,
        reply: &Reply,
    ) -> impl Future<Output = Result<String, String>> + Send;
}

pub struct SqsCommandQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsCommandQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: String) -> Self {
        Self { client, queue_url }
    }
}

fn text(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("type and value are set")
}

impl CommandQueue for SqsCommandQueue {
    async fn enqueue(&self, action: &Action, group: &str, reply: &Reply) -> Result<String, String> {
        let body = serde_json::to_string(action).expect("actions serialize");
        let mut send = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_attributes(RESPONSE_URL_ATTRIBUTE, text(&reply.response_url))
            .message_attributes(REQUESTED_BY_ATTRIBUTE, text(&reply.requested_by))
            .message_attributes(SUMMARY_ATTRIBUTE, text(&reply.summary));
        if self.queue_url.ends_with(".fifo") {
            // The action id is unique per command: a repeated send is dropped by SQS.
            send = send
                .message_group_id(group)
                .message_deduplication_id(&action.id);
        }
        send.send()
            .await
            .map(|out| out.message_id().unwrap_or_default().to_string())
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
    }
}

/// Keeps queued commands in memory (tests).
#[derive(Debug, Default)]
pub struct MemoryQueue {
    pub sent: Mutex<Vec<(Action, String, Reply)>>,
}

impl CommandQueue for MemoryQueue {
    async fn enqueue(&self, action: &Action, group: &str, reply: &Reply) -> Result<String, String> {
        let mut sent = self.sent.lock().expect("not poisoned");
        sent.push((action.clone(), group.to_string(), reply.clone()));
        Ok(format!("memory-{}", sent.len()))
    }
}
