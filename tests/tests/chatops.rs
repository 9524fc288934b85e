//! Chat-ops: signed and unsigned, fresh and replayed slash commands, allowed and refused users;
//! a queued change executed by the queue worker, with the reply posted to the response URL.

use lbpilot::http_event::{HttpRequestEvent, HttpResponse};
use lbpilot_tests::fakes::demo;
use lbpilot_tests::harness::{ChatStack, slack_command_event, slack_form};
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const ONCALL: &str = "U2CERLKJA";
const OPS: &str = "C0OPS0001";

/// The shared chat-ops fixture, with this file's own ways of sending.
struct Chat(ChatStack);

impl std::ops::Deref for Chat {
    type Target = ChatStack;
    fn deref(&self) -> &ChatStack {
        &self.0
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl Chat {
    async fn start() -> Chat {
        Chat(ChatStack::start(SECRET).await)
    }

    async fn send(&self, user: &str, channel: &str, text: &str, timestamp: i64) -> (u16, Value) {
        let form = slack_form(user, channel, text, &self.response_url());
        let event: HttpRequestEvent =
            serde_json::from_value(slack_command_event(SECRET, timestamp, &form)).unwrap();
        let HttpResponse {
            status_code, body, ..
        } = self.chatops.handle(&event).await;
        (status_code, serde_json::from_str(&body).unwrap())
    }
}

fn text(reply: &Value) -> &str {
    reply["text"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_signed_command_is_queued_executed_and_answered() {
    let c = Chat::start().await;
    let server = format!("{}:80", demo::ALB_SERVERS[0]);
    let (status, reply) = c
        .send(ONCALL, OPS, &format!("drain web-alb {server}"), now())
        .await;
    assert_eq!(status, 200);
    assert_eq!(reply["response_type"], "ephemeral");
    assert!(text(&reply).starts_with("Queued"), "{reply}");
    // Nothing changed yet: the change waits on the command queue.
    assert_eq!(
        c.stack
            .cloud
            .alb_server(demo::ALB_GROUP, demo::ALB_SERVERS[0], demo::ALB_PORT)
            .unwrap()
            .weight,
        100
    );

    let response = c.work().await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        c.stack
            .cloud
            .alb_server(demo::ALB_GROUP, demo::ALB_SERVERS[0], demo::ALB_PORT)
            .unwrap()
            .weight,
        0
    );
    let posted = c.hook.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0]["response_type"], "in_channel");
    let message = text(&posted[0]);
    assert!(
        message.contains("done")
            && message.contains(&format!("<@{ONCALL}>"))
            && message.contains("web-alb"),
        "{message}"
    );
    let outcomes = c.stack.moto.drain(&c.stack.results_url).await;
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0]["status"], "succeeded");
    assert!(
        outcomes[0]["action"]["id"]
            .as_str()
            .unwrap()
            .starts_with("chat-")
    );
    assert_eq!(
        outcomes[0]["source"]["detail"]["requested_by"],
        format!("<@{ONCALL}>")
    );
    assert!(
        outcomes[0]["action"]["reason"]
            .as_str()
            .unwrap()
            .contains(ONCALL)
    );
}

#[tokio::test]
async fn unsigned_tampered_and_replayed_commands_get_401_and_change_nothing() {
    let c = Chat::start().await;
    let form = slack_form(
        ONCALL,
        OPS,
        "dial edge-ga 0",
        "https://hooks.slack.com/commands/x",
    );
    // Unsigned.
    let mut unsigned: HttpRequestEvent =
        serde_json::from_value(slack_command_event(SECRET, now(), &form)).unwrap();
    unsigned.headers.remove("x-slack-signature");
    assert_eq!(c.chatops.handle(&unsigned).await.status_code, 401);
    // Signed with another secret.
    let forged: HttpRequestEvent =
        serde_json::from_value(slack_command_event("not-the-secret", now(), &form)).unwrap();
    assert_eq!(c.chatops.handle(&forged).await.status_code, 401);
    // Replayed: a genuine request from ten minutes ago.
    let (status, reply) = c.send(ONCALL, OPS, "dial edge-ga 0", now() - 600).await;
    assert_eq!(status, 401);
    assert!(reply["error"].as_str().unwrap().contains("5 minutes"));
    // Tampered: the body changed after signing.
    let mut tampered: HttpRequestEvent =
        serde_json::from_value(slack_command_event(SECRET, now(), &form)).unwrap();
    tampered.body = Some(base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        form.replace("dial+edge-ga+0", "dial+edge-ga+100"),
    ));
    assert_eq!(c.chatops.handle(&tampered).await.status_code, 401);
    assert_eq!(c.queued().await, 0);
    assert_eq!(
        c.stack
            .cloud
            .ga_endpoint_group(demo::GA_GROUP)
            .unwrap()
            .traffic_dial_percentage,
        100
    );
}

