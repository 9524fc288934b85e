//! Scheduled changes: EventBridge Scheduler (the target input is an action, a list of actions,
//! or `{"schedule": {...}, "actions": [...]}`) and EventBridge rules (a `Scheduled Event` whose
//! `detail` holds them, or the rule's constant input, which looks like Scheduler's).
//!
//! Actions run in order and stop at the first failure; a failure is an invocation error so
//! EventBridge's retry and the on-failure destination take over. Every attempt's outcome is
//! emitted.

use crate::action::Action;
use crate::emitter::OutcomeSink;
use crate::error::ValidationError;
use crate::executor::{Execution, Executor};
use crate::outcome::{Outcome, Source, Status};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

/// The most actions one schedule may carry (a staged ramp is a handful).
pub const MAX_ACTIONS: usize = 20;

/// Why a scheduled invocation failed; the message lists what happened to each action.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("the scheduled input is not valid: {0}")]
    Invalid(ValidationError),
    #[error("{0}")]
    Failed(String),
    #[error("outcomes could not be published to the results queue; the schedule will be retried")]
    Unpublished,
}

/// What a schedule carries, and what to call it in outcomes.
#[derive(Debug)]
struct Plan {
    source: Source,
    actions: Vec<Value>,
}

pub struct Scheduler<S> {
    executor: Executor,
    sink: S,
}

impl<S: OutcomeSink> Scheduler<S> {
    pub fn new(executor: Executor, sink: S) -> Self {
        Self { executor, sink }
    }

    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// Runs the schedule's actions in order. `request_id` names the invocation when the event
    /// itself carries no id (Scheduler input without a `schedule` block).
    pub async fn handle(
        &self,
        event: Value,
        request_id: &str,
        deadline: Instant,
    ) -> Result<Value, ScheduleError> {
        let plan = match plan(event, request_id) {
            Ok(plan) => plan,
            Err(invalid) => {
                let (error, source, input) = *invalid;
                let outcome = Outcome::invalid_input(&input, &error, source);
                self.publish(&[outcome]).await?;
                return Err(ScheduleError::Invalid(error));
            }
        };
        let mut outcomes = Vec::new();
        let mut failure = None;
        for (index, raw) in plan.actions.iter().enumerate() {
            let mut source = plan.source.clone();
            let mut detail = plan.source.detail.clone().unwrap_or_else(|| json!({}));
            detail["index"] = json!(index);
            source.detail = Some(detail);
            let outcome = match schedule_action(raw, &plan.source.id, index) {
                Ok(action) => {
                    let ctx = Execution {
                        deadline,
                        redelivered: false,
                    };
                    self.executor.execute(action, source, ctx).await
                }
                Err(e) => Outcome::invalid_input(&raw.to_string(), &e, source),
            };
            let ok = matches!(outcome.status, Status::Succeeded | Status::DryRun);
            if !ok {
                failure = Some(describe(index, &outcome, plan.actions.len()));
            }
            outcomes.push(outcome);
            if !ok {
                break;
            }
        }
        for outcome in &mut outcomes {
            // EventBridge retries a failed invocation: a retryable failure is not the last word.
            outcome.is_final = !outcome.is_retryable_failure();
        }
        self.publish(&outcomes).await?;
        match failure {
            Some(message) => Err(ScheduleError::Failed(message)),
            None => Ok(json!({
                "source": plan.source.id,
                "actions": outcomes.iter().map(|o| json!({
                    "id": o.action_id(), "status": o.status, "detail": o.detail,
                })).collect::<Vec<_>>(),
            })),
        }
    }

    async fn publish(&self, outcomes: &[Outcome]) -> Result<(), ScheduleError> {
        let published = self.sink.publish(outcomes).await;
        for (o, ok) in outcomes.iter().zip(&published) {
            tracing::info!(action_id = o.action_id(), source = %o.source.id, status = ?o.status, published = ok, "outcome");
        }
        if published.iter().all(|ok| *ok) {
            Ok(())
        } else {
            Err(ScheduleError::Unpublished)
        }
    }
}

fn describe(index: usize, outcome: &Outcome, total: usize) -> String {
    let error = outcome
        .error
        .as_ref()
        .map_or("unknown error".to_string(), |e| {
            format!("{}: {}", e.code, e.message)
        });
    let skipped = total - index - 1;
    format!(
        "action {} of {total} ({}) {:?}: {error}{}",
        index + 1,
        outcome.action_id().unwrap_or("not an action"),
        outcome.status,
        if skipped > 0 {
            format!("; the {skipped} after it were not run")
        } else {
            String::new()
        }
    )
}

/// An action of a schedule. Without an id of its own it gets one from the invocation and its
/// place in the list: the same firing retried keeps its ids (and ALB ClientTokens), while
/// tomorrow's firing of the same schedule is a new change.
fn schedule_action(raw: &Value, source_id: &str, index: usize) -> Result<Action, ValidationError> {
    let mut action = Action::from_value(raw.clone())?;
    if raw.get("id").is_none() {
        let digest = Sha256::digest(format!("{source_id}\n{index}\n{raw}").as_bytes());
        action.id = format!("sched-{}", &hex::encode(digest)[..32]);
    }
    Ok(action)
}

/// The input's problem, the source to report it under, and the input itself.
type PlanError = Box<(ValidationError, Source, String)>;

