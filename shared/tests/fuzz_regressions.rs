//! Inputs the fuzz targets (fuzz/, `scripts/fuzz`) found, kept as tests so the fixes stay.
//! Each crashing input is also in the target's corpus (fuzz/corpus/<target>/regression-*).

use lbpilot::action::Action;
use lbpilot::alerts::parse_cloudmonitor;
use lbpilot::clients::{alibaba, huawei};
use lbpilot::transport::HttpResponse;

fn response(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    }
}

/// provider_responses: an error body with an empty code gave a `ProviderError` (and an outcome
/// error) whose code was the empty string. An empty code now counts as none.
#[test]
fn an_empty_provider_error_code_falls_back_to_the_http_status() {
    let e = huawei::parse_response(&response(400, r#"{"error":{"code":""},"request_id":"r"}"#))
        .unwrap_err();
    assert_eq!(e.code, "HTTP400");
    // An empty code at the top level does not hide a real one one object down.
    let e = huawei::parse_response(&response(
        400,
        r#"{"error_code":"","error":{"code":"GA.9004","message":"busy"}}"#,
    ))
    .unwrap_err();
    assert_eq!((e.code.as_str(), e.retryable), ("GA.9004", true));

    let e = alibaba::parse_response(&response(404, r#"{"Code":"","Message":"","RequestId":""}"#))
        .unwrap_err();
    assert_eq!(e.code, "HTTP404");
    assert!(!e.message.is_empty());
}

/// alert_payloads: a CloudMonitor form with two nameless fields (`=a&=b`) was refused with an
/// error whose field was the empty string. Nameless fields are now ignored, like unknown ones.
#[test]
fn nameless_cloudmonitor_form_fields_are_ignored() {
    let n = parse_cloudmonitor(b"alertName=cpu&=a&alertState=ALERT&=b&=%FF").unwrap();
    assert_eq!(n.alerts[0].name, "cpu");
    assert!(!n.alerts[0].labels.contains_key(""));
    // Errors always name a field.
    let e = parse_cloudmonitor(b"alertName=cpu&alertState=ALERT&alertState=OK").unwrap_err();
    assert_eq!(e.field, "alertState");
}

/// action: an action with an unknown field named "" was refused with an error whose field was
/// the empty string (the outcome's `error.field`). It now names the action.
#[test]
fn an_unknown_nameless_action_field_is_named() {
    let e = Action::from_json(
        r#"{"operation":"ga:UpdateEndpointGroup","":1,"params":{"endpoint_group_id":"g","endpoint_group":{"traffic_dial_percentage":0}}}"#,
    )
    .unwrap_err();
    assert_eq!(e.field, "action");
    assert!(e.rule.contains("unknown field"), "{e}");
}
