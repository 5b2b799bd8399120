//! The calendar and policy commands, run as a user would.

use qingling_tests::app::qingling_bin;
use std::process::Command;

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(qingling_bin().unwrap()).args(args).env_remove("QINGLING_POLICY").output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).trim().to_string(), String::from_utf8_lossy(&out.stderr).to_string())
}

#[test]
fn calendar_commands_answer_by_the_state_council_calendar() {
    assert_eq!(run(&["calendar", "is-workday", "2026-10-10"]).1, "true", "a make-up Saturday");
    assert_eq!(run(&["calendar", "is-workday", "2026-10-05"]).1, "false", "National Day");
    assert_eq!(run(&["calendar", "add", "2026-09-30", "3wd"]).1, "2026-10-10");
    assert_eq!(run(&["calendar", "add", "2026-09-25", "7d"]).1, "2026-10-08");
}

/// 2027 has no published schedule (yet): the answer counts the statutory days and weekends, and
/// says so on stderr, leaving the answer as the last line of stdout.
#[test]
fn dates_in_a_year_without_a_published_schedule_are_answered_and_called_provisional() {
    let (ok, out, err) = run(&["calendar", "add", "2026-12-30", "2wd"]);
    assert!(ok, "{err}");
    assert_eq!(out, "2027-01-04", "12-31, then 元旦 and a weekend");
    assert!(err.contains("2027 is provisional"), "{err}");
    let (_, out, err) = run(&["calendar", "is-workday", "2027-02-08"]);
    assert_eq!(out.lines().last(), Some("false"), "正月初三");
    assert!(err.contains("2027 is provisional"), "{err}");
    for (day, want) in
        [("2027-01-01", "false"), ("2028-01-26", "false"), ("2029-06-16", "false"), ("2030-10-03", "false"), ("2027-02-09", "true"), ("2030-11-13", "true")]
    {
        assert_eq!(run(&["calendar", "is-workday", day]).1, want, "{day}");
    }
    let (_, out, err) = run(&["calendar", "is-workday", "2026-10-10"]);
    assert_eq!(out, "true");
    assert!(!err.contains("provisional"), "2026 is published: {err}");
}

#[test]
fn bad_calendar_input_gets_a_specific_error() {
    let (ok, _, err) = run(&["calendar", "add", "2026-13-01", "3wd"]);
    assert!(!ok && err.contains("is not a date"), "{err}");
    let (ok, _, err) = run(&["calendar", "add", "2026-09-30", "3 weeks"]);
    assert!(!ok && err.contains("unknown unit"), "{err}");
    let (ok, _, err) = run(&["calendar", "add", "2026-09-30", "5s"]);
    assert!(!ok && err.contains("clock time"), "{err}");
}

#[test]
fn policy_check_names_the_bad_key() {
    let dir = std::env::temp_dir().join(format!("qingling-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(&file, "[policy]\nextends = \"builtin\"\n[deadlines.complaint.major]\nrectify = \"1 month\"\n").unwrap();
    let (ok, _, err) = run(&["policy", "check", file.to_str().unwrap()]);
    assert!(!ok && err.contains("deadlines.complaint.major.rectify"), "{err}");
    let (ok, out, _) = run(&["policy", "check"]);
    assert!(ok && out.contains("is valid"), "{out}");
}

#[test]
fn checklists_check_reports_every_problem_with_file_line_and_item() {
    let templates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../checklists/templates");
    let (ok, out, err) = run(&["checklists", "check", templates.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.starts_with("ok: 4 templates") && out.contains("gbt37276-rating@1"), "{out}");

    let dir = std::env::temp_dir().join(format!("qingling-checklists-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken@1.toml");
    std::fs::write(
        &file,
        "[template]\nid = \"broken\"\nversion = 1\nkind = \"service_safety\"\ntitle = { zh = \"坏表\", en = \"Broken\" }\nbasis = \"x\"\n\n[[section]]\nid = \"s\"\ntitle = { zh = \"节\", en = \"Section\" }\n\n[[section.item]]\nid = \"s.a\"\ntext = { zh = \"甲\", en = \"\" }\nanswer = \"yes_no\"\n\n[[section.item]]\nid = \"s.b\"\ntext = { zh = \"乙\", en = \"B\" }\nanswer = \"number\"\nmin = 5\nmax = 1\n",
    )
    .unwrap();
    let (ok, out, err) = run(&["checklists", "check", file.to_str().unwrap()]);
    assert!(!ok, "{out}");
    let all = format!("{out}\n{err}");
    // Both items' problems at once, each with the file, its line and the item id.
    assert!(all.contains("broken@1.toml:14: s.a:"), "{all}");
    assert!(all.lines().any(|l| l.contains("broken@1.toml:") && l.contains("s.b")), "{all}");
}
