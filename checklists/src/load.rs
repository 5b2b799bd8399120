//! Loading template files: parse the TOML into a span-carrying table first, then check every rule
//! of `FORMAT.md` against it and report *all* problems at once, each with its line.
//!
//! Parsing to `toml::de::DeTable` (rather than deserialising straight into the model) is what lets
//! one pass name every unknown key, every missing key and every bad value, instead of stopping at
//! the first serde error.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::catalog::Catalog;
use crate::model::{AnswerSpec, Basis, Choice, DeadlineClass, EvidenceKind, Failure, Hazard, Item, Kind, Section, Severity, ShowIf, Template, Text, YesNo};

/// One thing wrong with a template file, displayed as `file:line: item-id: message`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub file: String,
    /// 1-based; 0 when the problem concerns the whole file (it cannot be read).
    pub line: usize,
    /// The item (or section) the problem belongs to, when there is one.
    pub item: Option<String>,
    /// A plain English sentence naming the bad value and what was expected.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.file)?;
        if self.line > 0 {
            write!(f, "{}:", self.line)?;
        }
        if let Some(item) = &self.item {
            write!(f, " {item}:")?;
        }
        write!(f, " {}", self.message)
    }
}

impl std::error::Error for Problem {}

/// Load one template from its text. `file_name` is used in problems and must be
/// `<id>@<version>.toml` (only its last path component is compared).
pub fn load_str(file_name: &str, text: &str) -> Result<Template, Vec<Problem>> {
    let mut checker = Checker::new(file_name, text);
    let (root, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        // After a syntax error the table is incomplete, so further checks would only add noise.
        for error in &errors {
            let span = error.span().unwrap_or(0..0);
            let message = error.message().trim().replace('\n', "; ");
            checker.report(&span, None, format!("this is not valid TOML: {message}"));
        }
        return Err(checker.finish());
    }
    let template = checker.template(root.get_ref(), base_name(file_name));
    let problems = checker.finish();
    match template {
        Some(template) if problems.is_empty() => Ok(template),
        _ if problems.is_empty() => unreachable!("a template that failed to load reported why"),
        _ => Err(problems),
    }
}

/// Load one template file.
pub fn load_file(path: impl AsRef<Path>) -> Result<Template, Vec<Problem>> {
    let path = path.as_ref();
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => load_str(&file, &text),
        Err(e) => Err(vec![whole_file(&file, format!("cannot read the file: {e}"))]),
    }
}

/// Load every `*.toml` file of a directory (not its subdirectories) into a catalog. Other files
/// (`.gitkeep`, a README) are skipped. Reports the problems of every file at once.
pub fn load_dir(path: impl AsRef<Path>) -> Result<Catalog, Vec<Problem>> {
    let path = path.as_ref();
    let dir = path.display().to_string();
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) => {
            return Err(vec![whole_file(&dir, format!("cannot read the directory: {e}"))]);
        }
    };
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                let p = entry.path();
                if p.extension().is_some_and(|e| e == "toml") && p.is_file() {
                    files.push(p);
                }
            }
            Err(e) => problems.push(whole_file(&dir, format!("cannot list the directory: {e}"))),
        }
    }
    // Directory order differs between file systems; sorting keeps the output stable.
    files.sort();
    let mut loaded = Vec::new();
    for file in &files {
        let name = file.display().to_string();
        match std::fs::read_to_string(file) {
            Ok(text) => match load_str(&name, &text) {
                Ok(t) => loaded.push((name, t)),
                Err(p) => problems.extend(p),
            },
            Err(e) => problems.push(whole_file(&name, format!("cannot read the file: {e}"))),
        }
    }
    let catalog = catalog_from(loaded, &mut problems);
    if problems.is_empty() { Ok(catalog) } else { Err(problems) }
}

/// Load a file or a directory, whichever `path` is.
pub fn load_path(path: impl AsRef<Path>) -> Result<Catalog, Vec<Problem>> {
    let path = path.as_ref();
    if path.is_dir() {
        load_dir(path)
    } else {
        let template = load_file(path)?;
        let mut problems = Vec::new();
        let catalog = catalog_from(vec![(path.display().to_string(), template)], &mut problems);
        if problems.is_empty() { Ok(catalog) } else { Err(problems) }
    }
}

/// Load templates given as `(file name, text)` pairs, as the built-in catalog embeds them.
pub(crate) fn load_texts<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Catalog, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut loaded = Vec::new();
    for (name, text) in files {
        match load_str(name, text) {
            Ok(t) => loaded.push((name.to_string(), t)),
            Err(p) => problems.extend(p),
        }
    }
    let catalog = catalog_from(loaded, &mut problems);
    if problems.is_empty() { Ok(catalog) } else { Err(problems) }
}

fn catalog_from(loaded: Vec<(String, Template)>, problems: &mut Vec<Problem>) -> Catalog {
    let mut catalog = Catalog::default();
    for (file, template) in loaded {
        let key = template.key();
        if let Err(previous) = catalog.insert(template) {
            problems.push(Problem { file, line: 1, item: None, message: format!("template {key} is loaded twice (also from another file: {previous})") });
        }
    }
    catalog
}

