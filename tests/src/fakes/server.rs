//! The HTTP side: one accept loop per product (hyper, HTTP/1.1), the common request path
//! (route → authenticate → fault → operation → record) and the fault answers.
//!
//! hyper is used directly rather than `axum::serve` because closing a connection without an
//! answer (the `drop` faults) needs the service to fail, which hyper then turns into a closed
//! socket.

use super::alb::{self, AlbJobFailure};
use super::alibaba::{AliCall, error_reply};
use super::faults::{FaultKind, Product};
use super::huawei::{self, HwCall};
use super::record::RecordedRequest;
use super::wire::{Incoming, Reply};
use super::world::{Shared, World};
use super::{admin, auth, ga, roma, slb, util};
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lbpilot::signing::encoding;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

const MAX_BODY: usize = 4 * 1024 * 1024;

/// The error that makes hyper close the connection without answering.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DropConnection {}

/// Accepts connections until the task is aborted (which also ends its connections).
pub async fn serve(listener: TcpListener, product: Product, shared: Arc<Shared>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    conns.spawn(serve_connection(stream, product, shared.clone()));
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: TcpStream, product: Product, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
        let shared = shared.clone();
        async move { respond(product, shared, req).await }
    });
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), svc)
        .await;
}

async fn respond(
    product: Product,
    shared: Arc<Shared>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, DropConnection> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(Body::new(body), MAX_BODY)
        .await
        .map_err(|_| DropConnection)?;
    let incoming = Incoming {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        raw_query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    };
    if admin::is_admin(&incoming.path) {
        return Ok(to_response(admin::handle(product, &shared, &incoming)));
    }
    let outcome = dispatch(product, &shared, &incoming);
    if let Some(d) = outcome.delay {
        tokio::time::sleep(d).await;
    }
    match outcome.reply {
        Some(reply) => Ok(to_response(reply)),
        None => Err(DropConnection),
    }
}

fn to_response(reply: Reply) -> Response<Body> {
    let mut resp = Response::new(Body::from(reply.body));
    *resp.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (n, v) in reply.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(n), HeaderValue::try_from(v)) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}

/// What to send: a reply (or none: close the connection), possibly after a delay.
struct Outcome {
    reply: Option<Reply>,
    delay: Option<Duration>,
}

/// How the operation is to run, after the fault check.
enum Run {
    /// Do not run it: answer this instead (or drop the connection when `None`).
    Instead(Option<Reply>),
    /// Run it; then answer normally, late, or not at all.
    Normally {
        delay: Option<Duration>,
        drop_after: bool,
        job_failure: Option<AlbJobFailure>,
    },
}

fn dispatch(product: Product, shared: &Shared, req: &Incoming) -> Outcome {
    let mut rec = RecordedRequest {
        seq: 0,
        product,
        action: String::new(),
        method: req.method.clone(),
        path: req.path.clone(),
        query: encoding::parse_pairs(&req.raw_query),
        headers: req.headers.clone(),
        body: String::from_utf8_lossy(&req.body).into_owned(),
        status: None,
        error_code: None,
        fault: None,
        access_key: None,
        replayed: false,
        received_at_ms: util::epoch_ms(),
    };
    let mut world = shared.lock();
    let outcome = if product.is_alibaba() {
        alibaba_request(product, &mut world, req, &mut rec)
    } else {
        huawei_request(product, &mut world, req, &mut rec)
    };
    if let Some(reply) = &outcome.reply {
        rec.status = Some(reply.status);
        rec.error_code = reply.error_code.clone();
    }
    let (rec, log) = world.record(rec);
    drop(world);
    if let Some(log) = log {
        log(&rec);
    }
    outcome
}

/// Fault check: what the armed fault (if any) does to this call.
fn fault_run(
    world: &mut World,
    product: Product,
    action: &str,
    rec: &mut RecordedRequest,
    request_id: &str,
    host: &str,
    req: &Incoming,
) -> Run {
    let request = format!(
        "{}?{}\n{}",
        req.path,
        req.raw_query,
        String::from_utf8_lossy(&req.body)
    );
    let Some(kind) = world.faults.fire_on(product, action, &request) else {
        return Run::Normally {
            delay: None,
            drop_after: false,
            job_failure: None,
        };
    };
    rec.fault = Some(kind.name().to_string());
    let alibaba = product.is_alibaba();
    let error = |status: u16, code: &str, msg: &str| {
        if alibaba {
            error_reply(product, host, request_id, status, code, msg)
        } else {
            huawei::error_reply(request_id, status, code, msg)
        }
    };
    match kind {
        FaultKind::ServerError { status, code } => {
            let reply = if alibaba {
                let code = code.unwrap_or_else(|| {
                    if status == 503 {
                        "ServiceUnavailable"
                    } else {
                        "InternalError"
                    }
                    .into()
                });
                let msg = if code == "ServiceUnavailable" {
                    "The request has failed due to a temporary failure of the server."
                } else {
                    "The request processing has failed due to some unknown error, exception or failure."
                };
                error(status, &code, msg)
            } else {
                error(
                    status,
                    &code.unwrap_or_else(|| "APIG.9999".into()),
                    "System error",
                )
            };
            Run::Instead(Some(reply))
        }
        FaultKind::Throttle { retry_after_ms } => {
            let reply = if alibaba {
                let r = error(
                    400,
                    "Throttling.User",
                    "Request was denied due to user flow control.",
                );
                match retry_after_ms {
                    Some(ms) => r.with_header("x-acs-retry-after", ms.to_string()),
                    None => r,
                }
            } else {
                let r = error(
                    429,
                    "APIG.0308",
                    "The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute",
                );
                match retry_after_ms {
                    Some(ms) => r.with_header("retry-after", ms.div_ceil(1000).to_string()),
                    None => r,
                }
            };
            Run::Instead(Some(reply))
        }
        FaultKind::Latency { ms } => Run::Normally {
            delay: Some(Duration::from_millis(ms)),
            drop_after: false,
            job_failure: None,
        },
        FaultKind::Drop => Run::Instead(None),
        FaultKind::AppliedThenDrop => Run::Normally {
            delay: None,
            drop_after: true,
            job_failure: None,
        },
        FaultKind::MalformedBody => {
            let body = if alibaba {
                format!("{{\"RequestId\":\"{request_id}\",\"Jo")
            } else {
                format!("{{\"request_id\":\"{request_id}\",\"endpoint_gr")
            };
            let mut reply = Reply::json(200, &serde_json::Value::Null);
            reply.body = body.into_bytes();
            if !alibaba {
                reply = reply.with_header("x-request-id", request_id.to_string());
            }
            Run::Instead(Some(reply))
        }
        FaultKind::JobFails { code, message } => Run::Normally {
            delay: None,
            drop_after: false,
            job_failure: Some(AlbJobFailure {
                code: code.unwrap_or_else(|| "InternalError".into()),
                message: message.unwrap_or_else(|| "The job failed (injected by the fake).".into()),
            }),
        },
    }
}

