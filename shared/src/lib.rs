//! lbpilot's library: signing, provider clients, actions, outcomes and emitting.
//!
//! Triggers turn events into [`action::Action`]s; the [`executor::Executor`] runs each one
//! against its provider and returns an [`outcome::Outcome`]; the [`emitter`] publishes outcomes.

pub mod http;
pub mod secret;
pub mod signing;
