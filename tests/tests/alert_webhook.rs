//! Auto-drain: alerts drain backends and resolved alerts restore the weight they had; repeats
//! are harmless; the blast-radius guard refuses what would leave too little in service; every
//! decision is an outcome; callers are authenticated first.

use lbpilot::alerts::auth::Credentials;
use lbpilot::drain::engine::DrainEngine;
use lbpilot::drain::routes::Routes;
use lbpilot::emitter::SqsEmitter;
use lbpilot::http_event::HttpRequestEvent;
use lbpilot::state::{Claim, DrainRecord, DrainState, DrainStatus, MemoryState};
use lbpilot::triggers::alerts::{AlertWebhook, WebhookAuth};
use lbpilot_tests::fakes::{Product, demo};
use lbpilot_tests::harness::Stack;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

const TOKEN: &str = "am-webhook-token-0001";

fn routes(max_drained_percent: u8, min_active: usize) -> Routes {
    Routes::parse(&json!({"routes": [
        {"name": "web-backend-down", "match": {"alertname": "BackendDown"}, "match_re": {"service": "web|api"},
         "target": {"provider": "alb", "region": "cn-hangzhou", "group": demo::ALB_GROUP, "default_port": 80},
         "backend_label": "instance", "min_active": min_active, "max_drained_percent": max_drained_percent},
        {"name": "slb-backend-down", "match": {"alertname": "BackendDown", "lb": "classic"},
         "target": {"provider": "slb", "region": "cn-hangzhou", "group": demo::SLB_VSG, "default_port": 80},
         "backend_label": "instance", "max_drained_percent": 100},
        {"name": "region-unhealthy", "match": {"alertname": "RegionUnhealthy"},
         "target": {"provider": "ga", "group": demo::GA_GROUP}},
        {"name": "pool-degraded", "match": {"alertname": "PoolDegraded"},
         "target": {"provider": "roma", "region": "cn-north-4", "group": demo::ROMA_GROUPS[0],
                    "instance_id": demo::ROMA_INSTANCE, "vpc_channel_id": demo::ROMA_CHANNEL, "member_group_name": "primary"},
         "restore_weight": 10}
    ]}).to_string()).unwrap()
}

struct Hook {
    stack: Stack,
    webhook: AlertWebhook<MemoryState, SqsEmitter>,
}

impl Hook {
    async fn start(routes: Routes) -> Hook {
        let stack = Stack::start().await;
        let (executor, emitter) = stack.parts();
        let auth = WebhookAuth {
            alertmanager: vec![Credentials::bearer(TOKEN)],
            ..Default::default()
        };
        let webhook = AlertWebhook::new(
            DrainEngine::new(routes, executor, MemoryState::new(), emitter),
            auth,
        );
        Hook { stack, webhook }
    }

    fn state(&self) -> &MemoryState {
        self.webhook.engine().state()
    }

    async fn post(&self, body: &Value, token: Option<&str>) -> (u16, Value) {
        self.post_within(body, token, Duration::from_secs(20)).await
    }

    /// [`Hook::post`] for an invocation that has `time` left.
    async fn post_within(&self, body: &Value, token: Option<&str>, time: Duration) -> (u16, Value) {
        let mut headers =
            json!({"content-type": "application/json", "user-agent": "Alertmanager/0.25.0"});
        if let Some(t) = token {
            headers["authorization"] = json!(format!("Bearer {t}"));
        }
        let event: HttpRequestEvent = serde_json::from_value(json!({
            "rawPath": "/alertmanager", "headers": headers, "body": body.to_string(), "isBase64Encoded": false,
            "requestContext": {"requestId": "r-1", "http": {"method": "POST", "sourceIp": "127.0.0.1"}}
        }))
        .unwrap();
        let response = self
            .webhook
            .handle_http(&event, "r-1", Instant::now() + time)
            .await;
        (
            response.status_code,
            serde_json::from_str(&response.body).unwrap(),
        )
    }

    fn weight(&self, server: usize) -> u32 {
        self.stack
            .cloud
            .alb_server(demo::ALB_GROUP, demo::ALB_SERVERS[server], demo::ALB_PORT)
            .unwrap()
            .weight
    }

