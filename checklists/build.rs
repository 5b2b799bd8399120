//! Embeds every `templates/*.toml` file in the library: writes `builtin_templates.rs`, a list of
//! `(file name, include_str!(..))` pairs, sorted by name so the build is reproducible. A missing
//! or empty directory gives an empty list rather than a failed build.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let templates = manifest_dir.join("templates");
    // Cargo re-runs the script when any file in the directory changes, or when it appears.
    println!("cargo::rerun-if-changed=templates");

    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(&templates)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .filter_map(|p| Some((p.file_name()?.to_str()?.to_string(), p)))
        .collect();
    files.sort();

    let mut code = String::from("static BUILTIN: &[(&str, &str)] = &[\n");
    for (name, path) in &files {
        writeln!(code, "    ({name:?}, include_str!({:?})),", path.display().to_string()).expect("write to a String");
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join("builtin_templates.rs"), code).expect("write builtin_templates.rs");
}
