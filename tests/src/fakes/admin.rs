//! The unsigned admin API each fake server answers under `/_fake/`:
//!
//! | request | effect |
//! |---|---|
//! | `GET /_fake/state` | this product's state as JSON |
//! | `PUT /_fake/state` | replace this product's state (same JSON shape) |
//! | `GET /_fake/requests` | this product's recorded requests |
//! | `GET /_fake/faults` | the armed faults for this product |
//! | `POST /_fake/faults` | arm a fault (JSON as in [`super::faults`]; `product` defaults to this server's) |
//! | `DELETE /_fake/faults` | disarm this product's faults |
//! | `POST /_fake/reset` | this product back to the seed; its requests and faults cleared |

use super::faults::{Fault, Product};
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
