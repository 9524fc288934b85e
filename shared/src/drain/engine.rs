//! Alerts to drains and restores: match each alert to a route, read the group, claim each
//! backend in the state table (one active change per backend, the weight before, repeats
//! harmless), let go of what the blast-radius guard refuses, change as few times as the
//! provider's batch limit allows, and report every decision as an outcome.

use super::routes::{Route, Routes};
use crate::action::{Action, Operation};
use crate::alerts::{Alert, AlertStatus, Notification};
use crate::emitter::OutcomeSink;
use crate::executor::{Execution, Executor};
use crate::outcome::{Outcome, Source, Status};
use crate::providers::reads::Read;
use crate::state::{Claim, DrainRecord, DrainState, DrainStatus};
use crate::targets::Provider;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

/// Records outlive any sane alert: a safety net, not a timer.
const RECORD_TTL_SECS: i64 = 14 * 24 * 3600;

/// How long an earlier attempt at a drain may still be in flight (an ALB job takes seconds;
/// Lambda retries an async event after a minute or two).
const SAME_CHANGE_SECS: i64 = 180;

/// Whether `record` was claimed less than [`SAME_CHANGE_SECS`] ago (an unreadable time is old:
/// the change is then sent again as a new one, which setting a weight can afford).
fn claimed_recently(record: &DrainRecord) -> bool {
    time::OffsetDateTime::parse(
        &record.created_at,
        &time::format_description::well_known::Rfc3339,
    )
    .is_ok_and(|at| now_secs() - at.unix_timestamp() < SAME_CHANGE_SECS)
}

/// What one notification led to (the webhook's HTTP answer).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub drained: usize,
    pub restored: usize,
    pub duplicates: usize,
    pub refused: usize,
    pub unmatched: usize,
    pub failed: usize,
    /// A failure that a redelivery can fix: answer 5xx so the sender retries.
    pub retry: bool,
    pub outcomes_unpublished: usize,
}

/// One backend an alert asks to change.
#[derive(Debug, Clone)]
struct Candidate<'a> {
    alert: &'a Alert,
    /// `provider:region:group[:server:port]`
    key: String,
    server: Option<(String, u16)>,
}

pub struct DrainEngine<St, S> {
    routes: Routes,
    executor: Executor,
    state: St,
    sink: S,
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// When the alert entered its status (fired, or resolved), by its source's clock, in epoch
/// milliseconds; `None` when the source gave no readable time (Go's zero time means unset).
fn changed_at_millis(alert: &Alert) -> Option<i64> {
    let at = time::OffsetDateTime::parse(
        alert.changed_at.as_deref()?,
        &time::format_description::well_known::Rfc3339,
    )
    .ok()?;
    (at.year() > 1970).then(|| (at.unix_timestamp_nanos() / 1_000_000) as i64)
}

fn short_hash(parts: &[&str]) -> String {
    hex::encode(Sha256::digest(parts.join("\n").as_bytes()))[..32].to_string()
}

impl<St: DrainState, S: OutcomeSink> DrainEngine<St, S> {
    pub fn new(routes: Routes, executor: Executor, state: St, sink: S) -> Self {
        Self {
            routes,
            executor,
            state,
            sink,
        }
    }

    pub fn sink(&self) -> &S {
        &self.sink
    }

    pub fn state(&self) -> &St {
        &self.state
    }

