//! Plans checked against the policy, the dates derived from a draw, and cron runs on the
//! working-day calendar.

use super::*;
use crate::refusal::Refusal;

fn known() -> (BTreeSet<String>, BTreeSet<String>) {
    (BTreeSet::from(["joint-inspection".to_string(), "fire-major-hazard".to_string()]), BTreeSet::from(["110105".to_string(), "110106".to_string()]))
}

fn input() -> PlanInput {
    PlanInput {
        title: "2027年第一季度养老机构双随机抽查".into(),
        templates: vec!["fire-major-hazard".into()],
        window: PolicyDuration::WorkingDays(20),
        sources: vec![SourceName { name: "福利彩票双色球第2027010期红球".into(), kind: "numbers".into() }],
        exclude_inspected_this_year: true,
        ..PlanInput::default()
    }
}

fn check(i: &PlanInput) -> Result<CampaignPlan, Refusal> {
    let (templates, districts) = known();
    check_plan(i, &Policy::builtin(), &Known { templates: &templates, districts: &districts })
}

#[test]
fn a_plan_takes_the_policys_numbers_where_it_says_nothing() {
    let p = check(&input()).unwrap();
    assert_eq!(p.districts, ["110105", "110106"], "every district the planner plans for, written out");
    assert_eq!((p.team_size, p.load_cap), (2, 10));
    assert_eq!(p.ratio_permille.values().copied().collect::<Vec<_>>(), [50, 200, 600, 1000]);
    let mine = PlanInput { ratio_permille: BTreeMap::from([(RiskClass::A, 100)]), team_size: 3, ..input() };
    let p = check(&mine).unwrap();
    assert_eq!((p.ratio_permille[&RiskClass::A], p.ratio_permille[&RiskClass::B], p.team_size), (100, 200, 3));
    let d = p.draw_plan(NaiveDate::from_ymd_opt(2027, 3, 2).unwrap());
    assert_eq!(d.exclude_inspected_since.as_deref(), Some("2027-01-01"));
    assert_eq!(d.items, ["fire-major-hazard"]);
}

#[test]
fn a_bad_plan_is_refused_naming_the_field() {
    let cases: Vec<(PlanInput, &str, &str)> = vec![
        (PlanInput { title: " ".into(), ..input() }, "campaign.required", "title"),
        (PlanInput { title: "a\u{0}b".into(), ..input() }, "campaign.control_chars", "title"),
        (PlanInput { templates: vec![], ..input() }, "campaign.required", "templates"),
        (PlanInput { templates: vec!["rating-sheet".into()], ..input() }, "campaign.unknown_value", "templates"),
        (PlanInput { templates: vec!["fire-major-hazard".into(), "fire-major-hazard".into()], ..input() }, "campaign.repeated", "templates"),
        (PlanInput { districts: vec!["110108".into()], ..input() }, "campaign.outside_region", "districts"),
        (PlanInput { facility_types: vec!["宾馆".into()], ..input() }, "campaign.unknown_value", "facility_types"),
        (PlanInput { ratio_permille: BTreeMap::from([(RiskClass::C, 1001)]), ..input() }, "campaign.ratio", "ratio_permille"),
        (PlanInput { team_size: 1, ..input() }, "campaign.team_too_small", "team_size"),
        (PlanInput { team_size: 21, ..input() }, "campaign.team_too_large", "team_size"),
        (
            PlanInput { required_specialisms: vec!["fire".into(), "food".into(), "medical".into()], ..input() },
            "campaign.too_many_specialisms",
            "required_specialisms",
        ),
        (PlanInput { required_specialisms: vec!["magic".into()], ..input() }, "campaign.unknown_value", "required_specialisms"),
        (PlanInput { load_cap: 11, ..input() }, "campaign.load_cap", "load_cap"),
        (PlanInput { window: PolicyDuration::Hours(0), ..input() }, "campaign.window_zero", "window"),
        (PlanInput { sources: vec![], ..input() }, "campaign.required", "sources"),
        (PlanInput { sources: vec![SourceName { name: "x".into(), kind: "dice".into() }], ..input() }, "campaign.source_kind", "sources"),
        (PlanInput { departments: vec!["消防\n救援".into()], ..input() }, "campaign.control_chars", "departments"),
    ];
    for (plan, code, field) in cases {
        let r = check(&plan).unwrap_err();
        assert_eq!((r.code.as_str(), r.field()), (code, Some(field)), "{plan:?}");
        for locale in crate::messages::Locale::ALL {
            let text = r.message(locale);
            assert!(!text.contains('{') && !text.starts_with("campaign."), "{code} in {locale:?}: {text}");
        }
    }
    assert!(check(&PlanInput { required_specialisms: vec!["消防".into()], ..input() }).is_ok(), "specialisms by Chinese name");
}