    /// The ClientToken of every ALB update sent, in order.
    fn alb_client_tokens(&self) -> Vec<String> {
        self.stack
            .cloud
            .requests_for(Product::Alb, "UpdateServerGroupServersAttribute")
            .iter()
            .map(|r| r.client_token().unwrap_or_default().to_string())
            .collect()
    }

    async fn outcomes(&self) -> Vec<Value> {
        self.stack.moto.drain(&self.stack.results_url).await
    }
}

/// One `BackendDown` alert for ALB server `server`, alone in its notification.
fn backend_down(status: &str, server: usize) -> Value {
    notification(
        status,
        vec![alert(
            status,
            "BackendDown",
            demo::ALB_SERVERS[server],
            json!({}),
        )],
    )
}

fn alert(status: &str, name: &str, instance: &str, extra: Value) -> Value {
    let mut labels =
        json!({"alertname": name, "service": "web", "instance": instance, "severity": "page"});
    labels
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({"status": status, "labels": labels, "annotations": {"summary": "backend failing health checks"},
           "startsAt": "2026-12-02T06:00:00Z", "endsAt": if status == "firing" { "0001-01-01T00:00:00Z" } else { "2026-12-02T06:10:00Z" },
           "generatorURL": "http://prometheus/graph", "fingerprint": format!("fp-{name}-{instance}")})
}

/// The notification with its alerts' `startsAt` (and `endsAt`, if given) replaced.
fn at(mut notification: Value, starts_at: &str, ends_at: Option<&str>) -> Value {
    for a in notification["alerts"].as_array_mut().unwrap() {
        a["startsAt"] = json!(starts_at);
        if let Some(ends_at) = ends_at {
            a["endsAt"] = json!(ends_at);
        }
    }
    notification
}

fn notification(status: &str, alerts: Vec<Value>) -> Value {
    json!({"version": "4", "groupKey": "{}:{alertname=\"BackendDown\"}", "truncatedAlerts": 0, "status": status,
           "receiver": "lbpilot", "groupLabels": {"alertname": "BackendDown"}, "commonLabels": {}, "commonAnnotations": {},
           "externalURL": "http://alertmanager:9093", "alerts": alerts})
}

#[tokio::test]
async fn a_firing_alert_drains_and_its_resolution_restores_the_weight_before() {
    let h = Hook::start(routes(50, 1)).await;
    // The weight before the drain is 30, not the default 100: that is what comes back.
    h.stack
        .cloud
        .edit(|s| s.alb.server_groups[0].servers[0].weight = 30);
    let firing = backend_down("firing", 0);
    let (status, answer) = h.post(&firing, Some(TOKEN)).await;
    assert_eq!(
        (status, answer["summary"]["drained"].as_u64()),
        (200, Some(1)),
        "{answer}"
    );
    assert_eq!(h.weight(0), 0);
    let records = h.state().records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].prior_weight, Some(30));

    // Alertmanager re-sends firing alerts: nothing more is sent.
    let calls = h
        .stack
        .cloud
        .requests_for(Product::Alb, "UpdateServerGroupServersAttribute")
        .len();
    let (_, answer) = h.post(&firing, Some(TOKEN)).await;
    assert_eq!(answer["summary"]["duplicates"], 1, "{answer}");
    assert_eq!(
        h.stack
            .cloud
            .requests_for(Product::Alb, "UpdateServerGroupServersAttribute")
            .len(),
        calls
    );

    let resolved = backend_down("resolved", 0);
    let (status, answer) = h.post(&resolved, Some(TOKEN)).await;
    assert_eq!(
        (status, answer["summary"]["restored"].as_u64()),
        (200, Some(1)),
        "{answer}"
    );
    assert_eq!(h.weight(0), 30);
    // The record gave way to the alert's resolution, which holds nothing.
    let records = h.state().records();
    assert!(
        records.iter().all(|r| r.status == DrainStatus::Resolved),
        "{records:?}"
    );
    let outcomes = h.outcomes().await;
    let decisions: Vec<String> = outcomes
        .iter()
        .map(|o| {
            format!(
                "{}:{}",
                o["status"].as_str().unwrap(),
                o["detail"]["decision"].as_str().unwrap_or("change")
            )
        })
        .collect();
    assert_eq!(decisions.len(), 3, "{decisions:?}");
    assert!(
        decisions.contains(
            &"skipped:already drained for this alert (a repeated notification)".to_string()
        ),
        "{decisions:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| o["source"]["kind"] == "alertmanager")
    );
}

