//! Mail: composing the texts a matter sends (from the message catalogue, through an embedded
//! minijinja template) and delivering them by SMTP or into an outbox directory of `.eml` files
//! (for development and tests, where nobody should receive anything).

use crate::{Error, Result};
use chrono::{FixedOffset, TimeZone, Timelike};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use qingling_rules::Calendar;
use qingling_rules::matter::Notice;
use qingling_rules::messages::{Locale, t};
use std::path::PathBuf;
use std::sync::OnceLock;

/// How mail leaves the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// An SMTP server: `smtp://host:port` (plain, for a relay on loopback), `smtps://host:port`
    /// (TLS), or `smtp://host:port?tls=required` (STARTTLS); credentials go in the URL.
    Smtp { url: String },
    /// Write each message as `<unix_ms>-<uuid>.eml` into this directory.
    Outbox { dir: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailer {
    pub transport: Transport,
    /// The sender, e.g. `清零 <noreply@example.test>`.
    pub from: String,
}

/// A composed mail text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub body: String,
}

impl Mailer {
    pub fn new(transport: Transport, from: impl Into<String>) -> Self {
        Mailer { transport, from: from.into() }
    }

    /// Sends one plain-text mail. Non-ASCII subjects and names are encoded by lettre (RFC 2047),
    /// the body is UTF-8.
    pub async fn send(&self, to_email: &str, to_name: &str, subject: &str, body_text: &str) -> Result<()> {
        self.send_with(to_email, to_name, subject, body_text, None).await
    }

    /// Sends a plain-text mail with one attached file (`(file name, content type, bytes)`).
    pub async fn send_with_attachment(&self, to_email: &str, to_name: &str, subject: &str, body_text: &str, attachment: (&str, &str, Vec<u8>)) -> Result<()> {
        self.send_with(to_email, to_name, subject, body_text, Some(attachment)).await
    }

    async fn send_with(&self, to_email: &str, to_name: &str, subject: &str, body_text: &str, attachment: Option<(&str, &str, Vec<u8>)>) -> Result<()> {
        let from: Mailbox = self.from.parse().map_err(|e| Error::Invalid(format!("sender address {:?}: {e}", self.from)))?;
        let to_addr: Address = to_email.parse().map_err(|e| Error::Invalid(format!("recipient address {to_email:?}: {e}")))?;
        let to_name = to_name.trim();
        let to = Mailbox::new((!to_name.is_empty()).then(|| to_name.to_string()), to_addr);
        let builder = Message::builder().from(from).to(to).subject(subject);
        let message = match attachment {
            None => builder.header(ContentType::TEXT_PLAIN).body(body_text.to_string()),
            Some((name, content_type, bytes)) => {
                use lettre::message::{Attachment, MultiPart, SinglePart};
                let ct = ContentType::parse(content_type).map_err(|e| Error::Invalid(format!("attachment type {content_type:?}: {e}")))?;
                builder.multipart(
                    MultiPart::mixed().singlepart(SinglePart::plain(body_text.to_string())).singlepart(Attachment::new(name.to_string()).body(bytes, ct)),
                )
            }
        }
        .map_err(|e| Error::Invalid(format!("cannot build the message: {e}")))?;
        match &self.transport {
            Transport::Smtp { url } => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| Error::Invalid(format!("SMTP URL: {e}")))?.build();
                transport.send(message).await.map_err(|e| Error::Mail(e.to_string()))?;
            }
            Transport::Outbox { dir } => {
                tokio::fs::create_dir_all(dir).await?;
                let name = format!("{}-{}.eml", chrono::Utc::now().timestamp_millis(), uuid::Uuid::new_v4());
                // Written aside and renamed, so whoever watches the outbox never reads half a mail.
                let tmp = dir.join(format!(".{name}.tmp"));
                tokio::fs::write(&tmp, message.formatted()).await?;
                tokio::fs::rename(&tmp, dir.join(name)).await?;
            }
        }
        Ok(())
    }
}

fn templates() -> &'static minijinja::Environment<'static> {
    static ENV: OnceLock<minijinja::Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        env.add_template("notice.txt", include_str!("../templates/notice.txt")).expect("the embedded mail template parses");
        env
    })
}

/// The catalogue key stem of a notice (`mail.<stem>_subject`).
pub fn notice_key(notice: Notice) -> &'static str {
    match notice {
        Notice::Issued => "issued",
        Notice::Escalated => "escalated",
        Notice::Closed => "closed",
        Notice::Reopened => "reopened",
        Notice::ExtensionRequested => "extension_requested",
        Notice::RecheckDue => "recheck_due",
    }
}

/// Composes a notice mail in the reader's language. `args` fill the catalogue placeholders
/// (`notice`, `title`, `facility`, `due`, ...); `link` is the matter's address in the console.
pub fn compose(locale: Locale, notice: Notice, to_name: &str, args: &[(&str, &str)], link: &str) -> Result<Composed> {
    compose_stem(locale, notice_key(notice), to_name, args, link)
}

