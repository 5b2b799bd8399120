//! The one refusal: why a request was not done, as a catalogue key with its arguments, the
//! per-item problems of a refused checklist, and its [`Class`] (which the console turns into an
//! HTTP status, so no caller picks a status by matching code strings).
//!
//! Every kind of case refuses with it: the matter state machine (`reject.*`), the inspection
//! rules (`inspection.*`), evidence checks (`evidence.*`). It crosses the workflow boundary in one
//! wire format ([`Refusal::to_wire`]: a prefix and a JSON object inside an update failure's
//! message) and is parsed back by [`Refusal::from_wire`], which also reads the two formats used
//! before (a bare `{"code"…}` object, and the inspection refusal with an object of arguments),
//! so a console and a worker of different versions still understand each other.

use crate::PolicyDuration;
use crate::messages::{Locale, t};

use serde::{Deserialize, Deserializer, Serialize};

/// What kind of "no" it is; decides the HTTP status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// The request does not fit the rules: a value, a state, a date (422).
    #[default]
    Invalid,
    /// It conflicts with what was already done: another submission, a reused key (409).
    Conflict,
    /// The caller is not one who may do this (403).
    Forbidden,
    /// Larger than allowed (413).
    TooLarge,
    /// A file of a type not taken here (415).
    UnsupportedType,
    /// The case is held on a step it could not store; an operator must look (503).
    Held,
}

impl Class {
    /// The HTTP status of a refusal of this class.
    pub fn http_status(self) -> u16 {
        match self {
            Class::Invalid => 422,
            Class::Conflict => 409,
            Class::Forbidden => 403,
            Class::TooLarge => 413,
            Class::UnsupportedType => 415,
            Class::Held => 503,
        }
    }
    fn is_invalid(&self) -> bool {
        *self == Class::Invalid
    }
}

/// One problem of a refused checklist: the item, a code (`answer.*`) and the checker's detail
/// (English, for logs and API clients; people read [`Problem::message`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub item: String,
    pub code: String,
    #[serde(alias = "message")]
    pub detail: String,
}

impl Problem {
    /// The problem in the reader's language (`answer_problem.*`), or the detail when the
    /// catalogue has no text for its code.
    pub fn message(&self, locale: Locale) -> String {
        let key = format!("answer_problem.{}", self.code.replace('.', "_"));
        let text = t(locale, &key, &[]);
        if text == key { self.detail.clone() } else { text }
    }
}

/// Why a request was refused. Arguments whose value is itself a catalogue key (a status, an
/// action, a field) are translated when the message is rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub code: String,
    #[serde(default, deserialize_with = "pairs_or_object")]
    pub args: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
    #[serde(default, skip_serializing_if = "Class::is_invalid")]
    pub class: Class,
}

/// Prefix of an update failure message that carries a [`Refusal`].
pub const WIRE_PREFIX: &str = "qingling-refusal:";
/// The inspection workflow's prefix before the refusal was one type (still read).
const OLD_INSPECTION_PREFIX: &str = "qingling-inspection-refusal:";

impl Refusal {
    /// A refusal of class [`Class::Invalid`] with no arguments.
    pub fn new(code: impl Into<String>) -> Self {
        Self { code: code.into(), args: vec![], problems: vec![], class: Class::Invalid }
    }
    pub fn arg(mut self, name: &str, value: impl Into<String>) -> Self {
        self.args.push((name.into(), value.into()));
        self
    }
    pub fn class(mut self, class: Class) -> Self {
        self.class = class;
        self
    }
    pub fn with_problems(mut self, problems: Vec<Problem>) -> Self {
        self.problems = problems;
        self
    }

    /// The case's workflow is held after a step it could not store; `error` is the storage
    /// failure, shortened.
    pub fn stuck(error: &str) -> Self {
        Refusal::new("reject.stuck").arg("error", error.chars().take(200).collect::<String>()).class(Class::Held)
    }

