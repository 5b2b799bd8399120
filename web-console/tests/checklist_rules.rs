//! The tablet's checks agree with the server's: thousands of seeded random fillings of every
//! built-in template (and of a small template made to reach every rule: number and text
//! `show_if`, chained visibility, photo items, `na`, optional items) are judged by
//! `assets/checklist-rules.js` under Node and by `checklists::evaluate`, and every disagreement
//! is reported with the filling that caused it.
//!
//! The device's answers are what the page can produce (a choice offered, `na` only where allowed,
//! a number typed in or out of bounds, a text, photos, a note); the server is sent what the page
//! sends (`wire`: hidden items left out, empty values dropped).
//!
//! `QINGLING_CHECKLIST_CASES` changes the number of fillings per template (default 300).

use qingling_checklists::{AnswerSpec, Catalog, Filled, Template, evaluate, load_str};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const REACH: &str = r#"[template]
id = "reach"
version = 1
kind = "service_safety"
title = { zh = "规则覆盖", en = "Every rule" }
basis = "test"

[[section]]
id = "a"
title = { zh = "甲", en = "A" }

[[section.item]]
id = "a.count"
text = { zh = "数量", en = "Count" }
answer = "number"
min = -5
max = 10
pass_max = 3

[section.item.failure]
severity = "ordinary"
hazard = "fire"
basis = { standard = "T", clause = "1" }
evidence = ["photo", "note"]
deadline = "ordinary"
notice = { zh = "过多", en = "Too many" }

[[section.item]]
id = "a.when-three"
text = { zh = "恰为三", en = "Exactly three" }
answer = "yes_no"
pass = "no"
allow_na = true
show_if = { item = "a.count", equals = "3" }

[section.item.failure]
severity = "ordinary"
hazard = "fire"
basis = { standard = "T", clause = "2" }
evidence = ["note"]
deadline = "ordinary"
notice = { zh = "三", en = "Three" }

[[section.item]]
id = "a.chained"
text = { zh = "链", en = "Chained" }
answer = "choice"
show_if = { item = "a.when-three", equals = "na" }

[[section.item.choice]]
id = "fine"
label = { zh = "好", en = "Fine" }

[[section.item.choice]]
id = "bad"
label = { zh = "坏", en = "Bad" }
fails = true

[section.item.failure]
severity = "ordinary"
hazard = "fire"
basis = { standard = "T", clause = "3" }
evidence = []
deadline = "ordinary"
notice = { zh = "坏", en = "Bad" }

[[section]]
id = "b"
title = { zh = "乙", en = "B" }

[[section.item]]
id = "b.word"
text = { zh = "词", en = "Word" }
answer = "text"
required = false

[[section.item]]
id = "b.if-word"
text = { zh = "词为 own", en = "Word is own" }
answer = "photo"
max_photos = 2
show_if = { item = "b.word", equals = "own" }

[[section.item]]
id = "b.optional"
text = { zh = "可选", en = "Optional" }
answer = "yes_no"
required = false

[section.item.failure]
severity = "ordinary"
hazard = "fire"
basis = { standard = "T", clause = "4" }
evidence = ["photo"]
deadline = "ordinary"
notice = { zh = "可选", en = "Optional" }
"#;

/// A photo reference as the page sends it once uploaded (a content hash).
fn photo(n: u64) -> String {
    format!("{n:064x}")
}

/// Values an item's `show_if` compares with, so that dependent items are shown often enough.
fn wanted(template: &Template, id: &str) -> Vec<String> {
    template.items().filter_map(|(_, i)| i.show_if.as_ref()).filter(|s| s.item == id).map(|s| s.equals.clone()).collect()
}

/// How an inspector fills a sheet: `careful` answers everything within bounds and attaches a
/// photo and a note to every answer; the others leave items out, type numbers out of bounds,
/// attach too many photos or none, and write blank notes.
#[derive(Clone, Copy)]
struct Style {
    careful: bool,
    empty: f64,
}

