//! The review workbook (`convert --audit review.xlsx`): the audit as a spreadsheet a coder can
//! decide in without a text editor, and that `--decisions review.xlsx` reads back.
//!
//! * **Codes**: one row per code to review, the most claims first, with a `decision` cell whose
//!   dropdown lists the code's alternatives (and the billable codes under a header), `accept`
//!   for an overflow, `keep` and `blank`. Any other code may be typed.
//! * **Occurrences**: one row per occurrence (claim, column and code), with a `decision` cell
//!   that overrides the code's decision for that claim. Streamed to disk as they come (memory
//!   stays flat), up to the sheet's row limit.
//! * **About**: what made the workbook, and how to decide.
//! * **Choices** (hidden): the dropdown lists too long to live in the validation itself.
//!
//! Codes, claim ids and every other text are text cells (`073.0` and a 15-digit claim id stay as
//! they are; counts and row numbers are numbers), and the decision cells are formatted as text so
//! that a code typed there stays text too.

use std::io::Write;
use std::path::Path;

use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, Format, Formula, Workbook, Worksheet, XlsxError,
};

use crate::audit::choices::choices;
use crate::audit::{AuditRecord, AuditSink, Kind};
use crate::code::System;
use crate::crosswalk::Crosswalk;
use crate::error::{Error, Result};
use crate::report::{Group, Review, Tally};
use crate::status::CellStatus;
use crate::xlsx::{CODES, OCCURRENCES};

const ABOUT: &str = "About";
const LISTS: &str = "Choices";

/// The columns of the Codes sheet.
pub const CODE_COLUMNS: [&str; 13] = [
    "system",
    "code",
    "title",
    "decision",
    "claims",
    "occurrences",
    "cells",
    "status",
    "reason",
    "written",
    "choices",
    "alternative_count",
    "alternatives",
];

/// The columns of the Occurrences sheet after the claim key columns.
pub const OCCURRENCE_COLUMNS: [&str; 13] = [
    "row",
    "line",
    "column",
    "system",
    "code",
    "original",
    "decision",
    "status",
    "reason",
    "written",
    "leftover",
    "lines",
    "fingerprint",
];

/// The most data rows a sheet holds (Excel's limit, less the header row).
const SHEET_ROWS: u32 = 1_048_575;

/// The choices cell describes at most this many choices; the dropdown lists them all.
const CHOICES_DESCRIBED: usize = 40;

/// A cell holds at most this many characters.
const CELL_CHARS: usize = 32_767;

/// What the About sheet says about the run.
#[derive(Clone, Debug, Default)]
pub struct WorkbookAbout {
    /// The claim file, as the user named it.
    pub input: String,
    /// What the run read: the columns, versions and companions found (the lines `convert`
    /// prints).
    pub plan: Vec<String>,
    /// The conversion options, as the summary writes them.
    pub options: String,
}

fn failed(e: XlsxError) -> Error {
    Error::config(format!("cannot write the review workbook: {e}"))
}

/// Text for a cell: lossy UTF-8, cut to what a cell holds.
fn cell_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(CELL_CHARS) {
        Some((cut, _)) => text[..cut].to_string(),
        None => text.into_owned(),
    }
}

/// Receives the audit records of a run and writes them as the review workbook.
pub struct ReviewWorkbook {
    workbook: Workbook,
    occurrences: Worksheet,
    key_names: Vec<String>,
    /// The next Occurrences row to write (0 is the header).
    next: u32,
    /// Occurrences beyond the sheet's limit.
    not_shown: u64,
    codes: Review,
    header: Format,
    decision: Format,
}

impl ReviewWorkbook {
    /// A workbook for audit records whose claim key columns are `key_names`; the Occurrences
    /// sheet is streamed to a temporary file in `tempdir` (the output's directory: claim data
    /// stays where the user put it).
    pub fn new(key_names: Vec<String>, tempdir: &Path) -> Result<ReviewWorkbook> {
        let mut workbook = Workbook::new();
        workbook.set_tempdir(tempdir).map_err(failed)?;
        let mut occurrences = workbook
            .new_worksheet_with_constant_memory()
            .map_err(failed)?;
        occurrences.set_name(OCCURRENCES).map_err(failed)?;
        let header = Format::new().set_bold().set_num_format("@");
        let decision = Format::new()
            .set_num_format("@")
            .set_background_color("#FFF4CE");
        let names: Vec<&str> = key_names
            .iter()
            .map(String::as_str)
            .chain(OCCURRENCE_COLUMNS)
            .collect();
        for (c, name) in names.iter().enumerate() {
            let width = match *name {
                "row" | "line" | "lines" | "system" => 10.0,
                "reason" => 40.0,
                _ => 16.0,
            };
            occurrences
                .set_column_width(c as u16, width)
                .map_err(failed)?;
            occurrences
                .write_string_with_format(0, c as u16, *name, &header)
                .map_err(failed)?;
        }
        occurrences.set_freeze_panes(1, 0).map_err(failed)?;
        Ok(ReviewWorkbook {
            workbook,
            occurrences,
            codes: Review::new(key_names.clone()),
            key_names,
            next: 1,
            not_shown: 0,
            header,
            decision,
        })
    }

