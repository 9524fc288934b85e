//! Incoming alerts: each monitoring system's webhook parsed into one model, and the request
//! that carried it authenticated ([`auth`]).
//!
//! Sources: Prometheus Alertmanager (webhook payload version 4), Grafana unified alerting
//! (webhook version 1), CloudWatch alarms delivered through SNS (the record's `Message`), and
//! Alibaba Cloud CloudMonitor threshold alert callbacks (a form POST).
//!
//! Parsing is pure and never panics: every input gives a [`Notification`] or an [`AlertError`]
//! naming the field and what is wrong with it. Error texts describe the input (a type, a
//! position, a size), never repeat its values, so they are safe to log.

pub mod auth;
mod cloudmonitor;
mod cloudwatch;
mod prometheus;

pub use cloudmonitor::parse_cloudmonitor;
pub use cloudwatch::parse_cloudwatch_sns;
pub use prometheus::{parse_alertmanager, parse_grafana};

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt;

/// The largest body accepted (1 MiB); a larger one is refused before it is parsed.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The most alerts one notification may carry.
pub const MAX_ALERTS: usize = 1000;
/// The longest label (or annotation) name, and the longest label value, in characters.
pub const MAX_LABEL_CHARS: usize = 1024;
/// The longest fingerprint, in characters (a CloudWatch alarm ARN may have 1600).
pub const MAX_FINGERPRINT_CHARS: usize = 2048;
/// The deepest JSON nesting accepted, ignored fields included (the payloads need about 6).
pub const MAX_JSON_DEPTH: usize = 64;

/// Where an alert came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertSource {
    Alertmanager,
    Grafana,
    CloudWatch,
    CloudMonitor,
}

impl AlertSource {
    pub fn name(self) -> &'static str {
        match self {
            AlertSource::Alertmanager => "alertmanager",
            AlertSource::Grafana => "grafana",
            AlertSource::CloudWatch => "cloudwatch",
            AlertSource::CloudMonitor => "cloudmonitor",
        }
    }
}

impl fmt::Display for AlertSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an alert says about its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    /// Alertmanager/Grafana `firing`, CloudWatch `ALARM`, CloudMonitor `ALERT` (or `ALARM`).
    Firing,
    /// Alertmanager/Grafana `resolved`, CloudWatch and CloudMonitor `OK`.
    Resolved,
    /// Neither (CloudWatch and CloudMonitor `INSUFFICIENT_DATA`, or a CloudWatch state this
    /// parser does not know): nothing should be changed because of it.
    Unknown,
}

impl AlertStatus {
    /// `(starts_at, ends_at)` of an alert whose state changed at `changed_at`.
    pub(crate) fn bounds(self, changed_at: &Option<String>) -> (Option<String>, Option<String>) {
        match self {
            AlertStatus::Firing => (changed_at.clone(), None),
            AlertStatus::Resolved => (None, changed_at.clone()),
            AlertStatus::Unknown => (None, None),
        }
    }

    /// Firing or resolved: an alert that may lead to a change.
    pub fn is_actionable(self) -> bool {
        self != AlertStatus::Unknown
    }
}

/// One alert, whatever its source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub source: AlertSource,
    pub status: AlertStatus,
    /// The alert's name: the `alertname` label (Alertmanager, Grafana; empty if the alert has
    /// none), the CloudWatch `AlarmName`, the CloudMonitor `alertName`. Also in `labels` as
    /// `alertname`.
    pub name: String,
    /// A stable identity: the same subject in the same alert gives the same fingerprint,
    /// whether firing or resolved. Alertmanager/Grafana: their `fingerprint` (or, if absent,
    /// the one Alertmanager computes from the labels); CloudWatch: the alarm ARN; CloudMonitor:
    /// `cms:` and a hash of `alertName` and the dimensions.
    pub fingerprint: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// When the alert started firing, as the source wrote it (Go's zero time means unset).
    pub starts_at: Option<String>,
    /// When it resolved (Alertmanager may also send a future time while firing).
    pub ends_at: Option<String>,
    /// When it entered its current status: `endsAt` if resolved, else `startsAt`; the
    /// CloudWatch `StateChangeTime` and the CloudMonitor `timestamp`, both as RFC 3339 (UTC).
    pub changed_at: Option<String>,
    /// The link back to the rule (Alertmanager, Grafana).
    pub generator_url: Option<String>,
    /// Numbers that triggered it: Grafana `values`; CloudMonitor `curValue` as `curValue`.
    pub values: BTreeMap<String, f64>,
}

impl Alert {
    /// `source:fingerprint`, unique across sources.
    pub fn key(&self) -> String {
        format!("{}:{}", self.source, self.fingerprint)
    }
}

