//! The loader refuses broken templates with one problem per mistake, each on its line.
//!
//! Each test writes a small template and marks the line the problem must be reported on with a
//! `# <-` comment; `refused` checks both the line and a substring of the message.

use qingling_checklists::{AnswerSpec, DeadlineClass, EvidenceKind, Hazard, Kind, Problem, Severity, YesNo, load_dir, load_str};

/// A template header of 6 lines, valid for a `t@1.toml` service-safety sheet.
const HEAD: &str = r#"[template]
id = "t"
version = 1
kind = "service_safety"
title = { zh = "检查表", en = "Checklist" }
basis = "GB 38600-2019"
"#;

/// A section with one valid yes_no item, to append where a test needs a second item.
const FAILURE: &str = r#"[section.item.failure]
severity = "ordinary"
hazard = "fire"
basis = { standard = "GB 38600-2019", clause = "5.1" }
evidence = ["photo"]
deadline = "ordinary"
notice = { zh = "整改", en = "Rectify" }
"#;

fn section(body: &str) -> String {
    format!("{HEAD}\n[[section]]\nid = \"s\"\ntitle = {{ zh = \"节\", en = \"Section\" }}\n{body}")
}

fn yes_no_item(id: &str) -> String {
    format!("\n[[section.item]]\nid = \"{id}\"\ntext = {{ zh = \"问\", en = \"Question\" }}\nanswer = \"yes_no\"\n{FAILURE}")
}

fn marked_line(text: &str) -> usize {
    let lines: Vec<usize> = text.lines().enumerate().filter(|(_, l)| l.contains("# <-")).map(|(i, _)| i + 1).collect();
    assert_eq!(lines.len(), 1, "the test template must mark exactly one line with `# <-`");
    lines[0]
}

fn problems(file: &str, text: &str) -> Vec<Problem> {
    match load_str(file, text) {
        Ok(_) => panic!("the template should have been refused:\n{text}"),
        Err(problems) => problems,
    }
}

fn show(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("  {p}\n")).collect()
}

/// Asserts that loading `text` as `t@1.toml` reports `needle` on the marked line.
#[track_caller]
fn refused(text: &str, needle: &str) -> Problem {
    refused_as("t@1.toml", text, needle)
}

#[track_caller]
fn refused_as(file: &str, text: &str, needle: &str) -> Problem {
    let line = marked_line(text);
    let problems = problems(file, text);
    match problems.iter().find(|p| p.message.contains(needle)) {
        Some(p) => {
            assert_eq!(p.line, line, "`{needle}` reported on the wrong line:\n{}", show(&problems));
            p.clone()
        }
        None => panic!("no problem says `{needle}`; got:\n{}", show(&problems)),
    }
}

const VALID: &str = r#"[template]
id = "gb38600-service-safety"
version = 2
kind = "service_safety"
title = { zh = "养老机构服务安全检查表", en = "Service safety checklist" }
basis = "GB 38600-2019"

[[section]]
id = "basic"
title = { zh = "基本要求", en = "Basic requirements" }

[[section.item]]
id = "basic.fire-cert"
text = { zh = "取得消防验收或备案", en = "Fire acceptance or filing obtained" }
answer = "yes_no"

[section.item.failure]
severity = "major_hazard"
hazard = "fire"
basis = { standard = "GB 38600-2019", clause = "5.1.1" }
evidence = ["photo", "note"]
deadline = "major"
notice = { zh = "未取得消防验收", en = "No fire acceptance" }
measures = { zh = "立即停止使用", en = "Stop using the building at once" }

[[section.item]]
id = "basic.kitchen"
text = { zh = "厨房情况", en = "Kitchen" }
answer = "choice"
required = false

[[section.item.choice]]
id = "none"
label = { zh = "无厨房", en = "No kitchen" }

[[section.item.choice]]
id = "own"
label = { zh = "自营厨房", en = "Own kitchen" }

[[section]]
id = "care"
title = { zh = "服务防护", en = "Care" }