#[tokio::test]
async fn grouped_alerts_become_one_call_and_the_guard_refuses_the_rest() {
    let h = Hook::start(routes(100, 1)).await;
    let firing = notification(
        "firing",
        (0..3)
            .map(|i| alert("firing", "BackendDown", demo::ALB_SERVERS[i], json!({})))
            .collect(),
    );
    let (status, answer) = h.post(&firing, Some(TOKEN)).await;
    assert_eq!(status, 200, "a refusal is handled, not an error: {answer}");
    assert_eq!(answer["summary"]["drained"], 2);
    assert_eq!(answer["summary"]["refused"], 1);
    assert_eq!(
        h.stack
            .cloud
            .requests_for(Product::Alb, "UpdateServerGroupServersAttribute")
            .len(),
        1,
        "one call for both"
    );
    assert_eq!((h.weight(0), h.weight(1), h.weight(2)), (0, 0, 100));
    let held: Vec<String> = h.state().records().into_iter().map(|r| r.backend).collect();
    assert_eq!(
        held.len(),
        2,
        "the refused backend's claim was released: {held:?}"
    );
    assert!(!held.iter().any(|b| b.contains(demo::ALB_SERVERS[2])));
    let refused: Vec<Value> = h
        .outcomes()
        .await
        .into_iter()
        .filter(|o| o["status"] == "rejected")
        .collect();
    assert_eq!(refused.len(), 1);
    assert!(
        refused[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("min_active"),
        "{}",
        refused[0]
    );
}

#[tokio::test]
async fn a_redelivered_drain_is_held_to_the_guard_too() {
    // An earlier attempt claimed the backend and failed before changing it (its record is
    // still `draining`); meanwhile another backend went out. The redelivery must not bypass
    // the guard because the claim is its own.
    let h = Hook::start(routes(100, 2)).await;
    let first = alert("firing", "BackendDown", demo::ALB_SERVERS[0], json!({}));
    let fingerprint = first["fingerprint"].as_str().unwrap().to_string();
    let key = format!(
        "alb:cn-hangzhou:{}:{}:{}",
        demo::ALB_GROUP,
        demo::ALB_SERVERS[0],
        demo::ALB_PORT
    );
    let earlier = DrainRecord {
        backend: key.clone(),
        alert_key: format!("alertmanager:{fingerprint}"),
        status: DrainStatus::Draining,
        prior_weight: Some(30),
        action_id: "token-of-the-earlier-attempt".into(),
        created_at: "2026-12-02T06:00:01Z".into(),
        expires_at: i64::MAX,
        fired_at: None,
        resolved_at: None,
    };
    assert_eq!(h.state().claim(&earlier).await.unwrap(), Claim::Created);
    let other = backend_down("firing", 1);
    let (_, answer) = h.post(&other, Some(TOKEN)).await;
    assert_eq!(answer["summary"]["drained"], 1, "{answer}");

    let (status, answer) = h
        .post(&notification("firing", vec![first]), Some(TOKEN))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["summary"]["refused"], 1, "{answer}");
    assert_eq!(h.weight(0), 100, "min_active 2 of 3 keeps it in service");
    assert_eq!(
        h.state().get(&key).await.unwrap(),
        None,
        "and its claim is let go"
    );
}

#[tokio::test]
async fn max_drained_percent_limits_how_much_one_storm_can_take_out() {
    let h = Hook::start(routes(50, 1)).await;
    let firing = notification(
        "firing",
        (0..3)
            .map(|i| alert("firing", "BackendDown", demo::ALB_SERVERS[i], json!({})))
            .collect(),
    );
    let (_, answer) = h.post(&firing, Some(TOKEN)).await;
    assert_eq!(
        (
            answer["summary"]["drained"].as_u64(),
            answer["summary"]["refused"].as_u64()
        ),
        (Some(1), Some(2)),
        "{answer}"
    );
    assert_eq!(h.weight(0) + h.weight(1) + h.weight(2), 200);
}