fn whole_file(file: &str, message: String) -> Problem {
    Problem { file: file.to_string(), line: 0, item: None, message }
}

fn base_name(file_name: &str) -> &str {
    file_name.rsplit(['/', '\\']).next().unwrap_or(file_name)
}

const TEMPLATE_KEYS: &[&str] = &["id", "version", "kind", "title", "basis", "total_points"];
const SECTION_KEYS: &[&str] = &["id", "title", "points", "item"];
const ITEM_KEYS: &[&str] = &[
    "id",
    "text",
    "answer",
    "required",
    "points",
    "show_if",
    "failure", // every item
    "allow_na",
    "pass", // yes_no
    "min",
    "max",
    "unit",
    "pass_min",
    "pass_max",   // number
    "choice",     // choice
    "max_photos", // photo
];
/// Keys that belong to one answer type only.
const TYPE_KEYS: &[(&str, &str)] = &[
    ("allow_na", "yes_no"),
    ("pass", "yes_no"),
    ("min", "number"),
    ("max", "number"),
    ("unit", "number"),
    ("pass_min", "number"),
    ("pass_max", "number"),
    ("choice", "choice"),
    ("max_photos", "photo"),
];
const ANSWER_TYPES: &[&str] = &["yes_no", "number", "choice", "text", "photo"];
const CHOICE_KEYS: &[&str] = &["id", "label", "fails", "points"];
const SHOW_IF_KEYS: &[&str] = &["item", "equals"];
const FAILURE_KEYS: &[&str] = &["severity", "hazard", "basis", "evidence", "deadline", "notice", "measures"];
const BASIS_KEYS: &[&str] = &["standard", "clause"];
const TEXT_KEYS: &[&str] = &["zh", "en"];
const DEFAULT_MAX_PHOTOS: u32 = 3;

type Value<'i> = Spanned<DeValue<'i>>;

/// A table being checked: where it is, how its keys are named in messages, and whose it is.
#[derive(Clone)]
struct Node<'a, 'i> {
    table: &'a DeTable<'i>,
    span: Range<usize>,
    /// Prefix for key names in messages (`failure` → `failure.notice`); empty at the top.
    path: String,
    /// How "missing key" messages name the table (`[template]`, `this [[section.item]]`).
    what: String,
    /// The section or item id problems are attributed to.
    owner: Option<String>,
}

impl<'a, 'i> Node<'a, 'i> {
    fn get(&self, key: &str) -> Option<&'a Value<'i>> {
        self.table.get(key)
    }

    fn name(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_string() } else { format!("{}.{key}", self.path) }
    }

    fn child(&self, key: &str, value: &'a Value<'i>, table: &'a DeTable<'i>, what: String) -> Self {
        Node { table, span: value.span(), path: self.name(key), what, owner: self.owner.clone() }
    }
}

/// What the show_if and points checks need to know about an item after the first pass.
struct Parsed {
    id: Option<String>,
    span: Range<usize>,
    answer: Option<AnswerSpec>,
    show_if: Option<(ShowIf, Range<usize>, Range<usize>)>,
    /// The most points the item can award, when its answer and points could be read.
    max_points: Option<u32>,
    item: Option<Item>,
}

struct Checker {
    file: String,
    line_starts: Vec<usize>,
    problems: Vec<Problem>,
    /// Set when some points value could not be read, so the sums would only mislead.
    points_broken: bool,
}

impl Checker {
    fn new(file: &str, text: &str) -> Self {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Checker { file: file.to_string(), line_starts, problems: Vec::new(), points_broken: false }
    }

    fn line(&self, span: &Range<usize>) -> usize {
        self.line_starts.partition_point(|&start| start <= span.start)
    }

    fn report(&mut self, span: &Range<usize>, owner: Option<&str>, message: String) {
        self.problems.push(Problem { file: self.file.clone(), line: self.line(span), item: owner.map(str::to_string), message });
    }

    fn at(&mut self, node: &Node, span: &Range<usize>, message: String) {
        self.report(span, node.owner.as_deref(), message);
    }

    fn finish(mut self) -> Vec<Problem> {
        // Stable sort: problems on one line keep the order the checks found them in.
        self.problems.sort_by_key(|p| p.line);
        self.problems
    }

    // ----- generic key readers -------------------------------------------------------------

    fn unknown_keys(&mut self, node: &Node, allowed: &[&str]) {
        let mut unknown: Vec<_> = node.table.keys().filter(|k| !allowed.contains(&k.get_ref().as_ref())).collect();
        unknown.sort_by_key(|k| k.span().start);
        for key in unknown {
            let key_name = key.get_ref().as_ref();
            let hint = match closest(key_name, allowed) {
                Some(near) => format!("did you mean `{}`? ", node.name(near)),
                None => String::new(),
            };
            let within = if node.what.is_empty() { String::new() } else { format!(" in {}", node.what) };
            let message = format!("unknown key `{}`{within}; {hint}allowed keys are: {}", node.name(key_name), allowed.join(", "));
            self.at(node, &key.span(), message);
        }
    }

