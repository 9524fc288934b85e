//! Who may send alerts: the checks for each source's webhook request, all constant-time.
//!
//! - Alertmanager: `Authorization: Bearer <token>` (or another configured scheme) or
//!   `Authorization: Basic base64(user:pass)` ([`verify_alertmanager`]). Alertmanager has no
//!   request signing.
//! - Grafana: the HMAC-SHA256 signature of `hmacConfig` (over the body, or over
//!   `"{timestamp}:{body}"` when a timestamp header is configured, then within a replay window),
//!   and/or Bearer/Basic as for Alertmanager ([`verify_grafana`]).
//! - CloudMonitor: a secret token in the callback URL's query ([`verify_cloudmonitor`]);
//!   CloudMonitor documents no signature (also allowlist its source addresses).
//!
//! An [`AuthError`] says which check failed, never the secret or what was presented. A request
//! is refused when nothing is configured.

use crate::secret::Secret;
use crate::signing::constant_time_eq;
use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A secret a webhook presents: `Debug` and `Display` print a placeholder.
pub type WebhookSecret = Secret;

/// The header Grafana's contact-point form names as the signature header's default.
pub const GRAFANA_SIGNATURE_HEADER: &str = "X-Grafana-Alerting-Signature";
/// The header grafana/alerting's `HMACRoundTripper` actually uses when none is configured
/// (`defaultHeaderName`); accepted too when no header is configured.
pub const GRAFANA_FALLBACK_SIGNATURE_HEADER: &str = "X-Grafana-Alert-Signature";
/// How far a signed timestamp may be from now (either way).
pub const DEFAULT_REPLAY_WINDOW: Duration = Duration::from_secs(300);
/// The query parameter that carries the CloudMonitor callback token.
pub const DEFAULT_TOKEN_PARAM: &str = "token";

const AUTHORIZATION: &str = "Authorization";

/// A request's headers, looked up by name ASCII case-insensitively.
pub trait Headers {
    /// The values of every header called `name`, in order.
    fn values_of(&self, name: &str) -> Vec<&[u8]>;
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for [(K, V)] {
    fn values_of(&self, name: &str) -> Vec<&[u8]> {
        self.iter()
            .filter(|(k, _)| k.as_ref().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref().as_bytes())
            .collect()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for Vec<(K, V)> {
    fn values_of(&self, name: &str) -> Vec<&[u8]> {
        self.as_slice().values_of(name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> Headers for [(K, V); N] {
    fn values_of(&self, name: &str) -> Vec<&[u8]> {
        self.as_slice().values_of(name)
    }
}

impl Headers for BTreeMap<String, String> {
    fn values_of(&self, name: &str) -> Vec<&[u8]> {
        self.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_bytes())
            .collect()
    }
}

impl<S: BuildHasher> Headers for HashMap<String, String, S> {
    fn values_of(&self, name: &str) -> Vec<&[u8]> {
        self.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_bytes())
            .collect()
    }
}

/// Credentials accepted in the `Authorization` header.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// `<scheme> <token>`: `Bearer` by default in both Alertmanager (`authorization.type`) and
    /// Grafana (`authorization_scheme`); the scheme is matched case-insensitively.
    Token { scheme: String, token: Secret },
    /// `Basic base64(username:password)`.
    Basic { username: String, password: Secret },
}

impl Credentials {
    pub fn bearer(token: impl Into<String>) -> Self {
        Self::token("Bearer", token)
    }

    pub fn token(scheme: impl Into<String>, token: impl Into<String>) -> Self {
        Credentials::Token {
            scheme: scheme.into(),
            token: Secret::new(token),
        }
    }

    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials::Basic {
            username: username.into(),
            password: Secret::new(password),
        }
    }

    fn scheme(&self) -> &str {
        match self {
            Credentials::Token { scheme, .. } => scheme,
            Credentials::Basic { .. } => "Basic",
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Credentials::Token { scheme, token } => {
                scheme.trim().is_empty() || token.expose().is_empty()
            }
            Credentials::Basic { password, .. } => password.expose().is_empty(),
        }
    }
}

/// Grafana's `hmacConfig`.
#[derive(Debug, Clone)]
pub struct GrafanaHmac {
    pub secret: Secret,
    /// The signature header; `None` accepts [`GRAFANA_SIGNATURE_HEADER`] or
    /// [`GRAFANA_FALLBACK_SIGNATURE_HEADER`] (not both at once).
    pub header: Option<String>,
    /// `timestampHeader`: when set, the signature covers `"{timestamp}:{body}"` and the
    /// timestamp (Unix seconds) must be within `replay_window` of now.
    pub timestamp_header: Option<String>,
    pub replay_window: Duration,
}

impl GrafanaHmac {
    pub fn new(secret: impl Into<String>) -> Self {
        Self {
            secret: Secret::new(secret),
            header: None,
            timestamp_header: None,
            replay_window: DEFAULT_REPLAY_WINDOW,
        }
    }

    pub fn with_header(mut self, header: impl Into<String>) -> Self {
        self.header = Some(header.into());
        self
    }

    pub fn with_timestamp_header(mut self, header: impl Into<String>) -> Self {
        self.timestamp_header = Some(header.into());
        self
    }

    pub fn with_replay_window(mut self, window: Duration) -> Self {
        self.replay_window = window;
        self
    }
}

/// What a Grafana contact point is configured to send: every configured check must pass.
#[derive(Debug, Clone, Default)]
pub struct GrafanaAuth {
    pub hmac: Option<GrafanaHmac>,
    /// Bearer (or another scheme) / Basic credentials, any one of which is accepted.
    pub authorization: Vec<Credentials>,
}

/// The CloudMonitor callback URL's secret token.
#[derive(Debug, Clone)]
pub struct UrlToken {
    pub token: Secret,
    /// The query parameter's name (exact match), [`DEFAULT_TOKEN_PARAM`] by default.
    pub param: String,
}

impl UrlToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            token: Secret::new(token),
            param: DEFAULT_TOKEN_PARAM.to_string(),
        }
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = param.into();
        self
    }
}

