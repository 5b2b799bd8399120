//! The outbox: a mail is queued once however often its step is retried, and sent once, in
//! order, with the mails after a failed one left for the retry.

use crate::{Driver, Fixture, monday_10am};
use qingling_activities::mail::{Composed, Mailer, Transport};
use qingling_activities::outbox::{self, Mail};
use qingling_activities::persist::MatterOutbox;
use qingling_activities::recipients::Recipient;
use qingling_rules::messages::Locale;

fn to(email: &str) -> Recipient {
    Recipient { email: email.into(), name: "Ann".into(), locale: Locale::En }
}

fn text(subject: &str) -> Composed {
    Composed { subject: subject.into(), body: format!("{subject} body") }
}

/// The mails this test queued (the matter's issue mails, numbered 1, are the persist's).
async fn queued(fx: &Fixture, matter_id: &str) -> Vec<qingling_activities::db::entities::mail::Model> {
    fx.store.mails_for(matter_id).await.unwrap().into_iter().filter(|m| m.seq >= 7).collect()
}

#[tokio::test]
async fn the_same_mail_is_queued_once_whatever_its_text_and_sent_once() {
    let fx = Fixture::new().await;
    let db = &fx.store.db;
    let mut d = Driver::open("m-out", fx.facility_id, fx.supervisor_actor(), monday_10am());
    fx.activities().persist_batch(&d.take_batch()).await.unwrap();
    let sent_before = fx.outbox_files().len();

    let (ann, bob) = (to("ann@example.test"), to("bob@example.test"));
    let first = text("s1");
    let mail = Mail { subject_id: "m-out", cause_seq: 7, notice_kind: "escalated", to: &ann, text: &first };
    assert!(outbox::queue::<MatterOutbox>(db, &mail).await.unwrap());
    // A retried step composes the mail anew (another wording, say): it is the same mail.
    let again = text("s2");
    assert!(!outbox::queue::<MatterOutbox>(db, &Mail { text: &again, ..mail }).await.unwrap());
    // Each part of the key makes another mail.
    for other in [Mail { cause_seq: 8, ..mail }, Mail { notice_kind: "closed", ..mail }, Mail { to: &bob, ..mail }] {
        assert!(outbox::queue::<MatterOutbox>(db, &other).await.unwrap());
    }
    let rows = queued(&fx, "m-out").await;
    assert_eq!(rows.len(), 4, "{rows:#?}");
    assert_eq!((rows[0].subject.as_str(), rows[0].body.as_str(), rows[0].status.as_str()), ("s1", "s1 body", "pending"));
    let pending = outbox::pending::<MatterOutbox>(db, "m-out").await.unwrap();
    assert_eq!(pending.iter().map(|m| m.id).collect::<Vec<_>>(), rows.iter().map(|m| m.id).collect::<Vec<_>>(), "in the order queued");

    // While the mail server is away nothing is marked sent.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let away = Mailer::new(Transport::Smtp { url: format!("smtp://127.0.0.1:{closed_port}") }, "清零 <noreply@example.test>");
    let err = outbox::send_pending::<MatterOutbox>(db, &away, "m-out").await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(outbox::pending::<MatterOutbox>(db, "m-out").await.unwrap().len(), 4);

    let mailer = Mailer::new(Transport::Outbox { dir: fx.outbox() }, "清零 <noreply@example.test>");
    assert_eq!(outbox::send_pending::<MatterOutbox>(db, &mailer, "m-out").await.unwrap(), 4);
    assert_eq!(outbox::send_pending::<MatterOutbox>(db, &mailer, "m-out").await.unwrap(), 0, "sent once");
    assert_eq!(fx.outbox_files().len(), sent_before + 4);
    assert!(queued(&fx, "m-out").await.iter().all(|m| m.status == "sent" && m.sent_at_ms.is_some()));
    // Queuing a sent mail again does not make it pending again.
    assert!(!outbox::queue::<MatterOutbox>(db, &mail).await.unwrap());
    assert!(outbox::pending::<MatterOutbox>(db, "m-out").await.unwrap().is_empty());
}

#[tokio::test]
async fn the_mails_after_one_that_fails_wait_for_the_retry() {
    let fx = Fixture::new().await;
    let db = &fx.store.db;
    let mut d = Driver::open("m-stop", fx.facility_id, fx.supervisor_actor(), monday_10am());
    fx.activities().persist_batch(&d.take_batch()).await.unwrap();
    let (a, broken, c) = (to("a@example.test"), to("not an address"), to("c@example.test"));
    let body = text("s");
    for r in [&a, &broken, &c] {
        outbox::queue::<MatterOutbox>(db, &Mail { subject_id: "m-stop", cause_seq: 7, notice_kind: "escalated", to: r, text: &body }).await.unwrap();
    }
    let mailer = Mailer::new(Transport::Outbox { dir: fx.outbox() }, "清零 <noreply@example.test>");
    assert!(outbox::send_pending::<MatterOutbox>(db, &mailer, "m-stop").await.is_err());
    let status: Vec<(String, String)> = queued(&fx, "m-stop").await.into_iter().map(|m| (m.recipient_email, m.status)).collect();
    assert_eq!(status, [("a@example.test".into(), "sent".into()), ("not an address".into(), "pending".into()), ("c@example.test".into(), "pending".into())]);
}
