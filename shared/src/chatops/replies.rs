//! Replies to Slack's `response_url` with a command's outcome, from the queue worker.

use super::slack;
use crate::outcome::{Outcome, Status};
use serde_json::Value;
use std::time::Duration;

/// The default and only safe destination: Slack's own hooks (a queue message must not be able
/// to make lbpilot call an arbitrary URL).
pub const DEFAULT_ALLOWED_PREFIX: &str = "https://hooks.slack.com/";

#[derive(Debug, Clone)]
pub struct Replier {
    client: reqwest::Client,
    allowed_prefix: String,
}

impl Replier {
    pub fn new(client: reqwest::Client, allowed_prefix: String) -> Self {
        Self {
            client,
            allowed_prefix,
        }
    }

    /// Posts the outcome; a reply that fails is logged, not retried: the outcome is on the
    /// results queue either way.
    pub async fn post(
        &self,
        response_url: &str,
        requested_by: &str,
        summary: &str,
        outcome: &Outcome,
    ) {
        if !response_url.starts_with(&self.allowed_prefix) {
            tracing::warn!(allowed_prefix = %self.allowed_prefix, "response_url refused: not a Slack hook");
            return;
        }
        let message = slack::in_channel(&message_text(requested_by, summary, outcome));
        let sent = self
            .client
            .post(response_url)
            .timeout(Duration::from_secs(3))
            .header("content-type", "application/json")
            .body(message.to_string())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => tracing::warn!(status = r.status().as_u16(), "Slack refused the reply"),
            Err(e) => tracing::warn!(error = %e, "the Slack reply could not be sent"),
        }
    }
}

/// The channel message. Everything in it that came from outside (the queued summary and
/// requester, which any producer can set, and the provider's answer) is escaped
/// ([`slack::escape`]): a reply cannot mention the channel or disguise a link. The requester
/// stays a mention only when it is exactly one (`<@U2CERLKJA>`, as chat commands queue it).
fn message_text(requested_by: &str, summary: &str, o: &Outcome) -> String {
    let id = slack::escape(o.action_id().unwrap_or("-"), 64);
    let requested_by = requested_by
        .strip_prefix("<@")
        .and_then(|r| r.strip_suffix('>'))
        .and_then(slack::mention)
        .unwrap_or_else(|| slack::escape(requested_by, 64));
    let summary = slack::escape(summary, 600);
    let job = o
        .detail
        .as_ref()
        .and_then(|d| d.pointer("/job/Status"))
        .and_then(Value::as_str)
        .map(|s| format!(" (ALB job {})", slack::escape(s, 32)))
        .unwrap_or_default();
    let dial = o
        .detail
        .as_ref()
        .filter(|d| d.get("before").is_some())
        .map(|d| {
            let dial = |v: &Value| slack::escape(&v["traffic_dial_percentage"].to_string(), 16);
            format!(" (dial {} → {})", dial(&d["before"]), dial(&d["after"]))
        })
        .unwrap_or_default();
    match o.status {
        Status::Succeeded => format!(
            ":white_check_mark: {summary} done{job}{dial}, requested by {requested_by}. Action `{id}`."
        ),
        Status::DryRun => format!(
            ":mag: dry run of {summary}: nothing was changed, requested by {requested_by}. Action `{id}`."
        ),
        Status::Skipped => format!(
            ":information_source: {summary}: nothing to do, requested by {requested_by}. Action `{id}`."
        ),
        Status::Failed | Status::Rejected => {
            let e = o.error.as_ref();
            let why = e.map_or("unknown error".into(), |e| {
                slack::escape(&format!("{}: {}", e.code, e.message), 600)
            });
            let next = if o.is_final {
                ""
            } else {
                " It will be retried."
            };
            format!(
                ":x: {summary} failed: {why}.{next} Requested by {requested_by}. Action `{id}`."
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Source;

    #[test]
    fn markup_from_outside_is_escaped_and_a_mention_stays_one() {
        let o = Outcome::decision(
            Status::Skipped,
            "test",
            serde_json::json!({}),
            Source::new("sqs", "m-1"),
        );
        let text = message_text("<@U2CERLKJA>", "`drain` <!channel> & <https://x|y>", &o);
        assert!(text.contains("requested by <@U2CERLKJA>"), "{text}");
        assert!(
            text.contains("&lt;!channel&gt; &amp; &lt;https://x|y&gt;"),
            "{text}"
        );
        for requester in ["<!here>", "<@U1> <!channel>", "<@u1>", "someone"] {
            let text = message_text(requester, "s", &o);
            assert!(
                !text.contains("<!") && !text.contains("<@"),
                "{requester}: {text}"
            );
        }
    }
}
