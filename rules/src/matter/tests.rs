//! Table tests of the matter state machine: transitions, refusals, deadlines and escalation.

use super::*;
use crate::messages::Locale;
use chrono::{FixedOffset, TimeZone};

fn at(y: i32, mo: u32, d: u32, h: u32) -> i64 {
    FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(y, mo, d, h, 0, 0).unwrap().timestamp_millis()
}

fn actor(role: Role, facility: Option<i64>) -> Actor {
    Actor { user_id: 1, name: "someone".into(), role, facility_id: facility }
}

fn facility() -> Actor {
    actor(Role::Facility, Some(7))
}
fn supervisor() -> Actor {
    actor(Role::Supervisor, None)
}
fn inspector() -> Actor {
    actor(Role::Inspector, None)
}

fn open(severity: Severity, now: i64, policy: &Policy) -> Matter {
    let new = NewMatter {
        id: "m1".into(),
        facility_id: 7,
        kind: MatterKind::Rectification,
        severity,
        title: "灭火器过期".into(),
        description: String::new(),
        basis: "GB 38600-2019 4.1".into(),
        issued_by: supervisor(),
        issued_ms: None,
        rectify_due_ms: None,
        measures_due_ms: None,
    };
    Matter::open(&new, now, policy).0
}

fn evidence() -> Vec<EvidenceRef> {
    vec![EvidenceRef { sha256: "ab".repeat(32), name: "photo.jpg".into(), content_type: "image/jpeg".into(), bytes: 10 }]
}

fn due(m: &Matter, kind: DeadlineKind) -> i64 {
    m.open_deadline(kind).unwrap_or_else(|| panic!("{kind} open")).due_ms
}

#[test]
fn an_ordinary_matter_gets_the_13710_deadlines_on_the_working_day_calendar() {
    let p = Policy::builtin();
    // Friday 2026-09-25, a holiday itself: feedback 3d → 09-28 (Mon); rectify 7d → 10-02 → 10-08.
    let m = open(Severity::Ordinary, at(2026, 9, 25, 10), &p);
    assert_eq!(due(&m, DeadlineKind::Acknowledge), at(2026, 9, 29, 0), "same day → next working day 09-28 ends at 09-29 00:00");
    assert_eq!(due(&m, DeadlineKind::Feedback), at(2026, 9, 29, 0));
    assert_eq!(due(&m, DeadlineKind::Rectify), at(2026, 10, 9, 0));
    assert_eq!(m.status, Status::Issued);
}

#[test]
fn a_major_matter_has_a_month() {
    let p = Policy::builtin();
    let m = open(Severity::Major, at(2026, 9, 1, 9), &p);
    // 2026-10-01 falls in National Day: the month ends on 10-08.
    assert_eq!(due(&m, DeadlineKind::Rectify), at(2026, 10, 9, 0));
}

#[test]
fn a_matter_runs_to_closure() {
    let p = Policy::builtin();
    let t0 = at(2026, 11, 23, 9);
    let mut m = open(Severity::Ordinary, t0, &p);
    m.apply(&facility(), &Action::Acknowledge { handler: "王主任".into() }, t0 + 1000, &p).unwrap();
    assert_eq!(m.status, Status::Acknowledged);
    m.apply(&facility(), &Action::Feedback { text: "已购买新灭火器".into(), plan: vec![] }, t0 + 2000, &p).unwrap();
    assert_eq!(m.status, Status::FeedbackGiven);
    m.apply(&facility(), &Action::SubmitEvidence { note: "已更换".into(), evidence: evidence() }, t0 + 3000, &p).unwrap();
    assert_eq!(m.status, Status::EvidenceSubmitted);
    // Re-check within 3 working days: Mon 11-23 → Thu 11-26.
    assert_eq!(due(&m, DeadlineKind::Recheck), at(2026, 11, 27, 0));
    let effects = m.apply(&inspector(), &Action::Recheck { passed: true, note: String::new() }, t0 + 4000, &p).unwrap();
    assert_eq!(m.status, Status::Closed);
    assert!(m.deadlines.iter().all(|d| !d.is_open()));
    assert_eq!(m.next_wake_ms(), None);
    let kinds: Vec<_> = effects.iter().filter_map(|e| if let Effect::Record { event, .. } = e { Some(event.kind()) } else { None }).collect();
    assert_eq!(kinds, ["recheck_passed", "closed"]);
}