[[section.item]]
id = "care.gas-alarm"
text = { zh = "燃气报警器", en = "Gas alarm" }
answer = "yes_no"
pass = "yes"
allow_na = true
show_if = { item = "basic.kitchen", equals = "own" }

[section.item.failure]
severity = "ordinary"
hazard = "food_drug"
basis = { standard = "GB 38600-2019", clause = "6.2" }
evidence = []
deadline = "immediate"
notice = { zh = "安装燃气报警器", en = "Install a gas alarm" }

[[section.item]]
id = "care.water-temp"
text = { zh = "洗浴水温", en = "Bath water temperature" }
answer = "number"
min = 0
max = 100.5
unit = { zh = "℃", en = "°C" }
pass_max = 45

[section.item.failure]
severity = "minor"
hazard = "care_risk"
basis = { standard = "GB 38600-2019", clause = "7.3" }
evidence = ["note"]
deadline = "ordinary"
notice = { zh = "调低水温", en = "Lower the water temperature" }

[[section.item]]
id = "care.remarks"
text = { zh = "备注", en = "Remarks" }
answer = "text"
required = false

[[section.item]]
id = "care.photos"
text = { zh = "现场照片", en = "Site photos" }
answer = "photo"
max_photos = 5
"#;

#[test]
fn a_valid_template_loads_with_every_field() {
    let t = load_str("templates/gb38600-service-safety@2.toml", VALID).expect("valid");
    assert_eq!((t.id.as_str(), t.version, t.kind), ("gb38600-service-safety", 2, Kind::ServiceSafety));
    assert_eq!(t.item_count(), 6);
    assert_eq!(t.sections.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["basic", "care"]);
    let cert = t.item("basic.fire-cert").unwrap();
    assert_eq!(cert.answer, AnswerSpec::YesNo { pass: YesNo::Yes, allow_na: false });
    assert!(cert.required);
    let failure = cert.failure.as_ref().unwrap();
    assert_eq!(failure.severity, Severity::MajorHazard);
    assert_eq!(failure.hazard, Hazard::Fire);
    assert_eq!(failure.evidence, [EvidenceKind::Photo, EvidenceKind::Note]);
    assert_eq!(failure.deadline, DeadlineClass::Major);
    assert_eq!(failure.basis.clause, "5.1.1");
    assert_eq!(failure.measures.as_ref().unwrap().en, "Stop using the building at once");
    let kitchen = t.item("basic.kitchen").unwrap();
    assert!(!kitchen.required && kitchen.failure.is_none());
    let alarm = t.item("care.gas-alarm").unwrap();
    assert_eq!(alarm.show_if.as_ref().unwrap().equals, "own");
    let AnswerSpec::Number { min, max, pass_min, pass_max, unit } = &t.item("care.water-temp").unwrap().answer else { panic!("number item") };
    assert_eq!((*min, *max, *pass_min, *pass_max), (0.0, 100.5, None, Some(45.0)));
    assert_eq!(unit.as_ref().unwrap().zh, "℃");
    assert_eq!(t.item("care.photos").unwrap().answer, AnswerSpec::Photo { max_photos: 5 });
}

#[test]
fn a_template_survives_a_json_round_trip() {
    let t = load_str("gb38600-service-safety@2.toml", VALID).expect("valid");
    let json = serde_json::to_string(&t).unwrap();
    let back: qingling_checklists::Template = serde_json::from_str(&json).unwrap();
    assert_eq!(back, t);
}

#[test]
fn a_toml_syntax_error_is_reported_on_its_line() {
    let text = "[template]\nid = \"t\"\nversion = = 1 # <-\n";
    refused(text, "this is not valid TOML");
}

#[test]
fn a_duplicate_key_is_a_syntax_error_on_its_line() {
    let text = "[template]\nid = \"t\"\nid = \"u\" # <-\n";
    refused(text, "duplicate key");
}

