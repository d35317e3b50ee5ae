//! One adaptive follow-up after a planned run (filled in by `redline run --plan`).
