//! ALB (API 2020-06-16): `UpdateServerGroupServersAttribute` (asynchronous, with a job),
//! `ListAsynJobs`, `ListServerGroupServers`, `ListServerGroups`.
//!
//! An update first checks its parameters, the group and its servers; a `ClientToken` seen
//! before returns the earlier `JobId` and applies nothing; a group that is `Configuring`
//! answers `IncorrectStatus.ServerGroup`; `DryRun=true` answers `DryRunOperation`. Otherwise a
//! job starts: the group and the named servers are `Configuring` until the job ends
//! `job_delay_ms` later, then the weights and descriptions are applied and the job is
//! `Succeeded` (or `Failed`, applying nothing, when a `job_fails` fault fired).

use super::alibaba::{AliCall, AliResult};
use super::util;
use super::wire::Reply;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub const VERSION: &str = "2020-06-16";
pub const UPDATE: &str = "UpdateServerGroupServersAttribute";
pub const ACTIONS: &[&str] = &[
    UPDATE,
    "ListAsynJobs",
    "ListServerGroupServers",
    "ListServerGroups",
];
const MAX_SERVERS: usize = 40;
const SERVER_TYPES: &[&str] = &["Ecs", "Eni", "Eci", "Ip", "Fc"];

/// Everything the ALB fake holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlbState {
    /// How long an update job stays `Processing` (default 300 ms).
    pub job_delay_ms: u64,
    pub server_groups: Vec<AlbServerGroup>,
    /// Jobs, oldest first.
    pub jobs: Vec<AlbJob>,
    /// ClientTokens already used, with the job each one created.
    pub client_tokens: Vec<AlbClientToken>,
}