#[tokio::test]
async fn unmatched_alerts_and_unknown_backends_are_reported_not_acted_on() {
    let h = Hook::start(routes(50, 1)).await;
    let firing = notification(
        "firing",
        vec![
            alert("firing", "DiskFull", demo::ALB_SERVERS[0], json!({})),
            alert("firing", "BackendDown", "i-not-in-the-group", json!({})),
        ],
    );
    let (status, answer) = h.post(&firing, Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            answer["summary"]["unmatched"].as_u64(),
            answer["summary"]["refused"].as_u64()
        ),
        (Some(1), Some(1)),
        "{answer}"
    );
    assert!(
        h.stack
            .cloud
            .requests_for(Product::Alb, "UpdateServerGroupServersAttribute")
            .is_empty()
    );
    let outcomes = h.outcomes().await;
    assert!(
        outcomes
            .iter()
            .any(|o| o["detail"]["decision"] == "no route matched")
    );
}

#[tokio::test]
async fn callers_without_the_token_get_401_and_change_nothing() {
    let h = Hook::start(routes(50, 1)).await;
    let firing = backend_down("firing", 0);
    for (token, why) in [
        (None, "header Authorization is missing"),
        (Some("wrong"), "wrong Bearer credentials"),
        (Some(&TOKEN[..10]), "wrong Bearer credentials"),
    ] {
        let (status, answer) = h.post(&firing, token).await;
        assert_eq!(status, 401, "{token:?}");
        assert_eq!(answer, json!({"error": "unauthorized", "reason": why}));
    }
    assert_eq!(h.weight(0), 100);
    assert!(h.outcomes().await.is_empty());
}

