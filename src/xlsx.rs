//! Reading review workbooks (`--decisions review.xlsx`) with calamine: the sheets' names and a
//! streaming row reader.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The sheet of code decisions in a review workbook.
pub const CODES: &str = "Codes";
/// The sheet of occurrence decisions.
pub const OCCURRENCES: &str = "Occurrences";

/// The name errors give a sheet of the workbook `path`: `review.xlsx:Codes`, so that they read
/// `review.xlsx:Codes:12: …`.
pub fn sheet_path(path: &Path, sheet: &str) -> PathBuf {
    PathBuf::from(format!("{}:{sheet}", path.display()))
}

/// A cell's value as text: numbers a spreadsheet made of text are written back as they show
/// (`12`, not `12.0`).
fn text_of(value: &calamine::DataRef<'_>) -> String {
    use calamine::DataRef;
    match value {
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Int(n) => n.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        DataRef::DateTime(d) => d.as_f64().to_string(),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => format!("#{e:?}"),
        DataRef::Empty => String::new(),
    }
}

/// Read the sheet `sheet` of the workbook `path` row by row, streaming: `each` gets the sheet
/// row number (1-based) and the row's cells as text, from column A, as wide as the header (the
/// first row with a cell, which is passed first). Empty rows are skipped. Returns false when the
/// workbook has no such sheet.
pub fn read_sheet(
    path: &Path,
    sheet: &str,
    mut each: impl FnMut(u64, &csv::ByteRecord) -> Result<()>,
) -> Result<bool> {
    use calamine::Reader;
    let bad = |e: calamine::XlsxError| {
        Error::parse(path, 1, format!("cannot read it as an .xlsx workbook: {e}"))
    };
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(path).map_err(bad)?;
    if !workbook.sheet_names().iter().any(|n| n == sheet) {
        return Ok(false);
    }
    let mut cells = workbook.worksheet_cells_reader(sheet).map_err(bad)?;
    let mut record = csv::ByteRecord::new();
    let mut values: Vec<String> = Vec::new();
    let mut width: Option<usize> = None;
    let mut current: Option<u32> = None;
    let mut emit = |row: u32, values: &mut Vec<String>, width: &mut Option<usize>| {
        let w = *width.get_or_insert(values.len());
        values.resize(w.max(values.len()), String::new());
        record.clear();
        for v in values.iter().take(w) {
            record.push_field(v.as_bytes());
        }
        values.clear();
        each(u64::from(row) + 1, &record)
    };
    while let Some(cell) = cells.next_cell().map_err(bad)? {
        let (row, col) = cell.get_position();
        if current.is_some_and(|r| r != row) {
            emit(current.unwrap(), &mut values, &mut width)?;
        }
        current = Some(row);
        let col = col as usize;
        if values.len() <= col {
            values.resize(col + 1, String::new());
        }
        values[col] = text_of(cell.get_value());
    }
    if let Some(row) = current {
        emit(row, &mut values, &mut width)?;
    }
    Ok(true)
}
