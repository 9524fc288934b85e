//! Fault injection: make the next N calls (or every call) to a product, optionally to one
//! action/operation, fail in a chosen way.
//!
//! A fault fires only on a request whose signature verified, and before the operation runs,
//! so a fault that fires never applies the change. The exceptions are [`FaultKind::Latency`]
//! (the change is applied, then the answer is held back), [`FaultKind::AppliedThenDrop`] (the
//! change is applied, then the connection is closed without an answer: the ambiguous case) and
//! [`FaultKind::JobFails`] (the ALB call is answered normally, but its job ends `Failed`
//! without applying anything).
//!
//! As JSON (`POST /_fake/faults`; `product` may be left out there, it defaults to the server's):
//! ```json
//! {"product": "alb", "action": "UpdateServerGroupServersAttribute", "times": 1,
//!  "kind": "throttle", "retry_after_ms": 1500}
//! ```
//! `kind` is one of `server_error` (`status`, default 503; optional `code`), `throttle`
//! (`retry_after_ms`, optional), `latency` (`ms`), `drop`, `applied_then_drop`,
//! `malformed_body`, `job_fails` (optional `code`, `message`). `times` left out means always.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The four fake services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Product {
    Alb,
    Slb,
    Roma,
    Ga,
}

impl Product {
    pub const ALL: [Product; 4] = [Product::Alb, Product::Slb, Product::Roma, Product::Ga];

    pub fn as_str(self) -> &'static str {
        match self {
            Product::Alb => "alb",
            Product::Slb => "slb",
            Product::Roma => "roma",
            Product::Ga => "ga",
        }
    }

    /// Alibaba products sign with ACS3 and answer with the Alibaba envelope; the others are Huawei's.
    pub fn is_alibaba(self) -> bool {
        matches!(self, Product::Alb | Product::Slb)
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to a request a fault fires on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// HTTP 5xx with the provider's error body: Alibaba `ServiceUnavailable` (503) or
    /// `InternalError` (500, and any other status) unless `code` is given; Huawei `APIG.9999`.
    ServerError {
        #[serde(default = "default_5xx")]
        status: u16,
        #[serde(default)]
        code: Option<String>,
    },
    /// Alibaba: HTTP 400 `Throttling.User`, plus `x-acs-retry-after: <ms>` when
    /// `retry_after_ms` is set (milliseconds: the unit lbpilot's client reads; the reference
    /// only says "a positive integer"). Huawei: HTTP 429 `APIG.0308`, plus `Retry-After: <s>`
    /// (rounded up) when set.
    Throttle {
        #[serde(default)]
        retry_after_ms: Option<u64>,
    },
    /// Apply the call as usual, then wait `ms` before answering.
    Latency { ms: u64 },
    /// Close the connection without answering; nothing is applied.
    Drop,
    /// Apply the call, then close the connection without answering.
    AppliedThenDrop,
    /// HTTP 200 with a truncated JSON body; nothing is applied.
    MalformedBody,
    /// ALB `UpdateServerGroupServersAttribute` only: answer with a `JobId` as usual, but the job
    /// ends `Failed` with this `ErrorCode`/`ErrorMessage` and applies nothing.
    JobFails {
        #[serde(default)]
        code: Option<String>,
        #[serde(default)]
        message: Option<String>,
    },
}

fn default_5xx() -> u16 {
    503
}

impl FaultKind {
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::ServerError { .. } => "server_error",
            FaultKind::Throttle { .. } => "throttle",
            FaultKind::Latency { .. } => "latency",
            FaultKind::Drop => "drop",
            FaultKind::AppliedThenDrop => "applied_then_drop",
            FaultKind::MalformedBody => "malformed_body",
            FaultKind::JobFails { .. } => "job_fails",
        }
    }
}

/// A fault to inject; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub product: Product,
    /// The action (Alibaba `x-acs-action`) or operation (Huawei, e.g. `UpdateMemberGroup`,
    /// `ShowEndpointGroup`) it targets; `None` targets every call to the product.
    #[serde(default)]
    pub action: Option<String>,
    /// How many times it fires; `None` means on every matching call.
    #[serde(default)]
    pub times: Option<u32>,
    #[serde(flatten)]
    pub kind: FaultKind,
}

impl Fault {
    /// A fault on every call to `product`, until narrowed with [`Fault::action`] / [`Fault::times`].
    pub fn new(product: Product, kind: FaultKind) -> Self {
        Self {
            product,
            action: None,
            times: None,
            kind,
        }
    }

