//! Huawei Cloud Global Accelerator (v1): update an endpoint group (name, description, traffic dial).

use super::rules;
use crate::endpoints::BaseUrl;
use crate::error::ValidationError;
use crate::http::HttpRequest;
use crate::signing::encoding;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const CONTENT_TYPE: &str = "application/json";

/// `UpdateEndpointGroupOption`, in the SDK model's field order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointGroupOption {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_dial_percentage: Option<i64>,
}

#[derive(Serialize)]
struct Body<'a> {
    endpoint_group: &'a EndpointGroupOption,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    endpoint_group_id: String,
    endpoint_group: EndpointGroupOption,
}

/// A validated endpoint-group update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateEndpointGroup {
    pub endpoint_group_id: String,
    pub endpoint_group: EndpointGroupOption,
}

impl UpdateEndpointGroup {
    pub fn from_params(params: &Value) -> Result<Self, ValidationError> {
        let p: Params = rules::from_params(params)?;
        rules::id("params.endpoint_group_id", &p.endpoint_group_id)?;
        let g = &p.endpoint_group;
        if let Some(name) = &g.name {
            let ok = (1..=64).contains(&name.len())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !ok {
                return Err(ValidationError::new(
                    "params.endpoint_group.name",
                    "must be 1-64 letters, digits and hyphens",
                ));
            }
        }
        if let Some(description) = &g.description {
            rules::text("params.endpoint_group.description", description, 0, 255)?;
            if description.contains(['<', '>']) {
                return Err(ValidationError::new(
                    "params.endpoint_group.description",
                    "must not contain < or >",
                ));
            }
        }
        if let Some(dial) = g.traffic_dial_percentage {
            rules::range(
                "params.endpoint_group.traffic_dial_percentage",
                dial,
                0,
                100,
            )?;
        }
        if g.name.is_none() && g.description.is_none() && g.traffic_dial_percentage.is_none() {
            return Err(ValidationError::new(
                "params.endpoint_group",
                "give at least one of name, description, traffic_dial_percentage",
            ));
        }
        Ok(Self {
            endpoint_group_id: p.endpoint_group_id,
            endpoint_group: p.endpoint_group,
        })
    }

    pub fn to_http(&self, base: &BaseUrl) -> HttpRequest {
        let mut req = HttpRequest::new(
            "PUT",
            &base.origin,
            group_path(base, &self.endpoint_group_id),
        );
        req.body = serde_json::to_vec(&Body {
            endpoint_group: &self.endpoint_group,
        })
        .expect("the body always serializes");
        req.set_header("content-type", CONTENT_TYPE);
        req
    }

    pub fn show(&self, base: &BaseUrl) -> HttpRequest {
        show(base, &self.endpoint_group_id)
    }
}

fn group_path(base: &BaseUrl, endpoint_group_id: &str) -> String {
    format!(
        "{}/v1/endpoint-groups/{}",
        base.prefix,
        encoding::encode(endpoint_group_id)
    )
}

/// `ShowEndpointGroup`: the group's status and dial now.
pub fn show(base: &BaseUrl, endpoint_group_id: &str) -> HttpRequest {
    let mut req = HttpRequest::new("GET", &base.origin, group_path(base, endpoint_group_id));
    req.set_header("content-type", CONTENT_TYPE);
    req
}

/// `ListEndpointGroups` of one listener: the group and its siblings (a listener has few).
pub fn list_listener_groups(base: &BaseUrl, listener_id: &str) -> HttpRequest {
    let mut req = HttpRequest::new(
        "GET",
        &base.origin,
        format!("{}/v1/endpoint-groups", base.prefix),
    );
    req.query = vec![
        ("limit".into(), "2000".into()),
        ("listener_id".into(), listener_id.to_string()),
    ];
    req.set_header("content-type", CONTENT_TYPE);
    req
}

/// The `status` and `traffic_dial_percentage` of a Show/Update response.
pub fn status_and_dial(response: &Value) -> (Option<String>, Option<i64>) {
    let group = response.get("endpoint_group");
    (
        group
            .and_then(|g| g.get("status"))
            .and_then(Value::as_str)
            .map(str::to_string),
        group
            .and_then(|g| g.get("traffic_dial_percentage"))
            .and_then(Value::as_i64),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_the_documented_request() {
        let u = UpdateEndpointGroup::from_params(&json!({"endpoint_group_id": "3a9f", "endpoint_group": {"name": "endpoint-group-name-new", "traffic_dial_percentage": 5}})).unwrap();
        let req = u.to_http(&BaseUrl {
            origin: "https://ga.myhuaweicloud.com".into(),
            prefix: String::new(),
        });
        assert_eq!(req.path, "/v1/endpoint-groups/3a9f");
        assert_eq!(
            req.body,
            br#"{"endpoint_group":{"name":"endpoint-group-name-new","traffic_dial_percentage":5}}"#
        );
    }

    #[test]
    fn enforces_the_documented_limits() {
        let field = |g: Value| {
            UpdateEndpointGroup::from_params(
                &json!({"endpoint_group_id": "g", "endpoint_group": g}),
            )
            .unwrap_err()
            .field
        };
        assert_eq!(
            field(json!({"traffic_dial_percentage": 101})),
            "params.endpoint_group.traffic_dial_percentage"
        );
        assert_eq!(
            field(json!({"traffic_dial_percentage": "5"})),
            "params.endpoint_group.traffic_dial_percentage"
        );
        assert_eq!(
            field(json!({"name": "under_score"})),
            "params.endpoint_group.name"
        );
        assert_eq!(field(json!({"name": ""})), "params.endpoint_group.name");
        assert_eq!(
            field(json!({"description": "<script>"})),
            "params.endpoint_group.description"
        );
        assert_eq!(
            field(json!({"description": "x".repeat(256)})),
            "params.endpoint_group.description"
        );
        assert_eq!(field(json!({})), "params.endpoint_group");
        assert_eq!(field(json!({"weight": 1})), "params.endpoint_group.weight");
    }
}
