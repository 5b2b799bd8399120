//! Evaluating filled checklists: which answers are refused, which fail, what the scores are, and
//! how findings are grouped into notices.

use qingling_checklists::{DeadlineClass, Evaluation, Filled, Hazard, Severity, Template, evaluate, group_notices, load_str};
use serde_json::{Value, json};

const SAFETY: &str = r#"[template]
id = "safety"
version = 3
kind = "service_safety"
title = { zh = "服务安全检查表", en = "Service safety checklist" }
basis = "GB 38600-2019"

[[section]]
id = "fire"
title = { zh = "消防", en = "Fire" }

[[section.item]]
id = "fire.cert"
text = { zh = "取得消防验收", en = "Fire acceptance obtained" }
answer = "yes_no"

[section.item.failure]
severity = "major_hazard"
hazard = "fire"
basis = { standard = "GB 38600-2019", clause = "5.1.1" }
evidence = ["photo"]
deadline = "major"
notice = { zh = "未取得消防验收", en = "No fire acceptance" }
measures = { zh = "立即停用", en = "Stop using the building at once" }

[[section.item]]
id = "fire.extinguishers"
text = { zh = "灭火器数量", en = "Extinguishers per floor" }
answer = "number"
min = 0
max = 50
unit = { zh = "具", en = "units" }
pass_min = 2

[section.item.failure]
severity = "ordinary"
hazard = "fire"
basis = { standard = "GB 38600-2019", clause = "5.1.3" }
evidence = ["note"]
deadline = "ordinary"
notice = { zh = "配齐灭火器", en = "Provide extinguishers" }

[[section.item]]
id = "fire.kitchen"
text = { zh = "厨房", en = "Kitchen" }
answer = "choice"

[[section.item.choice]]
id = "none"
label = { zh = "无", en = "None" }

[[section.item.choice]]
id = "own"
label = { zh = "自营", en = "Own" }

[[section]]
id = "care"
title = { zh = "照护", en = "Care" }

[[section.item]]
id = "care.gas-alarm"
text = { zh = "燃气报警器", en = "Gas alarm" }
answer = "yes_no"
show_if = { item = "fire.kitchen", equals = "own" }

[section.item.failure]
severity = "ordinary"
hazard = "food_drug"
basis = { standard = "GB 38600-2019", clause = "6.2" }
evidence = ["photo", "note"]
deadline = "immediate"
notice = { zh = "安装燃气报警器", en = "Install a gas alarm" }

[[section.item]]
id = "care.bed-rails"
text = { zh = "床护栏", en = "Bed rails" }
answer = "choice"

[[section.item.choice]]
id = "all"
label = { zh = "全部安装", en = "On every bed" }

[[section.item.choice]]
id = "some"
label = { zh = "部分安装", en = "On some beds" }
fails = true

[section.item.failure]
severity = "minor"
hazard = "care_risk"
basis = { standard = "GB 38600-2019", clause = "7.1" }
evidence = []
deadline = "immediate"
notice = { zh = "补装床护栏", en = "Fit the missing bed rails" }

[[section.item]]
id = "care.drill"
text = { zh = "消防演练", en = "Fire drill held" }
answer = "yes_no"
allow_na = true
required = false

[section.item.failure]
severity = "minor"
hazard = "management"
basis = { standard = "GB 38600-2019", clause = "9" }
evidence = []
deadline = "ordinary"
notice = { zh = "组织演练", en = "Hold a drill" }

[[section.item]]
id = "care.remarks"
text = { zh = "备注", en = "Remarks" }
answer = "text"
required = false

[[section.item]]
id = "care.photos"
text = { zh = "现场照片", en = "Site photos" }
answer = "photo"
required = false
max_photos = 2
"#;

const RATING: &str = r#"[template]
id = "rating"
version = 1
kind = "rating"
title = { zh = "等级评定", en = "Rating" }
basis = "GB/T 37276-2018"
total_points = 40

[[section]]
id = "a"
title = { zh = "甲", en = "A" }
points = 25

[[section.item]]
id = "a.yes"
text = { zh = "问", en = "Q" }
answer = "yes_no"
points = 10

[section.item.failure]
severity = "minor"
hazard = "management"
basis = { standard = "GB/T 37276-2018", clause = "6" }
evidence = []
deadline = "ordinary"
notice = { zh = "改", en = "Fix" }

[[section.item]]
id = "a.level"
text = { zh = "级别", en = "Level" }
answer = "choice"
points = 15

