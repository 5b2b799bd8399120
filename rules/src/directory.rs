//! The two directories of 双随机 (检查对象名录库 and 执法检查人员名录库) as a supervisor imports
//! them: a table (a CSV file or an .xlsx sheet, read into rows of cells by the caller) checked
//! whole before anything is written. Every problem is named as `row:column: message`, rows
//! counted as the file counts them (the header is row 1), columns by their header; a table with
//! any problem is refused whole.
//!
//! Headers may be written in Chinese or in English (`机构编码` or `code`); values of a closed list
//! likewise (`养老院` or `nursing_home`, `休假` or `leave`).

use crate::draw::RiskClass;
use crate::input::{TextProblem, check_text};
use crate::messages::{Locale, t};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Rows one import may carry (a province's directory fits).
pub const MAX_ROWS: usize = 200_000;
/// At most this many problems are listed; the rest are counted.
pub const MAX_PROBLEMS: usize = 200;
const NAME_CHARS: usize = 100;
const CODE_CHARS: usize = 32;

/// A table as read from a file: the header row, then the data rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// One problem of an imported table. `row` is the file's row (the header is 1); `column` the
/// header as written (empty for the whole table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub row: usize,
    pub column: String,
    /// A catalogue key under `directory.`, with its arguments.
    pub code: String,
    pub args: Vec<(String, String)>,
}

impl Problem {
    fn new(row: usize, column: &str, code: &str) -> Problem {
        Problem { row, column: column.to_string(), code: format!("directory.{code}"), args: vec![] }
    }
    fn arg(mut self, name: &str, value: impl Into<String>) -> Problem {
        self.args.push((name.to_string(), value.into()));
        self
    }
    /// `row:column: message` in `locale`.
    pub fn line(&self, locale: Locale) -> String {
        let args: Vec<(&str, &str)> = self.args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        format!("{}:{}: {}", self.row, self.column, t(locale, &self.code, &args))
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line(Locale::En))
    }
}

/// The problems of a refused table: the first [`MAX_PROBLEMS`], and how many there were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refused {
    pub problems: Vec<Problem>,
    pub total: usize,
}

/// The districts a table may name: the known district codes, and of them those the importer may
/// change (a supervisor's region). `None` leaves that check out: every code is known (a file
/// checked without a database, as `qingling directory check` does), or writable (an
/// administrator).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Districts {
    pub known: Option<BTreeSet<String>>,
    pub writable: Option<BTreeSet<String>>,
    /// The entries already in the directory (a home's code, an inspector's certificate) and
    /// their district: one held by a district the importer may not change cannot be taken over
    /// by naming it in a row of theirs.
    pub existing: BTreeMap<String, String>,
}

impl Districts {
    /// No district check at all.
    pub fn any() -> Districts {
        Districts::default()
    }

    /// The problem with naming `code` in a row, if any.
    fn problem(&self, row: usize, column: &str, code: &str) -> Option<Problem> {
        if self.known.as_ref().is_some_and(|k| !k.contains(code)) {
            return Some(Problem::new(row, column, "unknown_district").arg("value", code));
        }
        match &self.writable {
            Some(w) if !w.contains(code) => {
                let allowed = if w.is_empty() { "-".to_string() } else { w.iter().cloned().collect::<Vec<_>>().join("、") };
                Some(Problem::new(row, column, "outside_region").arg("value", code).arg("allowed", allowed))
            }
            _ => None,
        }
    }
}

/// A home in the targets directory, as imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRecord {
    pub code: String,
    pub name: String,
    pub district: String,
    pub facility_type: String,
    pub beds: u32,
    pub risk: RiskClass,
}

/// Whether an inspector can be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    Available,
    Leave,
    Suspended,
}

/// An inspector in the inspectors directory, as imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectorRecord {
    pub certificate: String,
    pub name: String,
    pub district: String,
    pub qualification: String,
    pub specialisms: BTreeSet<String>,
    pub availability: Availability,
}

/// A declared relation between an inspector and a home: a reason to recuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictRecord {
    pub certificate: String,
    pub facility: String,
    pub relation: String,
}