    fn missing(&mut self, node: &Node, key: &str) {
        let within = if node.what.is_empty() { String::new() } else { format!(" in {}", node.what) };
        let message = format!("missing required key `{}`{within}", node.name(key));
        self.at(node, &node.span, message);
    }

    fn wrong_type(&mut self, node: &Node, key: &str, value: &Value, expected: &str) {
        let found = value.get_ref().type_str();
        let article = if found.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        let message = format!("`{}` must be {expected}, but it is {article} {found}", node.name(key));
        self.at(node, &value.span(), message);
    }

    fn value<'a, 'i>(&mut self, node: &Node<'a, 'i>, key: &str, required: bool) -> Option<&'a Value<'i>> {
        let value = node.get(key);
        if value.is_none() && required {
            self.missing(node, key);
        }
        value
    }

    fn string(&mut self, node: &Node, key: &str, required: bool) -> Option<(String, Range<usize>)> {
        let value = self.value(node, key, required)?;
        match value.get_ref() {
            DeValue::String(s) if s.trim().is_empty() => {
                self.at(node, &value.span(), format!("`{}` must not be empty", node.name(key)));
                None
            }
            DeValue::String(s) => Some((s.to_string(), value.span())),
            _ => {
                self.wrong_type(node, key, value, "a string");
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, key: &str) -> Option<bool> {
        let value = self.value(node, key, false)?;
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(node, key, value, "true or false");
                None
            }
        }
    }

    /// A whole number `≥ min` that fits in a `u32`.
    fn count(&mut self, node: &Node, key: &str, required: bool, min: u32) -> Option<(u32, Range<usize>)> {
        let value = self.value(node, key, required)?;
        let DeValue::Integer(int) = value.get_ref() else {
            self.wrong_type(node, key, value, "a whole number");
            return None;
        };
        let n = i64::from_str_radix(int.as_str(), int.radix()).ok();
        match n {
            Some(n) if n < i64::from(min) => {
                let message = format!("`{}` must be at least {min}, but it is {n}", node.name(key));
                self.at(node, &value.span(), message);
                None
            }
            Some(n) if n <= i64::from(u32::MAX) => Some((n as u32, value.span())),
            _ => {
                let message = format!("`{}` is too large: {int}", node.name(key));
                self.at(node, &value.span(), message);
                None
            }
        }
    }

    fn number(&mut self, node: &Node, key: &str, required: bool) -> Option<(f64, Range<usize>)> {
        let value = self.value(node, key, required)?;
        let n = match value.get_ref() {
            DeValue::Integer(int) => i64::from_str_radix(int.as_str(), int.radix()).ok().map(|n| n as f64),
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            _ => {
                self.wrong_type(node, key, value, "a number");
                return None;
            }
        };
        match n {
            Some(n) if n.is_finite() => Some((n, value.span())),
            _ => {
                let message = format!("`{}` must be a finite number", node.name(key));
                self.at(node, &value.span(), message);
                None
            }
        }
    }

    fn table<'a, 'i>(&mut self, node: &Node<'a, 'i>, key: &str, required: bool) -> Option<Node<'a, 'i>> {
        let value = self.value(node, key, required)?;
        match value.get_ref() {
            DeValue::Table(t) => Some(node.child(key, value, t, String::new())),
            _ => {
                self.wrong_type(node, key, value, "a table");
                None
            }
        }
    }

    /// The `[[key]]` tables, or `None` (reported) when `key` is something else.
    fn tables<'a, 'i>(&mut self, node: &Node<'a, 'i>, key: &str, header: &str) -> Option<Vec<Node<'a, 'i>>> {
        let value = node.get(key)?;
        let array = match value.get_ref() {
            DeValue::Array(array) => array,
            DeValue::Table(_) => {
                let message = format!("`{key}` must be written [[{header}]] (one per entry), not [{header}]");
                self.at(node, &value.span(), message);
                return None;
            }
            _ => {
                self.wrong_type(node, key, value, &format!("a list of [[{header}]] tables"));
                return None;
            }
        };
        let mut nodes = Vec::new();
        for element in array.iter() {
            match element.get_ref() {
                DeValue::Table(t) => nodes.push(node.child(key, element, t, format!("this [[{header}]]"))),
                _ => self.wrong_type(node, key, element, &format!("a list of [[{header}]] tables")),
            }
        }
        Some(nodes)
    }

    fn text(&mut self, node: &Node, key: &str, required: bool) -> Option<Text> {
        let table = self.table(node, key, required)?;
        self.unknown_keys(&table, TEXT_KEYS);
        let zh = self.string(&table, "zh", true);
        let en = self.string(&table, "en", true);
        Some(Text { zh: zh?.0, en: en?.0 })
    }

