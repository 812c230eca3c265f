//! The audit file: one CSV row per code that needs a person's judgment, with everything a
//! reviewer needs to decide and an empty `decision` column to record it.
//!
//! Claim files are untrusted input and audit files are opened in spreadsheets: a cell that a
//! spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`, tab or carriage return) is
//! prefixed with `'`.

use std::io::Write;

use crate::code::System;
use crate::convert::{CodeEvent, Sink};
use crate::crosswalk::Crosswalk;
use crate::error::{Error, Result};

/// Writes review events as CSV.
pub struct AuditWriter<'c, W: Write> {
    writer: csv::Writer<W>,
    crosswalk: &'c Crosswalk,
    keys: Vec<usize>,
    record: csv::ByteRecord,
    rows: u64,
}

/// At most this many alternatives are spelled out per audit row: some procedure codes have
/// hundreds (00.50 has 243 clusters of four codes), which no reviewer reads in a cell.
/// `crosswalk map` lists them all.
pub const MAX_LISTED_ALTERNATIVES: usize = 20;

/// The fixed columns after the key columns.
const COLUMNS: [&str; 12] = [
    "column",
    "system",
    "original",
    "original_title",
    "status",
    "reason",
    "written",
    "leftover",
    "alternative_count",
    "alternatives",
    "alternative_titles",
    "decision",
];

fn csv_error(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(None, io),
        other => Error::config(format!("cannot write the audit file: {other:?}")),
    }
}

/// Push a field, neutralising a leading formula character.
fn push_safe(record: &mut csv::ByteRecord, field: &[u8]) {
    match field.first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => {
            let mut safe = Vec::with_capacity(field.len() + 1);
            safe.push(b'\'');
            safe.extend_from_slice(field);
            record.push_field(&safe);
        }
        _ => record.push_field(field),
    }
}

impl<'c, W: Write> AuditWriter<'c, W> {
    /// Start an audit file: writes the header row. `keys` are (index, name) of the key columns.
    pub fn new(out: W, crosswalk: &'c Crosswalk, keys: &[(usize, String)]) -> Result<Self> {
        let mut writer = csv::WriterBuilder::new()
            .buffer_capacity(1 << 16)
            .from_writer(out);
        let mut header = csv::ByteRecord::new();
        header.push_field(b"row");
        header.push_field(b"line");
        for (_, name) in keys {
            push_safe(&mut header, name.as_bytes());
        }
        for c in COLUMNS {
            header.push_field(c.as_bytes());
        }
        writer.write_byte_record(&header).map_err(csv_error)?;
        Ok(AuditWriter {
            writer,
            crosswalk,
            keys: keys.iter().map(|(i, _)| *i).collect(),
            record: csv::ByteRecord::new(),
            rows: 0,
        })
    }

    /// Flush and return the number of review rows written and the writer.
    pub fn finish(self) -> Result<(u64, W)> {
        let rows = self.rows;
        let out = self
            .writer
            .into_inner()
            .map_err(|e| Error::io(None, std::io::Error::other(e.to_string())))?;
        Ok((rows, out))
    }

    fn title(&self, system: System, code: &crate::code::Code) -> String {
        self.crosswalk
            .title(system, code)
            .map(|t| t.into_owned())
            .unwrap_or_default()
    }
}

impl<W: Write> Sink for AuditWriter<'_, W> {
    fn code(&mut self, e: &CodeEvent<'_>) -> Result<()> {
        if !e.status.needs_review() {
            return Ok(());
        }
        let target = e.system.gem_target();
        let r = &mut self.record;
        r.clear();
        r.push_field(e.row.to_string().as_bytes());
        r.push_field(e.line.to_string().as_bytes());
        for &k in &self.keys {
            push_safe(r, e.record.get(k).unwrap_or(b""));
        }
        push_safe(r, e.column.name.as_bytes());
        r.push_field(e.system.name().as_bytes());
        push_safe(r, e.original);
        let original_title = e.code.map(|c| self.title(e.system, &c)).unwrap_or_default();
        push_safe(&mut self.record, original_title.as_bytes());
        let r = &mut self.record;
        r.push_field(e.status.as_str().as_bytes());
        push_safe(r, e.reason.unwrap_or("").as_bytes());
        push_safe(r, e.written);
        let leftover: Vec<String> = e.leftover.iter().map(|c| c.dotted(target)).collect();
        push_safe(r, leftover.join("+").as_bytes());

        let alternatives = e.mapping.map(|m| &m.alternatives[..]).unwrap_or(&[]);
        let (mut codes, mut titles) = (String::new(), String::new());
        for (n, alternative) in alternatives
            .iter()
            .take(MAX_LISTED_ALTERNATIVES)
            .enumerate()
        {
            if n > 0 {
                codes.push_str(" | ");
                titles.push_str(" | ");
            }
            for (k, t) in alternative.codes.iter().enumerate() {
                if k > 0 {
                    codes.push('+');
                    titles.push_str(" + ");
                }
                codes.push_str(&t.code.dotted(target));
                titles.push_str(&self.title(target, &t.code));
            }
        }
        if alternatives.len() > MAX_LISTED_ALTERNATIVES {
            let more = alternatives.len() - MAX_LISTED_ALTERNATIVES;
            let note = format!(
                " | … {more} more (crosswalk map --system {} {})",
                e.system.name(),
                e.code.map(|c| c.dotted(e.system)).unwrap_or_default()
            );
            codes.push_str(&note);
            titles.push_str(&note);
        }
        let r = &mut self.record;
        r.push_field(alternatives.len().to_string().as_bytes());
        push_safe(r, codes.as_bytes());
        push_safe(r, titles.as_bytes());
        r.push_field(b"");
        self.writer
            .write_byte_record(&self.record)
            .map_err(csv_error)?;
        self.rows += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        let mut r = csv::ByteRecord::new();
        for f in [&b"=SUM(A1)"[..], b"+1", b"-2", b"@x", b"2731", b""] {
            push_safe(&mut r, f);
        }
        let got: Vec<&[u8]> = r.iter().collect();
        assert_eq!(
            got,
            [&b"'=SUM(A1)"[..], b"'+1", b"'-2", b"'@x", b"2731", b""]
        );
    }
}