impl Default for AlbState {
    fn default() -> Self {
        Self {
            job_delay_ms: 300,
            server_groups: Vec::new(),
            jobs: Vec::new(),
            client_tokens: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlbServerGroup {
    pub server_group_id: String,
    pub server_group_name: String,
    /// `Instance` | `Ip` | `Fc`.
    pub server_group_type: String,
    pub protocol: String,
    pub scheduler: String,
    pub vpc_id: String,
    /// `Available` | `Configuring` | `Creating`.
    pub status: String,
    pub servers: Vec<AlbServer>,
}

impl Default for AlbServerGroup {
    fn default() -> Self {
        Self {
            server_group_id: String::new(),
            server_group_name: String::new(),
            server_group_type: "Instance".into(),
            protocol: "HTTP".into(),
            scheduler: "Wrr".into(),
            vpc_id: String::new(),
            status: "Available".into(),
            servers: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlbServer {
    pub server_id: String,
    /// `Ecs` | `Eni` | `Eci` | `Ip` | `Fc`.
    pub server_type: String,
    pub server_ip: Option<String>,
    /// 0 for `Fc` servers, which have no port.
    pub port: u16,
    pub weight: u32,
    pub description: String,
    /// `Available` | `Configuring` | `Adding` | `Removing`.
    pub status: String,
    pub remote_ip_enabled: bool,
}

impl Default for AlbServer {
    fn default() -> Self {
        Self {
            server_id: String::new(),
            server_type: "Ecs".into(),
            server_ip: None,
            port: 80,
            weight: 100,
            description: String::new(),
            status: "Available".into(),
            remote_ip_enabled: false,
        }
    }
}

/// One server's requested change, applied when its job succeeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlbChange {
    pub server_id: String,
    pub server_ip: Option<String>,
    pub port: u16,
    pub weight: Option<u32>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlbJobFailure {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlbJob {
    pub id: String,
    pub api_name: String,
    pub resource_type: String,
    pub resource_id: String,
    pub operate_type: String,
    /// `Processing` | `Succeeded` | `Failed`.
    pub status: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// Epoch milliseconds.
    pub create_time: u64,
    pub modify_time: u64,
    pub changes: Vec<AlbChange>,
    /// Set by a `job_fails` fault: the job will end `Failed` with this.
    pub planned_failure: Option<AlbJobFailure>,
    /// When a `Processing` job ends; a seeded job without one stays `Processing`.
    #[serde(skip)]
    pub due: Option<Instant>,
}

impl Default for AlbJob {
    fn default() -> Self {
        Self {
            id: String::new(),
            api_name: UPDATE.into(),
            resource_type: "servergroup".into(),
            resource_id: String::new(),
            operate_type: "Update".into(),
            status: "Processing".into(),
            error_code: None,
            error_message: None,
            create_time: 0,
            modify_time: 0,
            changes: Vec::new(),
            planned_failure: None,
            due: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlbClientToken {
    pub token: String,
    pub job_id: String,
    /// The request's parameters (without the token), to refuse a token reused for another request.
    pub fingerprint: String,
}

impl AlbState {
    pub fn group(&self, id: &str) -> Option<&AlbServerGroup> {
        self.server_groups.iter().find(|g| g.server_group_id == id)
    }

    fn group_mut(&mut self, id: &str) -> Option<&mut AlbServerGroup> {
        self.server_groups
            .iter_mut()
            .find(|g| g.server_group_id == id)
    }

    /// Ends the jobs that are due: applies their changes (or fails them) and frees the group.
    pub fn advance(&mut self, now: Instant) {
        let due: Vec<usize> = (0..self.jobs.len())
            .filter(|&i| {
                let j = &self.jobs[i];
                j.status == "Processing" && j.due.is_some_and(|d| d <= now)
            })
            .collect();
        for i in due {
            let job = self.jobs[i].clone();
            let Some(group) = self.group_mut(&job.resource_id) else {
                continue;
            };
            for change in &job.changes {
                if let Some(server) = group.servers.iter_mut().find(|s| change.identifies(s)) {
                    if job.planned_failure.is_none() {
                        if let Some(w) = change.weight {
                            server.weight = w;
                        }
                        if let Some(d) = &change.description {
                            server.description = d.clone();
                        }
                    }
                    server.status = "Available".into();
                }
            }
            let group_id = job.resource_id.clone();
            let j = &mut self.jobs[i];
            j.modify_time = util::epoch_ms();
            j.due = None;
            match &j.planned_failure {
                Some(f) => {
                    j.status = "Failed".into();
                    j.error_code = Some(f.code.clone());
                    j.error_message = Some(f.message.clone());
                }
                None => j.status = "Succeeded".into(),
            }
            let busy = self
                .jobs
                .iter()
                .any(|j| j.resource_id == group_id && j.status == "Processing");
            if let Some(group) = self.group_mut(&group_id)
                && !busy
                && group.status == "Configuring"
            {
                group.status = "Available".into();
            }
        }
    }
}

impl AlbChange {
    fn identifies(&self, s: &AlbServer) -> bool {
        s.server_id == self.server_id
            && s.port == self.port
            && (self.server_ip.is_none() || s.server_ip == self.server_ip)
    }
}

/// Answers one ALB action. `job_failure` is set when a `job_fails` fault fired.
pub fn handle(
    state: &mut AlbState,
    call: &AliCall,
    job_failure: Option<AlbJobFailure>,
) -> (Reply, bool) {
    let result = match call.action.as_str() {
        UPDATE => return update(state, call, job_failure).unwrap_or_else(|e| (e, false)),
        "ListAsynJobs" => list_jobs(state, call),
        "ListServerGroupServers" => list_servers(state, call),
        "ListServerGroups" => list_groups(state, call),
        other => Err(call.error(
            404,
            "InvalidAction.NotFound",
            &format!("Specified api {other} is not found, please check your url and method."),
        )),
    };
    (result.unwrap_or_else(|e| e), false)
}

/// The update; the flag says the answer replays an earlier ClientToken.
fn update(
    state: &mut AlbState,
    call: &AliCall,
    job_failure: Option<AlbJobFailure>,
) -> AliResult<(Reply, bool)> {
    let group_id = call.required("ServerGroupId")?.to_string();
    let dry_run = call.bool_param("DryRun")?.unwrap_or(false);
    let token = call.param("ClientToken").filter(|t| !t.is_empty());
    if let Some(t) = token
        && (t.len() > 64 || !t.is_ascii())
    {
        return Err(call.invalid("ClientToken", t));
    }
    let fingerprint = fingerprint(call);
    if let (Some(t), false) = (token, dry_run)
        && let Some(seen) = state.client_tokens.iter().find(|c| c.token == t)
    {
        if seen.fingerprint != fingerprint {
            // The code is the fake's choice; the API document does not name one.
            return Err(call.error(
                400,
                "IdempotenceParamNotMatch",
                "Request uses a client token in a previous request but is not identical to that request.",
            ));
        }
        let body = json!({"JobId": seen.job_id});
        return Ok((call.ok(body), true));
    }

    let changes = parse_servers(call)?;
    let Some(group) = state.group(&group_id) else {
        return Err(call.error(
            404,
            "ResourceNotFound.ServerGroup",
            &format!("The specified resource {group_id} is not found."),
        ));
    };
    for (n, change, server_type) in &changes {
        let found = group.servers.iter().find(|s| change.identifies(s));
        match found {
            Some(s) if s.server_type.eq_ignore_ascii_case(server_type) => {}
            _ => {
                // The code is the fake's choice (ALB's name for a missing backend server).
                return Err(call.error(
                    404,
                    "ResourceNotFound.BackendServer",
                    &format!(
                        "The specified resource Servers.{n} ({} {} port {}) is not found in server group {group_id}.",
                        server_type, change.server_id, change.port
                    ),
                ));
            }
        }
    }
    if group.status != "Available" {
        return Err(call.error(
            400,
            "IncorrectStatus.ServerGroup",
            &format!(
                "The status of ServerGroup [{group_id}] is incorrect: {}.",
                group.status
            ),
        ));
    }
    if dry_run {
        return Err(call.error(
            400,
            "DryRunOperation",
            "Request validation has been passed with DryRun flag set.",
        ));
    }

    let now_ms = util::epoch_ms();
    let job_id = util::uuid_lower();
    let changes: Vec<AlbChange> = changes.into_iter().map(|(_, c, _)| c).collect();
    let group = state.group_mut(&group_id).expect("checked above");
    group.status = "Configuring".into();
    for s in group.servers.iter_mut() {
        if changes.iter().any(|c| c.identifies(s)) {
            s.status = "Configuring".into();
        }
    }
    state.jobs.push(AlbJob {
        id: job_id.clone(),
        resource_id: group_id,
        create_time: now_ms,
        modify_time: now_ms,
        changes,
        planned_failure: job_failure,
        due: Some(Instant::now() + Duration::from_millis(state.job_delay_ms)),
        ..AlbJob::default()
    });
    if let Some(t) = token {
        state.client_tokens.push(AlbClientToken {
            token: t.to_string(),
            job_id: job_id.clone(),
            fingerprint,
        });
    }
    // A zero delay finishes the job before the answer, as a very fast backend would.
    state.advance(Instant::now());
    Ok((call.ok(json!({"JobId": job_id})), false))
}

fn fingerprint(call: &AliCall) -> String {
    let mut pairs: Vec<(String, String)> = call
        .params
        .iter()
        .filter(|(k, _)| k != "ClientToken" && k != "DryRun")
        .cloned()
        .collect();
    pairs.sort();
    lbpilot::signing::encoding::canonical_query(&pairs)
}

/// `Servers.N.*` → (N, change, ServerType), validated as the API document says.
fn parse_servers(call: &AliCall) -> AliResult<Vec<(usize, AlbChange, String)>> {
    let servers = call.objects("Servers");
    if servers.is_empty() {
        return Err(call.error(
            400,
            "MissingServers",
            "Servers is mandatory for this action.",
        ));
    }
    if servers.len() > MAX_SERVERS {
        return Err(call.error(
            400,
            "InvalidParameter",
            &format!(
                "You can specify up to {MAX_SERVERS} Servers in each call, got {}.",
                servers.len()
            ),
        ));
    }
    let mut out = Vec::new();
    for (n, fields) in servers {
        let name = |f: &str| format!("Servers.{n}.{f}");
        let get = |f: &str| fields.get(f).map(String::as_str).filter(|v| !v.is_empty());
        let missing = |f: &str| {
            call.error(
                400,
                &format!("Missing{}", name(f)),
                &format!("{} is mandatory for this action.", name(f)),
            )
        };
        let server_id = get("ServerId").ok_or_else(|| missing("ServerId"))?;
        let server_type = get("ServerType").ok_or_else(|| missing("ServerType"))?;
        let Some(server_type) = SERVER_TYPES
            .iter()
            .find(|t| t.eq_ignore_ascii_case(server_type))
        else {
            return Err(call.invalid(&name("ServerType"), server_type));
        };
        let port = match get("Port") {
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p >= 1 => p,
                _ => return Err(call.invalid(&name("Port"), p)),
            },
            None if *server_type != "Fc" => return Err(missing("Port")),
            None => 0,
        };
        let weight = match get("Weight") {
            Some(w) => match w.parse::<u32>() {
                Ok(w) if w <= 100 => Some(w),
                _ => return Err(call.invalid(&name("Weight"), w)),
            },
            None => None,
        };
        let description = match fields.get("Description") {
            Some(d) => {
                let len = d.chars().count();
                if !(2..=256).contains(&len)
                    || d.starts_with("http://")
                    || d.starts_with("https://")
                {
                    return Err(call.invalid(&name("Description"), d));
                }
                Some(d.clone())
            }
            None => None,
        };
        out.push((
            n,
            AlbChange {
                server_id: server_id.to_string(),
                server_ip: get("ServerIp").map(str::to_string),
                port,
                weight,
                description,
            },
            server_type.to_string(),
        ));
    }
    Ok(out)
}

/// A page of `items` at `offset` (the `NextToken`), with the next token when more remain.
fn page<T: Clone>(items: &[T], max: usize, offset: usize) -> (Vec<T>, Option<String>) {
    let page: Vec<T> = items.iter().skip(offset).take(max).cloned().collect();
    let next = (offset + page.len() < items.len()).then(|| (offset + page.len()).to_string());
    (page, next)
}

fn with_paging(mut body: Value, total: usize, max: usize, next: Option<String>) -> Value {
    body["TotalCount"] = json!(total);
    body["MaxResults"] = json!(max);
    if let Some(next) = next {
        body["NextToken"] = json!(next);
    }
    body
}

fn list_jobs(state: &AlbState, call: &AliCall) -> AliResult<Reply> {
    let (max, offset) = call.paging()?;
    let job_ids = call.list("JobIds");
    let resource_ids = call.list("ResourceIds");
    let resource_type = call.param("ResourceType");
    let api_name = call.param("ApiName");
    let begin = call.int_param("BeginTime", 0, i64::MAX)?;
    let end = call.int_param("EndTime", 0, i64::MAX)?;
    let jobs: Vec<&AlbJob> = state
        .jobs
        .iter()
        .rev() // reverse chronological, as the service lists them
        .filter(|j| job_ids.is_empty() || job_ids.contains(&j.id))
        .filter(|j| resource_ids.is_empty() || resource_ids.contains(&j.resource_id))
        .filter(|j| resource_type.is_none_or(|t| t.eq_ignore_ascii_case(&j.resource_type)))
        .filter(|j| api_name.is_none_or(|a| a == j.api_name))
        .filter(|j| begin.is_none_or(|b| j.create_time as i64 >= b))
        .filter(|j| end.is_none_or(|e| j.create_time as i64 <= e))
        .collect();
    let (items, next) = page(&jobs, max, offset);
    let items: Vec<Value> = items
        .iter()
        .map(|j| {
            let mut v = json!({
                "Id": j.id,
                "ApiName": j.api_name,
                "ResourceType": j.resource_type,
                "ResourceId": j.resource_id,
                "OperateType": j.operate_type,
                "Status": j.status,
                "CreateTime": j.create_time,
                "ModifyTime": j.modify_time,
            });
            if let Some(c) = &j.error_code {
                v["ErrorCode"] = json!(c);
            }
            if let Some(m) = &j.error_message {
                v["ErrorMessage"] = json!(m);
            }
            v
        })
        .collect();
    Ok(call.ok(with_paging(json!({"Jobs": items}), jobs.len(), max, next)))
}

fn server_json(group: &AlbServerGroup, s: &AlbServer) -> Value {
    let mut v = json!({
        "ServerGroupId": group.server_group_id,
        "ServerId": s.server_id,
        "ServerType": s.server_type,
        "Port": s.port,
        "Weight": s.weight,
        "Status": s.status,
        "Description": s.description,
        "RemoteIpEnabled": s.remote_ip_enabled,
    });
    if let Some(ip) = &s.server_ip {
        v["ServerIp"] = json!(ip);
    }
    v
}

/// An unknown `ServerGroupId` gives an empty list (the reference leaves this open).
fn list_servers(state: &AlbState, call: &AliCall) -> AliResult<Reply> {
    let (max, offset) = call.paging()?;
    let group_id = call.param("ServerGroupId");
    let ids = call.list("ServerIds");
    let servers: Vec<Value> = state
        .server_groups
        .iter()
        .filter(|g| group_id.is_none_or(|id| id == g.server_group_id))
        .flat_map(|g| g.servers.iter().map(move |s| (g, s)))
        .filter(|(_, s)| ids.is_empty() || ids.contains(&s.server_id))
        .map(|(g, s)| server_json(g, s))
        .collect();
    let (items, next) = page(&servers, max, offset);
    Ok(call.ok(with_paging(
        json!({"Servers": items}),
        servers.len(),
        max,
        next,
    )))
}

fn list_groups(state: &AlbState, call: &AliCall) -> AliResult<Reply> {
    let (max, offset) = call.paging()?;
    let ids = call.list("ServerGroupIds");
    let names = call.list("ServerGroupNames");
    let group_type = call.param("ServerGroupType");
    let vpc = call.param("VpcId");
    let groups: Vec<Value> = state
        .server_groups
        .iter()
        .filter(|g| ids.is_empty() || ids.contains(&g.server_group_id))
        .filter(|g| names.is_empty() || names.contains(&g.server_group_name))
        .filter(|g| group_type.is_none_or(|t| t == g.server_group_type))
        .filter(|g| vpc.is_none_or(|v| v == g.vpc_id))
        .map(|g| {
            json!({
                "ServerGroupId": g.server_group_id,
                "ServerGroupName": g.server_group_name,
                "ServerGroupStatus": g.status,
                "ServerGroupType": g.server_group_type,
                "ServerCount": g.servers.len(),
                "Scheduler": g.scheduler,
                "Protocol": g.protocol,
                "VpcId": g.vpc_id,
                "RelatedLoadBalancerIds": [],
                "HealthCheckConfig": {"HealthCheckEnabled": false},
            })
        })
        .collect();
    let (items, next) = page(&groups, max, offset);
    Ok(call.ok(with_paging(
        json!({"ServerGroups": items}),
        groups.len(),
        max,
        next,
    )))
}
