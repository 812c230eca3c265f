//! The one definition of an audit row: its columns, written by [`AuditRecord::write_to`] and read
//! back by [`Layout::read`], so that what `convert --audit` writes is exactly what `report` and
//! `--decisions` read.
//!
//! An audit has two kinds of rows ([`Kind`]), told apart by the `kind` column: a `code` row
//! describes a code once (its title, its alternatives and theirs, the data it was converted
//! with) and comes before the first occurrence of the code; an `occurrence` row is one cell of
//! the claim file (one claim, column and code) and names its code in the `code` column. A
//! decision on a code row is for every occurrence of the code, on an occurrence row for that one.
//!
//! Audit files are opened in spreadsheets: every text cell is written through
//! [`crate::inert::guard`] and read back through [`crate::inert::unguard`], which undo each other
//! exactly. Cells stay bytes (an audit of a Latin-1 claim file holds Latin-1 keys).

use std::ops::Range;
use std::path::Path;

use crate::code::System;
use crate::error::{Error, Result};
use crate::inert::{guard, unguard};
use crate::rows::Record;
use crate::status::Statuses;

/// The columns after `kind`, `row`, `line` and the claim key columns, in the order written.
pub const COLUMNS: [&str; 17] = [
    "column",
    "lines",
    "system",
    "code",
    "original",
    "original_title",
    "status",
    "reason",
    "written",
    "leftover",
    "alternative_count",
    "alternatives",
    "alternative_titles",
    "fingerprint",
    "data",
    "decision",
    "scope",
];

/// Columns a file must have to be read as an audit; the others read as empty when absent (a
/// reviewer may delete columns they do not need).
const REQUIRED: [&str; 6] = ["line", "column", "row", "system", "original", "status"];

/// What an audit row describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A code, once: its title, alternatives, data, and the reason given at its first
    /// occurrence. Its row, line, keys, column, lines, status and the other occurrence cells
    /// are empty.
    Code,
    /// One occurrence of a code in the claim file. Its per-code cells (title, alternatives,
    /// data) are on the code's row, and its reason is empty when it is the code row's; an audit
    /// without a `kind` column has them on every row.
    Occurrence,
}

impl Kind {
    /// The `kind` cell.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Code => "code",
            Kind::Occurrence => "occurrence",
        }
    }
}

/// One audit row: a code that needs a person's judgment, or one occurrence of it. Text cells
/// hold the bytes as they were in the claim file or as the converter made them, without formula
/// guards.
#[derive(Clone, Copy, Debug)]
pub struct AuditRecord<'a> {
    /// A code row or an occurrence row.
    pub kind: Kind,
    /// Data row number in the claim file.
    pub row: u64,
    /// Line on which the claim record starts.
    pub line: u64,
    /// The claim's key column values.
    pub keys: Keys<'a>,
    /// The column the code was in.
    pub column: &'a [u8],
    /// Claim lines this occurrence stands for: a claim whose lines repeat its codes (RIF) has one
    /// review item per column and code, not one per line.
    pub lines: u64,
    /// The system the code was read as.
    pub system: System,
    /// The code, dotted: what a code row describes and an occurrence row refers to (empty for a
    /// cell that is no valid code).
    pub code: &'a [u8],
    /// The cell as it was in the claim file (empty on a code row).
    pub original: &'a [u8],
    /// The code's title.
    pub original_title: &'a [u8],
    /// What happened to the cell.
    pub statuses: Statuses,
    /// Why a cell is no valid code.
    pub reason: &'a [u8],
    /// The value written in its place.
    pub written: &'a [u8],
    /// Codes of a cluster left over for want of empty cells, dotted and joined by `+`.
    pub leftover: &'a [u8],
    /// How many alternatives the crosswalk has for the code.
    pub alternative_count: u64,
    /// The alternatives, as [`crate::audit::listed_alternatives`] lists them.
    pub alternatives: &'a [u8],
    /// Their titles, in the same order.
    pub alternative_titles: &'a [u8],
    /// The row's [`crate::columns::Fingerprint`], which binds a decision to its row when the
    /// audit has no key columns (`None` with key columns, and in an audit without the column).
    pub fingerprint: Option<u64>,
    /// What converted the file: tool, input, data releases.
    pub data: &'a [u8],
    /// The reviewer's decision.
    pub decision: &'a [u8],
    /// What the decision is for: empty or `occurrence` (this one), or `code` (every one).
    pub scope: &'a [u8],
}