/// One delivery from a source: one or more alerts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub source: AlertSource,
    /// The receiver (Alertmanager, Grafana: the contact point).
    pub receiver: Option<String>,
    /// The group the alerts were batched by (Alertmanager, Grafana).
    pub group_key: Option<String>,
    /// The group's status (firing if any alert fires); act on each alert's own status.
    pub status: Option<AlertStatus>,
    pub group_labels: BTreeMap<String, String>,
    pub external_url: Option<String>,
    /// Grafana's organization.
    pub org_id: Option<i64>,
    /// Alerts the sender left out (its `max_alerts`); they arrive in a later notification.
    pub truncated_alerts: u64,
    pub alerts: Vec<Alert>,
}

impl Notification {
    /// A delivery of one alert (CloudWatch, CloudMonitor: no groups, no receiver).
    pub(crate) fn single(alert: Alert) -> Self {
        Notification {
            source: alert.source,
            receiver: None,
            group_key: None,
            status: Some(alert.status),
            group_labels: BTreeMap::new(),
            external_url: None,
            org_id: None,
            truncated_alerts: 0,
            alerts: vec![alert],
        }
    }

    /// The alerts that may lead to a change (firing or resolved).
    pub fn actionable(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().filter(|a| a.status.is_actionable())
    }
}

/// What kind of problem an [`AlertError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertErrorKind {
    /// The body is over [`MAX_BODY_BYTES`].
    TooLarge,
    /// The body (or a decoded form value) is not UTF-8.
    InvalidUtf8,
    /// Not well-formed JSON (or truncated, or nested deeper than [`MAX_JSON_DEPTH`]).
    Syntax,
    /// Well-formed, but a field is missing, of the wrong type, or breaks a rule.
    Invalid,
    /// More than [`MAX_ALERTS`] alerts.
    TooManyAlerts,
}

/// Why a payload was refused: the field and the problem. Never contains input values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin} payload: {field}: {problem}")]
pub struct AlertError {
    pub origin: AlertSource,
    pub kind: AlertErrorKind,
    /// Where, e.g. `alerts[2].labels` or `body`.
    pub field: String,
    pub problem: String,
}

impl AlertError {
    pub(crate) fn new(
        origin: AlertSource,
        kind: AlertErrorKind,
        field: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        Self {
            origin,
            kind,
            field: field.into(),
            problem: problem.into(),
        }
    }

    pub(crate) fn invalid(
        origin: AlertSource,
        field: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        Self::new(origin, AlertErrorKind::Invalid, field, problem)
    }
}

/// Refuses a body over the size limit and returns it as UTF-8 text.
pub(crate) fn body_text(origin: AlertSource, body: &[u8]) -> Result<&str, AlertError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(AlertError::new(
            origin,
            AlertErrorKind::TooLarge,
            "body",
            format!(
                "{} bytes, more than the {MAX_BODY_BYTES}-byte limit",
                body.len()
            ),
        ));
    }
    std::str::from_utf8(body).map_err(|e| {
        AlertError::new(
            origin,
            AlertErrorKind::InvalidUtf8,
            "body",
            format!("not valid UTF-8 (at byte {})", e.valid_up_to()),
        )
    })
}

/// Deserializes JSON text, naming the failing field's path; messages never repeat input values.
pub(crate) fn from_json<T: DeserializeOwned>(
    origin: AlertSource,
    text: &str,
    what: &str,
) -> Result<T, AlertError> {
    check_depth(origin, text, what)?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        json_error(origin, what, &path, e.inner())
    })?;
    de.end().map_err(|e| json_error(origin, what, ".", &e))?;
    Ok(value)
}

/// Refuses JSON nested deeper than [`MAX_JSON_DEPTH`]. serde_json limits the depth of what it
/// deserializes, but skips unknown fields without a limit; this scan covers both.
pub(crate) fn check_depth(origin: AlertSource, text: &str, what: &str) -> Result<(), AlertError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(AlertError::new(
                        origin,
                        AlertErrorKind::Syntax,
                        what,
                        format!("JSON nested more than {MAX_JSON_DEPTH} levels deep"),
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn json_error(origin: AlertSource, what: &str, path: &str, e: &serde_json::Error) -> AlertError {
    use serde_json::error::Category;
    let message = json_message(e);
    let field = if path == "." {
        what.to_string()
    } else {
        printable(path, 200)
    };
    match e.classify() {
        Category::Eof => AlertError::new(
            origin,
            AlertErrorKind::Syntax,
            what,
            format!("truncated JSON ({message})"),
        ),
        Category::Syntax | Category::Io => AlertError::new(
            origin,
            AlertErrorKind::Syntax,
            what,
            format!(
                "not valid JSON: {message} at line {} column {}",
                e.line(),
                e.column()
            ),
        ),
        Category::Data => AlertError::invalid(origin, field, message),
    }
}

/// serde_json's message without its position suffix and without the input value that
/// `invalid type: string "…", expected …` would repeat.
fn json_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some(at) = rest.rfind(", expected ")
        {
            let (unexpected, expected) = rest.split_at(at);
            let kind = unexpected
                .split(['"', '`'])
                .next()
                .unwrap_or_default()
                .trim();
            return format!("{prefix}{kind}{expected}");
        }
    }
    message.to_string()
}

