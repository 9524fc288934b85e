//! Chat-ops: a Slack slash command (over a Function URL) becomes a queued action, answered at
//! once; `status` is answered directly from a provider read.

pub mod aliases;
pub mod commands;
pub mod queue;
pub mod replies;
pub mod slack;

use crate::error::ConfigError;
use crate::executor::Executor;
use crate::http_event::{BodyError, HttpRequestEvent, HttpResponse};
use crate::secret::Secret;
use aliases::Aliases;
use commands::{Command, USAGE};
use queue::{CommandQueue, Reply};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Slack waits 3 s for the answer: a `status` read gets at most this long.
const STATUS_BUDGET: Duration = Duration::from_millis(2500);
/// The longest command text read (a real one is a few dozen characters).
pub const MAX_TEXT_CHARS: usize = 1000;
/// How much of a word a reply repeats.
const SHOWN_CHARS: usize = 100;

/// A user's word in a reply: escaped (no mentions, links or hidden characters) and short.
fn shown(word: &str) -> String {
    slack::escape(word, SHOWN_CHARS)
}

pub struct ChatOps<Q> {
    signing_secret: Secret,
    aliases: Aliases,
    executor: Executor,
    queue: Q,
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn ok(message: Value) -> HttpResponse {
    HttpResponse::json(200, &message)
}

impl<Q: CommandQueue> ChatOps<Q> {
    pub fn new(signing_secret: Secret, aliases: Aliases, executor: Executor, queue: Q) -> Self {
        Self {
            signing_secret,
            aliases,
            executor,
            queue,
        }
    }

    /// The settings the function needs, checked at cold start.
    pub fn settings(settings: &crate::config::Settings) -> Result<(Secret, Aliases), ConfigError> {
        let secret = Secret::new(settings.required("LBPILOT_SLACK_SIGNING_SECRET")?);
        let aliases = Aliases::load(&settings.required(aliases::SETTING)?)?;
        Ok((secret, aliases))
    }

    pub fn queue(&self) -> &Q {
        &self.queue
    }

    pub async fn handle(&self, event: &HttpRequestEvent) -> HttpResponse {
        self.handle_at(event, now_secs()).await
    }

    /// As `handle`, with the clock given (tests).
    pub async fn handle_at(&self, event: &HttpRequestEvent, now: i64) -> HttpResponse {
        if !event
            .request_context
            .http
            .method
            .eq_ignore_ascii_case("POST")
        {
            return HttpResponse::json(405, &json!({"error": "use POST"}));
        }
        let body = match event.body_bytes() {
            Ok(b) => b,
            Err(e @ BodyError::TooLarge) => {
                return HttpResponse::json(413, &json!({"error": e.to_string()}));
            }
            Err(e) => return HttpResponse::json(400, &json!({"error": e.to_string()})),
        };
        let one = |name: &str, shown: &'static str| match event.header_values(name).as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            _ => Err(slack::SignatureError::Duplicate(shown)),
        };
        let verified =
            one("x-slack-request-timestamp", "X-Slack-Request-Timestamp").and_then(|timestamp| {
                let signature = one("x-slack-signature", "X-Slack-Signature")?;
                slack::verify(&self.signing_secret, timestamp, signature, &body, now)
            });
        if let Err(e) = verified {
            tracing::warn!(reason = %e, source_ip = %event.request_context.http.source_ip, "slash command refused");
            return HttpResponse::json(401, &json!({"error": e.to_string()}));
        }
        let command = match slack::SlashCommand::from_form(&body) {
            Ok(c) => c,
            Err(e) => return HttpResponse::json(400, &json!({"error": e})),
        };
        ok(self.answer(&command).await)
    }