    pub fn action(mut self, action: &str) -> Self {
        self.action = Some(action.to_string());
        self
    }

    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    pub fn once(self) -> Self {
        self.times(1)
    }

    pub fn server_error(product: Product, status: u16) -> Self {
        Self::new(product, FaultKind::ServerError { status, code: None })
    }

    pub fn throttle(product: Product, retry_after_ms: Option<u64>) -> Self {
        Self::new(product, FaultKind::Throttle { retry_after_ms })
    }

    pub fn latency(product: Product, ms: u64) -> Self {
        Self::new(product, FaultKind::Latency { ms })
    }

    pub fn drop_connection(product: Product) -> Self {
        Self::new(product, FaultKind::Drop)
    }

    pub fn applied_then_drop(product: Product) -> Self {
        Self::new(product, FaultKind::AppliedThenDrop)
    }

    pub fn malformed_body(product: Product) -> Self {
        Self::new(product, FaultKind::MalformedBody)
    }

    /// The next ALB update job(s) end `Failed`.
    pub fn alb_job_fails() -> Self {
        Self::new(
            Product::Alb,
            FaultKind::JobFails {
                code: None,
                message: None,
            },
        )
        .action(ALB_UPDATE)
    }

    fn matches(&self, product: Product, action: &str) -> bool {
        if self.product != product {
            return false;
        }
        if let Some(a) = &self.action
            && a != action
        {
            return false;
        }
        // A failing job only exists for the ALB update.
        !matches!(self.kind, FaultKind::JobFails { .. }) || action == ALB_UPDATE
    }
}

const ALB_UPDATE: &str = "UpdateServerGroupServersAttribute";

/// The armed faults, in the order they were injected; the first match fires.
#[derive(Debug, Default, Clone)]
pub struct FaultBook {
    faults: Vec<Fault>,
}

impl FaultBook {
    pub fn add(&mut self, fault: Fault) {
        if fault.times != Some(0) {
            self.faults.push(fault);
        }
    }

    /// The fault that fires for this call, if any; counts it down and disarms it when spent.
    pub fn fire(&mut self, product: Product, action: &str) -> Option<FaultKind> {
        let i = self
            .faults
            .iter()
            .position(|f| f.matches(product, action))?;
        let kind = self.faults[i].kind.clone();
        match &mut self.faults[i].times {
            Some(n) if *n <= 1 => {
                self.faults.remove(i);
            }
            Some(n) => *n -= 1,
            None => {}
        }
        Some(kind)
    }

    pub fn armed(&self) -> Vec<Fault> {
        self.faults.clone()
    }

    pub fn clear(&mut self, product: Option<Product>) {
        self.faults
            .retain(|f| product.is_some_and(|p| f.product != p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_n_times_then_disarms() {
        let mut book = FaultBook::default();
        book.add(
            Fault::drop_connection(Product::Ga)
                .action("ShowEndpointGroup")
                .times(2),
        );
        assert_eq!(book.fire(Product::Ga, "ListEndpoints"), None);
        assert_eq!(book.fire(Product::Roma, "ShowEndpointGroup"), None);
        assert_eq!(
            book.fire(Product::Ga, "ShowEndpointGroup"),
            Some(FaultKind::Drop)
        );
        assert_eq!(
            book.fire(Product::Ga, "ShowEndpointGroup"),
            Some(FaultKind::Drop)
        );
        assert_eq!(book.fire(Product::Ga, "ShowEndpointGroup"), None);
    }

    #[test]
    fn parses_the_documented_json() {
        let f: Fault = serde_json::from_str(
            r#"{"product":"alb","action":"UpdateServerGroupServersAttribute","times":1,"kind":"throttle","retry_after_ms":1500}"#,
        )
        .unwrap();
        assert_eq!(
            f,
            Fault::throttle(Product::Alb, Some(1500))
                .action("UpdateServerGroupServersAttribute")
                .once()
        );
        let f: Fault = serde_json::from_str(r#"{"product":"ga","kind":"server_error"}"#).unwrap();
        assert_eq!(
            f.kind,
            FaultKind::ServerError {
                status: 503,
                code: None
            }
        );
        assert_eq!(f.times, None);
    }

    #[test]
    fn job_fails_only_matches_the_alb_update() {
        let mut book = FaultBook::default();
        book.add(Fault::new(
            Product::Alb,
            FaultKind::JobFails {
                code: None,
                message: None,
            },
        ));
        assert_eq!(book.fire(Product::Alb, "ListAsynJobs"), None);
        assert!(book.fire(Product::Alb, ALB_UPDATE).is_some());
    }
}
