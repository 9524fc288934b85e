//! A scheduled invocation's payload (EventBridge Scheduler input, or an EventBridge rule's
//! event) run through the scheduled function's handler: the plan is read, each action parsed,
//! validated and executed offline, and every outcome published.
#![no_main]

use lbpilot::outcome::Status;
use lbpilot::triggers::schedule::{MAX_ACTIONS, ScheduleError, Scheduler};
use lbpilot_fuzz::{LastSink, block_on, deadline, offline_executor};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn scheduler() -> &'static Scheduler<LastSink> {
    static S: OnceLock<Scheduler<LastSink>> = OnceLock::new();
    S.get_or_init(|| Scheduler::new(offline_executor(), LastSink::default()))
}

fuzz_target!(|data: &[u8]| {
    // Lambda hands the function a JSON value; anything else never reaches it.
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let result = block_on(scheduler().handle(event, "fuzz-request", deadline()));
    let outcomes = scheduler().sink().take();
    // Every invocation leaves at least one audit record, and never more than the plan allows.
    assert!(
        (1..=MAX_ACTIONS).contains(&outcomes.len()),
        "{} outcomes",
        outcomes.len()
    );
    // Actions run in order and stop at the first failure: only the last may have failed.
    let (last, before) = outcomes.split_last().expect("not empty");
    for o in before {
        assert!(
            matches!(o.status, Status::Succeeded | Status::DryRun),
            "{o:?}"
        );
    }
    match result {
        Ok(summary) => {
            assert!(matches!(last.status, Status::Succeeded | Status::DryRun));
            assert_eq!(
                summary["actions"].as_array().map(Vec::len),
                Some(outcomes.len())
            );
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            if let ScheduleError::Invalid(v) = &e {
                assert!(!v.field.is_empty() && !v.rule.is_empty());
                assert_eq!(last.status, Status::Rejected);
            }
        }
    }
    for o in &outcomes {
        assert!(o.error.as_ref().is_none_or(|e| !e.code.is_empty()));
        assert!(o.input.as_ref().is_none_or(|i| i.chars().count() <= 2048));
        let _ = lbpilot::emitter::outcome_json(o);
    }
});
