//! Which language a request is answered in, and the `t(key, **args)` template function that
//! looks texts up in the rules' message catalogue.
//!
//! Order of preference: the `qingling_lang` cookie (the language switch), the signed-in user's
//! own `locale`, the browser's `Accept-Language`, and finally Chinese.

use minijinja::value::{Kwargs, Value};
use minijinja::{Error as TemplateError, ErrorKind, State};
use qingling_rules::messages::{Locale, t};

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
    if qingling_rules::messages::lookup(locale, key).is_none() && qingling_rules::messages::lookup(Locale::ZhCn, key).is_none() {
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
