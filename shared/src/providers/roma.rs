//! Huawei ROMA Connect (APIC v2): update a VPC channel's backend server group (member group).

use super::rules;
use crate::endpoints::BaseUrl;
use crate::error::ValidationError;
use crate::http::HttpRequest;
use crate::signing::encoding;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The SDK declares `application/json;charset=UTF-8` and sends it lower-cased.
pub const CONTENT_TYPE: &str = "application/json;charset=utf-8";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MicroserviceLabel {
    pub label_name: String,
    pub label_value: String,
}

/// The request body, with fields in the SDK model's order; absent fields are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberGroupBody {
    pub member_group_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_group_remark: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_group_weight: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dict_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub microservice_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub microservice_port: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub microservice_labels: Option<Vec<MicroserviceLabel>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_vpc_channel_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    project_id: Option<String>,
    instance_id: String,
    vpc_channel_id: String,
    member_group_id: String,
    #[serde(flatten)]
    body: MemberGroupBody,
}

/// A validated member-group update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateMemberGroup {
    pub project_id: String,
    pub instance_id: String,
    pub vpc_channel_id: String,
    pub member_group_id: String,
    pub body: MemberGroupBody,
}

/// Letters, digits, `-`, `_` and `.`; starts and ends with a letter or digit; at most 63.
fn label_part(field: &str, value: &str) -> Result<(), ValidationError> {
    let ok = !value.is_empty()
        && value.chars().count() <= 63
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.".contains(c))
        && value.chars().next().is_some_and(char::is_alphanumeric)
        && value.chars().last().is_some_and(char::is_alphanumeric);
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            "must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
        ))
    }
}

impl UpdateMemberGroup {
    /// `default_project_id` is the configured `HUAWEICLOUD_SDK_PROJECT_ID`, used when the params carry none.
    pub fn from_params(
        params: &Value,
        default_project_id: Option<&str>,
    ) -> Result<Self, ValidationError> {
        // `flatten` hides unknown fields from deny_unknown_fields: check names first.
        const KNOWN: &[&str] = &[
            "project_id",
            "instance_id",
            "vpc_channel_id",
            "member_group_id",
            "member_group_name",
            "member_group_remark",
            "member_group_weight",
            "dict_code",
            "microservice_version",
            "microservice_port",
            "microservice_labels",
            "reference_vpc_channel_id",
        ];
        if let Some(unknown) = params
            .as_object()
            .and_then(|o| o.keys().find(|k| !KNOWN.contains(&k.as_str())))
        {
            return Err(ValidationError::new(
                format!("params.{unknown}"),
                "is not a parameter of the member group update",
            ));
        }
        let p: Params = rules::from_params(params)?;
        let project_id = p
            .project_id
            .or_else(|| default_project_id.map(str::to_string))
            .ok_or_else(|| {
                ValidationError::new(
                    "params.project_id",
                    "required when HUAWEICLOUD_SDK_PROJECT_ID is not set",
                )
            })?;
        rules::id("params.project_id", &project_id)?;
        rules::id("params.instance_id", &p.instance_id)?;
        rules::id("params.vpc_channel_id", &p.vpc_channel_id)?;
        rules::id("params.member_group_id", &p.member_group_id)?;
        let b = &p.body;
        let name = &b.member_group_name;
        let name_ok = (3..=64).contains(&name.chars().count())
            && name.chars().next().is_some_and(char::is_alphabetic)
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || "-_.".contains(c));
        if !name_ok {
            return Err(ValidationError::new(
                "params.member_group_name",
                "must be 3-64 characters, start with a letter, and hold only letters, digits, '_', '-' and '.'",
            ));
        }
        if let Some(remark) = &b.member_group_remark {
            rules::text("params.member_group_remark", remark, 0, 255)?;
        }
        if let Some(weight) = b.member_group_weight {
            rules::range("params.member_group_weight", weight, 0, 100)?;
        }
        if let Some(code) = &b.dict_code {
            let ok = (1..=64).contains(&code.len())
                && code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if !ok {
                return Err(ValidationError::new(
                    "params.dict_code",
                    "must be 1-64 letters, digits, '-', '_' or '.'",
                ));
            }
        }
        if let Some(version) = &b.microservice_version {
            rules::text("params.microservice_version", version, 1, 64)?;
        }
        if let Some(port) = b.microservice_port {
            rules::range("params.microservice_port", port, 0, 65535)?;
        }
        for (i, label) in b.microservice_labels.iter().flatten().enumerate() {
            label_part(
                &format!("params.microservice_labels[{i}].label_name"),
                &label.label_name,
            )?;
            label_part(
                &format!("params.microservice_labels[{i}].label_value"),
                &label.label_value,
            )?;
        }
        if let Some(reference) = &b.reference_vpc_channel_id {
            rules::id("params.reference_vpc_channel_id", reference)?;
        }
        Ok(Self {
            project_id,
            instance_id: p.instance_id,
            vpc_channel_id: p.vpc_channel_id,
            member_group_id: p.member_group_id,
            body: p.body,
        })
    }

    pub fn member_group(&self) -> MemberGroupRef {
        MemberGroupRef {
            project_id: self.project_id.clone(),
            instance_id: self.instance_id.clone(),
            vpc_channel_id: self.vpc_channel_id.clone(),
            member_group_id: self.member_group_id.clone(),
        }
    }

    pub fn path(&self, base: &BaseUrl) -> String {
        self.member_group().path(base)
    }

    pub fn to_http(&self, base: &BaseUrl) -> HttpRequest {
        let mut req = HttpRequest::new("PUT", &base.origin, self.path(base));
        req.body = serde_json::to_vec(&self.body).expect("the body always serializes");
        req.set_header("content-type", CONTENT_TYPE);
        req
    }
}

