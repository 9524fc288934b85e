//! Faithful local fakes of the four provider APIs lbpilot changes: Alibaba Cloud ALB and SLB,
//! Huawei Cloud ROMA Connect and Global Accelerator.
//!
//! [`FakeCloud::start`] binds four HTTP servers on 127.0.0.1 (one per product) that verify
//! request signatures with lbpilot's own verifiers, keep state in memory, answer with the
//! providers' response shapes and error envelopes, and record every request. Tests read the
//! state with typed accessors, arm faults with [`FakeCloud::inject`], and each server also has
//! an unsigned admin API under `/_fake/` ([`admin`]).
//!
//! - The starting state and the accepted keys: [`seed`] (its doc has the JSON format).
//! - Behaviour per product: [`alb`], [`slb`], [`roma`], [`ga`].
//! - Authentication errors: [`auth`]. Faults: [`faults`].
//!
//! Error codes not given by the provider documents are marked "the fake's choice" where they
//! are produced.

pub mod admin;
pub mod alb;
mod alibaba;
pub mod auth;
pub mod faults;
pub mod ga;
mod huawei;
pub mod record;
pub mod roma;
pub mod seed;
mod server;
pub mod slb;
mod util;
mod wire;
pub mod world;

pub use alb::{AlbJob, AlbServer, AlbServerGroup, AlbState};
pub use faults::{Fault, FaultKind, FaultMix, MixRule, Product};
pub use ga::{GaEndpoint, GaEndpointGroup, GaState};
pub use record::RecordedRequest;
pub use roma::{RomaMember, RomaMemberGroup, RomaState};
pub use seed::{Seed, demo};
pub use slb::{SlbBackend, SlbState, SlbVServerGroup};
pub use world::CloudState;

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use world::Shared;

/// Fixed ports for [`FakeCloud::start_on`]; 0 picks a free one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ports {
    pub alb: u16,
    pub slb: u16,
    pub roma: u16,
    pub ga: u16,
}

/// The four running fakes. Dropping it stops the servers.
pub struct FakeCloud {
    shared: Arc<Shared>,
    urls: [(Product, String); 4],
    tasks: Vec<JoinHandle<()>>,
}

impl FakeCloud {
    /// Starts the four servers on free ports of 127.0.0.1.
    pub async fn start(seed: Seed) -> FakeCloud {
        Self::start_on(seed, Ports::default())
            .await
            .expect("binding 127.0.0.1 on a free port")
    }

    /// Starts the four servers on the given ports of 127.0.0.1 (0 = any free port).
    pub async fn start_on(seed: Seed, ports: Ports) -> std::io::Result<FakeCloud> {
        let shared = Shared::new(seed);
        let mut urls = Vec::new();
        let mut tasks = Vec::new();
        for (product, port) in [
            (Product::Alb, ports.alb),
            (Product::Slb, ports.slb),
            (Product::Roma, ports.roma),
            (Product::Ga, ports.ga),
        ] {
            let listener = TcpListener::bind(("127.0.0.1", port)).await?;
            let addr = listener.local_addr()?;
            urls.push((product, format!("http://{addr}")));
            tasks.push(tokio::spawn(server::serve(
                listener,
                product,
                shared.clone(),
            )));
        }
        let urls: [(Product, String); 4] = urls.try_into().expect("four products");
        Ok(FakeCloud {
            shared,
            urls,
            tasks,
        })
    }

    /// `http://127.0.0.1:PORT` of a product's server.
    pub fn url(&self, product: Product) -> String {
        self.urls
            .iter()
            .find(|(p, _)| *p == product)
            .map(|(_, u)| u.clone())
            .unwrap_or_default()
    }

    pub fn alb_url(&self) -> String {
        self.url(Product::Alb)
    }

    pub fn slb_url(&self) -> String {
        self.url(Product::Slb)
    }

    pub fn roma_url(&self) -> String {
        self.url(Product::Roma)
    }

    pub fn ga_url(&self) -> String {
        self.url(Product::Ga)
    }

