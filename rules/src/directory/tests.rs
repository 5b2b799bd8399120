//! Imports checked whole: every problem as `row:column: message`, in Chinese or English headers.

use super::*;

fn table(header: &[&str], rows: &[&[&str]]) -> Table {
    Table { header: header.iter().map(|s| s.to_string()).collect(), rows: rows.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect() }
}

fn lines(r: Refused) -> Vec<String> {
    r.problems.iter().map(|p| p.line(Locale::En)).collect()
}

#[test]
fn a_clean_targets_table_imports_in_either_language() {
    let zh = table(
        &["机构编码", "机构名称", "所在区", "机构类型", "床位数", "风险等级"],
        &[
            &["F001", "朝阳区第一社会福利院", "110105", "社会福利院", "320", "B"],
            &["F002", "康乐养老院", "110105", "养老院", "80", "丁"],
            &["", "", "", "", "", ""],
        ],
    );
    let rows = parse_targets(&zh, &Districts::any()).unwrap();
    assert_eq!(rows.len(), 2, "the blank line at the end is not a row");
    assert_eq!(
        rows[0],
        TargetRecord {
            code: "F001".into(),
            name: "朝阳区第一社会福利院".into(),
            district: "110105".into(),
            facility_type: "welfare_home".into(),
            beds: 320,
            risk: RiskClass::B
        }
    );
    assert_eq!(rows[1].risk, RiskClass::D);
    let en = table(&["\u{feff}Code", "name", "DISTRICT", "facility_type", "beds", "risk"], &[&["F001", "Home", "110105", "nursing_home", "5", "a"]]);
    assert_eq!(parse_targets(&en, &Districts::any()).unwrap()[0].risk, RiskClass::A, "a byte-order mark and the headers' case do not matter");
}

#[test]
fn every_problem_of_a_targets_table_is_listed_with_its_row_and_column() {
    let t = table(
        &["机构编码", "机构名称", "所在区", "机构类型", "床位数", "风险等级"],
        &[
            &["F001", "甲院", "110105", "养老院", "10", "A"],
            &["F 02", "", "110105", "宾馆", "-3", "E"],
            &["F001", "乙院", "110105", "养老院", "10", "A"],
            &["F003", "丙\u{0}院", "110105", "养老院", "1000000", "B"],
        ],
    );
    let got = lines(parse_targets(&t, &Districts::any()).unwrap_err());
    assert_eq!(
        got,
        vec![
            "3:机构编码: \"F 02\" is not a code: use letters, digits, - and _ only.",
            "3:机构名称: This cell is empty; it needs a value.",
            "3:机构类型: \"宾馆\" is not one of: 养老院 (nursing_home), 社会福利院 (welfare_home), 社区养老服务中心 (community_center), 日间照料中心 (day_care), 护理院 (care_home).",
            "3:床位数: \"-3\" is not a whole number from 0 to 100000.",
            "3:风险等级: \"E\" is not one of: 甲 (A), 乙 (B), 丙 (C), 丁 (D).",
            "4:机构编码: \"F001\" is already on row 2.",
            "5:机构名称: The cell contains invisible control characters.",
            "5:床位数: \"1000000\" is not a whole number from 0 to 100000.",
        ]
    );
}

#[test]
fn a_wrong_header_is_refused_before_any_row_is_read() {
    let t = table(&["机构编码", "名称", "所在区", "机构类型", "床位数", "床位数"], &[&["F001", "x", "110105", "养老院", "1", "1"]]);
    let got = lines(parse_targets(&t, &Districts::any()).unwrap_err());
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got[0].starts_with("1:名称: There is no column \"名称\" in this table"), "{got:?}");
    assert_eq!(got[1], "1:床位数: This column appears twice.");
    assert_eq!(got[2], "1:机构名称: The column is missing.");
    assert_eq!(got[3], "1:风险等级: The column is missing.");
}

