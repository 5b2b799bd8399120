//! The determinism fence, checked on every test run: workflow code (`workflows/src`) and the
//! rules it runs (`rules/src`) never read the clock, randomness, the environment, files or the
//! network, never spawn, never print. The same list is `workflows/clippy.toml` for clippy.

// This test reads the sources it checks; the fence is for workflow code, not for it.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

/// Each forbidden call, with what to use instead.
const FORBIDDEN: &[(&str, &str)] = &[
    ("SystemTime::now", "ctx.workflow_time()"),
    ("Instant::now", "ctx.workflow_time()"),
    ("Utc::now", "ctx.workflow_time()"),
    ("Local::now", "ctx.workflow_time()"),
    ("tokio::time::sleep", "ctx.timer()"),
    ("tokio::spawn", "the workflow's own task"),
    ("thread::spawn", "the workflow's own task"),
    ("rand::random", "ctx.random_seed()"),
    ("thread_rng", "ctx.random_seed()"),
    ("rand::rng", "ctx.random_seed()"),
    ("Uuid::new_v4", "an id derived from the input"),
    ("std::env::", "the workflow's input"),
    ("std::fs::", "an activity"),
    ("std::net::", "an activity"),
    ("println!", "tracing"),
    ("eprintln!", "tracing"),
    ("print!(", "tracing"),
    ("eprint!(", "tracing"),
    ("dbg!", "tracing"),
];

/// `file:line: what` for every forbidden call outside comments.
fn violations(name: &str, source: &str) -> Vec<String> {
    let mut out = vec![];
    for (n, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        for (call, instead) in FORBIDDEN {
            if code.contains(call) {
                out.push(format!("{name}:{}: {call} (use {instead})", n + 1));
            }
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn workflow_code_and_the_rules_it_runs_stay_deterministic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = vec![];
    for dir in ["workflows/src", "rules/src"] {
        sources(&root.join(dir), &mut files);
    }
    assert!(files.len() > 10, "the sources were found: {files:?}");
    // Unit tests (`tests.rs`) may use the clock; they never run inside a workflow.
    let found: Vec<String> = files
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n != "tests.rs"))
        .flat_map(|f| violations(&f.display().to_string(), &std::fs::read_to_string(f).expect("source")))
        .collect();
    assert!(found.is_empty(), "non-deterministic calls in workflow code:\n{}", found.join("\n"));
}

#[test]
fn the_fence_sees_what_it_forbids() {
    assert_eq!(violations("x.rs", "let t = std::time::SystemTime::now();").len(), 1);
    assert_eq!(violations("x.rs", "let id = uuid::Uuid::new_v4();\nprintln!(\"{id}\");").len(), 2);
    assert!(violations("x.rs", "// SystemTime::now is not used here").is_empty(), "comments are not code");
    assert!(violations("x.rs", "let t = ctx.workflow_time();").is_empty());
}