    pub async fn handle(
        &self,
        notification: &Notification,
        source: Source,
        deadline: Instant,
    ) -> Summary {
        let mut summary = Summary::default();
        let mut outcomes = Vec::new();
        let mut by_route: Vec<(&Route, Vec<&Alert>, Vec<&Alert>)> = Vec::new();
        for alert in notification
            .alerts
            .iter()
            .filter(|a| a.status.is_actionable())
        {
            let Some(route) = self.routes.find(alert) else {
                summary.unmatched += 1;
                outcomes.push(Outcome::decision(
                    Status::Skipped,
                    "no route matched",
                    json!({"alert": alert.key(), "labels": alert.labels}),
                    source.clone(),
                ));
                continue;
            };
            let i = match by_route.iter().position(|(r, _, _)| r.name == route.name) {
                Some(i) => i,
                None => {
                    by_route.push((route, Vec::new(), Vec::new()));
                    by_route.len() - 1
                }
            };
            match alert.status {
                AlertStatus::Firing => by_route[i].1.push(alert),
                _ => by_route[i].2.push(alert),
            }
        }
        for (route, firing, resolved) in by_route {
            let ctx = RouteRun {
                engine: self,
                route,
                source: &source,
                deadline,
            };
            if !resolved.is_empty() {
                ctx.restore(&resolved, &mut summary, &mut outcomes).await;
            }
            if !firing.is_empty() {
                ctx.drain(&firing, &mut summary, &mut outcomes).await;
            }
        }
        let published = self.sink.publish(&outcomes).await;
        for (o, ok) in outcomes.iter().zip(&published) {
            tracing::info!(action_id = o.action_id(), status = ?o.status, decision = o.detail.as_ref().and_then(|d| d.get("decision")).and_then(serde_json::Value::as_str), published = ok, "outcome");
        }
        summary.outcomes_unpublished = published.iter().filter(|ok| !**ok).count();
        summary.retry |= summary.outcomes_unpublished > 0;
        summary
    }
}

struct RouteRun<'a, St, S> {
    engine: &'a DrainEngine<St, S>,
    route: &'a Route,
    source: &'a Source,
    deadline: Instant,
}