/// Names one member group of a VPC channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberGroupRef {
    pub project_id: String,
    pub instance_id: String,
    pub vpc_channel_id: String,
    pub member_group_id: String,
}

impl MemberGroupRef {
    pub fn path(&self, base: &BaseUrl) -> String {
        format!(
            "{}/v2/{}/apic/instances/{}/vpc-channels/{}/member-groups/{}",
            base.prefix,
            encoding::encode(&self.project_id),
            encoding::encode(&self.instance_id),
            encoding::encode(&self.vpc_channel_id),
            encoding::encode(&self.member_group_id)
        )
    }

    /// `ListMemberGroups` of the group's VPC channel (500 is the most a page holds).
    pub fn list_siblings(&self, base: &BaseUrl) -> HttpRequest {
        let path = self.path(base);
        let channel = path.rsplit_once('/').map_or(path.as_str(), |(p, _)| p);
        let mut req = HttpRequest::new("GET", &base.origin, channel.to_string());
        req.query = vec![
            ("limit".into(), "500".into()),
            ("offset".into(), "0".into()),
        ];
        req.set_header("content-type", "application/json");
        req
    }

    /// `ShowDetailsOfMemberGroup`: the group as it is now.
    pub fn show(&self, base: &BaseUrl) -> HttpRequest {
        let mut req = HttpRequest::new("GET", &base.origin, self.path(base));
        req.set_header("content-type", "application/json");
        req
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(extra: Value) -> Value {
        let mut p = json!({"instance_id": "i1", "vpc_channel_id": "c1", "member_group_id": "g1", "member_group_name": "vpc_member_group"});
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        p
    }

    #[test]
    fn builds_the_documented_request() {
        let u =
            UpdateMemberGroup::from_params(&params(json!({"member_group_weight": 10})), Some("p1"))
                .unwrap();
        let req = u.to_http(&BaseUrl {
            origin: "https://roma.cn-north-4.myhuaweicloud.com".into(),
            prefix: String::new(),
        });
        assert_eq!(
            req.path,
            "/v2/p1/apic/instances/i1/vpc-channels/c1/member-groups/g1"
        );
        assert_eq!(
            req.body,
            br#"{"member_group_name":"vpc_member_group","member_group_weight":10}"#
        );
        assert_eq!(req.header("content-type"), Some(CONTENT_TYPE));
    }

    #[test]
    fn enforces_the_documented_limits() {
        let field = |extra: Value| {
            UpdateMemberGroup::from_params(&params(extra), Some("p"))
                .unwrap_err()
                .field
        };
        assert_eq!(
            field(json!({"member_group_name": "ab"})),
            "params.member_group_name"
        );
        assert_eq!(
            field(json!({"member_group_name": "1abc"})),
            "params.member_group_name"
        );
        assert_eq!(
            field(json!({"member_group_name": "a b c"})),
            "params.member_group_name"
        );
        assert_eq!(
            field(json!({"member_group_name": "a".repeat(65)})),
            "params.member_group_name"
        );
        assert_eq!(
            field(json!({"member_group_weight": 101})),
            "params.member_group_weight"
        );
        assert_eq!(
            field(json!({"microservice_labels": [{"label_name": "-env", "label_value": "prod"}]})),
            "params.microservice_labels[0].label_name"
        );
        assert_eq!(
            field(
                json!({"microservice_labels": [{"label_name": "env", "label_value": "x".repeat(64)}]})
            ),
            "params.microservice_labels[0].label_value"
        );
        assert_eq!(
            field(json!({"member_group_colour": "red"})),
            "params.member_group_colour"
        );
        assert_eq!(field(json!({"instance_id": "a/b"})), "params.instance_id");
        let none = UpdateMemberGroup::from_params(&params(json!({})), None).unwrap_err();
        assert_eq!(none.field, "params.project_id");
    }
}
