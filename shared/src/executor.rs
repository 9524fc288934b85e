//! The one place actions are executed: validate, call the provider with retries inside the
//! deadline, look before repeating a change whose first answer was lost, and report an outcome.

use crate::action::Action;
use crate::clients::Reply;
use crate::clients::alibaba::AlibabaClient;
use crate::clients::huawei::HuaweiClient;
use crate::config::ExecutorConfig;
use crate::error::{ProviderError, ValidationError};
use crate::outcome::{Outcome, RequestView, Source, Status};
use crate::providers::reads::Read;
use crate::providers::{Request, alb, ga, roma, slb};
use crate::transport::Transport;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::{Instant, sleep};

/// Per-execution context from the trigger.
#[derive(Debug, Clone, Copy)]
pub struct Execution {
    /// The invocation's deadline; no call starts that could not finish before it.
    pub deadline: Instant,
    /// The event was delivered before (an earlier attempt may have applied the change).
    pub redelivered: bool,
}

pub struct Executor {
    config: ExecutorConfig,
    transport: Transport,
    alibaba: Option<AlibabaClient>,
    huawei: Option<HuaweiClient>,
}

/// How a change ended: applied now, or found already applied by an earlier attempt.
enum Applied {
    Now(Reply),
    Already(Reply),
}

impl Executor {
    pub fn new(config: ExecutorConfig, transport: Transport) -> Self {
        Self {
            alibaba: config
                .alibaba
                .clone()
                .map(|c| AlibabaClient::new(transport.clone(), c)),
            huawei: config
                .huawei
                .clone()
                .map(|c| HuaweiClient::new(transport.clone(), c)),
            config,
            transport,
        }
    }

