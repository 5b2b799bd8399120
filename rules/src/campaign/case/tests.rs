//! The campaign's steps: who may take them, with what, and the ladder of a missed deadline.

use super::*;
use crate::campaign::{Known, PlanInput, check_plan, dates};
use crate::draw::SourceName;
use std::collections::BTreeSet;

fn actor(role: Role) -> Actor {
    Actor { user_id: 2, name: "王督办".into(), role, facility_id: None }
}

fn campaign() -> Campaign {
    let templates = BTreeSet::from(["fire-major-hazard".to_string()]);
    let districts = BTreeSet::from(["110105".to_string()]);
    let input = PlanInput {
        title: "抽查".into(),
        templates: vec!["fire-major-hazard".into()],
        window: crate::duration::PolicyDuration::WorkingDays(10),
        sources: vec![SourceName { name: "双色球红球".into(), kind: "numbers".into() }, SourceName { name: "见证人宣读".into(), kind: "text".into() }],
        ..PlanInput::default()
    };
    let plan = check_plan(&input, &Policy::builtin(), &Known { templates: &templates, districts: &districts }).unwrap();
    Campaign::new(plan)
}

fn req(values: &[&str], witnesses: &[&str], role: Role) -> DrawRequest {
    DrawRequest { values: values.iter().map(|s| s.to_string()).collect(), witnesses: witnesses.iter().map(|s| s.to_string()).collect(), operator: actor(role) }
}

#[test]
fn a_draw_needs_the_commitment_every_sources_value_and_a_witness() {
    let mut c = campaign();
    assert_eq!(c.check_draw(&req(&["1 2 3", "天"], &["李见证"], Role::Supervisor)).unwrap_err().code, "campaign.wrong_state");
    c.status = CampaignStatus::Committed;
    let ok = c.check_draw(&req(&["12 3 7", "  天地  "], &["李见证"], Role::Supervisor)).unwrap();
    assert_eq!(ok, vec![SourceValues::Numbers(vec![12, 3, 7]), SourceValues::Text("天地".into())], "as entered; the key string sorts them");
    for (r, code) in [
        (req(&["1 2 3"], &["李"], Role::Supervisor), "draw.source_count"),
        (req(&["1 x 3", "天"], &["李"], Role::Supervisor), "draw.not_a_number"),
        (req(&["1 2", " "], &["李"], Role::Supervisor), "draw.empty_source"),
        (req(&["1 2", "天\u{0}"], &["李"], Role::Supervisor), "draw.not_a_number"),
        (req(&["1 2", "天"], &[], Role::Supervisor), "campaign.no_witness"),
        (req(&["1 2", "天"], &["李\n王"], Role::Supervisor), "campaign.control_chars"),
        (req(&["1 2", "天"], &["李"], Role::Inspector), "campaign.not_oversight"),
    ] {
        assert_eq!(c.check_draw(&r).unwrap_err().code, code, "{r:?}");
    }
}

#[test]
fn teams_are_reassigned_with_a_reason_and_published_when_done_or_late() {
    let mut c = campaign();
    let policy = Policy::builtin();
    let drawn = 1_764_554_400_000; // 2025-12-01 10:00 Beijing time
    c.status = CampaignStatus::Drawn;
    c.dates = Some(dates(&c.plan, &policy, drawn));
    let teams = vec![draw::Team { target: "F1".into(), inspectors: vec!["J1".into(), "J2".into()], picks: vec![] }];
    let r = |out: &str, replacement: &str, reason: &str| Reassignment {
        target: "F1".into(),
        out: out.into(),
        replacement: replacement.into(),
        reason: reason.into(),
        by: actor(Role::Supervisor),
    };
    assert!(c.check_reassign(&r("J1", "J3", "病假"), &teams).is_ok());
    assert_eq!(c.check_reassign(&r("J1", "J3", " "), &teams).unwrap_err().code, "campaign.required");
    assert_eq!(c.check_reassign(&r("J9", "J3", "病假"), &teams).unwrap_err().code, "campaign.not_in_team");
    assert_eq!(c.check_reassign(&r("J1", "J2", "病假"), &teams).unwrap_err().code, "campaign.already_in_team");
    assert_eq!(c.check_assign(&actor(Role::Facility)).unwrap_err().code, "campaign.not_oversight");
    assert!(c.check_assign(&actor(Role::Admin)).is_ok());

    c.status = CampaignStatus::Assigned;
    let window_end = c.dates.unwrap().window_end_ms;
    assert_eq!(c.check_publish(&actor(Role::Supervisor), drawn, "2026-12-15").unwrap_err().code, "campaign.not_finished");
    assert!(c.check_publish(&actor(Role::Supervisor), window_end, "").is_ok(), "the window is over");
    c.inspected = true;
    assert!(c.check_publish(&actor(Role::Supervisor), drawn, "").is_ok(), "every home inspected");
}

