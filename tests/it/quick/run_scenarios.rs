//! Every scenario in `scenarios/` parses, so the examples cannot rot. A base scenario
//! (`*-base.toml`, no `[load]`: `redline plan` writes it) must plan against the spec it names, and
//! the planned scenario must parse.

use std::path::Path;

#[test]
fn every_scenario_file_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let file = path.display().to_string();
            if file.ends_with("-base.toml") {
                let base = redline::plan::base::read(&text, &file).unwrap();
                let spec_path = dir.join(base.plan.spec.as_deref().expect("a base names its spec"));
                let claims = redline::spec::parse(&std::fs::read_to_string(&spec_path).unwrap());
                let input = redline::plan::Input {
                    claims: &claims,
                    spec_file: "spec.md",
                    base_text: &text,
                    base_file: &file,
                    budget_s: 600.0,
                    focus: None,
                };
                let planned =
                    redline::plan::plan(&input).unwrap_or_else(|e| panic!("{file}: {e:?}"));
                redline::scenario::parse(&planned.toml, &file).unwrap_or_else(|e| panic!("{e}"));
            } else if let Err(e) = redline::scenario::parse(&text, &file) {
                panic!("{e}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 1, "no scenario files found in {}", dir.display());
}