/// Why a request was refused. Names the check, never a secret or the presented value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no credentials are configured for this endpoint, so every request is refused")]
    NotConfigured,
    /// e.g. `header Authorization`, `query parameter token`.
    #[error("{0} is missing")]
    Missing(String),
    #[error("{0} is given more than once")]
    Duplicate(String),
    #[error("{what} is malformed: {problem}")]
    Malformed { what: String, problem: &'static str },
    #[error("the Authorization scheme is not accepted here (accepted: {accepted})")]
    SchemeNotAccepted { accepted: String },
    /// e.g. `Bearer credentials`, `Basic credentials`, `signature`, `token`.
    #[error("wrong {0}")]
    Mismatch(String),
    #[error("signed timestamp is {age_secs} s from now, outside the {window_secs} s replay window")]
    Expired { age_secs: i64, window_secs: u64 },
    /// The same signature (so the same timestamp and body) was accepted before, inside its
    /// window: see [`SignedDelivery`].
    #[error(
        "this signed request was already received (a replay inside the {window_secs} s window)"
    )]
    Replayed { window_secs: u64 },
}

impl AuthError {
    /// The HTTP status to answer with: 500 when nothing is configured (the sender retries
    /// while it is fixed), else 401.
    pub fn status_code(&self) -> u16 {
        match self {
            AuthError::NotConfigured => 500,
            _ => 401,
        }
    }
}

/// Checks an Alertmanager request's `Authorization` header against the accepted credentials
/// (`http_config.authorization` or `http_config.basic_auth`).
pub fn verify_alertmanager<H: Headers + ?Sized>(
    accepted: &[Credentials],
    headers: &H,
) -> Result<(), AuthError> {
    verify_authorization(accepted, headers)
}

/// Checks a Grafana request: the HMAC signature if configured, the `Authorization` header if
/// credentials are configured (both, if both are). `body` is the raw body as received (decoded
/// from base64 if the event says so); `now` is the current time.
///
/// This checks one request on its own, so a replay inside the window passes: use
/// [`verify_grafana_delivery`] and remember its [`SignedDelivery`] to refuse one.
pub fn verify_grafana<H: Headers + ?Sized>(
    auth: &GrafanaAuth,
    headers: &H,
    body: &[u8],
    now: SystemTime,
) -> Result<(), AuthError> {
    verify_grafana_delivery(auth, headers, body, now).map(drop)
}

