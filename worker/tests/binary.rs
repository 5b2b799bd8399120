//! The built binary answers `--version` and `--help` as documented.
//!
//! This test also makes `cargo test --workspace` build the `qingling` binary itself (Cargo builds
//! a package's binaries for its integration tests), with the same dependency features as every
//! test binary; `scripts/run-tests.py` hands that binary to the end-to-end tests instead of a
//! separate `cargo build -p qingling`, which unifies features differently and compiled the
//! Temporal SDK a second time.

use std::process::Command;

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_qingling")).args(args).output().expect("the qingling binary runs");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn the_binary_names_its_version_and_documents_its_exit_statuses() {
    let (code, out) = run(&["--version"]);
    assert_eq!(code, Some(0));
    assert_eq!(out.trim(), format!("qingling {}", env!("CARGO_PKG_VERSION")));

    let (code, help) = run(&["--help"]);
    assert_eq!(code, Some(0));
    for command in ["up", "worker", "web", "migrate", "calendar", "audit", "bench"] {
        assert!(help.lines().any(|l| l.trim_start().starts_with(&format!("{command} "))), "`qingling --help` lists {command}:\n{help}");
    }
    assert!(help.contains("Exit status:"), "{help}");
}