fn plan(event: Value, request_id: &str) -> Result<Plan, PlanError> {
    let input = event.to_string();
    let fallback = Source::new("schedule", request_id);
    let bad = |field: &str, rule: &str, source: Source| {
        Err(Box::new((
            ValidationError::new(field, rule),
            source,
            input.clone(),
        )))
    };
    if event.get("detail-type").is_some() && event.get("source").is_some() {
        // An EventBridge rule's event: the actions are in `detail`.
        let mut source = Source::new(
            "eventbridge",
            event
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or(request_id),
        );
        source.detail = Some(json!({
            "rule": event.pointer("/resources/0"),
            "time": event.get("time"),
            "detail_type": event.get("detail-type"),
        }));
        let detail = event.get("detail").cloned().unwrap_or(Value::Null);
        return match actions_of(detail) {
            Ok(actions) => Ok(Plan { source, actions }),
            Err(rule) => bad("detail", &rule, source),
        };
    }
    let mut source = fallback;
    let mut body = event;
    if let Some(schedule) = body.get("schedule").cloned() {
        // `"schedule": {"execution_id": "<aws.scheduler.execution-id>", ...}` in the target input.
        if !schedule.is_object() {
            // Found by fuzzing: a string here made the outcome's detail a string (a panic).
            return bad(
                "schedule",
                "must be an object (the Scheduler's context: execution_id, scheduled_time)",
                source,
            );
        }
        if let Some(id) = schedule.get("execution_id").and_then(Value::as_str) {
            source.id = id.to_string();
        }
        source.kind = "scheduler".into();
        source.detail = Some(schedule);
        if let Some(map) = body.as_object_mut() {
            map.remove("schedule");
        }
    }
    match actions_of(body) {
        Ok(actions) => Ok(Plan { source, actions }),
        Err(rule) => bad("input", &rule, source),
    }
}

/// An action, a list of actions, or `{"actions": [...]}`.
fn actions_of(value: Value) -> Result<Vec<Value>, String> {
    let list = match value {
        Value::Array(items) => items,
        Value::Object(mut map) if map.contains_key("actions") && !map.contains_key("operation") => {
            match map.remove("actions") {
                Some(Value::Array(items)) if map.is_empty() => items,
                Some(Value::Array(_)) => {
                    return Err(format!(
                        "unexpected fields beside \"actions\": {}",
                        map.keys().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
                _ => return Err("\"actions\" must be a list of actions".into()),
            }
        }
        Value::Object(map) => vec![Value::Object(map)],
        _ => return Err("must be an action, a list of actions, or {\"actions\": [...]}".into()),
    };
    if list.is_empty() || list.len() > MAX_ACTIONS {
        return Err(format!(
            "must hold 1-{MAX_ACTIONS} actions, got {}",
            list.len()
        ));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GA: &str = r#"{"operation":"ga:UpdateEndpointGroup","params":{"endpoint_group_id":"g","endpoint_group":{"traffic_dial_percentage":0}}}"#;

    #[test]
    fn reads_every_input_shape() {
        let ga: Value = serde_json::from_str(GA).unwrap();
        let one = plan(ga.clone(), "req-1").unwrap();
        assert_eq!(
            (
                one.actions.len(),
                one.source.kind.as_str(),
                one.source.id.as_str()
            ),
            (1, "schedule", "req-1")
        );
        let list = plan(json!([ga, ga]), "req-1").unwrap();
        assert_eq!(list.actions.len(), 2);
        let wrapped = plan(json!({"schedule": {"execution_id": "exec-9", "scheduled_time": "2026-12-02T01:00:00Z"}, "actions": [ga]}), "req-1").unwrap();
        assert_eq!(
            (wrapped.source.kind.as_str(), wrapped.source.id.as_str()),
            ("scheduler", "exec-9")
        );
        let rule = plan(json!({"version": "0", "id": "evt-1", "detail-type": "Scheduled Event", "source": "aws.events",
            "time": "2026-12-02T01:00:00Z", "resources": ["arn:aws:events:us-east-1:1:rule/r"], "detail": {"actions": [ga]}}), "req-1").unwrap();
        assert_eq!(
            (
                rule.source.kind.as_str(),
                rule.source.id.as_str(),
                rule.actions.len()
            ),
            ("eventbridge", "evt-1", 1)
        );
        let rule_single = plan(json!({"id": "evt-2", "detail-type": "Scheduled Event", "source": "aws.events", "detail": ga}), "r").unwrap();
        assert_eq!(rule_single.actions.len(), 1);
    }

    #[test]
    fn refuses_what_is_not_a_plan() {
        for bad in [
            json!(5),
            json!([]),
            json!({"actions": "x"}),
            json!({"actions": [], "extra": 1}),
            json!({"schedule": "aws.events", "actions": [{}]}),
            json!({"schedule": [1], "operation": "ga:UpdateEndpointGroup"}),
            Value::Array(vec![json!({}); MAX_ACTIONS + 1]),
        ] {
            assert!(plan(bad.clone(), "r").is_err(), "accepted {bad}");
        }
        // An empty rule detail is one action, refused when it is parsed.
        let empty = plan(
            json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}),
            "r",
        )
        .unwrap();
        assert!(schedule_action(&empty.actions[0], "r", 0).is_err());
    }

    #[test]
    fn ids_are_stable_per_firing_and_new_per_firing() {
        let ga: Value = serde_json::from_str(GA).unwrap();
        let a = schedule_action(&ga, "exec-1", 0).unwrap().id;
        assert_eq!(a, schedule_action(&ga, "exec-1", 0).unwrap().id);
        assert_ne!(a, schedule_action(&ga, "exec-2", 0).unwrap().id);
        assert_ne!(a, schedule_action(&ga, "exec-1", 1).unwrap().id);
        let mut with_id = ga.clone();
        with_id["id"] = json!("mine");
        assert_eq!(schedule_action(&with_id, "exec-1", 0).unwrap().id, "mine");
    }
}
