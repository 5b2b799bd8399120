//! The rectification notice document: the HTML snapshot, escaping, refusals, and a real PDF
//! printed by headless Chromium and read back with poppler's `pdftotext` and `pdfinfo`.
//!
//! The PDF tests need Chromium (`QINGLING_CHROMIUM`, default `/usr/bin/chromium`) with the Noto
//! CJK fonts and poppler-utils; `scripts/setup-tools.sh` installs them. They fail, not skip,
//! without them. Set `QINGLING_NOTICE_PDF_OUT=/some/file.pdf` to keep the sample PDF to look at.

use chrono::NaiveDate;
use qingling_activities::Error;
use qingling_activities::notice_doc::{NoticeDoc, NoticeFinding, NoticeInspector, NoticeSource, chinese_date, content_hash, render_html, render_pdf};
use std::path::{Path, PathBuf};
use std::process::Command;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Three findings: an ordinary one, a major hazard with immediate measures, and a serious one.
fn sample() -> NoticeDoc {
    NoticeDoc {
        number: "朝民养整改〔2026〕0003号".into(),
        bureau: "北京市朝阳区民政局".into(),
        facility: "望京颐养中心".into(),
        facility_address: Some("北京市朝阳区望京街道花家地南街8号".into()),
        issued_date: day("2026-11-25"),
        major_hazard: true,
        findings: vec![
            NoticeFinding {
                seq: 1,
                item: "防跌倒：卫生间、走廊应设置扶手".into(),
                wording: "三楼公共卫生间未安装扶手。".into(),
                severity: "一般问题".into(),
                basis: "GB 38600-2019 第6.6条".into(),
                deadline: day("2026-12-02"),
                measures: None,
                measures_by: None,
                evidence_note: Some("现场照片2张（P-01、P-02）".into()),
                provisional: vec![],
            },
            NoticeFinding {
                seq: 2,
                item: "消防安全：疏散通道、安全出口保持畅通".into(),
                wording: "二楼东侧疏散通道堆放床垫、纸箱等可燃杂物，安全出口被锁闭，应立即清除杂物、开启安全出口，并落实每日防火巡查。".into(),
                severity: "重大事故隐患".into(),
                basis: "《养老机构重大事故隐患判定标准》；GB 38600-2019 第7.4条".into(),
                deadline: day("2026-12-24"),
                measures: Some("立即清除疏散通道内的杂物并开启安全出口；清除完毕前安排专人在二楼东侧值守，禁止老年人在该区域停留。".into()),
                measures_by: Some(day("2026-11-24")),
                evidence_note: Some("现场照片4张、视频1段；现场检查笔录".into()),
                provisional: vec![],
            },
            NoticeFinding {
                seq: 3,
                item: "防压疮：卧床老年人定时翻身并记录".into(),
                wording: "2号楼卧床老年人11月15日至20日无翻身记录，应落实定时翻身并完善护理记录。".into(),
                severity: "较重问题".into(),
                basis: "GB 38600-2019 第6.3条".into(),
                deadline: day("2026-12-04"),
                measures: None,
                measures_by: None,
                evidence_note: None,
                provisional: vec![],
            },
        ],
        contact: Some("养老服务科　王科长　010-6509 0000".into()),
        source: NoticeSource::Inspection {
            inspection_date: day("2026-11-24"),
            template_title: "养老机构服务安全检查表（GB 38600-2019）".into(),
            inspectors: vec![
                NoticeInspector { name: "张伟".into(), certificate: "11010520230017".into() },
                NoticeInspector { name: "李娜".into(), certificate: "11010520210042".into() },
            ],
        },
    }
}

fn inspectors(doc: &mut NoticeDoc) -> &mut Vec<NoticeInspector> {
    match &mut doc.source {
        NoticeSource::Inspection { inspectors, .. } => inspectors,
        NoticeSource::Direct { .. } => panic!("the sample is an inspection's notice"),
    }
}