#[tokio::test]
async fn only_allowed_users_and_channels_may_act() {
    let c = Chat::start().await;
    let (status, reply) = c.send("U0STRANGER", OPS, "drain api-roma", now()).await;
    assert_eq!(status, 200);
    assert_eq!(reply["response_type"], "ephemeral");
    assert!(text(&reply).contains("may not use `api-roma`"), "{reply}");
    // web-alb needs both the user and the channel.
    let (_, reply) = c
        .send(
            ONCALL,
            "C0RANDOM1",
            &format!("drain web-alb {}", demo::ALB_SERVERS[1]),
            now(),
        )
        .await;
    assert!(text(&reply).contains("may not use"), "{reply}");
    // edge-ga allows anyone in the ops channel.
    let (_, reply) = c.send("U0ANYONE1", OPS, "dial edge-ga 25", now()).await;
    assert!(text(&reply).starts_with("Queued"), "{reply}");
    assert_eq!(c.queued().await, 1);
}

#[tokio::test]
async fn mistakes_get_an_explanation_and_the_right_form() {
    let c = Chat::start().await;
    let cases = [
        ("dial edge-ga 150", "0 to 100"),
        ("dial edge-ga", "wrong number"),
        ("drain nowhere i-1", "Unknown target `nowhere`"),
        ("weight web-alb i-1:80 abc", "0 to 100"),
        ("dial web-alb 10", "GA"),
        ("drain api-roma host-1", "no servers"),
        ("reboot web-alb", "unknown command"),
        ("", "drain <target>"),
        ("help", "status <target>"),
    ];
    for (command, expected) in cases {
        let (status, reply) = c.send(ONCALL, OPS, command, now()).await;
        assert_eq!(status, 200, "{command}");
        assert_eq!(reply["response_type"], "ephemeral", "{command}");
        assert!(text(&reply).contains(expected), "{command}: {reply}");
    }
    assert_eq!(c.queued().await, 0);
}

#[tokio::test]
async fn status_answers_from_the_provider_and_dry_runs_change_nothing() {
    let c = Chat::start().await;
    let (_, reply) = c.send(ONCALL, OPS, "status web-alb", now()).await;
    let state = text(&reply);
    assert!(
        state.contains(demo::ALB_SERVERS[0]) && state.contains("weight 100"),
        "{state}"
    );
    let (_, reply) = c.send(ONCALL, OPS, "status edge-ga", now()).await;
    assert!(text(&reply).contains("dial 100%"), "{reply}");
    let (_, reply) = c.send(ONCALL, OPS, "status api-roma", now()).await;
    assert!(text(&reply).contains("weight 10"), "{reply}");
    let (_, reply) = c
        .send(
            ONCALL,
            OPS,
            &format!("weight web-slb {}:80 5 --dry-run", demo::SLB_SERVERS[0]),
            now(),
        )
        .await;
    assert!(text(&reply).contains("dry run"), "{reply}");
    c.work().await;
    assert_eq!(
        c.stack.cloud.slb_backends(demo::SLB_VSG).unwrap()[0].weight,
        100
    );
    let posted = c.hook.wait_for(1, Duration::from_secs(5)).await;
    assert!(text(&posted[0]).contains("dry run"), "{:?}", posted);
}