#[test]
fn an_unknown_key_is_named_with_a_suggestion() {
    let text =
        section(&format!("\n[[section.item]]\nid = \"s.a\"\ntext = {{ zh = \"问\", en = \"Q\" }}\nanswer = \"yes_no\"\nallow_NA = true # <-\n{FAILURE}"));
    let p = refused(&text, "unknown key `allow_NA`");
    assert!(p.message.contains("did you mean `allow_na`?"), "{p}");
    assert_eq!(p.item.as_deref(), Some("s.a"));
}

#[test]
fn an_unknown_key_in_the_template_table_is_named() {
    let text = HEAD.replace("basis = ", "colour = \"red\" # <-\nbasis = ");
    refused(&text, "unknown key `colour` in [template]");
}

#[test]
fn an_unknown_language_is_named() {
    let text = HEAD.replace("en = \"Checklist\" }", "en = \"Checklist\", fr = \"Liste\" } # <-");
    refused(&text, "unknown key `title.fr`");
}

#[test]
fn a_missing_required_key_is_reported_on_its_table() {
    let text = section("\n[[section.item]] # <-\nid = \"s.a\"\nanswer = \"text\"\n");
    let p = refused(&text, "missing required key `text` in this [[section.item]]");
    assert_eq!(p.to_string(), format!("t@1.toml:{}: s.a: {}", p.line, p.message));
}

#[test]
fn a_file_without_a_template_table_is_refused() {
    let text = "# <-\n[[section]]\nid = \"s\"\n";
    refused(text, "the file has no [template] table");
}

#[test]
fn a_template_without_sections_is_refused() {
    let text = format!("# <-\n{HEAD}");
    let p = problems("t@1.toml", &text);
    assert!(p.iter().any(|p| p.line == 1 && p.message.contains("no [[section]]")), "{}", show(&p));
}

#[test]
fn a_section_written_as_a_plain_table_is_refused() {
    let text = format!("{HEAD}[section] # <-\nid = \"s\"\n");
    refused(&text, "must be written [[section]]");
}

#[test]
fn a_section_without_items_is_refused() {
    let text = format!("{HEAD}\n[[section]] # <-\nid = \"s\"\ntitle = {{ zh = \"节\", en = \"S\" }}\n");
    refused(&text, "this section has no items");
}

#[test]
fn an_uppercase_template_id_is_refused() {
    let text = HEAD.replace("id = \"t\"", "id = \"T-1\" # <-");
    refused_as("T-1@1.toml", &text, "`id` \"T-1\" contains 'T'; a template id may only use a-z, 0-9 and '-'");
}

#[test]
fn an_item_id_with_a_space_is_refused() {
    let text = section(&yes_no_item("s.a b").replace("id = \"s.a b\"", "id = \"s.a b\" # <-"));
    refused(&text, "an item id may only use a-z, 0-9, '.' and '-'");
}

#[test]
fn the_file_name_must_match_id_and_version() {
    let text = section(&yes_no_item("s.a")).replacen("id = \"t\"", "id = \"t\" # <-", 1);
    refused_as("checklists/templates/t@2.toml", &text, "must be in a file named \"t@1.toml\"");
}

#[test]
fn version_zero_is_refused() {
    let text = HEAD.replace("version = 1", "version = 0 # <-");
    refused_as("t@0.toml", &text, "`version` must be at least 1, but it is 0");
}

#[test]
fn a_version_written_as_a_string_is_refused() {
    let text = HEAD.replace("version = 1", "version = \"1\" # <-");
    refused(&text, "`version` must be a whole number, but it is a string");
}

#[test]
fn an_unknown_kind_is_refused() {
    let text = HEAD.replace("kind = \"service_safety\"", "kind = \"safety\" # <-");
    refused(&text, "unknown kind \"safety\"; expected one of: service_safety, fire_safety, rating, joint");
}

#[test]
fn an_empty_language_text_is_refused() {
    let text = HEAD.replace("en = \"Checklist\" }", "en = \"  \" } # <-");
    refused(&text, "`title.en` must not be empty");
}

