//! The harness every test area shares: one `free_port`, one `python` (the test venv's, else
//! PATH's), the lanes more than one area queues on. Add here what a second area would otherwise copy; an area's own helpers stay beside
//! it (`tests/it/AREA_support/`).

pub mod lanes;
mod net;
mod python;

pub use net::free_port;
pub use python::python;