/// A closed list: each value's code and its Chinese name (either is accepted).
type Vocabulary = &'static [(&'static str, &'static str)];

pub const FACILITY_TYPES: Vocabulary = &[
    ("nursing_home", "养老院"),
    ("welfare_home", "社会福利院"),
    ("community_center", "社区养老服务中心"),
    ("day_care", "日间照料中心"),
    ("care_home", "护理院"),
];
pub const SPECIALISMS: Vocabulary = &[("fire", "消防"), ("medical", "医疗"), ("food", "食品"), ("building", "建筑"), ("special_equipment", "特种设备")];
pub const AVAILABILITY: Vocabulary = &[("available", "在岗"), ("leave", "休假"), ("suspended", "停职")];
pub const RELATIONS: Vocabulary = &[("former_employer", "原工作单位"), ("relative", "亲属"), ("financial_interest", "经济利益"), ("other", "其他")];
const RISKS: Vocabulary = &[("A", "甲"), ("B", "乙"), ("C", "丙"), ("D", "丁")];

fn vocabulary_code(list: Vocabulary, value: &str) -> Option<&'static str> {
    list.iter().find(|(code, zh)| value.eq_ignore_ascii_case(code) || value == *zh).map(|(code, _)| *code)
}

fn choices(list: Vocabulary) -> String {
    list.iter().map(|(code, zh)| format!("{zh} ({code})")).collect::<Vec<_>>().join(", ")
}

/// A column of a kind of table: its Chinese and English headers, and whether it must be there.
struct Column {
    zh: &'static str,
    en: &'static str,
    required: bool,
}

const TARGET_COLUMNS: &[Column] = &[
    Column { zh: "机构编码", en: "code", required: true },
    Column { zh: "机构名称", en: "name", required: true },
    Column { zh: "所在区", en: "district", required: true },
    Column { zh: "机构类型", en: "facility_type", required: true },
    Column { zh: "床位数", en: "beds", required: true },
    Column { zh: "风险等级", en: "risk", required: true },
];
const INSPECTOR_COLUMNS: &[Column] = &[
    Column { zh: "执法证号", en: "certificate", required: true },
    Column { zh: "姓名", en: "name", required: true },
    Column { zh: "所在区", en: "district", required: true },
    Column { zh: "执法资格", en: "qualification", required: false },
    Column { zh: "专业", en: "specialisms", required: false },
    Column { zh: "状态", en: "availability", required: true },
];
const CONFLICT_COLUMNS: &[Column] = &[
    Column { zh: "执法证号", en: "certificate", required: true },
    Column { zh: "机构编码", en: "facility", required: true },
    Column { zh: "关系", en: "relation", required: true },
];

/// The headers of a kind of table, as an export writes them (Chinese).
pub fn headers(kind: Kind) -> Vec<&'static str> {
    columns(kind).iter().map(|c| c.zh).collect()
}

fn name_of(list: Vocabulary, code: &str) -> String {
    list.iter().find(|(c, _)| *c == code).map_or(code, |(_, zh)| zh).to_string()
}

impl TargetRecord {
    /// The row an export writes (Chinese names for listed values), read back as the same record.
    pub fn row(&self) -> Vec<String> {
        vec![
            self.code.clone(),
            self.name.clone(),
            self.district.clone(),
            name_of(FACILITY_TYPES, &self.facility_type),
            self.beds.to_string(),
            self.risk.as_str().to_string(),
        ]
    }
}

impl InspectorRecord {
    pub fn row(&self) -> Vec<String> {
        vec![
            self.certificate.clone(),
            self.name.clone(),
            self.district.clone(),
            self.qualification.clone(),
            self.specialisms.iter().map(|s| name_of(SPECIALISMS, s)).collect::<Vec<_>>().join("、"),
            name_of(AVAILABILITY, self.availability.as_str()),
        ]
    }
}

impl ConflictRecord {
    pub fn row(&self) -> Vec<String> {
        vec![self.certificate.clone(), self.facility.clone(), name_of(RELATIONS, &self.relation)]
    }
}

