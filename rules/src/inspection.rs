//! Decisions about inspections that the console (at the edge) and the `Inspection` workflow
//! (again, for a client that talks to Temporal directly) both make: pure functions of plain
//! data, table-tested here, so neither place decides on its own.

use chrono::NaiveDate;

/// A refusal: a catalogue code under `inspection.` and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub code: &'static str,
    pub args: Vec<(&'static str, String)>,
}

/// Every inspector who signs a notice needs a law-enforcement certificate number: the notice
/// prints it, and a notice without one is not valid. `inspectors` are (name, certificate).
pub fn check_certified<'a>(inspectors: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> Result<(), Refused> {
    match inspectors.into_iter().find(|(_, cert)| cert.is_none_or(|c| c.trim().is_empty())) {
        Some((name, _)) => Err(Refused { code: "inspection.inspector_uncertified", args: vec![("name", name.to_string())] }),
        None => Ok(()),
    }
}

/// An inspection is submitted on or after the day it is dated: its notices print that date, and
/// their deadlines count from the day they are issued, which cannot come before it.
pub fn check_submission_day(inspection_date: NaiveDate, today: NaiveDate) -> Result<(), Refused> {
    if today < inspection_date {
        return Err(Refused { code: "inspection.too_early", args: vec![("date", inspection_date.to_string())] });
    }
    Ok(())
}

/// The problem a notice's wording states, short enough for a title: the wording up to its first
/// clause break, without the address ("你单位") or a lead-in ("经抽查，"). A checklist item's
/// text is the requirement ("疏散通道……未被占用、堵塞"), the opposite of the finding, so a title
/// is made from the wording, never from the item.
pub fn problem_of(wording: &str) -> String {
    let mut s = wording.trim();
    // "经现场抽问，你单位员工……": the lead-in says how it was found, not what.
    if s.starts_with('经')
        && let Some((_, rest)) = s.split_once('，')
    {
        s = rest;
    }
    let s = s.strip_prefix("你单位").unwrap_or(s);
    let cut = s.find(['，', '。', '；', ',', ';']).map_or(s, |i| &s[..i]);
    let problem = cut.trim();
    if problem.is_empty() { wording.trim().chars().take(60).collect() } else { problem.chars().take(60).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_states_the_problem_not_the_requirement() {
        assert_eq!(
            problem_of("你单位疏散通道、安全出口被占用、堵塞或锁闭，违反《中华人民共和国消防法》第二十八条的规定，属于……重大事故隐患，请立即清理。"),
            "疏散通道、安全出口被占用、堵塞或锁闭"
        );
        assert_eq!(problem_of("经现场抽问，你单位员工不能正确报警、使用灭火器，不符合……"), "员工不能正确报警、使用灭火器");
        assert_eq!(problem_of("消防设施停用或损坏。"), "消防设施停用或损坏");
        assert_eq!(problem_of("  "), "");
        assert_eq!(problem_of(&"长".repeat(100)).chars().count(), 60, "bounded");
    }

    #[test]
    fn every_signer_has_a_certificate_number() {
        assert_eq!(check_certified([("赵检查", Some("京民执 0001")), ("钱检查", Some("京民执 0002"))]), Ok(()));
        for missing in [None, Some(""), Some("  ")] {
            let r = check_certified([("赵检查", Some("京民执 0001")), ("钱检查", missing)]).unwrap_err();
            assert_eq!((r.code, r.args), ("inspection.inspector_uncertified", vec![("name", "钱检查".to_string())]), "{missing:?}");
        }
        assert_eq!(check_certified([]), Ok(()));
    }

    #[test]
    fn an_inspection_is_not_submitted_before_its_day() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(check_submission_day(d("2026-12-01"), d("2026-12-01")), Ok(()));
        assert_eq!(check_submission_day(d("2026-11-30"), d("2026-12-01")), Ok(()));
        let r = check_submission_day(d("2026-12-02"), d("2026-12-01")).unwrap_err();
        assert_eq!((r.code, r.args), ("inspection.too_early", vec![("date", "2026-12-02".to_string())]));
    }
}
