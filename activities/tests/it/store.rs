//! Store queries: sessions, scoping, the board and the demo seed.

use crate::{Driver, Fixture, monday_10am};
use qingling_activities::password::verify_password;
use qingling_activities::seed::seed_demo;
use qingling_activities::store::{Store, user_can_see};
use qingling_rules::Policy;

#[tokio::test]
async fn a_session_lives_until_it_expires_or_is_deleted() {
    let fx = Fixture::new().await;
    let now = monday_10am();
    let (token, csrf) = fx.store.create_session(fx.supervisor.id, 60_000, now).await.unwrap();
    assert_eq!(token.len(), 64);
    assert_ne!(token, csrf);
    let (user, got_csrf) = fx.store.session(&token, now + 1).await.unwrap().unwrap();
    assert_eq!((user.id, got_csrf), (fx.supervisor.id, csrf));
    assert!(fx.store.session("not-a-token", now).await.unwrap().is_none());
    assert!(fx.store.session(&token, now + 60_000).await.unwrap().is_none(), "expired");

    let (token, _) = fx.store.create_session(fx.supervisor.id, 60_000, now).await.unwrap();
    fx.store.delete_session(&token).await.unwrap();
    assert!(fx.store.session(&token, now).await.unwrap().is_none());
}

#[tokio::test]
async fn people_see_their_region_or_their_facility() {
    let fx = Fixture::new().await;
    let acts = fx.activities();
    let now = monday_10am();
    for (id, facility) in [("own", fx.facility_id), ("neighbour", fx.other_facility_id)] {
        let mut d = Driver::open(id, facility, fx.supervisor_actor(), now);
        acts.persist_batch(&d.take_batch()).await.unwrap();
    }
    let haidian = fx.store.user_by_username("haidian").await.unwrap().unwrap();
    let admin = fx.store.user_by_username("admin").await.unwrap().unwrap();
    let ids = |v: Vec<qingling_activities::db::entities::matter::Model>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
    assert_eq!(ids(fx.store.matters_for(&fx.supervisor).await.unwrap()).len(), 2);
    assert_eq!(ids(fx.store.matters_for(&fx.facility_user).await.unwrap()), ["own"]);
    assert!(fx.store.matters_for(&haidian).await.unwrap().is_empty());
    assert_eq!(fx.store.facilities_for(&admin).await.unwrap().len(), 3);
    assert_eq!(fx.store.facilities_for(&fx.supervisor).await.unwrap().len(), 2);
    assert_eq!(fx.store.facilities_for(&haidian).await.unwrap().len(), 1);
    let neighbour = fx.store.matter("neighbour").await.unwrap().unwrap();
    assert!(user_can_see(&fx.supervisor, &neighbour));
    assert!(!fx.store.user_can_see(&fx.facility_user, &neighbour));
    assert!(!user_can_see(&haidian, &neighbour));

    // Both matters must be acknowledged today (by 24:00 local time).
    let board = fx.store.board(&fx.supervisor, now, &Policy::builtin().calendar).await.unwrap();
    assert_eq!(board.due_today.len(), 2);
    assert!(board.overdue.is_empty() && board.by_level.is_empty());
    let tomorrow = fx.store.board(&fx.facility_user, now + 86_400_000, &Policy::builtin().calendar).await.unwrap();
    assert_eq!(ids(tomorrow.overdue), ["own"]);
}

#[tokio::test]
async fn the_demo_seed_runs_once_on_an_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&crate::database_url(&dir).await, dir.path().join("data")).await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    let accounts = seed_demo(&store, monday_10am()).await.unwrap().expect("seeded");
    let names: Vec<_> = accounts.iter().map(|a| a.username.as_str()).collect();
    assert_eq!(names, ["admin", "supervisor", "haidian", "inspector1", "inspector2", "facility1", "facility2", "facility3"]);
    assert!(seed_demo(&store, monday_10am()).await.unwrap().is_none(), "never twice");

    let supervisor = store.user_by_username("supervisor").await.unwrap().unwrap();
    assert!(verify_password(&supervisor.password_hash, "qingling-demo"));
    let district = store.region(supervisor.region_id.unwrap()).await.unwrap().unwrap();
    assert_eq!((district.bureau_name.as_str(), district.notice_prefix.as_str()), ("朝阳区民政局", "朝民"));
    assert_eq!(store.facilities_for(&supervisor).await.unwrap().len(), 3);
    let facility3 = store.user_by_username("facility3").await.unwrap().unwrap();
    let own = store.facilities_for(&facility3).await.unwrap();
    assert_eq!(own.len(), 1);
    assert_eq!(store.region(own[0].region_id).await.unwrap().unwrap().notice_prefix, "海民");
    assert_eq!(facility3.email, "facility3@example.test");
}

#[tokio::test]
async fn sqlite_databases_run_in_wal_mode() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let fx = Fixture::new().await;
    let db = &fx.store.db;
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let row = db.query_one(Statement::from_string(DbBackend::Sqlite, "PRAGMA journal_mode")).await.unwrap().unwrap();
    let mode: String = row.try_get_by_index(0).unwrap();
    assert_eq!(mode, "wal");
}

/// One facility by id follows the same rule as the list: a facility's user its own, a
/// supervisor their district's, an administrator any; a facility that does not exist is none.
#[tokio::test]
async fn one_facility_is_found_only_within_the_persons_scope() {
    let fx = Fixture::new().await;
    let haidian = fx.store.user_by_username("haidian").await.unwrap().unwrap();
    let admin = fx.store.user_by_username("admin").await.unwrap().unwrap();
    let found = |u: &qingling_activities::db::entities::user::Model, id: i64| {
        let store = fx.store.clone();
        let u = u.clone();
        async move { store.facility_for(&u, id).await.unwrap().map(|f| f.id) }
    };
    assert_eq!(found(&fx.facility_user, fx.facility_id).await, Some(fx.facility_id));
    assert_eq!(found(&fx.facility_user, fx.other_facility_id).await, None);
    assert_eq!(found(&fx.supervisor, fx.facility_id).await, Some(fx.facility_id));
    assert_eq!(found(&haidian, fx.facility_id).await, None);
    assert_eq!(found(&admin, fx.other_facility_id).await, Some(fx.other_facility_id));
    assert_eq!(found(&admin, 999_999).await, None);
    for u in [&fx.facility_user, &fx.supervisor, &haidian, &admin] {
        let listed: Vec<i64> = fx.store.facilities_for(u).await.unwrap().into_iter().map(|f| f.id).collect();
        for id in [fx.facility_id, fx.other_facility_id] {
            assert_eq!(found(u, id).await.is_some(), listed.contains(&id), "{} / {id}", u.username);
        }
    }
}
