pub mod fakes;
pub mod harness;

pub mod moto;
pub mod ports;
pub mod runtime_api;
pub mod slack_stub;
