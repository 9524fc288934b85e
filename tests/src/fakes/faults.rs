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
//!
//! A [`FaultMix`] adds faults that fire at random, at given rates, from a seeded generator (so a
//! run with the same seed and the same request order fires the same faults): a soak test's
//! background of provider trouble. An armed fault above takes precedence over the mix. As JSON
//! (`POST /_fake/fault-mix`: sets the seed and replaces this product's rules; `product` defaults
//! to the server's):
//! ```json
//! {"seed": 7, "rules": [
//!   {"product": "alb", "probability": 0.02, "burst": 3, "kind": "server_error", "status": 503},
//!   {"product": "ga", "matching": "4b0e61cc", "probability": 1.0, "kind": "server_error"}]}
//! ```
//! A rule fires on a matching call with its `probability` (one draw per call, shared by the
//! matching rules: their probabilities add up, so they should total at most 1); `burst`
//! (default one) makes it also fire on the next `burst - 1` calls it matches; `action` narrows it
//! as above and `matching` to calls whose path, query or body contains that text.

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

/// A fault that fires at random; see the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixRule {
    pub product: Product,
    /// The action / operation it targets; `None` targets every call to the product.
    #[serde(default)]
    pub action: Option<String>,
    /// Only calls whose path, query or body contains this text.
    #[serde(default)]
    pub matching: Option<String>,
    /// The chance (0 to 1) that a matching call draws this rule.
    pub probability: f64,
    /// Once drawn, it also fires on the next `burst - 1` matching calls.
    #[serde(default = "one")]
    pub burst: u32,
    #[serde(flatten)]
    pub kind: FaultKind,
}

fn one() -> u32 {
    1
}

impl MixRule {
    pub fn new(product: Product, probability: f64, kind: FaultKind) -> Self {
        Self {
            product,
            action: None,
            matching: None,
            probability,
            burst: 1,
            kind,
        }
    }

    pub fn action(mut self, action: &str) -> Self {
        self.action = Some(action.to_string());
        self
    }

    pub fn matching(mut self, text: &str) -> Self {
        self.matching = Some(text.to_string());
        self
    }

    pub fn burst(mut self, n: u32) -> Self {
        self.burst = n.max(1);
        self
    }

    fn as_fault(&self) -> Fault {
        Fault {
            product: self.product,
            action: self.action.clone(),
            times: None,
            kind: self.kind.clone(),
        }
    }

    fn matches(&self, product: Product, action: &str, request: &str) -> bool {
        self.as_fault().matches(product, action)
            && self.matching.as_ref().is_none_or(|m| request.contains(m))
    }
}

/// Faults at random rates from a seeded generator; see the module documentation.
#[derive(Debug, Clone)]
pub struct FaultMix {
    seed: u64,
    rules: Vec<MixRule>,
    /// Per rule: how many more matching calls a burst in progress still takes.
    bursting: Vec<u32>,
    rng: fastrand::Rng,
}

/// The JSON form of a [`FaultMix`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultMixSpec {
    pub seed: u64,
    #[serde(default)]
    pub rules: Vec<MixRule>,
}

impl FaultMix {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            rules: Vec::new(),
            bursting: Vec::new(),
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    pub fn rule(mut self, rule: MixRule) -> Self {
        self.rules.push(rule);
        self.bursting.push(0);
        self
    }

    pub fn rules(&self) -> &[MixRule] {
        &self.rules
    }

    pub fn spec(&self) -> FaultMixSpec {
        FaultMixSpec {
            seed: self.seed,
            rules: self.rules.clone(),
        }
    }

    pub fn from_spec(spec: FaultMixSpec) -> Self {
        spec.rules
            .into_iter()
            .fold(Self::new(spec.seed), |mix, r| mix.rule(r))
    }

    fn retain(&mut self, keep: impl Fn(&MixRule) -> bool) {
        let (rules, bursting) = self
            .rules
            .drain(..)
            .zip(self.bursting.drain(..))
            .filter(|(r, _)| keep(r))
            .unzip();
        self.rules = rules;
        self.bursting = bursting;
    }

