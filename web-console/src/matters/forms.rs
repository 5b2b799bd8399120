//! Input parsed at the edge: an issue request (from JSON or a form) becomes an [`IssueRequest`]
//! whose fields are known to be valid, and an action form becomes a rules [`Action`]. Errors name
//! the field.

use crate::error::Error;
use crate::http::{FormFields, field};
use chrono::NaiveDate;
use qingling_rules::input::{InputLimits, TextProblem, check_text};
use qingling_rules::matter::{Action, DeadlineKind, MatterKind, Milestone, Severity};
use serde::Deserialize;

/// A valid request to issue a matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRequest {
    pub facility_id: i64,
    pub kind: MatterKind,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub basis: String,
}

/// The issue request as it arrives, before it is checked. Kind and severity stay text so that
/// an unknown value gets a field error rather than a parser message.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IssueInput {
    #[serde(default)]
    pub facility_id: Option<i64>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub basis: Option<String>,
}

/// The issue form of the console (all fields are text in a form).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct IssueFormFields {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub facility_id: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub basis: String,
    /// Rendered into the form, so that sending it twice issues one matter.
    #[serde(default)]
    pub idempotency_key: String,
}

impl IssueFormFields {
    pub fn input(&self) -> Result<IssueInput, Error> {
        let facility_id = match self.facility_id.trim() {
            "" => None,
            s => Some(s.parse().map_err(|_| Error::Field { field: "facility_id", code: "unknown_choice" })?),
        };
        let some = |s: &str| Some(lf(s));
        Ok(IssueInput {
            facility_id,
            kind: some(&self.kind),
            severity: some(&self.severity),
            title: some(&self.title),
            description: some(&self.description),
            basis: some(&self.basis),
        })
    }
}

fn choice<T>(value: Option<&str>, field: &'static str, parse: fn(&str) -> Option<T>) -> Result<T, Error> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => Err(Error::Field { field, code: "required" }),
        Some(s) => parse(s).ok_or(Error::Field { field, code: "unknown_choice" }),
    }
}

/// A text field: trimmed, required or not, and within the policy's limit and free of control
/// characters by the rules' one check (`check_text`), which the workflows run again.
fn text(value: Option<&str>, field: &'static str, required: bool, max: usize, single_line: bool) -> Result<String, Error> {
    let v = value.unwrap_or_default().trim();
    if required && v.is_empty() {
        return Err(Error::Field { field, code: "required" });
    }
    match check_text(v, max, single_line) {
        Ok(()) => Ok(v.to_string()),
        Err(TextProblem::TooLong { .. }) => Err(Error::Field { field, code: "too_long" }),
        Err(TextProblem::Control) => Err(Error::Field { field, code: "control_chars" }),
    }
}

impl IssueRequest {
    /// Checks every field, in the order of the form.
    pub fn parse(input: &IssueInput, limits: &InputLimits) -> Result<Self, Error> {
        let facility_id = input.facility_id.ok_or(Error::Field { field: "facility_id", code: "required" })?;
        let kind = choice(input.kind.as_deref(), "kind", MatterKind::parse)?;
        let severity = choice(input.severity.as_deref(), "severity", Severity::parse)?;
        let title = text(input.title.as_deref(), "title", true, limits.title_chars, true)?;
        let description = text(input.description.as_deref(), "description", false, limits.text_chars, false)?;
        let basis = text(input.basis.as_deref(), "basis", false, limits.basis_chars, false)?;
        Ok(IssueRequest { facility_id, kind, severity, title, description, basis })
    }
}

fn all<'a>(fields: &'a FormFields, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    fields.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn flag(fields: &FormFields, name: &str) -> Result<bool, Error> {
    match field(fields, name) {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(Error::BadRequest(format!("{name} must be true or false, not {other:?}"))),
    }
}