#[test]
fn a_missing_language_is_refused() {
    let text = HEAD.replace("title = { zh = \"检查表\", en = \"Checklist\" }", "title = { zh = \"检查表\" } # <-");
    refused(&text, "missing required key `title.en`");
}

#[test]
fn duplicate_section_ids_are_refused() {
    let text = section(&yes_no_item("s.a")) + "\n[[section]]\nid = \"s\" # <-\ntitle = { zh = \"节\", en = \"S\" }\n" + &yes_no_item("s.b");
    let p = refused(&text, "section id \"s\" is already used on line 9");
    assert_eq!(p.item.as_deref(), Some("s"));
}

#[test]
fn duplicate_item_ids_are_refused_across_sections() {
    let text = section(&yes_no_item("s.a"))
        + "\n[[section]]\nid = \"u\"\ntitle = { zh = \"节\", en = \"U\" }\n"
        + &yes_no_item("s.a").replace("[[section.item]]", "[[section.item]] # <-");
    refused(&text, "item id \"s.a\" is already used on line 12");
}

#[test]
fn an_unknown_answer_type_is_refused() {
    let text = section("\n[[section.item]]\nid = \"s.a\"\ntext = { zh = \"问\", en = \"Q\" }\nanswer = \"bool\" # <-\n");
    refused(&text, "unknown answer type \"bool\"; expected one of: yes_no, number, choice, text, photo");
}

#[test]
fn a_number_needs_min_below_max() {
    let text = section("\n[[section.item]]\nid = \"s.n\"\ntext = { zh = \"问\", en = \"Q\" }\nanswer = \"number\"\nmin = 10 # <-\nmax = 10\n");
    refused(&text, "`min` (10) must be less than `max` (10)");
}

#[test]
fn a_number_needs_min_and_max() {
    let text = section("\n[[section.item]] # <-\nid = \"s.n\"\ntext = { zh = \"问\", en = \"Q\" }\nanswer = \"number\"\nmin = 1\n");
    refused(&text, "missing required key `max`");
}

#[test]
fn pass_bounds_must_lie_inside_min_and_max() {
    let text = section(&format!(
        "\n[[section.item]]\nid = \"s.n\"\ntext = {{ zh = \"问\", en = \"Q\" }}\nanswer = \"number\"\nmin = 0\nmax = 100\npass_min = 120 # <-\n{FAILURE}"
    ));
    refused(&text, "`pass_min` (120) is outside the valid answers `min`..`max` (0..100)");
}

#[test]
fn pass_min_must_not_exceed_pass_max() {
    let text = section(&format!(
        "\n[[section.item]]\nid = \"s.n\"\ntext = {{ zh = \"问\", en = \"Q\" }}\nanswer = \"number\"\nmin = 0\nmax = 100\npass_min = 50.5 # <-\npass_max = 20\n{FAILURE}"
    ));
    refused(&text, "`pass_min` (50.5) must not be greater than `pass_max` (20)");
}

#[test]
fn a_choice_item_needs_two_options() {
    let text = section(
        "\n[[section.item]] # <-\nid = \"s.c\"\ntext = { zh = \"问\", en = \"Q\" }\nanswer = \"choice\"\n[[section.item.choice]]\nid = \"a\"\nlabel = { zh = \"甲\", en = \"A\" }\n",
    );
    refused(&text, "a choice item needs at least 2 options, but it has 1");
}

#[test]
fn choice_ids_must_be_unique() {
    let text = section(
        "\n[[section.item]]\nid = \"s.c\"\ntext = { zh = \"问\", en = \"Q\" }\nanswer = \"choice\"\n[[section.item.choice]]\nid = \"a\"\nlabel = { zh = \"甲\", en = \"A\" }\n[[section.item.choice]]\nid = \"a\" # <-\nlabel = { zh = \"乙\", en = \"B\" }\n",
    );
    refused(&text, "choice id \"a\" is already used on line 17");
}