/// The claim key values of an audit row: fields of a record, guarded (as read from an audit file)
/// or not (as in the claim file).
#[derive(Clone, Copy, Debug)]
pub struct Keys<'a> {
    record: &'a dyn Record,
    at: &'a [usize],
    guarded: bool,
}

impl<'a> Keys<'a> {
    /// The fields `at` of a claim record.
    pub fn of_claim(record: &'a dyn Record, at: &'a [usize]) -> Keys<'a> {
        Keys {
            record,
            at,
            guarded: false,
        }
    }

    /// The values, as in the claim file.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let (record, guarded) = (self.record, self.guarded);
        self.at.iter().map(move |&i| {
            let field = record.field(i).unwrap_or(b"");
            if guarded { unguard(field) } else { field }
        })
    }

    /// Number of key columns.
    pub fn len(&self) -> usize {
        self.at.len()
    }

    /// True when the audit has no key columns (occurrences are named by row number).
    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }
}

/// The `fingerprint` cell of `f`: 16 lowercase hex digits, without allocating.
pub(crate) fn fingerprint_hex(f: u64) -> [u8; 16] {
    let mut hex = [0u8; 16];
    for (k, b) in hex.iter_mut().enumerate() {
        *b = b"0123456789abcdef"[((f >> (60 - 4 * k)) & 0xf) as usize];
    }
    hex
}

/// A small integer formatter, so row numbers are written without allocating.
#[derive(Default)]
pub(crate) struct Digits([u8; 20]);