[[section.item.choice]]
id = "good"
label = { zh = "好", en = "Good" }

[[section.item.choice]]
id = "fair"
label = { zh = "中", en = "Fair" }
points = 8

[[section.item.choice]]
id = "bad"
label = { zh = "差", en = "Bad" }
fails = true

[section.item.failure]
severity = "ordinary"
hazard = "management"
basis = { standard = "GB/T 37276-2018", clause = "7" }
evidence = []
deadline = "ordinary"
notice = { zh = "改进", en = "Improve" }

[[section]]
id = "b"
title = { zh = "乙", en = "B" }
points = 15

[[section.item]]
id = "b.na"
text = { zh = "问", en = "Q" }
answer = "yes_no"
allow_na = true
points = 10

[section.item.failure]
severity = "minor"
hazard = "other"
basis = { standard = "GB/T 37276-2018", clause = "8" }
evidence = []
deadline = "ordinary"
notice = { zh = "改", en = "Fix" }

[[section.item]]
id = "b.temp"
text = { zh = "温度", en = "Temperature" }
answer = "number"
min = 0
max = 40
pass_min = 18
pass_max = 26
points = 5

[section.item.failure]
severity = "minor"
hazard = "care_risk"
basis = { standard = "GB/T 37276-2018", clause = "9" }
evidence = []
deadline = "ordinary"
notice = { zh = "调温", en = "Adjust the temperature" }
"#;

fn safety() -> Template {
    load_str("safety@3.toml", SAFETY).expect("the safety fixture is valid")
}

fn rating() -> Template {
    load_str("rating@1.toml", RATING).expect("the rating fixture is valid")
}

/// A filled checklist from the JSON shape of `FORMAT.md`.
fn filled(template: &Template, answers: Value) -> Filled {
    serde_json::from_value(json!({
        "template": template.id, "version": template.version, "answers": answers
    }))
    .expect("a filled checklist")
}

/// Answers that pass every item of the safety sheet.
fn passing() -> Value {
    json!({
        "fire.cert": { "value": "yes" },
        "fire.extinguishers": { "value": 4 },
        "fire.kitchen": { "value": "none" },
        "care.bed-rails": { "value": "all" },
    })
}

fn with(mut base: Value, item: &str, answer: Value) -> Value {
    base[item] = answer;
    base
}

fn without(mut base: Value, item: &str) -> Value {
    base.as_object_mut().unwrap().remove(item);
    base
}

fn ok(template: &Template, answers: Value) -> Evaluation {
    match evaluate(template, &filled(template, answers)) {
        Ok(e) => e,
        Err(problems) => panic!("the answers should be valid: {problems:#?}"),
    }
}