impl Availability {
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Available => "available",
            Availability::Leave => "leave",
            Availability::Suspended => "suspended",
        }
    }
    pub fn parse(s: &str) -> Option<Availability> {
        match s {
            "available" => Some(Availability::Available),
            "leave" => Some(Availability::Leave),
            "suspended" => Some(Availability::Suspended),
            _ => None,
        }
    }
}

/// Which directory table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Targets,
    Inspectors,
    Conflicts,
}

fn columns(kind: Kind) -> &'static [Column] {
    match kind {
        Kind::Targets => TARGET_COLUMNS,
        Kind::Inspectors => INSPECTOR_COLUMNS,
        Kind::Conflicts => CONFLICT_COLUMNS,
    }
}

/// Collects problems, keeping the first [`MAX_PROBLEMS`].
#[derive(Default)]
struct Problems {
    list: Vec<Problem>,
    total: usize,
}

impl Problems {
    fn push(&mut self, p: Problem) {
        self.total += 1;
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(p);
        }
    }
    fn finish<T>(self, ok: T) -> Result<T, Refused> {
        if self.total == 0 { Ok(ok) } else { Err(Refused { problems: self.list, total: self.total }) }
    }
}

/// The columns found: for each of the kind's columns, its index in the row and its header as
/// written. Missing, unknown and repeated headers are problems of row 1.
fn map_header(kind: Kind, header: &[String], problems: &mut Problems) -> Vec<Option<(usize, String)>> {
    let cols = columns(kind);
    let mut found: Vec<Option<(usize, String)>> = vec![None; cols.len()];
    for (i, h) in header.iter().enumerate() {
        let h = h.trim().trim_start_matches('\u{feff}');
        if h.is_empty() {
            continue;
        }
        match cols.iter().position(|c| h == c.zh || h.eq_ignore_ascii_case(c.en)) {
            Some(c) if found[c].is_some() => problems.push(Problem::new(1, h, "repeated_column")),
            Some(c) => found[c] = Some((i, h.to_string())),
            None => {
                problems.push(Problem::new(1, h, "unknown_column").arg("column", h).arg("columns", cols.iter().map(|c| c.zh).collect::<Vec<_>>().join("、")))
            }
        }
    }
    for (c, col) in cols.iter().enumerate() {
        if col.required && found[c].is_none() {
            problems.push(Problem::new(1, col.zh, "missing_column"));
        }
    }
    found
}

/// Reads one row's cells by column, checking each text: trimmed, bounded, free of control
/// characters.
struct Row<'a> {
    number: usize,
    cells: &'a [String],
    columns: &'a [Option<(usize, String)>],
}

