//! The action contract: one provider operation, as every trigger produces it and the queue carries it.

use crate::error::ValidationError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The provider operations lbpilot performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operation {
    #[serde(rename = "alb:UpdateServerGroupServersAttribute")]
    AlbUpdateServerGroupServersAttribute,
    #[serde(rename = "slb:ModifyVServerGroupBackendServers")]
    SlbModifyVServerGroupBackendServers,
    #[serde(rename = "slb:CreateVServerGroup")]
    SlbCreateVServerGroup,
    #[serde(rename = "roma:UpdateMemberGroup")]
    RomaUpdateMemberGroup,
    #[serde(rename = "ga:UpdateEndpointGroup")]
    GaUpdateEndpointGroup,
}

impl Operation {
    pub const ALL: [Operation; 5] = [
        Operation::AlbUpdateServerGroupServersAttribute,
        Operation::SlbModifyVServerGroupBackendServers,
        Operation::SlbCreateVServerGroup,
        Operation::RomaUpdateMemberGroup,
        Operation::GaUpdateEndpointGroup,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Operation::AlbUpdateServerGroupServersAttribute => {
                "alb:UpdateServerGroupServersAttribute"
            }
            Operation::SlbModifyVServerGroupBackendServers => {
                "slb:ModifyVServerGroupBackendServers"
            }
            Operation::SlbCreateVServerGroup => "slb:CreateVServerGroup",
            Operation::RomaUpdateMemberGroup => "roma:UpdateMemberGroup",
            Operation::GaUpdateEndpointGroup => "ga:UpdateEndpointGroup",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Global Accelerator is a global service: its actions need no region.
    pub fn needs_region(self) -> bool {
        self != Operation::GaUpdateEndpointGroup
    }
}

/// The largest action body accepted, well under SQS's 1 MiB message limit.
pub const MAX_ACTION_BYTES: usize = 256 * 1024;
pub const MAX_ID_LEN: usize = 64;
pub const MAX_REASON_CHARS: usize = 1024;

/// One intended change. Its `id` is stable: it names the change in outcomes and is the ALB ClientToken.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    pub id: String,
    pub operation: Operation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub params: Value,
    pub dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    id: Option<String>,
    operation: String,
    region: Option<String>,
    params: Value,
    #[serde(default)]
    dry_run: bool,
    reason: Option<String>,
}

impl Action {
    /// Builds an action in code (triggers); the id is derived from the content when `None`.
    pub fn new(
        id: Option<String>,
        operation: Operation,
        region: Option<String>,
        params: Value,
        dry_run: bool,
        reason: Option<String>,
    ) -> Result<Self, ValidationError> {
        if let Some(id) = &id {
            validate_id(id)?;
        }
        if let Some(region) = &region {
            validate_region(region)?;
        } else if operation.needs_region() {
            return Err(ValidationError::new(
                "region",
                format!("required for {}", operation.name()),
            ));
        }
        if !params.is_object() {
            return Err(ValidationError::new("params", "must be a JSON object"));
        }
        if let Some(reason) = &reason
            && reason.chars().count() > MAX_REASON_CHARS
        {
            return Err(ValidationError::new(
                "reason",
                format!("at most {MAX_REASON_CHARS} characters"),
            ));
        }
        let mut action = Action {
            id: id.unwrap_or_default(),
            operation,
            region,
            params,
            dry_run,
            reason,
        };
        if action.id.is_empty() {
            action.id = action.derived_id();
        }
        Ok(action)
    }

