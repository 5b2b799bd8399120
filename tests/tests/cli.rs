//! The command line, run as a user would: the calendar, policy and checklist commands, help,
//! usage errors, completions and what each exit status means.

use qingling_tests::app::qingling_bin;
use std::process::Command;

fn run(args: &[&str]) -> (bool, String, String) {
    let (code, out, err) = run_code(args);
    (code == Some(0), out, err)
}

/// Like [`run`], with the exit status itself.
fn run_code(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(qingling_bin().unwrap()).args(args).env_remove("QINGLING_POLICY").output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).trim().to_string(), String::from_utf8_lossy(&out.stderr).to_string())
}

/// The exit statuses `qingling --help` documents.
const SUCCESS: Option<i32> = Some(0);
const FAILURE: Option<i32> = Some(1);
const USAGE: Option<i32> = Some(2);
const PROBLEMS: Option<i32> = Some(3);

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("qingling-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
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
    // Each a usage error that quotes the value and names the argument.
    let (code, _, err) = run_code(&["calendar", "add", "2026-13-01", "3wd"]);
    assert!(code == USAGE && err.contains("'2026-13-01'") && err.contains("<DATE>") && err.contains("not a date"), "{code:?} {err}");
    let (code, _, err) = run_code(&["calendar", "is-workday", "2026-02-30"]);
    assert!(code == USAGE && err.contains("'2026-02-30'") && err.contains("<DATE>"), "{code:?} {err}");
    let (code, _, err) = run_code(&["calendar", "add", "2026-09-30", "3 weeks"]);
    assert!(code == USAGE && err.contains("<PERIOD>") && err.contains("unknown unit"), "{code:?} {err}");
    let (code, _, err) = run_code(&["calendar", "add", "2026-09-30", "5s"]);
    assert!(code == USAGE && err.contains("'5s'") && err.contains("clock time"), "{code:?} {err}");
    let (code, _, err) = run_code(&["calendar", "add", "2026-09-30"]);
    assert!(code == USAGE && err.contains("<PERIOD>"), "a missing period is named: {code:?} {err}");
}

#[test]
fn policy_check_names_the_bad_key_and_exits_3() {
    let dir = temp_dir("policy");
    let file = dir.join("bad.toml");
    std::fs::write(&file, "[policy]\nextends = \"builtin\"\n[deadlines.complaint.major]\nrectify = \"1 month\"\n").unwrap();
    let (code, _, err) = run_code(&["policy", "check", file.to_str().unwrap()]);
    assert!(code == PROBLEMS && err.contains("deadlines.complaint.major.rectify"), "checked and found invalid: {code:?} {err}");
    let (code, out, _) = run_code(&["policy", "check"]);
    assert!(code == SUCCESS && out.contains("is valid"), "{out}");
    // A file that cannot be read was not checked: a failure, not a finding.
    let (code, _, err) = run_code(&["policy", "check", dir.join("no-such.toml").to_str().unwrap()]);
    assert!(code == FAILURE && err.contains("cannot read"), "{code:?} {err}");
}

