//! redline-proxy: a fault-injecting HTTP and TCP proxy with a Toxiproxy-compatible control API.
//!
//! This crate depends on nothing of the root `redline` crate; the root crate uses it for
//! `redline proxy` and for the in-process proxies of chaos runs.

pub mod control;
pub mod fault;
pub mod http;
pub mod lease;
pub mod log;
pub mod metrics;
pub mod registry;
pub mod tcp;
pub mod toxic;
