//! The library's errors: invalid input (never sent), provider and transport failures (with
//! whether a retry can help), and configuration problems (fail the cold start).

use serde::Serialize;
use std::time::Duration;

/// An input that breaks a documented rule. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct ValidationError {
    /// Where the problem is, e.g. `params.Servers[2].Weight`.
    pub field: String,
    /// The rule it breaks, e.g. `must be 0-100, got 150`.
    pub rule: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

/// A failed call to a provider, normalised across Alibaba and Huawei.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ProviderError {
    /// The provider's error code (`Throttling.User`, `APIG.3023`), or lbpilot's for transport
    /// failures (`Timeout`, `ConnectionReset`, `MalformedResponse`).
    pub code: String,
    pub message: String,
    /// The HTTP status, when a response arrived.
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Whether sending the same request again can succeed.
    pub retryable: bool,
    /// The request may have been applied although no clear answer came back.
    #[serde(skip)]
    pub ambiguous: bool,
    /// The provider asked to wait this long before retrying (`x-acs-retry-after`).
    #[serde(skip)]
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    pub fn transport(code: &str, message: impl Into<String>, ambiguous: bool) -> Self {
        Self {
            code: code.to_string(),
            message: message.into(),
            http_status: None,
            request_id: None,
            retryable: true,
            ambiguous,
            retry_after: None,
        }
    }
}

/// A missing or malformed setting; names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration {name}: {problem}")]
pub struct ConfigError {
    pub name: String,
    pub problem: String,
}

impl ConfigError {
    pub fn new(name: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            problem: problem.into(),
        }
    }
}
