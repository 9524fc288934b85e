//! A real Alertmanager (Debian's prometheus-alertmanager) delivering to the alert webhook served
//! by `cargo lambda watch`: an alert fires and its backend is drained in the fake cloud; it
//! resolves and the weight comes back; a storm of alerts is held back by the guard; an alert no
//! route matches is only reported. Outcomes are read from the results queue.

use lbpilot_tests::fakes::demo;
use lbpilot_tests::harness::{LambdaWatch, Stack, function_env};
use lbpilot_tests::ports::{Served, serve_on_free_port};
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::Duration;

const TOKEN: &str = "am-token-for-tests";

/// Fields drop in order: the server stops before its directory goes.
struct Alertmanager {
    _served: Served,
    url: String,
    _dir: tempdir::Dir,
}

mod tempdir {
    /// A scratch directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let p = std::env::temp_dir().join(format!("lbpilot-am-{}", fastrand::u64(..)));
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Alertmanager {
    async fn start(webhook_url: &str) -> Alertmanager {
        let dir = tempdir::Dir::new();
        let config = format!(
            "route:\n  receiver: lbpilot\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: lbpilot\n    webhook_configs:\n      - url: \"{webhook_url}\"\n        send_resolved: true\n\
             \x20       http_config:\n          authorization:\n            type: Bearer\n            credentials: \"{TOKEN}\"\n"
        );
        std::fs::write(dir.0.join("am.yml"), config).unwrap();
        let command = |port: u16| {
            let mut c = Command::new("prometheus-alertmanager");
            c.arg(format!("--config.file={}", dir.0.join("am.yml").display()))
                .arg(format!("--storage.path={}", dir.0.join("data").display()))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--cluster.listen-address=")
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            c
        };
        let ready = async |port: u16| {
            reqwest::get(format!("http://127.0.0.1:{port}/-/ready"))
                .await
                .is_ok_and(|r| r.status().is_success())
        };
        let served = serve_on_free_port(
            "prometheus-alertmanager (Debian package prometheus-alertmanager; scripts/setup installs it)",
            Duration::from_secs(20),
            command,
            ready,
        )
        .await;
        let url = format!("http://127.0.0.1:{}", served.port);
        Alertmanager {
            _served: served,
            url,
            _dir: dir,
        }
    }

    async fn post(&self, alerts: &Value) {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v2/alerts", self.url))
            .header("content-type", "application/json")
            .body(alerts.to_string())
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "alertmanager refused the alert: {}",
            r.status()
        );
    }
}

fn rfc3339(offset_secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_secs);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// An alert that started `started_secs_ago` and ends in `ends_in_secs` (resolved if negative).
fn alert(name: &str, instance: &str, started_secs_ago: i64, ends_in_secs: i64) -> Value {
    json!({"labels": {"alertname": name, "service": "web", "instance": instance, "severity": "page"},
           "annotations": {"summary": "health check failing"},
           "startsAt": rfc3339(-started_secs_ago), "endsAt": rfc3339(ends_in_secs), "generatorURL": "http://prometheus/graph"})
}

async fn eventually(what: &str, timeout: Duration, check: impl Fn() -> bool) {
    let started = std::time::Instant::now();
    while !check() {
        assert!(started.elapsed() < timeout, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn alertmanager_fires_and_resolves_through_the_webhook() {
    let s = Stack::start().await;
    s.moto.create_state_table("lbpilot-state").await;
    let mut env = function_env(&s.cloud, &s.moto, &s.results_url);
    env.insert("LBPILOT_ALERTMANAGER_BEARER_TOKEN".into(), TOKEN.into());
    env.insert("LBPILOT_STATE_TABLE".into(), "lbpilot-state".into());
    env.insert("LBPILOT_ALB_JOB_WAIT_MS".into(), "2000".into());
    env.insert("LBPILOT_ROUTES".into(), json!({"routes": [{
        "name": "web-backend-down", "match": {"alertname": "BackendDown"},
        "target": {"provider": "alb", "region": "cn-hangzhou", "group": demo::ALB_GROUP, "default_port": 80},
        "backend_label": "instance", "min_active": 1, "max_drained_percent": 50}]}).to_string());
    let watch = LambdaWatch::start(&env).await;
    let am = Alertmanager::start(&watch.url("/lambda-url/alert-webhook/alertmanager")).await;
    let weight = |i: usize| {
        s.cloud
            .alb_server(demo::ALB_GROUP, demo::ALB_SERVERS[i], demo::ALB_PORT)
            .unwrap()
            .weight
    };

    // Fires: drained.
    am.post(&json!([alert(
        "BackendDown",
        demo::ALB_SERVERS[0],
        60,
        3600
    )]))
    .await;
    eventually("server 0 drained", Duration::from_secs(240), || {
        weight(0) == 0
    })
    .await;
    // Resolves: the weight it had comes back.
    am.post(&json!([alert("BackendDown", demo::ALB_SERVERS[0], 60, -1)]))
        .await;
    eventually("server 0 restored", Duration::from_secs(60), || {
        weight(0) == 100
    })
    .await;

    // A storm: three backends at once (server 0 firing anew, after its resolution); the guard
    // lets one of three (33%) go, not two (66%).
    am.post(&json!([
        alert("BackendDown", demo::ALB_SERVERS[0], 0, 3600),
        alert("BackendDown", demo::ALB_SERVERS[1], 0, 3600),
        alert("BackendDown", demo::ALB_SERVERS[2], 0, 3600)
    ]))
    .await;
    // An alert no route matches.
    am.post(&json!([alert("DiskFull", demo::ALB_SERVERS[1], 0, 3600)]))
        .await;
    let read = || async { s.moto.drain(&s.results_url).await };
    let mut outcomes: Vec<Value> = Vec::new();
    let started = std::time::Instant::now();
    while !(outcomes
        .iter()
        .filter(|o| o["status"] == "rejected")
        .count()
        >= 2
        && outcomes
            .iter()
            .any(|o| o["detail"]["decision"] == "no route matched"))
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "outcomes so far: {outcomes:#?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        outcomes.extend(read().await);
    }
    let drained: u32 = (0..3).map(|i| u32::from(weight(i) == 0)).sum();
    assert_eq!(drained, 1, "exactly one of three drained: {outcomes:#?}");
    assert!(
        outcomes
            .iter()
            .any(|o| o["source"]["kind"] == "alertmanager" && o["status"] == "succeeded")
    );
    let refused = outcomes.iter().find(|o| o["status"] == "rejected").unwrap();
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_drained_percent"),
        "{refused}"
    );
}
