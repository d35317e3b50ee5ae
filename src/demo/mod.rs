//! The demo's parts: the reference service (a resource API with a real circuit breaker), the
//! stub UserService it depends on, and `run`, the pipeline behind `redline demo`.

pub mod dependency;
pub mod run;
mod serve;
pub mod service;

pub use dependency::{StubConfig, StubDependency, StubHandle};
pub use service::{ReferenceConfig, ReferenceHandle, ReferenceService};