impl Digits {
    pub(crate) fn format(&mut self, mut n: u64) -> &[u8] {
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

impl<'a> AuditRecord<'a> {
    /// A row of `kind` for a `system` code with the claim keys `keys` and every other cell
    /// empty (row and line 0, one line).
    pub fn blank(kind: Kind, system: System, keys: Keys<'a>) -> AuditRecord<'a> {
        AuditRecord {
            kind,
            row: 0,
            line: 0,
            keys,
            column: b"",
            lines: 1,
            system,
            code: b"",
            original: b"",
            original_title: b"",
            statuses: Statuses::default(),
            reason: b"",
            written: b"",
            leftover: b"",
            alternative_count: 0,
            alternatives: b"",
            alternative_titles: b"",
            fingerprint: None,
            data: b"",
            decision: b"",
            scope: b"",
        }
    }
}

impl AuditRecord<'_> {
    /// Append this row's cells to `out` (cleared first), every text cell guarded.
    pub fn write_to(&self, out: &mut csv::ByteRecord) {
        out.clear();
        self.cells(&mut Vec::new(), |cell| out.push_field(cell));
    }

    /// Append this row to `out` as a line of the audit file (comma-separated, LF-ended, quoted
    /// where needed by `encoder`), every text cell guarded. (The converter writes occurrence
    /// rows its own faster way, tested to be this one's.)
    pub fn encode(&self, encoder: &crate::csvout::Encoder, out: &mut Vec<u8>) {
        let start = out.len();
        let mut first = true;
        self.cells(&mut Vec::new(), |cell| {
            if !first {
                out.push(encoder.delimiter());
            }
            first = false;
            encoder.field(cell, out);
        });
        encoder.end(start, out);
    }

    /// Hand each of this row's cells, guarded, to `push`, in order (`label` holds the status
    /// label meanwhile).
    fn cells(&self, label: &mut Vec<u8>, mut push: impl FnMut(&[u8])) {
        push(self.kind.name().as_bytes());
        let occurrence = self.kind == Kind::Occurrence;
        let mut digits = Digits::default();
        let number = |digits: &mut Digits, n: u64, shown: bool| -> ([u8; 20], usize) {
            let mut cell = [0; 20];
            let text: &[u8] = if shown { digits.format(n) } else { b"" };
            cell[..text.len()].copy_from_slice(text);
            (cell, text.len())
        };
        for n in [self.row, self.line] {
            let (cell, len) = number(&mut digits, n, occurrence);
            push(&cell[..len]);
        }
        for key in self.keys.iter() {
            match occurrence {
                true => push(&guard(key)),
                false => push(b""),
            }
        }
        label.clear();
        self.statuses.write_label(label);
        let hex = self.fingerprint.map(fingerprint_hex);
        let fingerprint: &[u8] = hex.as_ref().map_or(b"", |h| &h[..]);
        let (lines, lines_len) = number(&mut digits, self.lines, occurrence);
        let (count, count_len) = number(&mut digits, self.alternative_count, !occurrence);
        let cells: [&[u8]; 17] = [
            self.column,
            &lines[..lines_len],
            self.system.name().as_bytes(),
            self.code,
            self.original,
            self.original_title,
            label,
            self.reason,
            self.written,
            self.leftover,
            &count[..count_len],
            self.alternatives,
            self.alternative_titles,
            fingerprint,
            self.data,
            self.decision,
            self.scope,
        ];
        for cell in cells {
            push(&guard(cell));
        }
    }
}

/// Where the audit columns are in a header row, for reading.
#[derive(Clone, Debug)]
pub struct Layout {
    keys: Vec<usize>,
    key_names: Vec<String>,
    /// The position of each of `kind`, `row`, `line` and [`COLUMNS`], if present.
    at: [Option<usize>; 20],
    width: usize,
}

/// The position of a column in [`Layout::at`].
fn slot(name: &str) -> usize {
    match name {
        "kind" => 0,
        "row" => 1,
        "line" => 2,
        _ => {
            3 + COLUMNS
                .iter()
                .position(|c| *c == name)
                .expect("an audit column")
        }
    }
}

impl Layout {
    /// The header row of an audit whose claim key columns are named `keys`.
    pub fn header<'k>(keys: impl IntoIterator<Item = &'k str>) -> csv::ByteRecord {
        let mut header = csv::ByteRecord::new();
        header.push_field(b"kind");
        header.push_field(b"row");
        header.push_field(b"line");
        for name in keys {
            header.push_field(&guard(name.as_bytes()));
        }
        for c in COLUMNS {
            header.push_field(c.as_bytes());
        }
        header
    }

    /// True when `header` names the columns every audit has.
    pub fn is_audit(header: &csv::ByteRecord) -> bool {
        REQUIRED
            .iter()
            .all(|name| header.iter().any(|h| unguard(h) == name.as_bytes()))
    }

    /// The layout of the audit file `path` (named in errors) whose first line is `header`. Key
    /// columns are those between `line` and `column`.
    pub fn read_header(header: &csv::ByteRecord, path: &Path) -> Result<Layout> {
        let find = |name: &str| header.iter().position(|h| unguard(h) == name.as_bytes());
        let mut at = [None; 20];
        for (n, name) in ["kind", "row", "line"]
            .into_iter()
            .chain(COLUMNS)
            .enumerate()
        {
            at[n] = find(name);
        }
        for name in REQUIRED {
            if at[slot(name)].is_none() {
                return Err(Error::parse(
                    path,
                    1,
                    format!(
                        "no `{name}` column: not an audit file (one is written by \
                         `crosswalk convert --audit PATH`)"
                    ),
                ));
            }
        }
        let (line, column) = (at[slot("line")].unwrap(), at[slot("column")].unwrap());
        if column < line {
            return Err(Error::parse(
                path,
                1,
                "the `column` column comes before `line`: not an audit file",
            ));
        }
        let keys: Range<usize> = line + 1..column;
        Ok(Layout {
            key_names: keys
                .clone()
                .map(|i| String::from_utf8_lossy(unguard(&header[i])).into_owned())
                .collect(),
            keys: keys.collect(),
            at,
            width: header.len(),
        })
    }

    /// The names of the claim key columns.
    pub fn key_names(&self) -> &[String] {
        &self.key_names
    }

    /// True when the audit has a `kind` column: per-code cells are on code rows only.
    pub fn has_kinds(&self) -> bool {
        self.at[slot("kind")].is_some()
    }

    /// True when a data row is a code row.
    pub fn is_code_row(&self, record: &csv::ByteRecord) -> bool {
        self.at[slot("kind")]
            .is_some_and(|i| unguard(record.get(i).unwrap_or(b"")).trim_ascii() == b"code")
    }

    /// The `decision` cell of a data row, unguarded (empty when the audit has no such column).
    pub fn decision<'r>(&self, record: &'r csv::ByteRecord) -> &'r [u8] {
        self.at[slot("decision")].map_or(&b""[..], |i| unguard(record.get(i).unwrap_or(b"")))
    }

    /// Read one data row of the audit `path`, on `line` (both named in errors).
    pub fn read<'r>(
        &'r self,
        record: &'r csv::ByteRecord,
        path: &Path,
        line: u64,
    ) -> Result<AuditRecord<'r>> {
        let bad = |message: String| Error::parse(path, line, message);
        if record.len() != self.width {
            let breaks = memchr::memchr2_iter(b'\n', b'\r', record.as_slice()).count();
            let fields = format!("{} fields, but the header has {}", record.len(), self.width);
            return Err(bad(if breaks > 0 {
                format!("{fields}: a quote opened on line {line} is probably never closed")
            } else {
                fields
            }));
        }
        let cell = |name: &str| {
            self.at[slot(name)].map_or(&b""[..], |i| unguard(record.get(i).unwrap_or(b"")))
        };
        let text = |name: &str| String::from_utf8_lossy(cell(name)).into_owned();
        let number = |name: &str, empty_is_zero: bool| -> Result<u64> {
            let value = cell(name).trim_ascii();
            if value.is_empty() && empty_is_zero {
                return Ok(0);
            }
            std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| bad(format!("`{name}` is {:?}, not a number", text(name))))
        };
        let kind = match cell("kind").trim_ascii() {
            b"" | b"occurrence" => Kind::Occurrence,
            b"code" => Kind::Code,
            _ => {
                return Err(bad(format!(
                    "`kind` is {:?}: an audit row is a `code` or an `occurrence`",
                    text("kind")
                )));
            }
        };
        let occurrence = kind == Kind::Occurrence;
        let system = String::from_utf8_lossy(cell("system"))
            .parse()
            .map_err(bad)?;
        let statuses = match std::str::from_utf8(cell("status")).map(str::trim) {
            Ok("") if !occurrence => Some(Statuses::default()),
            Ok(s) => Statuses::parse(s),
            Err(_) => None,
        }
        .ok_or_else(|| bad(format!("unknown status {:?}", text("status"))))?;
        Ok(AuditRecord {
            kind,
            row: number("row", !occurrence)?,
            line: number("line", !occurrence)?,
            keys: Keys {
                record,
                at: &self.keys,
                guarded: true,
            },
            column: cell("column"),
            lines: match number("lines", true)? {
                0 => 1,
                n => n,
            },
            system,
            code: cell("code"),
            original: cell("original"),
            original_title: cell("original_title"),
            statuses,
            reason: cell("reason"),
            written: cell("written"),
            leftover: cell("leftover"),
            alternative_count: number("alternative_count", true)?,
            alternatives: cell("alternatives"),
            alternative_titles: cell("alternative_titles"),
            fingerprint: match cell("fingerprint").trim_ascii() {
                b"" => None,
                hex => Some(
                    std::str::from_utf8(hex)
                        .ok()
                        .and_then(|h| u64::from_str_radix(h, 16).ok())
                        .ok_or_else(|| {
                            bad(format!(
                                "`fingerprint` is {:?}, not one",
                                text("fingerprint")
                            ))
                        })?,
                ),
            },
            data: cell("data"),
            decision: cell("decision"),
            scope: cell("scope"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::CellStatus;

    #[test]
    fn a_written_row_reads_back_the_same() {
        let claim = csv::ByteRecord::from(vec![&b"'77"[..], b"=HYPERLINK(x)", b"\xe9t\xe9"]);
        let at = [0, 2];
        let mut statuses = Statuses::one(CellStatus::Ambiguous);
        statuses.add_problem(CellStatus::Overflow);
        let record = AuditRecord {
            kind: Kind::Occurrence,
            row: 12,
            line: 14,
            keys: Keys::of_claim(&claim, &at),
            column: b"DX1",
            lines: 3,
            system: System::Icd9Proc,
            code: b"=35.21",
            original: b"\0=1+1",
            original_title: b"-title",
            statuses,
            reason: b"",
            written: b"02H60JZ",
            leftover: b"02H633Z",
            alternative_count: 0,
            alternatives: b"A | B",
            alternative_titles: b"@a | b",
            fingerprint: Some(0x0123_4567_89ab_cdef),
            data: b"crosswalk",
            decision: b"+x",
            scope: b"code",
        };
        let header = Layout::header(["CLM_ID", "=KEY"]);
        let mut written = csv::ByteRecord::new();
        record.write_to(&mut written);
        // The line the audit file gets is that record as the csv crate writes it.
        let (mut line, mut csv) = (Vec::new(), csv::Writer::from_writer(Vec::new()));
        record.encode(&crate::csvout::Encoder::new(b',', false), &mut line);
        csv.write_byte_record(&written).unwrap();
        assert_eq!(line, csv.into_inner().unwrap());
        assert_eq!(&written[0], b"occurrence");
        assert_eq!(&written[3], b"'77", "a `'` that guards nothing is data");
        assert_eq!(&written[9], b"'\0=1+1");
        let layout = Layout::read_header(&header, Path::new("a.csv")).unwrap();
        assert_eq!(layout.key_names(), ["CLM_ID", "=KEY"]);
        let back = layout.read(&written, Path::new("a.csv"), 2).unwrap();
        let cells = |r: &AuditRecord| {
            let texts: Vec<Vec<u8>> = [
                r.column,
                r.code,
                r.original,
                r.original_title,
                r.reason,
                r.written,
                r.leftover,
                r.alternatives,
                r.alternative_titles,
                r.data,
                r.decision,
                r.scope,
            ]
            .into_iter()
            .chain(r.keys.iter())
            .map(<[u8]>::to_vec)
            .collect();
            let numbers = (r.row, r.line, r.lines, r.alternative_count, r.fingerprint);
            (numbers, r.kind, r.system, r.statuses, texts)
        };
        assert_eq!(cells(&back), cells(&record));
        let keys: Vec<&[u8]> = back.keys.iter().collect();
        assert_eq!(keys, [&b"'77"[..], b"\xe9t\xe9"]);

        // A code row: no row, line, keys or status; the count of alternatives.
        let blank = csv::ByteRecord::from(vec![""; 3]);
        let code = AuditRecord {
            kind: Kind::Code,
            keys: Keys::of_claim(&blank, &at),
            row: 0,
            line: 0,
            lines: 1,
            column: b"",
            original: b"",
            statuses: Statuses::default(),
            written: b"",
            leftover: b"",
            alternative_count: 216,
            fingerprint: None,
            ..record
        };
        AuditRecord {
            keys: record.keys,
            ..code
        }
        .write_to(&mut written);
        let first: Vec<&[u8]> = written.iter().take(7).collect();
        assert_eq!(first, [&b"code"[..], b"", b"", b"", b"", b"", b""]);
        let back = layout.read(&written, Path::new("a.csv"), 3).unwrap();
        let keys: Vec<&[u8]> = back.keys.iter().collect();
        assert_eq!(keys, [b"", b""]);
        assert_eq!(cells(&back), cells(&code));
    }

    #[test]
    fn bad_cells_name_the_file_and_line() {
        let header = Layout::header([]);
        let layout = Layout::read_header(&header, Path::new("a.csv")).unwrap();
        let mut row: Vec<&[u8]> = vec![b"", b"x", b"2", b"DX1", b"1", b"icd9-dx", b"272.4"];
        row.resize(header.len(), b"");
        row[9] = b"ambiguous";
        let record = csv::ByteRecord::from(row);
        let err = layout.read(&record, Path::new("a.csv"), 7).unwrap_err();
        assert!(err.to_string().contains("a.csv:7"), "{err}");
        assert!(err.to_string().contains("`row` is \"x\""), "{err}");
    }
}
