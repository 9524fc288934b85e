//! Alibaba Cloud CloudMonitor threshold alert callbacks (doc 60714, "Use threshold alert
//! callbacks"): an `application/x-www-form-urlencoded` POST of `alertName`, `alertState`,
//! `dimensions`, `metricName`, `metricProject`, `instanceName`, `userId`, `curValue`,
//! `expression`, `triggerLevel`, `ruleId`, `timestamp`, ….
//!
//! `dimensions` comes as `{userId=12****, instanceId=i-12****}` (current documentation) or as a
//! JSON array of objects `[{"userId":"12345","instanceId":"i-12345"}]` (older documentation,
//! whose sample body is also a JSON object rather than a form); all of these are read.

use super::{
    Alert, AlertError, AlertErrorKind, AlertSource, AlertStatus, Notification, body_text,
    check_annotations, check_fingerprint, check_labels, printable,
};
use percent_encoding::percent_decode_str;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const ORIGIN: AlertSource = AlertSource::CloudMonitor;
/// The most fields a callback may have (CloudMonitor sends about 16).
const MAX_FIELDS: usize = 1000;

/// Fields copied to labels (besides the dimensions and `alertname`), under their own names.
const LABEL_FIELDS: [&str; 5] = [
    "metricName",
    "metricProject",
    "instanceName",
    "userId",
    "ruleId",
];
/// Fields copied to annotations, under their own names.
const ANNOTATION_FIELDS: [&str; 8] = [
    "alertState",
    "curValue",
    "expression",
    "triggerLevel",
    "preTriggerLevel",
    "namespace",
    "timestamp",
    "dimensions",
];

/// Parses a CloudMonitor alert callback body. `alertName` and `alertState` are required;
/// `alertState` `ALERT` (or `ALARM`, as an older sample shows) is firing, `OK` resolved,
/// `INSUFFICIENT_DATA` unknown. Labels: the dimensions, then `alertname` and the fields
/// `metricName`, `metricProject`, `instanceName`, `userId`, `ruleId` (these override a
/// dimension of the same name). Unknown fields are ignored; a field given twice is refused.
pub fn parse_cloudmonitor(body: &[u8]) -> Result<Notification, AlertError> {
    let text = body_text(ORIGIN, body)?;
    let fields = if text.trim_start().starts_with('{') {
        json_fields(text)?
    } else {
        form_fields(text)?
    };
    if fields.len() > MAX_FIELDS {
        return Err(AlertError::invalid(
            ORIGIN,
            "body",
            format!("more than {MAX_FIELDS} fields"),
        ));
    }
    let get = |name: &str| fields.get(name).filter(|v| !v.is_empty()).cloned();

    let name = get("alertName").ok_or_else(|| {
        AlertError::invalid(
            ORIGIN,
            "alertName",
            "missing (not a CloudMonitor alert callback?)",
        )
    })?;
    let state =
        get("alertState").ok_or_else(|| AlertError::invalid(ORIGIN, "alertState", "missing"))?;
    let status = match state.to_ascii_uppercase().as_str() {
        "ALERT" | "ALARM" => AlertStatus::Firing,
        "OK" => AlertStatus::Resolved,
        "INSUFFICIENT_DATA" => AlertStatus::Unknown,
        _ => {
            return Err(AlertError::invalid(
                ORIGIN,
                "alertState",
                "must be ALERT, ALARM, OK or INSUFFICIENT_DATA",
            ));
        }
    };

    let dimensions = match get("dimensions") {
        Some(d) => parse_dimensions(&d)?,
        None => BTreeMap::new(),
    };
    check_labels(ORIGIN, "dimensions", &dimensions)?;
    let fingerprint = fingerprint(&name, &dimensions);
    check_fingerprint(ORIGIN, "alertName", &fingerprint)?;

    let mut labels = dimensions;
    labels.insert("alertname".to_string(), name.clone());
    for field in LABEL_FIELDS {
        if let Some(v) = get(field) {
            labels.insert(field.to_string(), v);
        }
    }
    check_labels(ORIGIN, "labels", &labels)?;
    let annotations: BTreeMap<String, String> = ANNOTATION_FIELDS
        .iter()
        .filter_map(|f| get(f).map(|v| (f.to_string(), v)))
        .collect();
    check_annotations(ORIGIN, "annotations", &annotations)?;

    let mut values = BTreeMap::new();
    if let Some(v) = get("curValue").and_then(|v| v.trim().parse::<f64>().ok())
        && v.is_finite()
    {
        values.insert("curValue".to_string(), v);
    }
    let changed_at = get("timestamp").map(|t| unix_time(&t));
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
        values,
    }))
}

/// `k=v&k2=v2`, `+` as space, percent-decoded; each value must decode to UTF-8.
fn form_fields(text: &str) -> Result<BTreeMap<String, String>, AlertError> {
    let mut fields = BTreeMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        if fields.len() > MAX_FIELDS {
            break;
        }
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = form_decode(key, "a field name")?;
        if key.is_empty() {
            // A nameless field is no field CloudMonitor sends: ignored like an unknown one
            // (found by fuzzing: `=a&=b` was refused with an error naming the field "").
            continue;
        }
        let value = form_decode(value, &printable(&key, 64))?;
        if fields.contains_key(&key) {
            return Err(AlertError::invalid(
                ORIGIN,
                printable(&key, 64),
                "given more than once",
            ));
        }
        fields.insert(key, value);
    }
    Ok(fields)
}

