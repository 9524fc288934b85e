//! The provider request as data: built by a client, signed in place, then sent.

use crate::signing::encoding;

/// An HTTP request to a provider API, before or after signing.
///
/// `path` is the path exactly as sent (already percent-encoded); `query` holds decoded pairs,
/// which go on the wire in the canonical encoding so that what is sent and what is signed agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: &'static str,
    /// `scheme://host[:port]`, without a trailing slash.
    pub origin: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Header names are lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn new(method: &'static str, origin: &str, path: String) -> Self {
        Self {
            method,
            origin: origin.to_string(),
            path,
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Sets a header, replacing any earlier value of the same (case-insensitive) name.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        let name = name.to_ascii_lowercase();
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.into()));
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query string as sent: sorted and percent-encoded, exactly as signed.
    pub fn query_string(&self) -> String {
        encoding::canonical_query(&self.query)
    }

    /// The full URL as sent.
    pub fn url(&self) -> String {
        let query = self.query_string();
        if query.is_empty() {
            format!("{}{}", self.origin, self.path)
        } else {
            format!("{}{}?{}", self.origin, self.path, query)
        }
    }

    /// `host[:port]` of the origin, the value of the `Host` header.
    pub fn authority(&self) -> &str {
        let rest = self
            .origin
            .split_once("://")
            .map_or(self.origin.as_str(), |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }
}
