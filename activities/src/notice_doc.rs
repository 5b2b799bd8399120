//! The rectification notice (整改通知书) as a printable document: plain data in, a standalone A4
//! HTML page out (embedded minijinja templates), and that page printed to PDF by headless Chromium.
//!
//! The HTML is a pure function of the [`NoticeDoc`]: no clock, no randomness, so the same notice
//! renders to the same bytes and can be snapshot-tested. The PDF is not byte-stable (Chromium
//! stamps a creation date), which is why the stored PDF is identified by [`content_hash`].

use crate::{Error, Result};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

/// Everything a rectification notice says. Plain data, so it travels through Temporal as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeDoc {
    /// The notice number, e.g. `朝民养整改〔2026〕0003号`.
    pub number: String,
    /// The issuing bureau, e.g. `北京市朝阳区民政局`.
    pub bureau: String,
    /// The inspected facility, the addressee of the notice.
    pub facility: String,
    pub facility_address: Option<String>,
    pub issued_date: NaiveDate,
    /// A major-hazard notice is titled differently and also orders immediate measures.
    pub major_hazard: bool,
    pub findings: Vec<NoticeFinding>,
    /// The bureau's contact line, e.g. `王科长 010-6509 0000`.
    pub contact: Option<String>,
    /// What the notice follows from. Flattened, so the stored JSON of an inspection's notice
    /// keeps the shape it had before notices were issued any other way.
    #[serde(flatten)]
    pub source: NoticeSource,
}

/// Where a notice comes from: an inspection (dated, following a checklist, signed by the
/// inspectors) or a supervisor issuing it from the console (a complaint, a report, a problem
/// seen outside a checklist), signed by that supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NoticeSource {
    Inspection {
        inspection_date: NaiveDate,
        /// The checklist the inspection followed, e.g. `养老机构服务安全检查表（GB 38600-2019）`.
        template_title: String,
        /// The inspectors who sign; the law asks for at least two.
        inspectors: Vec<NoticeInspector>,
    },
    Direct {
        /// The person who issued the notice (经办人), as the console names them.
        issuer: String,
        /// The last day to acknowledge the notice (签收) and to report progress (反馈), which a
        /// matter issued from the console counts as well as the correction deadline.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        acknowledge_by: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        feedback_by: Option<NaiveDate>,
    },
}

/// One problem found, with what the facility must do about it and by when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeFinding {
    pub seq: u32,
    /// The checked item, as the checklist words it.
    pub item: String,
    /// The order sentence: what is wrong and what must be done.
    pub wording: String,
    /// The severity label, already localized (`一般问题`, `较重问题`, `重大事故隐患`).
    pub severity: String,
    /// The rule broken, e.g. `GB 38600-2019 第5.1条`.
    pub basis: String,
    /// The last day of the correction period.
    pub deadline: NaiveDate,
    /// Measures to take at once (printed in the boxed block of a major-hazard notice).
    pub measures: Option<String>,
    /// The last day to have taken them and reported so (a finding of deadline class
    /// "immediate"); the correction itself is due by `deadline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measures_by: Option<NaiveDate>,
    /// How the finding was documented (photos, records), printed under the wording.
    pub evidence_note: Option<String>,
    /// The years without a published holiday schedule the deadline was counted over: the date
    /// is marked 暂定 and footnoted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provisional: Vec<i32>,
}

/// An inspector who signs the notice, with the number of their law-enforcement certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeInspector {
    pub name: String,
    /// 执法证号.
    pub certificate: String,
}

/// How long one Chromium run may take before it is killed. A one-page notice takes about a second.
pub const PDF_TIMEOUT: Duration = Duration::from_secs(30);

/// A date the way Chinese official documents write it: `2026年11月24日` (no leading zeros).
pub fn chinese_date(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// A small count in Chinese numerals, as official documents number their points: 一, 十二, 二十.
fn chinese_number(n: usize) -> String {
    const DIGITS: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => DIGITS[n].to_string(),
        10..=99 => {
            let (tens, ones) = (n / 10, n % 10);
            let tens = if tens == 1 { String::new() } else { DIGITS[tens].to_string() };
            let ones = if ones == 0 { "" } else { DIGITS[ones] };
            format!("{tens}十{ones}")
        }
        _ => n.to_string(),
    }
}

/// The lowercase hex SHA-256 of a rendered document, to store and cite it by.
pub fn content_hash(bytes: &[u8]) -> String {
    crate::sha256_hex(bytes)
}

/// Renders the notice as a standalone A4 HTML page (styles inline, no external resources).
/// Every string from the notice is HTML-escaped. Refuses a notice that could not be served as
/// it stands: no finding, fewer than two inspectors (or no issuer), a deadline before the
/// inspection (or the issue), or a major-hazard notice without any immediate measure.
pub fn render_html(doc: &NoticeDoc) -> Result<String> {
    validate(doc)?;
    let view = View::of(doc);
    Ok(templates().get_template("notice/notice.html")?.render(&view)?)
}