    /// Occurrences left out of the Occurrences sheet (beyond its row limit).
    pub fn not_shown(&self) -> u64 {
        self.not_shown
    }

    /// Codes on the Codes sheet.
    pub fn code_count(&self) -> usize {
        self.codes.group_count()
    }

    fn occurrence(&mut self, r: &AuditRecord<'_>) -> std::result::Result<(), XlsxError> {
        if self.next > SHEET_ROWS {
            self.not_shown += 1;
            return Ok(());
        }
        let row = self.next;
        self.next += 1;
        let sheet = &mut self.occurrences;
        let mut c = 0u16;
        for key in r.keys.iter() {
            sheet.write_string(row, c, cell_text(key))?;
            c += 1;
        }
        let mut label = Vec::new();
        r.statuses.write_label(&mut label);
        let fingerprint = r
            .fingerprint
            .map(|f| format!("{f:016x}"))
            .unwrap_or_default();
        let cells: [(&str, String); 13] = [
            ("row", r.row.to_string()),
            ("line", r.line.to_string()),
            ("column", cell_text(r.column)),
            ("system", r.system.name().to_string()),
            ("code", cell_text(r.code)),
            ("original", cell_text(r.original)),
            ("decision", cell_text(r.decision)),
            ("status", cell_text(&label)),
            ("reason", cell_text(r.reason)),
            ("written", cell_text(r.written)),
            ("leftover", cell_text(r.leftover)),
            ("lines", r.lines.to_string()),
            ("fingerprint", fingerprint),
        ];
        for (name, value) in cells {
            match name {
                "decision" => {
                    sheet.write_string_with_format(row, c, value, &self.decision)?;
                }
                "row" | "line" | "lines" => {
                    sheet.write_number(row, c, value.parse::<f64>().unwrap_or(0.0))?;
                }
                _ if !value.is_empty() => {
                    sheet.write_string(row, c, value)?;
                }
                _ => {}
            }
            c += 1;
        }
        Ok(())
    }

    /// Write the workbook to `out`.
    pub fn save(
        mut self,
        crosswalk: &Crosswalk,
        about: &WorkbookAbout,
        out: impl Write + Send,
    ) -> Result<()> {
        self.finish(crosswalk, about, out).map_err(failed)
    }

    fn finish(
        &mut self,
        crosswalk: &Crosswalk,
        about: &WorkbookAbout,
        out: impl Write + Send,
    ) -> std::result::Result<(), XlsxError> {
        let last = self.next - 1;
        let width = (self.key_names.len() + OCCURRENCE_COLUMNS.len()) as u16;
        if last > 0 {
            self.occurrences.autofilter(0, 0, last, width - 1)?;
        }
        let mut codes = Worksheet::new();
        codes.set_name(CODES)?;
        let mut lists = Worksheet::new();
        lists.set_name(LISTS)?;
        lists.set_hidden(true);
        self.codes_sheet(&mut codes, &mut lists, crosswalk)?;
        let mut info = Worksheet::new();
        info.set_name(ABOUT)?;
        self.about_sheet(&mut info, crosswalk, about)?;
        let occurrences = std::mem::replace(&mut self.occurrences, Worksheet::new());
        self.workbook.push_worksheet(codes);
        self.workbook.push_worksheet(occurrences);
        self.workbook.push_worksheet(info);
        self.workbook.push_worksheet(lists);
        self.workbook.save_to_writer(out)
    }