#[test]
fn checklists_check_reports_every_problem_with_file_line_and_item() {
    let templates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../checklists/templates");
    let (ok, out, err) = run(&["checklists", "check", templates.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.starts_with("ok: 4 templates") && out.contains("gbt37276-rating@1"), "{out}");

    let dir = temp_dir("checklists");
    let file = dir.join("broken@1.toml");
    std::fs::write(
        &file,
        "[template]\nid = \"broken\"\nversion = 1\nkind = \"service_safety\"\ntitle = { zh = \"坏表\", en = \"Broken\" }\nbasis = \"x\"\n\n[[section]]\nid = \"s\"\ntitle = { zh = \"节\", en = \"Section\" }\n\n[[section.item]]\nid = \"s.a\"\ntext = { zh = \"甲\", en = \"\" }\nanswer = \"yes_no\"\n\n[[section.item]]\nid = \"s.b\"\ntext = { zh = \"乙\", en = \"B\" }\nanswer = \"number\"\nmin = 5\nmax = 1\n",
    )
    .unwrap();
    let (code, out, err) = run_code(&["checklists", "check", file.to_str().unwrap()]);
    assert_eq!(code, PROBLEMS, "checked and found invalid: {out}\n{err}");
    let all = format!("{out}\n{err}");
    // Both items' problems at once, each with the file, its line and the item id.
    assert!(all.contains("broken@1.toml:14: s.a:"), "{all}");
    assert!(all.lines().any(|l| l.contains("broken@1.toml:") && l.contains("s.b")), "{all}");
}

#[test]
fn a_checklist_path_that_is_not_there_is_a_failure_not_a_finding() {
    let missing = temp_dir("checklists-missing").join("no-such-dir");
    let (code, _, err) = run_code(&["checklists", "check", missing.to_str().unwrap()]);
    assert!(code == FAILURE && err.contains("no-such-dir"), "{code:?} {err}");
}

#[test]
fn help_on_a_command_explains_that_command_and_exits_0() {
    let (code, out, err) = run_code(&["calendar", "add", "--help"]);
    assert_eq!(code, SUCCESS, "{err}");
    assert!(out.contains("Usage: qingling calendar add <DATE> <PERIOD>"), "{out}");
    assert!(out.contains("the start day is not counted"), "the longer description: {out}");
    assert!(!out.contains("audit") && !out.contains("bench"), "not the global help: {out}");

    let (code, out, _) = run_code(&["doctor", "--help"]);
    assert!(code == SUCCESS && out.contains("--repair") && out.contains("Exit status") && !out.contains("calendar"), "{out}");
    let (code, out, _) = run_code(&["bench", "engine", "--help"]);
    assert!(code == SUCCESS && out.contains("--matters <N>") && out.contains("[default: 200]") && out.contains("[default: 20]"), "{out}");

    // The global help lists every command and documents the exit statuses.
    for args in [&["--help"][..], &["help"]] {
        let (code, out, _) = run_code(args);
        assert_eq!(code, SUCCESS, "{args:?}");
        for command in ["up", "worker", "web", "migrate", "calendar", "policy", "checklists", "doctor", "audit", "bench", "completions"] {
            assert!(out.lines().any(|l| l.trim_start().starts_with(command)), "{command} listed: {out}");
        }
        assert!(out.contains("3  a check found problems"), "{out}");
    }
}

#[test]
fn an_unknown_command_or_option_is_a_usage_error() {
    let (code, out, err) = run_code(&["nonsense", "--help"]);
    assert!(code == USAGE && err.contains("'nonsense'") && out.is_empty(), "{code:?} {out} {err}");
    let (code, _, err) = run_code(&["doctor", "--repiar"]);
    assert!(code == USAGE && err.contains("--repiar"), "{code:?} {err}");
    let (code, _, err) = run_code(&["policy", "check", "a.toml", "b.toml"]);
    assert!(code == USAGE && err.contains("'b.toml'"), "{code:?} {err}");
    let (code, _, err) = run_code(&["calendar"]);
    assert!(code == USAGE && err.contains("is-workday"), "the missing subcommand's choices: {code:?} {err}");
}

/// Checked before anything runs: a bad option never starts a benchmark.
#[test]
fn a_benchmark_option_that_is_not_a_number_is_a_usage_error() {
    let (code, _, err) = run_code(&["bench", "engine", "--matters", "many"]);
    assert!(code == USAGE && err.contains("--matters") && err.contains("'many'") && err.contains("not a number"), "{code:?} {err}");
    let (code, _, err) = run_code(&["bench", "checklist", "--items", "5"]);
    assert!(code == USAGE && err.contains("--items") && err.contains("at least 20"), "{code:?} {err}");
    let (code, _, err) = run_code(&["bench", "calendar", "--years", "71"]);
    assert!(code == USAGE && err.contains("--years") && err.contains("1 to 70"), "{code:?} {err}");
}

#[test]
fn completions_print_a_script_for_each_shell() {
    let (code, out, err) = run_code(&["completions", "bash"]);
    assert_eq!(code, SUCCESS, "{err}");
    assert!(out.contains("qingling") && out.contains("complete -F") && out.contains("is-workday"), "{out}");
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let (code, out, err) = run_code(&["completions", shell]);
        assert!(code == SUCCESS && out.contains("qingling"), "{shell}: {err}");
    }
    let (code, _, err) = run_code(&["completions", "tcsh"]);
    assert!(code == USAGE && err.contains("'tcsh'"), "{code:?} {err}");
}

