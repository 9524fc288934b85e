//! The routes file: which alerts drain which backends. Validated at cold start; an error names
//! the route and the field.
//!
//! ```json
//! {"routes": [{
//!   "name": "web-backend-down",
//!   "match": {"alertname": "BackendDown"},
//!   "match_re": {"service": "web|api"},
//!   "target": {"provider": "alb", "region": "cn-hangzhou", "group": "sgp-atstuj3rtop1234", "default_port": 80},
//!   "backend_label": "instance", "port_label": "port",
//!   "drain_weight": 0, "restore_weight": 100,
//!   "min_active": 1, "max_drained_percent": 50
//! }]}
//! ```

use crate::alerts::Alert;
use crate::error::ConfigError;
use crate::targets::{Provider, Target};
use regex_lite::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Where the routes come from: `LBPILOT_ROUTES` is inline JSON or a file path.
pub const SETTING: &str = "LBPILOT_ROUTES";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteSpec {
    name: String,
    #[serde(default, rename = "match")]
    equal: BTreeMap<String, String>,
    #[serde(default)]
    match_re: BTreeMap<String, String>,
    target: Target,
    backend_label: Option<String>,
    port_label: Option<String>,
    #[serde(default)]
    drain_weight: u8,
    #[serde(default = "hundred")]
    restore_weight: u8,
    #[serde(default = "one")]
    min_active: usize,
    #[serde(default = "fifty")]
    max_drained_percent: u8,
}

fn hundred() -> u8 {
    100
}
fn one() -> usize {
    1
}
fn fifty() -> u8 {
    50
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    routes: Vec<RouteSpec>,
}

/// A validated route.
#[derive(Debug, Clone)]
pub struct Route {
    pub name: String,
    equal: BTreeMap<String, String>,
    regex: Vec<(String, Regex)>,
    pub target: Target,
    /// The label that holds the server id (ALB, SLB).
    pub backend_label: Option<String>,
    pub port_label: Option<String>,
    pub drain_weight: u8,
    /// What a resolved alert restores when lbpilot has no record of the weight before.
    pub restore_weight: u8,
    /// The blast-radius guard: never leave fewer backends in service, never drain more than this share.
    pub min_active: usize,
    pub max_drained_percent: u8,
}

impl Route {
    /// Alertmanager-style matching: every `match` label equal, every `match_re` label matching
    /// its (fully anchored) regex.
    pub fn matches(&self, alert: &Alert) -> bool {
        self.equal
            .iter()
            .all(|(k, v)| alert.labels.get(k) == Some(v))
            && self
                .regex
                .iter()
                .all(|(k, re)| re.is_match(alert.labels.get(k).map_or("", String::as_str)))
    }
}

#[derive(Debug, Clone)]
pub struct Routes {
    pub routes: Vec<Route>,
}

impl Routes {
    /// From the setting's value: inline JSON or a file path.
    pub fn load(setting: &str) -> Result<Self, ConfigError> {
        Self::from_file(crate::config::json_setting(SETTING, setting)?)
    }

    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        Self::from_file(crate::config::json_setting(SETTING, text)?)
    }

    fn from_file(file: File) -> Result<Self, ConfigError> {
        if file.routes.is_empty() {
            return Err(ConfigError::new(SETTING, "no routes are defined"));
        }
        let mut routes = Vec::new();
        for spec in file.routes {
            let route = build(spec)?;
            if routes.iter().any(|r: &Route| r.name == route.name) {
                return Err(ConfigError::new(
                    SETTING,
                    format!("route {:?} is defined twice", route.name),
                ));
            }
            routes.push(route);
        }
        Ok(Self { routes })
    }

    /// The first route the alert matches, as Alertmanager routes without `continue`.
    pub fn find(&self, alert: &Alert) -> Option<&Route> {
        self.routes.iter().find(|r| r.matches(alert))
    }
}

