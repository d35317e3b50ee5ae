//! Spec reader: Markdown service spec (a `&str`) -> claims + diagnostics. Lenient, no I/O, never panics.

pub mod claims;

pub use claims::Claims;
