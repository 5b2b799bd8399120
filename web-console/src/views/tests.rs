//! Pages rendered from sample data in both languages: every catalogue key a page uses exists
//! (`t` fails in tests on a missing key), and the page says what it should.

use super::*;
use crate::context::Signed;
use qingling_activities::db::entities::user;
use qingling_rules::matter::{Actor, MatterKind, NewMatter};
use std::sync::Arc;

const NOW: i64 = 1_795_000_000_000; // 2026-11-18 (UTC), a Wednesday.

fn person(role: Role) -> Arc<Signed> {
    let user = user::Model {
        id: 6,
        username: "facility1".into(),
        display_name: "孙院长（朝阳区第一社会福利院）".into(),
        email: "facility1@example.test".into(),
        role: role.as_str().into(),
        region_id: Some(3),
        facility_id: Some(1),
        password_hash: String::new(),
        locale: "zh-CN".into(),
        created_at_ms: 0,
        certificate: None,
    };
    Arc::new(Signed { user, role, csrf: "csrf-token-123".into(), token: "t".into() })
}

fn ctx(locale: Locale, role: Role, path: &str) -> Ctx {
    Ctx { locale, session: Some(person(role)), path: path.into(), calendar_missing: None, stuck_count: None, engine_down: false, client: None }
}

fn sample_matter(severity: Severity) -> (matter::Model, Matter) {
    sample_matter_at(severity, NOW)
}

fn sample_matter_at(severity: Severity, now: i64) -> (matter::Model, Matter) {
    let policy = Policy::builtin();
    let new = NewMatter {
        id: "m-1".into(),
        facility_id: 1,
        kind: MatterKind::Rectification,
        severity,
        title: "灭火器过期未更换".into(),
        description: "三楼走廊灭火器已过期".into(),
        basis: "GB 38600-2019 5.1".into(),
        issued_by: Actor { user_id: 2, name: "王督办".into(), role: Role::Supervisor, facility_id: None },
        issued_ms: None,
        rectify_due_ms: None,
        measures_due_ms: None,
    };
    let (m, _) = Matter::open(&new, now, &policy);
    let row = matter::Model {
        id: "m-1".into(),
        workflow_id: "matter-m-1".into(),
        facility_id: 1,
        region_id: 3,
        kind: "rectification".into(),
        severity: severity.as_str().into(),
        title: new.title.clone(),
        description: new.description.clone(),
        basis: new.basis.clone(),
        status: "issued".into(),
        escalation_level: 2,
        handler: None,
        next_due_ms: m.next_wake_ms(),
        overdue: true,
        snapshot: serde_json::to_string(&m).unwrap_or_default(),
        issued_by: 2,
        issued_at_ms: now,
        updated_at_ms: now,
        last_seq: 1,
    };
    (row, m)
}

fn sample_card(row: &matter::Model) -> Card {
    let policy = Policy::builtin();
    let numbers: HashMap<String, String> = [("m-1".to_string(), "朝民养整改〔2026〕0001号".to_string())].into();
    let facilities: HashMap<i64, String> = [(1, "朝阳区第一社会福利院".to_string())].into();
    card(row, &CardData { policy: &policy, numbers: &numbers, facilities: &facilities, now_ms: NOW })
}

fn event() -> matter_event::Model {
    matter_event::Model {
        id: 1,
        matter_id: "m-1".into(),
        seq: 1,
        at_ms: NOW,
        kind: "escalated".into(),
        actor_id: None,
        actor_name: None,
        actor_role: None,
        payload: r#"{"deadline":"feedback","step":"supervision_blue","level":2,"due_ms":1795000000000}"#.into(),
        prev_hash: String::new(),
        hash: "abcdef0123456789".into(),
    }
}

/// minijinja escapes `/` in HTML; browsers read it back. Tests compare the text as read.
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
}