impl<St: DrainState, S: OutcomeSink> RouteRun<'_, St, S> {
    fn candidates<'b>(
        &self,
        alerts: &[&'b Alert],
        outcomes: &mut Vec<Outcome>,
        summary: &mut Summary,
    ) -> Vec<Candidate<'b>> {
        let t = &self.route.target;
        let base = format!(
            "{}:{}:{}",
            provider_name(t.provider),
            t.region.as_deref().unwrap_or("global"),
            t.group
        );
        let mut out: Vec<Candidate> = Vec::new();
        for alert in alerts {
            let candidate = if t.provider.has_servers() {
                let label = self.route.backend_label.as_deref().unwrap_or_default();
                let Some(server) = alert.labels.get(label).filter(|s| !s.is_empty()) else {
                    summary.refused += 1;
                    outcomes.push(self.decision(
                        Status::Rejected,
                        &format!("the alert has no {label:?} label naming the backend"),
                        alert,
                        None,
                    ));
                    continue;
                };
                let port = self
                    .route
                    .port_label
                    .as_ref()
                    .and_then(|l| alert.labels.get(l))
                    .and_then(|p| p.trim().parse::<u16>().ok())
                    .or(t.default_port)
                    .unwrap_or(80);
                // "host:port" instance labels name the server and port together.
                let (id, port) = match server.rsplit_once(':') {
                    Some((id, p))
                        if p.parse::<u16>().is_ok() && self.route.port_label.is_none() =>
                    {
                        (id.to_string(), p.parse().unwrap_or(port))
                    }
                    _ => (server.clone(), port),
                };
                Candidate {
                    alert,
                    key: format!("{base}:{id}:{port}"),
                    server: Some((id, port)),
                }
            } else {
                Candidate {
                    alert,
                    key: base.clone(),
                    server: None,
                }
            };
            // Grouped alerts may name one backend twice: keep the first.
            if !out.iter().any(|c| c.key == candidate.key) {
                out.push(candidate);
            }
        }
        out
    }

    /// A state-table failure for one backend: a `failed` decision, and a retry when it can help.
    fn state_failed(
        &self,
        verb: &str,
        e: &crate::state::StateError,
        c: &Candidate<'_>,
        summary: &mut Summary,
        outcomes: &mut Vec<Outcome>,
    ) {
        summary.failed += 1;
        summary.retry |= e.is_retryable();
        outcomes.push(self.decision(
            Status::Failed,
            &format!("the state table could not be {verb}: {e}"),
            c.alert,
            Some(&c.key),
        ));
    }

    /// The group's members as the guard counts them: an ALB or SLB group's servers; for ROMA
    /// the member groups of the channel, for GA the endpoint groups of the listener.
    async fn read_group(&self, read: &Read) -> Result<Group, crate::error::ProviderError> {
        let exec = &self.engine.executor;
        let provider = self.route.target.provider;
        let own = exec.read(read, self.deadline).await?;
        let siblings = match read {
            Read::RomaGroup { region, group } => Some(Read::RomaSiblings {
                region: region.clone(),
                group: group.clone(),
            }),
            Read::GaGroup { .. } => own
                .pointer("/endpoint_group/listeners/0/id")
                .and_then(Value::as_str)
                .map(|l| Read::GaListenerGroups {
                    listener_id: l.to_string(),
                }),
            _ => None,
        };
        match siblings {
            Some(siblings) => Ok(Group::from_read(
                provider,
                &exec.read(&siblings, self.deadline).await?,
            )),
            None => Ok(Group::from_read(provider, &own)),
        }
    }

    /// Why draining one more of `in_service` (of `total`) backends is refused, if it is.
    fn guard_refusal(&self, in_service: usize, total: usize) -> Option<String> {
        let (min_active, max_percent) = (self.route.min_active, self.route.max_drained_percent);
        let left = in_service.saturating_sub(1);
        let drained_after = total - in_service + 1;
        if left < min_active {
            Some(format!(
                "draining it would leave {left} of {total} backends in service, below min_active {min_active}"
            ))
        } else if drained_after * 100 > max_percent as usize * total {
            Some(format!(
                "draining it would take {drained_after} of {total} backends out of service, over max_drained_percent {max_percent}"
            ))
        } else {
            None
        }
    }

    /// A repeat, or a backend another alert holds: reported, not acted on.
    fn skipped(
        &self,
        reason: &str,
        c: &Candidate<'_>,
        summary: &mut Summary,
        outcomes: &mut Vec<Outcome>,
    ) {
        summary.duplicates += 1;
        outcomes.push(self.decision(Status::Skipped, reason, c.alert, Some(&c.key)));
    }

    /// Lets go of this alert's record on a backend it will not change (none: nothing to do).
    async fn release_refused(&self, c: &Candidate<'_>, alert_key: &str, summary: &mut Summary) {
        if let Err(e) = self.engine.state.release(&c.key, alert_key).await {
            tracing::warn!(backend = %c.key, error = %e, "releasing a refused claim failed");
            summary.retry |= e.is_retryable();
        }
    }

    fn decision(
        &self,
        status: Status,
        reason: &str,
        alert: &Alert,
        backend: Option<&str>,
    ) -> Outcome {
        Outcome::decision(
            status,
            reason,
            json!({"route": self.route.name, "alert": alert.key(), "backend": backend, "labels": alert.labels}),
            self.source.clone(),
        )
    }

    async fn drain(&self, alerts: &[&Alert], summary: &mut Summary, outcomes: &mut Vec<Outcome>) {
        let candidates = self.candidates(alerts, outcomes, summary);
        if candidates.is_empty() {
            return;
        }
        let exec = &self.engine.executor;
        let read = self
            .route
            .target
            .read(exec.config().huawei_project_id.as_deref());
        let group = match self.read_group(&read).await {
            Ok(g) => g,
            Err(e) => {
                summary.failed += candidates.len();
                summary.retry |= e.retryable;
                let mut o = Outcome::start(None, self.source.clone()).failed(&e);
                o.detail = Some(
                    json!({"route": self.route.name, "decision": "could not read the group before draining", "alerts": candidates.iter().map(|c| c.alert.key()).collect::<Vec<_>>()}),
                );
                outcomes.push(o);
                return;
            }
        };
        let mut in_service = group.in_service();
        let total = group.members.len();
        // Claim first: the one conditional write also says who holds the backend, so the
        // common case costs no read. A claim the guard then refuses is released.
        let drain_weight = i64::from(self.route.drain_weight);
        let mut claimed = Vec::new();
        for c in candidates {
            let alert_key = c.alert.key();
            let Some(member) = group.find(c.server.as_ref(), &self.route.target.group) else {
                // A record of ours would hold a backend we can no longer change: let it go.
                self.release_refused(&c, &alert_key, summary).await;
                summary.refused += 1;
                outcomes.push(self.decision(
                    Status::Rejected,
                    "the backend is not in the group",
                    c.alert,
                    Some(&c.key),
                ));
                continue;
            };
            // A new drain gets a new token, so a drain after a restore is a new change (a new
            // ALB ClientToken), while a retry reuses the claimed record's.
            let now = crate::outcome::now();
            let record = DrainRecord {
                backend: c.key.clone(),
                alert_key: alert_key.clone(),
                status: DrainStatus::Draining,
                prior_weight: Some(member.weight),
                action_id: short_hash(&[&c.key, &alert_key, &now, &fastrand::u64(..).to_string()]),
                created_at: now,
                expires_at: now_secs() + RECORD_TTL_SECS,
                fired_at: changed_at_millis(c.alert),
                resolved_at: None,
            };
            let token = match self.engine.state.claim(&record).await {
                Ok(Claim::Created) => record.action_id,
                // Our own record, and the group shows the drain: a repeated notification.
                Ok(Claim::Held(r)) if r.alert_key == alert_key && member.weight <= drain_weight => {
                    self.skipped(
                        "already drained for this alert (a repeated notification)",
                        &c,
                        summary,
                        outcomes,
                    );
                    continue;
                }
                // Our own record, the backend still (or again) at its weight: an attempt that
                // may be in flight is the same change, so the same token; one that did not hold
                // long after (undone by hand while the alert fires) is a new change.
                Ok(Claim::Held(r)) if r.alert_key == alert_key => {
                    if claimed_recently(&r) {
                        r.action_id
                    } else {
                        record.action_id
                    }
                }
                Ok(Claim::Held(r)) => {
                    self.skipped(
                        &format!("already drained for another alert ({})", r.alert_key),
                        &c,
                        summary,
                        outcomes,
                    );
                    continue;
                }
                Ok(Claim::Resolved(_)) => {
                    self.skipped("the alert resolved after this firing (a late or repeated notification): not drained", &c, summary, outcomes);
                    continue;
                }
                Err(e) => {
                    self.state_failed("written", &e, &c, summary, outcomes);
                    continue;
                }
            };
            // Still in service (a retry included): the blast-radius guard decides.
            if member.in_service {
                if let Some(reason) = self.guard_refusal(in_service, total) {
                    self.release_refused(&c, &alert_key, summary).await;
                    summary.refused += 1;
                    outcomes.push(self.decision(Status::Rejected, &reason, c.alert, Some(&c.key)));
                    continue;
                }
                in_service -= 1;
            }
            claimed.push((c, token));
        }
        for batch in claimed.chunks(self.route.target.provider.batch_limit()) {
            let changes: Vec<(&Candidate, i64, &str)> = batch
                .iter()
                .map(|(c, t)| (c, drain_weight, t.as_str()))
                .collect();
            let outcome = self.execute("drain", &changes, &group).await;
            let ok = matches!(outcome.status, Status::Succeeded | Status::DryRun);
            // A drained backend keeps its claim as it is: the group itself shows the change
            // (one state write per drain, not two). A change that failed for good lets go.
            if !ok && !outcome.is_retryable_failure() {
                for (c, _) in batch {
                    if let Err(e) = self.engine.state.release(&c.key, &c.alert.key()).await {
                        tracing::warn!(backend = %c.key, error = %e, "releasing a failed drain's claim failed");
                        summary.retry |= e.is_retryable();
                    }
                }
            }
            if ok {
                summary.drained += batch.len();
            } else {
                summary.failed += batch.len();
                summary.retry |= outcome.is_retryable_failure();
            }
            outcomes.push(outcome);
        }
    }

    async fn restore(&self, alerts: &[&Alert], summary: &mut Summary, outcomes: &mut Vec<Outcome>) {
        let candidates = self.candidates(alerts, outcomes, summary);
        // (candidate, weight to restore, token, whether a record holds it)
        let mut changes: Vec<(Candidate, i64, String, bool)> = Vec::new();
        for c in candidates {
            match self.engine.state.get(&c.key).await {
                Err(e) => {
                    self.state_failed("read", &e, &c, summary, outcomes);
                }
                Ok(Some(r)) if r.alert_key != c.alert.key() => {
                    self.skipped(
                        &format!("held by another alert ({}): not restored", r.alert_key),
                        &c,
                        summary,
                        outcomes,
                    );
                }
                // A resolution older than the firing that drained the backend is of an
                // earlier episode, delivered late: undoing the newer drain would be wrong.
                Ok(Some(r))
                    if r.fired_at
                        .zip(changed_at_millis(c.alert))
                        .is_some_and(|(f, at)| at < f) =>
                {
                    self.skipped("the resolution is older than the firing that drained the backend (a late notification): not restored", &c, summary, outcomes);
                }
                Ok(Some(r)) => {
                    let weight = r
                        .prior_weight
                        .unwrap_or(i64::from(self.route.restore_weight));
                    changes.push((c, weight, r.action_id, true));
                }
                // No record of a drain: restore the route's default weight.
                Ok(None) => {
                    let token =
                        short_hash(&[&c.key, c.alert.changed_at.as_deref().unwrap_or_default()]);
                    changes.push((c, i64::from(self.route.restore_weight), token, false));
                }
            }
        }
        if changes.is_empty() {
            return;
        }
        let group = if self.route.target.provider == Provider::Slb {
            // SLB writes replace whole entries: keep their type, IP and description.
            let read = self.route.target.read(None);
            match self.engine.executor.read(&read, self.deadline).await {
                Ok(g) => Group::from_read(Provider::Slb, &g),
                Err(_) => Group::default(),
            }
        } else {
            Group::default()
        };
        for batch in changes.chunks(self.route.target.provider.batch_limit()) {
            let list: Vec<(&Candidate, i64, &str)> = batch
                .iter()
                .map(|(c, w, t, _)| (c, *w, t.as_str()))
                .collect();
            let outcome = self.execute("restore", &list, &group).await;
            if matches!(outcome.status, Status::Succeeded | Status::DryRun) {
                summary.restored += batch.len();
                for (c, _, _, had_record) in batch {
                    // Remember when it resolved (so a late firing drains nothing), else forget.
                    let result = match changed_at_millis(c.alert) {
                        Some(at) => {
                            let expires = now_secs() + RECORD_TTL_SECS;
                            let key = c.alert.key();
                            match self.engine.state.resolve(&c.key, &key, at, expires).await {
                                // Another alert drained it meanwhile: its record stays.
                                Err(crate::state::StateError::Conflict(_)) if !had_record => Ok(()),
                                other => other,
                            }
                        }
                        None if *had_record => {
                            self.engine.state.release(&c.key, &c.alert.key()).await
                        }
                        None => Ok(()),
                    };
                    if let Err(e) = result {
                        tracing::warn!(backend = %c.key, error = %e, "releasing the drain record failed");
                        summary.retry |= e.is_retryable();
                    }
                }
            } else {
                summary.failed += batch.len();
                summary.retry |= outcome.is_retryable_failure();
            }
            outcomes.push(outcome);
        }
    }

    /// One provider call for a batch of backends of this route's group.
    async fn execute(
        &self,
        verb: &str,
        changes: &[(&Candidate<'_>, i64, &str)],
        group: &Group,
    ) -> Outcome {
        let t = &self.route.target;
        let mut tokens: Vec<&str> = vec![verb];
        tokens.extend(changes.iter().map(|(_, _, token)| *token));
        let id = format!("{verb}-{}", short_hash(&tokens));
        let (operation, params) = match t.provider {
            Provider::Alb => {
                let server_type = t.server_type.clone().unwrap_or_else(|| "Ecs".into());
                let servers: Vec<Value> = changes
                    .iter()
                    .map(|(c, w, _)| {
                        let (sid, port) = c.server.clone().unwrap_or_default();
                        json!({"ServerId": sid, "ServerType": server_type, "Port": port, "Weight": w})
                    })
                    .collect();
                (
                    Operation::AlbUpdateServerGroupServersAttribute,
                    json!({"ServerGroupId": t.group, "Servers": servers}),
                )
            }
            Provider::Slb => {
                let (old, new): (Vec<Value>, Vec<Value>) = changes
                    .iter()
                    .map(|(c, w, _)| {
                        let (sid, port) = c.server.clone().unwrap_or_default();
                        let mut old = json!({"ServerId": sid, "Port": port});
                        if let Some(m) = group
                            .find(c.server.as_ref(), &self.route.target.group)
                            .and_then(|m| m.raw.clone())
                        {
                            for k in ["Type", "ServerIp"] {
                                if let Some(v) = m.get(k) {
                                    old[k] = v.clone();
                                }
                            }
                        } else if let Some(ty) = &t.backend_type {
                            old["Type"] = json!(ty);
                        }
                        let mut new = old.clone();
                        new["Weight"] = json!(w);
                        (old, new)
                    })
                    .unzip();
                (
                    Operation::SlbModifyVServerGroupBackendServers,
                    json!({"VServerGroupId": t.group, "OldBackendServers": old, "NewBackendServers": new}),
                )
            }
            Provider::Roma => {
                let mut p = json!({"instance_id": t.instance_id, "vpc_channel_id": t.vpc_channel_id, "member_group_id": t.group,
                                   "member_group_name": t.member_group_name, "member_group_weight": changes[0].1});
                if let Some(project) = &t.project_id {
                    p["project_id"] = json!(project);
                }
                (Operation::RomaUpdateMemberGroup, p)
            }
            Provider::Ga => (
                Operation::GaUpdateEndpointGroup,
                json!({"endpoint_group_id": t.group, "endpoint_group": {"traffic_dial_percentage": changes[0].1}}),
            ),
        };
        let alerts: Vec<String> = changes.iter().map(|(c, _, _)| c.alert.key()).collect();
        let reason = format!("{verb} by route {}: {}", self.route.name, alerts.join(", "));
        let mut source = self.source.clone();
        source.detail =
            Some(json!({"route": self.route.name, "alerts": alerts, "detail": self.source.detail}));
        match Action::new(
            Some(id),
            operation,
            t.action_region(),
            params,
            false,
            Some(reason),
        ) {
            Ok(action) => {
                self.engine
                    .executor
                    .execute(
                        action,
                        source,
                        Execution {
                            deadline: self.deadline,
                            redelivered: false,
                        },
                    )
                    .await
            }
            Err(e) => Outcome::invalid_input(&self.route.name, &e, source),
        }
    }
}

fn provider_name(p: Provider) -> &'static str {
    match p {
        Provider::Alb => "alb",
        Provider::Slb => "slb",
        Provider::Roma => "roma",
        Provider::Ga => "ga",
    }
}