    fn one_of<T: Copy>(&mut self, node: &Node, key: &str, required: bool, all: &[T], name: fn(T) -> &'static str, noun: &str) -> Option<(T, Range<usize>)> {
        let (s, span) = self.string(node, key, required)?;
        match all.iter().find(|v| name(**v) == s) {
            Some(v) => Some((*v, span)),
            None => {
                let expected: Vec<_> = all.iter().map(|v| name(*v)).collect();
                let message = format!("unknown {noun} \"{s}\"; expected one of: {}", expected.join(", "));
                self.at(node, &span, message);
                None
            }
        }
    }

    /// Reports `points` on a sheet that is not a rating sheet.
    fn points(&mut self, node: &Node, key: &str, kind: Option<Kind>) -> Option<(u32, Range<usize>)> {
        let value = node.get(key)?;
        if let Some(kind) = kind.filter(|k| *k != Kind::Rating) {
            let message = format!("`{}` only counts on rating sheets (kind = \"rating\"), but this template's kind is \"{}\"", node.name(key), kind.as_str());
            self.at(node, &value.span(), message);
            return None;
        }
        let points = self.count(node, key, false, 0);
        if points.is_none() {
            self.points_broken = true;
        }
        points
    }

    fn id(&mut self, node: &Node, key: &str, allowed: fn(char) -> bool, rule: &str) -> Option<(String, Range<usize>)> {
        let (id, span) = self.string(node, key, true)?;
        if let Some(bad) = id.chars().find(|c| !allowed(*c)) {
            let message = format!("`{}` \"{id}\" contains {bad:?}; {rule}", node.name(key));
            self.at(node, &span, message);
        }
        Some((id, span))
    }

    // ----- the template ----------------------------------------------------------------------

    fn template(&mut self, root: &DeTable, file_name: &str) -> Option<Template> {
        let root = Node { table: root, span: 0..0, path: String::new(), what: String::new(), owner: None };
        self.unknown_keys(&root, &["template", "section"]);

        let head = match root.get("template") {
            None => {
                self.report(&(0..0), None, "the file has no [template] table".to_string());
                None
            }
            Some(_) => self.table(&root, "template", true).map(|mut n| {
                n.what = "[template]".to_string();
                n.path = String::new();
                n
            }),
        };
        let mut id = None;
        let mut version = None;
        let mut kind = None;
        let mut title = None;
        let mut basis = None;
        let mut total = None;
        if let Some(head) = &head {
            self.unknown_keys(head, TEMPLATE_KEYS);
            id = self.id(head, "id", is_section_id_char, "a template id may only use a-z, 0-9 and '-'");
            version = self.count(head, "version", true, 1);
            kind = self.one_of(head, "kind", true, &Kind::ALL, Kind::as_str, "kind");
            title = self.text(head, "title", true);
            basis = self.string(head, "basis", true);
            let kind = kind.as_ref().map(|k| k.0);
            total = self.points(head, "total_points", kind);
            if kind == Some(Kind::Rating) && head.get("total_points").is_none() {
                let message = "missing required key `total_points` in [template]: a rating sheet must state its total points".to_string();
                self.report(&head.span, None, message);
            }
            if let (Some((id, span)), Some((version, _))) = (&id, &version) {
                let expected = format!("{id}@{version}.toml");
                if file_name != expected {
                    let message =
                        format!("the file is named \"{file_name}\", but template id \"{id}\" version {version} must be in a file named \"{expected}\"");
                    self.report(span, None, message);
                }
            }
        }
        let kind = kind.map(|k| k.0);

        let mut sections = Vec::new();
        let mut parsed_items: Vec<Parsed> = Vec::new();
        let mut section_points: Vec<(String, Option<u32>)> = Vec::new();
        match self.tables(&root, "section", "section") {
            None if root.get("section").is_none() => {
                self.report(&(0..0), None, "the template has no [[section]]; it needs at least one".to_string());
            }
            None => {}
            Some(nodes) => {
                let mut section_ids: BTreeMap<String, usize> = BTreeMap::new();
                for (i, mut node) in nodes.into_iter().enumerate() {
                    node.path = String::new();
                    let section = self.section(&mut node, i + 1, kind, &mut section_ids, &mut parsed_items, &mut section_points);
                    sections.push(section);
                }
            }
        }

        self.check_item_ids(&parsed_items);
        self.check_show_if(&parsed_items);
        let sections: Option<Vec<Section>> = sections.into_iter().collect();

        // Checked from the points alone, so a mistake elsewhere in a section does not hide it.
        if kind == Some(Kind::Rating)
            && !self.points_broken
            && let (Some((total, span)), Some(head)) = (&total, &head)
            && section_points.iter().all(|(_, p)| p.is_some())
        {
            let sum: u32 = section_points.iter().filter_map(|(_, p)| *p).sum();
            if sum != *total {
                let parts: Vec<String> = section_points.iter().map(|(id, p)| format!("{id} {}", p.unwrap_or(0))).collect();
                let message = format!("`total_points` is {total}, but the section points add up to {sum} ({})", parts.join(" + "));
                self.at(head, span, message);
            }
        }

        Some(Template { id: id?.0, version: version?.0, kind: kind?, title: title?, basis: basis?.0, total_points: total.map(|t| t.0), sections: sections? })
    }