/// A notice a supervisor issued from the console: one problem, no inspection, signed by them.
fn direct() -> NoticeDoc {
    NoticeDoc {
        number: "朝民养整改〔2026〕0004号".into(),
        bureau: "北京市朝阳区民政局".into(),
        facility: "朝阳区第一社会福利院".into(),
        facility_address: None,
        issued_date: day("2026-11-25"),
        major_hazard: false,
        findings: vec![NoticeFinding {
            seq: 1,
            item: "灭火器过期未更换".into(),
            wording: "三楼走廊灭火器已过有效期，应全部更换并建立检查台账。".into(),
            severity: "一般问题".into(),
            basis: "GB 38600-2019 5.1".into(),
            deadline: day("2026-12-04"),
            measures: None,
            measures_by: None,
            evidence_note: None,
            provisional: vec![],
        }],
        contact: None,
        source: NoticeSource::Direct { issuer: "李监管".into(), acknowledge_by: Some(day("2026-11-25")), feedback_by: Some(day("2026-11-30")) },
    }
}

/// The notice number and every date of `doc` replaced by `[NUMBER]` and `[DATE]`.
fn redacted(doc: &NoticeDoc, html: &str) -> String {
    let inspection_date = match &doc.source {
        NoticeSource::Inspection { inspection_date, .. } => Some(*inspection_date),
        NoticeSource::Direct { .. } => None,
    };
    let mut dates: Vec<String> =
        inspection_date.into_iter().chain([doc.issued_date]).chain(doc.findings.iter().map(|f| f.deadline)).map(chinese_date).collect();
    // Longest first, so no date is replaced inside a longer one.
    dates.sort_by_key(|d| std::cmp::Reverse(d.len()));
    let mut out = html.replace(&doc.number, "[NUMBER]");
    for date in dates {
        out = out.replace(&date, "[DATE]");
    }
    out
}

#[test]
fn the_sample_notice_renders_as_in_the_snapshot() {
    let doc = sample();
    let html = render_html(&doc).unwrap();
    insta::assert_snapshot!("notice_html", redacted(&doc, &html));
}

#[test]
fn the_same_notice_renders_to_the_same_html() {
    assert_eq!(render_html(&sample()).unwrap(), render_html(&sample()).unwrap());
}