    fn codes_sheet(
        &self,
        sheet: &mut Worksheet,
        lists: &mut Worksheet,
        crosswalk: &Crosswalk,
    ) -> std::result::Result<(), XlsxError> {
        let wrap = Format::new().set_text_wrap().set_num_format("@");
        for (c, name) in CODE_COLUMNS.iter().enumerate() {
            let width = match *name {
                "system" | "claims" | "occurrences" | "cells" | "alternative_count" => 11.0,
                "code" | "decision" => 12.0,
                "title" | "reason" => 40.0,
                "choices" => 70.0,
                _ => 22.0,
            };
            sheet.set_column_width(c as u16, width)?;
            sheet.write_string_with_format(0, c as u16, *name, &self.header)?;
        }
        let decision_col = column(&CODE_COLUMNS, "decision");
        let mut list_row = 0u32;
        let groups = self.codes.groups();
        for (i, g) in groups.iter().enumerate() {
            let row = i as u32 + 1;
            let overflow = g.statuses.iter().any(|(s, _)| *s == CellStatus::Overflow);
            let offered = choices(crosswalk, g.system, g.code.as_ref(), overflow);
            let mut described: Vec<String> = offered
                .iter()
                .take(CHOICES_DESCRIBED)
                .map(|c| format!("{} — {}", c.value, c.label))
                .collect();
            if offered.len() > CHOICES_DESCRIBED {
                let more = &offered[CHOICES_DESCRIBED..];
                let keywords: Vec<&str> = more
                    .iter()
                    .map(|c| c.value.as_str())
                    .filter(|v| matches!(*v, "accept" | "keep" | "blank"))
                    .collect();
                described.push(format!(
                    "… {} more in the dropdown (crosswalk map --system {} {}), and {}",
                    more.len() - keywords.len(),
                    g.system.name(),
                    g.shown,
                    keywords.join(", ")
                ));
            }
            let title = g.title_in(crosswalk);
            let statuses: Vec<String> = g
                .statuses
                .iter()
                .map(|(s, n)| format!("{} {n}", s.as_str()))
                .collect();
            let listed = match &g.code {
                Some(code) => {
                    let alternatives = crate::audit::alternatives_of(crosswalk, g.system, code);
                    (
                        alternatives.len(),
                        crate::audit::listed_alternatives(g.system, code, &alternatives),
                    )
                }
                None => (0, String::new()),
            };
            let decided = decided_value(&g.decisions);
            let cells: [String; 13] = [
                g.system.name().to_string(),
                g.shown.clone(),
                title,
                decided,
                g.claims.to_string(),
                g.items.to_string(),
                g.occurrences.to_string(),
                statuses.join(", "),
                g.reason.clone(),
                tally(&g.written),
                cell_text(described.join("\n").as_bytes()),
                listed.0.to_string(),
                listed.1,
            ];
            for (c, value) in cells.into_iter().enumerate() {
                let c = c as u16;
                match CODE_COLUMNS[c as usize] {
                    "decision" => {
                        sheet.write_string_with_format(row, c, value, &self.decision)?;
                    }
                    "choices" => {
                        sheet.write_string_with_format(row, c, value, &wrap)?;
                    }
                    "claims" | "occurrences" | "cells" | "alternative_count" => {
                        sheet.write_number(row, c, value.parse::<f64>().unwrap_or(0.0))?;
                    }
                    _ => {
                        sheet.write_string(row, c, value)?;
                    }
                }
            }
            let values: Vec<&str> = offered.iter().map(|c| c.value.as_str()).collect();
            let validation = dropdown(&values, lists, &mut list_row, g)?;
            sheet.add_data_validation(row, decision_col, row, decision_col, &validation)?;
        }
        let last = groups.len() as u32;
        sheet.set_freeze_panes(1, 2)?;
        if last > 0 {
            sheet.autofilter(0, 0, last, CODE_COLUMNS.len() as u16 - 1)?;
        }
        Ok(())
    }

