//! What the fakes remember about each request they received.

use super::faults::Product;
use lbpilot::signing::encoding;
use serde::Serialize;

/// One request as received, and how the fake answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedRequest {
    /// 1, 2, 3, … in arrival order across all four products.
    pub seq: u64,
    pub product: Product,
    /// The Alibaba action (`x-acs-action`) or the Huawei operation name (`UpdateMemberGroup`,
    /// `ShowEndpointGroup`, …); empty when the request matched no operation.
    pub action: String,
    pub method: String,
    /// The path as received.
    pub path: String,
    /// The decoded query pairs, in wire order.
    pub query: Vec<(String, String)>,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8).
    pub body: String,
    /// The HTTP status answered; `None` when the connection was closed without an answer.
    pub status: Option<u16>,
    /// The error code answered (`Code` / `error_code`), if the answer was an error.
    pub error_code: Option<String>,
    /// The injected fault that fired on this request (`drop`, `throttle`, …).
    pub fault: Option<String>,
    /// The AccessKey that signed it, once the signature verified.
    pub access_key: Option<String>,
    /// ALB: the ClientToken had been seen before, so the earlier JobId was returned and
    /// nothing was applied again.
    pub replayed: bool,
    /// Receipt time, epoch milliseconds.
    pub received_at_ms: u64,
}

impl RecordedRequest {
    /// A parameter from the query, else from a form-encoded body (ALB `Servers.N.*`).
    pub fn param(&self, name: &str) -> Option<String> {
        if let Some((_, v)) = self.query.iter().find(|(k, _)| k == name) {
            return Some(v.clone());
        }
        let form = self
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        if !form {
            return None;
        }
        encoding::parse_pairs(&self.body)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The ALB `ClientToken`, if the request carried one.
    pub fn client_token(&self) -> Option<String> {
        self.param("ClientToken")
    }

    /// One readable line, as the standalone binary logs it.
    pub fn summary(&self) -> String {
        let status = self
            .status
            .map_or_else(|| "dropped".to_string(), |s| s.to_string());
        let mut line = format!(
            "#{} {} {} {} {} -> {}",
            self.seq,
            self.product,
            self.method,
            self.path,
            if self.action.is_empty() {
                "?"
            } else {
                &self.action
            },
            status
        );
        if let Some(code) = &self.error_code {
            line.push_str(&format!(" {code}"));
        }
        if let Some(fault) = &self.fault {
            line.push_str(&format!(" [fault {fault}]"));
        }
        if self.replayed {
            line.push_str(" [replay]");
        }
        line
    }
}