/// One device answer for the item, as the page could hold it (or none).
fn device_answer(rng: &mut StdRng, style: Style, template: &Template, item: &qingling_checklists::Item) -> Option<Value> {
    if rng.gen_bool(style.empty) {
        return None;
    }
    let mut a = Map::new();
    let want = wanted(template, &item.id);
    match &item.answer {
        AnswerSpec::YesNo { allow_na, .. } => {
            let mut words = vec!["yes", "no"];
            if *allow_na {
                words.push("na");
            }
            let w = match want.first() {
                Some(w) if rng.gen_bool(0.5) && words.contains(&w.as_str()) => w.clone(),
                _ => words[rng.gen_range(0..words.len())].to_string(),
            };
            a.insert("value".into(), json!(w));
        }
        AnswerSpec::Number { min, max, pass_min, pass_max, .. } => {
            let mut picks = vec![*min, *max, (*min + *max) / 2.0, rng.gen_range(*min..=*max).round()];
            if !style.careful {
                picks.extend([*min - 1.0, *max + 1.0]);
            }
            picks.extend(pass_min.iter().flat_map(|p| [*p, *p - 1.0, *p - 0.5]));
            picks.extend(pass_max.iter().flat_map(|p| [*p, *p + 1.0, *p + 0.5]));
            picks.extend(want.iter().filter_map(|w| w.parse::<f64>().ok()));
            picks.retain(|p| !style.careful || (*min..=*max).contains(p));
            a.insert("value".into(), json!(picks[rng.gen_range(0..picks.len())]));
        }
        AnswerSpec::Choice { choices } => {
            let id = match want.first() {
                Some(w) if rng.gen_bool(0.5) => w.clone(),
                _ => choices[rng.gen_range(0..choices.len())].id.clone(),
            };
            a.insert("value".into(), json!(id));
        }
        AnswerSpec::Text => {
            let mut words: Vec<String> = if style.careful { vec!["记录".into()] } else { vec!["".into(), "  ".into(), "记录".into()] };
            words.extend(want.iter().flat_map(|w| [w.clone(), format!(" {w} ")]));
            a.insert("value".into(), json!(words[rng.gen_range(0..words.len())]));
        }
        AnswerSpec::Photo { max_photos } => {
            let n = if style.careful { rng.gen_range(1..=*max_photos as u64) } else { rng.gen_range(0..=*max_photos as u64 + 1) };
            a.insert("photos".into(), json!((0..n).map(photo).collect::<Vec<_>>()));
        }
    }
    if !matches!(item.answer, AnswerSpec::Photo { .. }) && (style.careful || rng.gen_bool(0.5)) {
        a.insert("photos".into(), json!([photo(rng.gen_range(0..1000))]));
    }
    match if style.careful { 0 } else { rng.gen_range(0..4) } {
        0 => {
            a.insert("note".into(), json!("现场说明"));
        }
        1 => {
            a.insert("note".into(), json!("   "));
        }
        _ => {}
    }
    Some(Value::Object(a))
}

fn fillings(rng: &mut StdRng, template: &Template, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let style = match i % 4 {
                0 | 1 => Style { careful: true, empty: 0.0 },
                2 => Style { careful: false, empty: 0.01 },
                _ => Style { careful: false, empty: 0.15 },
            };
            let answers: Map<String, Value> =
                template.items().filter_map(|(_, item)| device_answer(rng, style, template, item).map(|a| (item.id.clone(), a))).collect();
            Value::Object(answers)
        })
        .collect()
}

/// The tablet's verdicts: `[{wire, problems: [[item, code]], findings: [item]}]`, one per case.
fn judged_by_the_tablet(cases: &[Value]) -> Vec<Value> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/checklist_rules.cjs");
    let mut child = Command::new("node")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs (scripts/setup-tools.sh needs it for the browser tests too)");
    let input = serde_json::to_vec(cases).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "node {} failed:\n{}", script.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

fn set(v: &Value) -> BTreeSet<String> {
    v.as_array().unwrap().iter().map(|x| x.to_string()).collect()
}

#[test]
fn the_tablet_judges_every_filling_as_the_server_does() {
    let per_template: usize = std::env::var("QINGLING_CHECKLIST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
    let catalog = Catalog::builtin().expect("the built-in catalogue loads");
    let mut templates: Vec<Template> = catalog.iter().cloned().collect();
    templates.push(load_str("reach@1.toml", REACH).expect("the test template loads"));
    let mut rng = StdRng::seed_from_u64(38600);

    let mut cases = Vec::new();
    for t in &templates {
        for answers in fillings(&mut rng, t, per_template) {
            cases.push((t, answers));
        }
    }
    let wire_cases: Vec<Value> = cases.iter().map(|(t, a)| json!({ "template": t, "answers": a })).collect();
    let verdicts = judged_by_the_tablet(&wire_cases);
    assert_eq!(verdicts.len(), cases.len());

    let mut disagreements = Vec::new();
    let (mut refused, mut with_findings) = (0, 0);
    for ((template, device), tablet) in cases.iter().zip(&verdicts) {
        let answers = serde_json::from_value(tablet["wire"].clone()).expect("the page sends answers the server reads");
        let filled = Filled { template: template.id.clone(), version: template.version, answers };
        let (problems, findings): (BTreeSet<String>, BTreeSet<String>) = match evaluate(template, &filled) {
            Ok(e) => (BTreeSet::new(), e.findings.iter().map(|f| json!(f.item_id).to_string()).collect()),
            Err(ps) => (ps.iter().map(|p| json!([p.item, p.code]).to_string()).collect(), BTreeSet::new()),
        };
        if !problems.is_empty() {
            refused += 1;
        }
        if !findings.is_empty() {
            with_findings += 1;
        }
        let (tablet_problems, tablet_findings) = (set(&tablet["problems"]), set(&tablet["findings"]));
        if problems != tablet_problems || findings != tablet_findings {
            disagreements.push(format!(
                "{}@{}: server problems {problems:?} findings {findings:?}; tablet problems {tablet_problems:?} findings {tablet_findings:?}\n  device answers: {device}",
                template.id, template.version
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} fillings judged differently; the first:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements[..disagreements.len().min(5)].join("\n")
    );
    // The fillings reach both outcomes often, so the agreement means something.
    assert!(refused > cases.len() / 10 && with_findings > cases.len() / 10, "{refused} refused and {with_findings} with findings of {}", cases.len());
}