fn render_matter(locale: Locale, role: Role, severity: Severity) -> String {
    let env = environment();
    let (row, m) = sample_matter(severity);
    let offset = 8 * 3600;
    let forms = forms_for(&as_role(role), &m, NOW, &Policy::builtin());
    let page = context! {
        m => sample_card(&row),
        description => row.description,
        basis => row.basis,
        deadlines => deadline_rows(&m, &qingling_rules::Policy::builtin().calendar, NOW),
        plan => Vec::<Value>::new(),
        timeline => vec![event_row(&event(), locale, offset)],
        evidence => Vec::<Value>::new(),
        forms => forms.clone(),
        any_form => forms.any(),
        live => true,
        temporal_url => "http://localhost:8233/namespaces/default/workflows/matter-m-1",
        done => "acknowledge",
        error => Option::<String>::None,
        accept => "image/jpeg,image/png",
        max_size => "10 MB",
        today => "2026-11-18",
    };
    match render_with(&env, &ctx(locale, role, "/matters/m-1"), "matter.html", page) {
        Ok(html) => unescape(&html.0),
        Err(e) => panic!("matter.html in {locale:?}: {e}"),
    }
}

#[test]
fn the_matter_page_reads_in_chinese_with_the_facilitys_forms() {
    let html = render_matter(Locale::ZhCn, Role::Facility, Severity::Ordinary);
    for want in [
        "<html lang=\"zh-CN\"",
        "朝民养整改〔2026〕0001号",
        "灭火器过期未更换",
        "已下发",
        "签收并指定责任人",
        "申请延期",
        "办理期限",
        "逾期升级",
        "督办单（蓝）",
        "已签收。",
        "csrf-token-123",
        "/namespaces/default/workflows/matter-m-1",
        "English",
    ] {
        assert!(html.contains(want), "missing {want:?}");
    }
    assert!(!html.contains("action=\"/matters/m-1/evidence\""), "no evidence form before acknowledgement");
    assert!(!html.contains("name=\"passed\""), "facilities do not re-check");
}

