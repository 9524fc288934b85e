//! The Huawei wire shared by ROMA and GA: an `X-Request-Id` header on every answer and the
//! error body `{"error_code","error_msg"}` (huawei-signing.md "Serialization and errors").

use super::util;
use super::wire::{Incoming, Reply};
use lbpilot::signing::encoding;
use serde_json::Value;

pub struct HwCall {
    pub operation: &'static str,
    pub request_id: String,
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub type HwResult<T> = Result<T, Reply>;

impl HwCall {
    pub fn new(operation: &'static str, req: &Incoming) -> Self {
        Self {
            operation,
            request_id: util::hex32(),
            query: encoding::parse_pairs(&req.raw_query),
            body: req.body.clone(),
        }
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn error(&self, status: u16, code: &str, msg: &str) -> Reply {
        error_reply(&self.request_id, status, code, msg)
    }

    pub fn ok(&self, status: u16, body: &Value) -> Reply {
        Reply::json(status, body).with_header("x-request-id", self.request_id.clone())
    }

    /// The body as a JSON object; `APIG.2000`-style 400 otherwise (`code` is per service).
    pub fn json_body(&self, code: &str, msg: &str) -> HwResult<serde_json::Map<String, Value>> {
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(self.error(400, code, msg)),
        }
    }
}

pub fn error_reply(request_id: &str, status: u16, code: &str, msg: &str) -> Reply {
    let body = serde_json::json!({"error_code": code, "error_msg": msg});
    Reply::json(status, &body)
        .with_header("x-request-id", request_id.to_string())
        .with_error_code(code)
}

/// Percent-decoded, non-empty path segments.
pub fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| encoding::decode(s, false))
        .collect()
}
