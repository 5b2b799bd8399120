//! The level rule at every boundary, on the built-in policy's numbers.

use super::*;
use crate::Policy;

fn rules() -> RatingRules {
    Policy::builtin().rating
}

/// Scores in points (tenths allowed as `x.5`).
fn scores(e: &str, f: &str, o: &str, s: &str) -> Scores {
    Scores::parse([e, f, o, s], &rules()).expect("valid scores")
}

fn awarded(e: &str, f: &str, o: &str, s: &str, applied: Option<u8>) -> u8 {
    level(&scores(e, f, o, s), applied, &rules()).expect("a level").awarded
}

#[test]
fn each_level_is_earned_at_exactly_its_floors_and_lost_a_tenth_below() {
    // (level, the four sections exactly at the level's share of 120/130/150/600)
    let cases = [
        (5, ["108", "117", "135", "540"]), // 900 total: exactly the total floor too
        (4, ["96", "104", "120", "480"]),  // 80 %: 800 ≥ 780
        (3, ["72", "78", "90", "360"]),    // 60 %: 600 ≥ 570
        (2, ["60", "65", "75", "300"]),    // 50 %: 500 ≥ 450
        (1, ["48", "52", "60", "240"]),    // 40 %: 400 ≥ 360
    ];
    for (want, s) in cases {
        assert_eq!(awarded(s[0], s[1], s[2], s[3], None), want, "{s:?} is level {want}");
        // One tenth of a point below the share in any one section drops a level.
        for i in 0..4 {
            let mut lower = s.map(|x| x.to_string());
            let t = parse_tenths(&lower[i]).unwrap() - 1;
            lower[i] = points(t);
            let got = awarded(&lower[0], &lower[1], &lower[2], &lower[3], None);
            assert_eq!(got, want - 1, "{lower:?}: a tenth below the share of section {i}");
        }
    }
}

#[test]
fn the_total_floor_counts_where_the_section_shares_alone_do_not_reach_it() {
    // With a policy whose section floors sum below the total floor, the total decides.
    let mut r = rules();
    r.levels[4].section_permille = 850; // 85 % of each section sums to 850 < 900
    let at = |e, f, o, s| level(&Scores::parse([e, f, o, s], &r).unwrap(), None, &r).unwrap();
    let shares_only = at("102", "110.5", "127.5", "510"); // exactly 85 %, total 850
    assert_eq!(shares_only.awarded, 4);
    let limit: Vec<_> = shares_only.limited_by.iter().map(|c| c.section).collect();
    assert_eq!(limit, [None], "only the total holds level 5 back: {:?}", shares_only.limited_by);
    assert_eq!(at("102", "110.5", "127.5", "560").awarded, 5, "total 900 exactly");
    assert_eq!(at("102", "110.5", "127.5", "559.9").awarded, 4, "a tenth short of 900");
}

#[test]
fn the_level_is_capped_at_the_level_applied_for_and_says_so() {
    let e = level(&scores("120", "130", "150", "600"), Some(3), &rules()).unwrap();
    assert_eq!((e.reached, e.awarded), (5, 3));
    assert!(e.limited_by.is_empty());
    assert!(e.lines().iter().any(|l| l.contains("level 5 reached, capped at the level applied for")), "{:?}", e.lines());
    assert_eq!(awarded("120", "130", "150", "600", Some(5)), 5);
    assert_eq!(awarded("60", "65", "75", "300", Some(4)), 2, "the cap never raises a level");
    assert_eq!(level(&scores("1", "1", "1", "1"), Some(6), &rules()).unwrap_err().code, "rating.applied_level");
    assert_eq!(level(&scores("1", "1", "1", "1"), Some(0), &rules()).unwrap_err().code, "rating.applied_level");
}

#[test]
fn no_level_is_zero_and_the_explanation_names_what_level_one_needs() {
    let e = level(&scores("0", "0", "0", "0"), None, &rules()).unwrap();
    assert_eq!((e.reached, e.awarded), (0, 0));
    assert_eq!(e.limited_by.len(), 5, "the total and every section fall short of level 1");
    let lines = e.lines();
    assert_eq!(lines.last().map(String::as_str), Some("0"), "the last line is the level");
    assert!(lines.iter().any(|l| l == "  total 0 of at least 360: not held"), "{lines:?}");
    assert!(lines.iter().any(|l| l == "  environment 0 of 120 (0 %), at least 40 % (48): not held"), "{lines:?}");
    assert_eq!(lines.len(), 5 * 6 + 2, "five levels of five conditions with a heading, the verdict, the level");
}

#[test]
fn a_level_is_explained_condition_by_condition() {
    let e = level(&scores("100", "117", "135", "548"), None, &rules()).unwrap();
    assert_eq!(e.awarded, 4, "environment 100/120 is 83.3 %, below level 5's 90 %");
    let limits: Vec<String> = e.limited_by.iter().map(Condition::line).collect();
    assert_eq!(limits, ["environment 100 of 120 (83.3 %), at least 90 % (108): not held"]);
    let lines = e.lines();
    assert_eq!(lines.last().map(String::as_str), Some("4"));
    assert!(lines.iter().any(|l| l.starts_with("awarded: level 4; level 5 needs environment 100 of 120")), "{lines:?}");
}

#[test]
fn scores_that_are_not_scores_are_refused_by_section() {
    let r = rules();
    for (texts, code) in [
        (["121", "0", "0", "0"], "rating.score_out_of_range"),
        (["0", "0", "0", "600.1"], "rating.score_out_of_range"),
        (["-1", "0", "0", "0"], "rating.score_not_a_number"),
        (["1e2", "0", "0", "0"], "rating.score_not_a_number"),
        (["1.25", "0", "0", "0"], "rating.score_not_a_number"),
        (["", "0", "0", "0"], "rating.score_not_a_number"),
        (["0", "九十", "0", "0"], "rating.score_not_a_number"),
        (["0", "0", "1\u{0}", "0"], "rating.score_not_a_number"),
    ] {
        assert_eq!(Scores::parse(texts, &r).unwrap_err().code, code, "{texts:?}");
    }
    assert_eq!(Scores::parse(["97.5", " 130 ", "0.5", "600"], &r).unwrap().tenths, [975, 1300, 5, 6000]);
}

