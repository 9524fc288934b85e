//! Alibaba Cloud SLB classic (API 2014-05-15): `ModifyVServerGroupBackendServers`,
//! `CreateVServerGroup`, and the reads used to look before repeating one.

use super::{pyjson, rules};
use crate::endpoints::BaseUrl;
use crate::error::ValidationError;
use crate::http::HttpRequest;
use serde::Deserialize;
use serde_json::Value;

pub const VERSION: &str = "2014-05-15";
pub const MODIFY_ACTION: &str = "ModifyVServerGroupBackendServers";
pub const CREATE_ACTION: &str = "CreateVServerGroup";
pub const DESCRIBE_GROUP_ACTION: &str = "DescribeVServerGroupAttribute";
pub const DESCRIBE_GROUPS_ACTION: &str = "DescribeVServerGroups";
pub const MAX_SERVERS: usize = 20;

/// One entry of a backend list, as parsed for validation and comparison.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Backend {
    pub server_id: String,
    pub port: Option<rules::LooseInt>,
    pub weight: Option<rules::LooseInt>,
    #[serde(rename = "Type")]
    pub server_type: Option<String>,
    pub server_ip: Option<String>,
    pub description: Option<String>,
}

impl Backend {
    pub fn port(&self) -> Option<i64> {
        self.port.map(|p| p.0)
    }

    pub fn weight(&self) -> Option<i64> {
        self.weight.map(|w| w.0)
    }
}

/// A backend list: the JSON text sent verbatim, and its parsed entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendList {
    pub text: String,
    pub entries: Vec<Backend>,
}

impl BackendList {
    /// From a JSON array (serialised as Python's `json.dumps` would, like the SDK's callers)
    /// or from JSON text (sent as given).
    fn parse(field: &str, value: &Value, need_weight: bool) -> Result<Self, ValidationError> {
        let (text, array) = match value {
            Value::String(text) => {
                let parsed: Value = serde_json::from_str(text).map_err(|e| {
                    ValidationError::new(field, format!("is not valid JSON text: {e}"))
                })?;
                (text.clone(), parsed)
            }
            Value::Array(_) => (pyjson::dumps(value), value.clone()),
            _ => {
                return Err(ValidationError::new(
                    field,
                    "must be a JSON array of backend servers",
                ));
            }
        };
        let items = array.as_array().ok_or_else(|| {
            ValidationError::new(field, "must be a JSON array of backend servers")
        })?;
        if items.is_empty() || items.len() > MAX_SERVERS {
            return Err(ValidationError::new(
                field,
                format!("must list 1-{MAX_SERVERS} servers, got {}", items.len()),
            ));
        }
        let mut entries = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = format!("{field}[{i}]");
            let b: Backend = serde_path_to_error::deserialize(item).map_err(|e| {
                let path = e.path().to_string();
                let f = if path == "." {
                    at.clone()
                } else {
                    format!("{at}.{path}")
                };
                ValidationError::new(f, e.into_inner().to_string())
            })?;
            rules::id(&format!("{at}.ServerId"), &b.server_id)?;
            match b.port() {
                Some(p) => rules::range(&format!("{at}.Port"), p, 1, 65535)?,
                None => return Err(ValidationError::new(format!("{at}.Port"), "required")),
            }
            match b.weight() {
                Some(w) => rules::range(&format!("{at}.Weight"), w, 0, 100)?,
                None if need_weight => {
                    return Err(ValidationError::new(format!("{at}.Weight"), "required"));
                }
                None => {}
            }
            if let Some(t) = &b.server_type {
                rules::one_of(&format!("{at}.Type"), t, &["ecs", "eni", "eci"])?;
            }
            if let Some(ip) = &b.server_ip {
                rules::id(&format!("{at}.ServerIp"), ip)?;
            }
            if let Some(d) = &b.description {
                rules::text(&format!("{at}.Description"), d, 1, 80)?;
            }
            entries.push(b);
        }
        Ok(Self { text, entries })
    }
}