/// A name for an error message: control characters escaped, at most `max` characters.
pub(crate) fn printable(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Checks label names and values: names non-empty, at most [`MAX_LABEL_CHARS`], without
/// control characters; values at most [`MAX_LABEL_CHARS`].
pub(crate) fn check_labels(
    origin: AlertSource,
    field: &str,
    labels: &BTreeMap<String, String>,
) -> Result<(), AlertError> {
    for (name, value) in labels {
        check_name(origin, field, name)?;
        if value.chars().count() > MAX_LABEL_CHARS {
            return Err(AlertError::invalid(
                origin,
                format!("{field}.{}", printable(name, 64)),
                format!("value longer than {MAX_LABEL_CHARS} characters"),
            ));
        }
    }
    Ok(())
}

/// Annotation names follow the label name rules; their values are bounded by the body size.
pub(crate) fn check_annotations(
    origin: AlertSource,
    field: &str,
    annotations: &BTreeMap<String, String>,
) -> Result<(), AlertError> {
    annotations
        .keys()
        .try_for_each(|name| check_name(origin, field, name))
}

fn check_name(origin: AlertSource, field: &str, name: &str) -> Result<(), AlertError> {
    let problem = if name.is_empty() {
        "a name is empty".to_string()
    } else if name.chars().count() > MAX_LABEL_CHARS {
        format!("a name is longer than {MAX_LABEL_CHARS} characters")
    } else if name.chars().any(char::is_control) {
        format!("name {} contains a control character", printable(name, 64))
    } else {
        return Ok(());
    };
    Err(AlertError::invalid(origin, field, problem))
}

pub(crate) fn check_alert_count(origin: AlertSource, count: usize) -> Result<(), AlertError> {
    if count > MAX_ALERTS {
        return Err(AlertError::new(
            origin,
            AlertErrorKind::TooManyAlerts,
            "alerts",
            format!("{count} alerts, more than the {MAX_ALERTS} allowed"),
        ));
    }
    Ok(())
}

pub(crate) fn check_fingerprint(
    origin: AlertSource,
    field: &str,
    fingerprint: &str,
) -> Result<(), AlertError> {
    if fingerprint.chars().count() > MAX_FINGERPRINT_CHARS {
        return Err(AlertError::invalid(
            origin,
            field,
            format!("longer than {MAX_FINGERPRINT_CHARS} characters"),
        ));
    }
    if fingerprint.chars().any(char::is_control) {
        return Err(AlertError::invalid(
            origin,
            field,
            "contains a control character",
        ));
    }
    Ok(())
}

/// The fingerprint Alertmanager gives a label set (prometheus/common `model.LabelSet.Fingerprint`:
/// FNV-1a 64 over the sorted names and values, each followed by 0xff), as 16 hex digits.
pub fn label_fingerprint(labels: &BTreeMap<String, String>) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let mut add = |bytes: &[u8]| {
        for &b in bytes.iter().chain(std::iter::once(&0xffu8)) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    for (name, value) in labels {
        add(name.as_bytes());
        add(value.as_bytes());
    }
    format!("{hash:016x}")
}

/// Go's zero `time.Time`, which Alertmanager and Grafana send for "not set".
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// A time as the source wrote it, `None` when empty or Go's zero time.
pub(crate) fn given_time(raw: Option<String>) -> Option<String> {
    raw.filter(|t| !t.trim().is_empty() && t != GO_ZERO_TIME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_messages_do_not_repeat_string_values() {
        let e = serde_json::from_str::<u64>("\"hunter2\"").unwrap_err();
        let m = json_message(&e);
        assert!(!m.contains("hunter2"), "{m}");
        assert!(m.starts_with("invalid type: string, expected u64"), "{m}");
    }

    #[test]
    fn depth_counts_brackets_outside_strings() {
        let o = AlertSource::Alertmanager;
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH),
            "]".repeat(MAX_JSON_DEPTH)
        );
        assert!(check_depth(o, &deep, "body").is_ok());
        assert!(check_depth(o, &format!("[{deep}]"), "body").is_err());
        let quoted = format!("{{\"a\":\"{}\\\"{}\"}}", "[".repeat(100), "{".repeat(100));
        assert!(check_depth(o, &quoted, "body").is_ok(), "{quoted}");
    }

    #[test]
    fn printable_escapes_and_truncates() {
        assert_eq!(printable("a\u{7}b", 10), "a\\u{7}b");
        assert_eq!(printable("abcdef", 3), "abc…");
    }

    #[test]
    fn empty_label_set_fingerprint_is_fnv_offset() {
        assert_eq!(label_fingerprint(&BTreeMap::new()), "cbf29ce484222325");
    }
}
