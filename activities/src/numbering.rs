//! Notice numbers: one sequence per issuing bureau (a region) and year, shared by every notice
//! whichever way it is issued (an inspection's, a supervisor's from the console, and what the
//! kinds of case to come will issue), in the `notice_counters` table.
//!
//! Invariant: the notices a bureau numbers in a year are numbered 1, 2, 3 … with no number
//! twice and none skipped. [`next_seq`] is one upsert that creates or increments the counter row
//! inside the caller's transaction, which must store the numbered notice: a rolled-back issue
//! gives its number back, and the row's lock orders concurrent issues (PostgreSQL locks the row;
//! on SQLite the upsert takes the write lock, so it should be the transaction's first write).
//! Checked by `tests/it/numbering.rs` (concurrent transactions on one database, some rolled
//! back) and `tests/it/persist.rs` (concurrent issues through `matter.persist`).
//!
//! Another register (a rating's certificate numbers, say) would need a series column in the
//! counter's key: a migration, not a second table to keep in step.

use crate::db::entities::{notice_counter, region};
use crate::{Error, Result};
use qingling_rules::policy::Numbering;
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseTransaction};

/// A number taken for a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    /// The bureau whose register it is in.
    pub region_id: i64,
    pub year: i32,
    pub seq: i64,
    /// As printed, in the policy's pattern: `朝民养整改〔2026〕0001号`.
    pub text: String,
}

/// Takes the next notice number of a bureau for the year, in the policy's pattern.
pub async fn take(txn: &DatabaseTransaction, numbering: &Numbering, bureau: &region::Model, year: i32) -> Result<Number> {
    let seq = next_seq(txn, bureau.id, year).await?;
    Ok(Number { region_id: bureau.id, year, seq, text: numbering.notice_number(&bureau.notice_prefix, year, seq as u64) })
}

/// Takes the next sequence number of a region and year, atomically: one upsert that either
/// creates the counter or increments it, returning the new value. sea-query renders the
/// statement with each backend's placeholders.
pub async fn next_seq(txn: &DatabaseTransaction, region_id: i64, year: i32) -> Result<i64> {
    use notice_counter::Column;
    let stmt = Query::insert()
        .into_table(notice_counter::Entity)
        .columns([Column::RegionId, Column::Year, Column::NextSeq])
        // A new counter hands out 1 now, so the next one is 2.
        .values_panic([region_id.into(), year.into(), 2i64.into()])
        .on_conflict(
            OnConflict::columns([Column::RegionId, Column::Year])
                .value(Column::NextSeq, Expr::col((notice_counter::Entity, Column::NextSeq)).add(1))
                .to_owned(),
        )
        .returning_col(Column::NextSeq)
        .to_owned();
    let row =
        txn.query_one(txn.get_database_backend().build(&stmt)).await?.ok_or_else(|| Error::Inconsistent("the notice counter upsert returned no row".into()))?;
    let next: i64 = row.try_get("", "next_seq")?;
    Ok(next - 1)
}
