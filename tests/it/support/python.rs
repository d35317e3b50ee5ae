//! The Python the tests run. Shared by both crates' test binaries: `proxy/tests/it/main.rs`
//! includes this file by path, so the venv rule is written once.

use std::path::{Path, PathBuf};

/// The venv `.ci/install-test-deps` makes (`target/test-deps/python` at the workspace root) if
/// there is one, else `python3` on PATH. Found from the crate's folder upwards, so the root crate
/// and `proxy/` find the same venv.
pub fn python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("target/test-deps/python/bin/python3"))
        .find(|venv| venv.exists())
        .unwrap_or_else(|| PathBuf::from("python3"))
}
