//! A catalogue of hostile queue messages: each gets a `rejected` outcome naming the problem,
//! is not retried, and sends nothing to any provider.

use lbpilot_tests::fakes::demo;
use lbpilot_tests::harness::{Stack, sqs_event, sqs_record};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

fn alb(servers: Value) -> String {
    json!({"operation": "alb:UpdateServerGroupServersAttribute", "region": "cn-hangzhou",
           "params": {"ServerGroupId": demo::ALB_GROUP, "Servers": servers}})
    .to_string()
}

fn server(extra: Value) -> Value {
    let mut s =
        json!({"ServerId": demo::ALB_SERVERS[0], "ServerType": "Ecs", "Port": 80, "Weight": 0});
    s.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    s
}

#[tokio::test]
async fn hostile_messages_are_rejected_and_change_nothing() {
    let s = Stack::start().await;
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let huge_list: Vec<Value> = (0..500)
        .map(|i| server(json!({"ServerId": format!("i-{i}")})))
        .collect();
    let cases: Vec<(&str, String, &str)> = vec![
        ("oversized", format!("{{\"reason\": \"{}\"}}", "x".repeat(300 * 1024)), "larger than"),
        ("deeply-nested", nested, "not valid JSON"),
        ("huge-array", alb(Value::Array(huge_list)), "params.Servers"),
        ("not-json", "DROP TABLE servers; --".into(), "not valid JSON"),
        ("empty", String::new(), "not valid JSON"),
        ("null", "null".into(), "must be a JSON object"),
        ("weight-string", alb(json!([server(json!({"Weight": "0; rm -rf /"}))])), "params.Servers[0].Weight"),
        ("weight-float", alb(json!([server(json!({"Weight": 0.5}))])), "params.Servers[0].Weight"),
        ("weight-huge", alb(json!([server(json!({"Weight": 1e300}))])), "params.Servers[0].Weight"),
        ("port-negative", alb(json!([server(json!({"Port": -80}))])), "params.Servers[0].Port"),
        ("control-chars", alb(json!([server(json!({"Description": "ok\u{0007}\u{001b}[31m"}))])), "params.Servers[0].Description"),
        ("url-description", alb(json!([server(json!({"Description": "https://evil.example/x"}))])), "params.Servers[0].Description"),
        ("path-injection", json!({"operation": "ga:UpdateEndpointGroup", "params": {"endpoint_group_id": "../../v2/other", "endpoint_group": {"traffic_dial_percentage": 0}}}).to_string(), "params.endpoint_group_id"),
        ("ga-markup", json!({"operation": "ga:UpdateEndpointGroup", "params": {"endpoint_group_id": demo::GA_GROUP, "endpoint_group": {"description": "<script>alert(1)</script>"}}}).to_string(), "description"),
        ("unicode-name", json!({"operation": "ga:UpdateEndpointGroup", "params": {"endpoint_group_id": demo::GA_GROUP, "endpoint_group": {"name": "名前\u{202e}"}}}).to_string(), "name"),
        ("unknown-field", alb(json!([server(json!({}))])).replacen('{', "{\"dryrun\": true, ", 1), "dryrun"),
        ("wrong-op", json!({"operation": "alb:DeleteServerGroup", "region": "cn-hangzhou", "params": {}}).to_string(), "operation"),
        ("region-injection", alb(json!([server(json!({}))])).replace("cn-hangzhou", "evil.com/x"), "region"),
        ("id-too-long", alb(json!([server(json!({}))])).replacen('{', &format!("{{\"id\": \"{}\", ", "a".repeat(65)), 1), "id"),
    ];
    let records = cases
        .iter()
        .map(|(id, body, _)| sqs_record(id, body, 1))
        .collect();
    let response = s
        .worker
        .handle(sqs_event(records), Instant::now() + Duration::from_secs(20))
        .await
        .unwrap();
    assert!(
        response.batch_item_failures.is_empty(),
        "nothing hostile is retried: {response:?}"
    );
    let outcomes = s.outcomes().await;
    assert_eq!(outcomes.len(), cases.len());
    for (id, _, expected) in &cases {
        let o = &outcomes[*id];
        assert_eq!(o["status"], "rejected", "{id}: {o:#}");
        let error = o["error"]["message"].as_str().unwrap_or_default();
        assert!(
            error.contains(expected),
            "{id}: the error should name {expected:?}: {error}"
        );
        assert!(
            o.to_string().len() < 64 * 1024,
            "{id}: the outcome stays small"
        );
    }
    assert!(
        s.cloud.requests().is_empty(),
        "no provider request was sent"
    );
}

/// Parameter values are encoded, never spliced: a server id carrying `&Weight=100` reaches the
/// provider as that literal id (and is not found), not as a second parameter.
#[tokio::test]
async fn values_cannot_inject_parameters() {
    let s = Stack::start().await;
    let body = alb(json!([server(
        json!({"ServerId": "i-1&Weight=100&Servers.2.ServerId=x"})
    )]));
    s.worker
        .handle(
            sqs_event(vec![sqs_record("inject", &body, 1)]),
            Instant::now() + Duration::from_secs(20),
        )
        .await
        .unwrap();
    let sent = s.cloud.requests_for(
        lbpilot_tests::fakes::Product::Alb,
        "UpdateServerGroupServersAttribute",
    );
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].param("Servers.1.ServerId").as_deref(),
        Some("i-1&Weight=100&Servers.2.ServerId=x")
    );
    assert_eq!(sent[0].param("Servers.1.Weight").as_deref(), Some("0"));
    assert_eq!(sent[0].param("Servers.2.ServerId"), None);
    let outcomes = s.outcomes().await;
    assert_eq!(
        outcomes["inject"]["error"]["code"],
        "ResourceNotFound.BackendServer"
    );
}
