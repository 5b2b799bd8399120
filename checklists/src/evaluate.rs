//! Evaluating a filled checklist against its template: a pure function that returns either every
//! problem with the answers or the findings and the scores.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::load::num;
use crate::model::{AnswerSpec, Basis, DeadlineClass, EvidenceKind, Failure, Hazard, Item, Section, Severity, Template, Text, YesNo};

/// A filled checklist as the console sends it (see "A filled checklist" in `FORMAT.md`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filled {
    pub template: String,
    pub version: u32,
    #[serde(default)]
    pub answers: BTreeMap<String, Answer>,
}

/// The answer to one item: a value (absent for photo items), an optional note and photos
/// (content hashes).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<String>,
}

impl Answer {
    fn note(&self) -> Option<&str> {
        self.note.as_deref().map(str::trim).filter(|n| !n.is_empty())
    }

    /// Whether anything at all was filled in.
    fn is_present(&self) -> bool {
        self.value.is_some() || !self.photos.is_empty() || self.note().is_some()
    }
}

/// Something wrong with a filled checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerProblem {
    /// The item id; empty for a problem with the whole checklist.
    pub item: String,
    /// A stable machine code, e.g. `answer.required` (see [`codes`]).
    pub code: &'static str,
    /// An English sentence with the values involved.
    pub message: String,
}

/// The codes an [`AnswerProblem`] can carry.
pub mod codes {
    /// The checklist names another template.
    pub const TEMPLATE_MISMATCH: &str = "template.mismatch";
    /// The checklist names another version of the template.
    pub const VERSION_MISMATCH: &str = "template.version_mismatch";
    /// A shown, required item has no answer.
    pub const REQUIRED: &str = "answer.required";
    /// The value has the wrong JSON type for the item (or a photo item was given a value).
    pub const WRONG_TYPE: &str = "answer.wrong_type";
    /// A number outside the item's `min..max`.
    pub const OUT_OF_BOUNDS: &str = "answer.out_of_bounds";
    /// A choice id (or yes_no word) the item does not offer.
    pub const UNKNOWN_CHOICE: &str = "answer.unknown_choice";
    /// "na" to a yes_no item without `allow_na`.
    pub const NA_NOT_ALLOWED: &str = "answer.na_not_allowed";
    /// An answer to an item its `show_if` hides.
    pub const HIDDEN_ITEM: &str = "answer.hidden_item";
    /// An answer to an item the template does not have.
    pub const UNKNOWN_ITEM: &str = "answer.unknown_item";
    /// A failed item without the photo or note its failure spec asks for.
    pub const EVIDENCE_REQUIRED: &str = "answer.evidence_required";
    /// More photos than a photo item's `max_photos`, or than any answer may carry.
    pub const TOO_MANY_PHOTOS: &str = "answer.too_many_photos";
    /// A text (a text answer or a note) longer than the limit.
    pub const TOO_LONG: &str = "answer.too_long";
    /// A control character (other than newline and tab) in a text.
    pub const CONTROL_CHAR: &str = "answer.control_char";
    /// A photo reference that is not a content hash (64 lowercase hex digits).
    pub const BAD_PHOTO: &str = "answer.bad_photo";
}

/// Bounds on what any answer may carry, whatever its item (the policy's `[input]` numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerLimits {
    /// A text answer, and a note.
    pub text_chars: usize,
    /// Photos attached to one answer.
    pub photos: usize,
}

/// At most this many problems are reported from [`check_bounds`]; the rest are counted away.
pub const MAX_REPORTED: usize = 100;