#[test]
fn invalid_actions_are_refused_with_a_reason_and_change_nothing() {
    let p = Policy::builtin();
    let t0 = at(2026, 11, 23, 9);
    let m = open(Severity::Ordinary, t0, &p);
    let other_facility = actor(Role::Facility, Some(8));
    let cases: Vec<(Actor, Action, &str, &str)> = vec![
        (
            facility(),
            Action::SubmitEvidence { note: String::new(), evidence: evidence() },
            "reject.wrong_state",
            "The matter is \"Issued\"; \"Submit evidence\" is not possible now.",
        ),
        (other_facility, Action::Acknowledge { handler: "x".into() }, "reject.not_your_facility", "You can only act on your own facility's matters."),
        (inspector(), Action::Acknowledge { handler: "x".into() }, "reject.role_not_allowed", "A Inspector cannot \"Acknowledge and name a handler\"."),
        (facility(), Action::Acknowledge { handler: "  ".into() }, "reject.empty_field", "Please fill in \"Handler\"."),
        (facility(), Action::Recheck { passed: true, note: String::new() }, "reject.role_not_allowed", ""),
        (supervisor(), Action::Withdraw { reason: " ".into() }, "reject.reason_required", ""),
        (supervisor(), Action::DecideExtension { approve: true, extend_by: None, reason: String::new() }, "reject.extension_none", ""),
        (
            facility(),
            Action::RequestExtension { deadline: DeadlineKind::Rectify, extend_by: "3 weeks".into(), reason: "缺货".into() },
            "reject.bad_duration",
            "",
        ),
        (
            facility(),
            Action::RequestExtension { deadline: DeadlineKind::Rectify, extend_by: "2mo".into(), reason: "缺货".into() },
            "reject.extension_too_long",
            "One extension may not exceed 1 month.",
        ),
        (facility(), Action::RequestExtension { deadline: DeadlineKind::Recheck, extend_by: "3d".into(), reason: "x".into() }, "reject.extension_not_open", ""),
    ];
    for (who, action, code, english) in cases {
        let mut copy = m.clone();
        let err = copy.apply(&who, &action, t0 + 1000, &p).unwrap_err();
        assert_eq!(err.code, code, "{action:?}");
        if !english.is_empty() {
            assert_eq!(err.message(Locale::En), english);
        }
        assert!(!err.message(Locale::ZhCn).contains("reject."), "translated: {}", err.message(Locale::ZhCn));
        assert_eq!(copy, m, "a refused action changes nothing");
        assert_eq!(Refusal::from_wire(&format!("update rejected: {}", err.to_wire())), Some(err));
    }
}

#[test]
fn a_major_matter_needs_a_dated_plan_and_then_reports_monthly() {
    let p = Policy::builtin();
    let t0 = at(2026, 11, 2, 9);
    let mut m = open(Severity::Major, t0, &p);
    m.apply(&facility(), &Action::Acknowledge { handler: "李院长".into() }, t0, &p).unwrap();
    let no_plan = m.apply(&facility(), &Action::Feedback { text: "进行中".into(), plan: vec![] }, t0, &p).unwrap_err();
    assert_eq!(no_plan.code, "reject.plan_required");
    let backwards = vec![
        Milestone { date: "2026-11-20".parse().unwrap(), what: "改造完成".into() },
        Milestone { date: "2026-11-10".parse().unwrap(), what: "采购".into() },
    ];
    let refused = m.apply(&facility(), &Action::Feedback { text: "x".into(), plan: backwards }, t0, &p).unwrap_err();
    assert_eq!(refused.code, "reject.plan_dates");
    // Both refusals name the field, so the API's error carries `field` and the form marks it.
    for r in [&no_plan, &refused] {
        assert!(r.args.contains(&("field".into(), "field.plan".into())), "{r:?}");
    }
    let plan = vec![
        Milestone { date: "2026-11-10".parse().unwrap(), what: "采购".into() },
        Milestone { date: "2026-11-30".parse().unwrap(), what: "改造完成".into() },
    ];
    m.apply(&facility(), &Action::Feedback { text: "计划如下".into(), plan: plan.clone() }, t0, &p).unwrap();
    assert_eq!(m.plan, plan);
    // Monthly report due 2026-12-02.
    assert_eq!(due(&m, DeadlineKind::Report), at(2026, 12, 3, 0));
    // A later report meets it and starts the next month.
    let t1 = at(2026, 12, 1, 9);
    m.apply(&facility(), &Action::Feedback { text: "12月进展".into(), plan: vec![] }, t1, &p).unwrap();
    // One month ends on 2027-01-01: 元旦, a statutory day off (2027 is provisional), then a
    // weekend, so the report is due on Monday 01-04.
    assert_eq!(due(&m, DeadlineKind::Report), at(2027, 1, 5, 0));
    assert_eq!(m.deadlines.iter().filter(|d| d.kind == DeadlineKind::Report).count(), 2);
}

fn fast() -> Policy {
    Policy::parse(
        r#"
        [policy]
        extends = "builtin"
        name = "fast"
        [deadlines.rectification.ordinary]
        acknowledge = "2s"
        feedback = "2s"
        rectify = "10s"
        recheck = "2s"
        [input]
        min_extension = "1s"
        [extension]
        max_per_matter = 2
        max_each = "30s"
        [[escalation]]
        id = "reminder"
        after = "0s"
        notify = ["facility"]
        [[escalation]]
        id = "supervision_blue"
        after = "2s"
        notify = ["facility", "supervisor"]
        [[escalation]]
        id = "supervision_orange"
        after = "2s"
        notify = ["supervisor"]
        "#,
    )
    .unwrap()
}

