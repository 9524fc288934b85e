//! Alibaba Cloud ALB (API 2020-06-16): `UpdateServerGroupServersAttribute` and `ListAsynJobs`.

use super::rules;
use crate::endpoints::BaseUrl;
use crate::error::ValidationError;
use crate::http::HttpRequest;
use crate::signing::encoding;
use serde::Deserialize;

pub const VERSION: &str = "2020-06-16";
pub const UPDATE_ACTION: &str = "UpdateServerGroupServersAttribute";
pub const LIST_JOBS_ACTION: &str = "ListAsynJobs";
pub const LIST_SERVERS_ACTION: &str = "ListServerGroupServers";
pub const MAX_SERVERS: usize = 40;
const SERVER_TYPES: &[&str] = &["Ecs", "Eni", "Eci", "Ip", "Fc"];
const TYPES_NEEDING_PORT: &[&str] = &["Ecs", "Eni", "Eci", "Ip"];

/// One backend server's new attributes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct ServerAttribute {
    pub server_id: String,
    pub server_type: String,
    pub port: Option<i64>,
    pub weight: Option<i64>,
    pub description: Option<String>,
    pub server_ip: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct Params {
    server_group_id: String,
    servers: Vec<ServerAttribute>,
    client_token: Option<String>,
    dry_run: Option<bool>,
}

/// A validated `UpdateServerGroupServersAttribute` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateServerGroupServersAttribute {
    pub server_group_id: String,
    pub servers: Vec<ServerAttribute>,
    /// The idempotency token: the action id unless the params carry one, so a retry cannot apply twice.
    pub client_token: String,
    pub dry_run: bool,
}