/// A group's members as read from its provider.
#[derive(Debug, Default)]
struct Group {
    members: Vec<Member>,
}

#[derive(Debug)]
struct Member {
    server: Option<(String, u16)>,
    /// ROMA and GA: the member group or endpoint group itself.
    group_id: Option<String>,
    weight: i64,
    in_service: bool,
    raw: Option<Value>,
}

impl Group {
    fn from_read(provider: Provider, read: &Value) -> Self {
        let member = |v: &Value, status_ok: bool| {
            let weight = v.get("Weight").and_then(as_int).unwrap_or(0);
            Member {
                server: Some((
                    v.get("ServerId")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    v.get("Port").and_then(as_int).unwrap_or(0) as u16,
                )),
                group_id: None,
                weight,
                in_service: status_ok && weight > 0,
                raw: Some(v.clone()),
            }
        };
        let members = match provider {
            Provider::Alb => read["Servers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| {
                    member(
                        s,
                        s.get("Status").and_then(Value::as_str) == Some("Available"),
                    )
                })
                .collect(),
            Provider::Slb => read
                .pointer("/BackendServers/BackendServer")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|b| member(b, true))
                .collect(),
            Provider::Roma => read
                .get("member_groups")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_else(|| vec![read.clone()])
                .iter()
                .map(|g| {
                    // A group without a weight takes traffic by its members' weights.
                    let weight = g.get("member_group_weight").and_then(as_int).unwrap_or(100);
                    Member {
                        server: None,
                        group_id: g
                            .get("member_group_id")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        weight,
                        in_service: weight > 0,
                        raw: None,
                    }
                })
                .collect(),
            Provider::Ga => read
                .get("endpoint_groups")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_else(|| vec![read["endpoint_group"].clone()])
                .iter()
                .map(|g| {
                    let weight = g
                        .get("traffic_dial_percentage")
                        .and_then(as_int)
                        .unwrap_or(100);
                    let active = g
                        .get("status")
                        .and_then(Value::as_str)
                        .is_none_or(|s| s == "ACTIVE" || s == "PENDING");
                    let frozen = g
                        .pointer("/frozen_info/status")
                        .and_then(as_int)
                        .unwrap_or(0)
                        != 0;
                    Member {
                        server: None,
                        group_id: g.get("id").and_then(Value::as_str).map(str::to_string),
                        weight,
                        in_service: active && !frozen && weight > 0,
                        raw: None,
                    }
                })
                .collect(),
        };
        Group { members }
    }

    fn in_service(&self) -> usize {
        self.members.iter().filter(|m| m.in_service).count()
    }

    /// A server (ALB, SLB), or the group `group_id` itself (ROMA, GA).
    fn find(&self, server: Option<&(String, u16)>, group_id: &str) -> Option<&Member> {
        match server {
            Some(s) => self.members.iter().find(|m| m.server.as_ref() == Some(s)),
            None => self
                .members
                .iter()
                .find(|m| m.group_id.as_deref() == Some(group_id))
                .or(self.members.first().filter(|m| m.group_id.is_none())),
        }
    }
}

/// Weights and ports come as numbers or numeric strings.
fn as_int(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
}
