//! Incoming alerts: every source's documented (and a real) payload parses to the expected
//! alerts; malformed input of every kind is an error, never a panic; every authentication path
//! refuses what it must and accepts what it should; no error text contains a secret.

use hmac::{Hmac, KeyInit, Mac};
use lbpilot::alerts::auth::{
    AuthError, Credentials, GrafanaAuth, GrafanaHmac, UrlToken, verify_alertmanager,
    verify_cloudmonitor, verify_grafana,
};
use lbpilot::alerts::{
    AlertError, AlertErrorKind, AlertSource, AlertStatus, MAX_ALERTS, MAX_BODY_BYTES,
    MAX_LABEL_CHARS, Notification, label_fingerprint, parse_alertmanager, parse_cloudmonitor,
    parse_cloudwatch_sns, parse_grafana,
};
use serde_json::Value;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/alerts/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn text(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap()
}

/// The `Sns.Message` of each record of an SNS event fixture.
fn sns_messages(name: &str) -> Vec<String> {
    let event: Value = serde_json::from_slice(&fixture(name)).unwrap();
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Sns"]["Message"].as_str().unwrap().to_string())
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

type Parser = fn(&[u8]) -> Result<Notification, AlertError>;

fn cloudwatch_bytes(body: &[u8]) -> Result<Notification, AlertError> {
    // The SNS Message is a string; bytes that are not UTF-8 cannot be one.
    match std::str::from_utf8(body) {
        Ok(s) => parse_cloudwatch_sns(s),
        Err(_) => parse_cloudmonitor(body),
    }
}

const PARSERS: [(&str, Parser); 4] = [
    ("alertmanager", parse_alertmanager),
    ("grafana", parse_grafana),
    ("cloudwatch", cloudwatch_bytes),
    ("cloudmonitor", parse_cloudmonitor),
];

const FIXTURES: [&str; 11] = [
    "alertmanager-0.25-real.json",
    "alertmanager-grouped-mixed.json",
    "grafana-docs-example.json",
    "grafana-grouped-mixed.json",
    "cloudwatch-sns-single-metric.json",
    "cloudwatch-sns-metric-math.json",
    "cloudwatch-message-null-description.json",
    "cloudwatch-message-insufficient-data.json",
    "cloudmonitor-docs-form.txt",
    "cloudmonitor-form-json-dimensions.txt",
    "cloudmonitor-legacy-docs.json",
];

// ---------------------------------------------------------------------------------------------
// Alertmanager

#[test]
fn alertmanager_025_real_payload() {
    let n = parse_alertmanager(&fixture("alertmanager-0.25-real.json")).unwrap();
    assert_eq!(n.source, AlertSource::Alertmanager);
    assert_eq!(n.receiver.as_deref(), Some("local-webhook"));
    assert_eq!(
        n.group_key.as_deref(),
        Some("{}:{alertname=\"LambdaErrors\"}")
    );
    assert_eq!(n.status, Some(AlertStatus::Firing));
    assert_eq!(n.group_labels, labels(&[("alertname", "LambdaErrors")]));
    assert_eq!(n.external_url.as_deref(), Some("http://vm:9093"));
    assert_eq!(n.truncated_alerts, 0);
    assert_eq!(n.alerts.len(), 1);
    let a = &n.alerts[0];
    assert_eq!(a.status, AlertStatus::Firing);
    assert_eq!(a.name, "LambdaErrors");
    assert_eq!(a.fingerprint, "fab249b981721bbd");
    assert_eq!(a.key(), "alertmanager:fab249b981721bbd");
    assert_eq!(
        a.labels,
        labels(&[
            ("alertname", "LambdaErrors"),
            ("service", "ingest"),
            ("severity", "page")
        ])
    );
    assert_eq!(a.annotations["summary"], "ingest error rate > 5%");
    assert_eq!(
        a.starts_at.as_deref(),
        Some("2026-11-22T11:42:24.618286801Z")
    );
    assert_eq!(a.ends_at, None, "Go's zero time means not set");
    assert_eq!(a.changed_at, a.starts_at);
    assert_eq!(a.generator_url.as_deref(), Some("http://127.0.0.1/test"));
    // The fingerprint used when one is missing is the one Alertmanager computes.
    assert_eq!(label_fingerprint(&a.labels), a.fingerprint);
}

#[test]
fn alertmanager_grouped_mixed() {
    let n = parse_alertmanager(&fixture("alertmanager-grouped-mixed.json")).unwrap();
    assert_eq!(n.receiver.as_deref(), Some("lbpilot-drain"));
    assert_eq!(n.truncated_alerts, 2);
    let statuses: Vec<AlertStatus> = n.alerts.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [
            AlertStatus::Firing,
            AlertStatus::Firing,
            AlertStatus::Resolved
        ]
    );
    assert_eq!(n.actionable().count(), 3);
    for a in &n.alerts {
        assert_eq!(a.name, "BackendDown");
        assert_eq!(a.fingerprint, label_fingerprint(&a.labels));
    }
    assert_eq!(n.alerts[0].labels["server_id"], "i-bp1f9kdprbgy9uiu1234");
    // The second alert has no fingerprint: Alertmanager's own is computed.
    assert_eq!(n.alerts[1].fingerprint, "33fe6910439fb1ac");
    // Firing: changed at startsAt (endsAt is Alertmanager's future resolve time).
    assert_eq!(
        n.alerts[0].changed_at.as_deref(),
        Some("2026-12-02T06:00:10.104Z")
    );
    assert_eq!(
        n.alerts[0].ends_at.as_deref(),
        Some("2026-12-02T06:09:10.104Z")
    );
    // Resolved: changed at endsAt.
    let r = &n.alerts[2];
    assert_eq!(r.changed_at.as_deref(), Some("2026-12-02T06:05:25.104Z"));
    assert_eq!(r.labels["server_id"], "i-bp1f9kdprbgy9uiu9012");
}

