//! Which language a request is answered in, the console's own message catalogue
//! (`web-console/messages/{zh-CN,en}.toml`: page texts and the console's own refusals), and the
//! `t(key, **args)` template function. Every lookup of the console goes through [`lookup`] and
//! [`t`] here: the console's catalogue first, then the rules' (statuses, kinds, refusals the
//! rules and workflows raise …). No key is in both; the tests below keep it so.
//!
//! Order of preference: the `qingling_lang` cookie (the language switch), the signed-in user's
//! own `locale`, the browser's `Accept-Language`, and finally Chinese.

use minijinja::value::{Kwargs, Value};
use minijinja::{Error as TemplateError, ErrorKind, State};
use qingling_rules::messages::{self, Catalogue, Locale, fill};
use std::sync::OnceLock;

const ZH_CN: &str = include_str!("../messages/zh-CN.toml");
const EN: &str = include_str!("../messages/en.toml");

fn console() -> &'static Catalogue {
    static CONSOLE: OnceLock<Catalogue> = OnceLock::new();
    CONSOLE.get_or_init(|| Catalogue::from_toml(ZH_CN, EN))
}

/// The text for `key` in this locale: the console's catalogue first, then the rules'.
pub fn lookup(locale: Locale, key: &str) -> Option<&'static str> {
    console().lookup(locale, key).or_else(|| messages::lookup(locale, key))
}

/// The text for `key` with `{name}` placeholders filled. A key missing from a locale falls back
/// to Chinese, then to the key itself, so a page never breaks over a missing translation.
pub fn t(locale: Locale, key: &str, args: &[(&str, &str)]) -> String {
    fill(lookup(locale, key).or_else(|| lookup(Locale::ZhCn, key)).unwrap_or(key), args)
}

/// Every key of the console's own catalogue in a locale, sorted (not the rules' keys).
pub fn own_keys(locale: Locale) -> Vec<&'static str> {
    console().keys(locale)
}

/// The cookie the language switch sets.
pub const LANG_COOKIE: &str = "qingling_lang";

/// Picks the locale of a request from what it carries.
pub fn negotiate(cookie: Option<&str>, user_locale: Option<&str>, accept_language: Option<&str>) -> Locale {
    cookie
        .and_then(Locale::from_code)
        .or_else(|| user_locale.and_then(Locale::from_code))
        .or_else(|| accept_language.and_then(from_accept_language))
        .unwrap_or_default()
}

/// The first language in an `Accept-Language` header that the catalogue has, by quality.
fn from_accept_language(header: &str) -> Option<Locale> {
    let mut tags: Vec<(f32, &str)> = header
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=")).map(|q| q.trim().parse::<f32>().unwrap_or(0.0)).unwrap_or(1.0);
            (!tag.is_empty() && q > 0.0).then_some((q, tag))
        })
        .collect();
    // A stable sort keeps the header's order among equal weights.
    tags.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    tags.into_iter().find_map(|(_, tag)| Locale::from_code(tag))
}

/// The locale a template renders in: the `locale` variable of its context.
pub fn locale_of(state: &State) -> Locale {
    state.lookup("locale").and_then(|v| v.as_str().and_then(Locale::from_code)).unwrap_or_default()
}

