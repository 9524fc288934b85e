//! Global Accelerator (v1): `UpdateEndpointGroup`, `ShowEndpointGroup`, `ListEndpoints`,
//! `ListEndpointGroups`.
//!
//! An update applies the fields given, sets the group `PENDING`, and the group returns to
//! `ACTIVE` `pending_ms` later. While a group is `PENDING` an update is refused with
//! `GA.9004` ("Resource %s is in %s status no operation allowed", from GA's error-code page,
//! which gives it HTTP 400; the status is `pending_conflict_status`, so a seed can make it 409).
//! Other codes are from the same page: `GA.9001` invalid parameter (400), `GA.9002` not found
//! (404), `GA.9006` resource frozen (400).

use super::huawei::{HwCall, HwResult};
use super::util;
use super::wire::Reply;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GaState {
    /// How long a group stays `PENDING` after an update (default 300 ms).
    pub pending_ms: u64,
    /// HTTP status of the `GA.9004` answer to an update while `PENDING` (default 400, as GA's
    /// error-code page gives it).
    pub pending_conflict_status: u16,
    pub endpoint_groups: Vec<GaEndpointGroup>,
}

impl Default for GaState {
    fn default() -> Self {
        Self {
            pending_ms: 300,
            pending_conflict_status: 400,
            endpoint_groups: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GaFrozenInfo {
    /// 0 normal, 1 frozen, 2 deleted.
    pub status: i64,
    pub effect: i64,
    pub scene: Vec<String>,
}

impl Default for GaFrozenInfo {
    fn default() -> Self {
        Self {
            status: 0,
            effect: 1,
            scene: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GaEndpointGroup {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `ACTIVE` | `PENDING` | `ERROR` | `DELETING`.
    pub status: String,
    pub traffic_dial_percentage: i64,
    pub region_id: String,
    pub listener_ids: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub domain_id: String,
    pub frozen_info: GaFrozenInfo,
    pub endpoints: Vec<GaEndpoint>,
    /// When a `PENDING` group becomes `ACTIVE`; a seeded `PENDING` group without one stays `PENDING`.
    #[serde(skip)]
    pub pending_until: Option<Instant>,
}

impl Default for GaEndpointGroup {
    fn default() -> Self {
        Self {
            id: String::new(),
            name: String::new(),
            description: String::new(),
            status: "ACTIVE".into(),
            traffic_dial_percentage: 100,
            region_id: "ap-southeast-1".into(),
            listener_ids: Vec::new(),
            created_at: "2019-01-08T01:21:37.151Z".into(),
            updated_at: "2019-01-08T01:21:37.151Z".into(),
            domain_id: "99a3fff0d03c428eac3678da6a7d0f24".into(),
            frozen_info: GaFrozenInfo::default(),
            endpoints: Vec::new(),
            pending_until: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GaEndpoint {
    pub id: String,
    pub resource_id: String,
    /// `EIP` | `ECS` | `ELB` | `CUSTOM_IP` | `CUSTOM_DOMAIN_NAME` | `CUSTOM_EIP`.
    pub resource_type: String,
    pub ip_address: String,
    pub weight: i64,
    /// `INITIAL` | `HEALTHY` | `UNHEALTHY` | `NO_MONITOR`.
    pub health_state: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

impl Default for GaEndpoint {
    fn default() -> Self {
        Self {
            id: String::new(),
            resource_id: String::new(),
            resource_type: "EIP".into(),
            ip_address: String::new(),
            weight: 1,
            health_state: "HEALTHY".into(),
            status: "ACTIVE".into(),
            created_at: "2019-01-08T01:21:37.151Z".into(),
            updated_at: "2019-01-08T01:21:37.151Z".into(),
        }
    }
}

impl GaState {
    pub fn group(&self, id: &str) -> Option<&GaEndpointGroup> {
        self.endpoint_groups.iter().find(|g| g.id == id)
    }

    /// `PENDING` groups whose time is up become `ACTIVE`.
    pub fn advance(&mut self, now: Instant) {
        for g in &mut self.endpoint_groups {
            if g.status == "PENDING" && g.pending_until.is_some_and(|t| t <= now) {
                g.status = "ACTIVE".into();
                g.pending_until = None;
            }
        }
    }
}

/// A GA route: (operation, endpoint group id).
pub fn route(method: &str, segments: &[String]) -> Option<(&'static str, Option<String>)> {
    let start = segments
        .windows(2)
        .position(|w| w[0] == "v1" && w[1] == "endpoint-groups")?;
    match (method, &segments[start + 2..]) {
        ("GET", []) => Some(("ListEndpointGroups", None)),
        ("GET", [id]) => Some(("ShowEndpointGroup", Some(id.clone()))),
        ("PUT", [id]) => Some(("UpdateEndpointGroup", Some(id.clone()))),
        ("GET", [id, e]) if e == "endpoints" => Some(("ListEndpoints", Some(id.clone()))),
        _ => None,
    }
}

fn group_json(g: &GaEndpointGroup) -> Value {
    json!({
        "id": g.id,
        "name": g.name,
        "description": g.description,
        "status": g.status,
        "traffic_dial_percentage": g.traffic_dial_percentage,
        "region_id": g.region_id,
        "listeners": g.listener_ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
        "created_at": g.created_at,
        "updated_at": g.updated_at,
        "domain_id": g.domain_id,
        "frozen_info": g.frozen_info,
    })
}

fn endpoint_json(g: &GaEndpointGroup, e: &GaEndpoint) -> Value {
    json!({
        "id": e.id,
        "resource_id": e.resource_id,
        "endpoint_group_id": g.id,
        "resource_type": e.resource_type,
        "status": e.status,
        "weight": e.weight,
        "health_state": e.health_state,
        "ip_address": e.ip_address,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
        "domain_id": g.domain_id,
        "frozen_info": g.frozen_info,
    })
}

pub fn handle(
    state: &mut GaState,
    operation: &str,
    group_id: Option<&str>,
    call: &HwCall,
) -> Reply {
    run(state, operation, group_id, call).unwrap_or_else(|e| e)
}

fn not_found(call: &HwCall, what: &str) -> Reply {
    call.error(404, "GA.9002", &format!("Not found: {what}"))
}

fn invalid(call: &HwCall, what: &str, why: &str) -> Reply {
    call.error(400, "GA.9001", &format!("Invalid {what}: {why}"))
}

fn with_request_id(call: &HwCall, mut body: Value) -> Value {
    body["request_id"] = json!(call.request_id);
    body
}

fn run(
    state: &mut GaState,
    operation: &str,
    group_id: Option<&str>,
    call: &HwCall,
) -> HwResult<Reply> {
    match operation {
        "ListEndpointGroups" => {
            let id = call.query("id");
            let name = call.query("name");
            let status = call.query("status");
            let listener = call.query("listener_id");
            let groups: Vec<&GaEndpointGroup> = state
                .endpoint_groups
                .iter()
                .filter(|g| id.is_none_or(|v| v == g.id))
                .filter(|g| name.is_none_or(|v| v == g.name))
                .filter(|g| status.is_none_or(|v| v == g.status))
                .filter(|g| listener.is_none_or(|v| g.listener_ids.iter().any(|l| l == v)))
                .collect();
            let ids: Vec<&str> = groups.iter().map(|g| g.id.as_str()).collect();
            let (range, next) = page(call, &ids)?;
            let items: Vec<Value> = range.iter().map(|&i| group_json(groups[i])).collect();
            Ok(call.ok(
                200,
                &with_request_id(
                    call,
                    json!({"endpoint_groups": items, "page_info": page_info(items.len(), next)}),
                ),
            ))
        }
        "ShowEndpointGroup" => {
            let id = group_id.unwrap_or_default();
            let g = state.group(id).ok_or_else(|| not_found(call, id))?;
            Ok(call.ok(
                200,
                &with_request_id(call, json!({"endpoint_group": group_json(g)})),
            ))
        }
        "ListEndpoints" => {
            let id = group_id.unwrap_or_default();
            let g = state.group(id).ok_or_else(|| not_found(call, id))?;
            let eid = call.query("id");
            let status = call.query("status");
            let eps: Vec<&GaEndpoint> = g
                .endpoints
                .iter()
                .filter(|e| eid.is_none_or(|v| v == e.id))
                .filter(|e| status.is_none_or(|v| v == e.status))
                .collect();
            let ids: Vec<&str> = eps.iter().map(|e| e.id.as_str()).collect();
            let (range, next) = page(call, &ids)?;
            let items: Vec<Value> = range.iter().map(|&i| endpoint_json(g, eps[i])).collect();
            Ok(call.ok(
                200,
                &with_request_id(
                    call,
                    json!({"endpoints": items, "page_info": page_info(items.len(), next)}),
                ),
            ))
        }
        "UpdateEndpointGroup" => update(state, group_id.unwrap_or_default(), call),
        _ => Err(call.error(
            404,
            "APIG.0101",
            "The API does not exist or has not been published in the environment.",
        )),
    }
}

fn page_info(count: usize, next: Option<String>) -> Value {
    let mut v = json!({"current_count": count});
    if let Some(n) = next {
        v["next_marker"] = json!(n);
    }
    v
}

/// `limit` (1–2000, default 500), `marker` (the id of the previous page's last item) and
/// `page_reverse`: the indexes of the page and the next marker when more remain.
fn page(call: &HwCall, ids: &[&str]) -> HwResult<(Vec<usize>, Option<String>)> {
    let limit = match call.query("limit") {
        None => 500,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=2000).contains(&n) => n,
            _ => return Err(invalid(call, "limit", l)),
        },
    };
    let reverse = call
        .query("page_reverse")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut order: Vec<usize> = (0..ids.len()).collect();
    if reverse {
        order.reverse();
    }
    let start = match call.query("marker") {
        None | Some("") => 0,
        Some(m) => match order.iter().position(|&i| ids[i] == m) {
            Some(p) => p + 1,
            None => return Err(invalid(call, "marker", m)),
        },
    };
    let range: Vec<usize> = order.iter().skip(start).take(limit).copied().collect();
    let next = (start + range.len() < order.len())
        .then(|| range.last().map(|&i| ids[i].to_string()))
        .flatten();
    Ok((range, next))
}

fn update(state: &mut GaState, id: &str, call: &HwCall) -> HwResult<Reply> {
    let body = call.json_body("GA.9001", "Invalid request body: not a JSON object")?;
    let Some(Value::Object(opt)) = body.get("endpoint_group") else {
        return Err(invalid(call, "request body", "endpoint_group is required"));
    };
    let name = match opt.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(n))
            if (1..=64).contains(&n.len())
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            Some(n.clone())
        }
        Some(v) => return Err(invalid(call, "name", &v.to_string())),
    };
    let description = match opt.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(d)) if d.chars().count() <= 255 && !d.contains(['<', '>']) => {
            Some(d.clone())
        }
        Some(v) => return Err(invalid(call, "description", &v.to_string())),
    };
    let dial = match opt.get("traffic_dial_percentage") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(d) if (0..=100).contains(&d) => Some(d),
            _ => return Err(invalid(call, "traffic_dial_percentage", &v.to_string())),
        },
    };
    let (pending_ms, conflict_status) = (state.pending_ms, state.pending_conflict_status);
    let Some(g) = state.endpoint_groups.iter_mut().find(|g| g.id == id) else {
        return Err(not_found(call, id));
    };
    if g.frozen_info.status != 0 {
        return Err(call.error(400, "GA.9006", "Resource frozen"));
    }
    if g.status != "ACTIVE" {
        return Err(call.error(
            conflict_status,
            "GA.9004",
            &format!(
                "Resource {id} is in {} status no operation allowed",
                g.status
            ),
        ));
    }
    if let Some(n) = name {
        g.name = n;
    }
    if let Some(d) = description {
        g.description = d;
    }
    if let Some(d) = dial {
        g.traffic_dial_percentage = d;
    }
    g.updated_at = util::iso_millis();
    if pending_ms > 0 {
        g.status = "PENDING".into();
        g.pending_until = Some(Instant::now() + Duration::from_millis(pending_ms));
    }
    Ok(call.ok(
        200,
        &with_request_id(call, json!({"endpoint_group": group_json(g)})),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let s = |p: &str| super::super::huawei::segments(p);
        assert_eq!(
            route("GET", &s("/v1/endpoint-groups")),
            Some(("ListEndpointGroups", None))
        );
        assert_eq!(
            route("PUT", &s("/v1/endpoint-groups/g1")),
            Some(("UpdateEndpointGroup", Some("g1".into())))
        );
        assert_eq!(
            route("GET", &s("/v1/endpoint-groups/g1/endpoints")),
            Some(("ListEndpoints", Some("g1".into())))
        );
        assert_eq!(route("DELETE", &s("/v1/endpoint-groups/g1")), None);
    }
}
