//! End to end through `cargo lambda watch`: a signed slash command over the emulated Function
//! URL, the command queue, the queue worker, the fake cloud, the reply posted to a local
//! response URL, and the outcome on the results queue.

use lbpilot_tests::fakes::demo;
use lbpilot_tests::harness::{LambdaWatch, Stack, function_env, receive_as_event, slack_form};
use lbpilot_tests::slack_stub::SlackHook;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

fn sign(timestamp: i64, body: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn a_slash_command_through_cargo_lambda_watch_drains_a_server() {
    let s = Stack::start().await;
    let commands = s.moto.create_queue("lbpilot-commands.fifo").await;
    let hook = SlackHook::start().await;
    let mut env = function_env(&s.cloud, &s.moto, &s.results_url);
    env.insert("LBPILOT_SLACK_SIGNING_SECRET".into(), SECRET.into());
    env.insert(
        "LBPILOT_CHATOPS_ALIASES".into(),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../config/chatops-aliases.json"
        )
        .into(),
    );
    env.insert("LBPILOT_COMMAND_QUEUE_URL".into(), commands.clone());
    env.insert("LBPILOT_SLACK_RESPONSE_URL_PREFIX".into(), hook.url.clone());
    let watch = LambdaWatch::start(&env).await;

    let form = slack_form(
        "U2CERLKJA",
        "C0OPS0001",
        &format!("drain web-alb {}", demo::ALB_SERVERS[2]),
        &format!("{}/commands/T1/2/x", hook.url),
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let http = reqwest::Client::new();
    let post = |signature: String| {
        http.post(watch.url("/lambda-url/chatops/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", now.to_string())
            .header("x-slack-signature", signature)
            .timeout(Duration::from_secs(300))
            .body(form.clone())
            .send()
    };
    let refused = post("v0=0000".into()).await.unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let answer = post(sign(now, &form)).await.unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let reply: serde_json::Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    assert!(
        reply["text"].as_str().unwrap().starts_with("Queued"),
        "{reply}"
    );

    let event = receive_as_event(&s.moto, &commands).await;
    assert_eq!(event.records.len(), 1, "exactly one command queued");
    let result = watch
        .invoke("queue-worker", &serde_json::to_value(&event).unwrap())
        .await;
    assert_eq!(result, serde_json::json!({"batchItemFailures": []}));
    assert_eq!(
        s.cloud
            .alb_server(demo::ALB_GROUP, demo::ALB_SERVERS[2], demo::ALB_PORT)
            .unwrap()
            .weight,
        0
    );
    let posted = hook.wait_for(1, Duration::from_secs(10)).await;
    assert!(
        posted[0]["text"].as_str().unwrap().contains("done"),
        "{posted:?}"
    );
    let outcomes = s.moto.drain(&s.results_url).await;
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0]["status"], "succeeded");
}
