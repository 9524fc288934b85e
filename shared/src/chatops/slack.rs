//! Slack's side of a slash command: request signatures (v0), the form fields, and messages.

use crate::secret::Secret;
use crate::signing::constant_time_eq;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::percent_decode_str;
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
    /// A header name given twice (in two spellings: a Function URL joins repeats of one).
    #[error("{0} is given more than once")]
    Duplicate(&'static str),
    #[error("no signing secret is configured, so every request is refused")]
    NotConfigured,
}

/// Verifies `X-Slack-Signature` (`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}`) in
/// constant time, and that the timestamp is within five minutes of `now` (Unix seconds).
/// Spaces and tabs around a header value are not part of it (RFC 9110 §5.5); the signature is
/// compared as Slack writes it (`v0=` and lower-case hex).
pub fn verify(
    signing_secret: &Secret,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    if signing_secret.expose().is_empty() {
        return Err(SignatureError::NotConfigured);
    }
    let timestamp = timestamp
        .ok_or(SignatureError::MissingTimestamp)?
        .trim_matches([' ', '\t']);
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    // Checked: a timestamp near i64::MIN must be stale, not an overflow.
    if now
        .checked_sub(ts)
        .is_none_or(|age| age.unsigned_abs() > MAX_SKEW_SECS.unsigned_abs())
    {
        return Err(SignatureError::Stale);
    }
    let signature = signature.ok_or(SignatureError::MissingSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(signing_secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    let expected = format!("v0={}", hex::encode(mac.finalize().into_bytes()));
    if constant_time_eq(
        expected.as_bytes(),
        signature.trim_matches([' ', '\t']).as_bytes(),
    ) {
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

/// The fields read from the form (others are ignored).
const FIELDS: [&str; 8] = [
    "team_id",
    "channel_id",
    "user_id",
    "user_name",
    "command",
    "text",
    "response_url",
    "trigger_id",
];

impl SlashCommand {
    /// Reads the form strictly: a value that does not percent-decode to UTF-8, or a field given
    /// twice, is refused (not repaired), so what is acted on is exactly what was signed. The
    /// user and channel must be Slack ids (upper-case letters and digits), and the form must
    /// have a `response_url` (where the result goes).
    pub fn from_form(body: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(body).map_err(|_| "the form is not UTF-8".to_string())?;
        let mut fields: [Option<String>; 8] = Default::default();
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let Some(i) = FIELDS
                .iter()
                .position(|f| form_decode(k).as_deref() == Ok(*f))
            else {
                continue;
            };
            if fields[i].is_some() {
                return Err(format!("the form's {} is given more than once", FIELDS[i]));
            }
            let value = form_decode(v).map_err(|()| {
                format!(
                    "the form's {} is not UTF-8 after percent-decoding",
                    FIELDS[i]
                )
            })?;
            fields[i] = Some(value);
        }
        let [
            team_id,
            channel_id,
            user_id,
            user_name,
            command,
            text,
            response_url,
            trigger_id,
        ] = fields.map(Option::unwrap_or_default);
        if user_id.is_empty() || channel_id.is_empty() {
            return Err("the form has no user_id or channel_id".into());
        }
        for (name, id) in [("user_id", &user_id), ("channel_id", &channel_id)] {
            if !is_slack_id(id) {
                return Err(format!(
                    "the form's {name} is not a Slack id (upper-case letters and digits)"
                ));
            }
        }
        if response_url.is_empty() {
            return Err("the form has no response_url (where the result would go)".into());
        }
        Ok(SlashCommand {
            team_id,
            channel_id,
            user_id,
            user_name,
            command,
            text,
            response_url,
            trigger_id,
        })
    }
}

/// `+` as a space, `%XY` decoded; `Err` when the bytes are not UTF-8.
fn form_decode(s: &str) -> Result<String, ()> {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8()
        .map(|v| v.into_owned())
        .map_err(drop)
}

/// A Slack user, channel or team id: `U2CERLKJA`, `C0OPS0001`, `W…`, `G…`, `D…`.
pub fn is_slack_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A mention of one Slack user as lbpilot writes it: `<@U2CERLKJA>`.
pub fn mention(user_id: &str) -> Option<String> {
    is_slack_id(user_id).then(|| format!("<@{user_id}>"))
}

/// Text from outside lbpilot (a user's command, a provider's message, a queued summary) made
/// safe inside a Slack message, at most `max` characters of it (then `…`):
/// - `&`, `<` and `>` become `&amp;`, `&lt;` and `&gt;`, as Slack asks, so the text cannot
///   mention (`<!channel>`, `<@U…>`) or link (`<https://…|…>`); Slack shows them as typed;
/// - control characters and the invisible formatting ones (bidi overrides and isolates, zero
///   widths, the BOM) are shown as `\u{…}`, so the text cannot hide or reorder what follows.
pub fn escape(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if c.is_control() || is_invisible_format(c) => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// Characters that change how text is shown without being seen: bidi marks, embeddings,
/// overrides and isolates; zero-width spaces and joiners; word joiners; the BOM.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
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
