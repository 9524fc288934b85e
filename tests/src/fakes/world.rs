//! All the fakes' mutable state behind one mutex: the four products, the keys, the nonces,
//! the request log and the armed faults. Timed transitions (ALB jobs, GA `PENDING`) are
//! evaluated lazily: every request and every read first calls [`World::advance`].

use super::alb::AlbState;
use super::auth::Nonces;
use super::faults::{FaultBook, Product};
use super::ga::GaState;
use super::record::RecordedRequest;
use super::roma::RomaState;
use super::seed::Seed;
use super::slb::SlbState;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// The four products' state, as tests read and edit it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CloudState {
    pub alb: AlbState,
    pub slb: SlbState,
    pub roma: RomaState,
    pub ga: GaState,
}

impl CloudState {
    pub fn from_seed(seed: &Seed) -> Self {
        Self {
            alb: seed.alb.clone(),
            slb: seed.slb.clone(),
            roma: seed.roma.clone(),
            ga: seed.ga.clone(),
        }
    }
}

pub type RequestLog = Arc<dyn Fn(&RecordedRequest) + Send + Sync>;

pub struct World {
    pub seed: Seed,
    pub state: CloudState,
    pub alibaba_keys: HashMap<String, String>,
    pub huawei_keys: HashMap<String, String>,
    pub nonces: Nonces,
    pub requests: Vec<RecordedRequest>,
    pub faults: FaultBook,
    pub next_seq: u64,
    pub log: Option<RequestLog>,
}

impl World {
    pub fn new(seed: Seed) -> Self {
        let alibaba_keys = seed
            .credentials
            .alibaba
            .iter()
            .map(|k| (k.access_key_id.clone(), k.access_key_secret.clone()))
            .collect();
        let huawei_keys = seed
            .credentials
            .huawei
            .iter()
            .map(|k| (k.access_key.clone(), k.secret_key.clone()))
            .collect();
        Self {
            state: CloudState::from_seed(&seed),
            seed,
            alibaba_keys,
            huawei_keys,
            nonces: Nonces::default(),
            requests: Vec::new(),
            faults: FaultBook::default(),
            next_seq: 1,
            log: None,
        }
    }

    pub fn advance(&mut self, now: Instant) {
        self.state.alb.advance(now);
        self.state.ga.advance(now);
    }

    /// Back to the seed: one product (its state, requests and faults), or everything.
    pub fn reset(&mut self, product: Option<Product>) {
        let fresh = CloudState::from_seed(&self.seed);
        match product {
            None => self.state = fresh,
            Some(Product::Alb) => self.state.alb = fresh.alb,
            Some(Product::Slb) => self.state.slb = fresh.slb,
            Some(Product::Roma) => self.state.roma = fresh.roma,
            Some(Product::Ga) => self.state.ga = fresh.ga,
        }
        self.requests
            .retain(|r| product.is_some_and(|p| r.product != p));
        self.faults.clear(product);
        self.nonces.clear();
    }

    pub fn product_state(&self, product: Product) -> Value {
        let v = match product {
            Product::Alb => serde_json::to_value(&self.state.alb),
            Product::Slb => serde_json::to_value(&self.state.slb),
            Product::Roma => serde_json::to_value(&self.state.roma),
            Product::Ga => serde_json::to_value(&self.state.ga),
        };
        v.unwrap_or_default()
    }

    /// Replaces one product's state from its JSON form (`PUT /_fake/state`).
    pub fn set_product_state(
        &mut self,
        product: Product,
        value: Value,
    ) -> Result<(), serde_json::Error> {
        match product {
            Product::Alb => self.state.alb = serde_json::from_value(value)?,
            Product::Slb => self.state.slb = serde_json::from_value(value)?,
            Product::Roma => self.state.roma = serde_json::from_value(value)?,
            Product::Ga => self.state.ga = serde_json::from_value(value)?,
        }
        Ok(())
    }

    /// Stores a finished request record (numbering it) and returns the log hook to call.
    pub fn record(&mut self, mut rec: RecordedRequest) -> (RecordedRequest, Option<RequestLog>) {
        rec.seq = self.next_seq;
        self.next_seq += 1;
        self.requests.push(rec.clone());
        (rec, self.log.clone())
    }
}

/// The world, shared by the four servers and the [`super::FakeCloud`] handle.
pub struct Shared {
    world: Mutex<World>,
}

impl Shared {
    pub fn new(seed: Seed) -> Arc<Self> {
        Arc::new(Self {
            world: Mutex::new(World::new(seed)),
        })
    }

    /// The world, with timed transitions brought up to date.
    pub fn lock(&self) -> MutexGuard<'_, World> {
        let mut w = self.world.lock().unwrap_or_else(|p| p.into_inner());
        w.advance(Instant::now());
        w
    }
}
