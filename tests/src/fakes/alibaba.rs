//! The Alibaba RPC wire shared by ALB and SLB: parameters (query, plus a form body), the
//! `RequestId` on every answer, and the error envelope
//! `{"RequestId","HostId","Code","Message","Recommend"}` (alibaba-signing.md §7).

use super::faults::Product;
use super::util;
use super::wire::{Incoming, Reply};
use lbpilot::signing::encoding;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// One Alibaba call being answered: its decoded parameters and the envelope details.
pub struct AliCall {
    pub product: Product,
    pub action: String,
    pub host: String,
    pub request_id: String,
    /// Query parameters, then form-body parameters, decoded (`+` is a space).
    pub params: Vec<(String, String)>,
}

pub type AliResult<T> = Result<T, Reply>;

impl AliCall {
    pub fn new(product: Product, action: &str, req: &Incoming) -> Self {
        let mut params = encoding::parse_pairs(&req.raw_query);
        let form = req
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        if form {
            params.extend(encoding::parse_pairs(&String::from_utf8_lossy(&req.body)));
        }
        Self {
            product,
            action: action.to_string(),
            host: req
                .header("host")
                .unwrap_or_else(|| format!("{}.aliyuncs.com", product.as_str())),
            request_id: util::uuid_upper(),
            params,
        }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A required, non-empty parameter; `Missing{Name}` (HTTP 400) otherwise.
    pub fn required(&self, name: &str) -> AliResult<&str> {
        match self.param(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(self.error(
                400,
                &format!("Missing{name}"),
                &format!("{name} is mandatory for this action."),
            )),
        }
    }

    /// `true`/`false`, in any case (the Python SDK sends `True`/`False`).
    pub fn bool_param(&self, name: &str) -> AliResult<Option<bool>> {
        match self.param(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(self.invalid(name, v)),
        }
    }

    /// An integer parameter within `min..=max`.
    pub fn int_param(&self, name: &str, min: i64, max: i64) -> AliResult<Option<i64>> {
        match self.param(name) {
            None => Ok(None),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(self.invalid(name, v)),
            },
        }
    }

    /// `Name.1`, `Name.2`, … in index order.
    pub fn list(&self, name: &str) -> Vec<String> {
        let mut items: BTreeMap<usize, String> = BTreeMap::new();
        for (k, v) in &self.params {
            if let Some(n) = k
                .strip_prefix(name)
                .and_then(|r| r.strip_prefix('.'))
                .and_then(|r| r.parse::<usize>().ok())
            {
                items.insert(n, v.clone());
            }
        }
        items.into_values().collect()
    }

    /// `Name.N.Field` parameters grouped by `N` (in index order), as field → value maps.
    pub fn objects(&self, name: &str) -> Vec<(usize, BTreeMap<String, String>)> {
        let mut items: BTreeMap<usize, BTreeMap<String, String>> = BTreeMap::new();
        for (k, v) in &self.params {
            let Some(rest) = k.strip_prefix(name).and_then(|r| r.strip_prefix('.')) else {
                continue;
            };
            let Some((n, field)) = rest.split_once('.') else {
                continue;
            };
            if let Ok(n) = n.parse::<usize>() {
                items
                    .entry(n)
                    .or_default()
                    .insert(field.to_string(), v.clone());
            }
        }
        items.into_iter().collect()
    }

    /// `MaxResults` (1–100, default 20) and the `NextToken` offset, for the ALB list calls.
    pub fn paging(&self) -> AliResult<(usize, usize)> {
        let max = self.int_param("MaxResults", 1, 100)?.unwrap_or(20) as usize;
        let offset = match self.param("NextToken") {
            None | Some("") => 0,
            Some(t) => t
                .parse::<usize>()
                .map_err(|_| self.invalid("NextToken", t))?,
        };
        Ok((max, offset))
    }

    pub fn invalid(&self, name: &str, value: &str) -> Reply {
        self.error(
            400,
            "InvalidParameter",
            &format!("The specified parameter {name} is not valid: {value:?}."),
        )
    }

    /// The error envelope; `Recommend` points at the troubleshooting page as the real service does.
    pub fn error(&self, status: u16, code: &str, message: &str) -> Reply {
        error_reply(
            self.product,
            &self.host,
            &self.request_id,
            status,
            code,
            message,
        )
    }

    /// A success answer: `RequestId` first, then the fields of `body`.
    pub fn ok(&self, body: Value) -> Reply {
        let mut map = Map::new();
        map.insert("RequestId".into(), Value::String(self.request_id.clone()));
        if let Value::Object(fields) = body {
            map.extend(fields);
        }
        Reply::json(200, &Value::Object(map))
    }
}

pub fn product_name(product: Product) -> &'static str {
    match product {
        Product::Alb => "Alb",
        Product::Slb => "Slb",
        Product::Roma => "Roma",
        Product::Ga => "Ga",
    }
}

/// The Alibaba error envelope, usable before an [`AliCall`] exists (signature errors).
pub fn error_reply(
    product: Product,
    host: &str,
    request_id: &str,
    status: u16,
    code: &str,
    message: &str,
) -> Reply {
    let body = json!({
        "RequestId": request_id,
        "HostId": host,
        "Code": code,
        "Message": message,
        "Recommend": format!(
            "https://api.aliyun.com/troubleshoot?q={code}&product={}",
            product_name(product)
        ),
    });
    Reply::json(status, &body).with_error_code(code)
}

/// A JSON value that is a number or a numeric string (SLB lists carry both).
pub fn number(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A JSON value as text (strings as-is, numbers printed).
pub fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
