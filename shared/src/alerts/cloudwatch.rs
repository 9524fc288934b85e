//! A CloudWatch alarm's state change as SNS delivers it: the JSON text in the record's
//! `Sns.Message`. Read leniently (every field may be missing or null, unknown fields are
//! ignored) because real messages differ from the typed structs (`"AlarmDescription": null`,
//! `"Unit": null`, metric-math alarms with `Trigger.Metrics` instead of `MetricName`).

use super::{
    Alert, AlertError, AlertSource, AlertStatus, Notification, body_text, check_annotations,
    check_fingerprint, check_labels, from_json,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

const ORIGIN: AlertSource = AlertSource::CloudWatch;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawMessage {
    alarm_name: Option<String>,
    alarm_description: Option<String>,
    #[serde(rename = "AWSAccountId")]
    aws_account_id: Option<String>,
    new_state_value: Option<String>,
    new_state_reason: Option<String>,
    state_change_time: Option<String>,
    region: Option<String>,
    alarm_arn: Option<String>,
    old_state_value: Option<String>,
    alarm_rule: Option<String>,
    trigger: Option<RawTrigger>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawTrigger {
    metric_name: Option<String>,
    namespace: Option<String>,
    dimensions: Option<Vec<RawDimension>>,
    metrics: Option<Vec<RawMetricQuery>>,
}

/// SNS writes `name`/`value` in lower case; the API's `Name`/`Value` are accepted too.
#[derive(Deserialize)]
struct RawDimension {
    #[serde(alias = "Name")]
    name: Option<String>,
    #[serde(alias = "Value")]
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawMetricQuery {
    expression: Option<String>,
    return_data: Option<bool>,
    metric_stat: Option<RawMetricStat>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawMetricStat {
    metric: Option<RawMetric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawMetric {
    dimensions: Option<Vec<RawDimension>>,
    metric_name: Option<String>,
    namespace: Option<String>,
}

/// Parses the `Message` of an SNS record that carries a CloudWatch alarm notification. Only
/// `AlarmName` is required. Labels: the metric's dimensions as given (`InstanceId`, …), then
/// `alertname` (AlarmName), `namespace`, `metric`, `region` (the display name SNS writes, e.g.
/// `US East (N. Virginia)`), `region_code` (from the ARN) and `account`; those override a
/// dimension of the same name. For a metric-math alarm the dimensions of every queried metric
/// are merged (the first value of a name wins), and `namespace`/`metric` list the distinct
/// namespaces/metric names joined by `,`; the returned expression is the `expression` annotation.
pub fn parse_cloudwatch_sns(message: &str) -> Result<Notification, AlertError> {
    let text = body_text(ORIGIN, message.as_bytes())?;
    let raw: RawMessage = from_json(ORIGIN, text, "Message")?;
    let name = raw.alarm_name.filter(|n| !n.is_empty()).ok_or_else(|| {
        AlertError::invalid(
            ORIGIN,
            "AlarmName",
            "missing (not a CloudWatch alarm notification?)",
        )
    })?;
    let status = match raw.new_state_value.as_deref() {
        Some("ALARM") => AlertStatus::Firing,
        Some("OK") => AlertStatus::Resolved,
        _ => AlertStatus::Unknown,
    };

    let arn_parts: Vec<&str> = raw.alarm_arn.as_deref().unwrap_or("").split(':').collect();
    let arn_field = |i: usize| {
        arn_parts
            .get(i)
            .filter(|s| !s.is_empty() && arn_parts.len() >= 7)
            .map(|s| s.to_string())
    };
    let region_code = arn_field(3);
    let account = raw
        .aws_account_id
        .clone()
        .filter(|a| !a.is_empty())
        .or_else(|| arn_field(4));

    let mut labels = BTreeMap::new();
    let mut annotations = BTreeMap::new();
    if let Some(trigger) = raw.trigger {
        let mut namespaces = Vec::new();
        let mut metrics = Vec::new();
        let push = |list: &mut Vec<String>, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.is_empty())
                && !list.contains(&v)
            {
                list.push(v);
            }
        };
        push(&mut namespaces, trigger.namespace);
        push(&mut metrics, trigger.metric_name);
        add_dimensions(&mut labels, trigger.dimensions, "Trigger.Dimensions")?;
        for (i, query) in trigger.metrics.unwrap_or_default().into_iter().enumerate() {
            if query.return_data == Some(true)
                && let Some(expression) = query.expression.filter(|e| !e.is_empty())
            {
                annotations.insert("expression".to_string(), expression);
            }
            if let Some(metric) = query.metric_stat.and_then(|s| s.metric) {
                push(&mut namespaces, metric.namespace);
                push(&mut metrics, metric.metric_name);
                let field = format!("Trigger.Metrics[{i}].MetricStat.Metric.Dimensions");
                add_dimensions(&mut labels, metric.dimensions, &field)?;
            }
        }
        if !namespaces.is_empty() {
            labels.insert("namespace".to_string(), namespaces.join(","));
        }
        if !metrics.is_empty() {
            labels.insert("metric".to_string(), metrics.join(","));
        }
    }
    labels.insert("alertname".to_string(), name.clone());
    let optional = [
        ("region", raw.region),
        ("region_code", region_code),
        ("account", account),
    ];
    for (label, value) in optional {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            labels.insert(label.to_string(), v);
        }
    }
    check_labels(ORIGIN, "labels", &labels)?;

    let notes = [
        ("description", raw.alarm_description),
        ("reason", raw.new_state_reason),
        ("state", raw.new_state_value),
        ("previous_state", raw.old_state_value),
        ("alarm_rule", raw.alarm_rule),
    ];
    for (key, value) in notes {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            annotations.insert(key.to_string(), v);
        }
    }
    check_annotations(ORIGIN, "annotations", &annotations)?;

    let fingerprint = match raw.alarm_arn.filter(|a| !a.is_empty()) {
        Some(arn) => arn,
        // Messages before 2015 carry no ARN: the account, region and name identify the alarm.
        None => format!(
            "cloudwatch:{}:{}:{name}",
            labels.get("account").map_or("", String::as_str),
            labels.get("region").map_or("", String::as_str),
        ),
    };
    check_fingerprint(ORIGIN, "AlarmArn", &fingerprint)?;

    let changed_at = raw
        .state_change_time
        .filter(|t| !t.is_empty())
        .map(|t| rfc3339(&t));
    let (starts_at, ends_at) = status.bounds(&changed_at);
    Ok(Notification::single(Alert {
        source: ORIGIN,
        status,
        name,
        fingerprint,
        labels,
        annotations,
        starts_at,
        ends_at,
        changed_at,
        generator_url: None,
        values: BTreeMap::new(),
    }))
}

fn add_dimensions(
    labels: &mut BTreeMap<String, String>,
    dimensions: Option<Vec<RawDimension>>,
    field: &str,
) -> Result<(), AlertError> {
    for (i, d) in dimensions.unwrap_or_default().into_iter().enumerate() {
        let Some(name) = d.name.filter(|n| !n.is_empty()) else {
            return Err(AlertError::invalid(
                ORIGIN,
                format!("{field}[{i}].name"),
                "missing",
            ));
        };
        labels
            .entry(name)
            .or_insert_with(|| d.value.unwrap_or_default());
    }
    Ok(())
}

/// `2015-06-03T17:43:27.123+0000` (what CloudWatch writes) as RFC 3339 in UTC; a time in
/// another shape is kept as written.
fn rfc3339(raw: &str) -> String {
    let with_fraction = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond][offset_hour sign:mandatory][offset_minute]"
    );
    let without = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory][offset_minute]"
    );
    OffsetDateTime::parse(raw, with_fraction)
        .or_else(|_| OffsetDateTime::parse(raw, without))
        .or_else(|_| OffsetDateTime::parse(raw, &Rfc3339))
        .ok()
        .and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok())
        .unwrap_or_else(|| raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudwatch_times_become_rfc3339_utc() {
        assert_eq!(
            rfc3339("2015-06-03T17:43:27.123+0000"),
            "2015-06-03T17:43:27.123Z"
        );
        assert_eq!(rfc3339("2015-06-03T19:43:27+0200"), "2015-06-03T17:43:27Z");
        assert_eq!(rfc3339("yesterday"), "yesterday");
    }
}
