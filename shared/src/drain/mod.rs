//! Auto-drain: monitoring alerts drain unhealthy backends and restore them when they resolve.

pub mod engine;
pub mod routes;
