//! Huawei Cloud `SDK-HMAC-SHA256` signing (APIG gateway), as the official SDK's `Signer` does it.

use super::{VerifyError, constant_time_eq, encoding, hmac_sha256_hex, sha256_hex};
use crate::http::HttpRequest;
use crate::secret::Secret;

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// An AK/SK pair, with the security token when the key is temporary.
#[derive(Debug, Clone)]
pub struct HuaweiCredentials {
    pub access_key: String,
    pub secret_key: Secret,
    pub security_token: Option<Secret>,
}

/// Signs `req`: adds `X-Sdk-Date` (UTC `YYYYMMDDTHHMMSSZ`), `Host`, `X-Project-Id` (when given),
/// `X-Security-Token` (temporary keys) and `Authorization`. Every header present is signed,
/// so add unsigned headers (user agent) after this.
pub fn sign(
    req: &mut HttpRequest,
    creds: &HuaweiCredentials,
    project_id: Option<&str>,
    sdk_date: &str,
) {
    req.set_header("x-sdk-date", sdk_date);
    let host = req.authority().to_string();
    req.set_header("host", host);
    if let Some(project_id) = project_id {
        req.set_header("x-project-id", project_id);
    }
    if let Some(token) = &creds.security_token {
        req.set_header("x-security-token", token.expose());
    }
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(n, _)| !n.contains('_') && n != "authorization")
        .cloned()
        .collect();
    let (canonical, signed_names) = canonical_request(
        req.method,
        &req.path,
        &req.query,
        &headers,
        &sha256_hex(&req.body),
    );
    let signature = signature(&canonical, sdk_date, creds.secret_key.expose());
    req.set_header(
        "authorization",
        format!(
            "{ALGORITHM} Access={}, SignedHeaders={signed_names}, Signature={signature}",
            creds.access_key
        ),
    );
}

/// Decode the path, encode each segment, and end it with `/` (only in the canonical form).
pub fn canonical_uri(path: &str) -> String {
    let decoded = encoding::decode(path, false);
    let mut uri = decoded
        .split('/')
        .map(encoding::encode)
        .collect::<Vec<_>>()
        .join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// The canonical request and the `SignedHeaders` list.
pub fn canonical_request(
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(String, String)],
    payload_hash: &str,
) -> (String, String) {
    let mut headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed_names = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        canonical_uri(path),
        encoding::canonical_query(query),
        canonical_headers,
        signed_names,
        payload_hash
    );
    (canonical, signed_names)
}

pub fn string_to_sign(canonical_request: &str, sdk_date: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

pub fn signature(canonical_request: &str, sdk_date: &str, secret_key: &str) -> String {
    hmac_sha256_hex(
        secret_key.as_bytes(),
        string_to_sign(canonical_request, sdk_date).as_bytes(),
    )
}

/// A parsed `SDK-HMAC-SHA256` Authorization header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

pub fn parse_authorization(value: &str) -> Result<Authorization, VerifyError> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or(VerifyError::MalformedAuthorization)?;
    let (mut access, mut signed, mut signature) = (None, None, None);
    for part in rest.split(", ") {
        match part.split_once('=') {
            Some(("Access", v)) => access = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => return Err(VerifyError::MalformedAuthorization),
        }
    }
    match (access, signed, signature) {
        (Some(a), Some(s), Some(sig)) if !a.is_empty() && !sig.is_empty() => Ok(Authorization {
            access_key: a.to_string(),
            signed_headers: s.split(';').map(str::to_string).collect(),
            signature: sig.to_string(),
        }),
        _ => Err(VerifyError::MalformedAuthorization),
    }
}

/// A request as a server received it, for verification.
pub struct ReceivedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub raw_query: &'a str,
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub body: &'a [u8],
}

/// Verifies a received request as the APIG gateway does; returns the AK that signed it.
pub fn verify(
    req: &ReceivedRequest<'_>,
    secret_for: &dyn Fn(&str) -> Option<String>,
) -> Result<String, VerifyError> {
    let auth = parse_authorization(
        &(req.header)("authorization").ok_or(VerifyError::MalformedAuthorization)?,
    )?;
    if !auth.signed_headers.iter().any(|h| h == "x-sdk-date") {
        return Err(VerifyError::UnsignedRequiredHeader("x-sdk-date".into()));
    }
    let mut headers = Vec::new();
    for name in &auth.signed_headers {
        let value =
            (req.header)(name).ok_or_else(|| VerifyError::MissingSignedHeader(name.clone()))?;
        headers.push((name.clone(), value));
    }
    let sdk_date = (req.header)("x-sdk-date").unwrap_or_default();
    let payload_hash = match (req.header)("x-sdk-content-sha256") {
        Some(v) if !req.body.is_empty() => v,
        _ => sha256_hex(req.body),
    };
    let query = encoding::parse_pairs(req.raw_query);
    let (canonical, _) = canonical_request(req.method, req.path, &query, &headers, &payload_hash);
    let secret = secret_for(&auth.access_key)
        .ok_or_else(|| VerifyError::UnknownAccessKey(auth.access_key.clone()))?;
    if constant_time_eq(
        signature(&canonical, &sdk_date, &secret).as_bytes(),
        auth.signature.as_bytes(),
    ) {
        Ok(auth.access_key)
    } else {
        Err(VerifyError::SignatureMismatch)
    }
}