    /// `{"alb":"http://…","slb":…,"roma":…,"ga":…}`.
    pub fn urls_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.urls
                .iter()
                .map(|(p, u)| (p.as_str().to_string(), serde_json::Value::String(u.clone())))
                .collect(),
        )
    }

    /// A snapshot of the four products' state.
    pub fn state(&self) -> CloudState {
        self.shared.lock().state.clone()
    }

    /// Changes the state directly (e.g. mark a group `Configuring`); returns what `f` returns.
    pub fn edit<R>(&self, f: impl FnOnce(&mut CloudState) -> R) -> R {
        f(&mut self.shared.lock().state)
    }

    pub fn alb_server_group(&self, group_id: &str) -> Option<AlbServerGroup> {
        self.shared.lock().state.alb.group(group_id).cloned()
    }

    /// One server of an ALB group, by ID and port (weight, description, status).
    pub fn alb_server(&self, group_id: &str, server_id: &str, port: u16) -> Option<AlbServer> {
        self.alb_server_group(group_id)?
            .servers
            .into_iter()
            .find(|s| s.server_id == server_id && s.port == port)
    }

    pub fn alb_job(&self, job_id: &str) -> Option<AlbJob> {
        self.shared
            .lock()
            .state
            .alb
            .jobs
            .iter()
            .find(|j| j.id == job_id)
            .cloned()
    }

    pub fn alb_jobs(&self) -> Vec<AlbJob> {
        self.shared.lock().state.alb.jobs.clone()
    }

    pub fn slb_vserver_group(&self, vsg_id: &str) -> Option<SlbVServerGroup> {
        self.shared
            .lock()
            .state
            .slb
            .vserver_group(vsg_id)
            .map(|(_, g)| g.clone())
    }

    /// The backends of a VServer group, in order; `None` if there is no such group.
    pub fn slb_backends(&self, vsg_id: &str) -> Option<Vec<SlbBackend>> {
        self.slb_vserver_group(vsg_id).map(|g| g.backend_servers)
    }

    /// The VServer groups of a load balancer (empty if there is no such load balancer).
    pub fn slb_vserver_groups(&self, lb_id: &str) -> Vec<SlbVServerGroup> {
        self.shared
            .lock()
            .state
            .slb
            .load_balancer(lb_id)
            .map(|lb| lb.vserver_groups.clone())
            .unwrap_or_default()
    }

    pub fn roma_member_group(&self, member_group_id: &str) -> Option<RomaMemberGroup> {
        self.shared
            .lock()
            .state
            .roma
            .member_group(member_group_id)
            .cloned()
    }

    pub fn roma_members(&self, member_group_id: &str) -> Vec<RomaMember> {
        self.shared.lock().state.roma.members_of(member_group_id)
    }

    pub fn ga_endpoint_group(&self, group_id: &str) -> Option<GaEndpointGroup> {
        self.shared.lock().state.ga.group(group_id).cloned()
    }

    /// How long new ALB jobs stay `Processing`.
    pub fn set_alb_job_delay(&self, delay: Duration) {
        self.shared.lock().state.alb.job_delay_ms = delay.as_millis() as u64;
    }

    /// How long a GA group stays `PENDING` after an update.
    pub fn set_ga_pending_delay(&self, delay: Duration) {
        self.shared.lock().state.ga.pending_ms = delay.as_millis() as u64;
    }

    /// Every request received so far (all products, in arrival order; admin calls excluded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The requests to one product's action / operation.
    pub fn requests_for(&self, product: Product, action: &str) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.product == product && r.action == action)
            .cloned()
            .collect()
    }

    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Arms a fault (see [`faults`]).
    pub fn inject(&self, fault: Fault) {
        self.shared.lock().faults.add(fault);
    }

    /// The faults still armed, with their remaining counts.
    pub fn faults(&self) -> Vec<Fault> {
        self.shared.lock().faults.armed()
    }

    /// Sets (or, with `None`, removes) the faults that fire at random (see [`faults`]).
    pub fn set_fault_mix(&self, mix: Option<FaultMix>) {
        self.shared.lock().faults.set_mix(mix);
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear(None);
    }

    /// Everything back to the seed: state, requests, faults, nonces.
    pub fn reset(&self) {
        self.shared.lock().reset(None);
    }

    /// Calls `f` with each request once it is answered (the standalone binary logs with it).
    pub fn on_request(&self, f: impl Fn(&RecordedRequest) + Send + Sync + 'static) {
        self.shared.lock().log = Some(Arc::new(f));
    }

    /// Polls the state every 10 ms until `done` holds; false after `timeout`.
    pub async fn wait_until(&self, timeout: Duration, done: impl Fn(&CloudState) -> bool) -> bool {
        let end = Instant::now() + timeout;
        loop {
            if done(&self.shared.lock().state) {
                return true;
            }
            if Instant::now() >= end {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the servers (dropping the handle does the same).
    pub fn shutdown(self) {}
}

impl Drop for FakeCloud {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
