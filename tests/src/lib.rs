pub mod fakes;

pub mod moto;
pub mod runtime_api;
