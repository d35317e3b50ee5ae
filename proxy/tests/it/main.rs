//! The one integration-test binary of the redline-proxy crate: one module per area, helpers that
//! several areas share beside them (issue 19: one binary links once, and its tests overlap
//! instead of running binary after binary).

mod control_support;
mod h2_support;
mod http_support;
mod tcp_support;

/// The harness the root crate's tests share; the proxy's tests use its Python finder.
#[path = "../../../tests/it/support/python.rs"]
mod support;

mod control_native;
mod control_toxiproxy;
mod control_toxiproxy_node;
mod control_toxiproxy_python;
mod h2_control;
mod h2_grpc;
mod h2_tls;
mod http_faults;
mod http_hostile;
mod http_log;
mod http_matching;
mod http_robustness;
mod http_wire;
mod tcp_conn_log;
mod tcp_relay;
mod tcp_toxics;
