//! The store: one database connection pool and the data directory, with the queries the console
//! and the worker share (users and sessions, scoped reads, the deadline board).
//!
//! Scoping rule, used by every read for a person: an admin sees everything; a supervisor or an
//! inspector sees the facilities and matters of their region; a facility user sees their own
//! facility. Anything else (an unknown role, a supervisor without a region) sees nothing.

use crate::db::entities::{
    evidence_file, facility, inspection, inspection_inspector, inspection_notice, inspection_photo, mail, matter, matter_event, notice, region, session, user,
};
use crate::db::migration::Migrator;
use crate::{Error, Result, sha256_hex};
use qingling_rules::Calendar;
use qingling_rules::matter::Status;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sea_orm::{ColumnTrait, ConnectOptions, Database, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};
use sea_orm_migration::MigratorTrait;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Store {
    pub db: DatabaseConnection,
    /// Where evidence files and the mail outbox live.
    pub data_dir: PathBuf,
}

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

/// The file path inside a `sqlite:` URL, if it names a file (not `:memory:`).
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then_some(path)
}

/// A new unguessable token: 32 random bytes as hex (two v4 UUIDs, which come from the OS's
/// random source), so no extra random-number crate is needed.
fn new_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// Whether a person may see a matter of this facility and region.
fn in_scope(user: &user::Model, facility_id: i64, region_id: i64) -> bool {
    match user.role.as_str() {
        "admin" => true,
        "supervisor" | "inspector" => user.region_id == Some(region_id),
        "facility" => user.facility_id == Some(facility_id),
        _ => false,
    }
}

/// The same rule as [`in_scope`], as a query condition on a table with `region_id` and a
/// facility column.
fn scope_condition<C: ColumnTrait>(user: &user::Model, region_col: C, facility_col: C) -> Condition {
    match (user.role.as_str(), user.region_id, user.facility_id) {
        ("admin", _, _) => Condition::all(),
        ("supervisor" | "inspector", Some(region), _) => Condition::all().add(region_col.eq(region)),
        ("facility", _, Some(facility)) => Condition::all().add(facility_col.eq(facility)),
        // Always false, written so that every database accepts it.
        _ => Condition::all().add(Expr::val(1).eq(0)),
    }
}

