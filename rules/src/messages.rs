//! The one message catalogue: every string a person reads (pages, mails, refusals) is looked up
//! here by key. Chinese (zh-CN) first, English beside it. Texts may hold `{name}` placeholders.

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

fn flatten(prefix: &str, table: toml::Table, out: &mut HashMap<String, &'static str>) {
    for (k, v) in table {
        let key = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::String(s) => {
                out.insert(key, Box::leak(s.into_boxed_str()));
            }
            toml::Value::Table(t) => flatten(&key, t, out),
            other => panic!("message catalogue key {key} must be text, found {other}"),
        }
    }
}

fn catalogue(locale: Locale) -> &'static HashMap<String, &'static str> {
    static ZH: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    static EN_: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    let (cell, text) = match locale {
        Locale::ZhCn => (&ZH, ZH_CN),
        Locale::En => (&EN_, EN),
    };
    cell.get_or_init(|| {
        let mut out = HashMap::new();
        flatten("", text.parse().expect("message catalogue is TOML"), &mut out);
        out
    })
}

/// The text for `key`, if the catalogue has it in this locale.
pub fn lookup(locale: Locale, key: &str) -> Option<&'static str> {
    catalogue(locale).get(key).copied()
}

/// The text for `key` with `{name}` placeholders filled. A key missing from a locale falls back
/// to Chinese, then to the key itself, so a page never breaks over a missing translation.
pub fn t(locale: Locale, key: &str, args: &[(&str, &str)]) -> String {
    let text = lookup(locale, key).or_else(|| lookup(Locale::ZhCn, key)).unwrap_or(key);
    let mut out = text.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// Every key in a locale, sorted; for tests and for the catalogue check.
pub fn keys(locale: Locale) -> Vec<&'static str> {
    let mut k: Vec<&'static str> = catalogue(locale).keys().map(|s| Box::leak(s.clone().into_boxed_str()) as &'static str).collect();
    k.sort_unstable();
    k
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