#[test]
fn a_major_hazard_notice_says_so_and_orders_immediate_measures() {
    let html = render_html(&sample()).unwrap();
    assert!(html.contains("<h1>重大事故隐患整改通知书</h1>"), "{html}");
    assert!(html.contains("应当立即采取以下措施"), "{html}");
    assert!(html.contains("（一）针对第2项"), "{html}");
    assert!(html.contains("（于2026年11月24日前落实并报告我局）"), "{html}");
    assert!(html.contains("我局于2026年11月24日对你单位进行了监督检查，发现存在以下问题："), "{html}");
    assert!(html.contains(r#"限于<br><span class="date">2026年12月24日</span><br>前整改完毕"#), "{html}");
}

#[test]
fn an_ordinary_notice_has_the_plain_title_and_no_measures_block() {
    let mut doc = sample();
    doc.major_hazard = false;
    doc.findings.remove(1);
    let html = render_html(&doc).unwrap();
    assert!(html.contains("<h1>整改通知书</h1>"), "{html}");
    assert!(!html.contains("重大事故隐患整改通知书"), "{html}");
    assert!(!html.contains("立即采取以下措施"), "{html}");
}

#[test]
fn a_deadline_in_a_year_without_a_published_schedule_is_marked_and_footnoted() {
    let plain = render_html(&sample()).unwrap();
    assert!(!plain.contains("暂定"), "no mark without a provisional deadline");
    let mut doc = sample();
    doc.findings[1].deadline = day("2027-01-04");
    doc.findings[1].provisional = vec![2027];
    let html = render_html(&doc).unwrap();
    assert_eq!(html.matches("暂定※").count(), 1, "only the provisional deadline is marked");
    assert!(html.contains("※ 标注“暂定”的期限按法定节假日和周末计算：2027年的节假日安排在发出本通知时尚未公布"), "{html}");
}

#[test]
fn strings_from_the_notice_are_escaped() {
    let mut doc = sample();
    doc.facility = "<script>alert(1)</script>康乐&养老院".into();
    doc.findings[0].wording = "扶手<b>松动</b>".into();
    inspectors(&mut doc)[0].name = "\"张伟\" onload='x'".into();
    let html = render_html(&doc).unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;康乐&amp;养老院："), "{html}");
    assert!(html.contains("扶手&lt;b&gt;松动&lt;&#x2f;b&gt;"), "{html}");
    assert!(html.contains("&quot;张伟&quot; onload=&#x27;x&#x27;"), "{html}");
}

#[test]
fn a_notice_that_cannot_be_served_is_refused() {
    let refused = |change: fn(&mut NoticeDoc)| {
        let mut doc = sample();
        change(&mut doc);
        match render_html(&doc) {
            Err(Error::Invalid(why)) => why,
            other => panic!("expected a refusal, got {other:?}"),
        }
    };
    assert!(refused(|d| inspectors(d).truncate(1)).contains("at least two inspectors"));
    assert!(refused(|d| inspectors(d)[1].certificate = " ".into()).contains("certificate"));
    assert!(refused(|d| d.findings.clear()).contains("no finding"));
    assert!(refused(|d| d.findings[2].deadline = day("2026-11-01")).contains("finding 3"));
    assert!(refused(|d| d.issued_date = day("2026-11-20")).contains("before the inspection"));
    assert!(refused(|d| d.findings[1].measures = None).contains("immediate measure"));
}

#[test]
fn the_notice_survives_a_json_round_trip() {
    for doc in [sample(), direct()] {
        let back: NoticeDoc = serde_json::from_str(&serde_json::to_string(&doc).unwrap()).unwrap();
        assert_eq!(back, doc);
    }
}

#[test]
fn an_inspection_notice_keeps_the_json_shape_stored_before_notices_had_other_sources() {
    let json = serde_json::to_value(sample()).unwrap();
    assert_eq!(json["inspection_date"], "2026-11-24");
    assert_eq!(json["inspectors"][1]["name"], "李娜");
    assert!(json.get("source").is_none() && json.get("issuer").is_none(), "{json}");
    let direct = serde_json::to_value(direct()).unwrap();
    assert_eq!(direct["issuer"], "李监管");
    assert!(direct.get("inspection_date").is_none(), "{direct}");
}

#[test]
fn a_notice_issued_from_the_console_names_its_issuer_and_every_deadline() {
    let doc = direct();
    let html = render_html(&doc).unwrap();
    assert!(html.contains("<h1>整改通知书</h1>"), "{html}");
    assert!(html.contains(r#"<p class="number">朝民养整改〔2026〕0004号</p>"#), "{html}");
    assert!(html.contains(r#"<p class="addressee">朝阳区第一社会福利院：</p>"#), "{html}");
    assert!(html.contains("根据《养老机构管理办法》等有关规定，经查，你单位存在以下问题："), "{html}");
    assert!(!html.contains("监督检查") && !html.contains("检查人员") && !html.contains("被检查单位"), "no inspection in it: {html}");
    assert!(html.contains("三楼走廊灭火器已过有效期，应全部更换并建立检查台账。"), "{html}");
    assert!(html.contains(r#"限于<br><span class="date">2026年12月4日</span><br>前整改完毕"#), "{html}");
    assert!(html.contains("请你单位接到本通知书后，于2026年11月25日前签收并指定整改责任人，于2026年11月30日前书面反馈整改进展，认真组织整改"), "{html}");
    assert!(html.contains(r#"经办人（签名）：<span class="line"></span><div class="who">李监管</div>"#), "{html}");
    assert!(html.contains("受送达单位：朝阳区第一社会福利院"), "{html}");
    assert!(html.contains(r#"<div class="name">北京市朝阳区民政局</div>"#), "{html}");
    assert_eq!(render_html(&doc).unwrap(), html, "pure: the same notice, the same bytes");
}

#[test]
fn a_notice_issued_from_the_console_without_an_issuer_or_due_before_its_issue_is_refused() {
    let mut doc = direct();
    doc.source = NoticeSource::Direct { issuer: " ".into(), acknowledge_by: None, feedback_by: None };
    assert!(matches!(render_html(&doc), Err(Error::Invalid(why)) if why.contains("no issuer")));
    let mut doc = direct();
    doc.findings[0].deadline = day("2026-11-20");
    assert!(matches!(render_html(&doc), Err(Error::Invalid(why)) if why.contains("before the issue")));
}

fn chromium() -> PathBuf {
    let path = std::env::var_os("QINGLING_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(path.exists(), "Chromium is required at {} (scripts/setup-tools.sh installs it, or set QINGLING_CHROMIUM)", path.display());
    path
}

/// Runs a poppler tool and returns its standard output.
fn poppler(mut command: Command) -> String {
    let tool = command.get_program().to_string_lossy().into_owned();
    let out = command.output().unwrap_or_else(|e| panic!("{tool} is required (poppler-utils): {e}"));
    assert!(out.status.success(), "{tool} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn the_notice_prints_to_a_pdf_with_its_text() {
    let doc = sample();
    let html = render_html(&doc).unwrap();
    let started = std::time::Instant::now();
    let pdf = render_pdf(&html, &chromium()).await.unwrap();
    eprintln!("PDF of {} bytes in {:?}", pdf.len(), started.elapsed());
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(content_hash(&pdf).len(), 64);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notice.pdf");
    std::fs::write(&file, &pdf).unwrap();
    if let Some(keep) = std::env::var_os("QINGLING_NOTICE_PDF_OUT") {
        std::fs::copy(&file, keep).unwrap();
    }

    let mut pdftotext = Command::new("pdftotext");
    pdftotext.arg("-layout").arg(&file).arg("-");
    let text = poppler(pdftotext);
    // The title is letter-spaced, and table cells wrap: compare without the white space.
    let flat: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    for expected in [
        "重大事故隐患整改通知书",
        "望京颐养中心：",
        "三楼公共卫生间未安装扶手。",
        "2026年12月2日",
        "2026年11月24日",
        "朝民养整改〔2026〕0003号",
        "张伟执法证号：11010520230017",
    ] {
        assert!(flat.contains(expected), "{expected:?} is not in the PDF text:\n{text}");
    }

    let mut pdfinfo = Command::new("pdfinfo");
    pdfinfo.arg(&file);
    let info = poppler(pdfinfo);
    let pages: u32 = info.lines().find_map(|l| l.strip_prefix("Pages:")).expect("pdfinfo reports the page count").trim().parse().unwrap();
    assert!(pages >= 1, "{info}");
}

#[tokio::test]
async fn a_missing_chromium_is_an_invalid_setting() {
    let err = render_pdf("<p>x</p>", Path::new("/nonexistent/chromium")).await.unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    assert!(!err.is_retryable());
}

#[cfg(unix)]
#[tokio::test]
async fn a_failing_chromium_reports_its_stderr() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let fake = |name: &str, script: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    };
    let crashing = fake("crashing", "echo 'earlier noise' >&2; echo 'FATAL: no display' >&2; exit 3");
    let err = render_pdf("<p>x</p>", &crashing).await.unwrap_err();
    assert!(matches!(&err, Error::Pdf(m) if m.contains("FATAL: no display") && m.contains("exit status: 3")), "{err}");
    assert!(err.is_retryable());

    let silent = fake("silent", "exit 0");
    let err = render_pdf("<p>x</p>", &silent).await.unwrap_err();
    assert!(matches!(&err, Error::Pdf(m) if m.contains("wrote no PDF")), "{err}");

    // Writes something that is not a PDF where Chromium would have written one.
    let wrong = fake("wrong", r#"for a in "$@"; do case "$a" in --print-to-pdf=*) echo '<html>' > "${a#--print-to-pdf=}";; esac; done"#);
    let err = render_pdf("<p>x</p>", &wrong).await.unwrap_err();
    assert!(matches!(&err, Error::Pdf(m) if m.contains("not a PDF")), "{err}");
}