fn validate(doc: &NoticeDoc) -> Result<()> {
    let invalid = |why: String| Err(Error::Invalid(format!("notice {}: {why}", doc.number)));
    if doc.findings.is_empty() {
        return invalid("it lists no finding".into());
    }
    match &doc.source {
        NoticeSource::Inspection { inspection_date, inspectors, .. } => {
            if inspectors.len() < 2 {
                return invalid(format!("it needs at least two inspectors, it has {}", inspectors.len()));
            }
            if let Some(i) = inspectors.iter().find(|i| i.name.trim().is_empty() || i.certificate.trim().is_empty()) {
                return invalid(format!("inspector {:?} lacks a name or a certificate number", i.name));
            }
            if doc.issued_date < *inspection_date {
                return invalid(format!("issued {} before the inspection on {inspection_date}", doc.issued_date));
            }
            if let Some(f) = doc.findings.iter().find(|f| f.deadline < *inspection_date) {
                return invalid(format!("finding {} is due {}, before the inspection on {inspection_date}", f.seq, f.deadline));
            }
        }
        NoticeSource::Direct { issuer, .. } => {
            if issuer.trim().is_empty() {
                return invalid("it names no issuer".into());
            }
            if let Some(f) = doc.findings.iter().find(|f| f.deadline < doc.issued_date) {
                return invalid(format!("finding {} is due {}, before the issue on {}", f.seq, f.deadline, doc.issued_date));
            }
        }
    }
    if doc.major_hazard && !doc.findings.iter().any(|f| f.measures.as_deref().is_some_and(|m| !m.trim().is_empty())) {
        return invalid("a major-hazard notice must order at least one immediate measure".into());
    }
    Ok(())
}

fn templates() -> &'static minijinja::Environment<'static> {
    static ENV: OnceLock<minijinja::Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        // The default callback escapes templates named `*.html`; the stylesheet is static.
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_template("notice/notice.html", include_str!("../templates/notice/notice.html")).expect("the embedded notice template parses");
        env.add_template("notice/notice.css", include_str!("../templates/notice/notice.css")).expect("the embedded notice stylesheet parses");
        env
    })
}

/// What the template sees: the notice with its dates already written out in Chinese, so the
/// template holds no formatting logic.
#[derive(Serialize)]
struct View<'a> {
    title: &'static str,
    number: &'a str,
    bureau: &'a str,
    facility: &'a str,
    facility_address: Option<&'a str>,
    /// The inspection the notice follows, if any.
    inspection: Option<InspectionView<'a>>,
    /// Who issued a notice no inspection produced (signs instead of the inspectors).
    issuer: Option<&'a str>,
    /// The earlier deadlines a notice issued from the console prints in its closing order.
    acknowledge_by: Option<String>,
    feedback_by: Option<String>,
    issued_date: String,
    major_hazard: bool,
    findings: Vec<FindingView<'a>>,
    /// The immediate measures of a major-hazard notice, labelled （一）, （二）, ...
    measures: Vec<MeasureView<'a>>,
    /// Empty for a notice issued from the console.
    inspectors: &'a [NoticeInspector],
    contact: Option<&'a str>,
    /// The footnote on provisional deadlines, when any deadline is one.
    provisional_note: Option<String>,
}

#[derive(Serialize)]
struct InspectionView<'a> {
    /// The checklist title without book-title marks, which the template adds.
    checklist: &'a str,
    date: String,
}

#[derive(Serialize)]
struct FindingView<'a> {
    seq: u32,
    item: &'a str,
    wording: &'a str,
    severity: &'a str,
    basis: &'a str,
    deadline: String,
    provisional: bool,
    measures: Option<&'a str>,
    evidence_note: Option<&'a str>,
}

#[derive(Serialize)]
struct MeasureView<'a> {
    label: String,
    seq: u32,
    item: &'a str,
    text: &'a str,
    by: Option<String>,
}

impl<'a> View<'a> {
    fn of(doc: &'a NoticeDoc) -> Self {
        let present = |s: &'a Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let (inspection, inspectors, issuer, acknowledge_by, feedback_by) = match &doc.source {
            NoticeSource::Inspection { inspection_date, template_title, inspectors } => (
                Some(InspectionView {
                    checklist: template_title.trim().trim_start_matches('《').trim_end_matches('》'), date: chinese_date(*inspection_date)
                }),
                inspectors.as_slice(),
                None,
                None,
                None,
            ),
            NoticeSource::Direct { issuer, acknowledge_by, feedback_by } => {
                (None, &[][..], Some(issuer.trim()), acknowledge_by.map(chinese_date), feedback_by.map(chinese_date))
            }
        };
        View {
            title: if doc.major_hazard { "重大事故隐患整改通知书" } else { "整改通知书" },
            number: &doc.number,
            bureau: &doc.bureau,
            facility: &doc.facility,
            facility_address: present(&doc.facility_address),
            inspection,
            issuer,
            acknowledge_by,
            feedback_by,
            issued_date: chinese_date(doc.issued_date),
            major_hazard: doc.major_hazard,
            findings: doc
                .findings
                .iter()
                .map(|f| FindingView {
                    seq: f.seq,
                    item: &f.item,
                    wording: &f.wording,
                    severity: &f.severity,
                    basis: &f.basis,
                    deadline: chinese_date(f.deadline),
                    provisional: !f.provisional.is_empty(),
                    measures: present(&f.measures),
                    evidence_note: present(&f.evidence_note),
                })
                .collect(),
            measures: doc
                .findings
                .iter()
                .filter_map(|f| Some((f, present(&f.measures)?)))
                .enumerate()
                .map(|(i, (f, text))| MeasureView {
                    label: format!("（{}）", chinese_number(i + 1)),
                    seq: f.seq,
                    item: &f.item,
                    text,
                    by: f.measures_by.map(chinese_date),
                })
                .collect(),
            inspectors,
            contact: present(&doc.contact),
            provisional_note: provisional_note(doc),
        }
    }
}

