//! The two directories: imports checked whole and written at once or not at all, scoped to the
//! importer's districts, and every change recorded as a snapshot addressed by its digest.

use super::Fixture;
use qingling_activities::db::entities::{directory_snapshot, directory_target, facility, user};
use qingling_activities::store::directory::{self, ImportError, Mode, SnapshotKind};
use qingling_activities::tables::{self, Format};
use qingling_rules::directory::{Kind, Table, headers};
use qingling_rules::draw;
use sea_orm::{EntityTrait, PaginatorTrait};

fn table(kind: Kind, rows: &[&[&str]]) -> Table {
    Table { header: headers(kind).iter().map(|s| s.to_string()).collect(), rows: rows.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect() }
}

async fn counts(f: &Fixture) -> (u64, u64, u64) {
    let db = &f.store.db;
    (
        facility::Entity::find().count(db).await.unwrap(),
        directory_target::Entity::find().count(db).await.unwrap(),
        directory_snapshot::Entity::find().count(db).await.unwrap(),
    )
}

async fn admin(f: &Fixture) -> user::Model {
    use sea_orm::{ColumnTrait, QueryFilter};
    user::Entity::find().filter(user::Column::Username.eq("admin")).one(&f.store.db).await.unwrap().unwrap()
}

fn problems(e: ImportError) -> Vec<String> {
    match e {
        ImportError::Refused(r) => r.problems.iter().map(|p| p.to_string()).collect(),
        other => panic!("expected a refused table, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bad_table_is_refused_whole_and_a_good_one_written_at_once_with_its_snapshot() {
    let f = Fixture::new().await;
    let before = counts(&f).await;
    let bad = table(
        Kind::Targets,
        &[
            &["BJ-001", "康乐养老院", "110105", "养老院", "80", "B"],
            &["BJ-002", "海淀区某敬老院", "110108", "养老院", "60", "A"],
            &["BJ-003", "颐养中心", "110105", "养老院", "many", "E"],
            &["BJ-001", "重复", "110105", "养老院", "10", "A"],
            &["BJ-004", "空\u{0}字符", "110105", "养老院", "10", "A"],
        ],
    );
    let refused = f.store.import_targets(&f.supervisor, &bad, Mode::Merge, false, 1).await.unwrap_err();
    assert_eq!(
        problems(refused),
        vec![
            "3:所在区: District 110108 is outside your region; you may change only 110105.",
            "4:床位数: \"many\" is not a whole number from 0 to 100000.",
            "4:风险等级: \"E\" is not one of: 甲 (A), 乙 (B), 丙 (C), 丁 (D).",
            "5:机构编码: \"BJ-001\" is already on row 2.",
            "6:机构名称: The cell contains invisible control characters.",
        ]
    );
    assert_eq!(counts(&f).await, before, "nothing written");

    let good =
        table(Kind::Targets, &[&["BJ-001", "康乐养老院", "110105", "养老院", "80", "B"], &["BJ-002", "双桥颐养中心", "110105", "日间照料中心", "20", "丁"]]);
    let dry = f.store.import_targets(&f.supervisor, &good, Mode::Merge, true, 1).await.unwrap();
    assert_eq!((dry.added, dry.changed, dry.written, dry.snapshot.is_none()), (2, 0, false, true));
    assert_eq!(counts(&f).await, before, "a dry run writes nothing");

    let done = f.store.import_targets(&f.supervisor, &good, Mode::Merge, false, 2).await.unwrap();
    assert_eq!((done.added, done.written), (2, true));
    assert_eq!(counts(&f).await, (before.0 + 2, 2, 1), "two new facilities, their entries and one snapshot");
    let snap = done.snapshot.unwrap();
    let targets = directory::targets_for_draw(&f.store.db).await.unwrap();
    assert_eq!(snap.sha256, draw::digest(&targets), "the snapshot is addressed by the digest of what a draw reads");
    let stored = f.store.directory_snapshot(SnapshotKind::Targets, &snap.sha256).await.unwrap().unwrap();
    assert_eq!(stored.content, draw::canonical_json(&targets));
    assert_eq!(
        targets.iter().map(|t| (t.id.as_str(), t.facility_type.as_str(), t.risk.as_str())).collect::<Vec<_>>(),
        [("BJ-001", "nursing_home", "B"), ("BJ-002", "day_care", "D")]
    );

    // The same table again changes nothing and names the same snapshot; a change makes a new one.
    let again = f.store.import_targets(&f.supervisor, &good, Mode::Merge, false, 3).await.unwrap();
    assert_eq!((again.added, again.unchanged, again.snapshot.as_ref().map(|s| s.id)), (0, 2, Some(snap.id)));
    let changed = table(Kind::Targets, &[&["BJ-001", "康乐养老院", "110105", "养老院", "90", "C"]]);
    let third = f.store.import_targets(&f.supervisor, &changed, Mode::Merge, false, 4).await.unwrap();
    assert_eq!((third.changed, third.unchanged), (1, 0));
    assert_ne!(third.snapshot.unwrap().sha256, snap.sha256);
    assert_eq!(f.store.directory_snapshots(SnapshotKind::Targets, 10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_replace_removes_only_what_the_importer_may_change() {
    let f = Fixture::new().await;
    let admin = admin(&f).await;
    let both = table(
        Kind::Targets,
        &[&["CY-1", "甲院", "110105", "养老院", "10", "A"], &["CY-2", "乙院", "110105", "养老院", "10", "A"], &["HD-1", "丙院", "110108", "养老院", "10", "A"]],
    );
    f.store.import_targets(&admin, &both, Mode::Merge, false, 1).await.unwrap();

    // Haidian's supervisor cannot take over a Chaoyang home by naming its code.
    let haidian = {
        use sea_orm::{ColumnTrait, QueryFilter};
        user::Entity::find().filter(user::Column::Username.eq("haidian")).one(&f.store.db).await.unwrap().unwrap()
    };
    let grab = table(Kind::Targets, &[&["CY-1", "甲院", "110108", "养老院", "10", "A"]]);
    assert_eq!(
        problems(f.store.import_targets(&haidian, &grab, Mode::Merge, true, 2).await.unwrap_err()),
        vec!["2:机构编码: District 110105 is outside your region; you may change only 110108."]
    );

    let only_one = table(Kind::Targets, &[&["CY-2", "乙院", "110105", "养老院", "10", "A"]]);
    let dry = f.store.import_targets(&f.supervisor, &only_one, Mode::Replace, true, 3).await.unwrap();
    assert_eq!((dry.removed, dry.removing.clone()), (1, vec!["CY-1".to_string()]), "Haidian's home is not the supervisor's to remove");
    f.store.import_targets(&f.supervisor, &only_one, Mode::Replace, false, 3).await.unwrap();
    let left: Vec<String> = directory::targets_for_draw(&f.store.db).await.unwrap().into_iter().map(|t| t.id).collect();
    assert_eq!(left, ["CY-2", "HD-1"]);
    assert_eq!(facility::Entity::find().count(&f.store.db).await.unwrap(), 6, "a home left out of the directory keeps its facility and cases");

    // Only administrators and supervisors maintain the directories.
    assert!(matches!(f.store.import_targets(&f.facility_user, &only_one, Mode::Merge, true, 4).await, Err(ImportError::NotAllowed)));
}

#[tokio::test]
async fn inspectors_and_their_conflicts_make_the_inspectors_snapshot() {
    let f = Fixture::new().await;
    f.store
        .import_targets(
            &admin(&f).await,
            &table(Kind::Targets, &[&["CY-1", "甲院", "110105", "养老院", "10", "A"], &["HD-1", "丙院", "110108", "养老院", "10", "A"]]),
            Mode::Merge,
            false,
            1,
        )
        .await
        .unwrap();
    // inspector1 has an account with this certificate; the second has none.
    {
        use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set};
        let u = user::Entity::find().filter(user::Column::Username.eq("inspector1")).one(&f.store.db).await.unwrap().unwrap();
        let mut a: user::ActiveModel = u.into();
        a.certificate = Set(Some("京执110105-0101".into()));
        a.update(&f.store.db).await.unwrap();
    }
    let people = table(
        Kind::Inspectors,
        &[&["京执110105-0101", "赵一", "110105", "行政执法证", "消防、食品", "在岗"], &["京执110105-0102", "钱二", "110105", "", "medical", "休假"]],
    );
    let done = f.store.import_inspectors(&f.supervisor, &people, Mode::Merge, false, 1).await.unwrap();
    assert_eq!(done.added, 2);

    let conflicts =
        table(Kind::Conflicts, &[&["京执110105-0101", "CY-1", "亲属"], &["京执110105-0101", "HD-1", "原工作单位"], &["京执110105-9999", "CY-1", "亲属"]]);
    assert_eq!(
        problems(f.store.import_conflicts(&f.supervisor, &conflicts, Mode::Merge, false, 2).await.unwrap_err()),
        vec![
            "3:机构编码: District 110108 is outside your region; you may change only 110105.",
            "4:执法证号: \"京执110105-9999\" is not in the inspectors directory.",
        ]
    );
    let ok = table(Kind::Conflicts, &[&["京执110105-0101", "CY-1", "亲属"]]);
    let written = f.store.import_conflicts(&f.supervisor, &ok, Mode::Merge, false, 2).await.unwrap();
    let dir = directory::inspectors_for_draw(&f.store.db).await.unwrap();
    assert_eq!(written.snapshot.unwrap().sha256, draw::digest(&dir));
    let available: Vec<(&str, bool)> = dir.inspectors.iter().map(|i| (i.id.as_str(), i.available)).collect();
    assert_eq!(available, [("京执110105-0101", true), ("京执110105-0102", false)], "on leave, and without an account: not drawable");
    assert_eq!(dir.inspectors[0].specialisms.iter().map(String::as_str).collect::<Vec<_>>(), ["fire", "food"]);
    assert_eq!((dir.conflicts.len(), dir.conflicts[0].relation.as_str()), (1, "relative"));

    // Removing the inspector removes their conflicts, in the same snapshot.
    let none = table(Kind::Inspectors, &[&["京执110105-0102", "钱二", "110105", "", "medical", "休假"]]);
    f.store.import_inspectors(&f.supervisor, &none, Mode::Replace, false, 3).await.unwrap();
    let dir = directory::inspectors_for_draw(&f.store.db).await.unwrap();
    assert_eq!((dir.inspectors.len(), dir.conflicts.len()), (1, 0));

    // The export reads back as the same table.
    let rows = f.store.directory_rows(&f.supervisor, Kind::Inspectors).await.unwrap();
    assert_eq!(rows, vec![vec!["京执110105-0102", "钱二", "110105", "", "医疗", "休假"]]);
}

#[tokio::test]
async fn an_xlsx_file_is_read_and_refused_like_a_csv_file() {
    let f = Fixture::new().await;
    let rows = vec![vec!["BJ-001".to_string(), "康乐养老院".into(), "110105".into(), "养老院".into(), "80".into(), "Z".into()]];
    for format in [Format::Csv, Format::Xlsx] {
        let bytes = tables::write(format, &headers(Kind::Targets), &rows).unwrap();
        let t = tables::read(format, &bytes).unwrap();
        assert_eq!(
            problems(f.store.import_targets(&f.supervisor, &t, Mode::Merge, false, 1).await.unwrap_err()),
            vec!["2:风险等级: \"Z\" is not one of: 甲 (A), 乙 (B), 丙 (C), 丁 (D)."],
            "{format:?}"
        );
    }
    assert_eq!(directory_target::Entity::find().count(&f.store.db).await.unwrap(), 0);
}
