//! ROMA Connect APIC (v2): update member group (`UpdateMemberGroup`), show member group
//! (`ShowDetailsOfMemberGroup`), list member groups (`ListMemberGroups`), list members
//! (`ListBackendInstancesV2`) and show VPC channel (`ShowDetailsOfVpcChannelV2`), under
//! `/v2/{project_id}/apic/instances/{instance_id}/vpc-channels/{vpc_channel_id}`.
//!
//! The update changes only the fields the body carries (`member_group_name` is required), and
//! a `member_group_weight` is also given to every member of the group, as the API document says.

use super::huawei::{HwCall, HwResult};
use super::util;
use super::wire::Reply;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RomaState {
    pub instances: Vec<RomaInstance>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RomaInstance {
    pub instance_id: String,
    pub project_id: String,
    pub vpc_channels: Vec<RomaVpcChannel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RomaVpcChannel {
    pub id: String,
    pub name: String,
    pub port: u16,
    /// 1 WRR, 2 WLC, 3 source-IP hash, 4 URI hash.
    pub balance_strategy: i64,
    /// `ip` | `ecs`.
    pub member_type: String,
    /// 2 builtin, 3 microservice.
    #[serde(rename = "type")]
    pub channel_type: i64,
    /// 1 normal, 2 abnormal.
    pub status: i64,
    pub create_time: String,
    pub member_groups: Vec<RomaMemberGroup>,
    pub members: Vec<RomaMember>,
}

impl Default for RomaVpcChannel {
    fn default() -> Self {
        Self {
            id: String::new(),
            name: String::new(),
            port: 80,
            balance_strategy: 1,
            member_type: "ecs".into(),
            channel_type: 2,
            status: 1,
            create_time: "2020-07-23T07:24:33Z".into(),
            member_groups: Vec::new(),
            members: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RomaLabel {
    pub label_name: String,
    pub label_value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RomaMemberGroup {
    pub member_group_id: String,
    pub member_group_name: String,
    pub member_group_remark: String,
    pub member_group_weight: Option<i64>,
    pub dict_code: Option<String>,
    pub microservice_version: Option<String>,
    pub microservice_port: Option<i64>,
    pub microservice_labels: Option<Vec<RomaLabel>>,
    pub reference_vpc_channel_id: Option<String>,
    pub create_time: String,
    pub update_time: String,
}

impl Default for RomaMemberGroup {
    fn default() -> Self {
        Self {
            member_group_id: String::new(),
            member_group_name: String::new(),
            member_group_remark: String::new(),
            member_group_weight: None,
            dict_code: None,
            microservice_version: None,
            microservice_port: None,
            microservice_labels: None,
            reference_vpc_channel_id: None,
            create_time: "2020-07-23T07:24:33Z".into(),
            update_time: "2020-07-23T07:24:33Z".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RomaMember {
    pub id: String,
    pub host: String,
    pub ecs_id: String,
    pub ecs_name: String,
    pub port: u16,
    pub weight: i64,
    /// 1 available, 2 unavailable.
    pub status: i64,
    pub is_backup: bool,
    pub member_group_id: String,
    pub create_time: String,
}

impl Default for RomaMember {
    fn default() -> Self {
        Self {
            id: String::new(),
            host: String::new(),
            ecs_id: String::new(),
            ecs_name: String::new(),
            port: 80,
            weight: 1,
            status: 1,
            is_backup: false,
            member_group_id: String::new(),
            create_time: "2020-07-23T09:13:24Z".into(),
        }
    }
}

impl RomaState {
    pub fn member_group(&self, id: &str) -> Option<&RomaMemberGroup> {
        self.instances
            .iter()
            .flat_map(|i| &i.vpc_channels)
            .flat_map(|c| &c.member_groups)
            .find(|g| g.member_group_id == id)
    }

    pub fn members_of(&self, group_id: &str) -> Vec<RomaMember> {
        self.instances
            .iter()
            .flat_map(|i| &i.vpc_channels)
            .flat_map(|c| &c.members)
            .filter(|m| m.member_group_id == group_id)
            .cloned()
            .collect()
    }
}

/// A ROMA route, parsed from the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RomaRoute {
    pub operation: &'static str,
    pub project_id: String,
    pub instance_id: String,
    pub channel_id: String,
    pub member_group_id: Option<String>,
}

/// Finds `v2/{project}/apic/instances/{instance}/vpc-channels/{channel}[/…]` anywhere in the
/// path (so a base URL with a prefix works).
pub fn route(method: &str, segments: &[String]) -> Option<RomaRoute> {
    let start = segments
        .windows(3)
        .position(|w| w[0] == "v2" && w[2] == "apic")?;
    let s = &segments[start..];
    if s.len() < 7 || s[3] != "instances" || s[5] != "vpc-channels" {
        return None;
    }
    let mut r = RomaRoute {
        operation: "",
        project_id: s[1].clone(),
        instance_id: s[4].clone(),
        channel_id: s[6].clone(),
        member_group_id: None,
    };
    r.operation = match (method, &s[7..]) {
        ("GET", []) => "ShowDetailsOfVpcChannelV2",
        ("GET", [m]) if m == "member-groups" => "ListMemberGroups",
        ("GET", [m]) if m == "members" => "ListBackendInstancesV2",
        (_, [m, g]) if m == "member-groups" => {
            r.member_group_id = Some(g.clone());
            match method {
                "GET" => "ShowDetailsOfMemberGroup",
                "PUT" => "UpdateMemberGroup",
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(r)
}

fn group_json(g: &RomaMemberGroup) -> Value {
    serde_json::to_value(g).unwrap_or_default()
}

fn member_json(m: &RomaMember, groups: &[RomaMemberGroup], channel_id: &str) -> Value {
    let mut v = serde_json::to_value(m).unwrap_or_default();
    let name = groups
        .iter()
        .find(|g| g.member_group_id == m.member_group_id)
        .map(|g| g.member_group_name.clone())
        .unwrap_or_default();
    v["member_group_name"] = json!(name);
    v["vpc_channel_id"] = json!(channel_id);
    v
}

pub fn handle(state: &mut RomaState, route: &RomaRoute, call: &HwCall) -> Reply {
    run(state, route, call).unwrap_or_else(|e| e)
}

fn run(state: &mut RomaState, route: &RomaRoute, call: &HwCall) -> HwResult<Reply> {
    let Some(instance) = state
        .instances
        .iter_mut()
        .find(|i| i.instance_id == route.instance_id && i.project_id == route.project_id)
    else {
        return Err(call.error(
            404,
            "APIG.3030",
            &format!("The instance does not exist;id:{}", route.instance_id),
        ));
    };
    let Some(channel) = instance
        .vpc_channels
        .iter_mut()
        .find(|c| c.id == route.channel_id)
    else {
        return Err(call.error(
            404,
            "APIG.3023",
            &format!("The VPC channel does not exist,id:{}", route.channel_id),
        ));
    };
    match route.operation {
        "ShowDetailsOfVpcChannelV2" => {
            let mut v = json!({
                "id": channel.id, "name": channel.name, "port": channel.port,
                "balance_strategy": channel.balance_strategy, "member_type": channel.member_type,
                "type": channel.channel_type, "status": channel.status, "create_time": channel.create_time,
            });
            v["member_groups"] = channel.member_groups.iter().map(group_json).collect();
            v["members"] = channel
                .members
                .iter()
                .map(|m| member_json(m, &channel.member_groups, &channel.id))
                .collect();
            Ok(call.ok(200, &v))
        }
        "ListMemberGroups" => {
            let (offset, limit) = paging(call);
            let name = call.query("member_group_name");
            let precise = precise(call, "member_group_name");
            let dict = call.query("dict_code");
            let groups: Vec<&RomaMemberGroup> = channel
                .member_groups
                .iter()
                .filter(|g| name.is_none_or(|n| matches(&g.member_group_name, n, precise)))
                .filter(|g| dict.is_none_or(|d| g.dict_code.as_deref() == Some(d)))
                .collect();
            let page: Vec<Value> = groups
                .iter()
                .skip(offset)
                .take(limit)
                .map(|g| group_json(g))
                .collect();
            Ok(call.ok(
                200,
                &json!({"size": page.len(), "total": groups.len(), "member_groups": page}),
            ))
        }
        "ListBackendInstancesV2" => {
            let (offset, limit) = paging(call);
            let group_id = call.query("member_group_id");
            let group_name = call.query("member_group_name");
            let name = call.query("name");
            let precise_group = precise(call, "member_group_name");
            let precise_name = precise(call, "name");
            let groups = &channel.member_groups;
            let group_name_of = |m: &RomaMember| {
                groups
                    .iter()
                    .find(|g| g.member_group_id == m.member_group_id)
                    .map(|g| g.member_group_name.as_str())
                    .unwrap_or("")
            };
            let members: Vec<&RomaMember> = channel
                .members
                .iter()
                .filter(|m| group_id.is_none_or(|id| m.member_group_id == id))
                .filter(|m| group_name.is_none_or(|n| matches(group_name_of(m), n, precise_group)))
                .filter(|m| name.is_none_or(|n| matches(&m.ecs_name, n, precise_name)))
                .collect();
            let page: Vec<Value> = members
                .iter()
                .skip(offset)
                .take(limit)
                .map(|m| member_json(m, groups, &channel.id))
                .collect();
            Ok(call.ok(
                200,
                &json!({"size": page.len(), "total": members.len(), "members": page}),
            ))
        }
        "ShowDetailsOfMemberGroup" | "UpdateMemberGroup" => {
            let id = route.member_group_id.clone().unwrap_or_default();
            let Some(pos) = channel
                .member_groups
                .iter()
                .position(|g| g.member_group_id == id)
            else {
                // The code is the fake's choice: the API document shows only the channel's 404.
                return Err(call.error(
                    404,
                    "APIG.3036",
                    &format!("The backend server group does not exist,id:{id}"),
                ));
            };
            if route.operation == "UpdateMemberGroup" {
                update(channel, pos, call)?;
            }
            Ok(call.ok(200, &group_json(&channel.member_groups[pos])))
        }
        _ => Err(call.error(
            404,
            "APIG.0101",
            "The API does not exist or has not been published in the environment.",
        )),
    }
}

/// `offset` (below 0 is 0) and `limit` (1–500, default 20; out of range is clamped, as the
/// sibling APIG API documents).
fn paging(call: &HwCall) -> (usize, usize) {
    let offset = call
        .query("offset")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0)
        .max(0) as usize;
    let limit = match call.query("limit").and_then(|v| v.parse::<i64>().ok()) {
        None => 20,
        Some(l) if l <= 0 => 20,
        Some(l) => l.min(500),
    } as usize;
    (offset, limit)
}

fn precise(call: &HwCall, field: &str) -> bool {
    call.query("precise_search")
        .is_some_and(|p| p.split(',').any(|f| f.trim() == field))
}

fn matches(value: &str, wanted: &str, precise: bool) -> bool {
    if precise {
        value == wanted
    } else {
        value.contains(wanted)
    }
}

fn invalid(call: &HwCall, name: &str) -> Reply {
    call.error(
        400,
        "APIG.2012",
        &format!("Invalid parameter value,parameterName:{name}. Please refer to the support documentation"),
    )
}

fn valid_group_name(name: &str) -> bool {
    let len = name.chars().count();
    (3..=64).contains(&len)
        && name.chars().next().is_some_and(|c| c.is_alphabetic())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn update(channel: &mut RomaVpcChannel, pos: usize, call: &HwCall) -> HwResult<()> {
    let body: Map<String, Value> = call.json_body(
        "APIG.2000",
        "Parameter error. The request body must be a JSON object",
    )?;
    let name = match body.get("member_group_name") {
        None | Some(Value::Null) => {
            return Err(call.error(
                400,
                "APIG.2001",
                "The request parameters must be specified, parameterName:member_group_name. Please refer to the support documentation",
            ));
        }
        Some(Value::String(n)) if valid_group_name(n) => n.clone(),
        Some(_) => return Err(invalid(call, "member_group_name")),
    };
    let opt_str = |field: &str| -> HwResult<Option<String>> {
        match body.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid(call, field)),
        }
    };
    let opt_int = |field: &str, min: i64, max: i64| -> HwResult<Option<i64>> {
        match body.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_i64() {
                Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(invalid(call, field)),
            },
        }
    };
    let remark = opt_str("member_group_remark")?;
    if remark.as_ref().is_some_and(|r| r.chars().count() > 255) {
        return Err(invalid(call, "member_group_remark"));
    }
    let weight = opt_int("member_group_weight", 0, 100)?;
    let dict_code = opt_str("dict_code")?;
    let version = opt_str("microservice_version")?;
    let port = opt_int("microservice_port", 0, 65535)?;
    let labels = match body.get("microservice_labels") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value::<Vec<RomaLabel>>(v.clone())
                .map_err(|_| invalid(call, "microservice_labels"))?,
        ),
    };
    let reference = opt_str("reference_vpc_channel_id")?;
    if channel
        .member_groups
        .iter()
        .enumerate()
        .any(|(i, g)| i != pos && g.member_group_name == name)
    {
        // The code is the fake's choice.
        return Err(call.error(
            409,
            "APIG.3417",
            &format!("The backend server group name already exists:{name}"),
        ));
    }

    let group = &mut channel.member_groups[pos];
    group.member_group_name = name;
    if let Some(r) = remark {
        group.member_group_remark = r;
    }
    if weight.is_some() {
        group.member_group_weight = weight;
    }
    if dict_code.is_some() {
        group.dict_code = dict_code;
    }
    if version.is_some() {
        group.microservice_version = version;
    }
    if port.is_some() {
        group.microservice_port = port;
    }
    if labels.is_some() {
        group.microservice_labels = labels;
    }
    if reference.is_some() {
        group.reference_vpc_channel_id = reference;
    }
    group.update_time = util::iso_seconds();
    let id = group.member_group_id.clone();
    if let Some(w) = weight {
        for m in channel
            .members
            .iter_mut()
            .filter(|m| m.member_group_id == id)
        {
            m.weight = w;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(p: &str) -> Vec<String> {
        super::super::huawei::segments(p)
    }

    #[test]
    fn routes() {
        let base = "/v2/p1/apic/instances/i1/vpc-channels/c1";
        assert_eq!(
            route("GET", &segs(base)).unwrap().operation,
            "ShowDetailsOfVpcChannelV2"
        );
        assert_eq!(
            route("GET", &segs(&format!("{base}/member-groups")))
                .unwrap()
                .operation,
            "ListMemberGroups"
        );
        assert_eq!(
            route("GET", &segs(&format!("{base}/members")))
                .unwrap()
                .operation,
            "ListBackendInstancesV2"
        );
        let r = route("PUT", &segs(&format!("/prefix{base}/member-groups/g1/"))).unwrap();
        assert_eq!(
            (
                r.operation,
                r.member_group_id.as_deref(),
                r.project_id.as_str()
            ),
            ("UpdateMemberGroup", Some("g1"), "p1")
        );
        assert_eq!(
            route("DELETE", &segs(&format!("{base}/member-groups/g1"))),
            None
        );
        assert_eq!(route("GET", &segs("/v2/p1/apic/instances/i1")), None);
    }

    #[test]
    fn group_names() {
        assert!(valid_group_name("vpc_member_group"));
        assert!(!valid_group_name("ab"));
        assert!(!valid_group_name("1abc"));
        assert!(!valid_group_name("abc def"));
    }
}