#[test]
fn a_yes_no_pass_value_must_be_yes_or_no() {
    let text = section(&yes_no_item("s.a").replace("answer = \"yes_no\"", "answer = \"yes_no\"\npass = \"na\" # <-"));
    refused(&text, "`pass` must be \"yes\" or \"no\" (the answer that passes), not \"na\"");
}

#[test]
fn a_key_of_another_answer_type_is_refused() {
    let text = section(&yes_no_item("s.a").replace("answer = \"yes_no\"", "answer = \"yes_no\"\nmax = 5 # <-"));
    refused(&text, "`max` only applies to number items, but this item's answer is \"yes_no\"");
}

#[test]
fn an_item_that_can_fail_needs_a_failure_table() {
    let text = section("\n[[section.item]] # <-\nid = \"s.a\"\ntext = { zh = \"问\", en = \"Q\" }\nanswer = \"yes_no\"\n");
    refused(&text, "missing [section.item.failure] table: a yes_no item can fail");
}

#[test]
fn a_choice_with_a_failing_option_needs_a_failure_table() {
    let text = section(
        "\n[[section.item]] # <-\nid = \"s.c\"\ntext = { zh = \"问\", en = \"Q\" }\nanswer = \"choice\"\n[[section.item.choice]]\nid = \"a\"\nlabel = { zh = \"甲\", en = \"A\" }\n[[section.item.choice]]\nid = \"b\"\nfails = true\nlabel = { zh = \"乙\", en = \"B\" }\n",
    );
    refused(&text, "a choice item with a failing option can fail");
}

#[test]
fn an_item_that_never_fails_must_not_have_a_failure_table() {
    let text = section(&format!(
        "\n[[section.item]]\nid = \"s.t\"\ntext = {{ zh = \"问\", en = \"Q\" }}\nanswer = \"number\"\nmin = 0\nmax = 9\n{}",
        FAILURE.replace("[section.item.failure]", "[section.item.failure] # <-")
    ));
    refused(&text, "a number item without pass_min or pass_max never fails; remove the table");
}

#[test]
fn a_major_hazard_needs_a_major_or_immediate_deadline() {
    let item = yes_no_item("s.a")
        .replace("severity = \"ordinary\"", "severity = \"major_hazard\"")
        .replace("deadline = \"ordinary\"", "deadline = \"ordinary\" # <-")
        .replace("notice =", "measures = { zh = \"停用\", en = \"Stop\" }\nnotice =");
    refused(&section(&item), "a major_hazard failure needs deadline = \"major\" or \"immediate\", not \"ordinary\"");
}

#[test]
fn a_major_hazard_needs_measures() {
    let item = yes_no_item("s.a")
        .replace("severity = \"ordinary\"", "severity = \"major_hazard\"")
        .replace("deadline = \"ordinary\"", "deadline = \"major\"")
        .replace("[section.item.failure]", "[section.item.failure] # <-");
    refused(&section(&item), "missing required key `failure.measures`");
}

#[test]
fn measures_are_only_for_major_hazards() {
    let item = yes_no_item("s.a").replace("notice =", "measures = { zh = \"停用\", en = \"Stop\" } # <-\nnotice =");
    refused(&section(&item), "`failure.measures` is only for major_hazard failures, but this failure's severity is \"ordinary\"");
}

#[test]
fn an_unknown_severity_is_refused() {
    let item = yes_no_item("s.a").replace("severity = \"ordinary\"", "severity = \"serious\" # <-");
    refused(&section(&item), "unknown severity \"serious\"; expected one of: minor, ordinary, major_hazard");
}

#[test]
fn an_unknown_hazard_category_is_refused() {
    let item = yes_no_item("s.a").replace("hazard = \"fire\"", "hazard = \"electric\" # <-");
    refused(&section(&item), "unknown hazard category \"electric\"; expected one of: fire, building, food_drug");
}

#[test]
fn an_unknown_evidence_kind_is_refused() {
    let item = yes_no_item("s.a").replace("evidence = [\"photo\"]", "evidence = [\"photo\", \"video\"] # <-");
    refused(&section(&item), "unknown evidence kind \"video\"; expected one of: photo, note");
}