    fn section(
        &mut self,
        node: &mut Node,
        index: usize,
        kind: Option<Kind>,
        ids: &mut BTreeMap<String, usize>,
        parsed_items: &mut Vec<Parsed>,
        section_points: &mut Vec<(String, Option<u32>)>,
    ) -> Option<Section> {
        node.what = format!("[[section]] number {index}");
        let id = self.id(node, "id", is_section_id_char, "a section id may only use a-z, 0-9 and '-'");
        if let Some((id, span)) = &id {
            node.owner = Some(id.clone());
            node.what = "this [[section]]".to_string();
            let line = self.line(span);
            if let Some(first) = ids.insert(id.clone(), line) {
                ids.insert(id.clone(), first);
                self.at(node, span, format!("section id \"{id}\" is already used on line {first}; section ids must be unique"));
            }
        }
        self.unknown_keys(node, SECTION_KEYS);
        let title = self.text(node, "title", true);
        let points = self.points(node, "points", kind);
        if kind == Some(Kind::Rating) && node.get("points").is_none() {
            let message = "missing required key `points` in this [[section]]: on a rating sheet every section states its points".to_string();
            self.at(node, &node.span, message);
        }

        section_points.push((id.as_ref().map_or_else(|| format!("section {index}"), |i| i.0.clone()), points.as_ref().map(|p| p.0)));
        let first_item = parsed_items.len();
        let mut items = Vec::new();
        match self.tables(node, "item", "section.item") {
            Some(nodes) if !nodes.is_empty() => {
                for (i, mut item) in nodes.into_iter().enumerate() {
                    item.path = String::new();
                    let parsed = self.item(&mut item, i + 1, kind);
                    items.push(parsed.item.clone());
                    parsed_items.push(parsed);
                }
            }
            Some(_) => {}
            None if node.get("item").is_some() => {}
            None => {
                let message = "this section has no items; add at least one [[section.item]] after it".to_string();
                self.at(node, &node.span, message);
            }
        }
        let items: Option<Vec<Item>> = items.into_iter().collect();

        let parsed = &parsed_items[first_item..];
        if let (Some(Kind::Rating), Some((points, span))) = (kind, &points)
            && !self.points_broken
            && parsed.iter().all(|p| p.max_points.is_some())
        {
            let sum: u32 = parsed.iter().filter_map(|p| p.max_points).sum();
            if sum != *points {
                let parts: Vec<String> = parsed.iter().map(|p| format!("{} {}", p.id.as_deref().unwrap_or("?"), p.max_points.unwrap_or(0))).collect();
                let message = format!("section `points` is {points}, but its items add up to {sum} ({})", parts.join(" + "));
                self.at(node, span, message);
            }
        }

        Some(Section { id: id?.0, title: title?, points: points.map(|p| p.0), items: items? })
    }

