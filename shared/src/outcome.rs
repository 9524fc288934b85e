//! The outcome contract: one record per action (or per input that could not become one),
//! emitted to the results queue as the audit trail.

use crate::action::Action;
use crate::error::{ProviderError, ValidationError};
use crate::http::HttpRequest;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Succeeded,
    Failed,
    Rejected,
    DryRun,
    /// A decision to do nothing: a duplicate notification, an alert no route matches.
    Skipped,
}

/// What caused an outcome: `kind` is the event source (`sqs`, `schedule`, `alertmanager`, …),
/// `id` its own identifier (for a queue message, its messageId).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    pub kind: String,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

impl Source {
    pub fn new(kind: &str, id: impl Into<String>) -> Self {
        Self {
            kind: kind.to_string(),
            id: id.into(),
            detail: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeError {
    pub code: String,
    pub message: String,
    pub http_status: Option<u16>,
    pub retryable: bool,
    /// For a rejected input: the field that breaks a rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl From<&ProviderError> for OutcomeError {
    fn from(e: &ProviderError) -> Self {
        Self {
            code: e.code.clone(),
            message: e.message.clone(),
            http_status: e.http_status,
            retryable: e.retryable,
            field: None,
        }
    }
}

impl From<&ValidationError> for OutcomeError {
    fn from(e: &ValidationError) -> Self {
        Self {
            code: "InvalidAction".into(),
            message: e.to_string(),
            http_status: None,
            retryable: false,
            field: Some(e.field.clone()),
        }
    }
}

/// A request that was (or, for a dry run, would have been) sent, without its signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestView {
    pub method: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl From<&HttpRequest> for RequestView {
    fn from(r: &HttpRequest) -> Self {
        Self {
            method: r.method.to_string(),
            url: r.url(),
            body: (!r.body.is_empty()).then(|| String::from_utf8_lossy(&r.body).into_owned()),
        }
    }
}

/// The longest raw input kept in an outcome for an input that was not a valid action.
const MAX_INPUT_EXCERPT: usize = 2048;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The action as executed (id filled in); `None` when the input was not an action.
    pub action: Option<Action>,
    pub status: Status,
    /// `false` when the event will be delivered again (a retryable failure): a later outcome follows.
    #[serde(rename = "final")]
    pub is_final: bool,
    pub provider_request_id: Option<String>,
    pub response: Option<Value>,
    pub error: Option<OutcomeError>,
    pub attempts: u32,
    pub source: Source,
    pub started_at: String,
    pub finished_at: String,
    /// For dry runs that send nothing: the request that would have been sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<RequestView>,
    /// Operation-specific facts: the ALB job's status, the dial before and after, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
    /// The start of the raw input, when it could not be parsed as an action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
}

pub fn timestamp(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("UTC times always format")
}

pub fn now() -> String {
    timestamp(OffsetDateTime::now_utc())
}

impl Outcome {
    /// A started outcome for `action`; the executor fills in the rest.
    pub fn start(action: Option<Action>, source: Source) -> Self {
        let started = now();
        Self {
            action,
            status: Status::Failed,
            is_final: true,
            provider_request_id: None,
            response: None,
            error: None,
            attempts: 0,
            source,
            started_at: started.clone(),
            finished_at: started,
            requests: Vec::new(),
            detail: None,
            input: None,
        }
    }

    /// An input that is not a valid action: rejected, never retried.
    pub fn invalid_input(input: &str, error: &ValidationError, source: Source) -> Self {
        let mut o = Self::start(None, source);
        o.status = Status::Rejected;
        o.error = Some(error.into());
        o.input = Some(input.chars().take(MAX_INPUT_EXCERPT).collect());
        o
    }

    /// A decision that sent nothing (skipped, or refused by a guard), explained in `detail`.
    pub fn decision(status: Status, reason: &str, detail: Value, source: Source) -> Self {
        let mut o = Self::start(None, source);
        o.error = (status == Status::Rejected).then(|| OutcomeError {
            code: "RefusedByGuard".into(),
            message: reason.to_string(),
            http_status: None,
            retryable: false,
            field: None,
        });
        let mut detail = detail;
        detail["decision"] = Value::String(reason.to_string());
        o.detail = Some(detail);
        o.finish(status)
    }

    pub fn finish(mut self, status: Status) -> Self {
        self.status = status;
        self.finished_at = now();
        self
    }

    pub fn failed(mut self, error: &ProviderError) -> Self {
        self.error = Some(error.into());
        if self.provider_request_id.is_none() {
            self.provider_request_id = error.request_id.clone();
        }
        self.finish(Status::Failed)
    }

    /// A failure that another delivery of the event can fix.
    pub fn is_retryable_failure(&self) -> bool {
        self.status == Status::Failed && self.error.as_ref().is_some_and(|e| e.retryable)
    }

    pub fn action_id(&self) -> Option<&str> {
        self.action.as_ref().map(|a| a.id.as_str())
    }
}
