//! Slack's side of a slash command: request signatures (v0), the form fields, and messages.

use crate::secret::Secret;
use crate::signing::{constant_time_eq, encoding};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// Slack's limit on a request's age.
pub const MAX_SKEW_SECS: i64 = 300;

/// Why a request was refused. The texts never contain the secret or the expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("X-Slack-Request-Timestamp is missing")]
    MissingTimestamp,
    #[error("X-Slack-Request-Timestamp is not a Unix time")]
    BadTimestamp,
    #[error("the request is more than 5 minutes old or ahead (replayed or clock skew)")]
    Stale,
    #[error("X-Slack-Signature is missing")]
    MissingSignature,
    #[error("X-Slack-Signature does not match the body")]
    Mismatch,
}

/// Verifies `X-Slack-Signature` (`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}`) in
/// constant time, and that the timestamp is within five minutes of `now` (Unix seconds).
pub fn verify(
    signing_secret: &Secret,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let timestamp = timestamp.ok_or(SignatureError::MissingTimestamp)?;
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    if (now - ts).abs() > MAX_SKEW_SECS {
        return Err(SignatureError::Stale);
    }
    let signature = signature.ok_or(SignatureError::MissingSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(signing_secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    let expected = format!("v0={}", hex::encode(mac.finalize().into_bytes()));
    if constant_time_eq(expected.as_bytes(), signature.trim().as_bytes()) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The fields of a slash command that lbpilot uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlashCommand {
    pub team_id: String,
    pub channel_id: String,
    pub user_id: String,
    pub user_name: String,
    pub command: String,
    pub text: String,
    pub response_url: String,
    pub trigger_id: String,
}

impl SlashCommand {
    pub fn from_form(body: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(body).map_err(|_| "the form is not UTF-8".to_string())?;
        let mut c = SlashCommand::default();
        for (k, v) in encoding::parse_pairs(text) {
            match k.as_str() {
                "team_id" => c.team_id = v,
                "channel_id" => c.channel_id = v,
                "user_id" => c.user_id = v,
                "user_name" => c.user_name = v,
                "command" => c.command = v,
                "text" => c.text = v,
                "response_url" => c.response_url = v,
                "trigger_id" => c.trigger_id = v,
                _ => {}
            }
        }
        if c.user_id.is_empty() || c.channel_id.is_empty() {
            return Err("the form has no user_id or channel_id".into());
        }
        Ok(c)
    }
}

/// A reply only the requester sees.
pub fn ephemeral(text: &str) -> Value {
    json!({"response_type": "ephemeral", "text": text})
}

/// A reply the whole channel sees (changes to traffic are public).
pub fn in_channel(text: &str) -> Value {
    json!({"response_type": "in_channel", "text": text})
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slack's documented example ("Verifying requests from Slack").
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn secret() -> Secret {
        Secret::new("8f742231b10e8888abcd99yyyzzz85a5")
    }

    #[test]
    fn slacks_documented_example_verifies() {
        assert_eq!(
            verify(
                &secret(),
                Some("1531420618"),
                Some(SIGNATURE),
                BODY.as_bytes(),
                1531420618 + 10
            ),
            Ok(())
        );
        let c = SlashCommand::from_form(BODY.as_bytes()).unwrap();
        assert_eq!(
            (
                c.user_id.as_str(),
                c.channel_id.as_str(),
                c.command.as_str()
            ),
            ("U2CERLKJA", "G8PSS9T3V", "/webhook-collect")
        );
        assert_eq!(
            c.response_url,
            "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN"
        );
    }

    #[test]
    fn refuses_replays_tampering_and_look_alikes() {
        let v = |ts: Option<&str>, sig: Option<&str>, body: &str, now| {
            verify(&secret(), ts, sig, body.as_bytes(), now)
        };
        let now = 1531420618;
        assert_eq!(
            v(Some("1531420618"), Some(SIGNATURE), BODY, now + 301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            v(Some("1531420618"), Some(SIGNATURE), BODY, now - 301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            v(None, Some(SIGNATURE), BODY, now),
            Err(SignatureError::MissingTimestamp)
        );
        assert_eq!(
            v(Some("soon"), Some(SIGNATURE), BODY, now),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(
            v(Some("1531420618"), None, BODY, now),
            Err(SignatureError::MissingSignature)
        );
        assert_eq!(
            v(
                Some("1531420618"),
                Some(SIGNATURE),
                &BODY.replace("text=", "text=drain"),
                now
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            v(
                Some("1531420618"),
                Some(&SIGNATURE.to_uppercase()),
                BODY,
                now
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            v(
                Some("1531420618"),
                Some(&SIGNATURE[..SIGNATURE.len() - 1]),
                BODY,
                now
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            v(Some("1531420619"), Some(SIGNATURE), BODY, now),
            Err(SignatureError::Mismatch)
        );
        let wrong = Secret::new("8f742231b10e8888abcd99yyyzzz85a6");
        assert_eq!(
            verify(
                &wrong,
                Some("1531420618"),
                Some(SIGNATURE),
                BODY.as_bytes(),
                now
            ),
            Err(SignatureError::Mismatch)
        );
    }
}