    fn item(&mut self, node: &mut Node, index: usize, kind: Option<Kind>) -> Parsed {
        let section = node.owner.clone();
        node.what = match &section {
            Some(s) => format!("item {index} of section \"{s}\""),
            None => format!("item {index} of this section"),
        };
        let id = self.id(node, "id", is_item_id_char, "an item id may only use a-z, 0-9, '.' and '-'");
        node.owner = id.as_ref().map(|i| i.0.clone());
        if id.is_some() {
            node.what = "this [[section.item]]".to_string();
        }
        self.unknown_keys(node, ITEM_KEYS);
        let text = self.text(node, "text", true);
        let answer_type = match self.string(node, "answer", true) {
            Some((s, span)) if ANSWER_TYPES.contains(&s.as_str()) => Some((s, span)),
            Some((s, span)) => {
                let message = format!("unknown answer type \"{s}\"; expected one of: {}", ANSWER_TYPES.join(", "));
                self.at(node, &span, message);
                None
            }
            None => None,
        };
        let required = self.boolean(node, "required").unwrap_or(true);
        let points = self.points(node, "points", kind);
        let show_if = self.show_if(node);

        if let Some((answer, _)) = &answer_type {
            for (key, owner_type) in TYPE_KEYS {
                if let Some(value) = node.get(key).filter(|_| owner_type != answer) {
                    let message = format!("`{key}` only applies to {owner_type} items, but this item's answer is \"{answer}\"");
                    self.at(node, &value.span(), message);
                }
            }
        }
        let answer = match answer_type.as_ref().map(|a| a.0.as_str()) {
            Some("yes_no") => self.yes_no(node),
            Some("number") => self.number_spec(node),
            Some("choice") => self.choice_spec(node, kind, points.as_ref().map(|p| p.0)),
            Some("text") => Some(AnswerSpec::Text),
            Some("photo") => self
                .count(node, "max_photos", false, 1)
                .map(|m| m.0)
                .or(node.get("max_photos").is_none().then_some(DEFAULT_MAX_PHOTOS))
                .map(|max_photos| AnswerSpec::Photo { max_photos }),
            _ => None,
        };

        let failure_value = node.get("failure");
        let failure = self.table(node, "failure", false).and_then(|f| self.failure(&f));
        if let Some(answer) = &answer {
            match (answer.can_fail(), failure_value) {
                (true, None) => {
                    let why = match answer {
                        AnswerSpec::YesNo { .. } => "a yes_no item can fail",
                        AnswerSpec::Number { .. } => "a number item with pass_min or pass_max can fail",
                        _ => "a choice item with a failing option can fail",
                    };
                    let message = format!(
                        "missing [section.item.failure] table: {why}, so it must say how a failure is reported (severity, hazard, basis, evidence, deadline, notice)"
                    );
                    self.at(node, &node.span, message);
                }
                (false, Some(value)) => {
                    let why = match answer {
                        AnswerSpec::Number { .. } => "a number item without pass_min or pass_max never fails",
                        AnswerSpec::Choice { .. } => "none of its choices has fails = true, so it never fails",
                        _ => "text and photo items never fail",
                    };
                    let message = format!("this item has a [section.item.failure] table, but {why}; remove the table");
                    self.at(node, &value.span(), message);
                }
                _ => {}
            }
        }

        let item = (|| {
            Some(Item {
                id: id.clone()?.0,
                text: text?,
                answer: answer.clone()?,
                required,
                points: points.as_ref().map(|p| p.0),
                show_if: show_if.as_ref().map(|s| s.0.clone()),
                failure: if failure_value.is_some() { Some(failure?) } else { None },
            })
        })();
        let points_read = points.is_some() || node.get("points").is_none();
        Parsed {
            id: id.map(|i| i.0),
            span: node.span.clone(),
            max_points: answer.as_ref().filter(|_| points_read).map(|a| a.max_points(points.as_ref().map(|p| p.0))),
            answer,
            show_if,
            item,
        }
    }

    fn show_if(&mut self, node: &Node) -> Option<(ShowIf, Range<usize>, Range<usize>)> {
        let table = self.table(node, "show_if", false)?;
        self.unknown_keys(&table, SHOW_IF_KEYS);
        let item = self.string(&table, "item", true);
        // The format writes the value as a string; a bare number is accepted for number items.
        let equals = match table.get("equals") {
            Some(value) => match value.get_ref() {
                DeValue::Integer(int) => Some((int.to_string(), value.span())),
                DeValue::Float(f) => Some((f.to_string(), value.span())),
                _ => self.string(&table, "equals", true),
            },
            None => self.string(&table, "equals", true),
        };
        let (item, item_span) = item?;
        let (equals, equals_span) = equals?;
        Some((ShowIf { item, equals }, item_span, equals_span))
    }

    fn yes_no(&mut self, node: &Node) -> Option<AnswerSpec> {
        let allow_na = self.boolean(node, "allow_na").unwrap_or(false);
        let pass = match self.string(node, "pass", false) {
            None => node.get("pass").is_none().then_some(YesNo::Yes),
            Some((s, _)) if s == "yes" => Some(YesNo::Yes),
            Some((s, _)) if s == "no" => Some(YesNo::No),
            Some((s, span)) => {
                let message = format!("`pass` must be \"yes\" or \"no\" (the answer that passes), not \"{s}\"");
                self.at(node, &span, message);
                None
            }
        };
        Some(AnswerSpec::YesNo { pass: pass?, allow_na })
    }

    fn number_spec(&mut self, node: &Node) -> Option<AnswerSpec> {
        let min = self.number(node, "min", true);
        let max = self.number(node, "max", true);
        let unit = self.text(node, "unit", false);
        let pass_min = self.number(node, "pass_min", false);
        let pass_max = self.number(node, "pass_max", false);
        let (min, min_span) = min?;
        let (max, _) = max?;
        if min >= max {
            let message = format!("`min` ({}) must be less than `max` ({})", num(min), num(max));
            self.at(node, &min_span, message);
            return None;
        }
        for (key, bound) in [("pass_min", &pass_min), ("pass_max", &pass_max)] {
            if let Some((v, span)) = bound
                && (*v < min || *v > max)
            {
                let message = format!("`{key}` ({}) is outside the valid answers `min`..`max` ({}..{})", num(*v), num(min), num(max));
                self.at(node, span, message);
            }
        }
        if let (Some((lo, span)), Some((hi, _))) = (&pass_min, &pass_max)
            && lo > hi
        {
            let message = format!("`pass_min` ({}) must not be greater than `pass_max` ({})", num(*lo), num(*hi));
            self.at(node, span, message);
        }
        Some(AnswerSpec::Number {
            min,
            max,
            unit: if node.get("unit").is_some() { Some(unit?) } else { None },
            pass_min: pass_min.map(|p| p.0),
            pass_max: pass_max.map(|p| p.0),
        })
    }