    /// The argument named `name`, if given.
    pub fn arg_value(&self, name: &str) -> Option<&str> {
        self.args.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The field the refusal is about (`field.handler` → `handler`), for forms and API clients.
    pub fn field(&self) -> Option<&str> {
        self.arg_value("field").map(|k| k.strip_prefix("field.").unwrap_or(k))
    }

    /// The refusal in words, in the reader's language, from the rules' catalogue.
    pub fn message(&self, locale: Locale) -> String {
        self.message_in(locale, &crate::messages::lookup)
    }

    /// The refusal in words, from a catalogue that may hold more than the rules' (the
    /// console's looks in its own first): `lookup` finds a key's text in a locale.
    pub fn message_in(&self, locale: Locale, lookup: &dyn Fn(Locale, &str) -> Option<&'static str>) -> String {
        let text = |key: &str| lookup(locale, key).or_else(|| lookup(Locale::ZhCn, key));
        let shown = |k: &str, v: &str| {
            if v.contains('.')
                && !v.contains(' ')
                && let Some(t) = text(v)
            {
                return t.to_string();
            }
            // A period (the longest or shortest extension) reads in words, not as a policy code.
            match (matches!(k, "max" | "min" | "by"), PolicyDuration::parse(v)) {
                (true, Ok(d)) => d.words(locale),
                _ => v.to_string(),
            }
        };
        let args: Vec<(String, String)> = self.args.iter().map(|(k, v)| (k.clone(), shown(k, v))).collect();
        let refs: Vec<(&str, &str)> = args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        crate::messages::fill(text(&self.code).unwrap_or(&self.code), &refs)
    }

    /// The form that crosses the workflow boundary: the prefix and a JSON object.
    pub fn to_wire(&self) -> String {
        format!("{WIRE_PREFIX}{}", serde_json::to_string(self).expect("refusals serialise"))
    }

    /// Finds a refusal inside an error message from the workflow engine (which may wrap it in
    /// other text).
    pub fn from_wire(text: &str) -> Option<Self> {
        let start = [WIRE_PREFIX, OLD_INSPECTION_PREFIX].iter().find_map(|p| text.find(p).map(|at| at + p.len())).or_else(|| text.find("{\"code\""))?;
        let mut de = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Refusal>();
        let mut r = de.next()?.ok()?;
        if text[..start].ends_with(OLD_INSPECTION_PREFIX) {
            r.class = old_inspection_class(&r.code);
        }
        Some(r)
    }
}

/// The class the old inspection refusals had (their status was picked by code).
fn old_inspection_class(code: &str) -> Class {
    match code {
        "inspection.already_submitted" | "inspection.key_reused" => Class::Conflict,
        "inspection.not_assigned" => Class::Forbidden,
        _ => Class::Invalid,
    }
}

/// Arguments as `[[name, value], …]`, or (the old inspection format) `{name: value}` with any
/// JSON values, read as text.
fn pairs_or_object<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Args {
        Pairs(Vec<(String, String)>),
        Object(serde_json::Map<String, serde_json::Value>),
    }
    Ok(match Args::deserialize(d)? {
        Args::Pairs(p) => p,
        Args::Object(m) => m.into_iter().map(|(k, v)| (k, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect(),
    })
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Locale::En))
    }
}
impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_format_round_trips_inside_other_text() {
        let r = Refusal::new("inspection.signatures_required").arg("need", "2").arg("have", "1");
        assert_eq!(Refusal::from_wire(&r.to_wire()), Some(r.clone()));
        assert_eq!(Refusal::from_wire(&format!("update failed: validator: {} (trailing)", r.to_wire())), Some(r));
        let held = Refusal::stuck("disk full");
        assert_eq!(Refusal::from_wire(&held.to_wire()).map(|r| r.class), Some(Class::Held));
        let with = Refusal::new("inspection.invalid_answers").arg("count", "1").with_problems(vec![Problem {
            item: "f1".into(),
            code: "answer.missing".into(),
            detail: "no answer".into(),
        }]);
        assert_eq!(Refusal::from_wire(&with.to_wire()), Some(with));
        assert_eq!(Refusal::from_wire("panic: index out of bounds"), None);
    }

    #[test]
    fn the_formats_from_before_are_still_read() {
        // The matter's rejection: a bare object with pairs.
        let old = r#"update rejected: {"code":"reject.wrong_state","args":[["status","status.issued"]]}"#;
        let r = Refusal::from_wire(old).expect("old rejection");
        assert_eq!((r.code.as_str(), r.arg_value("status"), r.class), ("reject.wrong_state", Some("status.issued"), Class::Invalid));
        // The inspection refusal: its own prefix, an object of arguments, problems with `message`.
        let old = r#"qingling-inspection-refusal:{"code":"inspection.signatures_required","args":{"need":2,"have":1},"problems":[{"item":"a","code":"answer.missing","message":"m"}]}"#;
        let r = Refusal::from_wire(old).expect("old inspection refusal");
        assert_eq!(r.arg_value("need"), Some("2"));
        assert_eq!(r.problems[0].detail, "m");
        let conflict = Refusal::from_wire(r#"qingling-inspection-refusal:{"code":"inspection.already_submitted","args":{}}"#).unwrap();
        assert_eq!(conflict.class, Class::Conflict);
        let forbidden = Refusal::from_wire(r#"qingling-inspection-refusal:{"code":"inspection.not_assigned"}"#).unwrap();
        assert_eq!(forbidden.class, Class::Forbidden);
    }

    #[test]
    fn each_class_has_its_status() {
        let table =
            [(Class::Invalid, 422), (Class::Conflict, 409), (Class::Forbidden, 403), (Class::TooLarge, 413), (Class::UnsupportedType, 415), (Class::Held, 503)];
        for (class, status) in table {
            assert_eq!(class.http_status(), status, "{class:?}");
        }
    }

    #[test]
    fn messages_translate_key_arguments_and_fields_are_named() {
        let r = Refusal::new("reject.too_long").arg("field", "field.handler").arg("max", "80");
        assert_eq!(r.field(), Some("handler"));
        let zh = r.message(Locale::ZhCn);
        assert!(!zh.contains("field.handler") && zh.contains("80"), "{zh}");
        assert_eq!(Refusal::new("x").field(), None);
    }
}