fn region_param(params_region: Option<String>, region: &str) -> Result<String, ValidationError> {
    match params_region {
        Some(r) if r != region => Err(ValidationError::new(
            "params.RegionId",
            format!("{r:?} differs from the action's region {region:?}"),
        )),
        _ => Ok(region.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct ModifyParams {
    #[serde(rename = "VServerGroupId")]
    vserver_group_id: String,
    region_id: Option<String>,
    new_backend_servers: Value,
    old_backend_servers: Value,
}

/// A validated `ModifyVServerGroupBackendServers` call: replaces `old` entries with `new` ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModifyVServerGroupBackendServers {
    pub region_id: String,
    pub vserver_group_id: String,
    pub old: BackendList,
    pub new: BackendList,
}

impl ModifyVServerGroupBackendServers {
    pub fn from_params(params: &Value, region: &str) -> Result<Self, ValidationError> {
        let p: ModifyParams = rules::from_params(params)?;
        rules::id("params.VServerGroupId", &p.vserver_group_id)?;
        let old = BackendList::parse("params.OldBackendServers", &p.old_backend_servers, false)?;
        let new = BackendList::parse("params.NewBackendServers", &p.new_backend_servers, false)?;
        if old.entries.len() != new.entries.len() {
            return Err(ValidationError::new(
                "params.NewBackendServers",
                format!(
                    "must list as many servers as OldBackendServers ({} vs {})",
                    new.entries.len(),
                    old.entries.len()
                ),
            ));
        }
        Ok(Self {
            region_id: region_param(p.region_id, region)?,
            vserver_group_id: p.vserver_group_id,
            old,
            new,
        })
    }

    pub fn to_http(&self, base: &BaseUrl) -> HttpRequest {
        let mut req = HttpRequest::new("POST", &base.origin, format!("{}/", base.prefix));
        req.query = vec![
            ("NewBackendServers".into(), self.new.text.clone()),
            ("OldBackendServers".into(), self.old.text.clone()),
            ("RegionId".into(), self.region_id.clone()),
            ("VServerGroupId".into(), self.vserver_group_id.clone()),
        ];
        req
    }

    /// Whether a group's current backends already show this change: every new entry is there
    /// with its weight, and no old entry that the change removes is left.
    pub fn is_applied_in(&self, current: &[Backend]) -> bool {
        let key = |b: &Backend| (b.server_id.clone(), b.port());
        let has = |b: &Backend| {
            current
                .iter()
                .any(|c| key(c) == key(b) && (b.weight().is_none() || c.weight() == b.weight()))
        };
        let removed = self
            .old
            .entries
            .iter()
            .filter(|o| !self.new.entries.iter().any(|n| key(n) == key(o)));
        self.new.entries.iter().all(has)
            && !removed
                .into_iter()
                .any(|o| current.iter().any(|c| key(c) == key(o)))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct CreateParams {
    load_balancer_id: String,
    region_id: Option<String>,
    #[serde(rename = "VServerGroupName")]
    vserver_group_name: Option<String>,
    backend_servers: Option<Value>,
}

/// A validated `CreateVServerGroup` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateVServerGroup {
    pub region_id: String,
    pub load_balancer_id: String,
    pub name: Option<String>,
    pub backends: Option<BackendList>,
}

impl CreateVServerGroup {
    pub fn from_params(params: &Value, region: &str) -> Result<Self, ValidationError> {
        let p: CreateParams = rules::from_params(params)?;
        rules::id("params.LoadBalancerId", &p.load_balancer_id)?;
        if let Some(name) = &p.vserver_group_name {
            rules::text("params.VServerGroupName", name, 1, 80)?;
        }
        let backends = p
            .backend_servers
            .as_ref()
            .map(|v| BackendList::parse("params.BackendServers", v, true))
            .transpose()?;
        Ok(Self {
            region_id: region_param(p.region_id, region)?,
            load_balancer_id: p.load_balancer_id,
            name: p.vserver_group_name,
            backends,
        })
    }

    pub fn to_http(&self, base: &BaseUrl) -> HttpRequest {
        let mut req = HttpRequest::new("POST", &base.origin, format!("{}/", base.prefix));
        if let Some(b) = &self.backends {
            req.query.push(("BackendServers".into(), b.text.clone()));
        }
        req.query
            .push(("LoadBalancerId".into(), self.load_balancer_id.clone()));
        req.query.push(("RegionId".into(), self.region_id.clone()));
        if let Some(name) = &self.name {
            req.query.push(("VServerGroupName".into(), name.clone()));
        }
        req
    }

    /// `DescribeVServerGroups` filtered by this group's name, to find one created by an
    /// earlier attempt whose answer was lost.
    pub fn describe_by_name(&self, base: &BaseUrl) -> Option<HttpRequest> {
        let name = self.name.as_ref()?;
        let mut req = HttpRequest::new("POST", &base.origin, format!("{}/", base.prefix));
        req.query = vec![
            ("Description".into(), name.clone()),
            ("LoadBalancerId".into(), self.load_balancer_id.clone()),
            ("RegionId".into(), self.region_id.clone()),
        ];
        Some(req)
    }

    /// The id of a group with exactly this name in a `DescribeVServerGroups` response.
    pub fn find_existing(&self, response: &Value) -> Option<String> {
        let name = self.name.as_deref()?;
        response
            .pointer("/VServerGroups/VServerGroup")?
            .as_array()?
            .iter()
            .find(|g| g.get("VServerGroupName").and_then(Value::as_str) == Some(name))
            .and_then(|g| g.get("VServerGroupId")?.as_str().map(str::to_string))
    }
}

/// `DescribeVServerGroupAttribute` for one group.
pub fn describe_group(base: &BaseUrl, region_id: &str, vserver_group_id: &str) -> HttpRequest {
    let mut req = HttpRequest::new("POST", &base.origin, format!("{}/", base.prefix));
    req.query = vec![
        ("RegionId".into(), region_id.to_string()),
        ("VServerGroupId".into(), vserver_group_id.to_string()),
    ];
    req
}

/// The backends in a `DescribeVServerGroupAttribute` (or modify/create) response.
pub fn backends_in(response: &Value) -> Vec<Backend> {
    response
        .pointer("/BackendServers/BackendServer")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|b| {
                    let mut b = b.clone();
                    // Reads carry fields the write lists do not; keep only the ones compared.
                    if let Some(o) = b.as_object_mut() {
                        o.retain(|k, _| {
                            matches!(
                                k.as_str(),
                                "ServerId"
                                    | "Port"
                                    | "Weight"
                                    | "Type"
                                    | "ServerIp"
                                    | "Description"
                            )
                        });
                    }
                    serde_json::from_value(b).ok()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> BaseUrl {
        BaseUrl {
            origin: "http://slb.aliyuncs.com".into(),
            prefix: String::new(),
        }
    }

    #[test]
    fn sends_a_json_array_as_python_json_dumps_text() {
        let m = ModifyVServerGroupBackendServers::from_params(
            &json!({
                "VServerGroupId": "rsp-1",
                "OldBackendServers": [{"ServerId": "vm-233", "Port": "80"}],
                "NewBackendServers": [{"ServerId": "vm-236", "Port": 70, "Weight": 100}]
            }),
            "cn-hangzhou",
        )
        .unwrap();
        let req = m.to_http(&base());
        assert_eq!(
            req.query[0].1,
            r#"[{"ServerId": "vm-236", "Port": 70, "Weight": 100}]"#
        );
        assert_eq!(req.query[1].1, r#"[{"ServerId": "vm-233", "Port": "80"}]"#);
        assert_eq!(req.query[2], ("RegionId".into(), "cn-hangzhou".into()));
    }

    #[test]
    fn sends_json_text_verbatim() {
        let text = r#"[{ "ServerId": "i-x", "Weight": "100", "Type": "ecs", "Port":"80","Description":"test-112" }]"#;
        let c = CreateVServerGroup::from_params(
            &json!({"LoadBalancerId": "lb-1", "VServerGroupName": "Group1", "BackendServers": text}),
            "cn-hangzhou",
        )
        .unwrap();
        assert_eq!(c.to_http(&base()).query[0].1, text);
    }

    #[test]
    fn enforces_the_documented_limits() {
        let modify = |p: Value| {
            ModifyVServerGroupBackendServers::from_params(&p, "cn-hangzhou")
                .unwrap_err()
                .field
        };
        let one = json!([{"ServerId": "a", "Port": 80, "Weight": 10}]);
        let two = json!([{"ServerId": "a", "Port": 80}, {"ServerId": "b", "Port": 80}]);
        assert_eq!(
            modify(
                json!({"VServerGroupId": "g", "OldBackendServers": two, "NewBackendServers": one})
            ),
            "params.NewBackendServers"
        );
        let many: Vec<_> = (0..21)
            .map(|i| json!({"ServerId": format!("s{i}"), "Port": 80}))
            .collect();
        assert_eq!(
            modify(
                json!({"VServerGroupId": "g", "OldBackendServers": many, "NewBackendServers": many})
            ),
            "params.OldBackendServers"
        );
        assert_eq!(
            modify(
                json!({"VServerGroupId": "g", "OldBackendServers": one, "NewBackendServers": [{"ServerId": "a", "Port": 80, "Weight": 101}]})
            ),
            "params.NewBackendServers[0].Weight"
        );
        assert_eq!(
            modify(
                json!({"VServerGroupId": "g", "OldBackendServers": one, "NewBackendServers": [{"ServerId": "a", "Port": "x"}]})
            ),
            "params.NewBackendServers[0].Port"
        );
        assert_eq!(
            modify(
                json!({"VServerGroupId": "g", "OldBackendServers": one, "NewBackendServers": "[not json"})
            ),
            "params.NewBackendServers"
        );
        assert_eq!(
            modify(
                json!({"VServerGroupId": "g", "OldBackendServers": one, "NewBackendServers": one, "RegionId": "cn-beijing"})
            ),
            "params.RegionId"
        );
        let create = |p: Value| {
            CreateVServerGroup::from_params(&p, "cn-hangzhou")
                .unwrap_err()
                .field
        };
        assert_eq!(
            create(
                json!({"LoadBalancerId": "lb", "BackendServers": [{"ServerId": "a", "Port": 80}]})
            ),
            "params.BackendServers[0].Weight"
        );
        assert_eq!(create(json!({"BackendServers": []})), "params");
    }

    #[test]
    fn recognises_an_applied_change() {
        let m = ModifyVServerGroupBackendServers::from_params(
            &json!({"VServerGroupId": "g", "OldBackendServers": [{"ServerId": "a", "Port": 80}], "NewBackendServers": [{"ServerId": "a", "Port": 80, "Weight": 0}]}),
            "cn-hangzhou",
        )
        .unwrap();
        let read = |w: i64| {
            backends_in(
                &json!({"BackendServers": {"BackendServer": [{"ServerId": "a", "Port": 80, "Weight": w, "Type": "ecs"}]}}),
            )
        };
        assert!(m.is_applied_in(&read(0)));
        assert!(!m.is_applied_in(&read(100)));
    }
}