#[test]
fn an_unknown_deadline_class_is_refused() {
    let item = yes_no_item("s.a").replace("deadline = \"ordinary\"", "deadline = \"7d\" # <-");
    refused(&section(&item), "unknown deadline class \"7d\"; expected one of: immediate, ordinary, major");
}

#[test]
fn a_failure_basis_needs_a_clause() {
    let item = yes_no_item("s.a").replace(", clause = \"5.1\" }", " } # <-");
    refused(&section(&item), "missing required key `failure.basis.clause`");
}

#[test]
fn show_if_must_refer_to_an_earlier_item() {
    let text = section(
        &(yes_no_item("s.a").replace("answer = \"yes_no\"", "answer = \"yes_no\"\nshow_if = { item = \"s.b\", equals = \"yes\" } # <-") + &yes_no_item("s.b")),
    );
    refused(&text, "`show_if.item` refers to item \"s.b\", which comes later (line 25); it must refer to an earlier item");
}

#[test]
fn show_if_must_refer_to_an_existing_item() {
    let text = section(&yes_no_item("s.a").replace("answer = \"yes_no\"", "answer = \"yes_no\"\nshow_if = { item = \"s.z\", equals = \"yes\" } # <-"));
    refused(&text, "refers to item \"s.z\", which is not in this template");
}

#[test]
fn show_if_must_not_refer_to_the_item_itself() {
    let text = section(&yes_no_item("s.a").replace("answer = \"yes_no\"", "answer = \"yes_no\"\nshow_if = { item = \"s.a\", equals = \"yes\" } # <-"));
    refused(&text, "refers to this item itself");
}

#[test]
fn show_if_on_a_yes_no_item_takes_yes_no_or_na() {
    let text = section(
        &(yes_no_item("s.a") + &yes_no_item("s.b").replace("answer = \"yes_no\"", "answer = \"yes_no\"\nshow_if = { item = \"s.a\", equals = \"true\" } # <-")),
    );
    refused(&text, "`show_if.equals` is \"true\", but item \"s.a\" is a yes_no item; expected \"yes\", \"no\" or \"na\"");
}

#[test]
fn show_if_na_needs_allow_na_on_the_item_it_refers_to() {
    let text = section(
        &(yes_no_item("s.a") + &yes_no_item("s.b").replace("answer = \"yes_no\"", "answer = \"yes_no\"\nshow_if = { item = \"s.a\", equals = \"na\" } # <-")),
    );
    refused(&text, "item \"s.a\" does not allow \"na\" (allow_na = false)");
}

#[test]
fn show_if_on_a_choice_item_takes_one_of_its_choice_ids() {
    let text = section(&format!(
        "\n[[section.item]]\nid = \"s.c\"\ntext = {{ zh = \"问\", en = \"Q\" }}\nanswer = \"choice\"\n[[section.item.choice]]\nid = \"own\"\nlabel = {{ zh = \"甲\", en = \"A\" }}\n[[section.item.choice]]\nid = \"none\"\nlabel = {{ zh = \"乙\", en = \"B\" }}\n{}",
        yes_no_item("s.b").replace("answer = \"yes_no\"", "answer = \"yes_no\"\nshow_if = { item = \"s.c\", equals = \"outsourced\" } # <-")
    ));
    refused(&text, "`show_if.equals` is \"outsourced\", but item \"s.c\" has no such choice; expected one of: own, none");
}

#[test]
fn show_if_on_a_number_item_takes_a_number_inside_its_bounds() {
    let number = "\n[[section.item]]\nid = \"s.n\"\ntext = { zh = \"问\", en = \"Q\" }\nanswer = \"number\"\nmin = 0\nmax = 10\n";
    let text = section(&format!(
        "{number}{}",
        yes_no_item("s.b").replace("answer = \"yes_no\"", "answer = \"yes_no\"\nshow_if = { item = \"s.n\", equals = \"11\" } # <-")
    ));
    refused(&text, "`show_if.equals` is 11, but item \"s.n\" only takes numbers from 0 to 10");
    let text = section(&format!(
        "{number}{}",
        yes_no_item("s.b").replace("answer = \"yes_no\"", "answer = \"yes_no\"\nshow_if = { item = \"s.n\", equals = \"many\" } # <-")
    ));
    refused(&text, "expected a number written as a string, e.g. \"3\"");
}

