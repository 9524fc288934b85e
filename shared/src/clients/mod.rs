//! Signed calls to each provider family: sign, send, and turn the answer into JSON or a
//! classified `ProviderError`.

pub mod alibaba;
pub mod huawei;

use serde_json::Value;

/// A successful provider answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub request_id: Option<String>,
}

/// A short, printable excerpt of a body that did not parse (for error messages).
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut short: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        short.push('…');
    }
    short
}
