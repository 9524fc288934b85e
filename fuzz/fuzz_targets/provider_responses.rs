//! Provider answers: an HTTP status, headers and a body as ALB/SLB (Alibaba) or ROMA/GA
//! (Huawei) might send them, through the response parser the executor uses, then every reader
//! of a successful answer (ALB jobs, SLB backends and groups, GA status and dial, chat-ops'
//! status text) and the retry arithmetic an error's `retry_after` feeds.
//!
//! Input layout: byte 0 picks the family (bit 7) and the status (low 4 bits, from `STATUSES`);
//! byte 1 picks which headers to send; then, up to the first 0xFF byte, a header value; the
//! rest is the body.
#![no_main]

use lbpilot::chatops::aliases::Aliases;
use lbpilot::chatops::commands::describe_state;
use lbpilot::clients::{alibaba, huawei};
use lbpilot::providers::{alb, ga, slb};
use lbpilot::retry::RetryPolicy;
use lbpilot::transport::HttpResponse;
use lbpilot_fuzz::ALIASES;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::time::Instant;

const STATUSES: [u16; 16] = [
    200, 201, 202, 204, 299, 300, 400, 403, 404, 409, 429, 500, 502, 503, 504, 100,
];

/// Requests whose answers the readers below look into.
fn slb_requests() -> &'static (
    slb::CreateVServerGroup,
    slb::ModifyVServerGroupBackendServers,
) {
    static R: OnceLock<(
        slb::CreateVServerGroup,
        slb::ModifyVServerGroupBackendServers,
    )> = OnceLock::new();
    R.get_or_init(|| {
        let create = slb::CreateVServerGroup::from_params(
            &json!({"LoadBalancerId": "lb-1", "VServerGroupName": "Group1"}),
            "cn-hangzhou",
        )
        .expect("valid");
        let modify = slb::ModifyVServerGroupBackendServers::from_params(
            &json!({"VServerGroupId": "rsp-1",
                    "OldBackendServers": [{"ServerId": "vm-400", "Port": 80}],
                    "NewBackendServers": [{"ServerId": "vm-400", "Port": 80, "Weight": 0}]}),
            "cn-hangzhou",
        )
        .expect("valid");
        (create, modify)
    })
}

fn aliases() -> &'static Aliases {
    static A: OnceLock<Aliases> = OnceLock::new();
    A.get_or_init(|| Aliases::parse(ALIASES).expect("the example aliases parse"))
}

/// Everything that reads a successful answer's body.
fn read_body(body: &Value) {
    let job_id = body
        .pointer("/Jobs/0/Id")
        .and_then(Value::as_str)
        .unwrap_or("72dcd26b-f12d-4c27-b3af-18f6aed5****");
    if let Some(job) = alb::find_job(body, job_id) {
        assert_eq!(job.id, job_id);
        let _ = job.is_finished();
    }
    let (create, modify) = slb_requests();
    let backends = slb::backends_in(body);
    let listed = body
        .pointer("/BackendServers/BackendServer")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    assert!(backends.len() <= listed, "backends out of nothing");
    let _ = modify.is_applied_in(&backends);
    let _ = create.find_existing(body);
    let _ = ga::status_and_dial(body);
    for (name, alias) in &aliases().by_name {
        let text = describe_state(alias, name, body);
        assert!(text.starts_with(&format!("*{name}*")));
    }
}

fuzz_target!(|data: &[u8]| {
    let [pick, headers_pick, rest @ ..] = data else {
        return;
    };
    let huawei_family = pick & 0x80 != 0;
    let status = STATUSES[usize::from(pick & 0x0f)];
    let (value, body) = match rest.iter().position(|&b| b == 0xff) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&rest[..0], rest),
    };
    let value = String::from_utf8_lossy(value).into_owned();
    let mut headers = Vec::new();
    if headers_pick & 1 != 0 {
        headers.push(("x-acs-retry-after".to_string(), value.clone()));
    }
    if headers_pick & 2 != 0 {
        headers.push(("X-Request-Id".to_string(), value.clone()));
    }
    if headers_pick & 4 != 0 {
        headers.push(("content-type".to_string(), value));
    }
    let response = HttpResponse {
        status,
        headers,
        body: body.to_vec(),
    };
    let parsed = if huawei_family {
        huawei::parse_response(&response)
    } else {
        alibaba::parse_response(&response)
    };
    match parsed {
        Ok(reply) => {
            assert!((200..300).contains(&status));
            assert_eq!(reply.status, status);
            assert!(reply.body.is_object());
            read_body(&reply.body);
        }
        Err(e) => {
            assert!(!e.code.is_empty());
            assert_eq!(e.http_status, Some(status));
            if status >= 500 || status == 429 {
                assert!(e.retryable, "{e:?}");
            }
            // The executor's retry loop with this error: the delay, then whether it fits.
            let policy = RetryPolicy::default();
            let deadline = Instant::now() + Duration::from_secs(30);
            for attempt in 1..=policy.max_attempts {
                let delay = policy.delay(attempt, e.retry_after);
                let _ = policy.can_wait(delay, deadline);
            }
            let _ = policy.call_timeout(deadline);
        }
    }
});