/// `qingling directory check` reads a CSV or .xlsx table as an import would and writes nothing:
/// a table with bad rows is refused whole, every problem named as row:column: message.
#[test]
fn directory_check_lists_every_problem_of_a_csv_or_xlsx_table() {
    use qingling_activities::tables::{Format, write};
    use qingling_rules::directory::{Kind, headers};
    let dir = temp_dir("directory");
    let good = vec![vec!["F001".to_string(), "甲院".into(), "110105".into(), "养老院".into(), "10".into(), "A".into()]];
    let mut bad = good.clone();
    bad.push(vec!["F002".into(), "乙院".into(), "110105".into(), "宾馆".into(), "ten".into(), "B".into()]);
    bad.push(vec!["F001".into(), "丙院".into(), "110105".into(), "养老院".into(), "3".into(), "C".into()]);
    for (format, ext) in [(Format::Csv, "csv"), (Format::Xlsx, "xlsx")] {
        let ok = dir.join(format!("good.{ext}"));
        std::fs::write(&ok, write(format, &headers(Kind::Targets), &good).unwrap()).unwrap();
        assert_eq!(run_code(&["directory", "check", "--kind", "targets", ok.to_str().unwrap()]), (SUCCESS, "ok: 1 rows".into(), String::new()));
        let no = dir.join(format!("bad.{ext}"));
        std::fs::write(&no, write(format, &headers(Kind::Targets), &bad).unwrap()).unwrap();
        let (code, out, err) = run_code(&["directory", "check", "--kind", "targets", "--lang", "zh-CN", no.to_str().unwrap()]);
        assert_eq!(code, PROBLEMS, "{err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(lines[0].starts_with("3:机构类型: 「宾馆」不在可选范围内"), "{out}");
        assert_eq!(lines[1], "3:床位数: 「ten」不是 0 到 100000 之间的整数。");
        assert_eq!(lines[2], "4:机构编码: 「F001」已在第 2 行出现。");
        assert!(err.contains("3 problem(s); nothing was imported"), "{err}");
    }
    let (code, _, err) = run_code(&["directory", "check", "--kind", "targets", dir.join("x.txt").to_str().unwrap()]);
    assert_eq!((code, err.contains("name a .csv or .xlsx file")), (FAILURE, true), "{err}");
    let (code, _, _) = run_code(&["directory", "check", "--kind", "rooms", "x.csv"]);
    assert_eq!(code, USAGE);
}

#[test]
fn rating_level_explains_every_condition_and_ends_with_the_level() {
    // Exactly 900 with exactly 90 % in every section is level 5 (floors inclusive).
    let (code, out, err) = run_code(&["rating", "level", "--environment", "108", "--facilities", "117", "--operations", "135", "--service", "540"]);
    assert_eq!(code, SUCCESS, "{err}");
    assert_eq!(out.lines().last(), Some("5"), "{out}");
    assert!(out.contains("level 5: conditions hold") && out.contains("  total 900 of at least 900: held"), "{out}");
    // Half a point short in one section: level 4, and the line says what level 5 needs.
    let (_, out, _) = run_code(&["rating", "level", "--environment", "107.5", "--facilities", "117", "--operations", "135", "--service", "540"]);
    assert_eq!(out.lines().last(), Some("4"), "{out}");
    let verdict = out.lines().find(|l| l.starts_with("awarded:")).unwrap_or_default();
    assert_eq!(
        verdict, "awarded: level 4; level 5 needs total 899.5 of at least 900: not held; environment 107.5 of 120 (89.5 %), at least 90 % (108): not held",
        "{out}"
    );
    // Capped at the level applied for; nothing earned is 0.
    let (_, out, _) =
        run_code(&["rating", "level", "--environment", "120", "--facilities", "130", "--operations", "150", "--service", "600", "--applied", "3"]);
    assert_eq!(out.lines().last(), Some("3"), "{out}");
    assert!(out.contains("capped at the level applied for"), "{out}");
    let (_, out, _) = run_code(&["rating", "level", "--environment", "0", "--facilities", "0", "--operations", "0", "--service", "0"]);
    assert_eq!(out.lines().last(), Some("0"), "{out}");
    // A score above its section's maximum, or not a score, is a usage error naming the section.
    let (code, _, err) = run_code(&["rating", "level", "--environment", "121", "--facilities", "0", "--operations", "0", "--service", "0"]);
    assert_eq!(code, USAGE, "{err}");
    assert!(err.contains("environment") && err.contains("120"), "{err}");
    let (code, _, err) = run_code(&["rating", "level", "--environment", "0", "--facilities", "0", "--operations", "x", "--service", "0"]);
    assert!(code == USAGE && err.contains("operations management"), "{err}");
    let (code, _, err) = run_code(&["rating", "level", "--environment", "0", "--facilities", "0", "--operations", "0", "--service", "0", "--applied", "6"]);
    assert!(code == USAGE && err.contains("Level 6"), "{err}");
}