    /// The rule that fires for this call, if any: a burst in progress first, else one draw.
    fn fire(&mut self, product: Product, action: &str, request: &str) -> Option<FaultKind> {
        let matching: Vec<usize> = (0..self.rules.len())
            .filter(|&i| self.rules[i].matches(product, action, request))
            .collect();
        if let Some(&i) = matching.iter().find(|&&i| self.bursting[i] > 0) {
            self.bursting[i] -= 1;
            return Some(self.rules[i].kind.clone());
        }
        if matching.is_empty() {
            return None;
        }
        let draw = self.rng.f64();
        let mut total = 0.0;
        for i in matching {
            total += self.rules[i].probability;
            if draw < total {
                self.bursting[i] = self.rules[i].burst - 1;
                return Some(self.rules[i].kind.clone());
            }
        }
        None
    }
}

/// The armed faults, in the order they were injected; the first match fires. Then the mix.
#[derive(Debug, Default, Clone)]
pub struct FaultBook {
    faults: Vec<Fault>,
    mix: Option<FaultMix>,
}

impl FaultBook {
    pub fn add(&mut self, fault: Fault) {
        if fault.times != Some(0) {
            self.faults.push(fault);
        }
    }

    /// Replaces the random faults (`None`: no more).
    pub fn set_mix(&mut self, mix: Option<FaultMix>) {
        self.mix = mix;
    }

    pub fn mix(&self) -> Option<&FaultMix> {
        self.mix.as_ref()
    }

    /// Sets the mix's seed and replaces one product's rules with `rules` (the admin API).
    pub fn set_product_mix(&mut self, product: Product, seed: u64, rules: Vec<MixRule>) {
        let mut mix = FaultMix::new(seed);
        if let Some(old) = &self.mix {
            for r in old.rules.iter().filter(|r| r.product != product) {
                mix = mix.rule(r.clone());
            }
        }
        self.mix = Some(rules.into_iter().fold(mix, |m, r| m.rule(r)));
    }

    /// The fault that fires for this call, if any; counts it down and disarms it when spent.
    /// Only armed faults: the mix needs the request (see [`FaultBook::fire_on`]).
    pub fn fire(&mut self, product: Product, action: &str) -> Option<FaultKind> {
        self.fire_armed(product, action)
    }

    /// The fault that fires for this call: an armed one, else one from the mix. `request` is
    /// the text a mix rule's `matching` looks in (path, query and body).
    pub fn fire_on(&mut self, product: Product, action: &str, request: &str) -> Option<FaultKind> {
        self.fire_armed(product, action).or_else(|| {
            self.mix
                .as_mut()
                .and_then(|m| m.fire(product, action, request))
        })
    }