#[test]
fn alertmanager_payload_variants() {
    // No version, empty alerts, nulls for maps: accepted.
    let n = parse_alertmanager(br#"{"alerts":[],"groupLabels":null}"#).unwrap();
    assert!(n.alerts.is_empty());
    let n = parse_alertmanager(
        br#"{"version":"4","alerts":[{"status":"RESOLVED","labels":{"alertname":"x"},"annotations":null}],"futureField":{"a":[1,2]}}"#,
    )
    .unwrap();
    assert_eq!(n.alerts[0].status, AlertStatus::Resolved);
    // A Grafana body (version "1") is not an Alertmanager one.
    let e = parse_alertmanager(&fixture("grafana-docs-example.json")).unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.kind),
        ("version", AlertErrorKind::Invalid)
    );
    assert!(e.to_string().contains("\"4\""), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Grafana

#[test]
fn grafana_documented_example() {
    let n = parse_grafana(&fixture("grafana-docs-example.json")).unwrap();
    assert_eq!(n.source, AlertSource::Grafana);
    assert_eq!(n.receiver.as_deref(), Some("My Super Webhook"));
    assert_eq!(n.org_id, Some(1));
    assert_eq!(n.group_key.as_deref(), Some("{}:{}"));
    assert_eq!(n.external_url.as_deref(), Some("https://play.grafana.org/"));
    assert_eq!(n.alerts.len(), 2);
    let a = &n.alerts[0];
    assert_eq!(a.source, AlertSource::Grafana);
    assert_eq!(a.status, AlertStatus::Firing);
    assert_eq!(a.name, "High memory usage");
    assert_eq!(a.fingerprint, "c6eadffa33fcdf37");
    assert_eq!(
        a.labels,
        labels(&[
            ("alertname", "High memory usage"),
            ("team", "blue"),
            ("zone", "us-1")
        ])
    );
    assert_eq!(
        a.annotations["runbook_url"],
        "https://myrunbook.com/runbook/1234"
    );
    assert_eq!(
        a.starts_at.as_deref(),
        Some("2021-10-12T09:51:03.157076+02:00")
    );
    assert_eq!(a.ends_at, None);
    assert_eq!(a.values["B"], 44.23943737541908);
    assert_eq!(a.values["C"], 1.0);
    assert_eq!(n.alerts[1].name, "High CPU usage");
    assert_eq!(n.alerts[1].fingerprint, "bc97ff14869b13e3");
}

#[test]
fn grafana_grouped_mixed() {
    let n = parse_grafana(&fixture("grafana-grouped-mixed.json")).unwrap();
    assert_eq!(n.org_id, Some(3));
    assert_eq!(n.truncated_alerts, 1);
    let (firing, resolved) = (&n.alerts[0], &n.alerts[1]);
    assert_eq!(firing.status, AlertStatus::Firing);
    assert_eq!(firing.labels["instance"], "i-bp1f9kdprbgy9uiu1234");
    assert_eq!(firing.values.len(), 2);
    assert_eq!(resolved.status, AlertStatus::Resolved);
    assert!(resolved.values.is_empty(), "values: null");
    assert_eq!(resolved.changed_at.as_deref(), Some("2026-12-02T06:00:10Z"));
    // Grafana's Alertmanager-compatible webhook sends version "4": accepted.
    let n = parse_grafana(&fixture("alertmanager-0.25-real.json")).unwrap();
    assert_eq!(n.source, AlertSource::Grafana);
    assert_eq!(n.alerts[0].source, AlertSource::Grafana);
    assert!(parse_grafana(br#"{"version":"2","alerts":[]}"#).is_err());
}

// ---------------------------------------------------------------------------------------------
// CloudWatch via SNS

#[test]
fn cloudwatch_single_metric_alarm() {
    let messages = sns_messages("cloudwatch-sns-single-metric.json");
    let n = parse_cloudwatch_sns(&messages[0]).unwrap();
    assert_eq!(n.source, AlertSource::CloudWatch);
    assert_eq!(n.status, Some(AlertStatus::Firing));
    let a = &n.alerts[0];
    assert_eq!(a.status, AlertStatus::Firing);
    assert_eq!(a.name, "EXAMPLE");
    assert_eq!(
        a.fingerprint,
        "arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:EXAMPLE"
    );
    assert_eq!(
        a.labels,
        labels(&[
            ("InstanceId", "TestInstance"),
            ("account", "123456789012"),
            ("alertname", "EXAMPLE"),
            ("metric", "NetworkOut"),
            ("namespace", "AWS/EC2"),
            ("region", "EXAMPLE"),
            ("region_code", "REGION"),
        ])
    );
    assert_eq!(a.annotations["description"], "EXAMPLE");
    assert_eq!(a.annotations["state"], "ALARM");
    assert_eq!(a.annotations["previous_state"], "INSUFFICIENT_DATA");
    assert!(a.annotations["reason"].starts_with("Threshold Crossed"));
    assert_eq!(a.changed_at.as_deref(), Some("2015-06-03T17:43:27.123Z"));
    assert_eq!(a.starts_at, a.changed_at);
    assert_eq!(a.ends_at, None);
}

#[test]
fn cloudwatch_metric_math_alarm() {
    let messages = sns_messages("cloudwatch-sns-metric-math.json");
    assert_eq!(messages.len(), 2);
    for m in &messages {
        let a = &parse_cloudwatch_sns(m).unwrap().alerts[0];
        assert_eq!(a.status, AlertStatus::Firing);
        assert_eq!(a.labels["InstanceId"], "TestInstance");
        assert_eq!(a.labels["metric"], "NetworkOut");
        assert_eq!(a.labels["namespace"], "AWS/EC2");
        assert_eq!(a.labels["account"], "EXAMPLE");
        assert_eq!(a.annotations["expression"], "m1*1");
    }
}

#[test]
fn cloudwatch_null_description_real_message() {
    let n = parse_cloudwatch_sns(&text("cloudwatch-message-null-description.json")).unwrap();
    let a = &n.alerts[0];
    assert_eq!(a.status, AlertStatus::Resolved);
    assert!(!a.annotations.contains_key("description"));
    assert_eq!(a.labels["QueueName"], "fault-handling-test");
    assert_eq!(a.labels["region"], "US - N. Virginia");
    assert_eq!(a.labels["namespace"], "AWS/SQS");
    assert!(
        !a.labels.contains_key("region_code"),
        "no ARN to read it from"
    );
    // No AlarmArn (a 2012 message): account, region and name identify the alarm.
    assert_eq!(
        a.fingerprint,
        "cloudwatch:663000815183:US - N. Virginia:alarm-test"
    );
    assert_eq!(a.ends_at.as_deref(), Some("2012-03-23T00:01:43.726Z"));
    assert_eq!(a.starts_at, None);
}

#[test]
fn cloudwatch_insufficient_data_is_unknown() {
    let n = parse_cloudwatch_sns(&text("cloudwatch-message-insufficient-data.json")).unwrap();
    let a = &n.alerts[0];
    assert_eq!(a.status, AlertStatus::Unknown);
    assert!(!a.status.is_actionable());
    assert_eq!(n.actionable().count(), 0);
    assert_eq!(a.labels["region"], "US East (N. Virginia)");
    assert_eq!(a.labels["region_code"], "us-east-1");
    assert_eq!(a.labels["LoadBalancer"], "app/web/50dc6c495c0c9188");
    assert_eq!(a.labels["TargetGroup"], "targetgroup/web/73e2d6bc24d8a067");
    assert_eq!(a.labels["namespace"], "AWS/ApplicationELB");
    assert_eq!(
        a.fingerprint,
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:alb-unhealthy-web"
    );
    assert_eq!(a.changed_at.as_deref(), Some("2026-12-02T06:03:11.472Z"));
    assert_eq!((a.starts_at.as_ref(), a.ends_at.as_ref()), (None, None));
}

#[test]
fn cloudwatch_is_lenient_but_needs_the_alarm_name() {
    let n = parse_cloudwatch_sns(
        r#"{"AlarmName":"a","AlarmDescription":null,"NewStateValue":null,"Trigger":null,"Region":null,"New":1}"#,
    )
    .unwrap();
    assert_eq!(n.alerts[0].status, AlertStatus::Unknown);
    assert_eq!(n.alerts[0].labels, labels(&[("alertname", "a")]));
    let n = parse_cloudwatch_sns(
        r#"{"AlarmName":"a","NewStateValue":"ALARM","Trigger":{"Dimensions":[{"Name":"InstanceId","Value":"i-1"}],"Metrics":null}}"#,
    )
    .unwrap();
    assert_eq!(n.alerts[0].labels["InstanceId"], "i-1");
    // A composite alarm: no Trigger, an AlarmRule.
    let n = parse_cloudwatch_sns(
        r#"{"AlarmName":"c","NewStateValue":"OK","AlarmRule":"ALARM(a) OR ALARM(b)","AlarmArn":"arn:aws:cloudwatch:eu-west-1:1:alarm:c"}"#,
    )
    .unwrap();
    assert_eq!(
        n.alerts[0].annotations["alarm_rule"],
        "ALARM(a) OR ALARM(b)"
    );
    assert_eq!(n.alerts[0].labels["region_code"], "eu-west-1");

    for (message, field) in [
        (r#"{"AlarmDescription":"x"}"#, "AlarmName"),
        (r#"{"AlarmName":""}"#, "AlarmName"),
        (r#"{"AlarmName":5}"#, "AlarmName"),
        (
            r#"{"AlarmName":"a","Trigger":{"Dimensions":[{"value":"v"}]}}"#,
            "Trigger.Dimensions[0].name",
        ),
        ("Hello\r\nworld!", "Message"),
        ("[]", "."),
    ] {
        let e = parse_cloudwatch_sns(message).unwrap_err();
        assert_eq!(e.origin, AlertSource::CloudWatch);
        if field != "." {
            assert_eq!(e.field, field, "{message}: {e}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CloudMonitor

#[test]
fn cloudmonitor_documented_form_callback() {
    let n = parse_cloudmonitor(&fixture("cloudmonitor-docs-form.txt")).unwrap();
    assert_eq!(n.source, AlertSource::CloudMonitor);
    let a = &n.alerts[0];
    assert_eq!(a.status, AlertStatus::Firing);
    assert_eq!(a.name, "Basic monitoring-ECS-memory usage");
    assert_eq!(
        a.labels,
        labels(&[
            ("alertname", "Basic monitoring-ECS-memory usage"),
            ("instanceId", "i-12****"),
            ("instanceName", "instance-name-****"),
            ("metricName", "Host.mem.usedutilization"),
            ("metricProject", "acs_ecs"),
            (
                "ruleId",
                "applyTemplateee147e59-664f-4033-a1be-e9595746****"
            ),
            // The dimension reads `12****)` (the document's typo); the field overrides it.
            ("userId", "12****"),
        ])
    );
    assert_eq!(a.annotations["expression"], "$Average>=95");
    assert_eq!(a.annotations["triggerLevel"], "WARN");
    assert_eq!(a.annotations["curValue"], "97.39");
    assert!(!a.annotations.contains_key("signature"));
    assert_eq!(a.values["curValue"], 97.39);
    assert_eq!(a.changed_at.as_deref(), Some("2017-10-16T06:52:40Z"));
    assert_eq!(a.starts_at, a.changed_at);
    assert!(a.fingerprint.starts_with("cms:") && a.fingerprint.len() == 36);
}

#[test]
fn cloudmonitor_json_array_dimensions_in_a_form() {
    let n = parse_cloudmonitor(&fixture("cloudmonitor-form-json-dimensions.txt")).unwrap();
    let a = &n.alerts[0];
    assert_eq!(a.status, AlertStatus::Resolved);
    assert_eq!(a.labels["instanceId"], "lb-bp1rbwvouuyipbc1234");
    assert_eq!(a.labels["port"], "80");
    assert_eq!(a.labels["vip"], "47.96.1.10");
    assert_eq!(a.labels["metricProject"], "acs_slb_dashboard");
    assert_eq!(
        a.annotations["expression"],
        r#"[{"expression":"$Maximum>0","level":3,"times":2}]"#
    );
    assert_eq!(a.ends_at.as_deref(), Some("2025-12-02T06:03:11Z"));
}

#[test]
fn cloudmonitor_legacy_json_body() {
    let n = parse_cloudmonitor(&fixture("cloudmonitor-legacy-docs.json")).unwrap();
    let a = &n.alerts[0];
    assert_eq!(
        a.status,
        AlertStatus::Firing,
        "ALARM, as the older sample shows"
    );
    assert_eq!(
        a.name,
        "putNewAlarm_group_a37cd898-ea6b-4b7b-a8a8-de017a8327f6"
    );
    assert_eq!(a.labels["instanceId"], "i-12345");
    assert_eq!(a.labels["userId"], "12345");
    assert_eq!(a.labels["metricName"], "CPUUtilization");
    assert_eq!(a.values["curValue"], 95.0);
}

#[test]
fn cloudmonitor_fingerprint_is_stable_across_states_and_forms() {
    let firing = parse_cloudmonitor(
        b"alertName=cpu&alertState=ALERT&dimensions=%7BuserId%3D1%2C+instanceId%3Di-1%7D&curValue=99",
    )
    .unwrap();
    let resolved = parse_cloudmonitor(
        br#"alertName=cpu&alertState=OK&dimensions=[{"instanceId":"i-1","userId":"1"}]&curValue=3"#,
    )
    .unwrap();
    let other =
        parse_cloudmonitor(b"alertName=cpu&alertState=OK&dimensions={userId=1, instanceId=i-2}")
            .unwrap();
    assert_eq!(firing.alerts[0].fingerprint, resolved.alerts[0].fingerprint);
    assert_ne!(firing.alerts[0].fingerprint, other.alerts[0].fingerprint);
    assert_eq!(firing.alerts[0].labels["instanceId"], "i-1");
}

#[test]
fn cloudmonitor_states_and_refusals() {
    let unknown = parse_cloudmonitor(b"alertName=a&alertState=INSUFFICIENT_DATA").unwrap();
    assert_eq!(unknown.alerts[0].status, AlertStatus::Unknown);
    for (body, field) in [
        (&b"alertState=ALERT"[..], "alertName"),
        (b"alertName=a", "alertState"),
        (b"alertName=a&alertState=PANIC", "alertState"),
        (b"alertName=a&alertState=OK&alertState=ALERT", "alertState"),
        (b"alertName=a&alertState=OK&dimensions={junk}", "dimensions"),
        (
            b"alertName=a&alertState=OK&dimensions=[{\"a\":[1]}]",
            "dimensions",
        ),
        (b"alertName=a&alertState=OK&dimensions={=v}", "dimensions"),
        (b"alertName=%FF&alertState=OK", "alertName"),
        (b"{\"alertName\":\"a\"", "body"),
        (b"{\"alertName\":\"a\"}", "alertState"),
    ] {
        let e = parse_cloudmonitor(body).unwrap_err();
        assert_eq!(e.field, field, "{}: {e}", String::from_utf8_lossy(body));
    }
    let e = parse_cloudmonitor(b"alertName=%FF&alertState=OK").unwrap_err();
    assert_eq!(e.kind, AlertErrorKind::InvalidUtf8);
}

// ---------------------------------------------------------------------------------------------
// Malformed input: errors, never panics

fn am_alert_with(label_json: &str) -> Vec<u8> {
    format!(r#"{{"version":"4","alerts":[{{"status":"firing","labels":{label_json}}}]}}"#)
        .into_bytes()
}

#[test]
fn wrong_types_name_the_field() {
    for (body, field) in [
        (&br#"{"alerts":{}}"#[..], "alerts"),
        (br#"{"alerts":[{"status":5}]}"#, "alerts[0].status"),
        (
            br#"{"alerts":[{"status":"firing","labels":[]}]}"#,
            "alerts[0].labels",
        ),
        (
            br#"{"alerts":[{"status":"firing","labels":{"a":1}}]}"#,
            "alerts[0].labels.a",
        ),
        (
            br#"{"alerts":[{"status":"firing","labels":{"a":null}}]}"#,
            "alerts[0].labels.a",
        ),
        (br#"{"alerts":[{"status":"pending"}]}"#, "alerts[0].status"),
        (br#"{"alerts":[{"labels":{}}]}"#, "alerts[0].status"),
        (br#"{"alerts":[],"truncatedAlerts":-1}"#, "truncatedAlerts"),
        (br#"{"alerts":[],"truncatedAlerts":"2"}"#, "truncatedAlerts"),
        (br#"{"alerts":[],"status":"maybe"}"#, "status"),
        (br#"{"receiver":"x"}"#, "alerts"),
        (br#"{"alerts":null}"#, "alerts"),
        (br#"[]"#, "body"),
        (br#""firing""#, "body"),
    ] {
        let e = parse_alertmanager(body).unwrap_err();
        assert_eq!(e.field, field, "{}: {e}", String::from_utf8_lossy(body));
    }
    let e =
        parse_grafana(br#"{"alerts":[{"status":"firing","values":{"B":"high"}}]}"#).unwrap_err();
    assert_eq!(e.field, "alerts[0].values.B");
    assert_eq!(e.kind, AlertErrorKind::Invalid);
}

#[test]
fn truncated_json_is_a_syntax_error() {
    for name in ["alertmanager-0.25-real.json", "grafana-docs-example.json"] {
        let body = fixture(name);
        let half = &body[..body.len() / 2];
        for (_, parse) in &PARSERS[..2] {
            let e = parse(half).unwrap_err();
            assert_eq!(e.kind, AlertErrorKind::Syntax, "{e}");
            assert!(e.problem.starts_with("truncated JSON"), "{e}");
        }
    }
    let message = text("cloudwatch-message-insufficient-data.json");
    let e = parse_cloudwatch_sns(&message[..100]).unwrap_err();
    assert_eq!(e.kind, AlertErrorKind::Syntax);
    let e = parse_alertmanager(b"{\"alerts\":[]} trailing").unwrap_err();
    assert_eq!(e.kind, AlertErrorKind::Syntax);
    let e = parse_alertmanager(b"").unwrap_err();
    assert_eq!(e.kind, AlertErrorKind::Syntax);
}

#[test]
fn invalid_utf8_is_an_error() {
    let mut body = fixture("alertmanager-0.25-real.json");
    let at = body.len() / 2;
    body[at] = 0xff;
    for (name, parse) in PARSERS {
        let e = parse(&body).unwrap_err();
        assert_eq!(e.kind, AlertErrorKind::InvalidUtf8, "{name}: {e}");
        assert_eq!(e.field, "body");
        assert!(e.problem.contains(&at.to_string()), "{e}");
    }
    let e = parse_cloudmonitor(b"alertName=a&alertState=OK&x=\xc3\x28").unwrap_err();
    assert_eq!(e.kind, AlertErrorKind::InvalidUtf8);
}

#[test]
fn oversized_bodies_are_refused_before_parsing() {
    // Not even JSON: refused for its size alone.
    let body = vec![b' '; MAX_BODY_BYTES + 1];
    for (name, parse) in PARSERS {
        let e = parse(&body).unwrap_err();
        assert_eq!(e.kind, AlertErrorKind::TooLarge, "{name}: {e}");
    }
    // At the limit, a valid body passes.
    let mut body = br#"{"alerts":[]}"#.to_vec();
    body.resize(MAX_BODY_BYTES, b' ');
    assert!(parse_alertmanager(&body).is_ok());
}

#[test]
fn too_many_alerts_are_refused() {
    let alert = r#"{"status":"firing","labels":{"alertname":"x"}}"#;
    let body = |n: usize| format!(r#"{{"alerts":[{}]}}"#, vec![alert; n].join(",")).into_bytes();
    assert_eq!(
        parse_alertmanager(&body(MAX_ALERTS)).unwrap().alerts.len(),
        MAX_ALERTS
    );
    for parse in [parse_alertmanager, parse_grafana] {
        let e = parse(&body(MAX_ALERTS + 1)).unwrap_err();
        assert_eq!(e.kind, AlertErrorKind::TooManyAlerts);
        assert_eq!(e.field, "alerts");
        assert!(e.problem.starts_with("1001 alerts"), "{e}");
    }
    // A body of nearly 1 MiB of empty alerts is counted, not held in memory, and refused.
    let many = format!(r#"{{"alerts":[{}]}}"#, vec!["{}"; 340_000].join(","));
    assert!(many.len() <= MAX_BODY_BYTES);
    let e = parse_alertmanager(many.as_bytes()).unwrap_err();
    assert_eq!(e.kind, AlertErrorKind::TooManyAlerts);
    assert!(e.problem.starts_with("340000 alerts"), "{e}");
    // Past the limit, alerts are not validated (the notification is refused as a whole).
    let e = parse_alertmanager(
        format!(
            r#"{{"alerts":[{},{{"status":5}}]}}"#,
            vec![alert; MAX_ALERTS].join(",")
        )
        .as_bytes(),
    )
    .unwrap_err();
    assert_eq!(e.kind, AlertErrorKind::TooManyAlerts);
    // CloudMonitor: a form of thousands of fields.
    let form: String = (0..2000).fold("alertName=a&alertState=OK".to_string(), |f, i| {
        f + &format!("&f{i}=1")
    });
    let e = parse_cloudmonitor(form.as_bytes()).unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.kind),
        ("body", AlertErrorKind::Invalid)
    );
}

#[test]
fn deeply_nested_json_is_an_error() {
    let deep = |open: &str, close: &str, n: usize| {
        format!(
            r#"{{"alerts":[{{"status":"firing","extra":{}1{}}}]}}"#,
            open.repeat(n),
            close.repeat(n)
        )
    };
    for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
        let body = deep(open, close, 100_000);
        for (name, parse) in PARSERS {
            let e = parse(body.as_bytes()).unwrap_err();
            assert_ne!(e.kind, AlertErrorKind::TooLarge, "{name}");
        }
        let e = parse_alertmanager(body.as_bytes()).unwrap_err();
        assert_eq!(e.kind, AlertErrorKind::Syntax, "{e}");
        assert!(e.problem.contains("nested more than 64 levels"), "{e}");
        // Shallow unknown nesting is fine.
        assert!(parse_alertmanager(deep(open, close, 20).as_bytes()).is_ok());
    }
    let body = format!(
        "alertName=a&alertState=OK&dimensions={}",
        "[".repeat(100_000)
    );
    assert!(parse_cloudmonitor(body.as_bytes()).is_err());
    let message = format!(r#"{{"AlarmName":"a","Trigger":{}}}"#, "[".repeat(100_000));
    assert!(parse_cloudwatch_sns(&message).is_err());
}

#[test]
fn label_limits() {
    let long = "v".repeat(MAX_LABEL_CHARS);
    assert!(parse_alertmanager(&am_alert_with(&format!(r#"{{"a":"{long}"}}"#))).is_ok());
    // Characters, not bytes: 1024 two-byte characters pass.
    let wide = "é".repeat(MAX_LABEL_CHARS);
    assert!(parse_alertmanager(&am_alert_with(&format!(r#"{{"a":"{wide}"}}"#))).is_ok());
    for labels_json in [
        format!(r#"{{"a":"{long}v"}}"#),
        format!(r#"{{"{long}n":"v"}}"#),
        r#"{"":"v"}"#.to_string(),
        r#"{"a\u0007b":"v"}"#.to_string(),
        r#"{"a\nb":"v"}"#.to_string(),
    ] {
        let e = parse_alertmanager(&am_alert_with(&labels_json)).unwrap_err();
        assert_eq!(
            e.field.split('.').take(2).collect::<Vec<_>>(),
            ["alerts[0]", "labels"],
            "{e}"
        );
        assert_eq!(e.kind, AlertErrorKind::Invalid);
    }
    // Control characters are fine in values, not in names; annotations follow the name rule.
    assert!(parse_alertmanager(&am_alert_with(r#"{"a":"x\ny"}"#)).is_ok());
    let e = parse_grafana(br#"{"alerts":[{"status":"firing","annotations":{"\u0000":"x"}}]}"#)
        .unwrap_err();
    assert_eq!(e.field, "alerts[0].annotations");
    let e = parse_alertmanager(br#"{"alerts":[],"groupLabels":{"":"x"}}"#).unwrap_err();
    assert_eq!(e.field, "groupLabels");
    // CloudWatch dimensions and CloudMonitor dimensions are labels too.
    let message = format!(
        r#"{{"AlarmName":"a","Trigger":{{"Dimensions":[{{"name":"InstanceId","value":"{long}x"}}]}}}}"#
    );
    assert!(parse_cloudwatch_sns(&message).is_err());
    let body = format!("alertName=a&alertState=OK&dimensions={{k={long}x}}");
    assert!(parse_cloudmonitor(body.as_bytes()).is_err());
}

/// Every fixture cut at every byte, and with every byte replaced: each parser answers.
#[test]
fn no_input_panics() {
    for name in FIXTURES {
        let body = fixture(name);
        for cut in 0..=body.len() {
            for (_, parse) in PARSERS {
                let _ = parse(&body[..cut]);
            }
        }
        for at in (0..body.len()).step_by(5) {
            for replacement in [b'"', b'{', 0x00, 0xc3, b'&'] {
                let mut changed = body.clone();
                changed[at] = replacement;
                for (_, parse) in PARSERS {
                    let _ = parse(&changed);
                }
            }
        }
    }
    // Pseudo-random bytes and pseudo-random JSON-ish token soup.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let tokens: [&[u8]; 16] = [
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"\"alerts\"",
        b"\"status\"",
        b"\"firing\"",
        b"\"labels\"",
        b"null",
        b"1e999",
        b"-0",
        b"\"\\u0000\"",
        b"=",
        b"&",
    ];
    for _ in 0..5000 {
        let len = (next() % 200) as usize;
        let bytes: Vec<u8> = if next() % 2 == 0 {
            (0..len).map(|_| next() as u8).collect()
        } else {
            (0..len)
                .flat_map(|_| tokens[(next() % 16) as usize].iter().copied())
                .collect()
        };
        for (_, parse) in PARSERS {
            let _ = parse(&bytes);
        }
    }
}

#[test]
fn alert_errors_do_not_repeat_input_values() {
    const PLANTED: &str = "s3cr3t-planted-value";
    let bodies = [
        format!(r#"{{"alerts":[{{"status":"{PLANTED}"}}]}}"#),
        format!(r#"{{"alerts":[{{"status":"firing","labels":{{"a":["{PLANTED}"]}}}}]}}"#),
        format!(r#"{{"alerts":[],"truncatedAlerts":"{PLANTED}"}}"#),
        format!(r#"{{"version":"{PLANTED}","alerts":[]}}"#),
        format!(r#"{{"alerts":[{{"status":"firing","values":{{"B":"{PLANTED}"}}}}]}}"#),
        format!(r#"{{"AlarmName":["{PLANTED}"]}}"#),
        format!("alertName=a&alertState={PLANTED}"),
        format!("alertName=a&alertState=OK&dimensions={{{PLANTED}}}"),
        format!(r#"{{"alertName":"a","alertState":"{PLANTED}"}}"#),
        format!(r#"{{"alerts":[{{"status":"firing","labels":{{"a":"{PLANTED}"}}}}"#),
    ];
    let mut errors = 0;
    for body in &bodies {
        for (name, parse) in PARSERS {
            if let Err(e) = parse(body.as_bytes()) {
                errors += 1;
                let shown = format!("{e} {e:?}");
                assert!(!shown.contains(PLANTED), "{name}: {shown}");
            }
        }
    }
    assert!(errors >= bodies.len(), "every body fails somewhere");
}

// ---------------------------------------------------------------------------------------------
// Authentication

const TOKEN: &str = "am-token-9f8e7d6c5b4a";
const USER: &str = "alertmanager";
const PASSWORD: &str = "Pa55:word-with-colon";
const HMAC_SECRET: &str = "test-hmac-secret";
const URL_TOKEN: &str = "cms-callback-3a2b1c0d";

/// Every error collected by the auth tests, checked at the end for secrets.
fn assert_no_secret(errors: &[AuthError], presented: &[&str]) {
    for e in errors {
        let shown = format!("{e} {e:?}");
        for secret in [TOKEN, USER, PASSWORD, HMAC_SECRET, URL_TOKEN]
            .iter()
            .chain(presented)
        {
            assert!(!shown.contains(secret), "{shown} contains {secret}");
        }
    }
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[test]
fn alertmanager_bearer() {
    let accepted = [Credentials::bearer(TOKEN)];
    let check = |headers: &[(&str, &str)]| verify_alertmanager(&accepted, headers);
    let good = format!("Bearer {TOKEN}");
    assert_eq!(check(&[("Authorization", &good)]), Ok(()));
    assert_eq!(
        check(&[("authorization", &good)]),
        Ok(()),
        "header names ignore case"
    );
    assert_eq!(check(&[("AUTHORIZATION", &good)]), Ok(()));
    assert_eq!(
        check(&[("Authorization", &format!("bearer {TOKEN}"))]),
        Ok(()),
        "RFC 7235"
    );
    assert_eq!(
        check(&[("Authorization", &format!("BEARER  {TOKEN} "))]),
        Ok(())
    );
    assert_eq!(
        check(&[
            ("Content-Type", "application/json"),
            ("Authorization", &good)
        ]),
        Ok(())
    );

    let wrong_case = format!("Bearer {}", TOKEN.to_uppercase());
    let truncated = format!("Bearer {}", &TOKEN[..TOKEN.len() - 1]);
    let longer = format!("Bearer {TOKEN}x");
    let basic_token = basic(USER, TOKEN);
    let other_scheme = format!("Token {TOKEN}");
    let cases: Vec<(Vec<(&str, &str)>, AuthError)> = vec![
        (vec![], AuthError::Missing("header Authorization".into())),
        (
            vec![("X-Authorization", good.as_str())],
            AuthError::Missing("header Authorization".into()),
        ),
        (
            vec![("Authorization", "Bearer wrong")],
            AuthError::Mismatch("Bearer credentials".into()),
        ),
        (
            vec![("Authorization", &wrong_case)],
            AuthError::Mismatch("Bearer credentials".into()),
        ),
        (
            vec![("Authorization", &truncated)],
            AuthError::Mismatch("Bearer credentials".into()),
        ),
        (
            vec![("Authorization", &longer)],
            AuthError::Mismatch("Bearer credentials".into()),
        ),
        (
            vec![("Authorization", &good), ("authorization", &good)],
            AuthError::Duplicate("header Authorization".into()),
        ),
        (
            vec![("Authorization", TOKEN)],
            AuthError::Malformed {
                what: "header Authorization".into(),
                problem: "not `<scheme> <credentials>`",
            },
        ),
        (
            vec![("Authorization", "Bearer ")],
            AuthError::Malformed {
                what: "header Authorization".into(),
                problem: "not `<scheme> <credentials>`",
            },
        ),
        (
            vec![("Authorization", &basic_token)],
            AuthError::SchemeNotAccepted {
                accepted: "Bearer".into(),
            },
        ),
        (
            vec![("Authorization", &other_scheme)],
            AuthError::SchemeNotAccepted {
                accepted: "Bearer".into(),
            },
        ),
    ];
    let mut errors = Vec::new();
    for (headers, expected) in cases {
        let e = check(&headers).unwrap_err();
        assert_eq!(e, expected, "{headers:?}");
        assert_eq!(e.status_code(), 401);
        errors.push(e);
    }
    assert_no_secret(&errors, &[&wrong_case[7..], &truncated[7..], &longer[7..]]);
}

#[test]
fn alertmanager_basic() {
    let accepted = [Credentials::basic(USER, PASSWORD)];
    let check = |value: &str| verify_alertmanager(&accepted, &[("Authorization", value)]);
    assert_eq!(check(&basic(USER, PASSWORD)), Ok(()));
    assert_eq!(
        check(&basic(USER, PASSWORD).replace("Basic", "basic")),
        Ok(())
    );
    assert_eq!(
        check(&basic(USER, PASSWORD).replace("Basic", "BASIC")),
        Ok(())
    );
    let short = [Credentials::basic("u", "pw")];
    let unpadded = basic("u", "pw").trim_end_matches('=').to_string();
    assert_eq!(unpadded, "Basic dTpwdw");
    assert_eq!(
        verify_alertmanager(&short, &[("Authorization", unpadded)]),
        Ok(())
    );

    let mismatch = AuthError::Mismatch("Basic credentials".into());
    let not_base64 = AuthError::Malformed {
        what: "header Authorization".into(),
        problem: "Basic credentials are not base64",
    };
    let full = basic(USER, PASSWORD);
    let mut errors = Vec::new();
    for (value, expected) in [
        (basic(USER, "wrong"), mismatch.clone()),
        (basic("someone", PASSWORD), mismatch.clone()),
        (basic(USER, &PASSWORD.to_uppercase()), mismatch.clone()),
        (basic(&USER.to_uppercase(), PASSWORD), mismatch.clone()),
        (
            basic(USER, &PASSWORD[..PASSWORD.len() - 1]),
            mismatch.clone(),
        ),
        (basic(USER, ""), mismatch.clone()),
        (full[..full.len() - 3].to_string(), not_base64.clone()),
        ("Basic not*base64".to_string(), not_base64.clone()),
        (
            "Basic YWJj".to_string(),
            AuthError::Malformed {
                what: "header Authorization".into(),
                problem: "Basic credentials are not `user:password`",
            },
        ),
        (
            format!("Bearer {PASSWORD}"),
            AuthError::SchemeNotAccepted {
                accepted: "Basic".into(),
            },
        ),
    ] {
        let e = check(&value).unwrap_err();
        assert_eq!(e, expected, "{value}");
        errors.push(e);
    }
    assert_no_secret(&errors, &[]);
}

#[test]
fn several_accepted_credentials_and_nothing_configured() {
    // Rotation: the old and the new token, and Basic, all accepted at once.
    let accepted = [
        Credentials::bearer("old-token"),
        Credentials::bearer("new-token"),
        Credentials::basic(USER, PASSWORD),
        Credentials::token("Token", TOKEN),
    ];
    for value in [
        "Bearer old-token".to_string(),
        "Bearer new-token".to_string(),
        basic(USER, PASSWORD),
        format!("token {TOKEN}"),
    ] {
        assert_eq!(
            verify_alertmanager(&accepted, &[("Authorization", value)]),
            Ok(())
        );
    }
    let e = verify_alertmanager(&accepted, &[("Authorization", "Digest abc")]).unwrap_err();
    assert_eq!(
        e,
        AuthError::SchemeNotAccepted {
            accepted: "Basic, Bearer, Token".into()
        }
    );

    // Nothing configured (or only empty secrets): every request is refused.
    let good = [("Authorization", format!("Bearer {TOKEN}"))];
    for accepted in [
        vec![],
        vec![Credentials::bearer("")],
        vec![Credentials::basic(USER, "")],
    ] {
        let e = verify_alertmanager(&accepted, &good).unwrap_err();
        assert_eq!(e, AuthError::NotConfigured);
        assert_eq!(e.status_code(), 500);
    }
    // Other header collections.
    let map: BTreeMap<String, String> =
        [("authorization".to_string(), format!("Bearer {TOKEN}"))].into();
    assert_eq!(
        verify_alertmanager(&[Credentials::bearer(TOKEN)], &map),
        Ok(())
    );
    let hash: std::collections::HashMap<String, String> = map.into_iter().collect();
    assert_eq!(
        verify_alertmanager(&[Credentials::bearer(TOKEN)], &hash),
        Ok(())
    );
}

fn hmac_hex(secret: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

const NOW: u64 = 1_700_000_000;

#[test]
fn grafana_hmac_over_the_body() {
    let body = fixture("grafana-docs-example.json");
    // The same signature Python's hmac module gives for this secret and body.
    let signature = "18c6889a40f80cdfce39b1c37b4e8fa9b94921a97ac281c57dc46920bc336697";
    assert_eq!(hmac_hex(HMAC_SECRET, &body), signature);
    let auth = GrafanaAuth {
        hmac: Some(GrafanaHmac::new(HMAC_SECRET)),
        authorization: vec![],
    };
    let check =
        |headers: &[(&str, &str)], body: &[u8]| verify_grafana(&auth, headers, body, at(NOW));
    assert_eq!(
        check(&[("X-Grafana-Alerting-Signature", signature)], &body),
        Ok(())
    );
    assert_eq!(
        check(&[("x-grafana-alerting-signature", signature)], &body),
        Ok(())
    );
    // What grafana/alerting's HMACRoundTripper sends when no header is configured.
    assert_eq!(
        check(&[("X-Grafana-Alert-Signature", signature)], &body),
        Ok(())
    );
    // Hex digits in either case are the same signature.
    assert_eq!(
        check(
            &[("X-Grafana-Alerting-Signature", &signature.to_uppercase())],
            &body
        ),
        Ok(())
    );

    let other = hmac_hex("another-secret", &body);
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    let sig = "X-Grafana-Alerting-Signature";
    let malformed = AuthError::Malformed {
        what: format!("header {sig}"),
        problem: "not 64 hex digits (HMAC-SHA256)",
    };
    let mut errors = Vec::new();
    for (headers, body, expected) in [
        (vec![], &body, AuthError::Missing(format!("header {sig}"))),
        (
            vec![(sig, other.as_str())],
            &body,
            AuthError::Mismatch("signature".into()),
        ),
        (
            vec![(sig, signature)],
            &tampered,
            AuthError::Mismatch("signature".into()),
        ),
        (
            vec![(sig, signature)],
            &body[..body.len() - 1].to_vec(),
            AuthError::Mismatch("signature".into()),
        ),
        (vec![(sig, &signature[..63])], &body, malformed.clone()),
        (vec![(sig, &signature[..62])], &body, malformed.clone()),
        (vec![(sig, "sha256=18c6889a")], &body, malformed.clone()),
        (vec![(sig, "")], &body, malformed.clone()),
        (
            vec![(sig, signature), (sig, signature)],
            &body,
            AuthError::Duplicate(format!("header {sig}")),
        ),
        (
            vec![(sig, signature), ("X-Grafana-Alert-Signature", signature)],
            &body,
            AuthError::Duplicate(
                "signature (X-Grafana-Alerting-Signature and X-Grafana-Alert-Signature)".into(),
            ),
        ),
    ] {
        let e = check(&headers, body).unwrap_err();
        assert_eq!(e, expected, "{headers:?}");
        errors.push(e);
    }
    assert_no_secret(&errors, &[signature, &other]);

    // A configured header is the only one read.
    let custom = GrafanaAuth {
        hmac: Some(GrafanaHmac::new(HMAC_SECRET).with_header("X-Signature")),
        authorization: vec![],
    };
    assert_eq!(
        verify_grafana(&custom, &[("x-signature", signature)], &body, at(NOW)),
        Ok(())
    );
    assert_eq!(
        verify_grafana(&custom, &[(sig, signature)], &body, at(NOW)),
        Err(AuthError::Missing("header X-Signature".into()))
    );
}

#[test]
fn grafana_hmac_with_timestamp_and_replay_window() {
    let body = fixture("grafana-docs-example.json");
    let ts = NOW.to_string();
    let signature = "bdf3329b86a077697b2331e47c380ac9fa08d89cbdc73cd75212beb3b01c1918";
    let mut signed = format!("{ts}:").into_bytes();
    signed.extend_from_slice(&body);
    assert_eq!(hmac_hex(HMAC_SECRET, &signed), signature);
    let auth = GrafanaAuth {
        hmac: Some(
            GrafanaHmac::new(HMAC_SECRET).with_timestamp_header("X-Grafana-Alerting-Timestamp"),
        ),
        authorization: vec![],
    };
    let sig = "X-Grafana-Alerting-Signature";
    let tsh = "X-Grafana-Alerting-Timestamp";
    let headers = [(sig, signature), (tsh, ts.as_str())];
    let check = |headers: &[(&str, &str)], now: u64| verify_grafana(&auth, headers, &body, at(now));
    assert_eq!(check(&headers, NOW), Ok(()));
    assert_eq!(
        check(
            &[(sig, signature), ("x-grafana-alerting-timestamp", &ts)],
            NOW
        ),
        Ok(())
    );
    // Within the default 5 minutes either way, the boundary included.
    assert_eq!(check(&headers, NOW + 300), Ok(()));
    assert_eq!(check(&headers, NOW - 300), Ok(()));

    let body_only = hmac_hex(HMAC_SECRET, &body);
    let later = (NOW + 60).to_string();
    let mut errors = Vec::new();
    for (headers, now, expected) in [
        // Replayed 301 s later, or sent from a clock 301 s ahead.
        (
            headers.to_vec(),
            NOW + 301,
            AuthError::Expired {
                age_secs: 301,
                window_secs: 300,
            },
        ),
        (
            headers.to_vec(),
            NOW + 86_400,
            AuthError::Expired {
                age_secs: 86_400,
                window_secs: 300,
            },
        ),
        (
            headers.to_vec(),
            NOW - 301,
            AuthError::Expired {
                age_secs: -301,
                window_secs: 300,
            },
        ),
        (
            vec![(sig, signature)],
            NOW,
            AuthError::Missing(format!("header {tsh}")),
        ),
        (
            vec![(tsh, ts.as_str())],
            NOW,
            AuthError::Missing(format!("header {sig}")),
        ),
        // A signature over the body alone, or a timestamp moved: refused.
        (
            vec![(sig, body_only.as_str()), (tsh, ts.as_str())],
            NOW,
            AuthError::Mismatch("signature".into()),
        ),
        (
            vec![(sig, signature), (tsh, later.as_str())],
            NOW,
            AuthError::Mismatch("signature".into()),
        ),
        (
            vec![(sig, signature), (tsh, "2023-11-14T22:13:20Z")],
            NOW,
            AuthError::Malformed {
                what: format!("header {tsh}"),
                problem: "not Unix seconds",
            },
        ),
        (
            vec![(sig, signature), (tsh, "-1700000000")],
            NOW,
            AuthError::Malformed {
                what: format!("header {tsh}"),
                problem: "not Unix seconds",
            },
        ),
        (
            vec![(sig, signature), (tsh, "99999999999999999999999")],
            NOW,
            AuthError::Malformed {
                what: format!("header {tsh}"),
                problem: "not Unix seconds",
            },
        ),
        (
            vec![(sig, signature), (tsh, ts.as_str()), (tsh, ts.as_str())],
            NOW,
            AuthError::Duplicate(format!("header {tsh}")),
        ),
    ] {
        let e = check(&headers, now).unwrap_err();
        assert_eq!(e, expected, "{headers:?} at {now}");
        errors.push(e);
    }
    assert_no_secret(&errors, &[signature, &body_only]);

    // A configured window.
    let narrow = GrafanaAuth {
        hmac: Some(
            GrafanaHmac::new(HMAC_SECRET)
                .with_timestamp_header(tsh)
                .with_replay_window(Duration::from_secs(30)),
        ),
        authorization: vec![],
    };
    assert_eq!(
        verify_grafana(&narrow, &headers, &body, at(NOW + 30)),
        Ok(())
    );
    assert_eq!(
        verify_grafana(&narrow, &headers, &body, at(NOW + 31)),
        Err(AuthError::Expired {
            age_secs: 31,
            window_secs: 30
        })
    );
}

#[test]
fn grafana_authorization_alone_and_with_hmac() {
    let body = fixture("grafana-docs-example.json");
    let signature = hmac_hex(HMAC_SECRET, &body);
    let bearer_only = GrafanaAuth {
        hmac: None,
        authorization: vec![Credentials::bearer(TOKEN)],
    };
    let bearer = format!("Bearer {TOKEN}");
    assert_eq!(
        verify_grafana(&bearer_only, &[("Authorization", &bearer)], &body, at(NOW)),
        Ok(())
    );
    assert_eq!(
        verify_grafana(
            &bearer_only,
            &[("Authorization", "Bearer nope")],
            &body,
            at(NOW)
        ),
        Err(AuthError::Mismatch("Bearer credentials".into()))
    );

    let both = GrafanaAuth {
        hmac: Some(GrafanaHmac::new(HMAC_SECRET)),
        authorization: vec![Credentials::basic(USER, PASSWORD)],
    };
    let good_basic = basic(USER, PASSWORD);
    let sig = "X-Grafana-Alerting-Signature";
    assert_eq!(
        verify_grafana(
            &both,
            &[("Authorization", good_basic.as_str()), (sig, &signature)],
            &body,
            at(NOW)
        ),
        Ok(())
    );
    let mut errors = Vec::new();
    for (headers, expected) in [
        (
            vec![(sig, signature.as_str())],
            AuthError::Missing("header Authorization".into()),
        ),
        (
            vec![("Authorization", good_basic.as_str())],
            AuthError::Missing(format!("header {sig}")),
        ),
        (
            vec![
                ("Authorization", "Basic YWxlcnRtYW5hZ2VyOng="),
                (sig, signature.as_str()),
            ],
            AuthError::Mismatch("Basic credentials".into()),
        ),
    ] {
        let e = verify_grafana(&both, &headers, &body, at(NOW)).unwrap_err();
        assert_eq!(e, expected);
        errors.push(e);
    }
    for nothing in [
        GrafanaAuth::default(),
        GrafanaAuth {
            hmac: Some(GrafanaHmac::new("")),
            authorization: vec![],
        },
    ] {
        let e = verify_grafana(&nothing, &[(sig, signature.as_str())], &body, at(NOW)).unwrap_err();
        assert_eq!(e, AuthError::NotConfigured);
        errors.push(e);
    }
    assert_no_secret(&errors, &[&signature]);
}

#[test]
fn cloudmonitor_url_token() {
    let expected = UrlToken::new(URL_TOKEN);
    let check = |query: Option<&str>| verify_cloudmonitor(&expected, query);
    let good = format!("token={URL_TOKEN}");
    assert_eq!(check(Some(&good)), Ok(()));
    assert_eq!(check(Some(&format!("?{good}"))), Ok(()));
    assert_eq!(check(Some(&format!("source=cms&{good}&x"))), Ok(()));
    assert_eq!(
        check(Some(&format!("token={}", URL_TOKEN.replace('-', "%2D")))),
        Ok(()),
        "percent-encoded"
    );

    let missing = AuthError::Missing("query parameter token".into());
    let mismatch = AuthError::Mismatch("token".into());
    let upper = format!("token={}", URL_TOKEN.to_uppercase());
    let truncated = format!("token={}", &URL_TOKEN[..URL_TOKEN.len() - 1]);
    let mut errors = Vec::new();
    for (query, expected) in [
        (None, missing.clone()),
        (Some(""), missing.clone()),
        (Some("?"), missing.clone()),
        (Some("Token=x"), missing.clone()),
        (Some("tokens=x"), missing.clone()),
        (Some("token=wrong"), mismatch.clone()),
        (Some("token="), mismatch.clone()),
        (Some("token"), mismatch.clone()),
        (Some(upper.as_str()), mismatch.clone()),
        (Some(truncated.as_str()), mismatch.clone()),
        (
            Some(&*format!("{good}&token=wrong")),
            AuthError::Duplicate("query parameter token".into()),
        ),
    ] {
        let e = check(query).unwrap_err();
        assert_eq!(e, expected, "{query:?}");
        errors.push(e);
    }
    assert_no_secret(&errors, &[&upper[6..], &truncated[6..]]);

    let named = UrlToken::new(URL_TOKEN).with_param("key");
    assert_eq!(
        verify_cloudmonitor(&named, Some(&format!("key={URL_TOKEN}"))),
        Ok(())
    );
    assert_eq!(
        verify_cloudmonitor(&named, Some(&good)),
        Err(AuthError::Missing("query parameter key".into()))
    );
    assert_eq!(
        verify_cloudmonitor(&UrlToken::new(""), Some("token=")),
        Err(AuthError::NotConfigured)
    );
}

#[test]
fn configured_secrets_are_redacted_in_debug_output() {
    let configs = format!(
        "{:?} {:?} {:?} {:?}",
        [
            Credentials::bearer(TOKEN),
            Credentials::basic(USER, PASSWORD)
        ],
        GrafanaAuth {
            hmac: Some(GrafanaHmac::new(HMAC_SECRET).with_timestamp_header("X-Ts")),
            authorization: vec![Credentials::token("Token", TOKEN)],
        },
        UrlToken::new(URL_TOKEN),
        lbpilot::alerts::auth::WebhookSecret::new(TOKEN),
    );
    for secret in [TOKEN, PASSWORD, HMAC_SECRET, URL_TOKEN] {
        assert!(!configs.contains(secret), "{configs}");
    }
    assert!(configs.contains("Secret(***)"));
}