#[tokio::test]
async fn a_state_table_outage_asks_the_sender_to_retry() {
    let h = Hook::start(routes(50, 1)).await;
    h.state().fail_next(1);
    let firing = backend_down("firing", 0);
    let (status, answer) = h.post(&firing, Some(TOKEN)).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(
        h.weight(0),
        100,
        "nothing changed without a record of the weight before"
    );
    // Alertmanager retries: now it works.
    let (status, _) = h.post(&firing, Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(h.weight(0), 0);
}

#[tokio::test]
async fn slb_backends_and_ga_dials_drain_and_restore_too() {
    let h = Hook::start(routes(50, 1)).await;
    let slb = alert(
        "firing",
        "BackendDown",
        demo::SLB_SERVERS[1],
        json!({"lb": "classic", "service": "other"}),
    );
    let ga = alert(
        "firing",
        "RegionUnhealthy",
        "-",
        json!({"region": "ap-southeast-1"}),
    );
    let (_, answer) = h
        .post(
            &notification("firing", vec![slb.clone(), ga.clone()]),
            Some(TOKEN),
        )
        .await;
    assert_eq!(answer["summary"]["drained"], 2, "{answer}");
    let backends = h.stack.cloud.slb_backends(demo::SLB_VSG).unwrap();
    assert_eq!(
        backends
            .iter()
            .find(|b| b.server_id == demo::SLB_SERVERS[1])
            .unwrap()
            .weight,
        0
    );
    assert_eq!(
        h.stack
            .cloud
            .ga_endpoint_group(demo::GA_GROUP)
            .unwrap()
            .traffic_dial_percentage,
        0
    );
    let mut slb_ok = slb;
    slb_ok["status"] = json!("resolved");
    let mut ga_ok = ga;
    ga_ok["status"] = json!("resolved");
    tokio::time::sleep(Duration::from_millis(400)).await; // the GA group leaves PENDING
    let (_, answer) = h
        .post(&notification("resolved", vec![slb_ok, ga_ok]), Some(TOKEN))
        .await;
    assert_eq!(answer["summary"]["restored"], 2, "{answer}");
    let backends = h.stack.cloud.slb_backends(demo::SLB_VSG).unwrap();
    assert_eq!(
        backends
            .iter()
            .find(|b| b.server_id == demo::SLB_SERVERS[1])
            .unwrap()
            .weight,
        100
    );
    assert_eq!(
        h.stack
            .cloud
            .ga_endpoint_group(demo::GA_GROUP)
            .unwrap()
            .traffic_dial_percentage,
        100
    );
}

#[tokio::test]
async fn a_drain_after_a_restore_is_a_new_change_not_a_replay() {
    let h = Hook::start(routes(50, 1)).await;
    let firing = backend_down("firing", 0);
    let resolved = backend_down("resolved", 0);
    h.post(&firing, Some(TOKEN)).await;
    h.post(&resolved, Some(TOKEN)).await;
    assert_eq!(h.weight(0), 100);
    tokio::time::sleep(Duration::from_millis(400)).await; // the group leaves Configuring
    // The same alert (same labels, same fingerprint) fires again, a new episode with its own
    // startsAt: it must drain again.
    let firing = at(firing, "2026-12-02T06:20:00Z", None);
    let (_, answer) = h.post(&firing, Some(TOKEN)).await;
    assert_eq!(answer["summary"]["drained"], 1, "{answer}");
    assert_eq!(h.weight(0), 0);
    let tokens = h.alb_client_tokens();
    assert_eq!(tokens.len(), 3);
    assert_ne!(
        tokens[0], tokens[2],
        "each drain episode has its own ClientToken"
    );
}

#[tokio::test]
async fn the_group_tells_a_repeat_from_a_backend_put_back_by_hand() {
    let h = Hook::start(routes(50, 1)).await;
    let firing = backend_down("firing", 0);
    let settle = || tokio::time::sleep(Duration::from_millis(400)); // the group leaves Configuring
    let (_, answer) = h.post(&firing, Some(TOKEN)).await;
    assert_eq!(answer["summary"]["drained"], 1, "{answer}");
    let claim = h.state().records().pop().unwrap();
    assert_eq!(
        claim.status,
        DrainStatus::Draining,
        "one state write per drain: the claim stays as written"
    );
    settle().await;

    // A repeat: the group shows the drain, so nothing is sent.
    let (_, answer) = h.post(&firing, Some(TOKEN)).await;
    assert_eq!(answer["summary"]["duplicates"], 1, "{answer}");
    assert_eq!((h.weight(0), h.alb_client_tokens().len()), (0, 1));

    // Put back in service by hand an hour after the drain, while the alert still fires: the
    // next notification drains it again, as a new change (a replayed ClientToken would
    // change nothing).
    h.state()
        .release(&claim.backend, &claim.alert_key)
        .await
        .unwrap();
    let hour_old = DrainRecord {
        created_at: lbpilot::outcome::timestamp(
            time::OffsetDateTime::now_utc() - time::Duration::hours(1),
        ),
        ..claim.clone()
    };
    assert_eq!(h.state().claim(&hour_old).await.unwrap(), Claim::Created);
    h.stack.cloud.edit(|cloud| {
        let group = cloud
            .alb
            .server_groups
            .iter_mut()
            .find(|g| g.server_group_id == demo::ALB_GROUP)
            .unwrap();
        let server = group
            .servers
            .iter_mut()
            .find(|s| s.server_id == demo::ALB_SERVERS[0])
            .unwrap();
        server.weight = 100;
    });
    let (_, answer) = h.post(&firing, Some(TOKEN)).await;
    assert_eq!(answer["summary"]["drained"], 1, "{answer}");
    assert_eq!(h.weight(0), 0);
    let sent = h.alb_client_tokens();
    assert_eq!(sent.len(), 2);
    assert_ne!(sent[0], sent[1], "a new change, a new ClientToken");
}

#[tokio::test]
async fn a_redelivery_while_the_change_is_in_flight_sends_the_same_change() {
    let h = Hook::start(routes(50, 1)).await;
    let firing = backend_down("firing", 0);
    h.stack.cloud.set_alb_job_delay(Duration::from_secs(3));
    // The first invocation has no time to see ALB's job end: the change is accepted (the job
    // runs), and the claim stays.
    let (_, answer) = h
        .post_within(&firing, Some(TOKEN), Duration::from_millis(1500))
        .await;
    assert_eq!(answer["summary"]["drained"], 1, "{answer}");
    assert_eq!(h.weight(0), 100, "not applied yet");
    // The redelivery, moments later: the same ClientToken, so ALB answers with the job already
    // running instead of starting a second one.
    let (_, answer) = h.post(&firing, Some(TOKEN)).await;
    assert_eq!(answer["summary"]["drained"], 1, "{answer}");
    assert_eq!(h.weight(0), 0);
    let sent = h.alb_client_tokens();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], sent[1], "the same change, the same ClientToken");
    assert_eq!(h.stack.cloud.alb_jobs().len(), 1, "one job");
}

