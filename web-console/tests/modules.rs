//! The console's modules form no import cycle, and its features stand side by side: the shared
//! layer (`http`, `context`, `error`, `i18n`, `engine`, …) at the bottom, the features (`matters`,
//! `inspections`, `session`, …; a folder or a file each) above it, the route table (`lib.rs`) on
//! top. Read from the sources: a `crate::<module>` path in code (not in a comment) is an arrow
//! from the top-level module whose folder or file holds it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The shared layer: no arrow from it may reach a feature.
const SHARED: &[&str] = &["context", "engine", "error", "http", "i18n", "middleware", "notice_document", "signin", "views"];

/// The features: each uses the shared layer and nothing of another feature.
const FEATURES: &[&str] = &["accounts", "calendar", "campaigns", "directory", "health", "inspections", "matters", "public", "session"];

/// Every `.rs` file under `dir`, with its path.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    sources(&src, &mut files);
    // Top-level module → its code (a folder's files together).
    let mut modules: BTreeMap<String, String> = BTreeMap::new();
    for path in files {
        let rel = path.strip_prefix(&src).expect("under src");
        let first = rel.components().next().and_then(|c| c.as_os_str().to_str()).unwrap_or_default();
        let name = first.strip_suffix(".rs").unwrap_or(first).to_string();
        let code: String =
            std::fs::read_to_string(&path).expect("source").lines().filter(|l| !l.trim_start().starts_with("//")).map(|l| format!("{l}\n")).collect();
        modules.entry(name).or_default().push_str(&code);
    }
    let names: BTreeSet<String> = modules.keys().filter(|n| *n != "lib").cloned().collect();
    modules
        .iter()
        .filter(|(name, _)| *name != "lib")
        .map(|(name, code)| {
            let deps = names
                .iter()
                .filter(|other| {
                    *other != name
                        && [format!("crate::{other}::"), format!("crate::{other};"), format!("crate::{other},"), format!("crate::{other}}}")]
                            .iter()
                            .any(|p| code.contains(p.as_str()))
                })
                .cloned()
                .collect();
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
    let known: BTreeSet<&str> = SHARED.iter().chain(FEATURES).copied().collect();
    let read: BTreeSet<&str> = g.keys().map(String::as_str).collect();
    assert_eq!(read, known, "every module is listed as shared or as a feature (add a new one to SHARED or FEATURES)");
    let cycles: Vec<String> = g.keys().filter_map(|m| cycle_through(&g, m)).map(|c| c.join(" → ")).collect();
    assert!(cycles.is_empty(), "import cycles among the console's modules:\n{}", cycles.join("\n"));
    for base in SHARED {
        for feature in FEATURES {
            assert!(!g[*base].contains(*feature), "the shared module {base} uses the feature {feature}");
        }
    }
    for feature in FEATURES {
        for other in FEATURES.iter().filter(|o| *o != feature) {
            assert!(!g[*feature].contains(*other), "the feature {feature} reaches sideways into {other}");
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
