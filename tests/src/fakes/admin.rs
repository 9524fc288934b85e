//! The unsigned admin API each fake server answers under `/_fake/`:
//!
//! | request | effect |
//! |---|---|
//! | `GET /_fake/state` | this product's state as JSON |
//! | `PUT /_fake/state` | replace this product's state (same JSON shape) |
//! | `GET /_fake/requests` | this product's recorded requests |
//! | `GET /_fake/faults` | the armed faults for this product |
//! | `POST /_fake/faults` | arm a fault (JSON as in [`super::faults`]; `product` defaults to this server's) |
//! | `DELETE /_fake/faults` | disarm this product's faults (armed and random) |
//! | `GET /_fake/fault-mix` | the random-fault mix: its seed and this product's rules |
//! | `POST /_fake/fault-mix` | set the mix's seed and replace this product's rules (JSON as in [`super::faults`]) |
//! | `DELETE /_fake/fault-mix` | remove this product's random faults |
//! | `POST /_fake/reset` | this product back to the seed; its requests and faults cleared |

use super::faults::{Fault, MixRule, Product};
use super::wire::{Incoming, Reply};
use super::world::Shared;
use serde_json::{Value, json};

pub const PREFIX: &str = "/_fake/";

pub fn is_admin(path: &str) -> bool {
    path.contains(PREFIX)
}

pub fn handle(product: Product, shared: &Shared, req: &Incoming) -> Reply {
    let what = req
        .path
        .split(PREFIX)
        .nth(1)
        .unwrap_or("")
        .trim_end_matches('/');
    let bad = |status: u16, msg: &str| Reply::json(status, &json!({"error": msg}));
    let mut w = shared.lock();
    match (req.method.as_str(), what) {
        ("GET", "state") => Reply::json(200, &w.product_state(product)),
        ("PUT", "state") => match serde_json::from_slice::<Value>(&req.body)
            .map_err(|e| e.to_string())
            .and_then(|v| w.set_product_state(product, v).map_err(|e| e.to_string()))
        {
            Ok(()) => Reply::json(200, &w.product_state(product)),
            Err(e) => bad(400, &e),
        },
        ("GET", "requests") => {
            let list: Vec<_> = w.requests.iter().filter(|r| r.product == product).collect();
            Reply::json(200, &json!(list))
        }
        ("GET", "faults") => {
            let list: Vec<Fault> = w
                .faults
                .armed()
                .into_iter()
                .filter(|f| f.product == product)
                .collect();
            Reply::json(200, &json!(list))
        }
        ("POST", "faults") => {
            let mut value: Value = match serde_json::from_slice(&req.body) {
                Ok(v @ Value::Object(_)) => v,
                _ => return bad(400, "the body must be a JSON object"),
            };
            if value.get("product").is_none() {
                value["product"] = json!(product);
            }
            match serde_json::from_value::<Fault>(value) {
                Ok(fault) => {
                    w.faults.add(fault.clone());
                    Reply::json(200, &json!({"armed": fault}))
                }
                Err(e) => bad(400, &e.to_string()),
            }
        }
        ("GET", "fault-mix") => {
            let (seed, rules) = w.faults.mix().map_or((None, Vec::new()), |m| {
                let rules: Vec<MixRule> = m
                    .rules()
                    .iter()
                    .filter(|r| r.product == product)
                    .cloned()
                    .collect();
                (Some(m.spec().seed), rules)
            });
            Reply::json(200, &json!({"seed": seed, "rules": rules}))
        }
        ("POST", "fault-mix") => {
            let mut value: Value = match serde_json::from_slice(&req.body) {
                Ok(v @ Value::Object(_)) => v,
                _ => return bad(400, "the body must be a JSON object"),
            };
            let Some(seed) = value.get("seed").and_then(Value::as_u64) else {
                return bad(400, "seed (an unsigned integer) is required");
            };
            let mut rules = Vec::new();
            for mut rule in value["rules"]
                .take()
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                if !rule.is_object() {
                    return bad(400, "each rule must be a JSON object");
                }
                if rule.get("product").is_none() {
                    rule["product"] = json!(product);
                }
                match serde_json::from_value::<MixRule>(rule) {
                    Ok(r) if (0.0..=1.0).contains(&r.probability) => rules.push(r),
                    Ok(_) => return bad(400, "probability must be from 0 to 1"),
                    Err(e) => return bad(400, &e.to_string()),
                }
            }
            w.faults.set_product_mix(product, seed, rules.clone());
            Reply::json(200, &json!({"seed": seed, "rules": rules}))
        }
        ("DELETE", "fault-mix") => {
            if let Some(mix) = w.faults.mix() {
                let seed = mix.spec().seed;
                w.faults.set_product_mix(product, seed, Vec::new());
            }
            Reply::json(200, &json!({"cleared": true}))
        }
        ("DELETE", "faults") => {
            w.faults.clear(Some(product));
            Reply::json(200, &json!({"cleared": true}))
        }
        ("POST", "reset") => {
            w.reset(Some(product));
            Reply::json(200, &json!({"reset": product}))
        }
        _ => bad(404, &format!("no admin route {} {}", req.method, req.path)),
    }
}
