//! The deadline board: the open matters a person may see, sorted by urgency.

use super::{Store, scope_condition};
use crate::Result;
use crate::db::entities::{matter, user};
use qingling_rules::Calendar;
use qingling_rules::matter::Status;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

/// Open matters by urgency, for the console's front page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Board {
    /// Due before the end of today (local time), not yet overdue.
    pub due_today: Vec<matter::Model>,
    /// Due within the next three calendar days after today.
    pub due_within_3_days: Vec<matter::Model>,
    /// Some deadline has been missed.
    pub overdue: Vec<matter::Model>,
    /// Matters that were ever escalated, grouped by their highest level, highest first.
    pub by_level: Vec<(i32, Vec<matter::Model>)>,
    /// A facility's extension request waits for a supervisor's decision.
    pub awaiting_decision: Vec<matter::Model>,
}

/// Whether a stored snapshot has an extension request waiting (read without the whole matter).
fn extension_pending(snapshot: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Pending {
        #[serde(default)]
        pending_extension: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_str::<Pending>(snapshot).is_ok_and(|p| p.pending_extension.is_some())
}

impl Store {
    /// The deadline board of the open matters a person may see. Grouping is done here rather
    /// than in SQL so that date arithmetic follows the policy calendar on every database.
    pub async fn board(&self, user: &user::Model, now_ms: i64, calendar: &Calendar) -> Result<Board> {
        let ended: Vec<&str> = Status::ALL.iter().filter(|s| s.is_ended()).map(|s| s.as_str()).collect();
        let open = matter::Entity::find()
            .filter(scope_condition(user, matter::Column::RegionId, matter::Column::FacilityId))
            .filter(matter::Column::Status.is_not_in(ended))
            .order_by_asc(matter::Column::NextDueMs)
            .order_by_asc(matter::Column::Id)
            .all(&self.db)
            .await?;
        Ok(board_of(open, now_ms, calendar))
    }
}

/// Sorts open matters onto the board. A deadline due at local midnight belongs to the day that
/// ends there, hence the `- 1`.
fn board_of(open: Vec<matter::Model>, now_ms: i64, calendar: &Calendar) -> Board {
    let today = calendar.local_date(now_ms);
    let horizon = today + chrono::Days::new(3);
    let mut board = Board::default();
    let mut levels: std::collections::BTreeMap<i32, Vec<matter::Model>> = Default::default();
    for m in open {
        if extension_pending(&m.snapshot) {
            board.awaiting_decision.push(m.clone());
        }
        if m.escalation_level > 0 {
            levels.entry(m.escalation_level).or_default().push(m.clone());
        }
        match m.next_due_ms {
            _ if m.overdue => board.overdue.push(m),
            Some(due) if due < now_ms => board.overdue.push(m),
            Some(due) => {
                let day = calendar.local_date(due - 1);
                if day <= today {
                    board.due_today.push(m);
                } else if day <= horizon {
                    board.due_within_3_days.push(m);
                }
            }
            None => {}
        }
    }
    board.by_level = levels.into_iter().rev().collect();
    board
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_extension_request_is_read_from_the_snapshot() {
        assert!(extension_pending(r#"{"id":"m","pending_extension":{"deadline":"rectify"}}"#));
        assert!(!extension_pending(r#"{"id":"m","pending_extension":null}"#));
        assert!(!extension_pending(r#"{"id":"m"}"#));
        assert!(!extension_pending("not json"));
    }

    fn m(id: &str, due: Option<i64>, overdue: bool, level: i32) -> matter::Model {
        matter::Model {
            id: id.into(),
            workflow_id: format!("matter-{id}"),
            facility_id: 1,
            region_id: 1,
            kind: "rectification".into(),
            severity: "ordinary".into(),
            title: id.into(),
            description: String::new(),
            basis: String::new(),
            status: "issued".into(),
            escalation_level: level,
            handler: None,
            next_due_ms: due,
            overdue,
            snapshot: "{}".into(),
            issued_by: 1,
            issued_at_ms: 0,
            updated_at_ms: 0,
            last_seq: 1,
        }
    }

    #[test]
    fn the_board_sorts_by_local_day_and_level() {
        let cal = qingling_rules::Policy::builtin().calendar;
        let date = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        // 2026-11-23 10:00 +08:00.
        let now = cal.end_of_day_ms(date("2026-11-22")) + 10 * 3_600_000;
        let end_of = |s: &str| cal.end_of_day_ms(date(s));
        let board = board_of(
            vec![
                m("today", Some(end_of("2026-11-23")), false, 0),
                m("in3", Some(end_of("2026-11-26")), false, 0),
                m("in4", Some(end_of("2026-11-27")), false, 0),
                m("late", Some(now - 1), false, 0),
                m("flagged", Some(end_of("2026-11-30")), true, 2),
                m("lvl1", None, false, 1),
            ],
            now,
            &cal,
        );
        let ids = |v: &[matter::Model]| v.iter().map(|m| m.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&board.due_today), ["today"]);
        assert_eq!(ids(&board.due_within_3_days), ["in3"]);
        assert_eq!(ids(&board.overdue), ["late", "flagged"]);
        let levels: Vec<(i32, Vec<String>)> = board.by_level.iter().map(|(l, v)| (*l, ids(v))).collect();
        assert_eq!(levels, [(2, vec!["flagged".to_string()]), (1, vec!["lvl1".to_string()])]);
    }
}