#[test]
fn inspectors_import_with_specialisms_and_availability() {
    let t = table(
        &["执法证号", "姓名", "所在区", "执法资格", "专业", "状态"],
        &[&["J0001", "赵检查", "110105", "行政执法证", "消防、医疗", "在岗"], &["J0002", "钱检查", "110108", "", "", "休假"]],
    );
    let rows = parse_inspectors(&t, &Districts::any()).unwrap();
    assert_eq!(rows[0].specialisms, BTreeSet::from(["fire".to_string(), "medical".to_string()]));
    assert_eq!((rows[0].availability, rows[1].availability), (Availability::Available, Availability::Leave));
    assert!(rows[1].specialisms.is_empty());
    let bad = table(&["执法证号", "姓名", "所在区", "专业", "状态"], &[&["J0003", "孙检查", "110105", "消防，魔法", "出差"]]);
    assert_eq!(
        lines(parse_inspectors(&bad, &Districts::any()).unwrap_err()),
        vec![
            "2:专业: \"魔法\" is not one of: 消防 (fire), 医疗 (medical), 食品 (food), 建筑 (building), 特种设备 (special_equipment).",
            "2:状态: \"出差\" is not one of: 在岗 (available), 休假 (leave), 停职 (suspended).",
        ]
    );
}

#[test]
fn conflicts_must_name_known_inspectors_and_homes() {
    let certificates = BTreeSet::from(["J0001".to_string()]);
    let facilities = BTreeMap::from([("F001".to_string(), "110105".to_string())]);
    let t = table(
        &["执法证号", "机构编码", "关系"],
        &[&["J0001", "F001", "原工作单位"], &["J0009", "F001", "亲属"], &["J0001", "F009", "朋友"], &["J0001", "F001", "former_employer"]],
    );
    assert_eq!(
        lines(parse_conflicts(&t, &certificates, &facilities, &Districts::any()).unwrap_err()),
        vec![
            "3:执法证号: \"J0009\" is not in the inspectors directory.",
            "4:机构编码: \"F009\" is not in the targets directory.",
            "4:关系: \"朋友\" is not one of: 原工作单位 (former_employer), 亲属 (relative), 经济利益 (financial_interest), 其他 (other).",
            "5:执法证号: \"J0001 F001 former_employer\" is already on row 2.",
        ]
    );
    let ok = table(&["certificate", "facility", "relation"], &[&["J0001", "F001", "亲属"]]);
    assert_eq!(parse_conflicts(&ok, &certificates, &facilities, &Districts::any()).unwrap()[0].relation, "relative");
}

#[test]
fn problems_are_counted_past_the_listed_ones_and_huge_tables_refused() {
    let rows: Vec<Vec<String>> = (0..500).map(|i| vec![format!("F{i}"), String::new(), "110105".into(), "养老院".into(), "1".into(), "A".into()]).collect();
    let t = Table { header: headers(Kind::Targets).iter().map(|s| s.to_string()).collect(), rows };
    let r = parse_targets(&t, &Districts::any()).unwrap_err();
    assert_eq!((r.problems.len(), r.total), (MAX_PROBLEMS, 500));
    let huge = Table { header: t.header.clone(), rows: vec![vec![]; MAX_ROWS + 1] };
    assert_eq!(parse_targets(&huge, &Districts::any()).unwrap_err().problems[0].code, "directory.too_many_rows");
    assert_eq!(parse_targets(&huge, &Districts::any()).unwrap_err().problems[0].line(Locale::ZhCn), "0:: 一次最多导入 200000 行，本表有 200001 行。");
}

