//! The notice register: numbers per bureau and year, unique and gap-free however many
//! transactions take them at once, and given back by a transaction that rolls back.

use crate::Fixture;
use qingling_activities::db::entities::{notice_counter, region};
use qingling_activities::numbering;
use qingling_rules::Policy;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn numbers_stay_unique_and_gap_free_under_concurrent_transactions_some_rolled_back() {
    let fx = Fixture::new().await;
    let mut tasks = vec![];
    for i in 0..24 {
        let db = fx.store.db.clone();
        let region_id = fx.region_id;
        tasks.push(tokio::spawn(async move {
            let txn = db.begin().await?;
            let seq = numbering::next_seq(&txn, region_id, 2026).await?;
            // Hold the number a moment, so that other transactions wait on this one.
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
            if i % 4 == 0 {
                txn.rollback().await?;
                Ok::<_, qingling_activities::Error>(None)
            } else {
                txn.commit().await?;
                Ok(Some(seq))
            }
        }));
    }
    let mut committed = vec![];
    for t in tasks {
        committed.extend(t.await.unwrap().unwrap());
    }
    committed.sort_unstable();
    assert_eq!(committed, (1..=18).collect::<Vec<i64>>(), "the numbers of committed issues are 1..18 with none twice or skipped");
    let counter = notice_counter::Entity::find()
        .filter(notice_counter::Column::RegionId.eq(fx.region_id))
        .filter(notice_counter::Column::Year.eq(2026))
        .one(&fx.store.db)
        .await;
    assert_eq!(counter.unwrap().unwrap().next_seq, 19);

    // The next one is printed in the policy's pattern.
    let policy = Policy::builtin();
    let chaoyang = region::Entity::find_by_id(fx.region_id).one(&fx.store.db).await.unwrap().unwrap();
    let txn = fx.store.db.begin().await.unwrap();
    let n = numbering::take(&txn, &policy.numbering, &chaoyang, 2026).await.unwrap();
    txn.commit().await.unwrap();
    assert_eq!(n, numbering::Number { region_id: fx.region_id, year: 2026, seq: 19, text: "朝民养整改〔2026〕0019号".into() });
}

#[tokio::test]
async fn each_bureau_and_year_has_its_own_register() {
    let fx = Fixture::new().await;
    let policy = Policy::builtin();
    let haidian = region::Entity::find().filter(region::Column::Code.eq("110108")).one(&fx.store.db).await.unwrap().unwrap();
    let chaoyang = region::Entity::find_by_id(fx.region_id).one(&fx.store.db).await.unwrap().unwrap();
    let txn = fx.store.db.begin().await.unwrap();
    let mut taken = vec![];
    for (bureau, year) in [(&chaoyang, 2026), (&chaoyang, 2026), (&haidian, 2026), (&chaoyang, 2027), (&haidian, 2026)] {
        taken.push(numbering::take(&txn, &policy.numbering, bureau, year).await.unwrap().text);
    }
    txn.commit().await.unwrap();
    assert_eq!(
        taken,
        ["朝民养整改〔2026〕0001号", "朝民养整改〔2026〕0002号", "海民养整改〔2026〕0001号", "朝民养整改〔2027〕0001号", "海民养整改〔2026〕0002号"]
    );
}