/// A request whose signature covers a timestamp, so it can only be accepted inside the replay
/// window: remembering it until [`SignedDelivery::expires_at`] is enough to accept it once.
/// grafana/alerting's `HMACRoundTripper` signs every send (retries included) with the time of
/// that send, so the same signature twice is the same delivery twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedDelivery {
    /// Names this delivery: a digest of the signature (the signature itself covers the
    /// timestamp and the body), e.g. `seen:grafana:3f9a…`.
    pub key: String,
    /// Epoch seconds: the end of the window in which the signature is accepted.
    pub expires_at: i64,
    pub window_secs: u64,
}

/// As [`verify_grafana`]; when the signature covers a timestamp (a `timestamp_header` is
/// configured), also the [`SignedDelivery`] to remember. Without a timestamp a signature is
/// valid forever and Grafana sends the same one for the same body again, so a replay cannot be
/// told from a repeat: `None`.
pub fn verify_grafana_delivery<H: Headers + ?Sized>(
    auth: &GrafanaAuth,
    headers: &H,
    body: &[u8],
    now: SystemTime,
) -> Result<Option<SignedDelivery>, AuthError> {
    if auth.hmac.is_none() && auth.authorization.is_empty() {
        return Err(AuthError::NotConfigured);
    }
    if !auth.authorization.is_empty() {
        verify_authorization(&auth.authorization, headers)?;
    }
    match &auth.hmac {
        Some(hmac) => verify_grafana_signature(hmac, headers, body, now),
        None => Ok(None),
    }
}

/// Checks the token in a CloudMonitor callback's query string (the raw query, with or without
/// the leading `?`).
pub fn verify_cloudmonitor(expected: &UrlToken, raw_query: Option<&str>) -> Result<(), AuthError> {
    if expected.token.expose().is_empty() || expected.param.is_empty() {
        return Err(AuthError::NotConfigured);
    }
    let what = || format!("query parameter {}", expected.param);
    let query = raw_query.unwrap_or("");
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut found: Option<Vec<u8>> = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if query_decode(key) != expected.param.as_bytes() {
            continue;
        }
        if found.is_some() {
            return Err(AuthError::Duplicate(what()));
        }
        found = Some(query_decode(value));
    }
    let Some(token) = found else {
        return Err(AuthError::Missing(what()));
    };
    if secret_eq(&token, expected.token.expose().as_bytes()) {
        Ok(())
    } else {
        Err(AuthError::Mismatch("token".to_string()))
    }
}

fn query_decode(s: &str) -> Vec<u8> {
    percent_decode_str(&s.replace('+', " ")).collect()
}

fn verify_authorization<H: Headers + ?Sized>(
    accepted: &[Credentials],
    headers: &H,
) -> Result<(), AuthError> {
    let accepted: Vec<&Credentials> = accepted.iter().filter(|c| !c.is_empty()).collect();
    if accepted.is_empty() {
        return Err(AuthError::NotConfigured);
    }
    let value = single_header(headers, AUTHORIZATION)?;
    let malformed = |problem| AuthError::Malformed {
        what: format!("header {AUTHORIZATION}"),
        problem,
    };
    // RFC 7235: `auth-scheme 1*SP token68`; the scheme is case-insensitive.
    let value = value.trim_matches([' ', '\t']);
    let (scheme, credentials) = value
        .split_once([' ', '\t'])
        .map(|(s, c)| (s, c.trim_matches([' ', '\t'])))
        .ok_or(malformed("not `<scheme> <credentials>`"))?;
    if credentials.is_empty() {
        return Err(malformed("no credentials after the scheme"));
    }
    let candidates: Vec<&Credentials> = accepted
        .iter()
        .copied()
        .filter(|c| c.scheme().trim().eq_ignore_ascii_case(scheme))
        .collect();
    if candidates.is_empty() {
        let mut names: Vec<&str> = accepted.iter().map(|c| c.scheme().trim()).collect();
        names.sort_unstable();
        names.dedup();
        return Err(AuthError::SchemeNotAccepted {
            accepted: names.join(", "),
        });
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = BASE64_LENIENT
            .decode(credentials)
            .map_err(|_| malformed("Basic credentials are not base64"))?;
        let colon = decoded
            .iter()
            .position(|&b| b == b':')
            .ok_or(malformed("Basic credentials are not `user:password`"))?;
        let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
        // Every candidate is compared, so the time taken does not tell which one matched.
        let matched = candidates.iter().fold(false, |ok, c| {
            let this = match c {
                Credentials::Basic {
                    username,
                    password: expected,
                } => {
                    secret_eq(user, username.as_bytes())
                        & secret_eq(password, expected.expose().as_bytes())
                }
                Credentials::Token { .. } => false,
            };
            ok | this
        });
        if matched {
            return Ok(());
        }
        return Err(AuthError::Mismatch("Basic credentials".to_string()));
    }
    let matched = candidates.iter().fold(false, |ok, c| {
        let this = match c {
            Credentials::Token { token, .. } => {
                secret_eq(credentials.as_bytes(), token.expose().as_bytes())
            }
            Credentials::Basic { .. } => false,
        };
        ok | this
    });
    if matched {
        Ok(())
    } else {
        Err(AuthError::Mismatch(format!(
            "{} credentials",
            candidates[0].scheme().trim()
        )))
    }
}

