//! lbpilot's library: signing, provider clients, actions, outcomes and emitting.
//!
//! Triggers turn events into [`action::Action`]s; the [`executor::Executor`] runs each one
//! against its provider and returns an [`outcome::Outcome`]; an [`emitter::OutcomeSink`]
//! publishes outcomes.

pub mod action;
pub mod alerts;
pub mod app;
pub mod chatops;
pub mod clients;
pub mod config;
pub mod drain;
pub mod emitter;
pub mod endpoints;
pub mod error;
pub mod executor;
pub mod http;
pub mod http_event;
pub mod metrics;
pub mod outcome;
pub mod providers;
pub mod retry;
pub mod secret;
pub mod signing;
pub mod state;
pub mod targets;
pub mod telemetry;
pub mod tls;
pub mod transport;
pub mod triggers;
