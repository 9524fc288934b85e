//! Alibaba Cloud `ACS3-HMAC-SHA256` (V3) signing, as the official SDK (tea-openapi) does it.

use super::{VerifyError, constant_time_eq, encoding, hmac_sha256_hex, sha256_hex};
use crate::http::HttpRequest;
use crate::secret::Secret;

pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// An AccessKey pair, with the STS token when the key is temporary.
#[derive(Debug, Clone)]
pub struct AlibabaCredentials {
    pub access_key_id: String,
    pub access_key_secret: Secret,
    pub security_token: Option<Secret>,
}

/// The parts of a signature that vary per request: the clock and the nonce.
#[derive(Debug, Clone)]
pub struct SigningParams<'a> {
    /// UTC `yyyy-MM-ddTHH:mm:ssZ`.
    pub date: &'a str,
    /// Unique per request; the service refuses a reused nonce.
    pub nonce: &'a str,
}

/// Whether a header is one the signer covers: host, content type and every `x-acs-*` header.
/// `user-agent` and `accept` are left out because a proxy or HTTP library may rewrite them.
fn is_signed(name: &str) -> bool {
    name == "host" || name == "content-type" || name.starts_with("x-acs-")
}

/// Signs `req` for `action`/`version`: adds the `x-acs-*` headers and `Authorization`.
pub fn sign(
    req: &mut HttpRequest,
    creds: &AlibabaCredentials,
    action: &str,
    version: &str,
    params: &SigningParams<'_>,
) {
    let host = req.authority().to_string();
    req.set_header("host", host);
    req.set_header("x-acs-action", action);
    req.set_header("x-acs-version", version);
    req.set_header("x-acs-date", params.date);
    req.set_header("x-acs-signature-nonce", params.nonce);
    req.set_header("x-acs-content-sha256", sha256_hex(&req.body));
    if let Some(token) = &creds.security_token {
        req.set_header("x-acs-security-token", token.expose());
        req.set_header("x-acs-accesskey-id", creds.access_key_id.as_str());
    }
    let signed: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(n, _)| is_signed(n))
        .cloned()
        .collect();
    let (canonical, signed_names) = canonical_request(
        req.method,
        &req.path,
        &req.query,
        &signed,
        &sha256_hex(&req.body),
    );
    let signature = signature(&canonical, creds.access_key_secret.expose());
    req.set_header(
        "authorization",
        format!(
            "{ALGORITHM} Credential={},SignedHeaders={signed_names},Signature={signature}",
            creds.access_key_id
        ),
    );
}

/// The canonical request and the `SignedHeaders` list, from decoded query pairs and the headers to sign.
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
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed_names = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        path,
        encoding::canonical_query(query),
        canonical_headers,
        signed_names,
        payload_hash
    );
    (canonical, signed_names)
}

pub fn string_to_sign(canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{}", sha256_hex(canonical_request.as_bytes()))
}

pub fn signature(canonical_request: &str, secret: &str) -> String {
    hmac_sha256_hex(
        secret.as_bytes(),
        string_to_sign(canonical_request).as_bytes(),
    )
}

/// A parsed `ACS3-HMAC-SHA256` Authorization header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

pub fn parse_authorization(value: &str) -> Result<Authorization, VerifyError> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or(VerifyError::MalformedAuthorization)?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        match part.split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => return Err(VerifyError::MalformedAuthorization),
        }
    }
    match (credential, signed, signature) {
        (Some(c), Some(s), Some(sig)) if !c.is_empty() && !sig.is_empty() => Ok(Authorization {
            access_key_id: c.to_string(),
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
    /// The raw query string from the request line.
    pub raw_query: &'a str,
    /// Header lookup, case-insensitive.
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub body: &'a [u8],
}

/// Verifies a received request the way the service does; `secret_for` maps an AccessKey ID to its secret.
/// Returns the AccessKey ID that signed it.
pub fn verify(
    req: &ReceivedRequest<'_>,
    secret_for: &dyn Fn(&str) -> Option<String>,
) -> Result<String, VerifyError> {
    let auth = parse_authorization(
        &(req.header)("authorization").ok_or(VerifyError::MalformedAuthorization)?,
    )?;
    for required in [
        "host",
        "x-acs-action",
        "x-acs-version",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
    ] {
        if !auth.signed_headers.iter().any(|h| h == required) {
            return Err(VerifyError::UnsignedRequiredHeader(required.to_string()));
        }
    }
    if (req.header)("x-acs-security-token").is_some()
        && !auth
            .signed_headers
            .iter()
            .any(|h| h == "x-acs-security-token")
    {
        return Err(VerifyError::UnsignedRequiredHeader(
            "x-acs-security-token".into(),
        ));
    }
    let payload_hash = (req.header)("x-acs-content-sha256").unwrap_or_default();
    if !constant_time_eq(payload_hash.as_bytes(), sha256_hex(req.body).as_bytes()) {
        return Err(VerifyError::BodyHashMismatch);
    }
    let mut headers = Vec::new();
    for name in &auth.signed_headers {
        let value =
            (req.header)(name).ok_or_else(|| VerifyError::MissingSignedHeader(name.clone()))?;
        headers.push((name.clone(), value));
    }
    let query = encoding::parse_pairs(req.raw_query);
    let (canonical, _) = canonical_request(req.method, req.path, &query, &headers, &payload_hash);
    let secret = secret_for(&auth.access_key_id)
        .ok_or_else(|| VerifyError::UnknownAccessKey(auth.access_key_id.clone()))?;
    if constant_time_eq(
        signature(&canonical, &secret).as_bytes(),
        auth.signature.as_bytes(),
    ) {
        Ok(auth.access_key_id)
    } else {
        Err(VerifyError::SignatureMismatch)
    }
}
