//! The console's modules form no import cycle: `http`, `context`, `error` and `i18n` at the
//! bottom, the features (`matters`, `inspections`, …) above them, the route table (`lib.rs`) on
//! top. Read from the sources: a `crate::<module>` path in code (not in a comment) is an arrow.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules: BTreeMap<String, String> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("src") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
            let code: String =
                std::fs::read_to_string(&path).expect("source").lines().filter(|l| !l.trim_start().starts_with("//")).map(|l| format!("{l}\n")).collect();
            modules.insert(name, code);
        }
    }
    let names: BTreeSet<String> = modules.keys().filter(|n| *n != "lib").cloned().collect();
    modules
        .iter()
        .filter(|(name, _)| *name != "lib")
        .map(|(name, code)| {
            let deps = names.iter().filter(|other| *other != name && code.contains(&format!("crate::{other}"))).cloned().collect();
            (name.clone(), deps)
        })
        .collect()
}

/// A cycle through `from`, if there is one.
fn cycle_through(g: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![(from.to_string(), vec![from.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in g.get(&at).into_iter().flatten() {
            if next == from {
                let mut cycle = path.clone();
                cycle.push(from.to_string());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut p = path.clone();
                p.push(next.clone());
                stack.push((next.clone(), p));
            }
        }
    }
    None
}

#[test]
fn the_console_modules_form_no_import_cycle() {
    let g = graph();
    assert!(g.len() >= 15, "the modules were read: {:?}", g.keys());
    let cycles: Vec<String> = g.keys().filter_map(|m| cycle_through(&g, m)).map(|c| c.join(" → ")).collect();
    assert!(cycles.is_empty(), "import cycles among the console's modules:\n{}", cycles.join("\n"));
    // The shared layer never reaches up into a feature.
    for base in ["http", "context", "error", "i18n", "engine"] {
        for feature in ["matters", "inspections", "inspection_pages", "pages", "api", "calendar", "health", "accounts", "notice_document"] {
            assert!(!g[base].contains(feature), "{base} uses the feature module {feature}");
        }
    }
}

#[test]
fn a_cycle_is_seen() {
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    g.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(cycle_through(&g, "a"), Some(vec!["a".into(), "b".into(), "a".into()]));
    assert_eq!(cycle_through(&g, "c"), None);
}