#[test]
fn the_dates_follow_the_working_day_calendar() {
    let p = check(&input()).unwrap();
    let policy = Policy::builtin();
    let cal = &policy.calendar;
    // Drawn on Wednesday 30 September 2026 at 10:00: the National Day holiday is not counted.
    let at = FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2026, 9, 30, 10, 0, 0).unwrap().timestamp_millis();
    let d = dates(&p, &policy, at);
    assert_eq!(cal.local_date(d.assign_by_ms - 1), NaiveDate::from_ymd_opt(2026, 10, 9).unwrap(), "two working days: Thu 8, Fri 9 October");
    assert_eq!(d.window_end_ms, cal.due_ms(at, PolicyDuration::WorkingDays(20)));
    assert_eq!(d.publish_by_ms, cal.due_ms(d.window_end_ms, PolicyDuration::WorkingDays(20)));
    let quick = PlanInput { window: PolicyDuration::Seconds(4), ..input() };
    let q = dates(&check(&quick).unwrap(), &policy, at);
    assert_eq!(q.window_end_ms, at + 4000, "tests run the same rules in seconds");
}

#[test]
fn cron_expressions_are_read_as_temporal_reads_them() {
    assert_eq!(parse_cron(" 0 9 1 3,9 * ").unwrap().text, "0 9 1 3,9 *");
    assert!(parse_cron("*/2 * * * * * *").is_ok(), "seconds, for tests");
    for (bad, why) in
        [("0 9 * *", "4 fields"), ("0 0 9 * * MON", "6 fields"), ("0 9 * * 1-5", "by name"), ("0 25 * * *", "25"), ("0 9 * * MON\u{0}", "control")]
    {
        let r = parse_cron(bad).unwrap_err();
        let text = r.message(crate::messages::Locale::En);
        assert!(r.code == "campaign.cron" && text.contains(why), "{bad:?}: {text}");
    }
}

#[test]
fn the_next_runs_move_off_days_off_to_the_next_working_day() {
    let policy = Policy::builtin();
    let cal = &policy.calendar;
    // 09:00 on the 1st of each month, from 15 September 2026 (Beijing time).
    let from = FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2026, 9, 15, 12, 0, 0).unwrap().timestamp_millis();
    let runs = parse_cron("0 9 1 * *").unwrap().next_runs(cal, from, 5);
    let got: Vec<(String, String, bool)> = runs.iter().map(|r| (r.at.format("%Y-%m-%d %H:%M %:z").to_string(), r.effective.to_string(), r.moved)).collect();
    assert_eq!(got[0], ("2026-10-01 09:00 +08:00".into(), "2026-10-08".into(), true), "National Day: moved to the first working day after the holiday");
    assert_eq!(got[1], ("2026-11-01 09:00 +08:00".into(), "2026-11-02".into(), true), "a Sunday");
    assert_eq!(got[2], ("2026-12-01 09:00 +08:00".into(), "2026-12-01".into(), false), "a Tuesday");
    assert_eq!(runs.len(), 5);
    assert!(parse_cron("*/2 * * * * * *").unwrap().runs_closer_than(from, 86_400_000));
    assert!(!parse_cron("0 9 1 * *").unwrap().runs_closer_than(from, 86_400_000));
    assert_eq!(timezone_name(8 * 3600).as_deref(), Some("Etc/GMT-8"));
    assert_eq!(timezone_name(-5 * 3600).as_deref(), Some("Etc/GMT+5"));
    assert_eq!(timezone_name(5 * 3600 + 1800), None);
}

#[test]
fn a_recurring_plan_runs_no_more_often_than_the_policy_allows() {
    let policy = Policy::builtin();
    let now = FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap().timestamp_millis();
    assert!(check_cron("0 9 1 3,9 *", &policy, now).is_ok());
    let r = check_cron("0 */6 * * *", &policy, now).unwrap_err();
    assert_eq!(r.code, "campaign.cron_too_often");
    assert!(r.message(crate::messages::Locale::En).contains("0 */6 * * *"), "{}", r.message(crate::messages::Locale::En));
}
