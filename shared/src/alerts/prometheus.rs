//! Alertmanager's webhook (payload version 4) and Grafana's (version 1, the same shape plus
//! `orgId`, `title`, `state`, `message` and per-alert `values`).

use super::{
    Alert, AlertError, AlertSource, AlertStatus, MAX_ALERTS, Notification, body_text,
    check_alert_count, check_annotations, check_fingerprint, check_labels, from_json, given_time,
    label_fingerprint,
};
use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::fmt;

type Map = BTreeMap<String, String>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawNotification {
    version: Option<String>,
    group_key: Option<String>,
    truncated_alerts: Option<u64>,
    status: Option<String>,
    receiver: Option<String>,
    group_labels: Option<Map>,
    #[serde(rename = "externalURL")]
    external_url: Option<String>,
    org_id: Option<i64>,
    alerts: Option<BoundedAlerts>,
}

/// The alerts array, read into memory only up to [`MAX_ALERTS`] (the rest is counted).
struct BoundedAlerts {
    alerts: Vec<RawAlert>,
    total: usize,
}

impl<'de> Deserialize<'de> for BoundedAlerts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Bounded;
        impl<'de> Visitor<'de> for Bounded {
            type Value = BoundedAlerts;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of alerts")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<BoundedAlerts, A::Error> {
                let mut alerts = Vec::new();
                let mut total = 0;
                loop {
                    let more = if alerts.len() < MAX_ALERTS {
                        seq.next_element::<RawAlert>()?.map(|a| alerts.push(a))
                    } else {
                        seq.next_element::<IgnoredAny>()?.map(drop)
                    };
                    if more.is_none() {
                        break;
                    }
                    total += 1;
                }
                Ok(BoundedAlerts { alerts, total })
            }
        }
        deserializer.deserialize_seq(Bounded)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAlert {
    status: Option<String>,
    labels: Option<Map>,
    annotations: Option<Map>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    #[serde(rename = "generatorURL")]
    generator_url: Option<String>,
    fingerprint: Option<String>,
    values: Option<BTreeMap<String, f64>>,
}

/// Parses an Alertmanager webhook body (`"version": "4"`; a missing version is accepted).
pub fn parse_alertmanager(body: &[u8]) -> Result<Notification, AlertError> {
    parse(AlertSource::Alertmanager, body, &["4"])
}

/// Parses a Grafana alerting webhook body (`"version": "1"`, or `"4"` from Grafana's
/// Alertmanager-compatible webhook; a missing version is accepted). A custom `payload`
/// template is not supported.
pub fn parse_grafana(body: &[u8]) -> Result<Notification, AlertError> {
    parse(AlertSource::Grafana, body, &["1", "4"])
}

fn parse(origin: AlertSource, body: &[u8], versions: &[&str]) -> Result<Notification, AlertError> {
    let text = body_text(origin, body)?;
    let raw: RawNotification = from_json(origin, text, "body")?;
    if let Some(v) = &raw.version
        && !versions.contains(&v.as_str())
    {
        let expected: Vec<String> = versions.iter().map(|v| format!("\"{v}\"")).collect();
        return Err(AlertError::invalid(
            origin,
            "version",
            format!(
                "unsupported payload version (expected {})",
                expected.join(" or ")
            ),
        ));
    }
    let status = raw
        .status
        .as_deref()
        .map(|s| status_of(origin, "status", s))
        .transpose()?;
    let group_labels = raw.group_labels.unwrap_or_default();
    check_labels(origin, "groupLabels", &group_labels)?;
    let Some(raw_alerts) = raw.alerts else {
        return Err(AlertError::invalid(
            origin,
            "alerts",
            format!("missing (not an {origin} webhook payload?)"),
        ));
    };
    check_alert_count(origin, raw_alerts.total)?;
    let alerts = raw_alerts
        .alerts
        .into_iter()
        .enumerate()
        .map(|(i, a)| alert(origin, i, a))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Notification {
        source: origin,
        receiver: raw.receiver,
        group_key: raw.group_key,
        status,
        group_labels,
        external_url: raw.external_url.filter(|u| !u.is_empty()),
        org_id: raw.org_id,
        truncated_alerts: raw.truncated_alerts.unwrap_or(0),
        alerts,
    })
}

fn alert(origin: AlertSource, i: usize, raw: RawAlert) -> Result<Alert, AlertError> {
    let field = |name: &str| format!("alerts[{i}].{name}");
    let Some(status) = raw.status else {
        return Err(AlertError::invalid(origin, field("status"), "missing"));
    };
    let status = status_of(origin, &field("status"), &status)?;
    let labels = raw.labels.unwrap_or_default();
    check_labels(origin, &field("labels"), &labels)?;
    let annotations = raw.annotations.unwrap_or_default();
    check_annotations(origin, &field("annotations"), &annotations)?;
    let fingerprint = match raw.fingerprint.filter(|f| !f.is_empty()) {
        Some(f) => {
            check_fingerprint(origin, &field("fingerprint"), &f)?;
            f
        }
        None => label_fingerprint(&labels),
    };
    let starts_at = given_time(raw.starts_at);
    let ends_at = given_time(raw.ends_at);
    let changed_at = match status {
        AlertStatus::Resolved => ends_at.clone(),
        _ => starts_at.clone(),
    };
    Ok(Alert {
        source: origin,
        status,
        name: labels.get("alertname").cloned().unwrap_or_default(),
        fingerprint,
        labels,
        annotations,
        starts_at,
        ends_at,
        changed_at,
        generator_url: raw.generator_url.filter(|u| !u.is_empty()),
        values: raw.values.unwrap_or_default(),
    })
}

fn status_of(origin: AlertSource, field: &str, s: &str) -> Result<AlertStatus, AlertError> {
    if s.eq_ignore_ascii_case("firing") {
        Ok(AlertStatus::Firing)
    } else if s.eq_ignore_ascii_case("resolved") {
        Ok(AlertStatus::Resolved)
    } else {
        Err(AlertError::invalid(
            origin,
            field,
            "must be \"firing\" or \"resolved\"",
        ))
    }
}