impl Store {
    /// Opens the database and creates the data directory. SQLite files (and their directory)
    /// are created when missing, and run in WAL mode with a busy timeout so the console's reads
    /// and the worker's writes do not fail on each other. (`sqlite::memory:` gives every pooled
    /// connection its own empty database, so it is no use beyond a quick experiment.)
    pub async fn connect(database_url: &str, data_dir: impl Into<PathBuf>) -> Result<Store> {
        let data_dir = data_dir.into();
        std::fs::create_dir_all(&data_dir)?;
        let mut url = database_url.to_string();
        if url.starts_with("sqlite:") {
            if let Some(parent) = sqlite_file(&url).map(Path::new).and_then(Path::parent).filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            if sqlite_file(&url).is_some() && !url.contains("mode=") {
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str("mode=rwc");
            }
        } else if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Error::Invalid(format!("unsupported database URL (use sqlite: or postgres:): {}", url.split(':').next().unwrap_or_default())));
        }
        let mut options = ConnectOptions::new(url);
        // Statement logging at INFO would flood the worker's log; slow statements still warn.
        options
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o: SqliteConnectOptions| o.journal_mode(SqliteJournalMode::Wal).busy_timeout(Duration::from_secs(15)));
        let db = Database::connect(options).await?;
        Ok(Store { db, data_dir })
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<user::Model>> {
        Ok(user::Entity::find().filter(user::Column::Username.eq(username)).one(&self.db).await?)
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<user::Model>> {
        Ok(user::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Starts a session; returns the cookie token and the CSRF token. Only the token's hash is
    /// stored.
    pub async fn create_session(&self, user_id: i64, ttl_ms: i64, now_ms: i64) -> Result<(String, String)> {
        let token = new_token();
        let csrf = new_token();
        let row = session::ActiveModel {
            id: Set(sha256_hex(&token)),
            user_id: Set(user_id),
            csrf_token: Set(csrf.clone()),
            created_at_ms: Set(now_ms),
            expires_at_ms: Set(now_ms + ttl_ms),
        };
        session::Entity::insert(row).exec_without_returning(&self.db).await?;
        Ok((token, csrf))
    }

    /// The signed-in user and the session's CSRF token, if the token names a live session.
    pub async fn session(&self, token: &str, now_ms: i64) -> Result<Option<(user::Model, String)>> {
        let Some(s) = session::Entity::find_by_id(sha256_hex(token)).one(&self.db).await? else {
            return Ok(None);
        };
        if s.expires_at_ms <= now_ms {
            session::Entity::delete_by_id(s.id).exec(&self.db).await?;
            return Ok(None);
        }
        Ok(self.user_by_id(s.user_id).await?.map(|u| (u, s.csrf_token)))
    }

    pub async fn delete_session(&self, token: &str) -> Result<()> {
        session::Entity::delete_by_id(sha256_hex(token)).exec(&self.db).await?;
        Ok(())
    }

    /// Ends every session of a person ("sign out everywhere"); returns how many there were.
    pub async fn delete_sessions_of(&self, user_id: i64) -> Result<u64> {
        Ok(session::Entity::delete_many().filter(session::Column::UserId.eq(user_id)).exec(&self.db).await?.rows_affected)
    }

    /// How many live sessions each person has, for the account and users pages.
    pub async fn live_sessions(&self, now_ms: i64) -> Result<std::collections::HashMap<i64, u64>> {
        let rows = session::Entity::find().filter(session::Column::ExpiresAtMs.gt(now_ms)).all(&self.db).await?;
        let mut counts = std::collections::HashMap::new();
        for s in rows {
            *counts.entry(s.user_id).or_insert(0) += 1;
        }
        Ok(counts)
    }

    /// Every account, by username: the administrators' users page.
    pub async fn users(&self) -> Result<Vec<user::Model>> {
        Ok(user::Entity::find().order_by_asc(user::Column::Username).all(&self.db).await?)
    }

    pub async fn facility(&self, id: i64) -> Result<Option<facility::Model>> {
        Ok(facility::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// The facilities a person may see, by name.
    pub async fn facilities_for(&self, user: &user::Model) -> Result<Vec<facility::Model>> {
        Ok(facility::Entity::find()
            .filter(scope_condition(user, facility::Column::RegionId, facility::Column::Id))
            .order_by_asc(facility::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn region(&self, id: i64) -> Result<Option<region::Model>> {
        Ok(region::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// A facility's name and its region's division code, which its workflows carry for
    /// Temporal's visibility (`QinglingRegion`, the memo).
    pub async fn facility_facts(&self, id: i64) -> Result<qingling_workflows::visibility::FacilityFacts> {
        let facility = self.facility(id).await?.ok_or_else(|| Error::NotFound(format!("facility {id}")))?;
        let region = self.region(facility.region_id).await?.ok_or_else(|| Error::NotFound(format!("region {}", facility.region_id)))?;
        Ok(qingling_workflows::visibility::FacilityFacts { name: facility.name, region: region.code })
    }

    /// The matters a person may see, newest first.
    pub async fn matters_for(&self, user: &user::Model) -> Result<Vec<matter::Model>> {
        Ok(matter::Entity::find()
            .filter(scope_condition(user, matter::Column::RegionId, matter::Column::FacilityId))
            .order_by_desc(matter::Column::IssuedAtMs)
            .order_by_desc(matter::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn matter(&self, id: &str) -> Result<Option<matter::Model>> {
        Ok(matter::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// A matter's event log in order.
    pub async fn events(&self, matter_id: &str) -> Result<Vec<matter_event::Model>> {
        Ok(matter_event::Entity::find().filter(matter_event::Column::MatterId.eq(matter_id)).order_by_asc(matter_event::Column::Seq).all(&self.db).await?)
    }

    /// A matter's evidence files in upload order.
    pub async fn evidence_for(&self, matter_id: &str) -> Result<Vec<evidence_file::Model>> {
        Ok(evidence_file::Entity::find()
            .filter(evidence_file::Column::MatterId.eq(matter_id))
            .order_by_asc(evidence_file::Column::UploadedAtMs)
            .order_by_asc(evidence_file::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// The mails a matter caused, in the order they were written.
    pub async fn mails_for(&self, matter_id: &str) -> Result<Vec<mail::Model>> {
        Ok(mail::Entity::find().filter(mail::Column::MatterId.eq(matter_id)).order_by_asc(mail::Column::Id).all(&self.db).await?)
    }

    pub async fn notice_for(&self, matter_id: &str) -> Result<Option<notice::Model>> {
        Ok(notice::Entity::find().filter(notice::Column::MatterId.eq(matter_id)).one(&self.db).await?)
    }

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

    /// Whether a person may see a matter (the same rule as the scoped queries).
    pub fn user_can_see(&self, user: &user::Model, matter: &matter::Model) -> bool {
        user_can_see(user, matter)
    }
}

/// Whether a person may see a matter (the same rule as the scoped queries); for callers without
/// a store at hand.
pub fn user_can_see(user: &user::Model, matter: &matter::Model) -> bool {
    in_scope(user, matter.facility_id, matter.region_id)
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

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(sqlite_file("sqlite://data/q.db?mode=rwc"), Some("data/q.db"));
        assert_eq!(sqlite_file("sqlite:q.db"), Some("q.db"));
        assert_eq!(sqlite_file("sqlite:///tmp/q.db"), Some("/tmp/q.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x"), None);
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

// ---- inspections ----

/// An inspection with the people assigned to it.
#[derive(Debug, Clone)]
pub struct InspectionRow {
    pub inspection: inspection::Model,
    pub facility: facility::Model,
    /// The assigned inspectors, each with when they signed.
    pub inspectors: Vec<(user::Model, Option<i64>)>,
}

impl InspectionRow {
    pub fn is_assigned(&self, user_id: i64) -> bool {
        self.inspectors.iter().any(|(u, _)| u.id == user_id)
    }
}

/// Whether a person may see an inspection: oversight in its region, its assigned inspectors,
/// and the inspected facility once the results are out.
pub fn user_can_see_inspection(user: &user::Model, row: &InspectionRow) -> bool {
    let i = &row.inspection;
    match user.role.as_str() {
        "admin" => true,
        "supervisor" => user.region_id == Some(i.region_id),
        "inspector" => row.is_assigned(user.id),
        "facility" => user.facility_id == Some(i.facility_id) && i.status == "completed",
        _ => false,
    }
}

impl Store {
    pub async fn inspection(&self, id: &str) -> Result<Option<InspectionRow>> {
        let Some(inspection) = inspection::Entity::find_by_id(id).one(&self.db).await? else {
            return Ok(None);
        };
        let facility = facility::Entity::find_by_id(inspection.facility_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::NotFound(format!("facility {}", inspection.facility_id)))?;
        let links = inspection_inspector::Entity::find()
            .filter(inspection_inspector::Column::InspectionId.eq(id))
            .order_by_asc(inspection_inspector::Column::Id)
            .all(&self.db)
            .await?;
        let users = user::Entity::find().filter(user::Column::Id.is_in(links.iter().map(|l| l.user_id))).all(&self.db).await?;
        let inspectors = links.into_iter().filter_map(|l| users.iter().find(|u| u.id == l.user_id).map(|u| (u.clone(), l.signed_at_ms))).collect();
        Ok(Some(InspectionRow { inspection, facility, inspectors }))
    }

    /// The inspections a person may see, newest first.
    pub async fn inspections_for(&self, user: &user::Model) -> Result<Vec<inspection::Model>> {
        let q = inspection::Entity::find().order_by_desc(inspection::Column::Date).order_by_desc(inspection::Column::CreatedAtMs);
        let q = match user.role.as_str() {
            "admin" => q,
            "supervisor" => q.filter(inspection::Column::RegionId.eq(user.region_id.unwrap_or(-1))),
            "inspector" => {
                let mine: Vec<String> = inspection_inspector::Entity::find()
                    .filter(inspection_inspector::Column::UserId.eq(user.id))
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .map(|l| l.inspection_id)
                    .collect();
                q.filter(inspection::Column::Id.is_in(mine))
            }
            "facility" => q.filter(inspection::Column::FacilityId.eq(user.facility_id.unwrap_or(-1))).filter(inspection::Column::Status.eq("completed")),
            _ => return Ok(vec![]),
        };
        Ok(q.all(&self.db).await?)
    }

    /// The inspectors of a region, to assign.
    pub async fn inspectors_in(&self, region_id: i64) -> Result<Vec<user::Model>> {
        Ok(user::Entity::find()
            .filter(user::Column::Role.eq("inspector"))
            .filter(user::Column::RegionId.eq(region_id))
            .order_by_asc(user::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Keeps a tablet's draft, unless the inspection is already submitted. Returns the new
    /// revision, or `None` when the inspection no longer takes drafts. It leaves `updated_at_ms`
    /// alone: that column orders the workflow's records (workflow time), not the tablet's saves.
    pub async fn save_draft(&self, id: &str, answers: &serde_json::Value) -> Result<Option<i64>> {
        let updated = inspection::Entity::update_many()
            .col_expr(inspection::Column::Draft, Expr::value(answers.to_string()))
            .col_expr(inspection::Column::DraftRev, Expr::col(inspection::Column::DraftRev).add(1))
            .filter(inspection::Column::Id.eq(id))
            .filter(inspection::Column::Status.is_in(["assigned", "in_progress"]))
            .exec(&self.db)
            .await?
            .rows_affected;
        if updated == 0 {
            return Ok(None);
        }
        Ok(inspection::Entity::find_by_id(id).one(&self.db).await?.map(|i| i.draft_rev))
    }

    /// The notices an inspection issued, in order.
    pub async fn inspection_notices(&self, id: &str) -> Result<Vec<inspection_notice::Model>> {
        Ok(inspection_notice::Entity::find()
            .filter(inspection_notice::Column::InspectionId.eq(id))
            .order_by_asc(inspection_notice::Column::Idx)
            .all(&self.db)
            .await?)
    }

    /// Records that a stored photo was taken for an inspection (once).
    pub async fn add_inspection_photo(&self, inspection_id: &str, photo: &crate::evidence::StoredPhoto, uploaded_by: i64, now_ms: i64) -> Result<()> {
        let row = inspection_photo::ActiveModel {
            id: Default::default(),
            inspection_id: Set(inspection_id.to_string()),
            sha256: Set(photo.sha256.clone()),
            content_type: Set(photo.content_type.clone()),
            bytes: Set(photo.bytes as i64),
            uploaded_by: Set(uploaded_by),
            uploaded_at_ms: Set(now_ms),
        };
        inspection_photo::Entity::insert(row)
            .on_conflict(
                sea_orm::sea_query::OnConflict::columns([inspection_photo::Column::InspectionId, inspection_photo::Column::Sha256]).do_nothing().to_owned(),
            )
            .do_nothing()
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// The hashes of the photos taken for an inspection.
    pub async fn inspection_photos(&self, inspection_id: &str) -> Result<std::collections::BTreeSet<String>> {
        Ok(inspection_photo::Entity::find()
            .filter(inspection_photo::Column::InspectionId.eq(inspection_id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| p.sha256)
            .collect())
    }

    /// The inspection notice a matter was issued under, if it came from an inspection.
    /// The document of a matter's notice (its own or its inspection's), if it has one.
    pub async fn notice_document(&self, matter_id: &str) -> Result<Option<crate::notices::StoredDocument>> {
        crate::notices::document_of(&self.db, matter_id).await
    }

    pub async fn inspection_notice_for_matter(&self, matter_id: &str) -> Result<Option<inspection_notice::Model>> {
        Ok(inspection_notice::Entity::find().filter(inspection_notice::Column::MatterId.eq(matter_id)).one(&self.db).await?)
    }
}