fn escalations(effects: &[Effect]) -> Vec<(String, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Record { event: Event::Escalated { deadline, step, .. }, .. } => Some((deadline.to_string(), step.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn missed_deadlines_climb_the_ladder_step_by_step_and_stop_at_the_top() {
    let p = fast();
    let t0 = 1_000_000;
    let mut m = open(Severity::Ordinary, t0, &p);
    assert_eq!(m.next_wake_ms(), Some(t0 + 2000));
    assert!(m.tick(t0 + 1999, &p).is_empty(), "nothing before the deadline");
    let e = m.tick(t0 + 2000, &p);
    assert_eq!(escalations(&e), [("acknowledge".into(), "reminder".into()), ("feedback".into(), "reminder".into())]);
    assert_eq!(m.escalation_level, 1);
    // The reminder notifies the facility only; blue also the supervisor.
    let audiences: Vec<_> = e.iter().filter_map(|x| if let Effect::Notify { audience, .. } = x { Some(audience.clone()) } else { None }).collect();
    assert_eq!(audiences[0], vec![Audience::Facility]);
    assert_eq!(m.next_wake_ms(), Some(t0 + 4000));
    // A late wake-up catches up on every step that fell due, in order.
    let e = m.tick(t0 + 7000, &p);
    assert_eq!(
        escalations(&e).iter().filter(|(d, _)| d == "acknowledge").map(|(_, s)| s.as_str()).collect::<Vec<_>>(),
        ["supervision_blue", "supervision_orange"]
    );
    assert_eq!(m.escalation_level, 3);
    assert!(m.tick(t0 + 9000, &p).is_empty(), "the ladder has three steps");
    // Acknowledging stops that deadline's ladder; the rectify deadline still runs.
    m.apply(&facility(), &Action::Acknowledge { handler: "h".into() }, t0 + 9500, &p).unwrap();
    assert_eq!(m.next_wake_ms(), Some(t0 + 10_000));
    assert_eq!(m.escalation_level, 3, "the level reached stays on record");
}

#[test]
fn an_approved_extension_moves_the_deadline_and_resets_its_ladder() {
    let p = fast();
    let t0 = 1_000_000;
    let mut m = open(Severity::Ordinary, t0, &p);
    m.apply(&facility(), &Action::Acknowledge { handler: "h".into() }, t0, &p).unwrap();
    m.apply(&facility(), &Action::Feedback { text: "t".into(), plan: vec![] }, t0, &p).unwrap();
    let e = m.tick(t0 + 10_000, &p);
    assert_eq!(escalations(&e), [("rectify".into(), "reminder".into())]);
    m.apply(&facility(), &Action::RequestExtension { deadline: DeadlineKind::Rectify, extend_by: "20s".into(), reason: "等配件".into() }, t0 + 10_500, &p)
        .unwrap();
    let again =
        m.apply(&facility(), &Action::RequestExtension { deadline: DeadlineKind::Rectify, extend_by: "5s".into(), reason: "再等".into() }, t0 + 10_600, &p);
    assert_eq!(again.unwrap_err().code, "reject.extension_pending");
    m.apply(&supervisor(), &Action::DecideExtension { approve: true, extend_by: Some("15s".into()), reason: "同意".into() }, t0 + 11_000, &p).unwrap();
    let d = m.open_deadline(DeadlineKind::Rectify).unwrap();
    assert_eq!(d.due_ms, t0 + 25_000, "approved 15s on top of the old due time");
    assert_eq!((d.steps_taken, d.next_step_ms), (0, Some(t0 + 25_000)));
    assert_eq!(m.extensions_granted, 1);
    assert!(m.tick(t0 + 24_000, &p).is_empty());
    // A refusal needs a reason and leaves the deadline alone.
    m.apply(&facility(), &Action::RequestExtension { deadline: DeadlineKind::Rectify, extend_by: "5s".into(), reason: "r".into() }, t0 + 12_000, &p).unwrap();
    let err = m.apply(&supervisor(), &Action::DecideExtension { approve: false, extend_by: None, reason: String::new() }, t0 + 12_500, &p).unwrap_err();
    assert_eq!(err.code, "reject.reason_required");
    m.apply(&supervisor(), &Action::DecideExtension { approve: false, extend_by: None, reason: "理由不足".into() }, t0 + 12_500, &p).unwrap();
    assert_eq!(m.open_deadline(DeadlineKind::Rectify).unwrap().due_ms, t0 + 25_000);
    assert!(m.pending_extension.is_none());
}

#[test]
fn extensions_on_day_periods_count_from_the_old_due_day() {
    let p = Policy::builtin();
    let t0 = at(2026, 9, 21, 9); // Monday; rectify 7d → 09-28 (Mon)
    let mut m = open(Severity::Ordinary, t0, &p);
    assert_eq!(due(&m, DeadlineKind::Rectify), at(2026, 9, 29, 0));
    m.apply(&facility(), &Action::RequestExtension { deadline: DeadlineKind::Rectify, extend_by: "3wd".into(), reason: "r".into() }, t0, &p).unwrap();
    m.apply(&supervisor(), &Action::DecideExtension { approve: true, extend_by: None, reason: String::new() }, t0, &p).unwrap();
    // 3 working days after 09-28: 09-29, 09-30, then National Day → 10-08.
    assert_eq!(due(&m, DeadlineKind::Rectify), at(2026, 10, 9, 0));
}

#[test]
fn a_failed_recheck_reopens_with_a_fresh_period_and_a_withdrawal_ends_everything() {
    let p = fast();
    let t0 = 1_000_000;
    let mut m = open(Severity::Ordinary, t0, &p);
    m.apply(&facility(), &Action::Acknowledge { handler: "h".into() }, t0, &p).unwrap();
    m.apply(&facility(), &Action::SubmitEvidence { note: "n".into(), evidence: evidence() }, t0, &p).unwrap();
    assert!(m.open_deadline(DeadlineKind::Feedback).is_none(), "evidence also answers the feedback deadline");
    let err = m.apply(&inspector(), &Action::Recheck { passed: false, note: String::new() }, t0, &p).unwrap_err();
    assert_eq!(err.code, "reject.empty_field");
    m.apply(&inspector(), &Action::Recheck { passed: false, note: "仍未更换".into() }, t0 + 1000, &p).unwrap();
    assert_eq!(m.status, Status::Reopened);
    assert_eq!(m.reopen_count, 1);
    assert!(m.open_deadline(DeadlineKind::Rectify).is_some());
    m.apply(&supervisor(), &Action::Withdraw { reason: "机构已停业".into() }, t0 + 2000, &p).unwrap();
    assert_eq!(m.status, Status::Withdrawn);
    assert_eq!(m.next_wake_ms(), None);
    let err = m.apply(&facility(), &Action::Feedback { text: "t".into(), plan: vec![] }, t0 + 3000, &p).unwrap_err();
    assert_eq!(err.code, "reject.ended");
}

#[test]
fn actions_read_from_json_as_the_api_sends_them() {
    let a: Action = serde_json::from_str(r#"{"action":"request_extension","deadline":"rectify","extend_by":"3wd","reason":"r"}"#).unwrap();
    assert_eq!(a.name(), "request_extension");
    let bad = serde_json::from_str::<Action>(r#"{"action":"close_it"}"#).unwrap_err();
    assert!(bad.to_string().contains("unknown variant"), "{bad}");
}

#[test]
fn a_matter_from_an_inspection_notice_keeps_the_notice_dates() {
    let p = Policy::builtin();
    let issued = at(2026, 11, 23, 23);
    let notice_due = at(2026, 12, 24, 0); // a major hazard's month
    let new = NewMatter {
        id: "i-1-n1".into(),
        facility_id: 7,
        kind: MatterKind::FireSafety,
        severity: Severity::Ordinary,
        title: "疏散通道堵塞".into(),
        description: String::new(),
        basis: String::new(),
        issued_by: supervisor(),
        issued_ms: Some(issued),
        rectify_due_ms: Some(notice_due),
        measures_due_ms: None,
    };
    // The workflow started after midnight (a slow print); the deadlines still count from the notice.
    let (m, _) = Matter::open(&new, at(2026, 11, 24, 1), &p);
    assert_eq!(m.issued_ms, issued);
    assert_eq!(due(&m, DeadlineKind::Rectify), notice_due, "the printed deadline, not 7 days");
    assert_eq!(due(&m, DeadlineKind::Acknowledge), at(2026, 11, 24, 0), "same day as the notice");
    // A printed date before the feedback it must follow (the old reading of "immediate": due
    // the day of issue, feedback three days later) moves to the feedback's date.
    let (m, _) = Matter::open(&NewMatter { rectify_due_ms: Some(at(2026, 11, 24, 0)), ..new }, at(2026, 11, 24, 1), &p);
    assert_eq!(due(&m, DeadlineKind::Rectify), due(&m, DeadlineKind::Feedback));
}

#[test]
fn a_major_hazard_orders_measures_at_once_and_a_rectification_by_its_date() {
    let p = Policy::builtin();
    let issued = at(2026, 11, 23, 10);
    let new = NewMatter {
        severity: Severity::Major,
        issued_ms: Some(issued),
        rectify_due_ms: Some(at(2026, 12, 24, 0)),
        measures_due_ms: Some(at(2026, 11, 24, 0)),
        ..new_matter()
    };
    let (mut m, _) = Matter::open(&new, issued, &p);
    assert_eq!(due(&m, DeadlineKind::Measures), at(2026, 11, 24, 0), "the same day");
    assert_eq!(due(&m, DeadlineKind::Rectify), at(2026, 12, 24, 0), "and the rectification in its month");
    assert!(DeadlineKind::Measures.is_served() && DeadlineKind::Measures.counts_against_facility());
    let err = m.apply(&inspector(), &Action::ConfirmMeasures { note: "已清理".into() }, issued, &p).unwrap_err();
    assert_eq!(err.code, "reject.role_not_allowed");
    let err = m.apply(&facility(), &Action::ConfirmMeasures { note: " ".into() }, issued, &p).unwrap_err();
    assert_eq!(err.code, "reject.empty_field");
    // Not confirmed by the end of the day: it escalates like any of the facility's dates.
    assert!(escalations(&m.tick(at(2026, 11, 24, 1), &p)).contains(&("measures".into(), "reminder".into())));
    let effects = m.apply(&facility(), &Action::ConfirmMeasures { note: "已清除堵塞物并开启安全出口".into() }, at(2026, 11, 24, 2), &p).unwrap();
    assert!(matches!(&effects[..], [Effect::Record { event: Event::MeasuresConfirmed { .. }, .. }]));
    assert!(m.open_deadline(DeadlineKind::Measures).is_none());
    assert_eq!(m.status, Status::Issued, "confirming measures is not the acknowledgement");
    let err = m.apply(&facility(), &Action::ConfirmMeasures { note: "再次确认".into() }, at(2026, 11, 24, 3), &p).unwrap_err();
    assert_eq!(err.code, "reject.measures_not_open");
}

/// Found by the property tests: a due instant of `i64::MIN` (a corrupt notice date) overflowed
/// where a due instant is read as the end of its last day (`due_ms - 1`).
#[test]
fn a_due_instant_at_the_edge_of_i64_does_not_overflow() {
    let p = Policy::builtin();
    let t0 = at(2026, 11, 23, 9);
    let new = NewMatter { issued_ms: Some(t0), rectify_due_ms: Some(i64::MIN), ..new_matter() };
    let (mut m, _) = Matter::open(&new, t0, &p);
    let _ = m.tick(t0, &p);
    assert_eq!(due(&m, DeadlineKind::Rectify), due(&m, DeadlineKind::Feedback), "no earlier than the feedback");
    m.apply(&facility(), &Action::Acknowledge { handler: "王主任".into() }, t0, &p).unwrap();
    let ask = Action::RequestExtension { deadline: DeadlineKind::Rectify, extend_by: "3d".into(), reason: "r".into() };
    let _ = m.apply(&facility(), &ask, t0, &p);
}

/// The published 2027 schedule as a test imagines it: the statutory days, and 01-04..05 as
/// bridging days off after 元旦 with two make-up Saturdays.
fn published_2027() -> crate::calendar::Year {
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    let mut y = crate::calendar::Year { source: Some("国办发明电〔2026〕测试号".into()), ..Default::default() };
    y.holidays.extend(Policy::builtin().calendar.statutory_days(2027).into_keys());
    y.holidays.extend([d("2027-01-04"), d("2027-01-05")]);
    y.workdays = [d("2027-01-09"), d("2027-01-16")].into();
    y
}

fn learn_2027(p: &Policy) -> Policy {
    let mut amended = p.clone();
    amended.calendar.learn(2027, published_2027()).unwrap();
    amended
}

fn updates(effects: &[Effect]) -> Vec<(String, String, i64, i64)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Record { event: Event::CalendarUpdated { deadline, date, old_ms, new_ms, .. }, .. } => {
                Some((deadline.to_string(), date.clone(), *old_ms, *new_ms))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_published_year_re_times_the_recheck_window_and_leaves_served_dates_as_served() {
    let p = Policy::builtin();
    let t0 = at(2026, 12, 28, 9);
    let mut m = open(Severity::Ordinary, t0, &p);
    // 7 days from Monday 12-28 end on Monday 2027-01-04: counted over provisional 2027.
    let rectify = m.open_deadline(DeadlineKind::Rectify).unwrap().clone();
    assert_eq!(rectify.due_ms, at(2027, 1, 5, 0));
    assert_eq!(rectify.provisional_years(&p.calendar), vec![2027]);
    m.apply(&facility(), &Action::Acknowledge { handler: "王主任".into() }, t0, &p).unwrap();
    let t1 = at(2026, 12, 30, 10);
    m.apply(&facility(), &Action::SubmitEvidence { note: "已更换".into(), evidence: evidence() }, t1, &p).unwrap();
    // Re-check within 3 working days: 12-31, (元旦, weekend), 01-04, 01-05.
    assert_eq!(due(&m, DeadlineKind::Recheck), at(2027, 1, 6, 0));

    let amended = learn_2027(&p);
    let effects = m.retime(2027, &amended);
    // 01-04 and 01-05 are days off now: 12-31, 01-06, 01-07.
    assert_eq!(updates(&effects), vec![("recheck".into(), "due".into(), at(2027, 1, 6, 0), at(2027, 1, 8, 0))]);
    assert_eq!(due(&m, DeadlineKind::Recheck), at(2027, 1, 8, 0));
    assert_eq!(m.next_wake_ms(), Some(at(2027, 1, 8, 0)), "the re-check's first escalation step moved with it");
    assert!(m.deadlines.iter().all(|d| d.provisional_years(&amended.calendar).is_empty()));
    // The same year again changes nothing.
    assert!(m.retime(2027, &amended).is_empty());
}

#[test]
fn a_served_deadline_stands_even_when_the_schedule_makes_its_day_a_holiday() {
    let p = Policy::builtin();
    let t0 = at(2026, 12, 28, 9);
    let mut m = open(Severity::Ordinary, t0, &p);
    m.apply(&facility(), &Action::Acknowledge { handler: "王主任".into() }, t0, &p).unwrap();
    let before = m.clone();
    let effects = m.retime(2027, &learn_2027(&p));
    assert!(updates(&effects).is_empty(), "{effects:?}");
    assert_eq!(m, before, "the rectify deadline printed on the notice (2027-01-04) stands");
}

/// Found by the property tests: an approval restarts the deadline's ladder, so re-timing must
/// count its first step from the new due date, not from the last step of the old ladder.
#[test]
fn an_extended_deadline_escalates_from_its_new_due_date_after_the_calendar_changes() {
    let p = Policy::builtin();
    let t0 = at(2026, 12, 28, 9);
    let mut m = open(Severity::Ordinary, t0, &p);
    m.apply(&facility(), &Action::Acknowledge { handler: "王主任".into() }, t0, &p).unwrap();
    m.tick(at(2027, 1, 1, 0), &p);
    assert_eq!(m.open_deadline(DeadlineKind::Feedback).unwrap().steps_taken, 1, "the feedback reminder fired");
    let ask = Action::RequestExtension { deadline: DeadlineKind::Feedback, extend_by: "3d".into(), reason: "负责人出差".into() };
    m.apply(&facility(), &ask, at(2027, 1, 1, 9), &p).unwrap();
    m.apply(&supervisor(), &Action::DecideExtension { approve: true, extend_by: None, reason: "同意".into() }, at(2027, 1, 1, 10), &p).unwrap();
    let new_due = due(&m, DeadlineKind::Feedback);
    assert_eq!(new_due, at(2027, 1, 5, 0), "12-31 + 3 days ends on Sunday 01-03, so on Monday 01-04 (provisional)");
    let amended = learn_2027(&p);
    m.retime(2027, &amended);
    let d = m.open_deadline(DeadlineKind::Feedback).unwrap();
    assert_eq!(d.due_ms, new_due, "a served date stands");
    assert_eq!(d.next_step_ms, Some(new_due), "the restarted ladder's first step is the new due date");
    assert!(m.tick(at(2027, 1, 2, 12), &amended).is_empty(), "an extended deadline is not missed before its new date");
}

/// Found by the property tests: a clock period too large for milliseconds was an arithmetic
/// overflow (a panic in debug builds, a wrapped date in release ones).
#[test]
fn an_extension_of_an_absurd_clock_length_is_refused() {
    let p = Policy::builtin();
    let t0 = at(2026, 11, 23, 9);
    let mut m = open(Severity::Ordinary, t0, &p);
    let before = m.clone();
    for by in ["999999999999999m", "99999999999999h", "999999999999999s"] {
        let ask = Action::RequestExtension { deadline: DeadlineKind::Feedback, extend_by: by.into(), reason: "r".into() };
        let err = m.apply(&facility(), &ask, t0, &p).unwrap_err();
        assert_eq!(err.code, "reject.bad_duration", "{by}");
    }
    assert_eq!(m, before);
}

#[test]
fn pending_escalation_steps_are_counted_again_from_the_step_before() {
    let p = Policy::builtin();
    let t0 = at(2026, 12, 28, 9);
    let mut m = open(Severity::Ordinary, t0, &p);
    m.apply(&facility(), &Action::Acknowledge { handler: "王主任".into() }, t0, &p).unwrap();
    // Feedback was due by 12-31 24:00; the reminder fires then, the blue order 1 working day later.
    assert_eq!(due(&m, DeadlineKind::Feedback), at(2027, 1, 1, 0));
    m.tick(at(2027, 1, 1, 0), &p);
    let feedback = m.open_deadline(DeadlineKind::Feedback).unwrap();
    assert_eq!(feedback.steps_taken, 1);
    assert_eq!(feedback.next_step_ms, Some(at(2027, 1, 5, 0)), "provisional: Monday 01-04 is a working day");
    let effects = m.retime(2027, &learn_2027(&p));
    assert_eq!(updates(&effects), vec![("feedback".into(), "escalation".into(), at(2027, 1, 5, 0), at(2027, 1, 7, 0))]);
    match &effects[0] {
        Effect::Record { event: Event::CalendarUpdated { step, source, .. }, .. } => {
            assert_eq!(step.as_deref(), Some("supervision_blue"));
            assert_eq!(source.as_deref(), Some("国办发明电〔2026〕测试号"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(due(&m, DeadlineKind::Feedback), at(2027, 1, 1, 0), "the served date stands");
}

#[test]
fn a_finished_matter_is_not_re_timed() {
    let p = Policy::builtin();
    let t0 = at(2026, 12, 28, 9);
    let mut m = open(Severity::Ordinary, t0, &p);
    m.apply(&supervisor(), &Action::Withdraw { reason: "重复下发".into() }, t0, &p).unwrap();
    let before = m.clone();
    assert!(m.retime(2027, &learn_2027(&p)).is_empty());
    assert_eq!(m, before);
}

#[test]
fn mails_about_dates_in_a_provisional_year_say_so() {
    let p = Policy::builtin();
    let t0 = at(2026, 12, 28, 9);
    let mut m = open(Severity::Ordinary, t0, &p);
    m.apply(&facility(), &Action::Acknowledge { handler: "王主任".into() }, t0, &p).unwrap();
    let effects = m.tick(at(2027, 1, 1, 0), &p);
    let args = effects.iter().find_map(|e| match e {
        Effect::Notify { args, .. } => Some(args.clone()),
        _ => None,
    });
    // The feedback deadline (12-31) was counted in 2026 alone.
    assert_eq!(args.unwrap()["provisional"], serde_json::Value::Null);
    let mut m = open(Severity::Ordinary, t0, &p);
    m.apply(&facility(), &Action::Acknowledge { handler: "王主任".into() }, t0, &p).unwrap();
    m.apply(&facility(), &Action::SubmitEvidence { note: "x".into(), evidence: evidence() }, t0, &p).unwrap();
    let effects = m.apply(&inspector(), &Action::Recheck { passed: false, note: "仍未更换".into() }, at(2026, 12, 29, 9), &p).unwrap();
    let args = effects.iter().find_map(|e| match e {
        Effect::Notify { args, .. } => Some(args.clone()),
        _ => None,
    });
    assert_eq!(args.unwrap()["provisional"], serde_json::json!([2027]));
}

fn new_matter() -> NewMatter {
    NewMatter {
        id: "m1".into(),
        facility_id: 7,
        kind: MatterKind::Rectification,
        severity: Severity::Ordinary,
        title: "灭火器过期".into(),
        description: "三楼\n走廊".into(),
        basis: "GB 38600-2019 4.1".into(),
        issued_by: supervisor(),
        issued_ms: None,
        rectify_due_ms: None,
        measures_due_ms: None,
    }
}

#[test]
fn every_text_a_person_sends_is_bounded_and_free_of_control_characters() {
    let p = Policy::builtin();
    let t0 = at(2026, 11, 23, 9);
    let m = open(Severity::Ordinary, t0, &p);
    let mut acked = m.clone();
    acked.apply(&facility(), &Action::Acknowledge { handler: "王主任".into() }, t0, &p).unwrap();
    let long = "长".repeat(p.input.text_chars + 1);
    let milestone = |date: &str, what: &str| Milestone { date: date.parse().unwrap(), what: what.into() };
    for (m, actor, action, code, field) in [
        (&m, facility(), Action::Acknowledge { handler: "王".repeat(p.input.name_chars + 1) }, "reject.too_long", "field.handler"),
        (&m, facility(), Action::Acknowledge { handler: "王主任\0".into() }, "reject.control_chars", "field.handler"),
        (&m, facility(), Action::Acknowledge { handler: "王\n主任".into() }, "reject.control_chars", "field.handler"),
        (&acked, facility(), Action::Feedback { text: long.clone(), plan: vec![] }, "reject.too_long", "field.feedback"),
        (&acked, facility(), Action::Feedback { text: "进展\u{1b}[2J".into(), plan: vec![] }, "reject.control_chars", "field.feedback"),
        (
            &acked,
            facility(),
            Action::Feedback { text: "x".into(), plan: vec![milestone("2026-12-01", "采购"); p.input.plan_rows + 1] },
            "reject.too_many",
            "field.plan",
        ),
        (&acked, facility(), Action::Feedback { text: "x".into(), plan: vec![milestone("9999-12-31", "完成")] }, "reject.plan_date_window", "field.plan"),
        (&acked, facility(), Action::SubmitEvidence { note: long.clone(), evidence: evidence() }, "reject.too_long", "field.note"),
        (
            &acked,
            facility(),
            Action::SubmitEvidence { note: "x".into(), evidence: vec![evidence()[0].clone(); p.input.evidence_files + 1] },
            "reject.too_many",
            "field.evidence",
        ),
        (
            &acked,
            facility(),
            Action::RequestExtension { deadline: DeadlineKind::Rectify, extend_by: "0d".into(), reason: "r".into() },
            "reject.extension_too_short",
            "",
        ),
        (&acked, supervisor(), Action::Withdraw { reason: long.clone() }, "reject.too_long", "field.reason"),
    ] {
        let err = m.check(&actor, &action, t0, &p).unwrap_err();
        assert_eq!(err.code, code, "{}", action.name());
        let named = err.args.iter().find(|(k, _)| k == "field").map(|(_, v)| v.as_str()).unwrap_or_default();
        assert_eq!(named, field, "{}", action.name());
        assert!(!err.message(Locale::ZhCn).contains('{'), "{}", err.message(Locale::ZhCn));
    }
    // At the limit is fine, and so are newlines and tabs in free text.
    let fits = Action::Feedback { text: format!("第一行\n\t{}", "长".repeat(p.input.text_chars - 5)), plan: vec![] };
    acked.check(&facility(), &fits, t0, &p).unwrap();
    let title = NewMatter { title: "标题\0".into(), ..new_matter() };
    assert_eq!(title.check_input(&p.input).unwrap_err().code, "reject.control_chars");
    assert_eq!(NewMatter { title: " ".into(), ..new_matter() }.check_input(&p.input).unwrap_err().code, "reject.empty_field");
    new_matter().check_input(&p.input).unwrap();
}

#[test]
fn an_upload_is_recorded_for_the_facility_it_concerns_and_not_after_the_end() {
    let p = Policy::builtin();
    let t0 = at(2026, 11, 2, 9);
    let mut m = open(Severity::Ordinary, t0, &p);
    let file = EvidenceRef { sha256: "ab".repeat(32), name: "照片.jpg".into(), content_type: "image/jpeg".into(), bytes: 100 };
    let effects = m.record_upload(&facility(), std::slice::from_ref(&file), t0, &p).unwrap();
    assert!(matches!(&effects[..], [Effect::Record { event: Event::EvidenceUploaded { evidence }, .. }] if evidence[0].name == "照片.jpg"));
    let before = m.clone();
    let other = Actor { facility_id: Some(999), ..facility() };
    assert_eq!(m.record_upload(&other, std::slice::from_ref(&file), t0, &p).unwrap_err().code, "reject.not_your_facility");
    let inspector = Actor { role: Role::Inspector, facility_id: None, ..facility() };
    assert_eq!(m.record_upload(&inspector, std::slice::from_ref(&file), t0, &p).unwrap_err().code, "reject.role_not_allowed");
    assert_eq!(m.record_upload(&facility(), &[], t0, &p).unwrap_err().code, "reject.evidence_required");
    let bad = EvidenceRef { name: "a\u{0}.jpg".into(), ..file.clone() };
    assert_eq!(m.record_upload(&facility(), &[bad], t0, &p).unwrap_err().code, "reject.control_chars");
    assert_eq!(m, before, "recording an upload changes no state");
    m.status = Status::Closed;
    assert_eq!(m.record_upload(&facility(), &[file], t0, &p).unwrap_err().code, "reject.ended");
}

#[test]
fn an_extension_request_has_its_own_date_to_be_decided_by_and_a_late_decision_escalates_to_supervisors() {
    let p = Policy::builtin();
    let t0 = at(2026, 9, 21, 9); // Monday
    let mut m = open(Severity::Ordinary, t0, &p);
    m.apply(&facility(), &Action::Acknowledge { handler: "h".into() }, t0, &p).unwrap();
    m.apply(&facility(), &Action::Feedback { text: "t".into(), plan: vec![] }, t0, &p).unwrap();
    let effects =
        m.apply(&facility(), &Action::RequestExtension { deadline: DeadlineKind::Rectify, extend_by: "3d".into(), reason: "等配件".into() }, t0, &p).unwrap();
    // 3 working days from Monday 09-21: Tue, Wed, Thu → decided by the end of Thursday 09-24.
    assert_eq!(due(&m, DeadlineKind::Decide), at(2026, 9, 25, 0));
    let mailed = effects.iter().find_map(|e| match e {
        Effect::Notify { notice: Notice::ExtensionRequested, args, .. } => Some(args["decide_by_ms"].as_i64()),
        _ => None,
    });
    assert_eq!(mailed, Some(Some(at(2026, 9, 25, 0))), "the supervisor's mail names the date");
    // Undecided past it: the ladder climbs for the supervisors, never against the facility.
    let effects = m.tick(at(2026, 9, 25, 1), &p);
    let audiences: Vec<(String, Vec<Audience>)> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify { notice: Notice::Escalated, audience, args } => Some((args["deadline"].as_str().unwrap_or_default().to_string(), audience.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(audiences, [("decide".to_string(), vec![Audience::Supervisor])]);
    assert_eq!(m.escalation_level, 0, "the facility's record is not the supervisor's delay");
    // Deciding meets it; nothing more escalates for it.
    m.apply(&supervisor(), &Action::DecideExtension { approve: true, extend_by: None, reason: String::new() }, at(2026, 9, 25, 2), &p).unwrap();
    assert!(m.open_deadline(DeadlineKind::Decide).is_none());
    assert!(m.pending_extension.is_none());
    // A request made moot (its deadline met by evidence) leaves no decision date open either.
    m.apply(&facility(), &Action::RequestExtension { deadline: DeadlineKind::Rectify, extend_by: "1d".into(), reason: "r".into() }, at(2026, 9, 25, 3), &p)
        .unwrap();
    assert!(m.open_deadline(DeadlineKind::Decide).is_some());
    m.apply(&facility(), &Action::SubmitEvidence { note: "n".into(), evidence: evidence() }, at(2026, 9, 25, 4), &p).unwrap();
    assert!(m.open_deadline(DeadlineKind::Decide).is_none() && m.pending_extension.is_none());
}

#[test]
fn a_late_recheck_is_the_inspectors_and_never_counts_against_the_facility() {
    let p = Policy::builtin();
    let t0 = at(2026, 9, 21, 9);
    let mut m = open(Severity::Ordinary, t0, &p);
    m.apply(&facility(), &Action::Acknowledge { handler: "h".into() }, t0, &p).unwrap();
    m.apply(&facility(), &Action::SubmitEvidence { note: "n".into(), evidence: evidence() }, t0, &p).unwrap();
    let recheck_due = due(&m, DeadlineKind::Recheck);
    let notified: Vec<Vec<Audience>> = m
        .tick(recheck_due + 1, &p)
        .into_iter()
        .filter_map(|e| match e {
            Effect::Notify { notice: Notice::Escalated, audience, .. } => Some(audience),
            _ => None,
        })
        .collect();
    assert_eq!(notified, [vec![Audience::Inspector]], "the reminder goes to the inspector, not the facility");
    assert_eq!(m.escalation_level, 0);
    // Higher steps reach the supervisors and administrators too.
    let later: Vec<Vec<Audience>> = m
        .tick(recheck_due + 60 * 86_400_000, &p)
        .into_iter()
        .filter_map(|e| match e {
            Effect::Notify { notice: Notice::Escalated, audience, .. } => Some(audience),
            _ => None,
        })
        .collect();
    assert!(later.iter().all(|a| a[0] == Audience::Inspector && !a.contains(&Audience::Facility)), "{later:?}");
    assert!(later.iter().any(|a| a.contains(&Audience::Admin)), "{later:?}");
    assert_eq!(m.escalation_level, 0);
}

/// Typed events are stored as the untyped ones were (`kind` and a `payload` object), read back
/// to the same value, and an `Effect::Record` keeps its JSON shape.
#[test]
fn events_are_stored_as_kind_and_payload_and_read_back() {
    let requested = Event::ExtensionRequested {
        deadline: DeadlineKind::Rectify,
        extend_by: PolicyDuration::parse("7d").unwrap(),
        reason: "材料未到".into(),
        decide_by_ms: None,
    };
    let (kind, payload) = requested.clone().into_parts();
    assert_eq!(kind, "extension_requested");
    assert_eq!(payload, json!({ "deadline": "rectify", "extend_by": "7d", "reason": "材料未到", "decide_by_ms": null }));
    assert_eq!(Event::parse(&kind, &payload), Some(requested));

    let effect = Effect::Record { event: Event::Closed { escalation_level: 2 }, actor: None };
    let wire = json!({ "effect": "record", "kind": "closed", "payload": { "escalation_level": 2 }, "actor": null });
    assert_eq!(serde_json::to_value(&effect).unwrap(), wire);
    assert_eq!(serde_json::from_value::<Effect>(wire).unwrap(), effect);

    assert_eq!(Event::parse("no_such_kind", &json!({})), None);
    assert_eq!(Event::parse("closed", &json!({ "escalation_level": "two" })), None, "a payload that does not fit");
}

/// Every event a whole matter's life records names itself as serde does, and survives the
/// store's round trip.
#[test]
fn every_recorded_event_round_trips() {
    let p = Policy::builtin();
    let t0 = at(2026, 11, 23, 9);
    let (mut m, mut effects) = Matter::open(&new_matter(), t0, &p);
    effects.extend(m.apply(&facility(), &Action::Acknowledge { handler: "张三".into() }, at(2026, 11, 23, 10), &p).unwrap());
    effects.extend(m.tick(at(2026, 12, 20, 9), &p));
    let mut seen = 0;
    for e in effects {
        if let Effect::Record { event, .. } = e {
            assert_eq!(serde_json::to_value(&event).unwrap()["kind"], event.kind());
            let (kind, payload) = event.clone().into_parts();
            assert_eq!(Event::parse(&kind, &payload).as_ref(), Some(&event));
            seen += 1;
        }
    }
    assert!(seen >= 3, "issued, acknowledged and an escalation at least: {seen}");
}
