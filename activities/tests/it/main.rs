//! Integration tests of the activities crate against a real SQLite file in a temporary
//! directory, with the schema made by the migrator. One test binary, so the heavy dependencies
//! are linked once.
//!
//! With `QINGLING_TEST_DB=postgres` and `QINGLING_TEST_PG_URL` (as `scripts/test` sets them)
//! every test gets a new PostgreSQL database on that server instead.

mod audit;
mod chain;
mod directory;
mod evidence;
mod inspection;
mod mail;
mod numbering;
mod outbox;
mod persist;
mod recipients;
mod store;

use chrono::TimeZone;
use qingling_activities::db::entities::{facility, region, user};
use qingling_activities::mail::{Mailer, Transport};
use qingling_activities::persist::MatterActivitiesImpl;
use qingling_activities::store::Store;
use qingling_rules::Policy;
use qingling_rules::matter::{Action, Actor, Effect, Matter, MatterKind, NewMatter, Role, Severity};
use qingling_workflows::contract::{PendingEvent, PendingMail, PersistBatch};
use sea_orm::{ActiveValue::NotSet, EntityTrait, Set};
use std::path::PathBuf;

/// A fresh database and data directory, removed when dropped.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub facility_id: i64,
    pub other_facility_id: i64,
    pub region_id: i64,
    pub supervisor: user::Model,
    pub facility_user: user::Model,
}