    pub fn config(&self) -> &ExecutorConfig {
        &self.config
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Validates `action` without executing it.
    pub fn validate(&self, action: &Action) -> Result<Request, ValidationError> {
        Request::from_action(action, self.config.huawei_project_id.as_deref())
    }

    /// Executes one action and reports what happened. Never panics on provider input, never
    /// loses the action: every path ends in an outcome.
    pub async fn execute(&self, action: Action, source: Source, ctx: Execution) -> Outcome {
        let mut outcome = Outcome::start(Some(action.clone()), source);
        let request = match self.validate(&action) {
            Ok(r) => r,
            Err(e) => {
                outcome.error = Some((&e).into());
                return outcome.finish(Status::Rejected);
            }
        };
        let region = action.region.as_deref().unwrap_or_default();
        let mut run = Run {
            policy: self.config.retry,
            ctx,
            attempts: 0,
        };
        let result = match &request {
            Request::Alb(r) => self.alb(r, region, &mut run, &mut outcome).await,
            Request::SlbModify(r) => self.slb_modify(r, region, &mut run, &mut outcome).await,
            Request::SlbCreate(r) => self.slb_create(r, region, &mut run, &mut outcome).await,
            Request::Roma(r) => self.roma(r, region, &mut run, &mut outcome).await,
            Request::Ga(r) => self.ga(r, &mut run, &mut outcome).await,
        };
        outcome.attempts = run.attempts;
        match result {
            Ok(status) => outcome.finish(status),
            Err(e) => outcome.failed(&e),
        }
    }

    /// Reads a group's current state (every page), with the same retries and deadline as a change.
    pub async fn read(&self, read: &Read, deadline: Instant) -> Result<Value, ProviderError> {
        read.validate().map_err(|e| ProviderError {
            code: "InvalidRead".into(),
            message: e.to_string(),
            http_status: None,
            request_id: None,
            retryable: false,
            ambiguous: false,
            retry_after: None,
        })?;
        let mut run = Run {
            policy: self.config.retry,
            ctx: Execution {
                deadline,
                redelivered: false,
            },
            attempts: 0,
        };
        let reply = match read {
            Read::AlbServers {
                region,
                server_group_id,
            } => {
                let client = self.alibaba()?;
                let base = self.config.endpoints.alb(region);
                let mut servers = Vec::new();
                let mut token: Option<String> = None;
                loop {
                    let req = alb::list_servers(&base, server_group_id, token.as_deref());
                    let page = run
                        .retry(async |timeout, _| {
                            client
                                .call(req.clone(), alb::LIST_SERVERS_ACTION, alb::VERSION, timeout)
                                .await
                        })
                        .await?;
                    servers.extend(page.body["Servers"].as_array().cloned().unwrap_or_default());
                    token = page
                        .body
                        .get("NextToken")
                        .and_then(Value::as_str)
                        .filter(|t| !t.is_empty())
                        .map(str::to_string);
                    // A group holds at most a few thousand servers; stop a runaway pager.
                    if token.is_none() || servers.len() > 10_000 {
                        break json!({"ServerGroupId": server_group_id, "Servers": servers});
                    }
                }
            }
            Read::SlbGroup {
                region,
                vserver_group_id,
            } => {
                let client = self.alibaba()?;
                let req = slb::describe_group(
                    &self.config.endpoints.slb(region),
                    region,
                    vserver_group_id,
                );
                run.retry(async |timeout, _| {
                    client
                        .call(
                            req.clone(),
                            slb::DESCRIBE_GROUP_ACTION,
                            slb::VERSION,
                            timeout,
                        )
                        .await
                })
                .await?
                .body
            }
            Read::RomaGroup { region, group } => {
                let client = self.huawei()?;
                let req = group.show(&self.config.endpoints.roma(region));
                run.retry(async |timeout, _| {
                    client
                        .call(req.clone(), Some(&group.project_id), timeout)
                        .await
                })
                .await?
                .body
            }
            Read::RomaSiblings { region, group } => {
                let client = self.huawei()?;
                let req = group.list_siblings(&self.config.endpoints.roma(region));
                run.retry(async |timeout, _| {
                    client
                        .call(req.clone(), Some(&group.project_id), timeout)
                        .await
                })
                .await?
                .body
            }
            Read::GaListenerGroups { listener_id } => {
                let client = self.huawei()?;
                let req = ga::list_listener_groups(&self.config.endpoints.ga(), listener_id);
                run.retry(async |timeout, _| client.call(req.clone(), None, timeout).await)
                    .await?
                    .body
            }
            Read::GaGroup { endpoint_group_id } => {
                let client = self.huawei()?;
                let req = ga::show(&self.config.endpoints.ga(), endpoint_group_id);
                run.retry(async |timeout, _| client.call(req.clone(), None, timeout).await)
                    .await?
                    .body
            }
        };
        Ok(reply)
    }

    fn alibaba(&self) -> Result<&AlibabaClient, ProviderError> {
        self.alibaba.as_ref().ok_or_else(|| {
            not_configured(
                "Alibaba Cloud",
                "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            )
        })
    }

    fn huawei(&self) -> Result<&HuaweiClient, ProviderError> {
        self.huawei.as_ref().ok_or_else(|| {
            not_configured("Huawei Cloud", "HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK")
        })
    }

    async fn alb(
        &self,
        r: &alb::UpdateServerGroupServersAttribute,
        region: &str,
        run: &mut Run,
        outcome: &mut Outcome,
    ) -> Result<Status, ProviderError> {
        let client = self.alibaba()?;
        let base = self.config.endpoints.alb(region);
        let sent = run
            .retry(async |timeout, _| {
                client
                    .call(r.to_http(&base), alb::UPDATE_ACTION, alb::VERSION, timeout)
                    .await
            })
            .await;
        let reply = match sent {
            // With DryRun the provider checks the request and answers DryRunOperation.
            Err(e) if r.dry_run && e.code == "DryRunOperation" => {
                outcome.provider_request_id = e.request_id.clone();
                outcome.response =
                    Some(json!({"Code": e.code, "Message": e.message, "RequestId": e.request_id}));
                return Ok(Status::DryRun);
            }
            other => other?,
        };
        record(outcome, &reply);
        if r.dry_run {
            return Ok(Status::DryRun);
        }
        let Some(job_id) = reply.body.get("JobId").and_then(Value::as_str) else {
            return Ok(Status::Succeeded);
        };
        let job = self
            .wait_for_alb_job(client, &base, job_id, run.ctx.deadline)
            .await;
        outcome.detail = Some(json!({"job": job}));
        match job {
            Some(job) if job.status == "Failed" => Err(ProviderError {
                code: job.error_code.clone().unwrap_or_else(|| "JobFailed".into()),
                message: job
                    .error_message
                    .clone()
                    .unwrap_or_else(|| format!("ALB job {} failed", job.id)),
                http_status: None,
                request_id: reply.request_id.clone(),
                // The same ClientToken would only return the same failed job.
                retryable: false,
                ambiguous: false,
                retry_after: None,
            }),
            _ => Ok(Status::Succeeded),
        }
    }

    /// Polls `ListAsynJobs` until the job finishes, the wait runs out, or the deadline nears.
    /// `None` when it could not be read at all.
    async fn wait_for_alb_job(
        &self,
        client: &AlibabaClient,
        base: &crate::endpoints::BaseUrl,
        job_id: &str,
        deadline: Instant,
    ) -> Option<alb::Job> {
        let policy = self.config.retry;
        let give_up = Instant::now() + self.config.alb_job_wait;
        let mut interval = Duration::from_millis(100);
        let mut last = None;
        loop {
            let timeout = policy.call_timeout(deadline)?;
            if let Ok(reply) = client
                .call(
                    alb::list_job(base, job_id),
                    alb::LIST_JOBS_ACTION,
                    alb::VERSION,
                    timeout,
                )
                .await
            {
                let job = alb::find_job(&reply.body, job_id).unwrap_or(alb::Job {
                    id: job_id.to_string(),
                    status: "Processing".into(),
                    error_code: None,
                    error_message: None,
                });
                if job.is_finished() {
                    return Some(job);
                }
                last = Some(job);
            }
            if Instant::now() + interval > give_up || !policy.can_wait(interval, deadline) {
                return last;
            }
            sleep(interval).await;
            interval = (interval * 2).min(Duration::from_secs(1));
        }
    }

    async fn slb_modify(
        &self,
        r: &slb::ModifyVServerGroupBackendServers,
        region: &str,
        run: &mut Run,
        outcome: &mut Outcome,
    ) -> Result<Status, ProviderError> {
        let base = self.config.endpoints.slb(region);
        if run.ctx_dry_run(outcome, &r.to_http(&base)) {
            return Ok(Status::DryRun);
        }
        let client = self.alibaba()?;
        let look = async |timeout| {
            let read = slb::describe_group(&base, &r.region_id, &r.vserver_group_id);
            let current = client
                .call(read, slb::DESCRIBE_GROUP_ACTION, slb::VERSION, timeout)
                .await?;
            Ok(r.is_applied_in(&slb::backends_in(&current.body))
                .then_some(current))
        };
        self.slb_change(run, outcome, r.to_http(&base), slb::MODIFY_ACTION, look)
            .await
    }

    async fn slb_create(
        &self,
        r: &slb::CreateVServerGroup,
        region: &str,
        run: &mut Run,
        outcome: &mut Outcome,
    ) -> Result<Status, ProviderError> {
        let base = self.config.endpoints.slb(region);
        if run.ctx_dry_run(outcome, &r.to_http(&base)) {
            return Ok(Status::DryRun);
        }
        let client = self.alibaba()?;
        let look = async |timeout| {
            let Some(read) = r.describe_by_name(&base) else {
                return Ok(None);
            };
            let found = client
                .call(read, slb::DESCRIBE_GROUPS_ACTION, slb::VERSION, timeout)
                .await?;
            Ok(r.find_existing(&found.body).map(|id| Reply {
                body: json!({"VServerGroupId": id, "RequestId": found.request_id}),
                ..found
            }))
        };
        self.slb_change(run, outcome, r.to_http(&base), slb::CREATE_ACTION, look)
            .await
    }

    /// An SLB change that has no idempotency token: after an ambiguous failure (or on a
    /// redelivery) `look` checks whether an earlier attempt applied it, and then it is not sent again.
    async fn slb_change(
        &self,
        run: &mut Run,
        outcome: &mut Outcome,
        write: crate::http::HttpRequest,
        action: &str,
        look: impl AsyncFn(Duration) -> Result<Option<Reply>, ProviderError>,
    ) -> Result<Status, ProviderError> {
        let client = self.alibaba()?;
        let applied = run
            .retry(async |timeout, after_ambiguity| {
                if after_ambiguity && let Some(found) = look(timeout).await? {
                    return Ok(Applied::Already(found));
                }
                client
                    .call(write.clone(), action, slb::VERSION, timeout)
                    .await
                    .map(Applied::Now)
            })
            .await?;
        finish_applied(outcome, applied);
        Ok(Status::Succeeded)
    }

    async fn roma(
        &self,
        r: &roma::UpdateMemberGroup,
        region: &str,
        run: &mut Run,
        outcome: &mut Outcome,
    ) -> Result<Status, ProviderError> {
        let base = self.config.endpoints.roma(region);
        if run.ctx_dry_run(outcome, &r.to_http(&base)) {
            return Ok(Status::DryRun);
        }
        let client = self.huawei()?;
        // A PUT of the same body is idempotent: repeating it is safe.
        let reply = run
            .retry(async |timeout, _| {
                client
                    .call(r.to_http(&base), Some(&r.project_id), timeout)
                    .await
            })
            .await?;
        record(outcome, &reply);
        Ok(Status::Succeeded)
    }

    async fn ga(
        &self,
        r: &ga::UpdateEndpointGroup,
        run: &mut Run,
        outcome: &mut Outcome,
    ) -> Result<Status, ProviderError> {
        let base = self.config.endpoints.ga();
        if run.ctx_dry_run(outcome, &r.to_http(&base)) {
            return Ok(Status::DryRun);
        }
        let client = self.huawei()?;
        // Read first: the dial before, and wait while a previous change is still PENDING.
        let give_up = Instant::now() + self.config.ga_pending_wait;
        let mut interval = Duration::from_millis(200);
        let before = loop {
            let current = run
                .retry(async |timeout, _| client.call(r.show(&base), None, timeout).await)
                .await?;
            let (status, _) = ga::status_and_dial(&current.body);
            if status.as_deref() != Some("PENDING") {
                break current;
            }
            if Instant::now() + interval > give_up
                || !run.policy.can_wait(interval, run.ctx.deadline)
            {
                return Err(ProviderError {
                    code: "EndpointGroupPending".into(),
                    message: format!(
                        "endpoint group {} stayed PENDING; not updated",
                        r.endpoint_group_id
                    ),
                    http_status: None,
                    request_id: current.request_id,
                    retryable: true,
                    ambiguous: false,
                    retry_after: None,
                });
            }
            sleep(interval).await;
            interval = (interval * 2).min(Duration::from_secs(2));
        };
        // `attempts` counts tries of the change, not the reads before it.
        run.attempts = 0;
        let reply = run
            .retry(async |timeout, _| client.call(r.to_http(&base), None, timeout).await)
            .await?;
        let view = |v: &Value| {
            let (status, dial) = ga::status_and_dial(v);
            json!({"status": status, "traffic_dial_percentage": dial})
        };
        outcome.detail = Some(json!({"before": view(&before.body), "after": view(&reply.body)}));
        record(outcome, &reply);
        Ok(Status::Succeeded)
    }
}

fn record(outcome: &mut Outcome, reply: &Reply) {
    outcome.provider_request_id = reply.request_id.clone();
    outcome.response = Some(reply.body.clone());
}

fn finish_applied(outcome: &mut Outcome, applied: Applied) {
    match applied {
        Applied::Now(reply) => record(outcome, &reply),
        Applied::Already(reply) => {
            record(outcome, &reply);
            outcome.detail = Some(
                json!({"already_applied": true, "note": "an earlier attempt had applied this change; it was not sent again"}),
            );
        }
    }
}

fn not_configured(provider: &str, vars: &str) -> ProviderError {
    ProviderError {
        code: "NotConfigured".into(),
        message: format!("{provider} credentials are not configured: set {vars}"),
        http_status: None,
        request_id: None,
        retryable: false,
        ambiguous: false,
        retry_after: None,
    }
}

/// The retry state of one execution.
struct Run {
    policy: crate::retry::RetryPolicy,
    ctx: Execution,
    attempts: u32,
}

impl Run {
    /// For dry runs of operations without a provider dry-run mode: record the request, send nothing.
    fn ctx_dry_run(&self, outcome: &mut Outcome, req: &crate::http::HttpRequest) -> bool {
        let dry = outcome.action.as_ref().is_some_and(|a| a.dry_run);
        if dry {
            outcome.requests.push(RequestView::from(req));
        }
        dry
    }

    /// Calls `f(timeout, after_ambiguity)` until it succeeds, fails for good, runs out of
    /// attempts, or the deadline leaves no room. `after_ambiguity` is true when an earlier
    /// attempt (or delivery) may have applied the change, so `f` should look before repeating it.
    async fn retry<T>(
        &mut self,
        mut f: impl AsyncFnMut(Duration, bool) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        let mut after_ambiguity = self.ctx.redelivered;
        let mut tries = 0;
        loop {
            let Some(timeout) = self.policy.call_timeout(self.ctx.deadline) else {
                return Err(ProviderError {
                    retryable: true,
                    ..ProviderError::transport(
                        "DeadlineExceeded",
                        "too little time left before the invocation deadline to call the provider",
                        after_ambiguity,
                    )
                });
            };
            tries += 1;
            self.attempts += 1;
            match f(timeout, after_ambiguity).await {
                Ok(v) => return Ok(v),
                Err(e) if e.retryable && tries < self.policy.max_attempts => {
                    let delay = self.policy.delay(tries, e.retry_after);
                    if !self.policy.can_wait(delay, self.ctx.deadline) {
                        return Err(e);
                    }
                    tracing::warn!(code = %e.code, attempt = tries, delay_ms = delay.as_millis() as u64, "provider call failed; retrying");
                    after_ambiguity |= e.ambiguous;
                    sleep(delay).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}
