//! The verifiable draw from the command line, as a campaign's ceremony and as an outside verifier
//! would run it: `qingling draw select` reproduces RFC 3797's worked example; `commit`, `run` and
//! `verify` on files; and the independent verifier (`scripts/verify-draw.py`, Python's standard
//! library only, written from DRAW.md) agrees with the engine on real bundles, including what it
//! finds wrong with altered ones.

use qingling_tests::app::qingling_bin;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(qingling_bin().unwrap()).args(args).env_remove("QINGLING_POLICY").output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn python(args: &[&str]) -> (Option<i32>, String) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/verify-draw.py");
    let out = Command::new("python3").arg(script).args(args).output().expect("python3 runs");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("qingling-draw-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p.display().to_string()
}

const RFC_SOURCES: &str = "9319/2 5 12 8 10/9 18 26 34 41 45";

#[test]
fn draw_select_reproduces_the_rfcs_worked_example_and_so_does_the_independent_script() {
    let (code, out, err) = run(&["draw", "select", "--sources", RFC_SOURCES, "--pool", "25", "--count", "10"]);
    assert_eq!(code, Some(0), "{err}");
    let want = "17\n7\n2\n16\n25\n23\n8\n24\n19\n13\n";
    assert_eq!(out, want);
    assert_eq!(python(&["--select", RFC_SOURCES, "25", "10"]), (Some(0), want.to_string()));

    // Usage errors: exit 2, saying what is wrong.
    let (code, _, err) = run(&["draw", "select", "--sources", "12/x", "--pool", "25", "--count", "3"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("Random source 2 is not a list of whole numbers"), "{err}");
    let (code, _, err) = run(&["draw", "select", "--sources", RFC_SOURCES, "--pool", "5", "--count", "6"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--count 6 is more than --pool 5"), "{err}");
    let (code, _, err) = run(&["draw", "select", "--sources", RFC_SOURCES, "--pool", "70000", "--count", "1"]);
    assert_eq!(code, Some(2), "{err}");
}

/// A directory of 300 homes in three districts and 30 inspectors, with conflicts and specialisms.
fn directories() -> (Value, Value, Value) {
    let districts = ["110105", "110108", "110101"];
    let risks = ["A", "B", "C", "D"];
    let targets: Vec<Value> = (0..300)
        .map(|n| {
            json!({
                "id": format!("F{n:04}"), "district": districts[n % 3], "facility_type": if n % 7 == 0 { "community_center" } else { "nursing_home" },
                "risk": risks[(n / 3) % 4], "open_major_hazards": u32::from(n % 53 == 0), "credit_listed": n % 97 == 0,
                "last_inspected": if n % 11 == 0 { json!({ "joint-inspection": "2026-04-01" }) } else { json!({}) },
            })
        })
        .collect();
    let inspectors: Vec<Value> = (0..30)
        .map(|n| {
            json!({
                "id": format!("I{n:03}"), "district": districts[n % 3],
                "specialisms": if n % 4 == 0 { json!(["fire"]) } else if n % 4 == 1 { json!(["medical"]) } else { json!([]) },
                "available": n % 10 != 9,
            })
        })
        .collect();
    let conflicts: Vec<Value> =
        (0..20).map(|n| json!({ "inspector": format!("I{:03}", n), "target": format!("F{:04}", n * 13), "relation": "former_employer" })).collect();
    let plan = json!({
        "items": ["joint-inspection"], "districts": [], "facility_types": ["nursing_home"],
        "ratio_permille": { "A": 50, "B": 200, "C": 600, "D": 1000 }, "exclude_inspected_since": "2026-01-01",
        "team_size": 2, "required_specialisms": ["fire"], "load_cap": 40, "not_own_district": true,
    });
    (plan, json!(targets), json!({ "inspectors": inspectors, "conflicts": conflicts }))
}

#[test]
fn a_committed_draw_runs_verifies_and_every_alteration_is_caught_by_both_verifiers() {
    let d = dir("ceremony");
    let (plan, targets, inspectors) = directories();
    let (plan_f, targets_f, inspectors_f) = (write(&d, "plan.json", &plan), write(&d, "targets.json", &targets), write(&d, "inspectors.json", &inspectors));

    let (code, commitment, err) = run(&[
        "draw",
        "commit",
        "--plan",
        &plan_f,
        "--targets",
        &targets_f,
        "--inspectors",
        &inspectors_f,
        "--source",
        "福彩3D第2026320期开奖号码",
        "--source",
        "见证人现场宣读的五个数",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let commitment_v: Value = serde_json::from_str(&commitment).unwrap();
    assert_eq!(commitment_v["algorithm"], "qingling-draw/1 (RFC 3797)");
    assert_eq!(commitment_v["targets_sha256"].as_str().map(str::len), Some(64));
    let commitment_f = write(&d, "commitment.json", &commitment_v);

    let (code, bundle, err) = run(&[
        "draw",
        "run",
        "--commitment",
        &commitment_f,
        "--targets",
        &targets_f,
        "--inspectors",
        &inspectors_f,
        "--values",
        "3 1 4/15 92 65 35 89",
        "--witness",
        "张见证",
        "--witness",
        "李公证",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let bundle: Value = serde_json::from_str(&bundle).unwrap();
    let result = &bundle["result"];
    assert_eq!(result["key"], "1.3.4./15.35.65.89.92./");
    assert!(result["targets"].as_array().unwrap().len() > 60, "{}", result["targets"]);
    assert!(
        result["teams"].as_array().unwrap().iter().any(|t| t["picks"].as_array().unwrap().iter().any(|p| p["skipped"].is_string())),
        "some pick was skipped for recusal"
    );
    let bundle_f = write(&d, "bundle.json", &bundle);

    assert_eq!(run(&["draw", "verify", &bundle_f]).1, "verified\n");
    assert_eq!(python(&[&bundle_f]), (Some(0), "verified\n".to_string()));

    // Each alteration is named, the same way, by both.
    let alter = |name: &str, change: &dyn Fn(&mut Value)| {
        let mut b = bundle.clone();
        change(&mut b);
        let f = write(&d, name, &b);
        let (code, out, err) = run(&["draw", "verify", &f]);
        assert_eq!(code, Some(3), "{name}: {out}{err}");
        let (pcode, pout) = python(&[&f]);
        assert_eq!(pcode, Some(1), "{name}: {pout}");
        (out.trim().to_string(), pout.trim().to_string())
    };
    let (ours, theirs) = alter("snapshot.json", &|b| b["targets"][5]["risk"] = json!("D"));
    assert!(ours.starts_with("targets: the directory in the bundle hashes to") && ours == theirs, "{ours} / {theirs}");
    let (ours, theirs) = alter("source.json", &|b| b["source_values"][1][0] = json!(16));
    assert!(ours.starts_with("result.key: ") && theirs.starts_with("result.key: "), "{ours} / {theirs}");
    let (ours, theirs) = alter("result.json", &|b| {
        let team = &mut b["result"]["teams"][2]["inspectors"];
        let first = team[0].clone();
        team[0] = team[1].clone();
        team[1] = first;
    });
    assert!(ours.starts_with("result.teams[2].inspectors[0]: ") && ours == theirs, "{ours} / {theirs}");
    let (ours, _) = alter("conflict.json", &|b| b["inspectors"]["conflicts"].as_array_mut().unwrap().clear());
    assert!(ours.starts_with("inspectors: "), "{ours}");

    // Running under a commitment with other directories is refused: nobody could check it.
    let mut other = targets.clone();
    other[0]["district"] = json!("110101");
    let other_f = write(&d, "other-targets.json", &other);
    let (code, _, err) = run(&["draw", "run", "--commitment", &commitment_f, "--targets", &other_f, "--inspectors", &inspectors_f, "--values", "3 1 4/15 92"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("not the committed directories"), "{err}");
    let (code, _, err) = run(&["draw", "run", "--commitment", &commitment_f, "--targets", &targets_f, "--inspectors", &inspectors_f, "--values", "3 1 4"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("names 2 random sources, but 1 values were entered"), "{err}");
    let (code, _, err) = run(&["draw", "verify", &plan_f]);
    assert_eq!(code, Some(1));
    assert!(err.contains("is not a draw bundle"), "{err}");
}

#[test]
fn draw_run_names_the_source_whose_value_is_not_a_number() {
    let d = dir("values");
    let (plan, targets, inspectors) = directories();
    let (plan_f, targets_f, inspectors_f) = (write(&d, "plan.json", &plan), write(&d, "targets.json", &targets), write(&d, "inspectors.json", &inspectors));
    let (_, commitment, _) =
        run(&["draw", "commit", "--plan", &plan_f, "--targets", &targets_f, "--inspectors", &inspectors_f, "--source", "福彩3D", "--source", "见证人宣读"]);
    let commitment_f = write(&d, "commitment.json", &serde_json::from_str::<Value>(&commitment).unwrap());
    let (code, _, err) = run(&["draw", "run", "--commitment", &commitment_f, "--targets", &targets_f, "--inspectors", &inspectors_f, "--values", "3 1 4/15 x"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("Random source 2 is not a list of whole numbers: \"15 x\". (见证人宣读)"), "{err}");
}
