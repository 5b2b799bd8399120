//! The message catalogue of the rules: the strings the rules, workflows, activities and the console
//! share (statuses, kinds, refusals, mails, notices), looked up by key. Chinese (zh-CN) first,
//! English beside it. Texts may hold `{name}` placeholders. The console's own texts (pages, its
//! own refusals) are in its own catalogue (`web-console/messages/`), built with [`Catalogue`],
//! so a label change rebuilds the console alone.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

const ZH_CN: &str = include_str!("../messages/zh-CN.toml");
const EN: &str = include_str!("../messages/en.toml");

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::ZhCn, Locale::En];

    pub fn code(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }

    /// Reads a locale code leniently (`zh`, `zh-CN`, `en-US`); unknown codes give `None`.
    pub fn from_code(code: &str) -> Option<Self> {
        let c = code.trim().to_ascii_lowercase();
        if c.starts_with("zh") {
            Some(Locale::ZhCn)
        } else if c.starts_with("en") {
            Some(Locale::En)
        } else {
            None
        }
    }
}

/// A message catalogue in both locales: TOML tables flattened to dotted keys (`[web.nav]` +
/// `board` → `web.nav.board`). The rules own one ([`lookup`], [`t`]); a crate with texts of its
/// own (the console) builds another from its files and looks there first.
#[derive(Debug)]
pub struct Catalogue {
    zh_cn: HashMap<String, String>,
    en: HashMap<String, String>,
}

impl Catalogue {
    /// Reads the two locales' TOML. The texts are compiled in, so a malformed file is a bug of
    /// the build, caught by the first test that looks a key up: it panics.
    pub fn from_toml(zh_cn: &str, en: &str) -> Self {
        let read = |text: &str| {
            let mut out = HashMap::new();
            flatten("", text.parse().expect("message catalogue is TOML"), &mut out);
            out
        };
        Catalogue { zh_cn: read(zh_cn), en: read(en) }
    }

    fn texts(&self, locale: Locale) -> &HashMap<String, String> {
        match locale {
            Locale::ZhCn => &self.zh_cn,
            Locale::En => &self.en,
        }
    }

    /// The text for `key`, if this catalogue has it in this locale.
    pub fn lookup(&self, locale: Locale, key: &str) -> Option<&str> {
        self.texts(locale).get(key).map(String::as_str)
    }

    /// Every key of this catalogue in a locale, sorted.
    pub fn keys(&self, locale: Locale) -> Vec<&str> {
        let mut k: Vec<&str> = self.texts(locale).keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }
}

fn flatten(prefix: &str, table: toml::Table, out: &mut HashMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s);
            }
            toml::Value::Table(t) => flatten(&key, t, out),
            other => panic!("message catalogue key {key} must be text, found {other}"),
        }
    }
}

/// The rules' catalogue: the texts the rules, workflows, activities and console share.
fn rules() -> &'static Catalogue {
    static RULES: OnceLock<Catalogue> = OnceLock::new();
    RULES.get_or_init(|| Catalogue::from_toml(ZH_CN, EN))
}

/// The text for `key`, if the rules' catalogue has it in this locale.
pub fn lookup(locale: Locale, key: &str) -> Option<&'static str> {
    rules().lookup(locale, key)
}

/// The text for `key` with `{name}` placeholders filled. A key missing from a locale falls back
/// to Chinese, then to the key itself, so a page never breaks over a missing translation.
pub fn t(locale: Locale, key: &str, args: &[(&str, &str)]) -> String {
    fill(lookup(locale, key).or_else(|| lookup(Locale::ZhCn, key)).unwrap_or(key), args)
}

/// Fills `{name}` placeholders of a catalogue text.
pub fn fill(text: &str, args: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// Every key of the rules' catalogue in a locale, sorted; for tests and for the catalogue check.
pub fn keys(locale: Locale) -> Vec<&'static str> {
    rules().keys(locale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_locales_have_the_same_keys() {
        let zh = keys(Locale::ZhCn);
        let en = keys(Locale::En);
        let only_zh: Vec<_> = zh.iter().filter(|k| !en.contains(k)).collect();
        let only_en: Vec<_> = en.iter().filter(|k| !zh.contains(k)).collect();
        assert!(only_zh.is_empty() && only_en.is_empty(), "only zh-CN: {only_zh:?}; only en: {only_en:?}");
    }

    /// Page texts belong to the console's catalogue (`web-console/messages/`): one here would
    /// rebuild every crate when a label changes.
    #[test]
    fn no_console_text_is_in_the_rules_catalogue() {
        for locale in Locale::ALL {
            let console: Vec<_> = keys(locale).into_iter().filter(|k| k.starts_with("web.")).collect();
            assert!(console.is_empty(), "{locale:?}: move these to web-console/messages/{}.toml: {console:?}", locale.code());
        }
    }

    #[test]
    fn a_second_catalogue_reads_the_same_way() {
        let c = Catalogue::from_toml("[a]\nb = \"乙{n}\"\n[a.c]\nd = \"丁\"", "[a]\nb = \"B{n}\"");
        assert_eq!(c.lookup(Locale::En, "a.b").map(|s| fill(s, &[("n", "1")])), Some("B1".to_string()));
        assert_eq!(c.keys(Locale::ZhCn), ["a.b", "a.c.d"]);
        assert_eq!(c.lookup(Locale::En, "a.c.d"), None);
    }

    #[test]
    fn placeholders_are_filled_and_missing_keys_fall_back() {
        let s = t(Locale::En, "reject.wrong_state", &[("action", "X"), ("status", "Y")]);
        assert!(s.contains('X') && s.contains('Y'), "{s}");
        assert_eq!(t(Locale::En, "no.such.key", &[]), "no.such.key");
        assert_eq!(Locale::from_code("en-US"), Some(Locale::En));
        assert_eq!(Locale::from_code("zh"), Some(Locale::ZhCn));
        assert_eq!(Locale::from_code("fr"), None);
    }
}
