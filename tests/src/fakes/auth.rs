//! Request authentication, as the gateways do it: the signature (with the library's
//! verifiers), the clock skew (15 minutes either way) and, for Alibaba, nonce reuse.
//!
//! Alibaba answers (alibaba-signing.md §7): `IncompleteSignature` 400 (no or malformed
//! `Authorization`, a required header unsigned or missing), `InvalidTimeStamp.Format` /
//! `InvalidTimeStamp.Expired` 400, `InvalidAccessKeyId.NotFound` 404,
//! `SignatureDoesNotMatch` 400 (also for a body that does not match `x-acs-content-sha256`;
//! the message shows the fake's string to sign, as the service does), `SignatureNonceUsed` 400.
//! Only ACS3-HMAC-SHA256 (V3) is accepted; an HMAC-SHA1 (V2) request has no `Authorization`
//! and gets `IncompleteSignature`.
//!
//! Huawei answers: HTTP 401 `APIG.0301` ("Incorrect IAM authentication information: …") for
//! every authentication failure, with the reason in the message.

use super::alibaba::error_reply;
use super::faults::Product;
use super::huawei;
use super::wire::{Incoming, Reply};
use lbpilot::signing::{VerifyError, alibaba, encoding, huawei as hw};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// How long a nonce is remembered (twice the providers' 15-minute skew window).
const NONCE_MEMORY: Duration = Duration::from_secs(30 * 60);

/// Nonces seen, per AccessKey, with when they were seen.
#[derive(Debug, Default, Clone)]
pub struct Nonces {
    seen: HashMap<(String, String), Instant>,
}

impl Nonces {
    /// Records a nonce; false when it was already used within the skew window.
    fn record(&mut self, ak: &str, nonce: &str, now: Instant) -> bool {
        self.seen
            .retain(|_, at| now.duration_since(*at) < NONCE_MEMORY);
        self.seen
            .insert((ak.to_string(), nonce.to_string()), now)
            .is_none()
    }

    pub fn clear(&mut self) {
        self.seen.clear();
    }
}

fn skew_ok(then: OffsetDateTime, max_skew_secs: u64) -> bool {
    let skew = (OffsetDateTime::now_utc() - then).abs();
    skew.whole_seconds().unsigned_abs() <= max_skew_secs
}

/// Checks an ACS3-signed request; returns the AccessKey ID that signed it.
pub fn alibaba_check(
    product: Product,
    req: &Incoming,
    keys: &HashMap<String, String>,
    nonces: &mut Nonces,
    max_skew_secs: u64,
    request_id: &str,
) -> Result<String, Reply> {
    let host = req.header("host").unwrap_or_default();
    let err = |status: u16, code: &str, msg: &str| {
        error_reply(product, &host, request_id, status, code, msg)
    };
    let incomplete = |detail: &str| {
        err(
            400,
            "IncompleteSignature",
            &format!("The request signature does not conform to Aliyun standards: {detail}."),
        )
    };
    let header = |name: &str| req.header(name);
    let date = req
        .header("x-acs-date")
        .ok_or_else(|| incomplete("the x-acs-date header is missing"))?;
    let parsed = PrimitiveDateTime::parse(
        &date,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"),
    )
    .map_err(|_| {
        err(
            400,
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        )
    })?;
    if !skew_ok(parsed.assume_utc(), max_skew_secs) {
        return Err(err(
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        ));
    }
    let received = alibaba::ReceivedRequest {
        method: &req.method,
        path: &req.path,
        raw_query: &req.raw_query,
        header: &header,
        body: &req.body,
    };
    let ak = alibaba::verify(&received, &|ak| keys.get(ak).cloned()).map_err(|e| match e {
        VerifyError::UnknownAccessKey(ak) => err(404, "InvalidAccessKeyId.NotFound", &format!("Specified access key is not found: {ak}.")),
        VerifyError::BodyHashMismatch => err(
            400,
            "SignatureDoesNotMatch",
            "Specified signature does not match our calculation: the x-acs-content-sha256 header is not the SHA-256 of the body.",
        ),
        VerifyError::SignatureMismatch => err(
            400,
            "SignatureDoesNotMatch",
            &format!(
                "Specified signature does not match our calculation. server string to sign is:{}",
                alibaba_string_to_sign(req).unwrap_or_default()
            ),
        ),
        other => incomplete(&other.to_string()),
    })?;
    let nonce = req.header("x-acs-signature-nonce").unwrap_or_default();
    if !nonces.record(&ak, &nonce, Instant::now()) {
        return Err(err(
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ));
    }
    Ok(ak)
}

/// The string to sign the fake computed, for the `SignatureDoesNotMatch` message.
fn alibaba_string_to_sign(req: &Incoming) -> Option<String> {
    let auth = alibaba::parse_authorization(&req.header("authorization")?).ok()?;
    let headers: Vec<(String, String)> = auth
        .signed_headers
        .iter()
        .map(|n| Some((n.clone(), req.header(n)?)))
        .collect::<Option<_>>()?;
    let query = encoding::parse_pairs(&req.raw_query);
    let payload = req.header("x-acs-content-sha256").unwrap_or_default();
    let (canonical, _) =
        alibaba::canonical_request(&req.method, &req.path, &query, &headers, &payload);
    Some(alibaba::string_to_sign(&canonical))
}

/// Checks an SDK-HMAC-SHA256-signed request; returns the AK that signed it.
pub fn huawei_check(
    req: &Incoming,
    keys: &HashMap<String, String>,
    max_skew_secs: u64,
    request_id: &str,
) -> Result<String, Reply> {
    let fail = |why: &str| {
        huawei::error_reply(
            request_id,
            401,
            "APIG.0301",
            &format!("Incorrect IAM authentication information: {why}"),
        )
    };
    let auth_header = req
        .header("authorization")
        .ok_or_else(|| fail("Authorization header is missing"))?;
    let auth = hw::parse_authorization(&auth_header)
        .map_err(|_| fail("Authorization header is malformed"))?;
    let date = req
        .header("x-sdk-date")
        .ok_or_else(|| fail("X-Sdk-Date header is missing"))?;
    let parsed = PrimitiveDateTime::parse(
        &date,
        format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .map_err(|_| fail("X-Sdk-Date is not in the format YYYYMMDDTHHMMSSZ"))?;
    if !skew_ok(parsed.assume_utc(), max_skew_secs) {
        return Err(fail(
            "X-Sdk-Date expired: more than 15 minutes from the server time",
        ));
    }
    if req.header("x-security-token").is_some()
        && !auth.signed_headers.iter().any(|h| h == "x-security-token")
    {
        return Err(fail("X-Security-Token must be signed"));
    }
    let header = |name: &str| req.header(name);
    let received = hw::ReceivedRequest {
        method: &req.method,
        path: &req.path,
        raw_query: &req.raw_query,
        header: &header,
        body: &req.body,
    };
    hw::verify(&received, &|ak| keys.get(ak).cloned()).map_err(|e| match e {
        VerifyError::UnknownAccessKey(ak) => fail(&format!("ak {ak} not found")),
        VerifyError::SignatureMismatch => fail("verify aksk signature fail"),
        other => fail(&other.to_string()),
    })
}