#[tokio::test]
async fn huawei_targets_are_guarded_by_their_siblings() {
    let h = Hook::start(routes(50, 1)).await;
    // GA: with the listener's backup group already at dial 0, dialling the web group down too
    // would leave no endpoint group taking traffic.
    h.stack.cloud.edit(|s| {
        let backup =
            s.ga.endpoint_groups
                .iter_mut()
                .find(|g| g.id == demo::GA_BACKUP_GROUP)
                .unwrap();
        backup.traffic_dial_percentage = 0;
    });
    let ga = alert("firing", "RegionUnhealthy", "-", json!({}));
    let (status, answer) = h.post(&notification("firing", vec![ga]), Some(TOKEN)).await;
    assert_eq!(
        (status, answer["summary"]["refused"].as_u64()),
        (200, Some(1)),
        "{answer}"
    );
    assert_eq!(
        h.stack
            .cloud
            .ga_endpoint_group(demo::GA_GROUP)
            .unwrap()
            .traffic_dial_percentage,
        100
    );
    // ROMA: two member groups in the channel; one may go (50%), and it comes back on resolve.
    let pool = alert("firing", "PoolDegraded", "-", json!({}));
    let (_, answer) = h
        .post(&notification("firing", vec![pool.clone()]), Some(TOKEN))
        .await;
    assert_eq!(answer["summary"]["drained"], 1, "{answer}");
    assert_eq!(
        h.stack
            .cloud
            .roma_member_group(demo::ROMA_GROUPS[0])
            .unwrap()
            .member_group_weight,
        Some(0)
    );
    let mut resolved = pool;
    resolved["status"] = json!("resolved");
    let (_, answer) = h
        .post(&notification("resolved", vec![resolved]), Some(TOKEN))
        .await;
    assert_eq!(answer["summary"]["restored"], 1, "{answer}");
    assert_eq!(
        h.stack
            .cloud
            .roma_member_group(demo::ROMA_GROUPS[0])
            .unwrap()
            .member_group_weight,
        Some(10)
    );
    let refused: Vec<Value> = h
        .outcomes()
        .await
        .into_iter()
        .filter(|o| o["status"] == "rejected")
        .collect();
    assert!(
        refused[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("min_active"),
        "{refused:?}"
    );
}

/// Alertmanager and SNS deliver at least once, and a delivery can come late (a retried
/// invocation, a repeat from before the resolution): a firing no newer than its alert's
/// resolution drains nothing, and a resolution older than the firing that drained the backend
/// restores nothing. The sources' own times decide.
#[tokio::test]
async fn late_and_repeated_notifications_change_nothing() {
    let h = Hook::start(routes(50, 1)).await;
    let server = demo::ALB_SERVERS[0];
    let firing = notification(
        "firing",
        vec![alert("firing", "BackendDown", server, json!({}))],
    );
    let resolved = notification(
        "resolved",
        vec![alert("resolved", "BackendDown", server, json!({}))],
    );
    let updates = |h: &Hook| {
        h.stack
            .cloud
            .requests_for(Product::Alb, "UpdateServerGroupServersAttribute")
            .len()
    };
    let settle = || tokio::time::sleep(Duration::from_millis(400)); // the group leaves Configuring

    // Episode 1: fired 06:00, resolved 06:10.
    h.post(&firing, Some(TOKEN)).await;
    settle().await;
    h.post(&resolved, Some(TOKEN)).await;
    assert_eq!(h.weight(0), 100);
    settle().await;
    let before = updates(&h);
    // The firing of episode 1 again, after its resolution: nothing changes.
    let (status, answer) = h.post(&firing, Some(TOKEN)).await;
    assert_eq!(
        (status, answer["summary"]["drained"].as_u64()),
        (200, Some(0)),
        "{answer}"
    );
    assert_eq!(answer["summary"]["duplicates"], 1, "{answer}");
    assert_eq!((h.weight(0), updates(&h)), (100, before));
    // An Alertmanager repeat sent just before the resolution (startsAt the same) too.
    let (_, answer) = h
        .post(
            &at(
                firing.clone(),
                "2026-12-02T06:00:00Z",
                Some("2026-12-02T06:14:00Z"),
            ),
            Some(TOKEN),
        )
        .await;
    assert_eq!(answer["summary"]["drained"], 0, "{answer}");

    // Episode 2 fires at 06:20: drained again.
    let firing2 = at(firing.clone(), "2026-12-02T06:20:00Z", None);
    let (_, answer) = h.post(&firing2, Some(TOKEN)).await;
    assert_eq!(answer["summary"]["drained"], 1, "{answer}");
    assert_eq!(h.weight(0), 0);
    settle().await;
    // Episode 1's resolution, delivered again now: episode 2's drain stays.
    let before = updates(&h);
    let (status, answer) = h.post(&resolved, Some(TOKEN)).await;
    assert_eq!(
        (status, answer["summary"]["restored"].as_u64()),
        (200, Some(0)),
        "{answer}"
    );
    assert_eq!((h.weight(0), updates(&h)), (0, before));
    // Episode 2's own resolution restores.
    let resolved2 = at(
        resolved.clone(),
        "2026-12-02T06:20:00Z",
        Some("2026-12-02T06:30:00Z"),
    );
    let (_, answer) = h.post(&resolved2, Some(TOKEN)).await;
    assert_eq!(answer["summary"]["restored"], 1, "{answer}");
    assert_eq!(h.weight(0), 100);

    let decisions: Vec<String> = h
        .outcomes()
        .await
        .iter()
        .filter_map(|o| o["detail"]["decision"].as_str().map(String::from))
        .collect();
    for expected in [
        "the alert resolved after this firing (a late or repeated notification): not drained",
        "the resolution is older than the firing that drained the backend (a late notification): not restored",
    ] {
        assert!(
            decisions.iter().any(|d| d == expected),
            "{expected}: {decisions:?}"
        );
    }
}

/// The same for CloudWatch alarms through SNS (a retried SNS delivery of an ALARM after the
/// OK): `StateChangeTime` decides.
#[tokio::test]
async fn a_late_cloudwatch_alarm_after_its_ok_changes_nothing() {
    let h = Hook::start(routes(50, 1)).await;
    let sns = |state: &str, changed: &str, id: &str| {
        let message = json!({"AlarmName": "RegionUnhealthy", "NewStateValue": state, "OldStateValue": "OK",
            "NewStateReason": "Threshold Crossed", "StateChangeTime": changed, "Region": "US East (N. Virginia)",
            "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:RegionUnhealthy",
            "Trigger": {"MetricName": "HealthyHostCount", "Namespace": "AWS/ApplicationELB", "Dimensions": []}});
        json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
            "Sns": {"Type": "Notification", "MessageId": id, "TopicArn": "arn:aws:sns:us-east-1:123456789012:lbpilot-alarms",
                    "Subject": "alarm", "Message": message.to_string(), "Timestamp": "2026-12-02T06:06:00.200Z"}}]})
    };
    let dial = |h: &Hook| {
        h.stack
            .cloud
            .ga_endpoint_group(demo::GA_GROUP)
            .unwrap()
            .traffic_dial_percentage
    };
    let invoke = async |event: Value| {
        h.webhook
            .handle(event, "r-1", Instant::now() + Duration::from_secs(20))
            .await
            .unwrap()
    };
    let alarm = sns("ALARM", "2026-12-02T06:06:00.123+0000", "m-1");
    invoke(alarm.clone()).await;
    assert_eq!(dial(&h), 0);
    tokio::time::sleep(Duration::from_millis(400)).await; // the group leaves PENDING
    invoke(sns("OK", "2026-12-02T06:16:00.000+0000", "m-2")).await;
    assert_eq!(dial(&h), 100);
    tokio::time::sleep(Duration::from_millis(400)).await;
    // SNS delivers the ALARM again: the dial stays.
    let answer = invoke(alarm).await;
    assert_eq!(dial(&h), 100, "{answer}");
    // The alarm fires anew: drained again.
    invoke(sns("ALARM", "2026-12-02T06:26:00.000+0000", "m-3")).await;
    assert_eq!(dial(&h), 0);
}