/// The (item, code) of every problem, and the messages for a closer look.
fn refused(template: &Template, answers: Value) -> (Vec<(String, &'static str)>, Vec<String>) {
    match evaluate(template, &filled(template, answers)) {
        Ok(e) => panic!("the answers should be refused, but gave {e:#?}"),
        Err(problems) => (problems.iter().map(|p| (p.item.clone(), p.code)).collect(), problems.into_iter().map(|p| p.message).collect()),
    }
}

fn failed_items(e: &Evaluation) -> Vec<&str> {
    e.findings.iter().map(|f| f.item_id.as_str()).collect()
}

#[test]
fn passing_answers_give_no_findings() {
    let e = ok(&safety(), passing());
    assert!(e.findings.is_empty());
    assert_eq!((e.template.as_str(), e.version), ("safety", 3));
    assert_eq!(e.total.answered, 4);
    // care.gas-alarm is hidden (no own kitchen), so it is not counted.
    assert_eq!(e.total.total_items, 7);
    assert_eq!(e.sections[0].total_items, 3);
    assert_eq!(e.sections[1].total_items, 4);
}

#[test]
fn a_failed_yes_no_item_becomes_a_finding_with_its_failure_spec() {
    let answers = with(passing(), "fire.cert", json!({ "value": "no", "photos": ["abc123"], "note": " 无验收 " }));
    let e = ok(&safety(), answers);
    assert_eq!(failed_items(&e), ["fire.cert"]);
    let f = &e.findings[0];
    assert_eq!(f.section_id, "fire");
    assert_eq!(f.text.en, "Fire acceptance obtained");
    assert_eq!((f.severity, f.hazard, f.deadline), (Severity::MajorHazard, Hazard::Fire, DeadlineClass::Major));
    assert_eq!(f.basis.clause, "5.1.1");
    assert_eq!(f.evidence.photos, ["abc123"]);
    assert_eq!(f.evidence.note.as_deref(), Some("无验收"));
    assert_eq!(f.notice.zh, "未取得消防验收");
    assert_eq!(f.measures.as_ref().unwrap().en, "Stop using the building at once");
    assert_eq!(f.answer, "no");
    assert_eq!((f.answer_text.zh.as_str(), f.answer_text.en.as_str()), ("否", "no"));
}

#[test]
fn number_answers_fail_outside_the_pass_bounds_and_are_refused_outside_min_and_max() {
    let t = safety();
    let cases = [
        (json!(2), None),
        (json!(0), Some("fails")),
        (json!(1.5), Some("fails")),
        (json!(50), None),
        (json!(51), Some(qingling_checklists::evaluate::codes::OUT_OF_BOUNDS)),
        (json!(-1), Some("answer.out_of_bounds")),
        (json!("4"), Some("answer.wrong_type")),
    ];
    for (value, outcome) in cases {
        let answers = with(passing(), "fire.extinguishers", json!({ "value": value, "note": "二楼缺" }));
        match (evaluate(&t, &filled(&t, answers)), outcome) {
            (Ok(e), None) => assert!(e.findings.is_empty(), "{value}"),
            (Ok(e), Some("fails")) => {
                assert_eq!(failed_items(&e), ["fire.extinguishers"], "{value}");
                assert_eq!(e.findings[0].answer_text.en, format!("{value} units"));
                assert_eq!(e.findings[0].answer_text.zh, format!("{value}具"));
            }
            (Err(p), Some(code)) => assert_eq!(p[0].code, code, "{value}: {p:?}"),
            (got, want) => panic!("{value}: expected {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn an_out_of_bounds_number_is_explained_with_the_numbers() {
    let (problems, messages) = refused(&safety(), with(passing(), "fire.extinguishers", json!({ "value": 51 })));
    assert_eq!(problems, [("fire.extinguishers".to_string(), "answer.out_of_bounds")]);
    assert_eq!(messages[0], "Item \"fire.extinguishers\" takes a number from 0 to 50 units, but the answer is 51.");
}

#[test]
fn a_failing_choice_becomes_a_finding_and_an_unknown_choice_is_refused() {
    let e = ok(&safety(), with(passing(), "care.bed-rails", json!({ "value": "some" })));
    assert_eq!(failed_items(&e), ["care.bed-rails"]);
    assert_eq!(e.findings[0].answer, "some");
    assert_eq!(e.findings[0].answer_text.en, "On some beds");
    assert_eq!(e.findings[0].severity, Severity::Minor);

    let (problems, messages) = refused(&safety(), with(passing(), "care.bed-rails", json!({ "value": "none" })));
    assert_eq!(problems, [("care.bed-rails".to_string(), "answer.unknown_choice")]);
    assert_eq!(messages[0], "Item \"care.bed-rails\" has no choice \"none\"; expected one of \"all\", \"some\".");
}

#[test]
fn show_if_hides_an_item_which_then_is_neither_required_nor_answerable() {
    let t = safety();
    // Without an own kitchen the gas alarm is hidden: not required …
    let e = ok(&t, passing());
    assert!(failed_items(&e).is_empty());
    // … and an answer to it is refused.
    let (problems, messages) = refused(&t, with(passing(), "care.gas-alarm", json!({ "value": "yes" })));
    assert_eq!(problems, [("care.gas-alarm".to_string(), "answer.hidden_item")]);
    assert_eq!(messages[0], "Item \"care.gas-alarm\" is hidden because item \"fire.kitchen\" is not \"own\", so it must not be answered.");
    // An empty answer to a hidden item is no answer at all.
    ok(&t, with(passing(), "care.gas-alarm", json!({ "value": null })));

    // With an own kitchen it is shown and required …
    let own = with(passing(), "fire.kitchen", json!({ "value": "own" }));
    let (problems, _) = refused(&t, own.clone());
    assert_eq!(problems, [("care.gas-alarm".to_string(), "answer.required")]);
    // … and can fail.
    let e = ok(&t, with(own, "care.gas-alarm", json!({ "value": "no", "photos": ["p"], "note": "无" })));
    assert_eq!(failed_items(&e), ["care.gas-alarm"]);
    assert_eq!(e.sections[1].total_items, 5);
}

#[test]
fn an_unanswered_condition_hides_the_item() {
    let answers = without(passing(), "fire.kitchen");
    let (problems, _) = refused(&safety(), with(answers, "care.gas-alarm", json!({ "value": "yes" })));
    assert_eq!(problems, [("fire.kitchen".to_string(), "answer.required"), ("care.gas-alarm".to_string(), "answer.hidden_item")]);
}

#[test]
fn every_missing_required_answer_is_reported_at_once() {
    let (problems, messages) = refused(&safety(), json!({}));
    assert_eq!(
        problems,
        [
            ("fire.cert".to_string(), "answer.required"),
            ("fire.extinguishers".to_string(), "answer.required"),
            ("fire.kitchen".to_string(), "answer.required"),
            ("care.bed-rails".to_string(), "answer.required"),
        ]
    );
    assert_eq!(messages[0], "Item \"fire.cert\" is required but has no answer.");
}

#[test]
fn optional_items_may_be_left_out_and_a_blank_text_is_no_answer() {
    let e = ok(&safety(), with(passing(), "care.remarks", json!({ "value": "   " })));
    assert_eq!(e.total.answered, 4);
    let e = ok(&safety(), with(passing(), "care.remarks", json!({ "value": "整洁" })));
    assert_eq!(e.total.answered, 5);
}

#[test]
fn a_failed_item_needs_the_evidence_its_failure_spec_asks_for() {
    let t = safety();
    let (problems, messages) = refused(&t, with(passing(), "fire.cert", json!({ "value": "no", "note": "见附件" })));
    assert_eq!(problems, [("fire.cert".to_string(), "answer.evidence_required")]);
    assert_eq!(messages[0], "Item \"fire.cert\" failed (answer: no), so it needs a photo as evidence, but none was attached.");
    let own = with(passing(), "fire.kitchen", json!({ "value": "own" }));
    let (problems, messages) = refused(&t, with(own, "care.gas-alarm", json!({ "value": "no", "note": "  " })));
    assert_eq!(problems, [("care.gas-alarm".to_string(), "answer.evidence_required")]);
    assert!(messages[0].contains("needs a photo and a note as evidence"), "{}", messages[0]);
    // A passing item needs no evidence, and a failure without required evidence needs none.
    ok(&t, with(passing(), "care.bed-rails", json!({ "value": "some" })));
}

#[test]
fn wrong_types_unknown_items_and_na_are_refused() {
    let answers = with(passing(), "fire.cert", json!({ "value": true }));
    let answers = with(answers, "care.drill", json!({ "value": "maybe" }));
    let answers = with(answers, "care.photos", json!({ "value": "x", "photos": ["a"] }));
    let answers = with(answers, "care.nothing", json!({ "value": "yes" }));
    let (problems, messages) = refused(&safety(), answers);
    assert_eq!(
        problems,
        [
            ("fire.cert".to_string(), "answer.wrong_type"),
            ("care.drill".to_string(), "answer.unknown_choice"),
            ("care.photos".to_string(), "answer.wrong_type"),
            ("care.nothing".to_string(), "answer.unknown_item"),
        ]
    );
    assert_eq!(messages[0], "Item \"fire.cert\" takes \"yes\", \"no\" or \"na\", but the answer is true (a boolean).");
    assert_eq!(messages[3], "Item \"care.nothing\" is not in template safety@3.");

    let (problems, _) = refused(&safety(), with(passing(), "fire.cert", json!({ "value": "na", "photos": ["p"] })));
    assert_eq!(problems, [("fire.cert".to_string(), "answer.na_not_allowed")]);
    let e = ok(&safety(), with(passing(), "care.drill", json!({ "value": "na" })));
    assert!(e.findings.is_empty());
}

#[test]
fn a_photo_item_takes_at_most_max_photos() {
    let (problems, messages) = refused(&safety(), with(passing(), "care.photos", json!({ "photos": ["a", "b", "c"] })));
    assert_eq!(problems, [("care.photos".to_string(), "answer.too_many_photos")]);
    assert_eq!(messages[0], "Item \"care.photos\" takes at most 2 photos, but 3 were attached.");
    let e = ok(&safety(), with(passing(), "care.photos", json!({ "photos": ["a", "b"] })));
    assert_eq!(e.total.answered, 5);
}

#[test]
fn a_checklist_for_another_template_or_version_is_refused() {
    let t = safety();
    let mut f = filled(&t, passing());
    f.version = 2;
    let problems = evaluate(&t, &f).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].code, "template.version_mismatch");
    assert_eq!(problems[0].message, "The checklist was filled in on version 2 of template \"safety\", but it is being evaluated against version 3.");
    f.version = 3;
    f.template = "other".into();
    assert_eq!(evaluate(&t, &f).unwrap_err()[0].code, "template.mismatch");
}

#[test]
fn rating_scores_add_up_per_section_and_in_total() {
    let t = rating();
    let cases = [
        // (a.yes, a.level, b.na, b.temp) → (a awarded, b awarded, b possible)
        (json!(["yes", "good", "yes", 20]), (25, 15, 15)),
        (json!(["no", "good", "yes", 20]), (15, 15, 15)),
        (json!(["yes", "fair", "yes", 30]), (18, 10, 15)),
        (json!(["yes", "bad", "no", 18]), (10, 5, 15)),
        // "na" takes the item out of the points that apply.
        (json!(["yes", "good", "na", 26]), (25, 5, 5)),
    ];
    for (values, (a, b, b_possible)) in cases {
        let answers = json!({
            "a.yes": { "value": values[0] }, "a.level": { "value": values[1] },
            "b.na": { "value": values[2] }, "b.temp": { "value": values[3] },
        });
        let e = ok(&t, answers);
        let got: Vec<_> = e.sections.iter().map(|s| (s.id.as_str(), s.points_max, s.points_possible, s.points_awarded)).collect();
        assert_eq!(got, [("a", 25, 25, a), ("b", 15, b_possible, b)], "{values}");
        assert_eq!(e.total.points_max, 40);
        assert_eq!(e.total.points_possible, 25 + b_possible);
        assert_eq!(e.total.points_awarded, a + b, "{values}");
        assert_eq!((e.total.answered, e.total.total_items), (4, 4));
    }
}

#[test]
fn a_safety_sheet_scores_no_points() {
    let e = ok(&safety(), passing());
    assert_eq!((e.total.points_max, e.total.points_possible, e.total.points_awarded), (0, 0, 0));
}

#[test]
fn findings_become_one_notice_and_each_major_hazard_its_own() {
    let t = safety();
    let answers = json!({
        "fire.cert": { "value": "no", "photos": ["p1"] },
        "fire.extinguishers": { "value": 1, "note": "三楼无" },
        "fire.kitchen": { "value": "own" },
        "care.gas-alarm": { "value": "no", "photos": ["p2"], "note": "未装" },
        "care.bed-rails": { "value": "some" },
    });
    let e = ok(&t, answers);
    assert_eq!(failed_items(&e), ["fire.cert", "fire.extinguishers", "care.gas-alarm", "care.bed-rails"]);
    let groups = group_notices(&e);
    assert_eq!(groups.len(), 2);
    let ordinary = &groups[0];
    assert!(!ordinary.major_hazard);
    assert_eq!(ordinary.deadline, DeadlineClass::Ordinary);
    let items: Vec<_> = ordinary.findings.iter().map(|f| f.item_id.as_str()).collect();
    assert_eq!(items, ["fire.extinguishers", "care.gas-alarm", "care.bed-rails"]);
    assert!(ordinary.measures.is_none());
    let major = &groups[1];
    assert!(major.major_hazard);
    assert_eq!(major.deadline, DeadlineClass::Major);
    assert_eq!(major.findings.len(), 1);
    assert_eq!(major.findings[0].item_id, "fire.cert");
    assert_eq!(major.measures.as_ref().unwrap().zh, "立即停用");
}

#[test]
fn a_notice_of_only_immediate_findings_is_immediate() {
    let own = with(passing(), "fire.kitchen", json!({ "value": "own" }));
    let answers = with(own, "care.gas-alarm", json!({ "value": "no", "photos": ["p"], "note": "无" }));
    let answers = with(answers, "care.bed-rails", json!({ "value": "some" }));
    let groups = group_notices(&ok(&safety(), answers));
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].deadline, DeadlineClass::Immediate);
    assert!(group_notices(&ok(&safety(), passing())).is_empty());
}

