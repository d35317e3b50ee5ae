//! Tidy rules on the sources of both crates (`src/`, `proxy/src/`): every `.rs` file opens with a
//! `//!` line saying what it is for, and a file over 600 lines says why in that opening comment
//! (a `//!` line naming "600 lines"). Every offender is listed at once, with its path.

use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

/// Every `.rs` file below `dir`, sorted.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// What is wrong with one file's text, if anything.
fn problems(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    if !text.starts_with("//!") {
        out.push("does not start with a `//!` line saying what the file is for".to_string());
    }
    let lines = text.lines().count();
    let header: Vec<&str> = text.lines().take_while(|l| l.starts_with("//!")).collect();
    if lines > MAX_LINES && !header.iter().any(|l| l.contains("600 lines")) {
        out.push(format!(
            "has {lines} lines (over {MAX_LINES}) and its `//!` header does not say why (a line naming \"600 lines\"): split it or say why"
        ));
    }
    out
}

#[test]
fn every_source_file_says_what_it_is_and_long_ones_say_why() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "proxy/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 100, "found only {} source files", files.len());
    let mut bad = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for p in problems(&text) {
            bad.push(format!(
                "{}: {p}",
                file.strip_prefix(root).unwrap().display()
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_rules_catch_what_they_describe() {
    assert!(problems("//! A module.\nfn f() {}\n").is_empty());
    assert_eq!(problems("fn f() {}\n").len(), 1, "no opening line");
    assert_eq!(
        problems("// a plain comment\n").len(),
        1,
        "a plain comment is not a `//!` line"
    );
    let long = format!("//! A module.\n{}", "fn f() {}\n".repeat(MAX_LINES));
    assert_eq!(problems(&long).len(), 1, "over 600 lines without a reason");
    let said = format!(
        "//! A module.\n//! Over 600 lines: its tests.\n{}",
        "fn f() {}\n".repeat(MAX_LINES)
    );
    assert!(problems(&said).is_empty());
}
