//! The demo's parts: the reference service (a resource API with a real circuit breaker) and the
//! stub UserService it depends on.

pub mod dependency;
mod serve;
pub mod service;

pub use dependency::{StubConfig, StubDependency, StubHandle};
pub use service::{ReferenceConfig, ReferenceHandle, ReferenceService};