/// What every answer must satisfy before it is stored (a draft) or evaluated (a submission):
/// only items of the template; a value that is a string, a number or a boolean; texts within
/// `text_chars` characters and free of control characters other than newline and tab
/// (PostgreSQL refuses a NUL that SQLite stores); at most `photos` photos, each a content hash.
/// The item's own rules (types, choices, bounds) are [`evaluate`]'s. At most [`MAX_REPORTED`]
/// problems, in the order of the answers.
pub fn check_bounds(template: &Template, answers: &BTreeMap<String, Answer>, limits: AnswerLimits) -> Vec<AnswerProblem> {
    let mut problems = Vec::new();
    let text_problem = |id: &str, what: &str, text: &str| -> Option<AnswerProblem> {
        let n = text.chars().count();
        if n > limits.text_chars {
            return Some(problem(id, codes::TOO_LONG, format!("The {what} of item \"{id}\" has {n} characters; at most {} are allowed.", limits.text_chars)));
        }
        text.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
            .then(|| problem(id, codes::CONTROL_CHAR, format!("The {what} of item \"{id}\" contains a control character.")))
    };
    for (id, answer) in answers {
        if problems.len() >= MAX_REPORTED {
            break;
        }
        if template.item(id).is_none() {
            let shown: String = id.chars().take(80).filter(|c| !c.is_control()).collect();
            problems.push(problem(&shown, codes::UNKNOWN_ITEM, format!("Item \"{shown}\" is not in template {}@{}.", template.id, template.version)));
            continue;
        }
        match &answer.value {
            None | Some(Value::Bool(_) | Value::Number(_)) => {}
            Some(Value::String(s)) => problems.extend(text_problem(id, "answer", s)),
            Some(other) => {
                problems.push(problem(id, codes::WRONG_TYPE, format!("Item \"{id}\" takes a text, a number or a word, but the answer is {}.", describe(other))))
            }
        }
        if let Some(note) = &answer.note {
            problems.extend(text_problem(id, "note", note));
        }
        if answer.photos.len() > limits.photos {
            problems.push(problem(
                id,
                codes::TOO_MANY_PHOTOS,
                format!("Item \"{id}\" has {} photos attached; at most {} are allowed.", answer.photos.len(), limits.photos),
            ));
        } else if let Some(bad) = answer.photos.iter().find(|p| p.len() != 64 || !p.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))) {
            let shown: String = bad.chars().take(80).filter(|c| !c.is_control()).collect();
            problems.push(problem(id, codes::BAD_PHOTO, format!("Item \"{id}\" cites photo \"{shown}\", which is not a content hash.")));
        }
    }
    problems.truncate(MAX_REPORTED);
    problems
}

/// The outcome of a valid filled checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub template: String,
    pub version: u32,
    /// Failed items, in template order.
    pub findings: Vec<Finding>,
    /// One score per section, in template order.
    pub sections: Vec<SectionScore>,
    pub total: Total,
}

/// A failed item, with everything the rectification notice needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub item_id: String,
    pub section_id: String,
    /// The item's question.
    pub text: Text,
    pub severity: Severity,
    pub hazard: Hazard,
    pub basis: Basis,
    /// What the inspector attached.
    pub evidence: Evidence,
    pub deadline: DeadlineClass,
    pub notice: Text,
    pub measures: Option<Text>,
    /// The answer as written: `no`, `3.5`, a choice id.
    pub answer: String,
    /// The answer for people: 否/no, `3.5 ℃`, the choice's label.
    pub answer_text: Text,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub photos: Vec<String>,
    pub note: Option<String>,
}

/// The score of one section. Points are zero on sheets that are not rating sheets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionScore {
    pub id: String,
    /// The points the template gives the section (the sum over all its items).
    pub points_max: u32,
    /// The points of the items that apply: shown and not answered "na". A rating that prorates
    /// for items that do not apply (合理缺项) divides by this, not by `points_max`.
    pub points_possible: u32,
    pub points_awarded: u32,
    /// Shown items that were answered.
    pub answered: usize,
    /// Shown items (those hidden by `show_if` are not counted).
    pub total_items: usize,
}

/// The sums of the section scores.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Total {
    pub points_max: u32,
    pub points_possible: u32,
    pub points_awarded: u32,
    pub answered: usize,
    pub total_items: usize,
}