/// The plan rows of a feedback form: `plan_date` and `plan_what` pairs; blank rows are skipped.
fn plan(fields: &FormFields) -> Result<Vec<Milestone>, Error> {
    let dates: Vec<&str> = all(fields, "plan_date").collect();
    let whats: Vec<&str> = all(fields, "plan_what").collect();
    let mut out = vec![];
    for i in 0..dates.len().max(whats.len()) {
        let (date, what) = (dates.get(i).copied().unwrap_or_default().trim(), whats.get(i).copied().unwrap_or_default().trim());
        if date.is_empty() && what.is_empty() {
            continue;
        }
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| Error::Field { field: "plan", code: "invalid_date" })?;
        out.push(Milestone { date, what: lf(what) });
    }
    Ok(out)
}

/// A browser sends a textarea's line breaks as CR LF; the rules allow only LF.
fn lf(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// The period a form names: a whole number (`extend_n`) and a unit from the list (`extend_unit`),
/// as people pick them; the policy code (`7d`) is built here. A client that sends the code itself
/// (`extend_by`) still may. `None` when no number is given.
fn period(fields: &FormFields) -> Result<Option<String>, Error> {
    let n = field(fields, "extend_n").trim();
    if n.is_empty() {
        return Ok(Some(field(fields, "extend_by").trim().to_string()).filter(|c| !c.is_empty()));
    }
    let n: u32 = n.parse().ok().filter(|n| (1..=999).contains(n)).ok_or(Error::Field { field: "extend_by", code: "period" })?;
    match field(fields, "extend_unit") {
        unit @ ("d" | "wd" | "mo") => Ok(Some(format!("{n}{unit}"))),
        _ => Err(Error::Field { field: "extend_by", code: "unknown_choice" }),
    }
}

/// Builds the rules action a console form describes. The state machine checks the content
/// (empty texts, dates in order); this only shapes it.
pub fn action_from_form(fields: &FormFields) -> Result<Action, Error> {
    let text = |name: &str| lf(field(fields, name));
    match field(fields, "action") {
        "acknowledge" => Ok(Action::Acknowledge { handler: text("handler") }),
        "feedback" => Ok(Action::Feedback { text: text("text"), plan: plan(fields)? }),
        "request_extension" => {
            let deadline = DeadlineKind::parse(field(fields, "deadline")).ok_or(Error::Field { field: "deadline", code: "unknown_choice" })?;
            let extend_by = period(fields)?.ok_or(Error::Field { field: "extend_by", code: "period" })?;
            Ok(Action::RequestExtension { deadline, extend_by, reason: text("reason") })
        }
        "decide_extension" => Ok(Action::DecideExtension { approve: flag(fields, "approve")?, extend_by: period(fields)?, reason: text("reason") }),
        "recheck" => Ok(Action::Recheck { passed: flag(fields, "passed")?, note: text("note") }),
        "withdraw" => Ok(Action::Withdraw { reason: text("reason") }),
        "confirm_measures" => Ok(Action::ConfirmMeasures { note: text("note") }),
        other => Err(Error::BadRequest(format!("unknown action {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: &str, title: &str) -> IssueInput {
        IssueInput { facility_id: Some(1), kind: Some(kind.into()), severity: Some("major".into()), title: Some(title.into()), ..Default::default() }
    }

    #[test]
    fn a_good_issue_request_parses_and_is_trimmed() {
        let limits = qingling_rules::Policy::builtin().input;
        let r = IssueRequest::parse(&input("fire_safety", "  消防通道堵塞 "), &limits).unwrap();
        assert_eq!((r.kind, r.severity, r.title.as_str()), (MatterKind::FireSafety, Severity::Major, "消防通道堵塞"));
    }

    #[test]
    fn bad_issue_requests_name_the_field() {
        let limits = qingling_rules::Policy::builtin().input;
        let code = |i: &IssueInput| match IssueRequest::parse(i, &limits) {
            Err(Error::Field { field, code }) => (field, code),
            other => panic!("{other:?}"),
        };
        assert_eq!(code(&input("rectification", "  ")), ("title", "required"));
        assert_eq!(code(&input("inspection", "x")), ("kind", "unknown_choice"));
        assert_eq!(code(&input("rectification", &"长".repeat(201))), ("title", "too_long"));
        assert_eq!(code(&input("rectification", "灭火器\0过期")), ("title", "control_chars"), "PostgreSQL refuses a NUL");
        assert_eq!(code(&input("rectification", "灭火器\n过期")), ("title", "control_chars"), "a title is one line");
        assert_eq!(code(&IssueInput { description: Some("a\u{7}".into()), ..input("rectification", "x") }), ("description", "control_chars"));
        assert_eq!(code(&IssueInput { facility_id: None, ..input("rectification", "x") }), ("facility_id", "required"));
        assert_eq!(code(&IssueInput { severity: None, ..input("rectification", "x") }), ("severity", "required"));
    }

    fn form(pairs: &[(&str, &str)]) -> FormFields {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_browsers_line_breaks_reach_the_rules_as_newlines() {
        let a = action_from_form(&form(&[("action", "feedback"), ("text", "第一行\r\n第二行")])).unwrap();
        assert_eq!(a, Action::Feedback { text: "第一行\n第二行".into(), plan: vec![] });
        let issue = IssueFormFields {
            facility_id: "1".into(),
            kind: "complaint".into(),
            severity: "ordinary".into(),
            title: "t".into(),
            description: "a\r\nb".into(),
            ..Default::default()
        };
        let r = IssueRequest::parse(&issue.input().unwrap(), &qingling_rules::Policy::builtin().input).unwrap();
        assert_eq!(r.description, "a\nb");
    }

    #[test]
    fn a_feedback_form_becomes_an_action_with_its_plan_rows() {
        let a = action_from_form(&form(&[
            ("csrf", "x"),
            ("action", "feedback"),
            ("text", "已采购"),
            ("plan_date", "2026-12-01"),
            ("plan_what", "采购"),
            ("plan_date", ""),
            ("plan_what", ""),
            ("plan_date", "2026-12-10"),
            ("plan_what", "安装"),
        ]))
        .unwrap();
        let Action::Feedback { text, plan } = a else { panic!("{a:?}") };
        assert_eq!(text, "已采购");
        assert_eq!(plan.iter().map(|m| m.what.as_str()).collect::<Vec<_>>(), ["采购", "安装"]);
        assert!(matches!(
            action_from_form(&form(&[("action", "feedback"), ("plan_date", "12/01"), ("plan_what", "x")])),
            Err(Error::Field { field: "plan", .. })
        ));
    }

    #[test]
    fn decisions_and_rechecks_read_their_buttons() {
        let a = action_from_form(&form(&[("action", "recheck"), ("passed", "false"), ("note", "未整改")])).unwrap();
        assert_eq!(a, Action::Recheck { passed: false, note: "未整改".into() });
        let a =
            action_from_form(&form(&[("action", "request_extension"), ("deadline", "rectify"), ("extend_n", "10"), ("extend_unit", "wd"), ("reason", "r")]))
                .unwrap();
        assert!(matches!(a, Action::RequestExtension { ref extend_by, .. } if extend_by == "10wd"), "{a:?}");
        for (n, unit, code) in [
            ("0", "d", "period"),
            ("1000", "d", "period"),
            ("2.5", "d", "period"),
            ("-1", "d", "period"),
            ("3", "s", "unknown_choice"),
            ("3", "", "unknown_choice"),
        ] {
            let e = action_from_form(&form(&[("action", "request_extension"), ("deadline", "rectify"), ("extend_n", n), ("extend_unit", unit)])).unwrap_err();
            assert!(matches!(e, Error::Field { field: "extend_by", code: c } if c == code), "{n} {unit}: {e:?}");
        }
        assert!(matches!(
            action_from_form(&form(&[("action", "request_extension"), ("deadline", "rectify")])),
            Err(Error::Field { field: "extend_by", code: "period" })
        ));
        let a = action_from_form(&form(&[("action", "decide_extension"), ("approve", "true"), ("extend_n", "2"), ("extend_unit", "mo")])).unwrap();
        assert!(matches!(a, Action::DecideExtension { extend_by: Some(ref b), .. } if b == "2mo"), "{a:?}");
        let a = action_from_form(&form(&[("action", "decide_extension"), ("approve", "true"), ("extend_by", ""), ("reason", "")])).unwrap();
        assert_eq!(a, Action::DecideExtension { approve: true, extend_by: None, reason: String::new() });
        assert!(matches!(action_from_form(&form(&[("action", "fly")])), Err(Error::BadRequest(_))));
    }
}
