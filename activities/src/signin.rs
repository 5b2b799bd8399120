//! The sign-in throttle's counters in the database (`signin_throttle`), so that the limits of
//! `qingling_rules::signin` hold across restarts and across several console processes. The rules
//! decide; this module reads and writes the counters atomically: each counter row is locked
//! (an upsert takes the row lock on PostgreSQL, the write lock on SQLite) before it is read.

use crate::db::entities::signin_throttle;
use crate::store::Store;
use crate::{Result, sha256_hex};
use qingling_rules::signin::{Counter, SigninRules, Subject};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

/// The counters one attempt is counted against: the typed account name and the client address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    account: String,
    address: String,
}

impl Attempt {
    /// `account` is the username as typed (trimmed); `address` the client address as the
    /// console groups it (an IPv6 /64, an IPv4 address).
    pub fn new(account: &str, address: &str) -> Attempt {
        Attempt { account: key(Subject::Account, account), address: key(Subject::Address, address) }
    }

    fn keys(&self) -> [(Subject, &str); 2] {
        // Always the account first: two attempts lock their rows in the same order.
        [(Subject::Account, self.account.as_str()), (Subject::Address, self.address.as_str())]
    }
}

fn key(subject: Subject, value: &str) -> String {
    sha256_hex(format!("{}:{value}", subject.as_str()))
}

/// Whether an attempt may check its password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Counted (as a failure until [`Store::signin_succeeded`] says otherwise): check it.
    Check,
    /// Refused without checking; it may be tried again at this instant.
    Wait { until_ms: i64 },
}

fn counter(row: &signin_throttle::Model) -> Counter {
    Counter { failures: u32::try_from(row.failures).unwrap_or(0), last_failure_ms: row.last_failure_ms, blocked_until_ms: row.blocked_until_ms }
}

/// Locks a counter row (creating it when missing) and reads it.
async fn lock(db: &impl ConnectionTrait, subject: Subject, key: &str) -> Result<Counter> {
    let fresh = signin_throttle::ActiveModel {
        key: Set(key.to_string()),
        subject: Set(subject.as_str().to_string()),
        failures: Set(0),
        last_failure_ms: Set(0),
        blocked_until_ms: Set(0),
    };
    // An update on conflict, not "do nothing": it takes the row lock that makes the read below
    // and the write after it one step.
    signin_throttle::Entity::insert(fresh)
        .on_conflict(OnConflict::column(signin_throttle::Column::Key).update_column(signin_throttle::Column::Subject).to_owned())
        .exec_without_returning(db)
        .await?;
    let row = signin_throttle::Entity::find_by_id(key.to_string()).one(db).await?;
    Ok(row.as_ref().map(counter).unwrap_or_default())
}

async fn write(db: &impl ConnectionTrait, key: &str, c: Counter) -> Result<()> {
    signin_throttle::Entity::update_many()
        .col_expr(signin_throttle::Column::Failures, Expr::value(i32::try_from(c.failures).unwrap_or(i32::MAX)))
        .col_expr(signin_throttle::Column::LastFailureMs, Expr::value(c.last_failure_ms))
        .col_expr(signin_throttle::Column::BlockedUntilMs, Expr::value(c.blocked_until_ms))
        .filter(signin_throttle::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

impl Store {
    /// Decides whether an attempt may check its password, and if so counts it first, so that
    /// parallel attempts cannot all pass while the hash runs. A refused attempt changes nothing.
    pub async fn signin_attempt(&self, rules: &SigninRules, attempt: &Attempt, now_ms: i64) -> Result<Verdict> {
        let txn = self.db.begin().await?;
        let mut counters = vec![];
        for (subject, key) in attempt.keys() {
            counters.push((subject, key, lock(&txn, subject, key).await?));
        }
        let wait = counters.iter().filter_map(|(_, _, c)| rules.blocked_until(c, now_ms)).max();
        if let Some(until_ms) = wait {
            txn.rollback().await?;
            return Ok(Verdict::Wait { until_ms });
        }
        for (subject, key, c) in counters {
            write(&txn, key, rules.after_failure(subject, c, now_ms)).await?;
        }
        txn.commit().await?;
        // Counters nobody has failed on for a window, and not blocking, are forgotten.
        signin_throttle::Entity::delete_many()
            .filter(signin_throttle::Column::LastFailureMs.lt(now_ms.saturating_sub(rules.keep_ms())))
            .filter(signin_throttle::Column::BlockedUntilMs.lte(now_ms))
            .exec(&self.db)
            .await?;
        Ok(Verdict::Check)
    }

    /// The counted attempt had the right password: the account's counter is cleared, the
    /// address gets its reservation back.
    pub async fn signin_succeeded(&self, rules: &SigninRules, attempt: &Attempt) -> Result<()> {
        let txn = self.db.begin().await?;
        signin_throttle::Entity::delete_by_id(attempt.account.clone()).exec(&txn).await?;
        let c = lock(&txn, Subject::Address, &attempt.address).await?;
        write(&txn, &attempt.address, rules.after_success(Subject::Address, c)).await?;
        txn.commit().await?;
        Ok(())
    }
}
