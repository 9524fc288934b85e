//! A request as the fake received it, and the answer it gives.

use serde_json::Value;

/// The parts of a received HTTP request the fakes look at.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub method: String,
    /// The path exactly as received (still percent-encoded).
    pub path: String,
    /// The raw query string (without `?`).
    pub raw_query: String,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Incoming {
    /// Case-insensitive header lookup (repeated headers joined with `,`).
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    }
}

/// An answer: status, headers and body bytes, plus the error code when it is an error.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub error_code: Option<String>,
}

impl Reply {
    pub fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json;charset=utf-8".into(),
            )],
            body: serde_json::to_vec(body).unwrap_or_default(),
            error_code: None,
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn with_error_code(mut self, code: &str) -> Self {
        self.error_code = Some(code.to_string());
        self
    }
}
