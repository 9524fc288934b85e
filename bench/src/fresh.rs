//! Sample events whose signature carries a timestamp go stale (Slack refuses requests more than
//! five minutes old): before a run they are signed again, now, with the benchmark's secret.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::collections::HashMap;

/// Re-signs a Slack request (a Function URL event with `x-slack-request-timestamp`) with
/// `LBPILOT_SLACK_SIGNING_SECRET` from `env`, at `now` (Unix seconds). Other events are unchanged.
pub fn refresh(event: &mut Value, env: &HashMap<String, String>, now: i64) {
    let Some(secret) = env.get("LBPILOT_SLACK_SIGNING_SECRET") else {
        return;
    };
    if event["headers"]["x-slack-request-timestamp"].is_null() {
        return;
    }
    let body = event["body"].as_str().unwrap_or_default();
    let raw = if event["isBase64Encoded"] == true {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap_or_default()
    } else {
        body.as_bytes().to_vec()
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("v0:{now}:").as_bytes());
    mac.update(&raw);
    let signature = format!("v0={}", hex::encode(mac.finalize().into_bytes()));
    event["headers"]["x-slack-request-timestamp"] = now.to_string().into();
    event["headers"]["x-slack-signature"] = signature.into();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signs_slack_requests_again_and_leaves_others() {
        // Slack's documented example: secret, timestamp and body give this signature.
        let env = HashMap::from([(
            "LBPILOT_SLACK_SIGNING_SECRET".to_string(),
            "8f742231b10e8888abcd99yyyzzz85a5".to_string(),
        )]);
        let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let mut event = json!({"headers": {"x-slack-request-timestamp": "1"}, "body": body});
        refresh(&mut event, &env, 1531420618);
        assert_eq!(
            event["headers"]["x-slack-signature"],
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        );
        let mut other = json!({"Records": []});
        refresh(&mut other, &env, 1);
        assert_eq!(other, json!({"Records": []}));
    }
}