    fn fire_armed(&mut self, product: Product, action: &str) -> Option<FaultKind> {
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

    /// Disarms one product's faults (armed and mix rules), or every fault and the mix.
    pub fn clear(&mut self, product: Option<Product>) {
        self.faults
            .retain(|f| product.is_some_and(|p| f.product != p));
        match product {
            None => self.mix = None,
            Some(p) => {
                if let Some(mix) = &mut self.mix {
                    mix.retain(|r| r.product != p);
                }
            }
        }
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

    fn draws(mix: FaultMix, calls: usize) -> Vec<Option<FaultKind>> {
        let mut book = FaultBook::default();
        book.set_mix(Some(mix));
        (0..calls)
            .map(|_| book.fire_on(Product::Slb, "CreateVServerGroup", "/?Name=x"))
            .collect()
    }

    #[test]
    fn a_mix_fires_at_its_rates_reproducibly() {
        let mix = || {
            FaultMix::new(42)
                .rule(MixRule::new(Product::Slb, 0.2, FaultKind::Drop))
                .rule(MixRule::new(Product::Slb, 0.1, FaultKind::MalformedBody))
        };
        let a = draws(mix(), 10_000);
        assert_eq!(a, draws(mix(), 10_000), "same seed, same faults");
        let count = |k: FaultKind| a.iter().filter(|f| **f == Some(k.clone())).count();
        assert!((1800..2200).contains(&count(FaultKind::Drop)));
        assert!((800..1200).contains(&count(FaultKind::MalformedBody)));
        assert_ne!(
            a,
            draws(FaultMix::new(43).rule(mix().rules[0].clone()), 10_000)
        );
    }

    #[test]
    fn a_mix_rule_narrows_by_action_and_text_and_fires_in_bursts() {
        let mut book = FaultBook::default();
        book.set_mix(Some(
            FaultMix::new(1).rule(
                MixRule::new(Product::Ga, 1.0, FaultKind::Drop)
                    .action("ShowEndpointGroup")
                    .matching("eg-2")
                    .burst(3),
            ),
        ));
        assert_eq!(
            book.fire_on(Product::Ga, "ShowEndpointGroup", "/v1/eg-1"),
            None
        );
        assert_eq!(book.fire_on(Product::Ga, "ListEndpoints", "/v1/eg-2"), None);
        assert_eq!(
            book.fire_on(Product::Roma, "ShowEndpointGroup", "/eg-2"),
            None
        );
        assert_eq!(
            book.fire_on(Product::Ga, "ShowEndpointGroup", "/v1/eg-2"),
            Some(FaultKind::Drop)
        );
        // A burst does not draw: it fires even at probability 0.
        let mut bursty = FaultBook::default();
        let mut mix =
            FaultMix::new(3).rule(MixRule::new(Product::Alb, 1.0, FaultKind::Drop).burst(3));
        assert!(mix.fire(Product::Alb, "x", "").is_some());
        mix.rules[0].probability = 0.0;
        bursty.set_mix(Some(mix));
        let fired: Vec<bool> = (0..4)
            .map(|_| bursty.fire_on(Product::Alb, "x", "").is_some())
            .collect();
        assert_eq!(fired, [true, true, false, false]);
    }

    #[test]
    fn armed_faults_come_before_the_mix_and_clearing_a_product_keeps_the_others() {
        let mut book = FaultBook::default();
        book.set_mix(Some(
            FaultMix::new(5)
                .rule(MixRule::new(Product::Roma, 1.0, FaultKind::Drop))
                .rule(MixRule::new(Product::Ga, 1.0, FaultKind::MalformedBody)),
        ));
        book.add(Fault::throttle(Product::Roma, None).once());
        assert_eq!(
            book.fire_on(Product::Roma, "UpdateMemberGroup", ""),
            Some(FaultKind::Throttle {
                retry_after_ms: None
            })
        );
        assert_eq!(
            book.fire_on(Product::Roma, "UpdateMemberGroup", ""),
            Some(FaultKind::Drop)
        );
        // `fire` (no request) only fires armed faults.
        assert_eq!(book.fire(Product::Roma, "UpdateMemberGroup"), None);
        book.clear(Some(Product::Roma));
        assert_eq!(book.fire_on(Product::Roma, "UpdateMemberGroup", ""), None);
        assert!(book.fire_on(Product::Ga, "ShowEndpointGroup", "").is_some());
        book.clear(None);
        assert!(book.mix().is_none());
    }

    #[test]
    fn parses_the_documented_mix_json() {
        let spec: FaultMixSpec = serde_json::from_str(
            r#"{"seed": 7, "rules": [
                {"product": "alb", "probability": 0.02, "burst": 3, "kind": "server_error", "status": 503},
                {"product": "ga", "matching": "4b0e61cc", "probability": 1.0, "kind": "server_error"}]}"#,
        )
        .unwrap();
        let mix = FaultMix::from_spec(spec.clone());
        assert_eq!(mix.spec(), spec);
        assert_eq!(
            mix.rules()[0],
            MixRule::new(
                Product::Alb,
                0.02,
                FaultKind::ServerError {
                    status: 503,
                    code: None
                }
            )
            .burst(3)
        );
        assert_eq!(mix.rules()[1].matching.as_deref(), Some("4b0e61cc"));
    }
}