fn finish(run: Run, operation: impl FnOnce(Option<AlbJobFailure>) -> Reply) -> Outcome {
    match run {
        Run::Instead(reply) => Outcome { reply, delay: None },
        Run::Normally {
            delay,
            drop_after,
            job_failure,
        } => {
            let reply = operation(job_failure);
            Outcome {
                reply: (!drop_after).then_some(reply),
                delay,
            }
        }
    }
}

fn answer(reply: Reply) -> Outcome {
    Outcome {
        reply: Some(reply),
        delay: None,
    }
}

fn alibaba_request(
    product: Product,
    world: &mut World,
    req: &Incoming,
    rec: &mut RecordedRequest,
) -> Outcome {
    let query = encoding::parse_pairs(&req.raw_query);
    let from_query = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let action = req
        .header("x-acs-action")
        .or_else(|| from_query("Action"))
        .unwrap_or_default();
    let version = req
        .header("x-acs-version")
        .or_else(|| from_query("Version"))
        .unwrap_or_default();
    rec.action = action.clone();
    let call = AliCall::new(product, &action, req);
    let (actions, expected_version) = match product {
        Product::Alb => (alb::ACTIONS, alb::VERSION),
        _ => (slb::ACTIONS, slb::VERSION),
    };
    if !actions.contains(&action.as_str()) {
        return answer(call.error(
            404,
            "InvalidAction.NotFound",
            &format!("Specified api {action:?} is not found, please check your url and method."),
        ));
    }
    if version != expected_version {
        return answer(call.error(
            400,
            "InvalidVersion",
            &format!("Specified parameter Version {version:?} is not valid."),
        ));
    }
    match auth::alibaba_check(
        product,
        req,
        &world.alibaba_keys,
        &mut world.nonces,
        world.seed.max_clock_skew_secs,
        &call.request_id,
    ) {
        Ok(ak) => rec.access_key = Some(ak),
        Err(reply) => return answer(reply),
    }
    let run = fault_run(
        world,
        product,
        &action,
        rec,
        &call.request_id,
        &call.host,
        req,
    );
    let state = &mut world.state;
    let mut replayed = false;
    let outcome = finish(run, |job_failure| match product {
        Product::Alb => {
            let (reply, replay) = alb::handle(&mut state.alb, &call, job_failure);
            replayed = replay;
            reply
        }
        _ => slb::handle(&mut state.slb, &call),
    });
    rec.replayed = replayed;
    outcome
}

fn huawei_request(
    product: Product,
    world: &mut World,
    req: &Incoming,
    rec: &mut RecordedRequest,
) -> Outcome {
    let segments = huawei::segments(&req.path);
    let route = match product {
        Product::Roma => roma::route(&req.method, &segments).map(|r| (r.operation, Some(r), None)),
        _ => ga::route(&req.method, &segments).map(|(op, id)| (op, None, id)),
    };
    let request_id = util::hex32();
    let Some((operation, roma_route, ga_group)) = route else {
        return answer(huawei::error_reply(
            &request_id,
            404,
            "APIG.0101",
            "The API does not exist or has not been published in the environment.",
        ));
    };
    rec.action = operation.to_string();
    let mut call = HwCall::new(operation, req);
    call.request_id = request_id;
    match auth::huawei_check(
        req,
        &world.huawei_keys,
        world.seed.max_clock_skew_secs,
        &call.request_id,
    ) {
        Ok(ak) => rec.access_key = Some(ak),
        Err(reply) => return answer(reply),
    }
    if let Some(r) = &roma_route
        && req.header("x-project-id").as_deref() != Some(r.project_id.as_str())
    {
        // The code is the fake's choice: the gateway scopes AK/SK requests by X-Project-Id.
        return answer(call.error(
            401,
            "APIG.0301",
            "Incorrect IAM authentication information: the X-Project-Id header does not match the project in the URI",
        ));
    }
    let run = fault_run(world, product, operation, rec, &call.request_id, "", req);
    let state = &mut world.state;
    finish(run, |_| match &roma_route {
        Some(r) => roma::handle(&mut state.roma, r, &call),
        None => ga::handle(&mut state.ga, operation, ga_group.as_deref(), &call),
    })
}
