//! The mail outbox any kind of case fills: the mails a step causes are written as rows in the
//! transaction that stores the step, and sent after it commits, so a step is never stored
//! without its mails nor mailed without being stored. Mails are at-least-once (a send that dies
//! before it is marked goes again). The matter's outbox is the `mails` table
//! ([`crate::persist::MatterOutbox`]); another kind implements [`Outbox`] for its table.
//!
//! Invariant: a mail is identified by (subject, the event that caused it, notice kind,
//! recipient address), the key of a unique index. Queuing it again — a retried or replayed step
//! — leaves the queued row as it is, so nobody has the same mail queued twice; [`send_pending`]
//! sends a subject's pending mails in the order they were queued and marks each one sent as it
//! goes, stopping at the first failure so the rest wait for the retry. Checked by
//! `tests/it/outbox.rs` and `tests/it/persist.rs`.

use crate::Result;
use crate::mail::{Composed, Mailer};
use crate::recipients::Recipient;
use sea_orm::sea_query::{Condition, Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, TryInsertResult};

/// A mail to queue.
#[derive(Debug, Clone, Copy)]
pub struct Mail<'a> {
    /// The case it is about (a matter id).
    pub subject_id: &'a str,
    /// The sequence number of the event that caused it.
    pub cause_seq: i64,
    /// What it tells (`issued`, `escalated` …): one event can cause several kinds.
    pub notice_kind: &'a str,
    pub to: &'a Recipient,
    pub text: &'a Composed,
}

/// A queued mail as [`send_pending`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub subject: String,
    pub body: String,
    pub notice_kind: String,
}

/// The row status of a mail not sent yet, and of one sent.
pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";

type Entity<O> = <O as Outbox>::Entity;
type Column<O> = <Entity<O> as EntityTrait>::Column;
type ActiveModel<O> = <Entity<O> as EntityTrait>::ActiveModel;
type Model<O> = <Entity<O> as EntityTrait>::Model;

/// Where one kind keeps its mails.
pub trait Outbox {
    type Entity: EntityTrait;
    /// The mails of one subject.
    fn subject(id: &str) -> Condition;
    /// The columns of the identifying key (a unique index: the upsert's conflict target).
    fn key() -> Vec<Column<Self>>;
    fn id() -> Column<Self>;
    fn status() -> Column<Self>;
    fn sent_at() -> Column<Self>;
    /// A new row for the mail, with status [`PENDING`] (the id left to the database).
    fn row(mail: &Mail<'_>) -> ActiveModel<Self>;
    fn queued(row: Model<Self>) -> Queued;
}

/// The [`Outbox`] of a mail table of the usual shape: `id`, the subject's id column (`$subject`,
/// `$Subject` as sea-orm names its column), `seq`, `notice_kind`, `recipient_email`,
/// `recipient_name`, `subject`, `body`, `status`, `sent_at_ms`, keyed by (subject, seq, notice
/// kind, recipient address). `outbox_table!(MatterOutbox, mail, matter_id, MatterId)`.
#[macro_export]
macro_rules! outbox_table {
    ($outbox:ident, $table:ident, $subject:ident, $Subject:ident) => {
        impl $crate::outbox::Outbox for $outbox {
            type Entity = $table::Entity;

            fn subject(id: &str) -> sea_orm::sea_query::Condition {
                use sea_orm::ColumnTrait;
                sea_orm::sea_query::Condition::all().add($table::Column::$Subject.eq(id))
            }

            fn key() -> Vec<$table::Column> {
                vec![$table::Column::$Subject, $table::Column::Seq, $table::Column::NoticeKind, $table::Column::RecipientEmail]
            }

            fn id() -> $table::Column {
                $table::Column::Id
            }

            fn status() -> $table::Column {
                $table::Column::Status
            }

            fn sent_at() -> $table::Column {
                $table::Column::SentAtMs
            }

            fn row(m: &$crate::outbox::Mail<'_>) -> $table::ActiveModel {
                use sea_orm::ActiveValue::{NotSet, Set};
                $table::ActiveModel {
                    id: NotSet,
                    $subject: Set(m.subject_id.to_string()),
                    seq: Set(m.cause_seq),
                    notice_kind: Set(m.notice_kind.to_string()),
                    recipient_email: Set(m.to.email.clone()),
                    recipient_name: Set(m.to.name.clone()),
                    subject: Set(m.text.subject.clone()),
                    body: Set(m.text.body.clone()),
                    status: Set($crate::outbox::PENDING.to_string()),
                    sent_at_ms: Set(None),
                }
            }

            fn queued(row: $table::Model) -> $crate::outbox::Queued {
                $crate::outbox::Queued {
                    id: row.id,
                    email: row.recipient_email,
                    name: row.recipient_name,
                    subject: row.subject,
                    body: row.body,
                    notice_kind: row.notice_kind,
                }
            }
        }
    };
}

/// Queues a mail unless it is queued already (then the row stays as it is, whatever its text);
/// returns whether a row was written. Run it in the step's transaction.
pub async fn queue<O: Outbox>(db: &impl ConnectionTrait, mail: &Mail<'_>) -> Result<bool>
where
    Model<O>: IntoActiveModel<ActiveModel<O>>,
{
    let written =
        O::Entity::insert(O::row(mail)).on_conflict(OnConflict::columns(O::key()).do_nothing().to_owned()).do_nothing().exec_without_returning(db).await?;
    Ok(matches!(written, TryInsertResult::Inserted(n) if n > 0))
}

/// A subject's mails not sent yet, in the order they were queued.
pub async fn pending<O: Outbox>(db: &impl ConnectionTrait, subject_id: &str) -> Result<Vec<Queued>> {
    let rows = O::Entity::find().filter(O::subject(subject_id)).filter(O::status().eq(PENDING)).order_by_asc(O::id()).all(db).await?;
    Ok(rows.into_iter().map(O::queued).collect())
}

/// Sends a subject's pending mails in order and marks each one sent. Stops at the first
/// failure, so the rest wait for the caller's retry. Returns how many were sent.
pub async fn send_pending<O: Outbox>(db: &impl ConnectionTrait, mailer: &Mailer, subject_id: &str) -> Result<usize> {
    let pending = pending::<O>(db, subject_id).await?;
    for m in &pending {
        mailer.send(&m.email, &m.name, &m.subject, &m.body).await?;
        O::Entity::update_many()
            .col_expr(O::status(), Expr::value(SENT))
            .col_expr(O::sent_at(), Expr::value(chrono::Utc::now().timestamp_millis()))
            .filter(O::id().eq(m.id))
            .exec(db)
            .await?;
        tracing::debug!(to = %m.email, kind = %m.notice_kind, "mail sent");
    }
    Ok(pending.len())
}