    /// The reply to a verified command. Whatever of the command it repeats is escaped
    /// ([`slack::escape`]), so it cannot mention or link.
    async fn answer(&self, c: &slack::SlashCommand) -> Value {
        let length = c.text.chars().count();
        if length > MAX_TEXT_CHARS {
            return slack::ephemeral(&format!(
                "That command is too long ({length} characters; at most {MAX_TEXT_CHARS}). See `help`."
            ));
        }
        let parsed = match commands::parse(&c.text) {
            Ok(p) => p,
            Err(e) => return slack::ephemeral(&e.to_string()),
        };
        let target = match &parsed {
            Command::Help => return slack::ephemeral(USAGE),
            Command::Status { target } | Command::Change { target, .. } => target,
        };
        let Some(alias) = self.aliases.get(target) else {
            let yours: Vec<&str> = self
                .aliases
                .by_name
                .iter()
                .filter(|(_, a)| a.allows(&c.user_id, &c.channel_id))
                .map(|(n, _)| n.as_str())
                .collect();
            let known = if yours.is_empty() {
                "none here".to_string()
            } else {
                yours.join(", ")
            };
            return slack::ephemeral(&format!(
                "Unknown target `{}`. Targets you can use: {known}.",
                shown(target)
            ));
        };
        if !alias.allows(&c.user_id, &c.channel_id) {
            tracing::info!(user = %c.user_id, channel = %c.channel_id, target = %target, "slash command not allowed");
            return slack::ephemeral(&format!(
                "Sorry <@{}>, you may not use `{target}` from this channel. Ask its owners to add you to its allowed users or channels.",
                c.user_id // a Slack id: `SlashCommand::from_form` checked it
            ));
        }
        match parsed {
            Command::Help => slack::ephemeral(USAGE),
            Command::Status { target } => {
                let read = alias
                    .target
                    .read(self.executor.config().huawei_project_id.as_deref());
                match self
                    .executor
                    .read(&read, Instant::now() + STATUS_BUDGET)
                    .await
                {
                    Ok(state) => {
                        slack::ephemeral(&commands::describe_state(alias, &target, &state))
                    }
                    Err(e) => slack::ephemeral(&format!(
                        "Could not read `{target}`: {}: {}",
                        slack::escape(&e.code, 100),
                        slack::escape(&e.message, 500)
                    )),
                }
            }
            Command::Change {
                verb,
                target,
                server,
                value,
                dry_run,
            } => {
                let id = command_id(c);
                let what = match &server {
                    Some(s) => format!(
                        "{}{}",
                        s.id,
                        s.port.map(|p| format!(":{p}")).unwrap_or_default()
                    ),
                    None => alias.target.group.clone(),
                };
                // The words as parsed, one space apart: what the change is, and what is repeated.
                let words = c.text.split_whitespace().collect::<Vec<_>>().join(" ");
                let text = words.as_str();
                let reason = format!(
                    "slack {} by {} ({}) in {}: {text}",
                    c.command, c.user_id, c.user_name, c.channel_id
                );
                let change = commands::Change {
                    verb,
                    server: server.as_ref(),
                    value,
                    dry_run,
                };
                let action = match commands::action(&id, &target, alias, change, reason) {
                    Ok(a) => a,
                    Err(e) => return slack::ephemeral(&e.to_string()),
                };
                if let Err(e) = self.executor.validate(&action) {
                    return slack::ephemeral(&format!(
                        "That change is not valid: {}. See `help`.",
                        slack::escape(&e.to_string(), 500)
                    ));
                }
                // Raw: the queue worker escapes what it posts (the summary may come from any
                // producer).
                let reply = Reply {
                    response_url: c.response_url.clone(),
                    requested_by: format!("<@{}>", c.user_id),
                    summary: format!("`{text}` (`{what}` on *{target}*)"),
                };
                match self.queue.enqueue(&action, &target, &reply).await {
                    Ok(message_id) => {
                        tracing::info!(action_id = %action.id, message_id = %message_id, user = %c.user_id, "command queued");
                        let dry = if dry_run { " as a dry run" } else { "" };
                        slack::ephemeral(&format!(
                            "Queued{dry}: `{}` (`{}` on *{target}*, {}). Action `{id}`; the result will be posted here.",
                            slack::escape(text, 300),
                            shown(&what),
                            alias.target.provider.label()
                        ))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, action_id = %action.id, "command could not be queued");
                        slack::ephemeral(
                            "The command could not be queued; nothing was changed. Try again in a moment.",
                        )
                    }
                }
            }
        }
    }
}

/// Unique per slash command (Slack's trigger id), so a repeated delivery is one change.
fn command_id(c: &slack::SlashCommand) -> String {
    let digest = Sha256::digest(
        format!(
            "{}\n{}\n{}\n{}",
            c.trigger_id, c.user_id, c.channel_id, c.text
        )
        .as_bytes(),
    );
    format!("chat-{}", &hex::encode(digest)[..32])
}