#[test]
fn a_missed_deadline_climbs_the_ladder_and_the_next_deadline_follows() {
    let mut c = campaign();
    let policy = Policy::builtin();
    let drawn = 1_764_554_400_000; // 2025-12-01 10:00 Beijing time
    c.status = CampaignStatus::Drawn;
    c.dates = Some(dates(&c.plan, &policy, drawn));
    let d = c.dates.unwrap();
    assert_eq!(c.deadline(), Some((Deadline::Assign, d.assign_by_ms)));
    let (which, level, due) = c.next_escalation(&policy).unwrap();
    assert_eq!((which, level, due), (Deadline::Assign, 1, d.assign_by_ms), "the first step (a reminder, after 0d) as the deadline passes");
    c.escalate(Deadline::Assign, 1);
    let (_, level, due2) = c.next_escalation(&policy).unwrap();
    assert_eq!((level, due2), (2, policy.calendar.due_ms(due, policy.escalation[1].after)));
    for l in 2..=policy.escalation.len() as u32 {
        c.escalate(Deadline::Assign, l);
    }
    assert_eq!(c.next_escalation(&policy), None, "the ladder is climbed");

    c.status = CampaignStatus::Assigned;
    assert_eq!(c.deadline(), Some((Deadline::Inspect, d.window_end_ms)));
    c.inspected = true;
    assert_eq!(c.deadline(), Some((Deadline::Publish, d.publish_by_ms)), "every home inspected: publication is what is awaited");
    c.inspected = false;
    c.escalate(Deadline::Inspect, 1);
    assert_eq!(c.deadline(), Some((Deadline::Publish, d.publish_by_ms)), "the window missed: so is publication awaited");
    c.status = CampaignStatus::Published;
    assert_eq!(c.deadline(), None);
}

#[test]
fn a_draw_is_set_aside_only_before_the_teams_go_with_a_reason_and_a_limit() {
    let mut c = campaign();
    let policy = Policy::builtin();
    let max = policy.campaign.max_supersessions;
    let drawn = 1_764_554_400_000;
    let req = |reason: &str, role: Role| SupersedeRequest { reason: reason.into(), by: actor(role) };
    c.status = CampaignStatus::Committed;
    assert_eq!(c.check_supersede(&req("录错", Role::Supervisor), max).unwrap_err().code, "campaign.wrong_state", "nothing drawn yet");
    for n in 1..=max {
        c.status = CampaignStatus::Drawn;
        c.bundle_sha256 = Some(format!("sha{n}"));
        c.dates = Some(dates(&c.plan, &policy, drawn));
        c.escalate(Deadline::Assign, 2);
        assert_eq!(c.draw_seq(), n);
        assert_eq!(c.check_supersede(&req(" ", Role::Supervisor), max).unwrap_err().code, "campaign.required");
        assert_eq!(c.check_supersede(&req("录错\u{7}", Role::Supervisor), max).unwrap_err().code, "campaign.control_chars");
        assert_eq!(c.check_supersede(&req("录错", Role::Inspector), max).unwrap_err().code, "campaign.not_oversight");
        assert!(c.check_supersede(&req("录错", Role::Admin), max).is_ok());
        c.supersede(req("  号码录错  ", Role::Supervisor), drawn + i64::from(n));
        assert_eq!(c.status, CampaignStatus::Committed, "ready for a new draw on the same commitment");
        assert!(c.bundle_sha256.is_none() && c.dates.is_none() && c.draw.is_none());
        assert_eq!(c.level(Deadline::Assign), 0, "the teams' deadline starts again with the new draw");
        let last = c.superseded.last().unwrap();
        assert_eq!((last.seq, last.bundle_sha256.as_str(), last.reason.as_str()), (n, format!("sha{n}").as_str(), "号码录错"));
    }
    c.status = CampaignStatus::Drawn;
    assert_eq!(c.check_supersede(&req("又录错", Role::Supervisor), max).unwrap_err().code, "campaign.supersede_limit", "not redone until it suits");
    c.status = CampaignStatus::Assigned;
    assert_eq!(c.check_supersede(&req("录错", Role::Supervisor), max + 5).unwrap_err().code, "campaign.wrong_state", "the teams have gone");
}