#[test]
fn the_policy_refuses_levels_out_of_order_or_asking_less_than_the_one_below() {
    let mut p = rules();
    p.levels[3].total = p.levels[2].total;
    assert!(crate::policy::tests::validate_rating(&p).is_err_and(|e| e.to_string().contains("rating.levels[3]")));
    let mut p = rules();
    p.levels.pop();
    assert!(crate::policy::tests::validate_rating(&p).is_err());
    let mut p = rules();
    p.sections.service = 0;
    assert!(crate::policy::tests::validate_rating(&p).is_err_and(|e| e.to_string().contains("rating.sections.service")));
    assert!(crate::policy::tests::validate_rating(&rules()).is_ok());
}

/// Local midnight of a Beijing date, in ms.
fn at(date: &str) -> i64 {
    let cal = Policy::builtin().calendar;
    cal.end_of_day_ms(chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap().pred_opt().unwrap())
}

fn codes(level: u8, record: &Record, now: &str) -> Vec<String> {
    let p = Policy::builtin();
    check_application(level, record, at(now), &p.rating, &p.calendar).into_iter().map(|r| r.code).collect()
}

fn record() -> Record {
    Record { operating_since_ms: at("2024-03-01"), ..Record::default() }
}

#[test]
fn a_home_operating_twelve_months_with_a_clean_record_may_apply() {
    assert!(codes(3, &record(), "2026-12-07").is_empty());
    // Twelve months from 2025-12-07 end with that day in 2026: the next day it may apply.
    let young = Record { operating_since_ms: at("2025-12-07"), ..record() };
    assert_eq!(codes(1, &young, "2026-12-07"), ["rating.operating_too_short"]);
    assert!(codes(1, &young, "2026-12-08").is_empty());
}

#[test]
fn a_first_application_asks_for_level_three_at_most() {
    assert_eq!(codes(4, &record(), "2026-12-07"), ["rating.first_too_high"]);
    assert!(codes(4, &Record { rated_before: true, ..record() }, "2026-12-07").is_empty(), "not a first application");
    assert_eq!(codes(6, &record(), "2026-12-07"), ["rating.applied_level"]);
}

#[test]
fn penalties_incidents_and_the_blacklist_bar_an_application_for_their_periods() {
    let penalised = Record { penalties_ms: vec![at("2023-01-05"), at("2025-06-10")], ..record() };
    assert_eq!(codes(2, &penalised, "2027-06-10"), ["rating.recent_penalty"], "two years from 2025-06-10 end with that day");
    assert!(codes(2, &penalised, "2027-06-11").is_empty());
    let incident = Record { incidents_ms: vec![at("2024-02-01")], ..record() };
    assert_eq!(codes(2, &incident, "2027-02-01"), ["rating.recent_incident"]);
    assert!(codes(2, &incident, "2027-02-02").is_empty());
    assert_eq!(codes(2, &Record { blacklisted: true, ..record() }, "2026-12-07"), ["rating.blacklisted"]);
    // Every reason at once, each named.
    let all = Record { operating_since_ms: at("2026-06-01"), penalties_ms: vec![at("2026-01-01")], blacklisted: true, ..record() };
    assert_eq!(codes(4, &all, "2026-12-07"), ["rating.operating_too_short", "rating.first_too_high", "rating.recent_penalty", "rating.blacklisted"]);
}

#[test]
fn an_upgrade_waits_twelve_months_and_a_failure_bars_the_same_or_higher_level() {
    let rated = Record { current: Some((3, at("2026-01-12"))), rated_before: true, ..record() };
    assert_eq!(codes(4, &rated, "2027-01-12"), ["rating.upgrade_too_soon"]);
    assert_eq!(codes(4, &rated, "2027-01-13"), Vec::<String>::new());
    // A period that ends on a day off ends with the next working day, as every deadline does:
    // twelve months from 2026-01-10 reach Sunday 2027-01-10, so the upgrade waits for Tuesday.
    let weekend = Record { current: Some((3, at("2026-01-10"))), rated_before: true, ..record() };
    assert_eq!(codes(4, &weekend, "2027-01-11"), ["rating.upgrade_too_soon"]);
    assert_eq!(codes(4, &weekend, "2027-01-12"), Vec::<String>::new());
    assert!(codes(3, &rated, "2026-06-01").is_empty(), "renewing the level held is not an upgrade");
    let failed = Record { failed: vec![(4, at("2025-09-01"))], rated_before: true, ..record() };
    assert_eq!(codes(4, &failed, "2027-09-01"), ["rating.failed_recently"]);
    assert_eq!(codes(5, &failed, "2027-09-01"), ["rating.failed_recently"], "nor a higher one");
    assert!(codes(3, &failed, "2027-09-01").is_empty(), "a lower level may be sought");
    assert!(codes(4, &failed, "2027-09-02").is_empty());
}

#[test]
fn each_refusal_says_when_it_lifts() {
    let p = Policy::builtin();
    let young = Record { operating_since_ms: at("2026-03-15"), ..record() };
    let r = check_application(1, &young, at("2026-12-07"), &p.rating, &p.calendar);
    let text = r[0].message(crate::messages::Locale::ZhCn);
    assert!(text.contains("2026-03-15") && text.contains("2027-03-16"), "{text}");
}
