//! The audit file: one CSV row per code that needs a person's judgment, with everything a
//! reviewer needs to decide and an empty `decision` column to record it.
//!
//! Claim files are untrusted input and audit files are opened in spreadsheets: every cell goes
//! through [`crate::inert::guard`], so that none is run as a formula.

use std::io::Write;

use rustc_hash::FxHashMap;

use crate::batch::Batch;
use crate::code::{Code, System};
use crate::crosswalk::Crosswalk;
use crate::error::Result;
use crate::event::{CodeEvent, Sink};
use crate::mapping::Alternative;

/// Turns review events into audit records, kept in a [`Batch`] until the caller takes them (to
/// write them on another thread, say).
pub struct AuditRows<'c> {
    crosswalk: &'c Crosswalk,
    keys: Vec<usize>,
    pending: Batch,
    rows: u64,
    // The title and alternatives of a code are the same at every occurrence: rendered once,
    // within a memory budget (cleared when it is spent; claim codes are skewed, so the common
    // ones are soon back).
    rendered: FxHashMap<(System, Code), Rendered>,
    rendered_bytes: usize,
    // The `data` cell per source system (in the order of `System::ALL`), made on first use.
    input: String,
    data: [Option<Box<[u8]>>; 4],
    label: Vec<u8>,
}

/// Bytes of rendered audit text kept for re-use.
const RENDER_BUDGET: usize = 4 << 20;

/// The per-code columns of an audit row, ready to write.
struct Rendered {
    title: Box<[u8]>,
    count: Box<[u8]>,
    alternatives: Box<[u8]>,
    titles: Box<[u8]>,
}

/// At most this many alternatives are spelled out per audit row: some procedure codes have
/// hundreds (00.50 has 243 clusters of four codes), which no reviewer reads in a cell.
/// `crosswalk map` lists them all.
pub const MAX_LISTED_ALTERNATIVES: usize = 20;

/// The fixed columns after the key columns.
const COLUMNS: [&str; 14] = [
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
    "data",
    "decision",
    "scope",
];

/// Push a field, neutralising a leading formula character.
fn push_safe(record: &mut csv::ByteRecord, field: &[u8]) {
    record.push_field(&crate::inert::guard(field));
}

/// A CSV writer set up as audit files are written (the caller writes [`AuditRows::header`] first).
pub fn csv_writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .buffer_capacity(1 << 16)
        .from_writer(out)
}

impl<'c> AuditRows<'c> {
    /// Audit records of the claim file `input` (as the user named it) whose key columns are
    /// `keys`: (index, name).
    pub fn new(crosswalk: &'c Crosswalk, keys: &[(usize, String)], input: &str) -> Self {
        AuditRows {
            crosswalk,
            keys: keys.iter().map(|(i, _)| *i).collect(),
            pending: Batch::default(),
            rows: 0,
            rendered: FxHashMap::default(),
            rendered_bytes: 0,
            input: input.to_string(),
            data: Default::default(),
            label: Vec::new(),
        }
    }

    /// The `data` cell of a `system` code: what converted it (`crosswalk 0.1.0; input claims.csv;
    /// CMS GEM FY2018 (…); ICD-10-CM FY2026`), so that an audit file says where it came from.
    /// Returns the index of the cell in `self.data`.
    fn data(&mut self, system: System) -> usize {
        let i = System::ALL
            .iter()
            .position(|s| *s == system)
            .expect("System::ALL lists every system");
        let (crosswalk, input) = (self.crosswalk, &self.input);
        self.data[i].get_or_insert_with(|| {
            let judged = if system.is_icd9() {
                system.gem_target()
            } else {
                system
            };
            let mut text = format!("crosswalk {}; input {input}", env!("CARGO_PKG_VERSION"));
            if system.is_icd9()
                && let Ok(gem) = crosswalk.gem(system)
            {
                text.push_str(&format!("; {}", gem.provenance()));
            }
            text.push_str(&format!("; {}", crosswalk.code_set(judged).release()));
            text.into_bytes().into()
        });
        i
    }

    /// The header row of an audit file with these key columns.
    pub fn header(keys: &[(usize, String)]) -> csv::ByteRecord {
        let mut header = csv::ByteRecord::new();
        header.push_field(b"row");
        header.push_field(b"line");
        for (_, name) in keys {
            push_safe(&mut header, name.as_bytes());
        }
        for c in COLUMNS {
            header.push_field(c.as_bytes());
        }
        header
    }

    /// Move the records made since the last call into `into` (cleared first), in order; `into`'s
    /// buffers are kept for the next ones.
    pub fn take(&mut self, into: &mut Batch) {
        into.clear();
        std::mem::swap(&mut self.pending, into);
    }

    /// Review records made so far.
    pub fn count(&self) -> u64 {
        self.rows
    }
}

/// The `alternatives` cell of an audit row: up to [`MAX_LISTED_ALTERNATIVES`] alternatives of
/// `code` (a `system` code), clusters as `A+B`, joined by ` | `, then a note of how many more.
/// A decisions file read from an audit checks it against the crosswalk of the run.
pub fn listed_alternatives(system: System, code: &Code, alternatives: &[Alternative]) -> String {
    let target = system.gem_target();
    list_alternatives(system, code, alternatives, |alternative, out| {
        out.push_str(&alternative.spelled(target));
    })
}

