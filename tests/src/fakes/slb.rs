//! SLB classic (API 2014-05-15): `ModifyVServerGroupBackendServers`, `CreateVServerGroup`,
//! `DescribeVServerGroupAttribute`, `DescribeVServerGroups`. All synchronous.
//!
//! Backend lists are JSON text in one query value; numbers may be JSON numbers or numeric
//! strings, and the Python-style single-quoted form of the API document is accepted too.

use super::alibaba::{AliCall, AliResult, number, text};
use super::util;
use super::wire::Reply;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const VERSION: &str = "2014-05-15";
pub const ACTIONS: &[&str] = &[
    "ModifyVServerGroupBackendServers",
    "CreateVServerGroup",
    "DescribeVServerGroupAttribute",
    "DescribeVServerGroups",
];
const MAX_BACKENDS: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlbState {
    pub load_balancers: Vec<SlbLoadBalancer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlbLoadBalancer {
    pub load_balancer_id: String,
    pub region_id: String,
    pub vserver_groups: Vec<SlbVServerGroup>,
}

impl Default for SlbLoadBalancer {
    fn default() -> Self {
        Self {
            load_balancer_id: String::new(),
            region_id: "cn-hangzhou".into(),
            vserver_groups: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlbVServerGroup {
    pub vserver_group_id: String,
    pub vserver_group_name: String,
    /// `YYYY-MM-DDThh:mm:ssZ`.
    pub create_time: String,
    pub backend_servers: Vec<SlbBackend>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlbBackend {
    pub server_id: String,
    pub port: u16,
    pub weight: u32,
    /// `ecs` | `eni` | `eci`.
    #[serde(rename = "type")]
    pub server_type: String,
    pub server_ip: Option<String>,
    pub description: String,
}

impl Default for SlbBackend {
    fn default() -> Self {
        Self {
            server_id: String::new(),
            port: 80,
            weight: 100,
            server_type: "ecs".into(),
            server_ip: None,
            description: String::new(),
        }
    }
}

impl SlbBackend {
    /// Same server and port (and type and IP): the identity `OldBackendServers` matches on.
    fn same_as(&self, other: &SlbBackend) -> bool {
        self.server_id == other.server_id
            && self.port == other.port
            && self.server_type == other.server_type
            && (self.server_ip.is_none()
                || other.server_ip.is_none()
                || self.server_ip == other.server_ip)
    }

    fn to_json(&self) -> Value {
        let mut v = json!({
            "ServerId": self.server_id,
            "Port": self.port,
            "Weight": self.weight,
            "Type": self.server_type,
            "Description": self.description,
        });
        if let Some(ip) = &self.server_ip {
            v["ServerIp"] = json!(ip);
        }
        v
    }
}

impl SlbState {
    pub fn load_balancer(&self, id: &str) -> Option<&SlbLoadBalancer> {
        self.load_balancers
            .iter()
            .find(|lb| lb.load_balancer_id == id)
    }

    pub fn vserver_group(&self, id: &str) -> Option<(&SlbLoadBalancer, &SlbVServerGroup)> {
        self.load_balancers.iter().find_map(|lb| {
            lb.vserver_groups
                .iter()
                .find(|g| g.vserver_group_id == id)
                .map(|g| (lb, g))
        })
    }

    fn vserver_group_mut(&mut self, id: &str) -> Option<&mut SlbVServerGroup> {
        self.load_balancers
            .iter_mut()
            .flat_map(|lb| lb.vserver_groups.iter_mut())
            .find(|g| g.vserver_group_id == id)
    }
}

pub fn handle(state: &mut SlbState, call: &AliCall) -> Reply {
    let result = match call.action.as_str() {
        "ModifyVServerGroupBackendServers" => modify(state, call),
        "CreateVServerGroup" => create(state, call),
        "DescribeVServerGroupAttribute" => describe_group(state, call),
        "DescribeVServerGroups" => describe_groups(state, call),
        other => Err(call.error(
            404,
            "InvalidAction.NotFound",
            &format!("Specified api {other} is not found, please check your url and method."),
        )),
    };
    result.unwrap_or_else(|e| e)
}

fn backends_json(list: &[SlbBackend]) -> Value {
    json!({"BackendServer": list.iter().map(SlbBackend::to_json).collect::<Vec<_>>()})
}

/// The group in the call's region; `InvalidVServerGroupId.NotFound` otherwise (the code is the fake's choice).
fn find_group<'a>(
    state: &'a SlbState,
    call: &AliCall,
    region: &str,
) -> AliResult<(&'a SlbLoadBalancer, &'a SlbVServerGroup)> {
    let id = call.required("VServerGroupId")?;
    match state.vserver_group(id) {
        Some((lb, g)) if lb.region_id == region => Ok((lb, g)),
        _ => Err(call.error(
            404,
            "InvalidVServerGroupId.NotFound",
            &format!("The specified VServerGroupId {id} does not exist in region {region}."),
        )),
    }
}

/// Parses a backend list parameter: a JSON array of at most 20 objects.
fn parse_list(call: &AliCall, name: &str, is_new: bool) -> AliResult<Vec<SlbBackend>> {
    let Some(raw) = call.param(name).filter(|v| !v.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let parsed: Value = serde_json::from_str(raw)
        .or_else(|e| {
            // The API document's examples are Python-style: [{'ServerId':'vm-233','Port':'80'}].
            if raw.contains('"') {
                Err(e)
            } else {
                serde_json::from_str(&raw.replace('\'', "\""))
            }
        })
        .map_err(|_| {
            call.error(
                400,
                "InvalidParameter",
                &format!("The parameter {name} is not a valid JSON list."),
            )
        })?;
    let Value::Array(items) = parsed else {
        return Err(call.error(
            400,
            "InvalidParameter",
            &format!("The parameter {name} must be a JSON list."),
        ));
    };
    if items.len() > MAX_BACKENDS {
        return Err(call.error(
            400,
            "InvalidParameter",
            &format!("The parameter {name} lists {} backend servers; at most {MAX_BACKENDS} are allowed.", items.len()),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_backend(call, name, i, item, is_new))
        .collect()
}

fn parse_backend(
    call: &AliCall,
    name: &str,
    i: usize,
    item: &Value,
    is_new: bool,
) -> AliResult<SlbBackend> {
    let bad = |what: &str| call.error(400, "InvalidParameter", &format!("{name}[{i}]: {what}."));
    if !item.is_object() {
        return Err(bad("must be an object"));
    }
    let server_id = text(item.get("ServerId"))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("ServerId is required"))?;
    let port = number(item.get("Port")).ok_or_else(|| bad("Port is required"))?;
    if !(1..=65535).contains(&port) {
        return Err(bad("Port must be 1-65535"));
    }
    let weight = match item.get("Weight") {
        None | Some(Value::Null) => 100,
        Some(w) => match number(Some(w)) {
            Some(w) if (0..=100).contains(&w) => w,
            _ => return Err(bad("Weight must be 0-100")),
        },
    };
    let server_type = text(item.get("Type"))
        .unwrap_or_else(|| "ecs".into())
        .to_ascii_lowercase();
    if !["ecs", "eni", "eci"].contains(&server_type.as_str()) {
        return Err(bad("Type must be ecs, eni or eci"));
    }
    let server_ip = text(item.get("ServerIp")).filter(|s| !s.is_empty());
    if is_new && server_type != "ecs" && server_ip.is_none() {
        return Err(bad("ServerIp is required for eni and eci backends"));
    }
    let description = text(item.get("Description")).unwrap_or_default();
    if description.chars().count() > 80 {
        return Err(bad("Description is longer than 80 characters"));
    }
    Ok(SlbBackend {
        server_id,
        port: port as u16,
        weight: weight as u32,
        server_type,
        server_ip,
        description,
    })
}

fn modify(state: &mut SlbState, call: &AliCall) -> AliResult<Reply> {
    let region = call.required("RegionId")?.to_string();
    let (_, group) = find_group(state, call, &region)?;
    let old = parse_list(call, "OldBackendServers", false)?;
    let new = parse_list(call, "NewBackendServers", true)?;
    if old.is_empty() && new.is_empty() {
        return Err(call.error(
            400,
            "MissingOldBackendServers",
            "OldBackendServers and NewBackendServers are mandatory for this action.",
        ));
    }
    if old.len() != new.len() {
        return Err(call.error(
            400,
            "InvalidParameter",
            &format!("NewBackendServers lists {} servers but OldBackendServers lists {}; they must be the same.", new.len(), old.len()),
        ));
    }
    let mut result = group.backend_servers.clone();
    let mut replaced = vec![false; result.len()];
    for (i, (o, n)) in old.iter().zip(&new).enumerate() {
        let Some(pos) = (0..result.len()).find(|&p| !replaced[p] && result[p].same_as(o)) else {
            // The code is the fake's choice (an older SLB page says unknown entries are ignored).
            return Err(call.error(
                400,
                "BackendServer.NotExist",
                &format!(
                    "OldBackendServers[{i}] ({} {} port {}) is not in VServer group {}.",
                    o.server_type, o.server_id, o.port, group.vserver_group_id
                ),
            ));
        };
        result[pos] = n.clone();
        replaced[pos] = true;
    }
    if let Some(dup) = duplicate(&result) {
        return Err(call.error(
            400,
            "BackendServer.AlreadyExist",
            &format!(
                "The backend server {} port {} would be in the VServer group twice.",
                dup.server_id, dup.port
            ),
        ));
    }
    let group_id = group.vserver_group_id.clone();
    let g = state.vserver_group_mut(&group_id).expect("found above");
    g.backend_servers = result;
    Ok(call.ok(json!({
        "VServerGroupId": group_id,
        "BackendServers": backends_json(&g.backend_servers),
    })))
}

fn duplicate(list: &[SlbBackend]) -> Option<&SlbBackend> {
    list.iter()
        .enumerate()
        .find(|(i, a)| {
            list[i + 1..]
                .iter()
                .any(|b| a.server_id == b.server_id && a.port == b.port)
        })
        .map(|(_, a)| a)
}

fn create(state: &mut SlbState, call: &AliCall) -> AliResult<Reply> {
    let region = call.required("RegionId")?.to_string();
    let lb_id = call.required("LoadBalancerId")?.to_string();
    let backends = parse_list(call, "BackendServers", true)?;
    if let Some(dup) = duplicate(&backends) {
        return Err(call.error(
            400,
            "BackendServer.AlreadyExist",
            &format!(
                "The backend server {} port {} is listed twice.",
                dup.server_id, dup.port
            ),
        ));
    }
    let name = call
        .param("VServerGroupName")
        .unwrap_or_default()
        .to_string();
    let Some(lb) = state
        .load_balancers
        .iter_mut()
        .find(|lb| lb.load_balancer_id == lb_id && lb.region_id == region)
    else {
        return Err(call.error(
            404,
            "InvalidLoadBalancerId.NotFound",
            &format!("The specified LoadBalancerId {lb_id} does not exist in region {region}."),
        ));
    };
    let group = SlbVServerGroup {
        vserver_group_id: format!("rsp-{}", util::alnum(10)),
        vserver_group_name: name,
        create_time: util::iso_seconds(),
        backend_servers: backends,
    };
    let body = json!({
        "VServerGroupId": group.vserver_group_id,
        "BackendServers": backends_json(&group.backend_servers),
    });
    lb.vserver_groups.push(group);
    Ok(call.ok(body))
}

fn describe_group(state: &SlbState, call: &AliCall) -> AliResult<Reply> {
    let region = call.required("RegionId")?.to_string();
    let (lb, g) = find_group(state, call, &region)?;
    Ok(call.ok(json!({
        "VServerGroupId": g.vserver_group_id,
        "VServerGroupName": g.vserver_group_name,
        "LoadBalancerId": lb.load_balancer_id,
        "CreateTime": g.create_time,
        "Tags": {"Tag": []},
        "BackendServers": backends_json(&g.backend_servers),
    })))
}

/// `Description` filters by group name (exact match in the fake).
fn describe_groups(state: &SlbState, call: &AliCall) -> AliResult<Reply> {
    let region = call.required("RegionId")?.to_string();
    let lb_id = call.required("LoadBalancerId")?.to_string();
    let include_listener = call.bool_param("IncludeListener")?.unwrap_or(false);
    let include_rule = call.bool_param("IncludeRule")?.unwrap_or(false);
    let name = call.param("Description");
    let Some(lb) = state
        .load_balancer(&lb_id)
        .filter(|lb| lb.region_id == region)
    else {
        return Err(call.error(
            404,
            "InvalidLoadBalancerId.NotFound",
            &format!("The specified LoadBalancerId {lb_id} does not exist in region {region}."),
        ));
    };
    let groups: Vec<Value> = lb
        .vserver_groups
        .iter()
        .filter(|g| name.is_none_or(|n| n.is_empty() || n == g.vserver_group_name))
        .map(|g| {
            let mut v = json!({
                "VServerGroupId": g.vserver_group_id,
                "VServerGroupName": g.vserver_group_name,
                "ServerCount": g.backend_servers.len(),
                "CreateTime": g.create_time,
                "Tags": {"Tag": []},
            });
            if include_listener || include_rule {
                let mut assoc = json!({});
                if include_listener {
                    assoc["Listeners"] = json!({"Listener": []});
                }
                if include_rule {
                    assoc["Rules"] = json!({"Rule": []});
                }
                v["AssociatedObjects"] = assoc;
            }
            v
        })
        .collect();
    Ok(call.ok(json!({"VServerGroups": {"VServerGroup": groups}})))
}