    /// Parses an action from JSON text (a queue message body, a schedule's input).
    pub fn from_json(text: &str) -> Result<Self, ValidationError> {
        if text.len() > MAX_ACTION_BYTES {
            return Err(ValidationError::new(
                "action",
                format!(
                    "larger than {MAX_ACTION_BYTES} bytes ({} bytes)",
                    text.len()
                ),
            ));
        }
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ValidationError::new("action", format!("not valid JSON: {e}")))?;
        Self::from_value(value)
    }

    pub fn from_value(value: Value) -> Result<Self, ValidationError> {
        if !value.is_object() {
            return Err(ValidationError::new("action", "must be a JSON object"));
        }
        let raw: RawAction = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            // An unknown field named "" has an empty path (found by fuzzing): name the action.
            let field = if path == "." || path.is_empty() {
                "action".into()
            } else {
                path
            };
            ValidationError::new(field, e.into_inner().to_string())
        })?;
        let operation = Operation::from_name(&raw.operation).ok_or_else(|| {
            ValidationError::new(
                "operation",
                format!(
                    "unknown operation {:?}; expected one of {}",
                    raw.operation,
                    Operation::ALL.map(Operation::name).join(", ")
                ),
            )
        })?;
        Self::new(
            raw.id,
            operation,
            raw.region,
            raw.params,
            raw.dry_run,
            raw.reason,
        )
    }

    /// `lbp-` and 32 hex digits of the SHA-256 of the action's content (keys sorted), so the
    /// same intended change always gets the same id.
    fn derived_id(&self) -> String {
        let content = serde_json::json!({
            "operation": self.operation.name(),
            "region": self.region,
            "params": self.params,
            "dry_run": self.dry_run,
            "reason": self.reason,
        });
        let digest = Sha256::digest(canonical_json(&content).as_bytes());
        format!("lbp-{}", &hex::encode(digest)[..32])
    }
}

/// JSON with object keys sorted at every level: a stable text for hashing.
fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical_json(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(canonical_json)
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

fn validate_id(id: &str) -> Result<(), ValidationError> {
    if id.is_empty() || id.len() > MAX_ID_LEN || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ValidationError::new(
            "id",
            format!("must be 1-{MAX_ID_LEN} printable ASCII characters without spaces"),
        ));
    }
    Ok(())
}

fn validate_region(region: &str) -> Result<(), ValidationError> {
    let ok = (2..=32).contains(&region.len())
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            "region",
            format!(
                "{region:?} is not a region id (lower-case letters, digits and hyphens, like cn-hangzhou)"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GA: &str = r#"{"operation":"ga:UpdateEndpointGroup","params":{"endpoint_group_id":"g","endpoint_group":{"traffic_dial_percentage":0}}}"#;

    #[test]
    fn derives_a_stable_id_independent_of_key_order() {
        let a = Action::from_json(GA).unwrap();
        let b = Action::from_json(r#"{"params":{"endpoint_group":{"traffic_dial_percentage":0},"endpoint_group_id":"g"},"operation":"ga:UpdateEndpointGroup"}"#).unwrap();
        assert_eq!(a.id, b.id);
        assert!(a.id.starts_with("lbp-") && a.id.len() == 36);
        let c = Action::from_json(&GA.replace(":0}", ":100}")).unwrap();
        assert_ne!(a.id, c.id);
    }

    #[test]
    fn keeps_a_given_id() {
        let a = Action::from_json(&GA.replace("{\"operation\"", "{\"id\":\"chg-1\",\"operation\""))
            .unwrap();
        assert_eq!(a.id, "chg-1");
    }

    #[test]
    fn names_the_field_that_is_wrong() {
        let err = |text: &str| Action::from_json(text).unwrap_err();
        assert_eq!(err("[1]").field, "action");
        assert_eq!(err("{").field, "action");
        assert_eq!(err(&GA.replace("ga:Update", "ga:Upd")).field, "operation");
        assert_eq!(
            err(&GA.replace("{\"operation\"", "{\"dryrun\":true,\"operation\"")).field,
            "dryrun"
        );
        assert_eq!(
            err(&GA.replace("{\"operation\"", "{\"dry_run\":\"yes\",\"operation\"")).field,
            "dry_run"
        );
        assert_eq!(
            err(&GA.replace("{\"operation\"", "{\"id\":\"a b\",\"operation\"")).field,
            "id"
        );
        let id65 = "x".repeat(65);
        assert_eq!(
            err(&GA.replace(
                "{\"operation\"",
                &format!("{{\"id\":\"{id65}\",\"operation\"")
            ))
            .field,
            "id"
        );
        let alb = r#"{"operation":"alb:UpdateServerGroupServersAttribute","params":{}}"#;
        assert_eq!(err(alb).field, "region");
        assert_eq!(
            err(&alb.replace("\"params\"", "\"region\":\"CN hangzhou\",\"params\"")).field,
            "region"
        );
    }

    #[test]
    fn refuses_oversized_bodies() {
        let big = format!("{{\"reason\":\"{}\"}}", "x".repeat(MAX_ACTION_BYTES));
        assert!(
            Action::from_json(&big)
                .unwrap_err()
                .rule
                .contains("larger than")
        );
    }
}