/// Composes the mail whose texts are `mail.<stem>_subject` and `mail.<stem>_body`: any kind of
/// case's notices (a matter's through [`compose`], a campaign's escalation as `campaign_escalated`).
pub fn compose_stem(locale: Locale, stem: &str, to_name: &str, args: &[(&str, &str)], link: &str) -> Result<Composed> {
    let subject = t(locale, &format!("mail.{stem}_subject"), args);
    // A date counted over a year whose holiday schedule is not published yet is footnoted.
    let provisional = args.iter().find(|(k, _)| *k == "provisional").map(|(_, v)| *v).filter(|v| !v.is_empty());
    let note = provisional.map(|years| t(locale, "mail.provisional_note", &[("years", years)]));
    let body = templates().get_template("notice.txt")?.render(minijinja::context! {
        greeting => t(locale, "mail.greeting", &[("name", to_name)]),
        body => t(locale, &format!("mail.{stem}_body"), args),
        note => note,
        link => t(locale, "mail.link", &[("url", link)]),
        footer => t(locale, "mail.footer", &[]),
    })?;
    Ok(Composed { subject, body })
}

/// An instant as local time for people. A day-scale deadline ends at local midnight, which reads
/// best as the end of the day it closes (`2026-10-08 24:00`); other instants get the full time.
pub fn format_instant(calendar: &Calendar, at_ms: i64) -> String {
    let offset = FixedOffset::east_opt(calendar.utc_offset_secs).unwrap_or(FixedOffset::east_opt(0).expect("zero offset"));
    let Some(local) = offset.timestamp_millis_opt(at_ms).single() else {
        return at_ms.to_string();
    };
    if local.num_seconds_from_midnight() == 0 && local.timestamp_subsec_millis() == 0 {
        format!("{} 24:00", calendar.local_date(at_ms - 1))
    } else {
        local.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_read_as_local_times() {
        let cal = qingling_rules::Policy::builtin().calendar;
        let end = cal.end_of_day_ms("2026-10-08".parse().unwrap());
        assert_eq!(format_instant(&cal, end), "2026-10-08 24:00");
        assert_eq!(format_instant(&cal, end + 2_500), "2026-10-09 00:00:02");
    }

    #[test]
    fn a_notice_mail_has_greeting_body_link_and_footer() {
        let args = [
            ("notice", "朝民养整改〔2026〕0001号"),
            ("title", "消防通道堵塞"),
            ("facility", "望京颐养中心"),
            ("severity", "一般问题"),
            ("due", "2026-10-08 24:00"),
        ];
        let c = compose(Locale::ZhCn, Notice::Issued, "张三", &args, "http://localhost/matters/x").unwrap();
        assert_eq!(c.subject, "【整改通知】朝民养整改〔2026〕0001号：消防通道堵塞");
        assert!(c.body.starts_with("您好，张三："), "{}", c.body);
        assert!(c.body.contains("请于 2026-10-08 24:00 前签收"), "{}", c.body);
        assert!(c.body.contains("查看事项：http://localhost/matters/x"), "{}", c.body);
        assert!(c.body.contains("本邮件由清零系统自动发送"), "{}", c.body);
        let en = compose(Locale::En, Notice::Closed, "Ann", &args, "u").unwrap();
        assert!(en.body.starts_with("Dear Ann,"), "{}", en.body);
    }

    #[test]
    fn a_mail_about_a_provisional_date_says_so_in_a_footnote() {
        let base = [("notice", "朝民养整改〔2026〕0002号"), ("title", "消防通道堵塞"), ("due", "2027-01-04 24:00（暂定）")];
        let plain = compose(Locale::ZhCn, Notice::Issued, "张三", &base, "u").unwrap();
        assert!(!plain.body.contains("※"), "{}", plain.body);
        assert!(plain.body.contains("前签收。\n\n查看事项") || !plain.body.contains("\n\n\n"), "no empty footnote block: {:?}", plain.body);
        let mut args = base.to_vec();
        args.push(("provisional", "2027年"));
        let c = compose(Locale::ZhCn, Notice::Issued, "张三", &args, "u").unwrap();
        assert!(c.body.contains("2027-01-04 24:00（暂定）"), "{}", c.body);
        assert!(c.body.contains("※ 标注“暂定”的日期按法定节假日和周末计算，2027年的节假日安排尚未公布"), "{}", c.body);
        args.pop();
        args.push(("provisional", "2027"));
        let en = compose(Locale::En, Notice::Issued, "Ann", &args, "u").unwrap();
        assert!(en.body.contains("the holiday schedule of 2027 is not published yet"), "{}", en.body);
    }
}
