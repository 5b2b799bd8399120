//! The catalog of loaded templates, keyed by `(id, version)`, and the built-in one embedded from
//! `checklists/templates/` at compile time.

use std::collections::BTreeMap;

use crate::load::{Problem, load_texts};
use crate::model::Template;

// `BUILTIN: &[(&str, &str)]`: (file name, text) of every `templates/*.toml`, sorted by name.
include!(concat!(env!("OUT_DIR"), "/builtin_templates.rs"));

/// Templates keyed by `(id, version)`. Iteration is in key order, so output built from a catalog
/// is stable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    templates: BTreeMap<(String, u32), Template>,
    /// Each template's content hash, computed once when it is added.
    hashes: BTreeMap<(String, u32), String>,
}

/// `checklists/pinned.toml`: the content hash of every published template version.
const PINNED: &str = include_str!("../pinned.toml");

/// The pinned content hash of each published version, by `id@version`.
pub fn pinned() -> BTreeMap<String, String> {
    PINNED
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (key, hash) = l.split_once('=')?;
            Some((key.trim().trim_matches('"').to_string(), hash.trim().trim_matches('"').to_string()))
        })
        .collect()
}

impl Catalog {
    /// Every template embedded from `checklists/templates/`, each checked against its pin: a
    /// published version whose content changed, or a version without a pin, is a problem (a
    /// change is a new version). An empty directory gives an empty catalog; a broken file gives
    /// its problems (the test suite keeps either from being shipped).
    pub fn builtin() -> Result<Catalog, Vec<Problem>> {
        let catalog = load_texts(BUILTIN.iter().copied())?;
        let problems = catalog.pin_problems(&pinned());
        if problems.is_empty() { Ok(catalog) } else { Err(problems) }
    }

    /// The templates whose content hash is not the one `pins` holds for their version.
    pub fn pin_problems(&self, pins: &BTreeMap<String, String>) -> Vec<Problem> {
        let mut out = vec![];
        for t in self.iter() {
            let key = t.key();
            let hash = self.content_hash(&t.id, t.version).map(str::to_string).unwrap_or_else(|| t.content_hash());
            let message = match pins.get(&key) {
                Some(pin) if *pin == hash => continue,
                Some(pin) => format!(
                    "{key} was published with content hash {pin} and now hashes to {hash}: a published version never changes; save the change as version {} (a new file)",
                    t.version + 1
                ),
                None => format!("{key} is not pinned: add the line `\"{key}\" = \"{hash}\"` to checklists/pinned.toml when it is published"),
            };
            out.push(Problem { file: format!("{key}.toml"), line: 0, item: None, message });
        }
        out
    }

    /// Adds a template; if that `(id, version)` is already present, keeps the old one and
    /// returns its `id@version`.
    pub fn insert(&mut self, template: Template) -> Result<(), String> {
        let key = (template.id.clone(), template.version);
        if self.templates.contains_key(&key) {
            return Err(template.key());
        }
        self.hashes.insert(key.clone(), template.content_hash());
        self.templates.insert(key, template);
        Ok(())
    }

    pub fn get(&self, id: &str, version: u32) -> Option<&Template> {
        self.templates.get(&(id.to_string(), version))
    }

    /// The content hash of a template in the catalog ([`Template::content_hash`], computed when
    /// it was added).
    pub fn content_hash(&self, id: &str, version: u32) -> Option<&str> {
        self.hashes.get(&(id.to_string(), version)).map(String::as_str)
    }

    /// The highest version of a template.
    pub fn latest(&self, id: &str) -> Option<&Template> {
        self.templates.range((id.to_string(), 0)..=(id.to_string(), u32::MAX)).next_back().map(|(_, t)| t)
    }

    /// Every template, ordered by id, then version.
    pub fn iter(&self) -> impl Iterator<Item = &Template> {
        self.templates.values()
    }

    pub fn len(&self) -> usize {
        self.templates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// The number of items over all templates.
    pub fn item_count(&self) -> usize {
        self.templates.values().map(Template::item_count).sum()
    }
}