    fn about_sheet(
        &self,
        sheet: &mut Worksheet,
        crosswalk: &Crosswalk,
        about: &WorkbookAbout,
    ) -> std::result::Result<(), XlsxError> {
        sheet.set_column_width(0, 22.0)?;
        sheet.set_column_width(1, 110.0)?;
        let mut lines: Vec<(String, String)> = vec![
            (
                "tool".into(),
                format!("crosswalk {}", env!("CARGO_PKG_VERSION")),
            ),
            ("input".into(), about.input.clone()),
        ];
        for system in System::ALL {
            if system.is_icd9()
                && let Ok(gem) = crosswalk.gem(system)
            {
                lines.push((
                    format!("crosswalk {}", system.name()),
                    gem.provenance().to_string(),
                ));
            }
        }
        for system in [System::Icd10Cm, System::Icd10Pcs] {
            lines.push((
                format!("code set {}", system.name()),
                crosswalk.code_set(system).release().to_string(),
            ));
        }
        lines.push(("options".into(), about.options.clone()));
        for line in &about.plan {
            lines.push(("read".into(), line.clone()));
        }
        lines.push((
            "codes and values to decide".into(),
            format!("{} (sheet {CODES})", self.codes.group_count()),
        ));
        let mut shown = format!("{} (sheet {OCCURRENCES})", self.next - 1);
        if self.not_shown > 0 {
            shown.push_str(&format!(
                "; {} more are not shown (a sheet holds {SHEET_ROWS} rows): the CSV audit \
                 (--audit PATH.csv) lists them all, and a code's decision covers them",
                self.not_shown
            ));
        }
        lines.push(("occurrences".into(), shown));
        for (i, step) in HOW_TO_DECIDE.iter().enumerate() {
            lines.push((
                if i == 0 { "how to decide" } else { "" }.into(),
                step.to_string(),
            ));
        }
        for (r, (name, value)) in lines.into_iter().enumerate() {
            sheet.write_string_with_format(r as u32, 0, name, &self.header)?;
            sheet.write_string(r as u32, 1, cell_text(value.as_bytes()))?;
        }
        Ok(())
    }
}

const HOW_TO_DECIDE: [&str; 5] = [
    "1. On the Codes sheet, pick a decision for each code from the dropdown of its decision cell: \
     one of its alternatives, a billable code under a header, accept (an overflow: write what \
     fits, keep the rest in the flags column), keep (leave the code) or blank. Any other billable \
     code may be typed instead.",
    "2. A decision on the Codes sheet is for every occurrence of the code. To decide one claim \
     differently, fill the decision cell of its row on the Occurrences sheet.",
    "3. Save the workbook as .xlsx, then run: crosswalk convert CLAIMS -o OUT --decisions \
     THIS.xlsx --audit remaining.xlsx",
    "4. Every decision is checked before anything is written: an error names the sheet and row.",
    "Codes and claim ids are text: codes keep their leading zeros and claim ids their digits. \
     Sort and filter as you like (rows are found by their columns, not their order), but keep \
     the columns: on Occurrences the columns before `row` are the claim's key columns.",
];

/// The column number of `name` in `columns`.
fn column(columns: &[&str], name: &str) -> u16 {
    columns
        .iter()
        .position(|c| *c == name)
        .expect("a workbook column") as u16
}

/// The decision a code's occurrences already had (from `--decisions`), when they agree.
fn decided_value(decisions: &Tally) -> String {
    match decisions.sorted()[..] {
        [(value, _)] if decisions.others == 0 => value.to_string(),
        _ => String::new(),
    }
}

fn tally(t: &Tally) -> String {
    let mut parts: Vec<String> = t
        .sorted()
        .into_iter()
        .map(|(v, n)| format!("{} ({n})", if v.is_empty() { "(blank)" } else { v }))
        .collect();
    if t.others > 0 {
        parts.push(format!("others ({})", t.others));
    }
    parts.join(", ")
}

/// The dropdown of a decision cell: the values themselves when they fit in a validation (255
/// characters), else a row of the hidden Choices sheet. Other values are allowed (a warning
/// only says they are not in the list).
fn dropdown(
    values: &[&str],
    lists: &mut Worksheet,
    list_row: &mut u32,
    g: &Group,
) -> std::result::Result<DataValidation, XlsxError> {
    let joined: usize = values.iter().map(|v| v.len() + 1).sum();
    let validation = if joined <= 255 {
        DataValidation::new().allow_list_strings(values)?
    } else {
        let row = *list_row;
        *list_row += 1;
        lists.write_string(row, 0, format!("{} {}", g.system.name(), g.shown))?;
        for (c, value) in values.iter().enumerate() {
            lists.write_string(row, c as u16 + 1, *value)?;
        }
        let last = rust_xlsxwriter::utility::column_number_to_name(values.len() as u16);
        DataValidation::new().allow_list_formula(Formula::new(format!(
            "={LISTS}!$B${n}:${last}${n}",
            n = row + 1
        )))
    };
    validation
        .ignore_blank(true)
        .set_error_style(DataValidationErrorStyle::Information)
        .set_error_title("Not one of the listed choices")?
        .set_error_message(
            "Any billable code of the target code set may be decided; it is checked, and reported \
             decided_outside_gem, when the workbook is read back.",
        )
}

impl AuditSink for ReviewWorkbook {
    fn record(&mut self, record: &AuditRecord<'_>) -> Result<()> {
        self.codes.add(record);
        if record.kind == Kind::Occurrence {
            self.occurrence(record).map_err(failed)?;
        }
        Ok(())
    }
}
