//! Request signers for the two providers, written from the official SDKs' measured behaviour
//! (no maintained crate implements either).

pub mod alibaba;
pub mod encoding;
pub mod huawei;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub(crate) fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time equality of two byte strings (length is not secret): every byte is compared,
/// and `black_box` keeps the optimiser from turning the fold into an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .fold(0u8, |acc, (x, y)| std::hint::black_box(acc | (x ^ y)))
            == 0
}

/// Why a received request's signature was refused (used by verifiers: the fakes, and webhooks).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing or malformed Authorization header")]
    MalformedAuthorization,
    #[error("signed header {0} is not in the request")]
    MissingSignedHeader(String),
    #[error("header {0} must be signed")]
    UnsignedRequiredHeader(String),
    #[error("unknown access key {0}")]
    UnknownAccessKey(String),
    #[error("body hash does not match the body")]
    BodyHashMismatch,
    #[error("signature does not match")]
    SignatureMismatch,
}