impl Row<'_> {
    fn header(&self, c: usize) -> &str {
        self.columns[c].as_ref().map_or("", |(_, h)| h.as_str())
    }
    fn text(&self, c: usize, max: usize, problems: &mut Problems) -> Option<String> {
        let (i, h) = self.columns[c].as_ref()?;
        let value = self.cells.get(*i).map(|s| s.trim()).unwrap_or_default();
        match check_text(value, max, true) {
            Ok(()) => Some(value.to_string()),
            Err(TextProblem::TooLong { max }) => {
                problems.push(Problem::new(self.number, h, "too_long").arg("max", max.to_string()));
                None
            }
            Err(TextProblem::Control) => {
                problems.push(Problem::new(self.number, h, "control_chars"));
                None
            }
        }
    }
    fn required(&self, c: usize, max: usize, problems: &mut Problems) -> Option<String> {
        let v = self.text(c, max, problems)?;
        if v.is_empty() {
            problems.push(Problem::new(self.number, self.header(c), "empty"));
            return None;
        }
        Some(v)
    }
    fn code(&self, c: usize, problems: &mut Problems) -> Option<String> {
        let v = self.required(c, CODE_CHARS, problems)?;
        if !v.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
            problems.push(Problem::new(self.number, self.header(c), "bad_code").arg("value", v));
            return None;
        }
        Some(v)
    }
    /// A certificate number: any printable text without spaces (they are written as
    /// `京执110105-0101`).
    fn certificate(&self, c: usize, problems: &mut Problems) -> Option<String> {
        let v = self.required(c, CODE_CHARS, problems)?;
        if v.chars().any(char::is_whitespace) {
            problems.push(Problem::new(self.number, self.header(c), "bad_certificate").arg("value", v));
            return None;
        }
        Some(v)
    }
    /// A key (code or certificate) held by a district the importer may not change.
    fn held(&self, key: &Option<String>, c: usize, districts: &Districts, problems: &mut Problems) -> bool {
        let held = key.as_ref().and_then(|k| districts.existing.get(k)).and_then(|d| districts.problem(self.number, self.header(c), d));
        match held {
            Some(p) => {
                problems.push(p);
                true
            }
            None => false,
        }
    }
    /// A district code, known and writable.
    fn district(&self, c: usize, districts: &Districts, problems: &mut Problems) -> Option<String> {
        let v = self.code(c, problems)?;
        if let Some(p) = districts.problem(self.number, self.header(c), &v) {
            problems.push(p);
            return None;
        }
        Some(v)
    }
    fn one_of(&self, c: usize, list: Vocabulary, problems: &mut Problems) -> Option<&'static str> {
        let v = self.required(c, NAME_CHARS, problems)?;
        let found = vocabulary_code(list, &v);
        if found.is_none() {
            problems.push(Problem::new(self.number, self.header(c), "not_in_list").arg("value", v).arg("choices", choices(list)));
        }
        found
    }
}

/// Rows with a value in some cell (blank lines at the end of a sheet are not rows).
fn data_rows(table: &Table) -> impl Iterator<Item = (usize, &Vec<String>)> {
    table.rows.iter().enumerate().map(|(i, r)| (i + 2, r)).filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()))
}

fn too_many(table: &Table, problems: &mut Problems) -> bool {
    if table.rows.len() > MAX_ROWS {
        problems.push(Problem::new(0, "", "too_many_rows").arg("max", MAX_ROWS.to_string()).arg("rows", table.rows.len().to_string()));
        return true;
    }
    false
}

/// Notes a key seen before: `duplicate` naming the row it first appeared on.
fn unique(seen: &mut BTreeMap<String, usize>, key: &str, row: usize, column: &str, problems: &mut Problems) -> bool {
    match seen.get(key) {
        Some(first) => {
            problems.push(Problem::new(row, column, "duplicate").arg("value", key).arg("first", first.to_string()));
            false
        }
        None => {
            seen.insert(key.to_string(), row);
            true
        }
    }
}

/// Checks a table of `kind`: the header first (a table with a wrong header, or too many rows,
/// is refused before any row is read), then `record` on each row with a value, which notes its
/// problems and gives the row's record when it has none.
fn parse_rows<T>(kind: Kind, table: &Table, mut record: impl FnMut(&Row, &mut Problems) -> Option<T>) -> Result<Vec<T>, Refused> {
    let mut problems = Problems::default();
    let columns = map_header(kind, &table.header, &mut problems);
    if problems.total > 0 || too_many(table, &mut problems) {
        return problems.finish(vec![]);
    }
    let mut out = vec![];
    for (number, cells) in data_rows(table) {
        if let Some(r) = record(&Row { number, cells, columns: &columns }, &mut problems) {
            out.push(r);
        }
    }
    problems.finish(out)
}