fn build(spec: RouteSpec) -> Result<Route, ConfigError> {
    let name = spec.name.clone();
    let bad = |field: &str, problem: String| {
        ConfigError::new(SETTING, format!("route {name:?}: {field}: {problem}"))
    };
    if name.trim().is_empty() {
        return Err(ConfigError::new(SETTING, "a route has an empty name"));
    }
    if spec.equal.is_empty() && spec.match_re.is_empty() {
        return Err(bad(
            "match",
            "give at least one matcher (match or match_re): a route must not catch every alert"
                .into(),
        ));
    }
    spec.target
        .check()
        .map_err(|(field, problem)| bad(&format!("target.{field}"), problem.into()))?;
    if spec.target.provider.has_servers() && spec.backend_label.is_none() {
        return Err(bad(
            "backend_label",
            "is required for ALB and SLB targets: the label that holds the server id".into(),
        ));
    }
    if !spec.target.provider.has_servers() && spec.backend_label.is_some() {
        return Err(bad(
            "backend_label",
            "ROMA and GA targets change the whole group; remove it".into(),
        ));
    }
    for (field, value) in [
        ("drain_weight", spec.drain_weight),
        ("restore_weight", spec.restore_weight),
        ("max_drained_percent", spec.max_drained_percent),
    ] {
        if value > 100 {
            return Err(bad(field, format!("must be 0-100, got {value}")));
        }
    }
    if spec.drain_weight >= spec.restore_weight {
        return Err(bad("drain_weight", "must be below restore_weight".into()));
    }
    let mut regex = Vec::new();
    for (label, pattern) in spec.match_re {
        let re = Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
            bad(
                &format!("match_re.{label}"),
                format!("not a valid regex: {e}"),
            )
        })?;
        regex.push((label, re));
    }
    Ok(Route {
        name: spec.name,
        equal: spec.equal,
        regex,
        target: spec.target,
        backend_label: spec.backend_label,
        port_label: spec.port_label,
        drain_weight: spec.drain_weight,
        restore_weight: spec.restore_weight,
        min_active: spec.min_active,
        max_drained_percent: spec.max_drained_percent,
    })
}

impl Provider {
    /// The most servers one provider call changes.
    pub fn batch_limit(self) -> usize {
        match self {
            Provider::Alb => crate::providers::alb::MAX_SERVERS,
            Provider::Slb => crate::providers::slb::MAX_SERVERS,
            Provider::Roma | Provider::Ga => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(route: &str) -> Result<Routes, ConfigError> {
        Routes::parse(&format!(r#"{{"routes": [{route}]}}"#))
    }

    const ALB: &str = r#""target": {"provider": "alb", "region": "cn-hangzhou", "group": "sgp-1"}, "backend_label": "instance""#;

    #[test]
    fn names_the_route_and_field_that_are_wrong() {
        let err = |r: &str| routes(r).unwrap_err().problem;
        assert!(err(&format!(r#"{{"name": "a", {ALB}}}"#)).contains("route \"a\": match"));
        assert!(
            err(&format!(
                r#"{{"name": "a", "match_re": {{"x": "("}}, {ALB}}}"#
            ))
            .contains("match_re.x")
        );
        assert!(err(r#"{"name": "a", "match": {"x": "1"}, "target": {"provider": "alb", "region": "r", "group": "g"}}"#).contains("backend_label"));
        assert!(
            err(r#"{"name": "a", "match": {"x": "1"}, "target": {"provider": "ga"}}"#)
                .contains("routes[0].target: missing field `group`")
        );
        assert!(
            err(&format!(
                r#"{{"name": "a", "match": {{"x": "1"}}, {ALB}, "drain_weight": 100}}"#
            ))
            .contains("drain_weight")
        );
        assert!(
            err(&format!(
                r#"{{"name": "a", "match": {{"x": "1"}}, {ALB}, "max_drained_percent": 101}}"#
            ))
            .contains("max_drained_percent")
        );
        assert!(
            err(&format!(
                r#"{{"name": "a", "match": {{"x": "1"}}, {ALB}, "colour": 1}}"#
            ))
            .contains("colour")
        );
        let twice = format!(
            r#"{{"name": "a", "match": {{"x": "1"}}, {ALB}}}, {{"name": "a", "match": {{"x": "2"}}, {ALB}}}"#
        );
        assert!(err(&twice).contains("twice"));
    }

    #[test]
    fn matches_like_alertmanager() {
        let r = routes(&format!(r#"{{"name": "a", "match": {{"alertname": "BackendDown"}}, "match_re": {{"service": "web|api"}}, {ALB}}}"#)).unwrap();
        let alert = |labels: &[(&str, &str)]| {
            let mut a = crate::alerts::parse_alertmanager(
                br#"{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{}}]}"#,
            )
            .unwrap()
            .alerts
            .remove(0);
            a.labels = labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            a
        };
        assert!(
            r.find(&alert(&[("alertname", "BackendDown"), ("service", "web")]))
                .is_some()
        );
        assert!(
            r.find(&alert(&[
                ("alertname", "BackendDown"),
                ("service", "webby")
            ]))
            .is_none(),
            "anchored"
        );
        assert!(
            r.find(&alert(&[("alertname", "Other"), ("service", "web")]))
                .is_none()
        );
        assert!(r.find(&alert(&[("alertname", "BackendDown")])).is_none());
    }
}