/// A SQLite file in `dir`, or a fresh PostgreSQL database when the environment asks for one.
pub async fn database_url(dir: &tempfile::TempDir) -> String {
    let postgres = std::env::var("QINGLING_TEST_DB").is_ok_and(|v| v.eq_ignore_ascii_case("postgres"));
    let Some(server) = std::env::var("QINGLING_TEST_PG_URL").ok().filter(|_| postgres) else {
        return format!("sqlite://{}", dir.path().join("db/qingling.db").display());
    };
    use sea_orm::ConnectionTrait;
    let name = format!("qa_{}", uuid::Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(&server).await.unwrap();
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
    admin.close().await.unwrap();
    let base = server.rsplit_once('/').map_or(server.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

/// The chain key every fixture signs with.
pub fn test_key() -> qingling_activities::audit::AuditKey {
    qingling_activities::audit::AuditKey::from_hex(&"5a".repeat(32)).unwrap()
}

/// 2026-11-23 10:00 China time.
pub fn monday_10am() -> i64 {
    chrono::FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap().timestamp_millis()
}

impl Fixture {
    /// Chaoyang district with two facilities, one facility user, two inspectors, a supervisor
    /// and an admin; Haidian with one facility and its own supervisor.
    pub async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let url = database_url(&dir).await;
        let store = Store::connect(&url, dir.path().join("data")).await.unwrap();
        store.migrate().await.unwrap();
        let region = |code: &str, name: &str, prefix: &str| region::ActiveModel {
            id: NotSet,
            code: Set(code.into()),
            name: Set(name.into()),
            level: Set("district".into()),
            parent_id: Set(None),
            bureau_name: Set(format!("{name}民政局")),
            notice_prefix: Set(prefix.into()),
        };
        let chaoyang = region::Entity::insert(region("110105", "朝阳区", "朝民")).exec(&store.db).await.unwrap().last_insert_id;
        let haidian = region::Entity::insert(region("110108", "海淀区", "海民")).exec(&store.db).await.unwrap().last_insert_id;
        let facility = |region_id: i64, name: &str| facility::ActiveModel {
            id: NotSet,
            region_id: Set(region_id),
            name: Set(name.into()),
            address: Set("北京".into()),
            email: Set(None),
            created_at_ms: Set(0),
        };
        let f1 = facility::Entity::insert(facility(chaoyang, "望京颐养中心")).exec(&store.db).await.unwrap().last_insert_id;
        let f2 = facility::Entity::insert(facility(chaoyang, "朝阳区康乐养老院")).exec(&store.db).await.unwrap().last_insert_id;
        facility::Entity::insert(facility(haidian, "海淀区温泉敬老院")).exec(&store.db).await.unwrap();
        let mut users = vec![];
        for (name, role, region, facility, locale) in [
            ("facility1", "facility", None, Some(f1), "zh-CN"),
            ("inspector1", "inspector", Some(chaoyang), None, "zh-CN"),
            ("inspector2", "inspector", Some(chaoyang), None, "en"),
            ("supervisor", "supervisor", Some(chaoyang), None, "zh-CN"),
            ("haidian", "supervisor", Some(haidian), None, "zh-CN"),
            ("admin", "admin", None, None, "zh-CN"),
        ] {
            let row = user::ActiveModel {
                id: NotSet,
                username: Set(name.into()),
                display_name: Set(format!("{name} 显示名")),
                email: Set(format!("{name}@example.test")),
                role: Set(role.into()),
                region_id: Set(region),
                facility_id: Set(facility),
                password_hash: Set("x".into()),
                locale: Set(locale.into()),
                created_at_ms: Set(0),
                certificate: Set(None),
            };
            let id = user::Entity::insert(row).exec(&store.db).await.unwrap().last_insert_id;
            users.push(user::Entity::find_by_id(id).one(&store.db).await.unwrap().unwrap());
        }
        Fixture { dir, store, facility_id: f1, other_facility_id: f2, region_id: chaoyang, facility_user: users[0].clone(), supervisor: users[3].clone() }
    }

    pub fn outbox(&self) -> PathBuf {
        self.dir.path().join("outbox")
    }

    pub fn activities(&self) -> MatterActivitiesImpl {
        let policy = Policy::builtin();
        MatterActivitiesImpl {
            store: self.store.clone(),
            mailer: Mailer::new(Transport::Outbox { dir: self.outbox() }, "清零 <noreply@example.test>"),
            calendar: policy.calendar.clone(),
            policy,
            public_url: "http://127.0.0.1:8080/".into(),
            audit_key: test_key(),
        }
    }

    pub fn outbox_files(&self) -> Vec<PathBuf> {
        let Ok(dir) = std::fs::read_dir(self.outbox()) else { return vec![] };
        let mut files: Vec<PathBuf> = dir.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
        files.sort();
        files
    }

    pub fn supervisor_actor(&self) -> Actor {
        Actor { user_id: self.supervisor.id, name: self.supervisor.display_name.clone(), role: Role::Supervisor, facility_id: None }
    }

    pub fn facility_actor(&self) -> Actor {
        Actor { user_id: self.facility_user.id, name: self.facility_user.display_name.clone(), role: Role::Facility, facility_id: Some(self.facility_id) }
    }
}

/// A matter driven the way the `Rectification` workflow drives it: effects become numbered
/// events and mails, collected into batches.
pub struct Driver {
    pub new: NewMatter,
    pub matter: Matter,
    pub policy: Policy,
    next_seq: u64,
    events: Vec<PendingEvent>,
    mails: Vec<PendingMail>,
}

impl Driver {
    pub fn open(id: &str, facility_id: i64, issued_by: Actor, now_ms: i64) -> Driver {
        let policy = Policy::builtin();
        let new = NewMatter {
            id: id.into(),
            facility_id,
            kind: MatterKind::FireSafety,
            severity: Severity::Ordinary,
            title: "消防通道堵塞".into(),
            description: "二楼东侧消防通道堆放杂物。".into(),
            basis: "《养老机构服务安全基本规范》GB 38600-2019 第6.1条".into(),
            issued_by,
            issued_ms: None,
            rectify_due_ms: None,
            measures_due_ms: None,
        };
        let (matter, effects) = Matter::open(&new, now_ms, &policy);
        let mut d = Driver { new, matter, policy, next_seq: 0, events: vec![], mails: vec![] };
        d.enqueue(now_ms, effects);
        d
    }

    /// Mirrors `Rectification::enqueue`.
    fn enqueue(&mut self, at_ms: i64, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Record { event, actor } => {
                    let (kind, payload) = event.into_parts();
                    self.next_seq += 1;
                    self.events.push(PendingEvent { seq: self.next_seq, at_ms, kind, actor, payload });
                }
                Effect::Notify { notice, audience, args } => self.mails.push(PendingMail { seq: self.next_seq, notice, audience, args }),
            }
        }
    }

    pub fn act(&mut self, actor: &Actor, action: Action, now_ms: i64) {
        let effects = self.matter.apply(actor, &action, now_ms, &self.policy).expect("the action is allowed");
        self.enqueue(now_ms, effects);
    }

    pub fn tick(&mut self, now_ms: i64) {
        let effects = self.matter.tick(now_ms, &self.policy);
        self.enqueue(now_ms, effects);
    }

    /// The outbox as a batch, and the outbox emptied (as after a successful persist).
    pub fn take_batch(&mut self) -> PersistBatch {
        PersistBatch {
            workflow_id: format!("matter-{}", self.new.id),
            policy_name: self.policy.name.clone(),
            new: self.new.clone(),
            matter: self.matter.clone(),
            events: std::mem::take(&mut self.events),
            mails: std::mem::take(&mut self.mails),
            numbering: Some(self.policy.numbering.clone()),
        }
    }
}