/// The targets directory from a table, or every problem with it.
pub fn parse_targets(table: &Table, districts: &Districts) -> Result<Vec<TargetRecord>, Refused> {
    let mut seen = BTreeMap::new();
    parse_rows(Kind::Targets, table, |row, problems| {
        let number = row.number;
        let code = row.code(0, problems);
        let name = row.required(1, NAME_CHARS, problems);
        let district = row.district(2, districts, problems);
        let facility_type = row.one_of(3, FACILITY_TYPES, problems);
        let beds = row.required(4, 12, problems).and_then(|v| match v.parse::<u32>() {
            Ok(n) if n <= 100_000 => Some(n),
            _ => {
                problems.push(Problem::new(number, row.header(4), "bad_number").arg("value", v).arg("max", "100000"));
                None
            }
        });
        let risk = row.one_of(5, RISKS, problems).map(|r| match r {
            "A" => RiskClass::A,
            "B" => RiskClass::B,
            "C" => RiskClass::C,
            _ => RiskClass::D,
        });
        if let Some(code) = &code
            && !unique(&mut seen, code, number, row.header(0), problems)
        {
            return None;
        }
        if row.held(&code, 0, districts, problems) {
            return None;
        }
        Some(TargetRecord { code: code?, name: name?, district: district?, facility_type: facility_type?.to_string(), beds: beds?, risk: risk? })
    })
}

/// The inspectors directory from a table, or every problem with it.
pub fn parse_inspectors(table: &Table, districts: &Districts) -> Result<Vec<InspectorRecord>, Refused> {
    let mut seen = BTreeMap::new();
    parse_rows(Kind::Inspectors, table, |row, problems| {
        let (number, columns) = (row.number, row.columns);
        let certificate = row.certificate(0, problems);
        let name = row.required(1, NAME_CHARS, problems);
        let district = row.district(2, districts, problems);
        let qualification = row.text(3, NAME_CHARS, problems).or(Some(String::new()));
        let specialisms = row.text(4, 200, problems).and_then(|v| {
            let mut set = BTreeSet::new();
            for part in v.split(['、', ',', '，', ';', '；', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
                match vocabulary_code(SPECIALISMS, part) {
                    Some(code) => {
                        set.insert(code.to_string());
                    }
                    None => {
                        problems.push(Problem::new(number, row.header(4), "not_in_list").arg("value", part).arg("choices", choices(SPECIALISMS)));
                        return None;
                    }
                }
            }
            Some(set)
        });
        let specialisms = if columns[4].is_none() { Some(BTreeSet::new()) } else { specialisms };
        let availability = row.one_of(5, AVAILABILITY, problems).map(|a| match a {
            "available" => Availability::Available,
            "leave" => Availability::Leave,
            _ => Availability::Suspended,
        });
        if let Some(c) = &certificate
            && !unique(&mut seen, c, number, row.header(0), problems)
        {
            return None;
        }
        if row.held(&certificate, 0, districts, problems) {
            return None;
        }
        let qualification = if columns[3].is_none() { Some(String::new()) } else { qualification };
        Some(InspectorRecord {
            certificate: certificate?,
            name: name?,
            district: district?,
            qualification: qualification?,
            specialisms: specialisms?,
            availability: availability?,
        })
    })
}

/// The declared conflicts from a table, checked against the directories they name:
/// `facilities` maps each home's code to its district, which must be writable.
pub fn parse_conflicts(
    table: &Table,
    certificates: &BTreeSet<String>,
    facilities: &BTreeMap<String, String>,
    districts: &Districts,
) -> Result<Vec<ConflictRecord>, Refused> {
    let mut seen = BTreeMap::new();
    parse_rows(Kind::Conflicts, table, |row, problems| {
        let number = row.number;
        let certificate = row.certificate(0, problems).filter(|c| {
            let known = certificates.contains(c);
            if !known {
                problems.push(Problem::new(number, row.header(0), "unknown_inspector").arg("value", c.as_str()));
            }
            known
        });
        let facility = row.code(1, problems).filter(|f| match facilities.get(f) {
            None => {
                problems.push(Problem::new(number, row.header(1), "unknown_facility").arg("value", f.as_str()));
                false
            }
            Some(district) => match districts.problem(number, row.header(1), district) {
                Some(p) => {
                    problems.push(p);
                    false
                }
                None => true,
            },
        });
        let relation = row.one_of(2, RELATIONS, problems);
        let (certificate, facility, relation) = (certificate?, facility?, relation?);
        let key = format!("{certificate} {facility} {relation}");
        unique(&mut seen, &key, number, row.header(0), problems).then(|| ConflictRecord { certificate, facility, relation: relation.to_string() })
    })
}

#[cfg(test)]
mod tests;