fn verify_grafana_signature<H: Headers + ?Sized>(
    config: &GrafanaHmac,
    headers: &H,
    body: &[u8],
    now: SystemTime,
) -> Result<Option<SignedDelivery>, AuthError> {
    if config.secret.expose().is_empty() {
        return Err(AuthError::NotConfigured);
    }
    let (header, signature) = match config.header.as_deref().filter(|h| !h.trim().is_empty()) {
        Some(name) => (name.trim(), single_header(headers, name.trim())?),
        None => {
            let documented = headers.values_of(GRAFANA_SIGNATURE_HEADER);
            let fallback = headers.values_of(GRAFANA_FALLBACK_SIGNATURE_HEADER);
            match (documented.is_empty(), fallback.is_empty()) {
                (false, true) => (
                    GRAFANA_SIGNATURE_HEADER,
                    single_header(headers, GRAFANA_SIGNATURE_HEADER)?,
                ),
                (true, false) => (
                    GRAFANA_FALLBACK_SIGNATURE_HEADER,
                    single_header(headers, GRAFANA_FALLBACK_SIGNATURE_HEADER)?,
                ),
                (true, true) => {
                    return Err(AuthError::Missing(format!(
                        "header {GRAFANA_SIGNATURE_HEADER}"
                    )));
                }
                (false, false) => {
                    return Err(AuthError::Duplicate(format!(
                        "signature ({GRAFANA_SIGNATURE_HEADER} and {GRAFANA_FALLBACK_SIGNATURE_HEADER})"
                    )));
                }
            }
        }
    };
    let signature = signature.trim_matches([' ', '\t']);
    let signature = hex::decode(signature)
        .ok()
        .filter(|s| s.len() == 32)
        .ok_or_else(|| AuthError::Malformed {
            what: format!("header {header}"),
            problem: "not 64 hex digits (HMAC-SHA256)",
        })?;
    let timestamp = match config
        .timestamp_header
        .as_deref()
        .filter(|h| !h.trim().is_empty())
    {
        Some(name) => {
            let name = name.trim();
            let raw = single_header(headers, name)?.trim_matches([' ', '\t']);
            let seconds = Some(raw)
                .filter(|t| !t.is_empty() && t.len() <= 18 && t.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|t| t.parse::<i64>().ok())
                .ok_or_else(|| AuthError::Malformed {
                    what: format!("header {name}"),
                    problem: "not Unix seconds",
                })?;
            Some((raw, seconds))
        }
        None => None,
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(config.secret.expose().as_bytes()) else {
        return Err(AuthError::NotConfigured);
    };
    if let Some((raw, _)) = timestamp {
        mac.update(raw.as_bytes());
        mac.update(b":");
    }
    mac.update(body);
    if mac.verify_slice(&signature).is_err() {
        return Err(AuthError::Mismatch("signature".to_string()));
    }
    // The window is checked once the signature is known to be Grafana's, so "expired" always
    // means an authentic request that is old (or replayed) or a clock that is off.
    let Some((_, seconds)) = timestamp else {
        return Ok(None);
    };
    let now = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    let age = now.saturating_sub(seconds);
    let window = config.replay_window.as_secs();
    if age.unsigned_abs() > window {
        return Err(AuthError::Expired {
            age_secs: age,
            window_secs: window,
        });
    }
    Ok(Some(SignedDelivery {
        key: format!("seen:grafana:{}", hex::encode(Sha256::digest(&signature))),
        expires_at: seconds.saturating_add(i64::try_from(window).unwrap_or(i64::MAX)),
        window_secs: window,
    }))
}

/// The single value of a header: missing, repeated and non-UTF-8 values are refused.
fn single_header<'a, H: Headers + ?Sized>(
    headers: &'a H,
    name: &str,
) -> Result<&'a str, AuthError> {
    let values = headers.values_of(name);
    match values.as_slice() {
        [] => Err(AuthError::Missing(format!("header {name}"))),
        [one] => std::str::from_utf8(one).map_err(|_| AuthError::Malformed {
            what: format!("header {name}"),
            problem: "not UTF-8",
        }),
        _ => Err(AuthError::Duplicate(format!("header {name}"))),
    }
}