    fn choice_spec(&mut self, node: &Node, kind: Option<Kind>, item_points: Option<u32>) -> Option<AnswerSpec> {
        let nodes = match self.tables(node, "choice", "section.item.choice") {
            Some(nodes) => nodes,
            None if node.get("choice").is_some() => return None,
            None => {
                let message = "a choice item needs at least 2 options, written [[section.item.choice]], but it has none".to_string();
                self.at(node, &node.span, message);
                return None;
            }
        };
        if nodes.len() < 2 {
            let message = format!("a choice item needs at least 2 options, but it has {}", nodes.len());
            self.at(node, &node.span, message);
        }
        let mut ids: BTreeMap<String, usize> = BTreeMap::new();
        let mut choices = Vec::new();
        for (i, mut c) in nodes.into_iter().enumerate() {
            c.what = format!("[[section.item.choice]] number {}", i + 1);
            self.unknown_keys(&c, CHOICE_KEYS);
            let id = self.id(&c, "id", is_choice_id_char, "a choice id may only use a-z, 0-9, '_', '.' and '-'");
            if let Some((id, span)) = &id {
                let line = self.line(span);
                if let Some(first) = ids.insert(id.clone(), line) {
                    ids.insert(id.clone(), first);
                    let message = format!("choice id \"{id}\" is already used on line {first}; choice ids must be unique within the item");
                    self.at(&c, span, message);
                }
            }
            let label = self.text(&c, "label", true);
            let fails = self.boolean(&c, "fails").unwrap_or(false);
            let points = self.points(&c, "points", kind);
            choices.push((|| Some(Choice { id: id?.0, label: label?, fails, points: points.map(|p| p.0) }))());
        }
        let choices: Vec<Choice> = choices.into_iter().collect::<Option<_>>()?;
        if ids.len() < 2 {
            return None;
        }
        if let Some(item_points) = item_points
            && choices.iter().all(|c| c.points.is_some())
        {
            let best = choices.iter().filter_map(|c| c.points).max().unwrap_or(0);
            if best != item_points {
                let message = format!(
                    "`points` is {item_points}, but every option has its own points, which replace it, and the best option gives {best}; remove the item's `points` or make it {best}"
                );
                if let Some(value) = node.get("points") {
                    self.at(node, &value.span(), message);
                }
            }
        }
        Some(AnswerSpec::Choice { choices })
    }

    fn failure(&mut self, node: &Node) -> Option<Failure> {
        self.unknown_keys(node, FAILURE_KEYS);
        let severity = self.one_of(node, "severity", true, &Severity::ALL, Severity::as_str, "severity");
        let hazard = self.one_of(node, "hazard", true, &Hazard::ALL, Hazard::as_str, "hazard category");
        let basis = self.table(node, "basis", true).and_then(|b| {
            self.unknown_keys(&b, BASIS_KEYS);
            let standard = self.string(&b, "standard", true);
            let clause = self.string(&b, "clause", true);
            Some(Basis { standard: standard?.0, clause: clause?.0 })
        });
        let evidence = self.evidence(node);
        let deadline = self.one_of(node, "deadline", true, &DeadlineClass::ALL, DeadlineClass::as_str, "deadline class");
        let notice = self.text(node, "notice", true);
        let measures = self.text(node, "measures", false);

        if let Some((severity, _)) = severity {
            if severity == Severity::MajorHazard {
                if let Some((DeadlineClass::Ordinary, span)) = &deadline {
                    let message = "a major_hazard failure needs deadline = \"major\" or \"immediate\", not \"ordinary\"".to_string();
                    self.at(node, span, message);
                }
                if node.get("measures").is_none() {
                    let message =
                        "missing required key `failure.measures`: a major_hazard failure must state the immediate measures the notice orders".to_string();
                    self.at(node, &node.span, message);
                }
            } else if let Some(value) = node.get("measures") {
                let message = format!("`failure.measures` is only for major_hazard failures, but this failure's severity is \"{}\"", severity.as_str());
                self.at(node, &value.span(), message);
            }
        }

        Some(Failure {
            severity: severity?.0,
            hazard: hazard?.0,
            basis: basis?,
            evidence: evidence?,
            deadline: deadline?.0,
            notice: notice?,
            measures: if node.get("measures").is_some() { Some(measures?) } else { None },
        })
    }

