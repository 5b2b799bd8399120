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
}

impl Catalog {
    /// Every template embedded from `checklists/templates/`. An empty directory gives an empty
    /// catalog; a broken file gives its problems (the test suite keeps that from being shipped).
    pub fn builtin() -> Result<Catalog, Vec<Problem>> {
        load_texts(BUILTIN.iter().copied())
    }

    /// Adds a template; if that `(id, version)` is already present, keeps the old one and
    /// returns its `id@version`.
    pub fn insert(&mut self, template: Template) -> Result<(), String> {
        let key = (template.id.clone(), template.version);
        if self.templates.contains_key(&key) {
            return Err(template.key());
        }
        self.templates.insert(key, template);
        Ok(())
    }

    pub fn get(&self, id: &str, version: u32) -> Option<&Template> {
        self.templates.get(&(id.to_string(), version))
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