#[test]
fn an_ordinary_notice_with_a_one_month_finding_is_timed_by_it() {
    let own = with(passing(), "fire.kitchen", json!({ "value": "own" }));
    let answers = with(own, "care.gas-alarm", json!({ "value": "no", "photos": ["p"], "note": "无" }));
    let mut e = ok(&safety(), answers);
    assert_eq!(group_notices(&e)[0].deadline, DeadlineClass::Immediate);
    e.findings[0].deadline = DeadlineClass::Major;
    let groups = group_notices(&e);
    assert_eq!(groups.len(), 1);
    assert!(!groups[0].major_hazard);
    assert_eq!(groups[0].deadline, DeadlineClass::Major);
}

#[test]
fn an_evaluation_survives_a_json_round_trip() {
    let e = ok(&safety(), with(passing(), "fire.cert", json!({ "value": "no", "photos": ["p"] })));
    let back: Evaluation = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
    assert_eq!(back, e);
}

#[test]
fn the_filled_checklist_json_of_the_format_parses() {
    let f: Filled = serde_json::from_str(
        r#"{ "template": "gb38600-service-safety", "version": 1,
             "answers": { "basic.fire-cert": { "value": "no", "note": "…", "photos": ["0f3a"] },
                          "care.bed-rails": { "value": 3 } } }"#,
    )
    .unwrap();
    assert_eq!(f.answers["basic.fire-cert"].photos, ["0f3a"]);
    assert_eq!(f.answers["care.bed-rails"].value, Some(json!(3)));
    assert!(f.answers["care.bed-rails"].note.is_none());
}

