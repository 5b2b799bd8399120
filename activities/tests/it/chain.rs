//! The generic hash chain on a real database: the matter log through `chain::append`, and two
//! other kinds sharing one table told apart by a `kind` column, as a campaign and a star rating
//! could.

use crate::{Driver, Fixture, monday_10am, test_key};
use qingling_activities::Error;
use qingling_activities::audit::MatterLog;
use qingling_activities::chain::{self, Break, EventContent, Link, Log, Stored};
use sea_orm::sea_query::{ColumnDef, Condition, Expr, Table};
use sea_orm::{ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// A table for this test only (the real schema comes from the migrator): the events of several
/// kinds of case, one chain per (kind, case).
mod case_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "test_case_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub case_kind: String,
        pub case_id: String,
        pub seq: i64,
        pub at_ms: i64,
        pub kind: String,
        #[sea_orm(column_type = "Text")]
        pub payload: String,
        pub prev_hash: String,
        pub hash: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

impl Stored for case_event::Model {
    fn link(&self) -> Link<'_> {
        Link {
            content: EventContent {
                // The stored kind, so a row given another kind is hashed as that kind's.
                log: Some(&self.case_kind),
                subject: &self.case_id,
                seq: self.seq,
                at_ms: self.at_ms,
                kind: &self.kind,
                actor_id: None,
                actor_name: None,
                actor_role: None,
                payload: &self.payload,
            },
            prev_hash: &self.prev_hash,
            hash: &self.hash,
        }
    }
}

macro_rules! shared_log {
    ($name:ident, $kind:literal) => {
        struct $name;

        impl Log for $name {
            type Entity = case_event::Entity;
            const KIND: Option<&'static str> = Some($kind);
            const NOUN: &'static str = $kind;

            fn subject(id: &str) -> Condition {
                Condition::all().add(case_event::Column::CaseKind.eq($kind)).add(case_event::Column::CaseId.eq(id))
            }

            fn seq() -> case_event::Column {
                case_event::Column::Seq
            }

            fn hash() -> case_event::Column {
                case_event::Column::Hash
            }

            fn row(link: &Link<'_>) -> case_event::ActiveModel {
                let c = &link.content;
                case_event::ActiveModel {
                    id: NotSet,
                    case_kind: Set($kind.into()),
                    case_id: Set(c.subject.into()),
                    seq: Set(c.seq),
                    at_ms: Set(c.at_ms),
                    kind: Set(c.kind.into()),
                    payload: Set(c.payload.into()),
                    prev_hash: Set(link.prev_hash.into()),
                    hash: Set(link.hash.into()),
                }
            }
        }
    };
}

shared_log!(CampaignLog, "campaign");
shared_log!(RatingLog, "rating");

async fn create_table(db: &impl ConnectionTrait) {
    use case_event::Column as C;
    let stmt = Table::create()
        .table(case_event::Entity)
        .col(ColumnDef::new(C::Id).big_integer().not_null().auto_increment().primary_key())
        .col(ColumnDef::new(C::CaseKind).string_len(32).not_null())
        .col(ColumnDef::new(C::CaseId).string_len(64).not_null())
        .col(ColumnDef::new(C::Seq).big_integer().not_null())
        .col(ColumnDef::new(C::AtMs).big_integer().not_null())
        .col(ColumnDef::new(C::Kind).string_len(64).not_null())
        .col(ColumnDef::new(C::Payload).text().not_null())
        .col(ColumnDef::new(C::PrevHash).string_len(64).not_null())
        .col(ColumnDef::new(C::Hash).string_len(64).not_null())
        .to_owned();
    db.execute(db.get_database_backend().build(&stmt)).await.unwrap();
}

fn event<'a>(log: Option<&'a str>, subject: &'a str, seq: i64, payload: &'a str) -> EventContent<'a> {
    EventContent { log, subject, seq, at_ms: 1_000 * seq, kind: "noted", actor_id: None, actor_name: None, actor_role: None, payload }
}

