//! The harness every test area shares: one `free_port`, one `python` (the test venv's, else
//! PATH's). Add here what a second area would otherwise copy; an area's own helpers stay beside
//! it (`tests/it/AREA_support/`).

mod net;
mod python;

pub use net::free_port;
pub use python::python;