/// A matter issued on 2026-12-28: its 7-day correction deadline ends in 2027, which has no
/// published schedule yet, so the page and the card say 暂定 beside it; its acknowledgement
/// (same day) and feedback (12-31) deadlines are counted in 2026 alone and say nothing.
#[test]
fn dates_counted_over_a_provisional_year_are_marked_on_the_page_and_the_card() {
    let issued = 1_798_416_000_000 + 9 * 3_600_000; // 2026-12-28 09:00 +08:00 (01:00 UTC)
    let (mut row, m) = sample_matter_at(Severity::Ordinary, issued);
    let policy = Policy::builtin();
    let rows = deadline_rows(&m, &policy.calendar, issued);
    let marked: Vec<(&str, bool)> = rows.iter().map(|r| (r.kind.as_str(), r.provisional)).collect();
    assert_eq!(marked, vec![("acknowledge", false), ("feedback", false), ("rectify", true)]);
    let page = context! { m => sample_card(&row), deadlines => rows, timeline => Vec::<Value>::new(), forms => Forms::default(), live => true };
    let html = render_with(&environment(), &ctx(Locale::ZhCn, Role::Facility, "/matters/m-1"), "matter.html", page).unwrap().0;
    assert_eq!(html.matches(r#"<span class="badge badge-provisional""#).count(), 1, "only the correction deadline: {html}");
    assert!(html.contains("2027-01-04 24:00 <span class=\"badge badge-provisional\""), "{html}");
    // The card shows the next due date; 暂定 when it reaches into 2027.
    row.next_due_ms = m.open_deadline(DeadlineKind::Rectify).map(|d| d.due_ms);
    assert!(sample_card(&row).next_due_provisional);
    row.next_due_ms = m.open_deadline(DeadlineKind::Feedback).map(|d| d.due_ms);
    assert!(!sample_card(&row).next_due_provisional);
}

#[test]
fn the_matter_page_reads_in_english_with_the_supervisors_forms() {
    let html = render_matter(Locale::En, Role::Supervisor, Severity::Major);
    for want in ["<html lang=\"en\"", "Issued", "Deadlines", "History", "Withdraw", "Escalation level", "中文"] {
        assert!(html.contains(want), "missing {want:?}");
    }
    assert!(!html.contains("签收"), "no Chinese page text in English");
    assert!(!html.contains("name=\"handler\""), "supervisors do not acknowledge");
}

#[test]
fn the_board_lists_cards_by_section_in_both_languages() {
    let env = environment();
    let (row, _) = sample_matter(Severity::Ordinary);
    for (locale, want) in [(Locale::ZhCn, ["已逾期", "督办单（蓝）", "三日内到期"]), (Locale::En, ["Overdue", "Due within 3 days", "Level 2"])] {
        let cards = vec![sample_card(&row)];
        let page = context! {
            sections => vec![
                context! { id => "overdue", key => "web.board.overdue", cards => cards.clone() },
                context! { id => "soon", key => "web.board.due_within_3_days", cards => Vec::<Card>::new() },
            ],
            levels => vec![context! { level => 2, step => "supervision_blue", cards => cards }],
            today => "2026-11-18",
        };
        let html = render_with(&env, &ctx(locale, Role::Supervisor, "/board"), "board.html", page).map(|h| unescape(&h.0)).unwrap_or_else(|e| panic!("{e}"));
        for w in want {
            assert!(html.contains(w), "{locale:?}: missing {w:?}");
        }
        assert!(html.contains("href=\"/matters/m-1\""));
    }
}

#[test]
fn the_other_pages_render_in_both_languages() {
    let env = environment();
    for locale in Locale::ALL {
        let anonymous = Ctx { locale, session: None, path: "/login".into(), calendar_missing: None, stuck_count: None, engine_down: false, client: None };
        let login = render_with(&env, &anonymous, "login.html", context! { next => "/", username => "", error => "x" });
        assert!(login.is_ok_and(|h| h.0.contains("name=\"password\"")), "login in {locale:?}");
        let new = render_with(
            &env,
            &ctx(locale, Role::Supervisor, "/matters/new"),
            "matter_new.html",
            context! {
                facilities => vec![context! { id => "1", name => "朝阳区第一社会福利院" }],
                kinds => vec!["rectification", "fire_safety", "complaint"],
                severities => vec!["ordinary", "major"],
                values => context! { facility_id => "1", kind => "", severity => "", title => "", description => "", basis => "", idempotency_key => "k" },
                error_field => "title",
            },
        );
        assert!(new.is_ok_and(|h| h.0.contains("value=\"1\" selected")), "issue form in {locale:?}");
        let list = render_with(
            &env,
            &ctx(locale, Role::Inspector, "/rechecks"),
            "list.html",
            context! { heading => "web.rechecks.title", intro => "web.rechecks.intro", groups => vec![context! { key => "web.rechecks.queue", cards => Vec::<Card>::new() }] },
        );
        assert!(list.is_ok(), "list in {locale:?}: {:?}", list.err());
        let err = render_with(&env, &ctx(locale, Role::Facility, "/x"), "error.html", context! { status => 404, code => "http.not_found", message => "nope" });
        assert!(err.is_ok(), "error page in {locale:?}");
    }
}

#[test]
fn every_literal_key_in_the_templates_is_in_both_catalogues() {
    for (name, source) in TEMPLATES {
        for quote in ['"', '\''] {
            let open = format!("t({quote}");
            for piece in source.split(open.as_str()).skip(1) {
                let Some((key, rest)) = piece.split_once(quote) else { continue };
                // `t("status." ~ m.status)`: a prefix; the data supplies the rest.
                if rest.trim_start().starts_with('~') {
                    continue;
                }
                for locale in Locale::ALL {
                    assert!(crate::i18n::lookup(locale, key).is_some(), "{name}: {key} missing in {locale:?}");
                }
            }
        }
    }
}

#[test]
fn times_are_local_and_midnight_belongs_to_the_day_before() {
    let offset = 8 * 3600;
    // 2026-11-23 16:00 UTC = 2026-11-24 00:00 in Beijing.
    let midnight =
        chrono::NaiveDate::from_ymd_opt(2026, 11, 23).and_then(|d| d.and_hms_opt(16, 0, 0)).map(|t| t.and_utc().timestamp_millis()).unwrap_or_default();
    assert_eq!(local_time(midnight, offset), "2026-11-23 24:00");
    assert_eq!(local_time(midnight + 9 * 3_600_000 + 30 * 60_000, offset), "2026-11-24 09:30");
}

#[test]
fn escalation_levels_name_their_step() {
    let p = Policy::builtin();
    assert_eq!(step_id(&p, 0), "none");
    assert_eq!(step_id(&p, 1), p.escalation[0].id);
    assert_eq!(step_id(&p, 99), p.escalation[p.escalation.len() - 1].id, "beyond the ladder: its last step");
}

/// Someone of `role` where the sample matter is: its facility's head, or district staff.
fn as_role(role: Role) -> Actor {
    Actor { user_id: 9, name: "某人".into(), role, facility_id: (role == Role::Facility).then_some(1) }
}

#[test]
fn forms_follow_role_and_status() {
    let p = Policy::builtin();
    let (_, mut m) = sample_matter(Severity::Major);
    let f = forms_for(&as_role(Role::Facility), &m, NOW, &p);
    assert!(f.acknowledge && !f.feedback && !f.evidence && !f.recheck);
    assert_eq!(f.request_extension, ["feedback", "rectify"]);
    let s = forms_for(&as_role(Role::Supervisor), &m, NOW, &p);
    assert!(s.withdraw && !s.decide_extension && !s.recheck && !s.acknowledge);
    assert!(!forms_for(&as_role(Role::Inspector), &m, NOW, &p).any());
    let stranger = Actor { facility_id: Some(2), ..as_role(Role::Facility) };
    assert!(!forms_for(&stranger, &m, NOW, &p).any(), "another facility's head gets no form");

    // Through the matter's life, a form is offered exactly when the state machine takes it.
    m.apply(&as_role(Role::Facility), &Action::Acknowledge { handler: "张三".into() }, NOW + 1, &p).unwrap();
    let f = forms_for(&as_role(Role::Facility), &m, NOW + 2, &p);
    // A major hazard's evidence comes after its plan: the old hand-written rules offered the
    // evidence form here, and the state machine refused what it sent (`reject.plan_required`).
    assert!(!f.acknowledge && f.feedback && !f.evidence && f.plan_rows == 3, "{f:?}");
    let plan = vec![Milestone { date: p.calendar.local_date(NOW) + chrono::Days::new(2), what: "更换".into() }];
    m.apply(&as_role(Role::Facility), &Action::Feedback { text: "已安排".into(), plan }, NOW + 3, &p).unwrap();
    assert!(forms_for(&as_role(Role::Facility), &m, NOW + 3, &p).evidence);
    let file = EvidenceRef { sha256: "a".repeat(64), name: "照片.jpg".into(), content_type: "image/jpeg".into(), bytes: 10 };
    m.apply(&as_role(Role::Facility), &Action::SubmitEvidence { note: "已更换".into(), evidence: vec![file] }, NOW + 4, &p).unwrap();
    assert!(forms_for(&as_role(Role::Inspector), &m, NOW + 5, &p).recheck);
    assert!(!forms_for(&as_role(Role::Facility), &m, NOW + 5, &p).evidence, "evidence is in: nothing more to send until the re-check");
    m.apply(&as_role(Role::Inspector), &Action::Recheck { passed: true, note: "合格".into() }, NOW + 6, &p).unwrap();
    for role in Role::ALL {
        assert!(!forms_for(&as_role(*role), &m, NOW + 7, &p).any(), "a closed matter offers {role} nothing");
    }
}

/// The timeline's lines come from the typed event: each kind shows its own fields, in the reader's
/// language; a stored entry of a kind this version does not know shows none (and no error).
#[test]
fn each_event_kind_shows_its_own_details() {
    let with = |kind: &str, payload: serde_json::Value| matter_event::Model { kind: kind.into(), payload: payload.to_string(), ..event() };
    let details = |e: &matter_event::Model| event_details(e, Locale::En, 8 * 3600);
    let feedback = with("feedback", serde_json::json!({ "text": "已整改", "plan": [{ "date": "2026-12-03", "what": "更换灭火器" }] }));
    assert_eq!(details(&feedback), vec![("Progress".to_string(), "已整改".to_string()), ("Plan".to_string(), "2026-12-03 更换灭火器".to_string())]);
    let approved = with(
        "extension_approved",
        serde_json::json!({ "deadline": "rectify", "extend_by": "7d", "old_due_ms": 0, "new_due_ms": 1_795_000_000_000_i64, "reason": "同意" }),
    );
    let lines: Vec<String> = details(&approved).into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[0].ends_with(": 同意") && lines[2].contains('7') && lines[3].contains("2026-11-18"), "{lines:?}");
    assert!(details(&with("closed", serde_json::json!({ "escalation_level": 1 }))).is_empty());
    assert!(details(&with("from_a_later_version", serde_json::json!({ "text": "x" }))).is_empty());
    assert!(details(&with("feedback", serde_json::json!({ "text": 5 }))).is_empty(), "a payload that does not fit");
}
