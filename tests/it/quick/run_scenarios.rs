//! Every scenario in `scenarios/` parses, so the examples cannot rot.

use std::path::Path;

#[test]
fn every_scenario_file_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            if let Err(e) = redline::scenario::parse(&text, &path.display().to_string()) {
                panic!("{e}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 1, "no scenario files found in {}", dir.display());
}