/// A valid answer, reduced to what the rules compare.
#[derive(Debug, Clone, PartialEq)]
enum Given {
    YesNo(&'static str),
    Number(f64),
    Choice(usize),
    Text(String),
    Photos,
}

/// Evaluates a filled checklist: every problem with it, or its findings and scores.
pub fn evaluate(template: &Template, filled: &Filled) -> Result<Evaluation, Vec<AnswerProblem>> {
    if filled.template != template.id {
        return Err(vec![problem(
            "",
            codes::TEMPLATE_MISMATCH,
            format!("The checklist is for template \"{}\", but it is being evaluated against \"{}\".", filled.template, template.id),
        )]);
    }
    if filled.version != template.version {
        return Err(vec![problem(
            "",
            codes::VERSION_MISMATCH,
            format!(
                "The checklist was filled in on version {} of template \"{}\", but it is being evaluated against version {}.",
                filled.version, template.id, template.version
            ),
        )]);
    }

    let mut problems = Vec::new();
    let mut findings = Vec::new();
    let mut sections = Vec::new();
    // Valid answers of shown items, for `show_if`.
    let mut given: BTreeMap<&str, Given> = BTreeMap::new();
    // Items whose answer was invalid, or whose visibility depends on one: nothing more is said
    // about them, since the first problem already explains it.
    let mut unsettled: BTreeSet<&str> = BTreeSet::new();
    let empty = Answer::default();

    for section in &template.sections {
        let mut score = SectionScore { id: section.id.clone(), points_max: 0, points_possible: 0, points_awarded: 0, answered: 0, total_items: 0 };
        for item in &section.items {
            score.points_max += item.max_points();
            let answer = filled.answers.get(&item.id).unwrap_or(&empty);
            let shown = match &item.show_if {
                None => true,
                Some(s) if unsettled.contains(s.item.as_str()) => {
                    unsettled.insert(&item.id);
                    continue;
                }
                Some(s) => given.get(s.item.as_str()).is_some_and(|g| show_if_matches(template, &s.item, g, &s.equals)),
            };
            if !shown {
                if answer.is_present() {
                    problems.push(problem(
                        &item.id,
                        codes::HIDDEN_ITEM,
                        format!("Item \"{}\" is hidden because {}, so it must not be answered.", item.id, hidden_because(item, &given)),
                    ));
                }
                continue;
            }
            score.total_items += 1;

            let value = match read_answer(item, answer) {
                Ok(value) => value,
                Err(p) => {
                    problems.push(p);
                    unsettled.insert(&item.id);
                    continue;
                }
            };
            let Some(value) = value else {
                if item.required {
                    problems.push(problem(&item.id, codes::REQUIRED, format!("Item \"{}\" is required but has no answer.", item.id)));
                }
                score.points_possible += item.max_points();
                continue;
            };
            score.answered += 1;

            if value != Given::YesNo("na") {
                score.points_possible += item.max_points();
                score.points_awarded += match (&item.answer, &value) {
                    // A choice's own points count even when it fails: a partial answer on a
                    // rating sheet can both earn some points and call for rectification.
                    (AnswerSpec::Choice { choices }, Given::Choice(i)) => item.choice_points(&choices[*i]),
                    _ if fails(item, &value) => 0,
                    _ => item.points.unwrap_or(0),
                };
            }

            if fails(item, &value)
                && let Some(failure) = &item.failure
            {
                let missing = missing_evidence(&failure.evidence, answer);
                if missing.is_empty() {
                    findings.push(finding(section, item, failure, &value, answer));
                } else {
                    problems.push(problem(
                        &item.id,
                        codes::EVIDENCE_REQUIRED,
                        format!(
                            "Item \"{}\" failed (answer: {}), so it needs {} as evidence, but none was attached.",
                            item.id,
                            shown_answer(item, &value),
                            missing.join(" and ")
                        ),
                    ));
                }
            }
            given.insert(&item.id, value);
        }
        sections.push(score);
    }

    for id in filled.answers.keys() {
        if template.item(id).is_none() {
            problems.push(problem(id, codes::UNKNOWN_ITEM, format!("Item \"{id}\" is not in template {}@{}.", template.id, template.version)));
        }
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    let total = sections.iter().fold(Total::default(), |t, s| Total {
        points_max: t.points_max + s.points_max,
        points_possible: t.points_possible + s.points_possible,
        points_awarded: t.points_awarded + s.points_awarded,
        answered: t.answered + s.answered,
        total_items: t.total_items + s.total_items,
    });
    Ok(Evaluation { template: template.id.clone(), version: template.version, findings, sections, total })
}

fn problem(item: &str, code: &'static str, message: String) -> AnswerProblem {
    AnswerProblem { item: item.to_string(), code, message }
}

/// Checks an answer's shape against its item: `Ok(None)` when it is not answered.
fn read_answer(item: &Item, answer: &Answer) -> Result<Option<Given>, AnswerProblem> {
    let id = &item.id;
    let wrong_type =
        |expected: &str, value: &Value| problem(id, codes::WRONG_TYPE, format!("Item \"{id}\" takes {expected}, but the answer is {}.", describe(value)));
    if let AnswerSpec::Photo { max_photos } = &item.answer {
        if let Some(value) = &answer.value {
            return Err(wrong_type("photos only, not a value", value));
        }
        let n = answer.photos.len();
        if n > *max_photos as usize {
            return Err(problem(id, codes::TOO_MANY_PHOTOS, format!("Item \"{id}\" takes at most {max_photos} photos, but {n} were attached.")));
        }
        return Ok((n > 0).then_some(Given::Photos));
    }
    let Some(value) = &answer.value else {
        return Ok(None);
    };
    let given = match &item.answer {
        AnswerSpec::YesNo { allow_na, .. } => {
            let Value::String(s) = value else {
                return Err(wrong_type("\"yes\", \"no\" or \"na\"", value));
            };
            match s.as_str() {
                "yes" => Given::YesNo("yes"),
                "no" => Given::YesNo("no"),
                "na" if *allow_na => Given::YesNo("na"),
                "na" => {
                    return Err(problem(
                        id,
                        codes::NA_NOT_ALLOWED,
                        format!("Item \"{id}\" cannot be answered \"na\" (not applicable); answer \"yes\" or \"no\"."),
                    ));
                }
                other => {
                    let expected = if *allow_na { "\"yes\", \"no\" or \"na\"" } else { "\"yes\" or \"no\"" };
                    return Err(problem(id, codes::UNKNOWN_CHOICE, format!("Item \"{id}\" takes {expected}, but the answer is \"{other}\".")));
                }
            }
        }
        AnswerSpec::Number { min, max, unit, .. } => {
            let Some(n) = value.as_f64() else {
                return Err(wrong_type("a number", value));
            };
            if n < *min || n > *max {
                let unit = unit.as_ref().map(|u| format!(" {}", u.en)).unwrap_or_default();
                return Err(problem(
                    id,
                    codes::OUT_OF_BOUNDS,
                    format!("Item \"{id}\" takes a number from {} to {}{unit}, but the answer is {}.", num(*min), num(*max), num(n)),
                ));
            }
            Given::Number(n)
        }
        AnswerSpec::Choice { choices } => {
            let Value::String(s) = value else {
                return Err(wrong_type("a choice id", value));
            };
            match choices.iter().position(|c| c.id == *s) {
                Some(i) => Given::Choice(i),
                None => {
                    let ids: Vec<_> = choices.iter().map(|c| format!("\"{}\"", c.id)).collect();
                    return Err(problem(id, codes::UNKNOWN_CHOICE, format!("Item \"{id}\" has no choice \"{s}\"; expected one of {}.", ids.join(", "))));
                }
            }
        }
        AnswerSpec::Text => {
            let Value::String(s) = value else {
                return Err(wrong_type("a text", value));
            };
            if s.trim().is_empty() {
                return Ok(None);
            }
            Given::Text(s.trim().to_string())
        }
        AnswerSpec::Photo { .. } => unreachable!("photo items are handled above"),
    };
    Ok(Some(given))
}

fn fails(item: &Item, value: &Given) -> bool {
    match (&item.answer, value) {
        (AnswerSpec::YesNo { pass, .. }, Given::YesNo(v)) => *v != "na" && *v != pass.as_str(),
        (AnswerSpec::Number { pass_min, pass_max, .. }, Given::Number(n)) => pass_min.is_some_and(|lo| *n < lo) || pass_max.is_some_and(|hi| *n > hi),
        (AnswerSpec::Choice { choices }, Given::Choice(i)) => choices[*i].fails,
        _ => false,
    }
}

fn show_if_matches(template: &Template, target: &str, given: &Given, equals: &str) -> bool {
    match given {
        Given::YesNo(v) => *v == equals,
        Given::Number(n) => equals.trim().parse::<f64>().is_ok_and(|e| e == *n),
        Given::Choice(i) => match template.item(target).map(|t| &t.answer) {
            Some(AnswerSpec::Choice { choices }) => choices[*i].id == equals,
            _ => false,
        },
        Given::Text(t) => t == equals.trim(),
        Given::Photos => false,
    }
}

fn hidden_because(item: &Item, given: &BTreeMap<&str, Given>) -> String {
    let Some(s) = &item.show_if else {
        return String::new();
    };
    if given.contains_key(s.item.as_str()) {
        format!("item \"{}\" is not \"{}\"", s.item, s.equals)
    } else {
        format!("item \"{}\" is not answered (it is shown only if that is \"{}\")", s.item, s.equals)
    }
}

fn missing_evidence(required: &[EvidenceKind], answer: &Answer) -> Vec<&'static str> {
    required
        .iter()
        .filter(|kind| match kind {
            EvidenceKind::Photo => answer.photos.is_empty(),
            EvidenceKind::Note => answer.note().is_none(),
        })
        .map(|kind| match kind {
            EvidenceKind::Photo => "a photo",
            EvidenceKind::Note => "a note",
        })
        .collect()
}

fn shown_answer(item: &Item, value: &Given) -> String {
    match (value, &item.answer) {
        (Given::YesNo(v), _) => (*v).to_string(),
        (Given::Number(n), _) => num(*n),
        (Given::Choice(i), AnswerSpec::Choice { choices }) => choices[*i].id.clone(),
        (Given::Text(t), _) => t.clone(),
        _ => String::new(),
    }
}

fn answer_text(item: &Item, value: &Given) -> Text {
    match (value, &item.answer) {
        (Given::YesNo("yes"), _) => Text::new("是", YesNo::Yes.as_str()),
        (Given::YesNo("no"), _) => Text::new("否", YesNo::No.as_str()),
        (Given::YesNo(_), _) => Text::new("不适用", "not applicable"),
        (Given::Number(n), AnswerSpec::Number { unit: Some(unit), .. }) => Text::new(format!("{}{}", num(*n), unit.zh), format!("{} {}", num(*n), unit.en)),
        (Given::Choice(i), AnswerSpec::Choice { choices }) => choices[*i].label.clone(),
        _ => {
            let s = shown_answer(item, value);
            Text::new(s.clone(), s)
        }
    }
}

fn finding(section: &Section, item: &Item, failure: &Failure, value: &Given, answer: &Answer) -> Finding {
    Finding {
        item_id: item.id.clone(),
        section_id: section.id.clone(),
        text: item.text.clone(),
        severity: failure.severity,
        hazard: failure.hazard,
        basis: failure.basis.clone(),
        evidence: Evidence { photos: answer.photos.clone(), note: answer.note().map(str::to_string) },
        deadline: failure.deadline,
        notice: failure.notice.clone(),
        measures: failure.measures.clone(),
        answer: shown_answer(item, value),
        answer_text: answer_text(item, value),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("{b} (a boolean)"),
        Value::Number(n) => format!("{n} (a number)"),
        Value::String(s) => format!("\"{s}\" (a text)"),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}