#[test]
fn districts_must_be_known_and_within_the_importers_region() {
    let districts = Districts {
        known: Some(BTreeSet::from(["110105".to_string(), "110108".to_string()])),
        writable: Some(BTreeSet::from(["110105".to_string()])),
        existing: BTreeMap::from([("F009".to_string(), "110108".to_string())]),
    };
    let t = table(
        &["机构编码", "机构名称", "所在区", "机构类型", "床位数", "风险等级"],
        &[
            &["F001", "甲", "110105", "养老院", "10", "A"],
            &["F002", "乙", "110108", "养老院", "10", "A"],
            &["F003", "丙", "999999", "养老院", "10", "A"],
            &["F009", "丁", "110105", "养老院", "10", "A"],
        ],
    );
    assert_eq!(
        lines(parse_targets(&t, &districts).unwrap_err()),
        vec![
            "3:所在区: District 110108 is outside your region; you may change only 110105.",
            "4:所在区: \"999999\" is not a district code the system knows (a district's code, such as 110105).",
            "5:机构编码: District 110108 is outside your region; you may change only 110105.",
        ]
    );
    let admin = Districts { writable: None, ..districts.clone() };
    assert_eq!(lines(parse_targets(&t, &admin).unwrap_err()).len(), 1, "an administrator may write every known district, and take over any home");

    // A conflict is changed by whoever may change the home's district.
    let certificates = BTreeSet::from(["京执110105-0101".to_string()]);
    let facilities = BTreeMap::from([("F001".to_string(), "110105".to_string()), ("F002".to_string(), "110108".to_string())]);
    let c = table(&["执法证号", "机构编码", "关系"], &[&["京执110105-0101", "F001", "亲属"], &["京执110105-0101", "F002", "亲属"]]);
    assert_eq!(
        lines(parse_conflicts(&c, &certificates, &facilities, &districts).unwrap_err()),
        vec!["3:机构编码: District 110108 is outside your region; you may change only 110105."]
    );
}

#[test]
fn certificate_numbers_may_be_written_in_chinese_but_not_with_spaces() {
    let t = table(&["执法证号", "姓名", "所在区", "状态"], &[&["京执110105-0101", "赵一", "110105", "在岗"], &["京执 0102", "钱二", "110105", "在岗"]]);
    assert_eq!(
        lines(parse_inspectors(&t, &Districts::any()).unwrap_err()),
        vec!["3:执法证号: \"京执 0102\" is not a certificate number: it may not contain spaces."]
    );
}

#[test]
fn an_export_reads_back_as_the_same_directory() {
    let targets = vec![
        TargetRecord {
            code: "F001".into(),
            name: "朝阳区第一社会福利院".into(),
            district: "110105".into(),
            facility_type: "welfare_home".into(),
            beds: 320,
            risk: RiskClass::B,
        },
        TargetRecord {
            code: "F002".into(),
            name: "康乐, \"养老\"院".into(),
            district: "110108".into(),
            facility_type: "day_care".into(),
            beds: 0,
            risk: RiskClass::D,
        },
    ];
    let t = Table { header: headers(Kind::Targets).iter().map(|s| s.to_string()).collect(), rows: targets.iter().map(TargetRecord::row).collect() };
    assert_eq!(parse_targets(&t, &Districts::any()).unwrap(), targets);

    let inspectors = vec![InspectorRecord {
        certificate: "京执110105-0101".into(),
        name: "赵一".into(),
        district: "110105".into(),
        qualification: "行政执法证".into(),
        specialisms: BTreeSet::from(["fire".to_string(), "food".to_string()]),
        availability: Availability::Leave,
    }];
    let t = Table { header: headers(Kind::Inspectors).iter().map(|s| s.to_string()).collect(), rows: inspectors.iter().map(InspectorRecord::row).collect() };
    assert_eq!(t.rows[0][4], "消防、食品");
    assert_eq!(parse_inspectors(&t, &Districts::any()).unwrap(), inspectors);

    let conflicts = vec![ConflictRecord { certificate: "京执110105-0101".into(), facility: "F001".into(), relation: "financial_interest".into() }];
    let t = Table { header: headers(Kind::Conflicts).iter().map(|s| s.to_string()).collect(), rows: conflicts.iter().map(ConflictRecord::row).collect() };
    let known = BTreeSet::from(["京执110105-0101".to_string()]);
    let homes = BTreeMap::from([("F001".to_string(), "110105".to_string())]);
    assert_eq!(parse_conflicts(&t, &known, &homes, &Districts::any()).unwrap(), conflicts);
}