fn form_decode(s: &str, field: &str) -> Result<String, AlertError> {
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|v| v.into_owned())
        .map_err(|_| {
            AlertError::new(
                ORIGIN,
                AlertErrorKind::InvalidUtf8,
                field,
                "not valid UTF-8 after percent-decoding",
            )
        })
}

/// A JSON object body (the older documentation's sample): strings as they are, numbers and
/// booleans as text, arrays and objects (`dimensions`) as JSON text, nulls as absent.
fn json_fields(text: &str) -> Result<BTreeMap<String, String>, AlertError> {
    let value: Value = super::from_json(ORIGIN, text, "body")?;
    let Value::Object(object) = value else {
        return Err(AlertError::invalid(ORIGIN, "body", "not a JSON object"));
    };
    Ok(object
        .into_iter()
        .filter_map(|(k, v)| match v {
            Value::Null => None,
            Value::String(s) => Some((k, s)),
            other => Some((k, other.to_string())),
        })
        .collect())
}

/// `{k=v, k2=v2}` (braces optional; a piece without `=` continues the previous value, so a
/// value may contain commas), or JSON: an object, or an array of objects whose entries merge.
fn parse_dimensions(raw: &str) -> Result<BTreeMap<String, String>, AlertError> {
    let s = raw.trim();
    let looks_json = s.starts_with('[')
        || s.strip_prefix('{')
            .is_some_and(|r| r.trim_start().starts_with('"'));
    if looks_json {
        return json_dimensions(s);
    }
    let inner = s
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(s);
    let mut pairs: Vec<(String, String)> = Vec::new();
    for piece in inner.split(',') {
        match piece.split_once('=') {
            Some((k, v)) => pairs.push((k.trim().to_string(), v.to_string())),
            None => match pairs.last_mut() {
                Some((_, v)) => {
                    v.push(',');
                    v.push_str(piece);
                }
                None if piece.trim().is_empty() => {}
                None => {
                    return Err(AlertError::invalid(
                        ORIGIN,
                        "dimensions",
                        "neither {name=value, …} nor a JSON array of objects",
                    ));
                }
            },
        }
    }
    let mut dims = BTreeMap::new();
    for (k, v) in pairs {
        dims.entry(k).or_insert_with(|| v.trim().to_string());
    }
    Ok(dims)
}

fn json_dimensions(s: &str) -> Result<BTreeMap<String, String>, AlertError> {
    let bad = || {
        AlertError::invalid(
            ORIGIN,
            "dimensions",
            "neither {name=value, …} nor a JSON array of objects with string values",
        )
    };
    super::check_depth(ORIGIN, s, "dimensions")?;
    let value: Value = serde_json::from_str(s).map_err(|_| bad())?;
    let objects = match value {
        Value::Array(items) => items,
        object @ Value::Object(_) => vec![object],
        _ => return Err(bad()),
    };
    let mut dims = BTreeMap::new();
    for item in objects {
        let Value::Object(object) = item else {
            return Err(bad());
        };
        for (k, v) in object {
            let v = match v {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => continue,
                _ => return Err(bad()),
            };
            dims.entry(k).or_insert(v);
        }
    }
    Ok(dims)
}

/// `cms:` and 32 hex digits of SHA-256 over the alert name and the sorted dimensions.
fn fingerprint(name: &str, dimensions: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0xff]);
    for (k, v) in dimensions {
        h.update(k.as_bytes());
        h.update([0xff]);
        h.update(v.as_bytes());
        h.update([0xff]);
    }
    format!("cms:{}", &hex::encode(h.finalize())[..32])
}

/// Unix seconds (or milliseconds, if 13 digits or more) as RFC 3339 in UTC; anything else is
/// kept as written.
fn unix_time(raw: &str) -> String {
    let t = raw.trim();
    let parsed = t.parse::<i64>().ok().and_then(|n| {
        let secs = if t.len() >= 13 { n / 1000 } else { n };
        OffsetDateTime::from_unix_timestamp(secs).ok()
    });
    parsed
        .and_then(|dt| dt.format(&Rfc3339).ok())
        .unwrap_or_else(|| raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(s: &str) -> Vec<(String, String)> {
        parse_dimensions(s).unwrap().into_iter().collect()
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn brace_form() {
        assert_eq!(
            dims("{userId=12****, instanceId=i-12****}"),
            vec![pair("instanceId", "i-12****"), pair("userId", "12****")]
        );
        assert_eq!(dims("{}"), vec![]);
        assert_eq!(dims("a=1"), vec![pair("a", "1")]);
        assert_eq!(
            dims("{tag=x,y, b=2}"),
            vec![pair("b", "2"), pair("tag", "x,y")]
        );
        assert!(parse_dimensions("{junk}").is_err());
    }

    #[test]
    fn json_forms() {
        assert_eq!(
            dims(r#"[{"userId":"12345","instanceId":"i-12345"}]"#),
            vec![pair("instanceId", "i-12345"), pair("userId", "12345")]
        );
        assert_eq!(dims(r#"{"port": 80}"#), vec![pair("port", "80")]);
        assert!(parse_dimensions(r#"[{"a":{"b":1}}]"#).is_err());
        assert!(parse_dimensions("[1,2]").is_err());
        assert!(parse_dimensions("[{").is_err());
    }

    #[test]
    fn unix_times() {
        assert_eq!(unix_time("1508136760"), "2017-10-16T06:52:40Z");
        assert_eq!(unix_time("1508136760000"), "2017-10-16T06:52:40Z");
        assert_eq!(unix_time("soon"), "soon");
    }
}