/// Up to [`MAX_LISTED_ALTERNATIVES`] alternatives, each written by `each`, joined by ` | `, then a
/// note of how many more.
fn list_alternatives(
    system: System,
    code: &Code,
    alternatives: &[Alternative],
    mut each: impl FnMut(&Alternative, &mut String),
) -> String {
    let mut out = String::new();
    for (n, alternative) in alternatives
        .iter()
        .take(MAX_LISTED_ALTERNATIVES)
        .enumerate()
    {
        if n > 0 {
            out.push_str(" | ");
        }
        each(alternative, &mut out);
    }
    if alternatives.len() > MAX_LISTED_ALTERNATIVES {
        out.push_str(&more_note(system, code, alternatives.len()));
    }
    out
}

fn more_note(system: System, code: &Code, count: usize) -> String {
    format!(
        " | … {} more (crosswalk map --system {} {})",
        count - MAX_LISTED_ALTERNATIVES,
        system.name(),
        code.dotted(system)
    )
}

fn render(crosswalk: &Crosswalk, e: &CodeEvent<'_>, code: &Code) -> Rendered {
    let title = |system: System, code: &Code| {
        crosswalk
            .title(system, code)
            .map(|t| t.into_owned())
            .unwrap_or_default()
    };
    let target = e.system.gem_target();
    let mapping = e.mapping();
    let alternatives = mapping.as_ref().map_or(&[][..], |m| &m.alternatives[..]);
    let titles = list_alternatives(e.system, code, alternatives, |alternative, out| {
        for (k, t) in alternative.codes.iter().enumerate() {
            if k > 0 {
                out.push_str(" + ");
            }
            out.push_str(&title(target, &t.code));
        }
    });
    let codes = listed_alternatives(e.system, code, alternatives);
    Rendered {
        title: title(e.system, code).into_bytes().into(),
        count: alternatives.len().to_string().into_bytes().into(),
        alternatives: codes.into_bytes().into(),
        titles: titles.into_bytes().into(),
    }
}

impl Sink for AuditRows<'_> {
    fn code(&mut self, e: &CodeEvent<'_>) -> Result<()> {
        if !e.statuses.audited() {
            return Ok(());
        }
        let data = self.data(e.system);
        let r = self.pending.push();
        let mut number = itoa_buffer();
        r.push_field(number.format(e.row));
        r.push_field(number.format(e.line));
        for &k in &self.keys {
            push_safe(r, e.record.get(k).unwrap_or(b""));
        }
        push_safe(r, e.column.name.as_bytes());
        r.push_field(e.system.name().as_bytes());
        push_safe(r, e.original);
        if let Some(code) = e.code
            && !self.rendered.contains_key(&(e.system, code))
        {
            let fresh = render(self.crosswalk, e, &code);
            self.rendered_bytes +=
                fresh.title.len() + fresh.alternatives.len() + fresh.titles.len();
            if self.rendered_bytes > RENDER_BUDGET {
                self.rendered.clear();
                self.rendered_bytes = 0;
            }
            self.rendered.insert((e.system, code), fresh);
        }
        let rendered = e.code.and_then(|code| self.rendered.get(&(e.system, code)));
        let field = |f: fn(&Rendered) -> &[u8]| rendered.map_or(&b""[..], f);
        push_safe(r, field(|x| &x.title));
        self.label.clear();
        e.statuses.write_label(&mut self.label);
        r.push_field(&self.label);
        push_safe(r, e.reason.unwrap_or("").as_bytes());
        push_safe(r, e.written);
        if e.leftover.is_empty() {
            r.push_field(b"");
        } else {
            let target = e.system.gem_target();
            let leftover: Vec<String> = e.leftover.iter().map(|c| c.dotted(target)).collect();
            push_safe(r, leftover.join("+").as_bytes());
        }
        r.push_field(rendered.map_or(&b"0"[..], |x| &x.count));
        push_safe(r, field(|x| &x.alternatives));
        push_safe(r, field(|x| &x.titles));
        push_safe(r, self.data[data].as_deref().expect("made above"));
        push_safe(r, e.decision.unwrap_or("").as_bytes());
        r.push_field(b"");
        self.rows += 1;
        Ok(())
    }
}

/// A small integer formatter, so row numbers are written without allocating.
struct NumberBuffer([u8; 20]);

fn itoa_buffer() -> NumberBuffer {
    NumberBuffer([0; 20])
}

impl NumberBuffer {
    fn format(&mut self, mut n: u64) -> &[u8] {
        let mut i = self.0.len();
        loop {
            i -= 1;
            self.0[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                return &self.0[i..];
            }
        }
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

    #[test]
    fn numbers() {
        let mut b = itoa_buffer();
        assert_eq!(b.format(0), b"0");
        assert_eq!(b.format(1234567890123), b"1234567890123");
        assert_eq!(b.format(u64::MAX), u64::MAX.to_string().as_bytes());
    }
}