#[test]
fn show_if_cannot_refer_to_a_photo_item() {
    let photo = "\n[[section.item]]\nid = \"s.p\"\ntext = { zh = \"照片\", en = \"Photo\" }\nanswer = \"photo\"\n";
    let text = section(&format!(
        "{photo}{}",
        yes_no_item("s.b").replace("answer = \"yes_no\"", "answer = \"yes_no\"\nshow_if = { item = \"s.p\", equals = \"yes\" } # <-")
    ));
    refused(&text, "refers to photo item \"s.p\", which has no value to compare");
}

#[test]
fn points_only_count_on_rating_sheets() {
    let text = section(&yes_no_item("s.a").replace("answer = \"yes_no\"", "answer = \"yes_no\"\npoints = 5 # <-"));
    refused(&text, "`points` only counts on rating sheets (kind = \"rating\"), but this template's kind is \"service_safety\"");
}

const RATING: &str = r#"[template]
id = "r"
version = 1
kind = "rating"
title = { zh = "等级评定", en = "Rating" }
basis = "GB/T 37276-2018"
total_points = 25

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
id = "a.choice"
text = { zh = "问", en = "Q" }
answer = "choice"

[[section.item.choice]]
id = "good"
label = { zh = "好", en = "Good" }
points = 15

[[section.item.choice]]
id = "fair"
label = { zh = "中", en = "Fair" }
points = 8
"#;

#[test]
fn a_rating_sheet_adds_up_using_the_best_choice() {
    let t = load_str("r@1.toml", RATING).expect("valid rating sheet");
    assert_eq!(t.total_points, Some(25));
    assert_eq!(t.sections[0].points, Some(25));
    assert_eq!(t.item("a.choice").unwrap().max_points(), 15);
}

#[test]
fn section_points_must_equal_the_sum_of_its_items() {
    let text = RATING.replace("total_points = 25", "total_points = 30").replace("points = 25", "points = 30 # <-");
    refused_as("r@1.toml", &text, "section `points` is 30, but its items add up to 25 (a.yes 10 + a.choice 15)");
}

#[test]
fn total_points_must_equal_the_sum_of_the_sections() {
    let text = RATING.replace("total_points = 25", "total_points = 1000 # <-");
    refused_as("r@1.toml", &text, "`total_points` is 1000, but the section points add up to 25 (a 25)");
}

#[test]
fn a_rating_sheet_needs_total_points() {
    let text = RATING.replace("total_points = 25\n", "").replace("[template]", "[template] # <-");
    refused_as("r@1.toml", &text, "missing required key `total_points` in [template]");
}

#[test]
fn item_points_on_a_choice_must_not_contradict_its_choices() {
    let text = RATING.replace("answer = \"choice\"", "answer = \"choice\"\npoints = 12 # <-");
    refused_as("r@1.toml", &text, "`points` is 12, but every option has its own points, which replace it, and the best option gives 15");
}