/// The footnote of a notice with provisional deadlines: which years' holiday schedules were not
/// published yet, and that the printed date stands.
fn provisional_note(doc: &NoticeDoc) -> Option<String> {
    let mut years: Vec<i32> = doc.findings.iter().flat_map(|f| f.provisional.iter().copied()).collect();
    years.sort_unstable();
    years.dedup();
    if years.is_empty() {
        return None;
    }
    let years: Vec<String> = years.iter().map(|y| format!("{y}年")).collect();
    Some(qingling_rules::messages::t(qingling_rules::messages::Locale::ZhCn, "notice_doc.provisional_note", &[("years", &years.join("、"))]))
}

/// Prints an HTML page to PDF with headless Chromium at `chromium` (Debian: `/usr/bin/chromium`,
/// with `fonts-noto-cjk` for the Chinese text). The page and a fresh browser profile live in a
/// temporary directory that is removed afterwards. A run that exceeds [`PDF_TIMEOUT`] is killed.
/// Failures are [`Error::Pdf`] (retryable) with the tail of Chromium's stderr, or
/// [`Error::Invalid`] when the browser is not installed at that path.
#[tracing::instrument(skip_all, fields(html_bytes = html.len(), chromium = %chromium.display()))]
pub async fn render_pdf(html: &str, chromium: &Path) -> Result<Vec<u8>> {
    let dir = tempfile::Builder::new().prefix("qingling-notice-").tempdir_in(std::env::temp_dir())?;
    let page = dir.path().join("notice.html");
    let out = dir.path().join("notice.pdf");
    let profile = dir.path().join("profile");
    tokio::fs::write(&page, html).await?;
    let started = std::time::Instant::now();
    let mut command = tokio::process::Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", out.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        // Dropping the child (on timeout, or when the activity is cancelled) kills it.
        .kill_on_drop(true);
    let child = match command.spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Invalid(format!("Chromium not found at {}", chromium.display())));
        }
        Err(e) => {
            return Err(Error::Pdf(format!("cannot start {}: {e}", chromium.display())));
        }
    };
    let output = match tokio::time::timeout(PDF_TIMEOUT, child.wait_with_output()).await {
        Ok(output) => output?,
        Err(_) => {
            return Err(Error::Pdf(format!("Chromium did not finish within {} s", PDF_TIMEOUT.as_secs())));
        }
    };
    let stderr = tail(&output.stderr);
    if !output.status.success() {
        return Err(Error::Pdf(format!("Chromium exited with {}: {stderr}", output.status)));
    }
    let bytes = match tokio::fs::read(&out).await {
        Ok(bytes) => bytes,
        Err(e) => return Err(Error::Pdf(format!("Chromium wrote no PDF ({e}): {stderr}"))),
    };
    if !bytes.starts_with(b"%PDF") {
        return Err(Error::Pdf(format!("Chromium's output is not a PDF ({} bytes): {stderr}", bytes.len())));
    }
    tracing::debug!(pdf_bytes = bytes.len(), elapsed_ms = started.elapsed().as_millis() as u64, "notice printed to PDF");
    Ok(bytes)
}

/// The last lines of a process's stderr, enough to tell why it failed without flooding the log.
fn tail(stderr: &[u8]) -> String {
    const MAX: usize = 2000;
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    if text.is_empty() {
        return "(no stderr)".into();
    }
    match text.char_indices().rev().nth(MAX) {
        Some((cut, _)) => format!("…{}", &text[cut..]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_the_chinese_way_without_leading_zeros() {
        assert_eq!(chinese_date(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()), "2026年1月5日");
        assert_eq!(chinese_date(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()), "2026年11月24日");
    }

    #[test]
    fn points_are_numbered_in_chinese() {
        let labels: Vec<String> = [1, 9, 10, 12, 20, 35, 100].into_iter().map(chinese_number).collect();
        assert_eq!(labels, ["一", "九", "十", "十二", "二十", "三十五", "100"]);
    }

    #[test]
    fn a_long_stderr_keeps_its_end() {
        let long = format!("{}END", "x".repeat(5000));
        let t = tail(long.as_bytes());
        assert!(t.ends_with("END") && t.chars().count() <= 2002, "{t}");
        assert_eq!(tail(b"  \n"), "(no stderr)");
    }
}
