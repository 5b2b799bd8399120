//! Directory tables as files: a CSV file or the first sheet of an .xlsx workbook read into a
//! [`Table`] of cells (what `rules::directory` checks), and a table written back out as either,
//! with Chinese headers.
//!
//! A CSV file may be UTF-8 (with or without a byte-order mark) or GB18030/GBK, as Excel on a
//! Chinese Windows saves it; anything else is refused, never guessed into mojibake.

use qingling_rules::directory::Table;
use std::io::Cursor;

/// The largest file an import reads.
pub const MAX_BYTES: usize = 32 * 1024 * 1024;

/// The formats a directory table comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// The format a file name says (`.csv`, `.xlsx`), if it says one.
    pub fn of_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else if lower.ends_with(".xlsx") {
            Some(Format::Xlsx)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// Why a file could not be read as a table (before any cell is checked).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("the file is larger than {max} bytes")]
    TooLarge { max: usize },
    #[error("the file is empty")]
    Empty,
    #[error("the file is neither UTF-8 nor GB18030 text")]
    Encoding,
    #[error("the CSV file cannot be read: {0}")]
    Csv(String),
    #[error("the workbook cannot be read: {0}")]
    Xlsx(String),
}

/// Reads a file's bytes as a table.
pub fn read(format: Format, bytes: &[u8]) -> Result<Table, ReadError> {
    if bytes.len() > MAX_BYTES {
        return Err(ReadError::TooLarge { max: MAX_BYTES });
    }
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    let mut rows = match format {
        Format::Csv => read_csv(bytes)?,
        Format::Xlsx => read_xlsx(bytes)?,
    };
    if rows.is_empty() {
        return Err(ReadError::Empty);
    }
    let header = rows.remove(0);
    Ok(Table { header, rows })
}

fn decode(bytes: &[u8]) -> Result<String, ReadError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(_) => {
            let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
            if had_errors { Err(ReadError::Encoding) } else { Ok(text.into_owned()) }
        }
    }
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<String>>, ReadError> {
    let text = decode(bytes)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    reader.records().map(|r| r.map(|rec| rec.iter().map(str::to_string).collect()).map_err(|e| ReadError::Csv(e.to_string()))).collect()
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, ReadError> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e: calamine::XlsxError| ReadError::Xlsx(e.to_string()))?;
    let range = book.worksheet_range_at(0).ok_or_else(|| ReadError::Xlsx("it has no sheet".into()))?.map_err(|e| ReadError::Xlsx(e.to_string()))?;
    let cell = |d: &Data| match d {
        Data::Empty => String::new(),
        // A whole number typed into a cell is stored as a float: write it as typed.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    };
    // The range starts at the first used cell; a sheet whose table starts lower down keeps its
    // row numbers by padding with empty rows.
    let (top, left) = range.start().unwrap_or((0, 0));
    let mut rows: Vec<Vec<String>> = vec![vec![]; top as usize];
    rows.extend(range.rows().map(|r| std::iter::repeat_n(String::new(), left as usize).chain(r.iter().map(cell)).collect()));
    // Rows above the header (a title line) are not part of the table.
    while rows.first().is_some_and(|r| r.iter().all(|c| c.trim().is_empty())) {
        rows.remove(0);
    }
    Ok(rows)
}

/// Writes a table: CSV as UTF-8 with a byte-order mark (so Excel opens it as UTF-8), or a
/// one-sheet workbook.
pub fn write(format: Format, header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, String> {
    match format {
        Format::Csv => {
            let mut out = b"\xef\xbb\xbf".to_vec();
            {
                let mut w = csv::Writer::from_writer(&mut out);
                w.write_record(header).map_err(|e| e.to_string())?;
                for r in rows {
                    w.write_record(r).map_err(|e| e.to_string())?;
                }
                w.flush().map_err(|e| e.to_string())?;
            }
            Ok(out)
        }
        Format::Xlsx => {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            for (c, h) in header.iter().enumerate() {
                sheet.write_string(0, c as u16, *h).map_err(|e| e.to_string())?;
            }
            for (r, row) in rows.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    // Everything as text: a code like 0105 keeps its zero.
                    sheet.write_string(r as u32 + 1, c as u16, v).map_err(|e| e.to_string())?;
                }
            }
            book.save_to_buffer().map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qingling_rules::directory::{Districts, Kind, headers, parse_targets};
    use qingling_rules::messages::Locale;

    fn sample() -> Vec<Vec<String>> {
        vec![
            vec!["F001".into(), "朝阳区第一社会福利院".into(), "110105".into(), "社会福利院".into(), "320".into(), "B".into()],
            vec!["0105".into(), "康乐养老院, 东院".into(), "110105".into(), "养老院".into(), "80".into(), "丁".into()],
        ]
    }

    #[test]
    fn a_table_written_as_csv_or_xlsx_reads_back_the_same() {
        for format in [Format::Csv, Format::Xlsx] {
            let bytes = write(format, &headers(Kind::Targets), &sample()).unwrap();
            let table = read(format, &bytes).unwrap();
            assert_eq!(table.header, headers(Kind::Targets), "{format:?}");
            assert_eq!(table.rows, sample(), "{format:?}");
            assert_eq!(parse_targets(&table, &Districts::any()).unwrap().len(), 2);
        }
    }

    #[test]
    fn a_gbk_csv_from_excel_reads_and_garbage_is_refused() {
        let utf8 = "机构编码,机构名称,所在区,机构类型,床位数,风险等级\nF001,甲院,110105,养老院,10,A\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(utf8);
        let table = read(Format::Csv, &gbk).unwrap();
        assert_eq!(table.rows[0][1], "甲院");
        assert_eq!(read(Format::Csv, &[0xff, 0xfe, 0x00, 0xd8, 0x00]), Err(ReadError::Encoding));
        assert_eq!(read(Format::Csv, b""), Err(ReadError::Empty));
        assert!(matches!(read(Format::Xlsx, b"PK not a workbook"), Err(ReadError::Xlsx(_))));
    }

    /// The "an import with bad rows refused whole with every problem listed", in both formats.
    #[test]
    fn bad_rows_are_refused_whole_with_every_problem_in_either_format() {
        let mut rows = sample();
        rows.push(vec!["F003".into(), "".into(), "110105".into(), "宾馆".into(), "x".into(), "B".into()]);
        rows.push(vec!["F001".into(), "重复".into(), "110105".into(), "养老院".into(), "1".into(), "A".into()]);
        for format in [Format::Csv, Format::Xlsx] {
            let table = read(format, &write(format, &headers(Kind::Targets), &rows).unwrap()).unwrap();
            let refused = parse_targets(&table, &Districts::any()).unwrap_err();
            let lines: Vec<String> = refused.problems.iter().map(|p| p.line(Locale::ZhCn)).collect();
            assert_eq!(lines.len(), 4, "{format:?}: {lines:?}");
            assert!(lines[0].starts_with("4:机构名称: ") && lines[1].starts_with("4:机构类型: ") && lines[2].starts_with("4:床位数: "), "{lines:?}");
            assert_eq!(lines[3], "5:机构编码: 「F001」已在第 2 行出现。");
        }
    }
}
