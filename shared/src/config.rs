//! Configuration from the environment, read once per cold start. A missing or malformed
//! setting is an error that names it.

use crate::endpoints::{BaseUrl, Endpoints};
use crate::error::ConfigError;
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::signing::alibaba::AlibabaCredentials;
use crate::signing::huawei::HuaweiCredentials;
use std::collections::HashMap;
use std::time::Duration;

/// Everything the executor needs: credentials, endpoints and limits.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    pub alibaba: Option<AlibabaCredentials>,
    pub huawei: Option<HuaweiCredentials>,
    pub huawei_project_id: Option<String>,
    pub endpoints: Endpoints,
    pub retry: RetryPolicy,
    /// How long to wait for an ALB job to finish before reporting it as still processing.
    pub alb_job_wait: Duration,
    /// How long to wait for a GA endpoint group to leave `PENDING` before updating it.
    pub ga_pending_wait: Duration,
}

/// Named settings: the process environment, possibly overlaid with a secret's values.
#[derive(Clone, Default)]
pub struct Settings {
    values: HashMap<String, String>,
}

/// Values may be secrets: only the names are shown.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.values.keys().collect();
        names.sort();
        f.debug_struct("Settings").field("names", &names).finish()
    }
}

impl Settings {
    pub fn from_env() -> Self {
        Self::from_map(std::env::vars().collect())
    }

    pub fn from_map(values: HashMap<String, String>) -> Self {
        Self { values }
    }

    /// Adds or replaces values (a secret's, over the environment's).
    pub fn overlay(&mut self, values: HashMap<String, String>) {
        self.values.extend(values);
    }

    /// A set, non-blank value.
    pub fn get(&self, name: &str) -> Option<String> {
        self.values
            .get(name)
            .filter(|v| !v.trim().is_empty())
            .cloned()
    }

    pub fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.get(name)
            .ok_or_else(|| ConfigError::new(name, "is required but not set"))
    }

    pub fn secret(&self, name: &str) -> Option<Secret> {
        self.get(name).map(Secret::new)
    }

    pub fn number<T>(
        &self,
        name: &str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        match raw.trim().parse::<T>() {
            Ok(v) if range.contains(&v) => Ok(v),
            _ => Err(ConfigError::new(
                name,
                format!(
                    "must be a number from {} to {} (got {raw:?})",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    pub fn url(&self, name: &str) -> Result<Option<BaseUrl>, ConfigError> {
        self.get(name).map(|v| BaseUrl::parse(name, &v)).transpose()
    }

    /// Both or neither of a key pair.
    fn pair(&self, id: &str, secret: &str) -> Result<Option<(String, Secret)>, ConfigError> {
        match (self.get(id), self.secret(secret)) {
            (Some(i), Some(s)) => Ok(Some((i, s))),
            (None, None) => Ok(None),
            (Some(_), None) => Err(ConfigError::new(
                secret,
                format!("is required when {id} is set"),
            )),
            (None, Some(_)) => Err(ConfigError::new(
                id,
                format!("is required when {secret} is set"),
            )),
        }
    }
}

/// A JSON setting given inline (`{...}`) or as a file path; a parse error names the setting and
/// the path of the field (`routes[2].target.region: missing field`).
pub fn json_setting<T: serde::de::DeserializeOwned>(
    name: &str,
    value: &str,
) -> Result<T, ConfigError> {
    let text = if value.trim_start().starts_with('{') {
        value.to_string()
    } else {
        std::fs::read_to_string(value)
            .map_err(|e| ConfigError::new(name, format!("cannot read {value}: {e}")))?
    };
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(&text))
        .map_err(|e| ConfigError::new(name, format!("{}: {}", e.path(), e.inner())))
}

impl ExecutorConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_settings(&Settings::from_env())
    }

    pub fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let alibaba = s
            .pair(
                "ALIBABA_CLOUD_ACCESS_KEY_ID",
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            )?
            .map(|(id, secret)| AlibabaCredentials {
                access_key_id: id,
                access_key_secret: secret,
                security_token: s.secret("ALIBABA_CLOUD_SECURITY_TOKEN"),
            });
        let huawei = s
            .pair("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK")?
            .map(|(ak, sk)| HuaweiCredentials {
                access_key: ak,
                secret_key: sk,
                security_token: s.secret("HUAWEICLOUD_SDK_SECURITY_TOKEN"),
            });
        if alibaba.is_none() && huawei.is_none() {
            return Err(ConfigError::new(
                "ALIBABA_CLOUD_ACCESS_KEY_ID",
                "no provider credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET, HUAWEICLOUD_SDK_AK/_SK, or both",
            ));
        }
        Ok(Self {
            alibaba,
            huawei,
            huawei_project_id: s.get("HUAWEICLOUD_SDK_PROJECT_ID"),
            endpoints: Endpoints {
                alb: s.url("LBPILOT_ALB_ENDPOINT")?,
                slb: s.url("LBPILOT_SLB_ENDPOINT")?,
                roma: s.url("LBPILOT_ROMA_ENDPOINT")?,
                ga: s.url("LBPILOT_GA_ENDPOINT")?,
            },
            retry: RetryPolicy {
                max_attempts: s.number("LBPILOT_MAX_ATTEMPTS", 4, 1..=10)?,
                request_timeout: Duration::from_millis(s.number(
                    "LBPILOT_REQUEST_TIMEOUT_MS",
                    5000,
                    100..=60_000,
                )?),
                ..RetryPolicy::default()
            },
            alb_job_wait: Duration::from_millis(s.number(
                "LBPILOT_ALB_JOB_WAIT_MS",
                10_000,
                0..=600_000,
            )?),
            ga_pending_wait: Duration::from_millis(s.number(
                "LBPILOT_GA_PENDING_WAIT_MS",
                20_000,
                0..=600_000,
            )?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<ExecutorConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ExecutorConfig::from_settings(&Settings::from_map(map))
    }

    #[test]
    fn names_the_setting_that_is_wrong() {
        assert_eq!(config(&[]).unwrap_err().name, "ALIBABA_CLOUD_ACCESS_KEY_ID");
        assert_eq!(
            config(&[("ALIBABA_CLOUD_ACCESS_KEY_ID", "a")])
                .unwrap_err()
                .name,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
        );
        assert_eq!(
            config(&[("HUAWEICLOUD_SDK_SK", "s")]).unwrap_err().name,
            "HUAWEICLOUD_SDK_AK"
        );
        let ok = [("HUAWEICLOUD_SDK_AK", "a"), ("HUAWEICLOUD_SDK_SK", "s")];
        assert!(config(&ok).is_ok());
        let bad_url = [ok[0], ok[1], ("LBPILOT_GA_ENDPOINT", "localhost:1")];
        assert_eq!(config(&bad_url).unwrap_err().name, "LBPILOT_GA_ENDPOINT");
        let bad_num = [ok[0], ok[1], ("LBPILOT_MAX_ATTEMPTS", "0")];
        assert_eq!(config(&bad_num).unwrap_err().name, "LBPILOT_MAX_ATTEMPTS");
    }

    #[test]
    fn secrets_do_not_reach_debug_output() {
        let c = config(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIid"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s3cr3t-value"),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", "tok-value"),
        ])
        .unwrap();
        let text = format!("{c:?}");
        assert!(
            !text.contains("s3cr3t-value") && !text.contains("tok-value"),
            "{text}"
        );
    }
}
