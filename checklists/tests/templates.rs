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

#[test]
fn every_shipped_version_is_pinned_and_unchanged() {
    let on_disk = load_dir(templates_dir()).expect("the templates load");
    let problems = on_disk.pin_problems(&qingling_checklists::pinned());
    let lines: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
    assert!(problems.is_empty(), "{}", lines.join("\n"));
    assert_eq!(qingling_checklists::pinned().len(), on_disk.len(), "a pin for every shipped version, and no pin for a version that is not shipped");
}

#[test]
fn a_published_version_that_changes_is_refused_and_says_to_make_a_new_version() {
    let on_disk = load_dir(templates_dir()).expect("the templates load");
    let Some(first) = on_disk.iter().next() else { return };
    let mut changed = first.clone();
    changed.title.zh.push('！');
    assert_ne!(changed.content_hash(), first.content_hash());
    let mut catalog = Catalog::default();
    catalog.insert(changed.clone()).expect("one template");
    let problems = catalog.pin_problems(&qingling_checklists::pinned());
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].message.contains("never changes") && problems[0].message.contains(&format!("version {}", first.version + 1)),
        "{}",
        problems[0].message
    );
    let unpinned = catalog.pin_problems(&Default::default());
    assert!(unpinned[0].message.contains("is not pinned"), "{}", unpinned[0].message);
    // The hash is of the content, not of the file's layout.
    assert_eq!(first.clone().content_hash(), first.content_hash());
}