/// Standard base64, with or without padding.
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Equality of a presented and an expected secret in constant time, lengths included: the
/// SHA-256 digests are compared.
fn secret_eq(presented: &[u8], expected: &[u8]) -> bool {
    constant_time_eq(&Sha256::digest(presented), &Sha256::digest(expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_eq_compares_contents() {
        assert!(secret_eq(b"abc", b"abc"));
        assert!(!secret_eq(b"abc", b"abd"));
        assert!(!secret_eq(b"abc", b"abcd"));
        assert!(!secret_eq(b"", b"a"));
    }

    #[test]
    fn a_timestamped_delivery_is_named_by_its_signature() {
        let auth = GrafanaAuth {
            hmac: Some(GrafanaHmac::new("s").with_timestamp_header("X-Ts")),
            authorization: vec![],
        };
        let sign = |ts: &str, body: &[u8]| {
            let mut mac = Hmac::<Sha256>::new_from_slice(b"s").unwrap();
            mac.update(format!("{ts}:").as_bytes());
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        };
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let check = |sig: &str, ts: &str, body: &[u8]| {
            let headers = [(GRAFANA_SIGNATURE_HEADER, sig), ("X-Ts", ts)];
            verify_grafana_delivery(&auth, &headers, body, at)
                .unwrap()
                .unwrap()
        };
        let first = check(&sign("1700000000", b"{}"), "1700000000", b"{}");
        assert!(first.key.starts_with("seen:grafana:"), "{}", first.key);
        assert_eq!((first.expires_at, first.window_secs), (1_700_000_300, 300));
        // The same signature in upper-case hex is the same delivery.
        let upper = check(
            &sign("1700000000", b"{}").to_uppercase(),
            "1700000000",
            b"{}",
        );
        assert_eq!(upper, first);
        // Another second or another body is another delivery.
        assert_ne!(
            check(&sign("1700000001", b"{}"), "1700000001", b"{}").key,
            first.key
        );
        assert_ne!(
            check(&sign("1700000000", b"[]"), "1700000000", b"[]").key,
            first.key
        );
        // Without a timestamp there is nothing to tell a replay from a repeat by.
        let plain = GrafanaAuth {
            hmac: Some(GrafanaHmac::new("s")),
            authorization: vec![],
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s").unwrap();
        mac.update(b"{}");
        let sig = hex::encode(mac.finalize().into_bytes());
        let headers = [(GRAFANA_SIGNATURE_HEADER, sig.as_str())];
        assert_eq!(
            verify_grafana_delivery(&plain, &headers, b"{}", at),
            Ok(None)
        );
    }

    #[test]
    fn base64_padding_is_optional() {
        assert_eq!(BASE64_LENIENT.decode("YTpi").unwrap(), b"a:b");
        assert_eq!(BASE64_LENIENT.decode("YTpiYw==").unwrap(), b"a:bc");
        assert_eq!(BASE64_LENIENT.decode("YTpiYw").unwrap(), b"a:bc");
        assert!(BASE64_LENIENT.decode("YTp!").is_err());
    }
}
