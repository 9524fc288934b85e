//! Each alert source's payload parser. The first byte picks the source (its low two bits:
//! Alertmanager, Grafana, CloudWatch's SNS `Message`, CloudMonitor); the rest is the body.
//!
//! Beyond "never panics": a notification keeps every documented bound, and an error names a
//! field and a problem without repeating input values (the module promises they are safe to
//! log). Values carrying the marker `SeCrEt` (in the seeds and the dictionary) must never show
//! up in an error unless an object key or form field name carries it too (names may be quoted).
#![no_main]

use lbpilot::alerts::{
    AlertError, AlertSource, MAX_ALERTS, MAX_FINGERPRINT_CHARS, MAX_LABEL_CHARS, Notification,
    parse_alertmanager, parse_cloudmonitor, parse_cloudwatch_sns, parse_grafana,
};
use lbpilot::signing::encoding;
use lbpilot_fuzz::any_key_contains;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

const MARKER: &str = "SeCrEt";

fn check_names(what: &str, map: &BTreeMap<String, String>, bound_values: bool) {
    for (name, value) in map {
        assert!(!name.is_empty(), "{what}: empty name");
        assert!(name.chars().count() <= MAX_LABEL_CHARS, "{what}: long name");
        assert!(!name.chars().any(char::is_control), "{what}: control char");
        if bound_values {
            assert!(
                value.chars().count() <= MAX_LABEL_CHARS,
                "{what}: long value"
            );
        }
    }
}

fn check_notification(source: AlertSource, n: &Notification) {
    assert_eq!(n.source, source);
    assert!(n.alerts.len() <= MAX_ALERTS);
    if matches!(source, AlertSource::CloudWatch | AlertSource::CloudMonitor) {
        assert_eq!(n.alerts.len(), 1, "one alarm per delivery");
    }
    check_names("groupLabels", &n.group_labels, true);
    for a in &n.alerts {
        assert_eq!(a.source, source);
        check_names("labels", &a.labels, true);
        check_names("annotations", &a.annotations, false);
        assert!(!a.fingerprint.is_empty(), "empty fingerprint");
        assert!(a.fingerprint.chars().count() <= MAX_FINGERPRINT_CHARS);
        assert!(!a.fingerprint.chars().any(char::is_control));
        assert!(a.values.values().all(|v| v.is_finite()));
        // The changed time is the start while firing, the end once resolved.
        match a.status {
            lbpilot::alerts::AlertStatus::Firing => assert_eq!(a.changed_at, a.starts_at),
            lbpilot::alerts::AlertStatus::Resolved => assert_eq!(a.changed_at, a.ends_at),
            lbpilot::alerts::AlertStatus::Unknown => {}
        }
        let _ = a.key();
    }
    serde_json::to_string(n).expect("notifications serialize");
}

/// Whether the marker appears in a name of the input: an object key, a form field name, or a
/// CloudMonitor dimension name (`{name=value, …}` or JSON keys inside the `dimensions` field).
fn marker_in_a_name(source: AlertSource, text: &str) -> bool {
    let parsed = serde_json::from_str::<serde_json::Value>(text);
    if parsed.as_ref().is_ok_and(|v| any_key_contains(v, MARKER)) {
        return true;
    }
    if source != AlertSource::CloudMonitor {
        // JSON that does not parse as a whole: any occurrence may be a key.
        return parsed.is_err();
    }
    let fields: Vec<(String, String)> = match &parsed {
        Ok(serde_json::Value::Object(map)) => map
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map_or(v.to_string(), str::to_string)))
            .collect(),
        Ok(_) => return false,
        Err(_) if text.trim_start().starts_with('{') => return true,
        Err(_) => encoding::parse_pairs(text),
    };
    fields.iter().any(|(k, v)| {
        k.contains(MARKER)
            || (k == "dimensions"
                && (v
                    .split(',')
                    .any(|p| p.split('=').next().unwrap_or_default().contains(MARKER))
                    || serde_json::from_str::<serde_json::Value>(v.trim())
                        .is_ok_and(|d| any_key_contains(&d, MARKER))))
    })
}

fn check_error(source: AlertSource, e: &AlertError, text: Option<&str>) {
    assert_eq!(e.origin, source);
    assert!(!e.field.is_empty() && !e.problem.is_empty(), "{e:?}");
    let shown = e.to_string();
    // Fields are printed at most 200 characters long; problems are short sentences.
    assert!(
        shown.chars().count() <= 1024,
        "error of {} chars",
        shown.len()
    );
    if let Some(text) = text
        && shown.contains(MARKER)
    {
        assert!(
            marker_in_a_name(source, text),
            "an input value reached the error text: {shown}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let text = std::str::from_utf8(body).ok();
    let (source, parsed) = match pick & 3 {
        0 => (AlertSource::Alertmanager, parse_alertmanager(body)),
        1 => (AlertSource::Grafana, parse_grafana(body)),
        2 => {
            // The SNS `Message` is a JSON string, so always UTF-8.
            let Some(text) = text else { return };
            (AlertSource::CloudWatch, parse_cloudwatch_sns(text))
        }
        _ => (AlertSource::CloudMonitor, parse_cloudmonitor(body)),
    };
    match parsed {
        Ok(n) => check_notification(source, &n),
        Err(e) => check_error(source, &e, text),
    }
});
