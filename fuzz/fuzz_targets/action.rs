//! A queue message body (what any producer puts on the command queue): parsed as an action,
//! validated against its operation's documented limits, laid out as a provider request, and
//! run through the queue worker exactly as an SQS record is.
#![no_main]

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use lbpilot::action::{Action, MAX_ID_LEN, MAX_REASON_CHARS};
use lbpilot::endpoints::BaseUrl;
use lbpilot::outcome::RequestView;
use lbpilot::providers::Request;
use lbpilot::triggers::sqs::QueueWorker;
use lbpilot_fuzz::{LastSink, block_on, deadline, json_eq, offline_executor};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The most of a refused body an outcome keeps (outcome.rs `MAX_INPUT_EXCERPT`).
const MAX_INPUT_EXCERPT: usize = 2048;

fn worker() -> &'static QueueWorker<LastSink> {
    static W: OnceLock<QueueWorker<LastSink>> = OnceLock::new();
    W.get_or_init(|| QueueWorker::new(offline_executor(), LastSink::default(), 1))
}

fn base() -> BaseUrl {
    BaseUrl {
        origin: "https://fuzz.example".into(),
        prefix: String::new(),
    }
}

/// Every typed request can be laid out and shown without panicking.
fn lay_out(request: &Request) {
    let http = match request {
        Request::Alb(r) => r.to_http(&base()),
        Request::SlbModify(r) => {
            // The JSON lists go out as Python-style JSON text: it must still mean the same list.
            for list in [&r.old, &r.new] {
                let reread: serde_json::Value =
                    serde_json::from_str(&list.text).expect("a backend list is JSON text");
                assert_eq!(reread.as_array().map(Vec::len), Some(list.entries.len()));
            }
            // A group showing exactly the new entries has the change applied.
            assert!(
                r.is_applied_in(&r.new.entries),
                "not applied in its own result"
            );
            r.to_http(&base())
        }
        Request::SlbCreate(r) => {
            let _ = r.describe_by_name(&base());
            r.to_http(&base())
        }
        Request::Roma(r) => {
            let _ = r.member_group().list_siblings(&base());
            r.to_http(&base())
        }
        Request::Ga(r) => {
            let _ = r.show(&base());
            r.to_http(&base())
        }
    };
    let view = RequestView::from(&http);
    assert!(
        view.url.starts_with("https://fuzz.example/"),
        "{}",
        view.url
    );
}

fuzz_target!(|data: &[u8]| {
    // SQS bodies are UTF-8 text.
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    match Action::from_json(body) {
        Err(e) => assert!(!e.field.is_empty() && !e.rule.is_empty(), "{e:?}"),
        Ok(action) => {
            assert!(
                !action.id.is_empty()
                    && action.id.len() <= MAX_ID_LEN
                    && action.id.bytes().all(|b| b.is_ascii_graphic()),
                "id {:?}",
                action.id
            );
            assert!(action.params.is_object());
            assert!(
                action
                    .reason
                    .as_ref()
                    .is_none_or(|r| r.chars().count() <= MAX_REASON_CHARS)
            );
            assert!(action.region.is_some() || !action.operation.needs_region());
            // What chat-ops and the schedules enqueue is the action re-serialised: it must read
            // back as the same action (same id, so the same ALB ClientToken).
            let text = serde_json::to_string(&action).expect("actions serialize");
            let again = Action::from_json(&text).expect("a serialised action parses again");
            assert_eq!(again.id, action.id);
            assert_eq!(again.operation, action.operation);
            assert_eq!(
                (&again.region, again.dry_run, &again.reason),
                (&action.region, action.dry_run, &action.reason)
            );
            assert!(json_eq(&again.params, &action.params), "params changed");
            let first = Request::from_action(&action, Some("fuzz-project"));
            let second = Request::from_action(&again, Some("fuzz-project"));
            assert_eq!(first.is_ok(), second.is_ok(), "{first:?} vs {second:?}");
            match first {
                Ok(request) => lay_out(&request),
                Err(e) => assert!(!e.field.is_empty() && !e.rule.is_empty(), "{e:?}"),
            }
        }
    }

    // The whole record path: parse, validate, execute (offline), one outcome per record.
    let mut record = SqsMessage::default();
    record.message_id = Some("fuzz-1".into());
    record.body = Some(body.to_string());
    record
        .attributes
        .insert("MessageGroupId".into(), "fuzz".into());
    let mut event = SqsEvent::default();
    event.records = vec![record];
    let response = block_on(worker().handle(event, deadline())).expect("the record has an id");
    assert!(response.batch_item_failures.len() <= 1);
    let outcomes = worker().sink().take();
    assert_eq!(outcomes.len(), 1, "one outcome per record");
    let outcome = &outcomes[0];
    assert!(
        outcome
            .input
            .as_ref()
            .is_none_or(|i| i.chars().count() <= MAX_INPUT_EXCERPT)
    );
    assert!(outcome.error.as_ref().is_none_or(|e| !e.code.is_empty()));
    let _ = lbpilot::emitter::outcome_json(outcome);
});
