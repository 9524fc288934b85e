//! Benchmark events (`events/<function>/*.json`) and the SQS batches built from them.

use crate::Result;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

#[derive(Clone)]
pub struct BenchEvent {
    /// Relative to the workspace root, for the report.
    pub file: String,
    pub value: Value,
}

impl BenchEvent {
    /// The function's first SQS event file (by name), else its first event file, if any.
    pub fn find(root: &Path, function: &str) -> Result<Option<BenchEvent>> {
        let dir = root.join("events").join(function);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(None);
        };
        let mut files: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        let mut events = Vec::new();
        for path in files {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let value: Value =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            let file = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            events.push(BenchEvent { file, value });
        }
        let first_sqs = events.iter().position(|e| e.sqs_records().is_some());
        Ok(match first_sqs {
            Some(i) => Some(events.swap_remove(i)),
            None => events.into_iter().next(),
        })
    }

    /// A copy, signed again now where its signature would be stale ([`crate::fresh`]).
    pub fn refreshed(&self, env: &HashMap<String, String>) -> BenchEvent {
        let mut copy = self.clone();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        crate::fresh::refresh(&mut copy.value, env, now);
        copy
    }

    /// The records, when this is an SQS event (every record from `aws:sqs`).
    pub fn sqs_records(&self) -> Option<&[Value]> {
        let records = self.value.get("Records")?.as_array()?;
        let all_sqs = records.iter().all(|r| r["eventSource"] == "aws:sqs");
        (!records.is_empty() && all_sqs).then_some(records.as_slice())
    }

    /// How many actions an invocation of this event carries (records of an SQS event, else 1).
    pub fn actions(&self) -> usize {
        self.sqs_records().map_or(1, <[Value]>::len)
    }

    /// `n` records taken in turn from this event's, each a distinct message and change.
    pub fn batch(&self, n: usize) -> Option<Value> {
        let records = self.sqs_records()?;
        Some(sqs_event(
            (0..n).map(|k| distinct(&records[k % records.len()], k)),
        ))
    }

    /// `n` copies of the first record, each a distinct message and change.
    pub fn copies_of_first(&self, n: usize) -> Option<Value> {
        let first = self.sqs_records()?.first()?;
        Some(sqs_event((0..n).map(|k| distinct(first, k))))
    }
}

fn sqs_event(records: impl Iterator<Item = Value>) -> Value {
    serde_json::json!({"Records": records.collect::<Vec<_>>()})
}

/// A copy of `record` with its own messageId and, when the body is an action, its own action
/// id (so copies are separate changes: ALB would replay a repeated ClientToken).
fn distinct(record: &Value, k: usize) -> Value {
    let mut record = record.clone();
    let message_id = record["messageId"].as_str().unwrap_or("m").to_string();
    record["messageId"] = format!("{message_id}-{k}").into();
    let body = record["body"].as_str().unwrap_or_default();
    if let Ok(Value::Object(mut action)) = serde_json::from_str::<Value>(body) {
        let suffix = format!("-{k}");
        let id = action.get("id").and_then(Value::as_str).unwrap_or("bench");
        // Action ids are at most 64 characters.
        let id: String = id.chars().take(64 - suffix.len()).collect();
        action.insert("id".into(), format!("{id}{suffix}").into());
        record["body"] = Value::Object(action).to_string().into();
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> BenchEvent {
        let record =
            |id: &str, body: &str| json!({"messageId": id, "eventSource": "aws:sqs", "body": body});
        BenchEvent {
            file: "e.json".into(),
            value: json!({"Records": [
                record("a", r#"{"id":"drain","operation":"x"}"#),
                record("b", "not json"),
            ]}),
        }
    }

    #[test]
    fn batches_are_distinct_messages_and_changes() {
        let batch = event().batch(3).unwrap();
        let records = batch["Records"].as_array().unwrap();
        let ids: Vec<_> = records
            .iter()
            .map(|r| r["messageId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["a-0", "b-1", "a-2"]);
        assert_eq!(records[0]["body"], r#"{"id":"drain-0","operation":"x"}"#);
        assert_eq!(records[1]["body"], "not json");
        let copies = event().copies_of_first(2).unwrap();
        assert_eq!(
            copies["Records"][1]["body"],
            r#"{"id":"drain-1","operation":"x"}"#
        );
    }

    #[test]
    fn only_sqs_events_make_batches() {
        let other = BenchEvent {
            file: "s.json".into(),
            value: json!({"actions": []}),
        };
        assert!(other.batch(10).is_none());
        assert_eq!(other.actions(), 1);
        assert_eq!(event().actions(), 2);
    }
}
