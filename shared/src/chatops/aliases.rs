//! Chat targets: an alias names one group at one provider, with who may change it. The file is
//! validated at cold start; an error names the alias and the field.

use crate::error::ConfigError;
use crate::targets::Target;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One chat target, as written in the aliases file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alias {
    pub target: Target,
    /// The weight (or dial) `restore` sets (default 100).
    #[serde(default = "full")]
    pub restore_to: u8,
    /// Slack user ids allowed to change this target; empty = any user of an allowed channel.
    #[serde(default)]
    pub allowed_users: Vec<String>,
    /// Slack channel ids commands may come from; empty = any channel, for an allowed user.
    #[serde(default)]
    pub allowed_channels: Vec<String>,
}

fn full() -> u8 {
    100
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    aliases: BTreeMap<String, Alias>,
}

/// The validated aliases.
#[derive(Debug, Clone, Default)]
pub struct Aliases {
    pub by_name: BTreeMap<String, Alias>,
}

/// Where the aliases come from: `LBPILOT_CHATOPS_ALIASES` is inline JSON or a file path.
pub const SETTING: &str = "LBPILOT_CHATOPS_ALIASES";

impl Aliases {
    /// From the setting's value: inline JSON or a file path.
    pub fn load(setting: &str) -> Result<Self, ConfigError> {
        Self::from_file(crate::config::json_setting(SETTING, setting)?)
    }

    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        Self::from_file(crate::config::json_setting(SETTING, text)?)
    }

    fn from_file(file: File) -> Result<Self, ConfigError> {
        if file.aliases.is_empty() {
            return Err(ConfigError::new(SETTING, "no aliases are defined"));
        }
        for (name, alias) in &file.aliases {
            validate(name, alias)?;
        }
        Ok(Self {
            by_name: file.aliases,
        })
    }

    pub fn get(&self, name: &str) -> Option<&Alias> {
        self.by_name.get(name)
    }
}

fn validate(name: &str, a: &Alias) -> Result<(), ConfigError> {
    let bad = |field: &str, problem: &str| {
        ConfigError::new(SETTING, format!("alias {name:?}: {field}: {problem}"))
    };
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !name_ok {
        return Err(bad("name", "must be 1-64 letters, digits, '-', '_' or '.'"));
    }
    a.target
        .check()
        .map_err(|(field, problem)| bad(&format!("target.{field}"), problem))?;
    if a.restore_to > 100 {
        return Err(bad("restore_to", "must be 0-100"));
    }
    if a.allowed_users.is_empty() && a.allowed_channels.is_empty() {
        return Err(bad(
            "allowed_users",
            "list the Slack user ids (or allowed_channels the channel ids) that may change it",
        ));
    }
    Ok(())
}

impl Alias {
    /// Whether `user` in `channel` may use this alias.
    pub fn allows(&self, user: &str, channel: &str) -> bool {
        (self.allowed_users.is_empty() || self.allowed_users.iter().any(|u| u == user))
            && (self.allowed_channels.is_empty()
                || self.allowed_channels.iter().any(|c| c == channel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_alias_and_field_that_are_wrong() {
        let err = |text: &str| Aliases::parse(text).unwrap_err().problem;
        let with = |alias: &str| format!(r#"{{"aliases": {{"web": {alias}}}}}"#);
        assert!(err(r#"{"aliases": {}}"#).contains("no aliases"));
        assert!(
            err(&with(r#"{"target": {"provider": "elb", "group": "g"}}"#))
                .contains("aliases.web.target.provider")
        );
        assert!(
            err(&with(
                r#"{"target": {"provider": "alb", "group": "g"}, "allowed_users": ["U1"]}"#
            ))
            .contains("alias \"web\": target.region")
        );
        assert!(
            err(&with(
                r#"{"target": {"provider": "alb", "region": "cn-hangzhou", "group": "g"}}"#
            ))
            .contains("allowed_users")
        );
        assert!(err(&with(r#"{"target": {"provider": "roma", "region": "cn-north-4", "group": "g"}, "allowed_users": ["U1"]}"#)).contains("instance_id"));
        assert!(err(r#"{"aliases": {"w b": {"target": {"provider": "ga", "group": "g"}, "allowed_users": ["U1"]}}}"#).contains("name"));
        assert!(err(&with(r#"{"target": {"provider": "ga", "group": "g"}, "allowed_users": ["U1"], "colour": 1}"#)).contains("colour"));
        assert!(err(&with(r#"{"target": {"provider": "ga", "group": "g"}, "allowed_users": ["U1"], "restore_to": 150}"#)).contains("restore_to"));
        let ok = Aliases::parse(r#"{"aliases": {"edge": {"target": {"provider": "ga", "group": "g"}, "allowed_channels": ["C1"]}}}"#).unwrap();
        let edge = ok.get("edge").unwrap();
        assert!(edge.allows("anyone", "C1") && !edge.allows("anyone", "C2"));
    }
}