#[tokio::test]
async fn two_kinds_keep_separate_chains_in_one_table_and_a_row_moved_between_them_fails() {
    let fx = Fixture::new().await;
    let (db, key) = (&fx.store.db, test_key());
    create_table(db).await;
    let campaign = [event(Some("campaign"), "c-1", 1, "{}"), event(Some("campaign"), "c-1", 2, r#"{"a":1}"#), event(Some("campaign"), "c-1", 3, "{}")];
    let rating = [event(Some("rating"), "c-1", 1, r#"{"stars":3}"#), event(Some("rating"), "c-1", 2, r#"{"stars":4}"#)];
    assert_eq!(chain::append::<CampaignLog>(db, &key, &campaign[..2]).await.unwrap(), 2);
    // The next step repeats event 2 (a retried batch) and adds event 3.
    assert_eq!(chain::append::<CampaignLog>(db, &key, &campaign[1..]).await.unwrap(), 1);
    assert_eq!(chain::append::<RatingLog>(db, &key, &rating).await.unwrap(), 2);
    assert_eq!(chain::append::<RatingLog>(db, &key, &rating).await.unwrap(), 0, "appending again writes nothing");

    let campaigns = chain::read::<CampaignLog>(db, "c-1").await.unwrap();
    let ratings = chain::read::<RatingLog>(db, "c-1").await.unwrap();
    assert_eq!((campaigns.len(), ratings.len()), (3, 2), "one case id, two chains");
    assert_eq!(campaigns[0].prev_hash, chain::GENESIS);
    assert_eq!(campaigns[2].prev_hash, campaigns[1].hash);
    assert_eq!(chain::check(&key, &campaigns, Some(3), None), None);
    assert_eq!(chain::check(&key, &ratings, Some(2), None), None);
    assert_ne!(campaigns[0].hash, ratings[0].hash);

    // Another case's campaign chain relabelled as a rating chain does not pass as one.
    chain::append::<CampaignLog>(db, &key, &[event(Some("campaign"), "c-2", 1, "{}"), event(Some("campaign"), "c-2", 2, "{}")]).await.unwrap();
    case_event::Entity::update_many()
        .col_expr(case_event::Column::CaseKind, Expr::value("rating"))
        .filter(case_event::Column::CaseId.eq("c-2"))
        .exec(db)
        .await
        .unwrap();
    let moved = chain::read::<RatingLog>(db, "c-2").await.unwrap();
    assert_eq!(moved.len(), 2);
    assert_eq!(chain::check(&key, &moved, None, None), Some(Break { seq: 1, why: "hash does not match content".into() }));

    // An edited payload is found where it was edited.
    case_event::Entity::update_many()
        .col_expr(case_event::Column::Payload, Expr::value(r#"{"stars":5}"#))
        .filter(case_event::Column::CaseKind.eq("rating"))
        .filter(case_event::Column::CaseId.eq("c-1"))
        .filter(case_event::Column::Seq.eq(2))
        .exec(db)
        .await
        .unwrap();
    let edited = chain::read::<RatingLog>(db, "c-1").await.unwrap();
    assert_eq!(chain::check(&key, &edited, None, None), Some(Break { seq: 2, why: "hash does not match content".into() }));
}

#[tokio::test]
async fn an_event_without_its_predecessor_is_refused_until_it_arrives() {
    let fx = Fixture::new().await;
    let (db, key) = (&fx.store.db, test_key());
    let mut d = Driver::open("m-chain", fx.facility_id, fx.supervisor_actor(), monday_10am());
    fx.activities().persist_batch(&d.take_batch()).await.unwrap();

    let err = chain::append::<MatterLog>(db, &key, &[event(None, "m-chain", 3, "{}")]).await.unwrap_err();
    assert!(matches!(err, Error::Inconsistent(_)) && err.is_retryable(), "{err}");
    assert_eq!(err.to_string(), "inconsistent data: matter m-chain: event 2 is missing before event 3");
    assert_eq!(fx.store.events("m-chain").await.unwrap().len(), 1, "nothing was written");

    // Both together, out of order, are appended in order.
    assert_eq!(chain::append::<MatterLog>(db, &key, &[event(None, "m-chain", 3, "{}"), event(None, "m-chain", 2, "{}")]).await.unwrap(), 2);
    let events = fx.store.events("m-chain").await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(chain::check(&key, &events, Some(3), None), None);
    // The matter's own verifier agrees (the matter row says 1 was written; the chain holds more).
    let report = qingling_activities::audit::verify(db, &key, None).await.unwrap();
    assert_eq!((report.events, report.broken_count), (3, 0));

    // One append writes one log's chain: another subject, or another kind's tag, is a programming error.
    for wrong in [event(None, "m-other", 4, "{}"), event(Some("campaign"), "m-chain", 4, "{}")] {
        let err = chain::append::<MatterLog>(db, &key, &[event(None, "m-chain", 4, "{}"), wrong]).await.unwrap_err();
        assert!(matches!(err, Error::Invalid(_)) && !err.is_retryable(), "{err}");
    }
    assert_eq!(fx.store.events("m-chain").await.unwrap().len(), 3);
}