/// `t(key, **args)`: the catalogue text for `key` in the page's locale. An argument whose value
/// is itself a catalogue key (`status.closed`) may be passed as is; it is not translated here,
/// callers translate nested keys with a nested `t(..)`.
pub fn t_function(state: &State, key: &str, kwargs: Kwargs) -> Result<String, TemplateError> {
    let locale = locale_of(state);
    let mut args: Vec<(String, String)> = vec![];
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        let text = match value.as_str() {
            Some(s) => s.to_string(),
            None => value.to_string(),
        };
        args.push((name.to_string(), text));
    }
    kwargs.assert_all_used()?;
    if lookup(locale, key).is_none() && lookup(Locale::ZhCn, key).is_none() {
        // Caught by the template tests: every key a page uses must be in the catalogue.
        if cfg!(test) {
            return Err(TemplateError::new(ErrorKind::InvalidOperation, format!("message key {key} is not in the catalogue")));
        }
        tracing::warn!(key, "message key missing from the catalogue");
    }
    let refs: Vec<(&str, &str)> = args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Ok(t(locale, key, &refs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    #[test]
    fn both_locales_of_the_console_catalogue_have_the_same_keys() {
        let zh = own_keys(Locale::ZhCn);
        let en = own_keys(Locale::En);
        let only_zh: Vec<_> = zh.iter().filter(|k| !en.contains(k)).collect();
        let only_en: Vec<_> = en.iter().filter(|k| !zh.contains(k)).collect();
        assert!(only_zh.is_empty() && only_en.is_empty(), "only zh-CN: {only_zh:?}; only en: {only_en:?}");
        assert!(zh.iter().any(|k| k.starts_with("web.")), "the page texts are the console's");
    }

    /// A key in both would make the console and the mails say different things for one key.
    #[test]
    fn no_key_is_in_both_catalogues() {
        for locale in Locale::ALL {
            let rules: BTreeSet<_> = messages::keys(locale).into_iter().collect();
            let both: Vec<_> = own_keys(locale).into_iter().filter(|k| rules.contains(k)).collect();
            assert!(both.is_empty(), "{locale:?}: in both catalogues: {both:?}");
        }
    }

    #[test]
    fn the_console_looks_in_its_own_catalogue_then_in_the_rules() {
        assert_eq!(lookup(Locale::En, "web.nav.board"), console().lookup(Locale::En, "web.nav.board"));
        assert!(lookup(Locale::En, "web.nav.board").is_some());
        assert_eq!(lookup(Locale::En, "status.closed"), messages::lookup(Locale::En, "status.closed"));
        assert!(t(Locale::En, "auth.throttled", &[("seconds", "9")]).contains('9'));
        assert_eq!(t(Locale::En, "no.such.key", &[]), "no.such.key");
    }

    fn files(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                files(&path, out);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                out.push((path, text));
            }
        }
    }

    fn sources(dirs: &[&str]) -> Vec<(PathBuf, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = vec![];
        for dir in dirs {
            files(&root.join(dir), &mut out);
        }
        out
    }

    /// The quoted texts of a source that read like a catalogue key of a family one of the two
    /// catalogues has (`"web.nav.board"`, `'status.closed'`); prefixes (`"status."`,
    /// `"status_" ~ x`) and formats (`"web.field.{field}"`) are not keys.
    fn quoted_keys(source: &str, families: &BTreeSet<&str>) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for quote in ['"', '\''] {
            let pieces: Vec<&str> = source.split(quote).collect();
            for (i, piece) in pieces.iter().enumerate() {
                // `t("web.checklist.status_" ~ i.status)`: a prefix; the data supplies the rest.
                if pieces.get(i + 1).is_some_and(|after| after.trim_start().starts_with('~')) {
                    continue;
                }
                let segments: Vec<&str> = piece.split('.').collect();
                let keyish = i % 2 == 1
                    && segments.len() > 1
                    && segments.iter().all(|s| {
                        s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    });
                if keyish && families.contains(segments[0]) {
                    out.insert((*piece).to_string());
                }
            }
        }
        out
    }

    fn families() -> BTreeSet<&'static str> {
        let all = own_keys(Locale::ZhCn).into_iter().chain(messages::keys(Locale::ZhCn));
        all.filter_map(|k| k.split('.').next()).collect()
    }

    /// Every literal key in the console's code, templates and scripts is in one of the two
    /// catalogues, in both languages. (Keys built at run time are checked where they are built:
    /// the template tests render every page, `error.rs` every error code.)
    #[test]
    fn every_literal_key_the_console_uses_exists() {
        let families = families();
        let mut checked = 0;
        for (path, source) in sources(&["src", "templates", "assets"]) {
            for key in quoted_keys(&source, &families) {
                // File names such as `inspection.html` share a family's first word.
                if [".html", ".js", ".css", ".toml", ".rs"].iter().any(|ext| key.ends_with(ext)) {
                    continue;
                }
                checked += 1;
                for locale in Locale::ALL {
                    assert!(lookup(locale, &key).is_some(), "{}: {key} is in neither catalogue ({locale:?})", path.display());
                }
            }
        }
        assert!(checked > 100, "the console's keys were found ({checked})");
    }

    /// The console's catalogue is the console's alone: a key the rules, workflows, activities or
    /// the worker name belongs in the rules' catalogue, where they look texts up.
    #[test]
    fn no_other_crate_names_a_key_of_the_console_catalogue() {
        let others = sources(&["../rules/src", "../workflows/src", "../activities/src", "../activities/templates", "../worker/src"]);
        let families = families();
        let own: BTreeSet<&str> = own_keys(Locale::ZhCn).into_iter().collect();
        for (path, source) in &others {
            for key in quoted_keys(source, &families) {
                assert!(!own.contains(key.as_str()), "{}: names {key}, which is in web-console/messages: move it to rules/messages", path.display());
            }
        }
        assert!(others.len() > 20, "the other crates' sources were read ({})", others.len());
    }

    #[test]
    fn the_language_switch_wins_over_the_account_and_the_browser() {
        assert_eq!(negotiate(Some("en"), Some("zh-CN"), Some("zh-CN")), Locale::En);
        assert_eq!(negotiate(Some("zh-CN"), Some("en"), Some("en")), Locale::ZhCn);
    }

    #[test]
    fn the_account_locale_wins_over_the_browser() {
        assert_eq!(negotiate(None, Some("en"), Some("zh-CN,zh;q=0.9")), Locale::En);
        assert_eq!(negotiate(Some("fr"), Some("zh-CN"), Some("en-US")), Locale::ZhCn, "an unknown cookie is ignored");
    }

    #[test]
    fn the_browser_is_asked_by_quality_and_chinese_is_the_default() {
        assert_eq!(negotiate(None, None, Some("fr-FR, en-GB;q=0.8, zh;q=0.5")), Locale::En);
        assert_eq!(negotiate(None, None, Some("en;q=0.3, zh-CN;q=0.9")), Locale::ZhCn);
        assert_eq!(negotiate(None, None, Some("fr, de")), Locale::ZhCn);
        assert_eq!(negotiate(None, None, Some("en;q=0")), Locale::ZhCn, "q=0 means not acceptable");
        assert_eq!(negotiate(None, None, None), Locale::ZhCn);
    }
}