    fn evidence(&mut self, node: &Node) -> Option<Vec<EvidenceKind>> {
        let value = self.value(node, "evidence", true)?;
        let DeValue::Array(array) = value.get_ref() else {
            self.wrong_type(node, "evidence", value, "a list such as [\"photo\", \"note\"]");
            return None;
        };
        let mut kinds = Vec::new();
        let mut ok = true;
        for element in array.iter() {
            let kind = match element.get_ref() {
                DeValue::String(s) => EvidenceKind::ALL.iter().copied().find(|k| k.as_str() == s.as_ref()).or_else(|| {
                    let message = format!("unknown evidence kind \"{s}\"; expected one of: photo, note");
                    self.at(node, &element.span(), message);
                    None
                }),
                _ => {
                    self.wrong_type(node, "evidence", element, "a list of strings (photo, note)");
                    None
                }
            };
            match kind {
                Some(k) if kinds.contains(&k) => {
                    let message = format!("evidence kind \"{}\" is listed twice", k.as_str());
                    self.at(node, &element.span(), message);
                    ok = false;
                }
                Some(k) => kinds.push(k),
                None => ok = false,
            }
        }
        ok.then_some(kinds)
    }

    // ----- checks across items ---------------------------------------------------------------

    fn check_item_ids(&mut self, items: &[Parsed]) {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for p in items {
            let Some(id) = &p.id else { continue };
            let line = self.line(&p.span);
            match seen.get(id.as_str()) {
                Some(first) => {
                    let message = format!("item id \"{id}\" is already used on line {first}; item ids must be unique in the template");
                    self.report(&p.span, Some(id), message);
                }
                None => {
                    seen.insert(id.as_str(), line);
                }
            }
        }
    }

    fn check_show_if(&mut self, items: &[Parsed]) {
        let mut position: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, p) in items.iter().enumerate() {
            if let Some(id) = &p.id {
                position.entry(id.as_str()).or_insert(i);
            }
        }
        for (i, p) in items.iter().enumerate() {
            let Some((show_if, item_span, equals_span)) = &p.show_if else {
                continue;
            };
            let owner = p.id.as_deref();
            let target = &show_if.item;
            let Some(&at) = position.get(target.as_str()) else {
                let message = format!("`show_if.item` refers to item \"{target}\", which is not in this template");
                self.report(item_span, owner, message);
                continue;
            };
            if at == i {
                let message = "`show_if.item` refers to this item itself; it must refer to an earlier item".to_string();
                self.report(item_span, owner, message);
                continue;
            }
            if at > i {
                let line = self.line(&items[at].span);
                let message = format!("`show_if.item` refers to item \"{target}\", which comes later (line {line}); it must refer to an earlier item");
                self.report(item_span, owner, message);
                continue;
            }
            let Some(answer) = &items[at].answer else {
                continue;
            };
            if let Some(message) = show_if_value_problem(target, answer, &show_if.equals) {
                self.report(equals_span, owner, message);
            }
        }
    }
}

/// Why `equals` can never be an answer of the item it refers to, if it cannot.
fn show_if_value_problem(target: &str, answer: &AnswerSpec, equals: &str) -> Option<String> {
    match answer {
        AnswerSpec::YesNo { allow_na, .. } => match equals {
            "yes" | "no" => None,
            "na" if *allow_na => None,
            "na" => Some(format!("`show_if.equals` is \"na\", but item \"{target}\" does not allow \"na\" (allow_na = false)")),
            _ => Some(format!("`show_if.equals` is \"{equals}\", but item \"{target}\" is a yes_no item; expected \"yes\", \"no\" or \"na\"")),
        },
        AnswerSpec::Choice { choices } => (!choices.iter().any(|c| c.id == equals)).then(|| {
            let ids: Vec<_> = choices.iter().map(|c| c.id.as_str()).collect();
            format!("`show_if.equals` is \"{equals}\", but item \"{target}\" has no such choice; expected one of: {}", ids.join(", "))
        }),
        AnswerSpec::Number { min, max, .. } => match equals.trim().parse::<f64>() {
            Ok(n) if n.is_finite() && (*min..=*max).contains(&n) => None,
            Ok(n) if n.is_finite() => {
                Some(format!("`show_if.equals` is {}, but item \"{target}\" only takes numbers from {} to {}", num(n), num(*min), num(*max)))
            }
            _ => Some(format!("`show_if.equals` is \"{equals}\", but item \"{target}\" is a number item; expected a number written as a string, e.g. \"3\"")),
        },
        AnswerSpec::Text => None,
        AnswerSpec::Photo { .. } => {
            Some(format!("`show_if.item` refers to photo item \"{target}\", which has no value to compare; refer to a yes_no, number, choice or text item"))
        }
    }
}

fn is_section_id_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
}

fn is_item_id_char(c: char) -> bool {
    is_section_id_char(c) || c == '.'
}

fn is_choice_id_char(c: char) -> bool {
    is_item_id_char(c) || c == '_'
}

/// A number as a person writes it: `5`, not `5.0`.
pub(crate) fn num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{n:.0}") } else { format!("{n}") }
}

/// The allowed key closest to a misspelt one, if it is close enough to be a likely typo.
fn closest<'a>(key: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed.iter().map(|a| (edit_distance(key, a), *a)).filter(|(d, a)| *d <= 2 && *d < a.len()).min_by_key(|(d, _)| *d).map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(row[j]).min(cur) };
            prev = cur;
        }
    }
    row[b.len()]
}