#[test]
fn several_problems_in_one_file_are_all_reported_in_line_order() {
    let text = r#"[template]
id = "demo"
version = 1
kind = "service_safety"
title = { zh = "示例", en = "Demo" }
basis = "GB 38600-2019"

[[section]]
id = "basic"
title = { zh = "基本要求", en = "Basic requirements" }

[[section.item]]
id = "basic.fire-cert"
text = { zh = "有消防验收", en = "Fire acceptance" }
answer = "yes_no"
colour = "red"

[section.item.failure]
severity = "major_hazard"
hazard = "electric"
basis = { standard = "GB 38600-2019", clause = "5.1.1" }
evidence = ["photo", "video"]
deadline = "ordinary"
notice = { zh = "……", en = "" }

[[section.item]]
id = "basic.kitchen"
text = { zh = "厨房", en = "Kitchen" }
answer = "number"
min = 5
max = 1
show_if = { item = "basic.later", equals = "x" }
"#;
    let problems = problems("demo@1.toml", text);
    let got: Vec<(usize, Option<&str>, &str)> = problems.iter().map(|p| (p.line, p.item.as_deref(), p.message.as_str())).collect();
    let expected_lines = [16, 18, 20, 22, 23, 24, 30, 32];
    assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), expected_lines, "{}", show(&problems));
    assert!(got[0].2.contains("unknown key `colour`"));
    assert!(got[1].2.contains("`failure.measures`"));
    assert!(got[2].2.contains("\"electric\""));
    assert!(got[3].2.contains("\"video\""));
    assert!(got[4].2.contains("not \"ordinary\""));
    assert!(got[5].2.contains("`failure.notice.en` must not be empty"));
    assert_eq!(got[6], (30, Some("basic.kitchen"), "`min` (5) must be less than `max` (1)"));
    assert!(got[7].2.contains("\"basic.later\""));
    assert_eq!(problems[6].to_string(), "demo@1.toml:30: basic.kitchen: `min` (5) must be less than `max` (1)");
}

#[test]
fn a_directory_reports_the_problems_of_every_file_and_skips_other_files() {
    let dir = std::env::temp_dir().join(format!("qingling-checklists-load-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("gb38600-service-safety@2.toml"), VALID).unwrap();
    std::fs::write(dir.join("r@1.toml"), RATING).unwrap();
    std::fs::write(dir.join(".gitkeep"), "").unwrap();
    std::fs::write(dir.join("README.md"), "not a template").unwrap();
    let catalog = load_dir(&dir).expect("two valid templates");
    assert_eq!(catalog.len(), 2);
    assert_eq!(catalog.item_count(), 8);
    assert_eq!(catalog.latest("gb38600-service-safety").unwrap().version, 2);
    assert!(catalog.get("gb38600-service-safety", 1).is_none());
    assert_eq!(catalog.get("r", 1).unwrap().kind, Kind::Rating);

    std::fs::write(dir.join("a@1.toml"), "[template]\nid = ").unwrap();
    std::fs::write(dir.join("b@1.toml"), HEAD).unwrap();
    let problems = load_dir(&dir).expect_err("two broken files");
    let mut files: Vec<String> = problems.iter().map(|p| std::path::Path::new(&p.file).file_name().unwrap().to_string_lossy().into_owned()).collect();
    files.dedup();
    assert_eq!(files, ["a@1.toml", "b@1.toml"], "{}", show(&problems));
    assert!(problems.iter().any(|p| p.message.contains("must be in a file named \"t@1.toml\"")), "{}", show(&problems));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_problem_without_a_line_or_item_displays_without_them() {
    let p = Problem { file: "x.toml".into(), line: 0, item: None, message: "cannot read the file".into() };
    assert_eq!(p.to_string(), "x.toml: cannot read the file");
    let p = Problem { file: "x.toml".into(), line: 3, item: None, message: "bad".into() };
    assert_eq!(p.to_string(), "x.toml:3: bad");
}

#[test]
fn rating_sums_are_checked_even_when_an_item_has_another_mistake() {
    let text =
        RATING.replace("total_points = 25", "total_points = 26 # <-").replace("text = { zh = \"问\", en = \"Q\" }\nanswer = \"yes_no\"", "answer = \"yes_no\"");
    let p = refused_as("r@1.toml", &text, "`total_points` is 26, but the section points add up to 25");
    let all = problems("r@1.toml", &text);
    assert!(all.iter().any(|q| q.message.contains("missing required key `text`")), "{}", show(&all));
    assert!(!all.iter().any(|q| q.message.contains("section `points`")), "{}", show(&all));
    assert_eq!(p.item, None);
}
