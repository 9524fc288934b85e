//! The HTTP request and response of a Lambda Function URL (payload format 2.0, which is also
//! what `cargo lambda watch` sends), kept to the fields the webhooks use.

use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The largest request body accepted by the webhooks.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRequestEvent {
    #[serde(default, deserialize_with = "null_as_default")]
    pub raw_path: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub raw_query_string: String,
    /// Lower-case names (Function URLs lower-case them; lookups also ignore case).
    #[serde(default, deserialize_with = "null_as_default")]
    pub headers: HashMap<String, String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub query_string_parameters: HashMap<String, String>,
    pub body: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_base64_encoded: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub request_context: RequestContext,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    #[serde(default, deserialize_with = "null_as_default")]
    pub request_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub http: HttpContext,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpContext {
    #[serde(default, deserialize_with = "null_as_default")]
    pub method: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub source_ip: String,
}

/// Function URLs send `null` for absent parts (no query string, say): read it as empty.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("the body is marked base64 but does not decode")]
    BadBase64,
}

impl HttpRequestEvent {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of the header `name`, whatever the spelling of its name (an event may carry
    /// one name in two spellings; a Function URL joins the repeats of one with commas).
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The raw body bytes, as the sender sent them (base64 decoded when so marked): what a
    /// signature covers.
    pub fn body_bytes(&self) -> Result<Vec<u8>, BodyError> {
        let body = self.body.as_deref().unwrap_or_default();
        // Base64 is 4/3 of the bytes it holds.
        if body.len() > MAX_BODY_BYTES * 4 / 3 + 4 {
            return Err(BodyError::TooLarge);
        }
        let bytes = if self.is_base64_encoded {
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .map_err(|_| BodyError::BadBase64)?
        } else {
            body.as_bytes().to_vec()
        };
        if bytes.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        Ok(bytes)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpResponse {
    pub status_code: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
    /// Always present: some readers of the 2.0 format (cargo lambda watch) require it.
    pub is_base64_encoded: bool,
    pub cookies: Vec<String>,
}

impl HttpResponse {
    pub fn json(status_code: u16, body: &serde_json::Value) -> Self {
        Self {
            status_code,
            headers: HashMap::from([("content-type".to_string(), "application/json".to_string())]),
            body: body.to_string(),
            is_base64_encoded: false,
            cookies: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nulls_as_absent() {
        let event: HttpRequestEvent = serde_json::from_value(serde_json::json!({
            "rawPath": "/", "rawQueryString": null, "headers": null, "queryStringParameters": null,
            "body": null, "isBase64Encoded": null, "requestContext": {"http": {"method": "POST", "sourceIp": null}}
        }))
        .unwrap();
        assert_eq!(event.raw_query_string, "");
        assert_eq!(event.body_bytes().unwrap(), b"");
    }

    #[test]
    fn decodes_base64_bodies_and_bounds_them() {
        let event: HttpRequestEvent = serde_json::from_value(serde_json::json!({
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            "body": "YT0xJmI9Mg==", "isBase64Encoded": true,
            "requestContext": {"http": {"method": "POST"}}
        }))
        .unwrap();
        assert_eq!(event.body_bytes().unwrap(), b"a=1&b=2");
        assert_eq!(
            event.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        let bad = HttpRequestEvent {
            body: Some("@@@".into()),
            is_base64_encoded: true,
            ..Default::default()
        };
        assert_eq!(bad.body_bytes(), Err(BodyError::BadBase64));
        let big = HttpRequestEvent {
            body: Some("x".repeat(MAX_BODY_BYTES + 1)),
            ..Default::default()
        };
        assert_eq!(big.body_bytes(), Err(BodyError::TooLarge));
    }
}
