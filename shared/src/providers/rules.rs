//! Small checks shared by the typed requests; each error names the field and the rule.

use crate::error::ValidationError;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Deserializes `params` into a typed request, naming the path of a field that is missing,
/// unknown or of the wrong type (`params.Servers[1].Weight`).
pub fn from_params<T: DeserializeOwned>(params: &Value) -> Result<T, ValidationError> {
    serde_path_to_error::deserialize(params).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "params".to_string()
        } else {
            format!("params.{path}")
        };
        ValidationError::new(field, e.into_inner().to_string())
    })
}

pub fn range(field: &str, value: i64, min: i64, max: i64) -> Result<(), ValidationError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("must be {min}-{max}, got {value}"),
        ))
    }
}

/// Length in characters, and no control characters.
pub fn text(field: &str, value: &str, min: usize, max: usize) -> Result<(), ValidationError> {
    let len = value.chars().count();
    if len < min || len > max {
        return Err(ValidationError::new(
            field,
            format!("must be {min}-{max} characters, got {len}"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// A resource id: non-empty, at most 128 characters, no whitespace, `/`, `?` or `#`
/// (it goes into a URL path or query).
pub fn id(field: &str, value: &str) -> Result<(), ValidationError> {
    if value.is_empty() || value.len() > 128 {
        return Err(ValidationError::new(field, "must be 1-128 characters"));
    }
    if value
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '?' | '#' | '%'))
    {
        return Err(ValidationError::new(
            field,
            "must not contain spaces, control characters, '/', '?', '#' or '%'",
        ));
    }
    Ok(())
}

/// A value sent in a form body or query (encoded there): non-empty, at most 256 characters, no
/// whitespace or control characters (ALB server ids may be Function Compute ARNs with `/`).
pub fn token(field: &str, value: &str) -> Result<(), ValidationError> {
    if value.is_empty() || value.chars().count() > 256 {
        return Err(ValidationError::new(field, "must be 1-256 characters"));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ValidationError::new(
            field,
            "must not contain spaces or control characters",
        ));
    }
    Ok(())
}

pub fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<(), ValidationError> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("must be one of {}, got {value:?}", allowed.join(", ")),
        ))
    }
}

/// Numbers as JSON numbers or numeric strings (the SLB JSON lists use both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LooseInt(pub i64);

impl<'de> serde::Deserialize<'de> for LooseInt {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_i64()
                .map(LooseInt)
                .ok_or_else(|| serde::de::Error::custom(format!("expected an integer, got {n}"))),
            Value::String(s) => {
                s.trim().parse().map(LooseInt).map_err(|_| {
                    serde::de::Error::custom(format!("expected an integer, got {s:?}"))
                })
            }
            other => Err(serde::de::Error::custom(format!(
                "expected an integer, got {other}"
            ))),
        }
    }
}