#[test]
fn a_required_photo_item_needs_at_least_one_photo() {
    let t = load_str(
        "p@1.toml",
        r#"[template]
id = "p"
version = 1
kind = "joint"
title = { zh = "照片", en = "Photos" }
basis = "—"

[[section]]
id = "s"
title = { zh = "现场", en = "Site" }

[[section.item]]
id = "s.photo"
text = { zh = "大门照片", en = "Photo of the gate" }
answer = "photo"
"#,
    )
    .expect("valid");
    let (problems, _) = refused(&t, json!({ "s.photo": { "photos": [] } }));
    assert_eq!(problems, [("s.photo".to_string(), "answer.required")]);
    let e = ok(&t, json!({ "s.photo": { "photos": ["a", "b", "c"] } }));
    assert_eq!((e.total.answered, e.total.total_items), (1, 1));
}

#[test]
fn answers_are_bounded_before_they_are_stored_or_evaluated() {
    use qingling_checklists::{Answer, AnswerLimits, check_bounds};
    use std::collections::BTreeMap;
    let t = safety();
    let limits = AnswerLimits { text_chars: 10, photos: 2 };
    let answer = |value: Option<Value>, note: Option<&str>, photos: &[&str]| Answer {
        value,
        note: note.map(str::to_string),
        photos: photos.iter().map(|p| p.to_string()).collect(),
    };
    let hash = "a".repeat(64);
    let fine: BTreeMap<String, Answer> = [
        ("fire.cert".to_string(), answer(Some(json!("no")), Some("第一行\n第二行\t"), &[&hash])),
        ("fire.extinguishers".to_string(), answer(Some(json!(3)), None, &[])),
    ]
    .into();
    assert_eq!(check_bounds(&t, &fine, limits), vec![]);

    let codes = |answers: BTreeMap<String, Answer>| check_bounds(&t, &answers, limits).into_iter().map(|p| (p.item, p.code)).collect::<Vec<_>>();
    let one = |id: &str, a: Answer| codes([(id.to_string(), a)].into());
    assert_eq!(one("fire.cert", answer(None, Some("十一个字十一个字十一个"), &[])), vec![("fire.cert".into(), "answer.too_long")], "characters, not bytes");
    assert_eq!(one("fire.cert", answer(None, Some("a\0b"), &[])), vec![("fire.cert".into(), "answer.control_char")]);
    assert_eq!(one("fire.cert", answer(Some(json!("a\u{1b}[31m")), None, &[])), vec![("fire.cert".into(), "answer.control_char")]);
    assert_eq!(one("fire.cert", answer(Some(json!({ "deep": [1, 2] })), None, &[])), vec![("fire.cert".into(), "answer.wrong_type")]);
    assert_eq!(one("fire.cert", answer(None, None, &[&hash, &hash, &hash])), vec![("fire.cert".into(), "answer.too_many_photos")]);
    assert_eq!(one("fire.cert", answer(None, None, &["../../etc/passwd"])), vec![("fire.cert".into(), "answer.bad_photo")]);
    assert_eq!(one("no.such.item", answer(None, None, &[])), vec![("no.such.item".into(), "answer.unknown_item")]);

    // A flood of unknown items is reported, not echoed back whole.
    let flood: BTreeMap<String, Answer> = (0..5000).map(|i| (format!("x{i}"), Answer::default())).collect();
    assert_eq!(check_bounds(&t, &flood, limits).len(), qingling_checklists::evaluate::MAX_REPORTED);
}
