//! Every template shipped in `checklists/templates/` loads without a problem, and the built-in
//! catalog embeds exactly those files.

use std::path::Path;

use qingling_checklists::{Catalog, load_dir};

fn templates_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")
}

#[test]
fn every_shipped_template_loads_cleanly() {
    let catalog = match load_dir(templates_dir()) {
        Ok(catalog) => catalog,
        Err(problems) => {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            panic!("templates with problems:\n{}", lines.join("\n"));
        }
    };
    if catalog.is_empty() {
        eprintln!("note: checklists/templates/ has no templates yet; nothing to check");
    }
    for t in catalog.iter() {
        assert_eq!(catalog.get(&t.id, t.version), Some(t));
    }
}

#[test]
fn the_builtin_catalog_embeds_every_shipped_template() {
    let builtin = match Catalog::builtin() {
        Ok(catalog) => catalog,
        Err(problems) => {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            panic!("built-in templates with problems:\n{}", lines.join("\n"));
        }
    };
    let on_disk = load_dir(templates_dir()).unwrap_or_default();
    let keys = |c: &Catalog| c.iter().map(|t| t.key()).collect::<Vec<_>>();
    assert_eq!(keys(&builtin), keys(&on_disk), "rebuild to embed new template files");
    assert_eq!(builtin, on_disk);
}