impl UpdateServerGroupServersAttribute {
    pub fn from_params(
        params: &serde_json::Value,
        action_id: &str,
        dry_run: bool,
    ) -> Result<Self, ValidationError> {
        let p: Params = rules::from_params(params)?;
        rules::id("params.ServerGroupId", &p.server_group_id)?;
        if p.servers.is_empty() || p.servers.len() > MAX_SERVERS {
            return Err(ValidationError::new(
                "params.Servers",
                format!("must list 1-{MAX_SERVERS} servers, got {}", p.servers.len()),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, s) in p.servers.iter().enumerate() {
            let field = |name: &str| format!("params.Servers[{i}].{name}");
            rules::token(&field("ServerId"), &s.server_id)?;
            rules::one_of(&field("ServerType"), &s.server_type, SERVER_TYPES)?;
            match s.port {
                Some(port) => rules::range(&field("Port"), port, 1, 65535)?,
                None if TYPES_NEEDING_PORT.contains(&s.server_type.as_str()) => {
                    return Err(ValidationError::new(
                        field("Port"),
                        format!("required when ServerType is {}", s.server_type),
                    ));
                }
                None => {}
            }
            if let Some(weight) = s.weight {
                rules::range(&field("Weight"), weight, 0, 100)?;
            }
            if let Some(d) = &s.description {
                rules::text(&field("Description"), d, 2, 256)?;
                if d.starts_with("http://") || d.starts_with("https://") {
                    return Err(ValidationError::new(
                        field("Description"),
                        "must not start with http:// or https://",
                    ));
                }
            }
            if let Some(ip) = &s.server_ip {
                rules::id(&field("ServerIp"), ip)?;
            }
            if s.weight.is_none() && s.description.is_none() {
                return Err(ValidationError::new(
                    field("Weight"),
                    "give Weight or Description: there is nothing to update",
                ));
            }
            if !seen.insert((&s.server_id, s.server_ip.as_deref(), s.port)) {
                return Err(ValidationError::new(
                    field("ServerId"),
                    "the same server and port is listed twice",
                ));
            }
        }
        let client_token = p.client_token.unwrap_or_else(|| action_id.to_string());
        if client_token.is_empty() || client_token.len() > 64 || !client_token.is_ascii() {
            return Err(ValidationError::new(
                "params.ClientToken",
                "must be 1-64 ASCII characters",
            ));
        }
        Ok(Self {
            server_group_id: p.server_group_id,
            servers: p.servers,
            client_token,
            dry_run: dry_run || p.dry_run.unwrap_or(false),
        })
    }

    /// The request as the SDK lays it out: token, dry run and group in the query, the
    /// `Servers.N.*` fields form-encoded in the body, sorted by key.
    pub fn to_http(&self, base: &BaseUrl) -> HttpRequest {
        let mut req = HttpRequest::new("POST", &base.origin, format!("{}/", base.prefix));
        req.query = vec![
            ("ClientToken".into(), self.client_token.clone()),
            ("DryRun".into(), self.dry_run.to_string()),
            ("ServerGroupId".into(), self.server_group_id.clone()),
        ];
        let mut form: Vec<(String, String)> = Vec::new();
        for (i, s) in self.servers.iter().enumerate() {
            let n = i + 1;
            let mut push = |name: &str, value: Option<String>| {
                if let Some(v) = value {
                    form.push((format!("Servers.{n}.{name}"), v));
                }
            };
            push("Description", s.description.clone());
            push("Port", s.port.map(|p| p.to_string()));
            push("ServerId", Some(s.server_id.clone()));
            push("ServerIp", s.server_ip.clone());
            push("ServerType", Some(s.server_type.clone()));
            push("Weight", s.weight.map(|w| w.to_string()));
        }
        form.sort();
        req.body = form
            .iter()
            .map(|(k, v)| format!("{}={}", encoding::form_encode(k), encoding::form_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes();
        req.set_header("content-type", "application/x-www-form-urlencoded");
        req
    }
}

/// `ListAsynJobs` for one job id.
pub fn list_job(base: &BaseUrl, job_id: &str) -> HttpRequest {
    let mut req = HttpRequest::new("POST", &base.origin, format!("{}/", base.prefix));
    req.query = vec![
        ("JobIds.1".into(), job_id.to_string()),
        ("MaxResults".into(), "20".into()),
    ];
    req
}

/// One page of `ListServerGroupServers` (100 servers, the most a page holds).
pub fn list_servers(
    base: &BaseUrl,
    server_group_id: &str,
    next_token: Option<&str>,
) -> HttpRequest {
    let mut req = HttpRequest::new("POST", &base.origin, format!("{}/", base.prefix));
    req.query = vec![
        ("MaxResults".into(), "100".into()),
        ("ServerGroupId".into(), server_group_id.to_string()),
    ];
    if let Some(token) = next_token {
        req.query.push(("NextToken".into(), token.to_string()));
    }
    req
}

/// An ALB job's state, from `ListAsynJobs`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Job {
    pub id: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl Job {
    pub fn is_finished(&self) -> bool {
        self.status == "Succeeded" || self.status == "Failed"
    }
}

/// The job with `job_id` in a `ListAsynJobs` response, if listed yet.
pub fn find_job(response: &serde_json::Value, job_id: &str) -> Option<Job> {
    response
        .get("Jobs")?
        .as_array()?
        .iter()
        .filter_map(|j| serde_json::from_value::<Job>(j.clone()).ok())
        .find(|j| j.id == job_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(
        params: serde_json::Value,
    ) -> Result<UpdateServerGroupServersAttribute, ValidationError> {
        UpdateServerGroupServersAttribute::from_params(&params, "lbp-1", false)
    }

    fn server(extra: serde_json::Value) -> serde_json::Value {
        let mut s = json!({"ServerId": "i-1", "ServerType": "Ecs", "Port": 80, "Weight": 0});
        s.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        s
    }

    #[test]
    fn lays_out_the_request_like_the_sdk() {
        // The golden capture's input (alibaba_golden.jsonl record 1).
        let req = parse(json!({
            "ServerGroupId": "sgp-atstuj3rtop****",
            "ClientToken": "5A2CFF0E-5718-45B5-9D4D-70B3FF3898",
            "Servers": [
                {"ServerId": "i-bp1f9kdprbgy9uiu****", "ServerType": "Ecs", "Port": 80, "Weight": 100, "Description": "test"},
                {"ServerId": "192.168.1.1", "ServerIp": "192.168.1.1", "ServerType": "Ip", "Port": 8080, "Weight": 0, "Description": "test-ip"}
            ]
        }))
        .unwrap()
        .to_http(&BaseUrl { origin: "http://alb.cn-hangzhou.aliyuncs.com".into(), prefix: String::new() });
        assert_eq!(
            String::from_utf8(req.body.clone()).unwrap(),
            "Servers.1.Description=test&Servers.1.Port=80&Servers.1.ServerId=i-bp1f9kdprbgy9uiu%2A%2A%2A%2A&Servers.1.ServerType=Ecs&Servers.1.Weight=100&Servers.2.Description=test-ip&Servers.2.Port=8080&Servers.2.ServerId=192.168.1.1&Servers.2.ServerIp=192.168.1.1&Servers.2.ServerType=Ip&Servers.2.Weight=0"
        );
        assert_eq!(
            req.query_string(),
            "ClientToken=5A2CFF0E-5718-45B5-9D4D-70B3FF3898&DryRun=false&ServerGroupId=sgp-atstuj3rtop%2A%2A%2A%2A"
        );
    }

    #[test]
    fn the_action_id_is_the_client_token() {
        let req = parse(json!({"ServerGroupId": "sgp-1", "Servers": [server(json!({}))]})).unwrap();
        assert_eq!(req.client_token, "lbp-1");
    }

    #[test]
    fn enforces_the_documented_limits() {
        let field = |p: serde_json::Value| parse(p).unwrap_err().field;
        let servers = |s: serde_json::Value| json!({"ServerGroupId": "sgp-1", "Servers": [s]});
        assert_eq!(
            field(servers(server(json!({"Weight": 101})))),
            "params.Servers[0].Weight"
        );
        assert_eq!(
            field(servers(server(json!({"Weight": -1})))),
            "params.Servers[0].Weight"
        );
        assert_eq!(
            field(servers(server(json!({"Weight": "50"})))),
            "params.Servers[0].Weight"
        );
        assert_eq!(
            field(servers(server(json!({"Port": 0})))),
            "params.Servers[0].Port"
        );
        assert_eq!(
            field(servers(server(json!({"Port": 65536})))),
            "params.Servers[0].Port"
        );
        assert_eq!(
            field(servers(
                json!({"ServerId": "i-1", "ServerType": "Eni", "Weight": 1})
            )),
            "params.Servers[0].Port"
        );
        assert!(
            parse(servers(
                json!({"ServerId": "arn:fc", "ServerType": "Fc", "Weight": 1})
            ))
            .is_ok()
        );
        assert_eq!(
            field(servers(server(json!({"ServerType": "ecs"})))),
            "params.Servers[0].ServerType"
        );
        assert_eq!(
            field(servers(server(json!({"Description": "x"})))),
            "params.Servers[0].Description"
        );
        assert_eq!(
            field(servers(server(json!({"Description": "x".repeat(257)})))),
            "params.Servers[0].Description"
        );
        assert_eq!(
            field(servers(server(json!({"Description": "https://evil"})))),
            "params.Servers[0].Description"
        );
        assert_eq!(
            field(servers(server(json!({"Colour": "red"})))),
            "params.Servers[0].Colour"
        );
        let many: Vec<_> = (0..41)
            .map(|i| server(json!({"ServerId": format!("i-{i}")})))
            .collect();
        assert_eq!(
            field(json!({"ServerGroupId": "sgp-1", "Servers": many})),
            "params.Servers"
        );
        assert_eq!(
            field(json!({"ServerGroupId": "sgp-1", "Servers": []})),
            "params.Servers"
        );
        assert_eq!(field(json!({"Servers": [server(json!({}))]})), "params");
        assert_eq!(
            field(
                json!({"ServerGroupId": "sgp-1", "Servers": [server(json!({})), server(json!({}))]})
            ),
            "params.Servers[1].ServerId"
        );
        let token = "t".repeat(65);
        assert_eq!(
            field(
                json!({"ServerGroupId": "sgp-1", "ClientToken": token, "Servers": [server(json!({}))]})
            ),
            "params.ClientToken"
        );
        assert_eq!(
            field(
                json!({"ServerGroupId": "sgp-1", "ClientToken": "é", "Servers": [server(json!({}))]})
            ),
            "params.ClientToken"
        );
    }
}
