//! Decisions: what a reviewer chose for codes the converter could not decide, read from CSV files
//! and applied on every later run.
//!
//! Two forms are read:
//!
//! * **An audit file** written by `convert --audit`, with its `decision` column filled in. A code
//!   row decides every occurrence of its code; an occurrence row decides that one occurrence (the
//!   claim's key columns, or the data row number when the audit has no key columns, plus column
//!   and code), or — with `code` in its `scope` column — every occurrence of the code. The code
//!   row's `alternatives` must still be what the crosswalk says: a decision taken on other
//!   alternatives is refused.
//! * **A standalone file** with the columns `system,code,decision`: one decision per source code,
//!   for every occurrence.
//!
//! A decision value is one of the code's alternatives (a cluster written `A+B`), any code valid in
//! the built-in code set of the target system (reported as `decided_outside_gem`), `keep` (leave
//! the ICD-9 code) or `blank`. A row with an empty decision is skipped. Occurrence decisions beat
//! code decisions, and both beat `--choose`.

use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::audit::{AuditRecord, Keys, Kind, Layout};
use crate::code::{Code, System};
use crate::codeset::Validity;
use crate::crosswalk::Crosswalk;
use crate::csvio::Records;
use crate::error::{Error, Result};
use crate::inert::unguard;
use crate::rows::Record;
use crate::xlsx;

/// What a decision writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// These target codes: the first in the cell, the others in empty cells of its group.
    Codes(Vec<Code>),
    /// Leave the cell as it was.
    Keep,
    /// Blank the cell.
    Blank,
    /// Write what the run would write (the alternative `--choose` picks) and accept that the
    /// codes of its cluster that find no empty cell stay in the flags column: an `overflow`
    /// that needs no more review.
    Accept,
}

/// What a decision is about: a code, or the text of a cell that is no valid code (from an audit
/// row with the status `malformed`), upper-cased and trimmed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A source code.
    Code(Code),
    /// A malformed cell's text.
    Text(Box<[u8]>),
}

impl Subject {
    /// The subject of a malformed cell.
    pub fn text(original: &[u8]) -> Subject {
        Subject::Text(original.trim_ascii().to_ascii_uppercase().into())
    }

    /// As shown in messages: the dotted code, or the text.
    pub fn shown(&self, system: System) -> String {
        match self {
            Subject::Code(code) => code.dotted(system),
            Subject::Text(text) => String::from_utf8_lossy(text).into_owned(),
        }
    }
}

/// Which occurrences a decision is for. Columns are numbers into [`Decisions::columns`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Scope {
    /// Every occurrence of the code.
    Code,
    /// The code in this column of this data row, whose fingerprint (when the audit recorded
    /// one) is this.
    Row(u64, u32, Option<u64>),
    /// The code in this column of the record with these key values (joined by 0x1F).
    Key(Box<[u8]>, u32),
}

/// One decision, with where it was read.
#[derive(Clone, Debug)]
pub struct Decision {
    /// The source system.
    pub system: System,
    /// The source code (or malformed text).
    pub subject: Subject,
    /// What to write.
    pub choice: Choice,
    /// True when the codes chosen are not one of the code's alternatives.
    pub outside_gem: bool,
    /// The decision as written in the file.
    pub value: Box<str>,
    /// The file it was read from: a number into [`Decisions::files`].
    origin: u16,
    /// Its line in that file.
    pub line: u64,
    scope: Scope,
    /// The next decision in the same slot of an occurrence index (`u32::MAX`: none).
    next: u32,
}

impl Decision {
    /// True when the decision is for every occurrence of its code.
    pub fn for_code(&self) -> bool {
        self.scope == Scope::Code
    }
}

/// A decision that matched no code of the run, for the summary.
#[derive(Clone, Debug, Serialize)]
pub struct Unused {
    /// `FILE:LINE` of the decision.
    pub at: String,
    /// Source system.
    pub system: &'static str,
    /// Source code, dotted.
    pub code: String,
    /// The decision as written.
    pub decision: String,
    /// Why it matched nothing, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<&'static str>,
}

/// Every decision loaded, indexed for look-up by the converter. Held compactly, since a filled-in
/// audit can decide millions of occurrences: an occurrence decision is found by a hash of what
/// it names (key or row, system, code, column) to the first of a chain of candidates, each
/// compared in full; files and columns are stored once and named by number.
#[derive(Default)]
pub struct Decisions {
    list: Vec<Decision>,
    by_code: FxHashMap<(System, Subject), u32>,
    by_occurrence: FxHashMap<u64, u32>,
    key_columns: Vec<String>,
    /// Some decision is bound to a row by its fingerprint.
    rows_fingerprinted: bool,
    files: Vec<PathBuf>,
    columns: Vec<Box<str>>,
    column_ids: FxHashMap<Box<str>, u32>,
    /// Parsed decisions of the codes met, by (system, code, value) — the same few values decide
    /// many occurrences.
    choices: FxHashMap<(System, Code, Box<str>), (Choice, bool)>,
    /// The `alternatives` cell each code's audit rows must list, by code.
    listed: FxHashMap<(System, Code), (String, Vec<crate::mapping::Alternative>)>,
}

/// Where the columns of a review workbook's sheet are, from its header row.
#[derive(Default)]
struct SheetColumns {
    names: Vec<String>,
    /// The claim key columns (those before `row` on the Occurrences sheet), and their names.
    keys: Vec<usize>,
    key_names: Vec<String>,
}

impl SheetColumns {
    fn read_header(&mut self, header: &csv::ByteRecord, sheet: &str, path: &Path) -> Result<()> {
        self.names = header.iter().map(|h| text(h).trim().to_string()).collect();
        let required: &[&str] = match sheet {
            xlsx::CODES => &["system", "code", "decision", "alternatives"],
            _ => &["row", "column", "system", "code", "decision"],
        };
        for name in required {
            if !self.names.iter().any(|n| n == name) {
                return Err(Error::parse(
                    path,
                    1,
                    format!("no `{name}` column: not the {sheet} sheet of a review workbook"),
                ));
            }
        }
        if sheet == xlsx::OCCURRENCES {
            let row = self.names.iter().position(|n| n == "row").expect("checked");
            self.keys = (0..row).collect();
            self.key_names = self.names[..row].to_vec();
        }
        Ok(())
    }

    /// The trimmed cell of column `name` (empty when the sheet has no such column).
    fn cell<'r>(&self, record: &'r csv::ByteRecord, name: &str) -> &'r [u8] {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| record.get(i))
            .map_or(&b""[..], <[u8]>::trim_ascii)
    }
}

/// Code rows whose alternatives are no longer the crosswalk's, and the codes that occurrence
/// rows decide: checked against each other once a whole file is read.
#[derive(Default)]
struct CodeRowCheck {
    /// By code: where its code row is, the alternatives it lists, and today's.
    stale: FxHashMap<(System, Code), (String, String, String)>,
    decided: Vec<(System, Code, PathBuf, u64)>,
}

impl CodeRowCheck {
    /// An error for the first occurrence decision of a code whose code row is stale.
    fn finish(self) -> Result<()> {
        for (system, code, path, line) in self.decided {
            if let Some((at, then, now)) = self.stale.get(&(system, code)) {
                return Err(Error::parse(
                    &path,
                    line,
                    format!(
                        "the alternatives of {} {} changed since this audit was written (then, \
                         at {at}: {then:?}, now: {now:?}); decide it again",
                        system.label(),
                        code.dotted(system),
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The hash an occurrence decision is found by.
fn occurrence_hash(scope: &Scope, system: System, subject: &Subject) -> u64 {
    match scope {
        Scope::Key(key, column) => key_hash(key, *column, system, subject),
        Scope::Row(row, column, _) => {
            use std::hash::{Hash, Hasher};
            let mut h = rustc_hash::FxHasher::default();
            h.write_u8(2);
            row.hash(&mut h);
            column.hash(&mut h);
            system.hash(&mut h);
            subject.hash(&mut h);
            h.finish()
        }
        Scope::Code => 0,
    }
}

/// The hash of the occurrence scope `Key(key, column)`, computed from a borrowed key.
fn key_hash(key: &[u8], column: u32, system: System, subject: &Subject) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    h.write_u8(1);
    key.hash(&mut h);
    column.hash(&mut h);
    system.hash(&mut h);
    subject.hash(&mut h);
    h.finish()
}

/// Separates key values in an occurrence key.
const KEY_SEPARATOR: u8 = 0x1F;

/// A row of a decisions file with its cells unguarded: an audit row, or a
/// `system,code,decision` row.
// One row at a time on the stack: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Row<'r> {
    /// An audit row, the names of the audit's key columns, and whether its `alternatives` cell
    /// is the code's (false for an occurrence row of an audit with code rows: its code row has
    /// them).
    Audit(AuditRecord<'r>, &'r [String], bool),
    Plain(Plain<'r>),
}

/// A row of a `system,code,decision` file.
struct Plain<'r> {
    system: System,
    code: &'r [u8],
    decision: &'r [u8],
}

impl<'r> Plain<'r> {
    fn read(
        record: &'r csv::ByteRecord,
        header: &csv::ByteRecord,
        path: &Path,
        line: u64,
    ) -> Result<Plain<'r>> {
        if record.len() != header.len() {
            return Err(Error::parse(
                path,
                line,
                format!(
                    "{} fields, but the header has {}",
                    record.len(),
                    header.len()
                ),
            ));
        }
        let field = |name: &str| {
            header
                .iter()
                .position(|h| unguard(h) == name.as_bytes())
                .and_then(|i| record.get(i))
                .map_or(&b""[..], |f| unguard(f).trim_ascii())
        };
        let decision = field("decision");
        // A row without a decision is skipped, whatever else it holds.
        let system = match decision.is_empty() {
            true => System::Icd9Dx,
            false => text(field("system"))
                .parse()
                .map_err(|e: String| Error::parse(path, line, e))?,
        };
        Ok(Plain {
            system,
            code: field("code"),
            decision,
        })
    }
}

impl Row<'_> {
    fn system(&self) -> System {
        match self {
            Row::Audit(r, ..) => r.system,
            Row::Plain(p) => p.system,
        }
    }

    /// The source code as written (an audit's `original`).
    fn code(&self) -> &[u8] {
        match self {
            Row::Audit(r, ..) => match r.code.trim_ascii() {
                b"" => r.original.trim_ascii(),
                code => code,
            },
            Row::Plain(p) => p.code,
        }
    }

    fn decision(&self) -> &[u8] {
        match self {
            Row::Audit(r, ..) => r.decision.trim_ascii(),
            Row::Plain(p) => p.decision,
        }
    }
}

/// A field as text: decisions, systems, codes and columns are ASCII; anything else is shown
/// as the bytes read, escaped.
fn text(field: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(field)
}

impl Decisions {
    /// No decisions.
    pub fn new() -> Decisions {
        Decisions::default()
    }

    /// Number of decisions loaded.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when none is loaded.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The decisions, in the order read; indices are those [`Decisions::find`] returns.
    pub fn list(&self) -> &[Decision] {
        &self.list
    }

    /// True when some decision is bound to a data row and its fingerprint: the caller passes
    /// each row's fingerprint to [`Decisions::find`] (else any value).
    pub fn binds_rows(&self) -> bool {
        self.rows_fingerprinted
    }

    /// The key columns occurrence decisions name (empty when they use row numbers).
    pub fn key_columns(&self) -> &[String] {
        &self.key_columns
    }

    /// Read a decisions file (audit form or `system,code,decision`), checking every decision
    /// against `crosswalk`. Errors name the file and line.
    pub fn load(&mut self, path: &Path, crosswalk: &Crosswalk) -> Result<()> {
        use std::io::Read;
        let file = std::fs::File::open(path).map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
        // An audit may have been written compressed (`--audit audit.csv.gz`).
        let (mut file, _) =
            crate::input::decompressed(file).map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
        let mut start = [0u8; 4];
        let n = file
            .read(&mut start)
            .map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
        if crate::input::is_zip(&start[..n]) {
            return self.read_workbook(path, crosswalk);
        }
        self.read(
            path,
            std::io::Cursor::new(start[..n].to_vec()).chain(file),
            crosswalk,
        )
    }

    /// Read the decisions of a review workbook (`convert --audit review.xlsx`): the Codes
    /// sheet's decide codes, the Occurrences sheet's occurrences. Errors name the file, sheet
    /// and row.
    fn read_workbook(&mut self, path: &Path, crosswalk: &Crosswalk) -> Result<()> {
        let mut check = CodeRowCheck::default();
        let mut sheets = 0;
        for sheet in [xlsx::CODES, xlsx::OCCURRENCES] {
            let named = xlsx::sheet_path(path, sheet);
            let mut columns = SheetColumns::default();
            let found = xlsx::read_sheet(path, sheet, |line, record| {
                if columns.names.is_empty() {
                    return columns.read_header(record, sheet, &named);
                }
                if record.iter().all(|c| c.trim_ascii().is_empty()) {
                    return Ok(());
                }
                let decision = columns.cell(record, "decision");
                if decision.is_empty() && sheet == xlsx::OCCURRENCES {
                    return Ok(());
                }
                let at = |message: String| Error::parse(&named, line, message);
                let system = text(columns.cell(record, "system"))
                    .parse()
                    .map_err(|e: String| at(e))?;
                let keys = Keys::of_claim(record, &columns.keys);
                let mut audit = AuditRecord {
                    code: columns.cell(record, "code"),
                    decision,
                    ..AuditRecord::blank(Kind::Code, system, keys)
                };
                if audit.code.is_empty() {
                    return Err(at("no code in the `code` column".to_string()));
                }
                if sheet == xlsx::CODES {
                    audit.alternatives = columns.cell(record, "alternatives");
                    let row = Row::Audit(audit, &[], true);
                    return self.take(&named, line, &row, crosswalk, &mut check);
                }
                let number = |name: &str| {
                    let value = text(columns.cell(record, name)).into_owned();
                    value
                        .parse::<u64>()
                        .map_err(|_| at(format!("`{name}` is {value:?}, not a number")))
                };
                audit.kind = Kind::Occurrence;
                audit.row = number("row")?;
                audit.column = columns.cell(record, "column");
                audit.original = columns.cell(record, "original");
                audit.fingerprint = match text(columns.cell(record, "fingerprint")).as_ref() {
                    "" => None,
                    hex => Some(
                        u64::from_str_radix(hex, 16)
                            .map_err(|_| at(format!("`fingerprint` is {hex:?}, not one")))?,
                    ),
                };
                let row = Row::Audit(audit, &columns.key_names, false);
                self.take(&named, line, &row, crosswalk, &mut check)
            })?;
            sheets += usize::from(found);
        }
        if sheets == 0 {
            return Err(Error::parse(
                path,
                1,
                format!(
                    "a workbook without a {} or {} sheet: not a review workbook (one is written \
                     by `crosswalk convert --audit review.xlsx`)",
                    xlsx::CODES,
                    xlsx::OCCURRENCES
                ),
            ));
        }
        check.finish()
    }

    /// As [`Decisions::load`], from a reader; `path` names it in errors. The file is read as
    /// bytes (an audit of a Latin-1 claim file holds Latin-1 keys), with the line numbers a text
    /// editor shows whatever the line ends, and each cell's formula guard removed exactly.
    pub fn read(
        &mut self,
        path: &Path,
        input: impl std::io::Read,
        crosswalk: &Crosswalk,
    ) -> Result<()> {
        let name = path.display().to_string();
        let mut records = Records::new(input, &name, b',');
        let mut header = csv::ByteRecord::new();
        if !records.read(&mut header)? {
            return Err(Error::parse(path, 1, "the file is empty"));
        }
        let has = |name: &str| header.iter().any(|h| unguard(h) == name.as_bytes());
        if !has("decision") || !has("system") {
            return Err(Error::parse(
                path,
                1,
                "a decisions file needs the columns system, code and decision (or is an audit \
                 file written by --audit)",
            ));
        }
        let layout = if has("original") {
            Some(Layout::read_header(&header, path)?)
        } else if has("code") {
            None
        } else {
            return Err(Error::parse(path, 1, "no `code` column"));
        };
        let mut record = csv::ByteRecord::new();
        let mut check = CodeRowCheck::default();
        while records.read(&mut record)? {
            let line = records.line_of(&record);
            let at = |message: String| Error::parse(path, line, message);
            if records.swallowed().is_some() {
                return Err(at(
                    "a quoted field that is never closed: it would swallow the rest of the file"
                        .to_string(),
                ));
            }
            let row = match &layout {
                // A row without a decision is skipped, whatever else it holds; a code row is
                // read for its alternatives.
                Some(layout)
                    if layout.decision(&record).trim_ascii().is_empty()
                        && !layout.is_code_row(&record) =>
                {
                    continue;
                }
                Some(layout) => {
                    let audit = layout.read(&record, path, line)?;
                    let listed_here = !layout.has_kinds() || audit.kind == Kind::Code;
                    Row::Audit(audit, layout.key_names(), listed_here)
                }
                None => Row::Plain(Plain::read(&record, &header, path, line)?),
            };
            self.take(path, line, &row, crosswalk, &mut check)?;
        }
        check.finish()
    }

    /// One row of a decisions file: its code row's alternatives noted, its decision read.
    fn take(
        &mut self,
        path: &Path,
        line: u64,
        row: &Row<'_>,
        crosswalk: &Crosswalk,
        check: &mut CodeRowCheck,
    ) -> Result<()> {
        if let Row::Audit(audit, ..) = row
            && audit.kind == Kind::Code
        {
            let at = |message: String| Error::parse(path, line, message);
            if let Subject::Code(code) =
                self.subject(audit.system, row.code(), true, crosswalk, &at)?
            {
                let then = text(audit.alternatives.trim_ascii()).into_owned();
                let now = &self.listed[&(audit.system, code)].0;
                if then != *now {
                    let at = format!("{}:{line}", path.display());
                    check
                        .stale
                        .insert((audit.system, code), (at, then, now.clone()));
                }
            }
        }
        if !row.decision().is_empty()
            && let Some((system, code)) = self.read_row(path, line, row, crosswalk)?
        {
            check.decided.push((system, code, path.to_path_buf(), line));
        }
        Ok(())
    }

    /// One row of a decisions file with a decision in it. Returns the code it decides when its
    /// alternatives are to be checked against its code row.
    fn read_row(
        &mut self,
        path: &Path,
        line: u64,
        row: &Row<'_>,
        crosswalk: &Crosswalk,
    ) -> Result<Option<(System, Code)>> {
        let at = |message: String| Error::parse(path, line, message);
        let value = text(row.decision()).into_owned();
        let system = row.system();
        let (audit, listed_here) = match row {
            Row::Audit(record, keys, listed_here) => (Some((record, *keys)), *listed_here),
            Row::Plain(_) => (None, true),
        };
        let subject = self.subject(system, row.code(), audit.is_some(), crosswalk, &at)?;
        let no_alternatives = (String::new(), Vec::new());
        let shown = subject.shown(system);
        let code = match &subject {
            Subject::Code(code) => Some(*code),
            Subject::Text(_) => None,
        };
        let (now, alternatives) = code
            .and_then(|c| self.listed.get(&(system, c)))
            .unwrap_or(&no_alternatives);
        if let Some((record, _)) = audit
            && code.is_some()
            && listed_here
        {
            let listed = text(record.alternatives.trim_ascii());
            if listed != *now {
                return Err(at(format!(
                    "the alternatives of {} {shown} changed since this audit was written \
                     (then: {listed:?}, now: {now:?}); decide it again",
                    system.label(),
                )));
            }
        }
        let cached = code.and_then(|c| self.choices.get(&(system, c, value.as_str().into())));
        let (choice, outside_gem) = match cached {
            Some(parsed) => parsed.clone(),
            None => {
                let parsed = parse_choice(&value, system, alternatives, crosswalk)
                    .map_err(|m| at(format!("decision {value:?} for {shown}: {m}")))?;
                if let Some(c) = code {
                    self.choices
                        .insert((system, c, value.as_str().into()), parsed.clone());
                }
                parsed
            }
        };
        let scope = match audit {
            Some((record, _)) if record.kind == Kind::Code => Scope::Code,
            Some((record, keys)) => self.scope(record, keys, &at)?,
            None => Scope::Code,
        };
        let origin = self.file_number(path);
        let deferred = match (code, listed_here) {
            (Some(code), false) => Some((system, code)),
            _ => None,
        };
        self.add(Decision {
            system,
            subject,
            choice,
            outside_gem,
            value: value.into(),
            origin,
            line,
            scope,
            next: u32::MAX,
        })?;
        Ok(deferred)
    }

    /// What a decision row is about: the code `raw` of `system` (its listed alternatives cached
    /// on first sight), or, in an audit, the text of a malformed cell.
    fn subject(
        &mut self,
        system: System,
        raw: &[u8],
        audit_form: bool,
        crosswalk: &Crosswalk,
        at: &dyn Fn(String) -> Error,
    ) -> Result<Subject> {
        match Code::parse(system, raw) {
            Ok(code) => {
                if let std::collections::hash_map::Entry::Vacant(slot) =
                    self.listed.entry((system, code))
                {
                    // An ICD-10 code is audited when it is no billable code of its code set; it
                    // has no alternatives, and a decision replaces, keeps or blanks it.
                    let mapping = match system.is_icd9() {
                        true => crosswalk.gem(system)?.mapping(&code),
                        false => None,
                    };
                    if mapping.is_none()
                        && system.is_icd9()
                        && !audit_form
                        && crosswalk.validity(system, &code) == Validity::NotInCodeSet
                    {
                        return Err(at(format!(
                            "{} {} is neither in the crosswalk nor in the {} code set",
                            system.label(),
                            code.dotted(system),
                            system.label()
                        )));
                    }
                    let alternatives = mapping.map(|m| m.alternatives).unwrap_or_default();
                    let listed = crate::audit::listed_alternatives(system, &code, &alternatives);
                    slot.insert((listed, alternatives));
                }
                Ok(Subject::Code(code))
            }
            // An audit lists malformed cells too; a decision for one is for that text.
            Err(_) if audit_form => Ok(Subject::text(raw)),
            Err(e) => Err(at(format!(
                "{:?}: {e}; a decision needs a valid code",
                text(raw)
            ))),
        }
    }

    /// The occurrences an audit row's decision is for, from its `scope` cell.
    fn scope(
        &mut self,
        record: &AuditRecord<'_>,
        keys: &[String],
        at: &dyn Fn(String) -> Error,
    ) -> Result<Scope> {
        let scope = text(record.scope.trim_ascii()).to_ascii_lowercase();
        match scope.as_str() {
            "code" => Ok(Scope::Code),
            "" | "occurrence" => self.occurrence(record, keys, at),
            other => Err(at(format!(
                "scope {other:?}: write `code` to decide every occurrence of the code, or leave \
                 it empty (or `occurrence`) to decide this one"
            ))),
        }
    }

    /// The occurrence an audit row names: its key columns' values, else its data row number,
    /// plus its column.
    fn occurrence(
        &mut self,
        record: &AuditRecord<'_>,
        keys: &[String],
        at: &dyn Fn(String) -> Error,
    ) -> Result<Scope> {
        let column = self.column_number(&text(record.column.trim_ascii()));
        if record.keys.iter().any(|v| !v.trim_ascii().is_empty()) {
            if !self.key_columns.is_empty() && self.key_columns != keys {
                return Err(at(format!(
                    "key columns {keys:?} differ from {:?} of the decisions read before",
                    self.key_columns
                )));
            }
            if self.key_columns.is_empty() {
                self.key_columns = keys.to_vec();
            }
            let mut key = Vec::new();
            for (n, v) in record.keys.iter().enumerate() {
                if n > 0 {
                    key.push(KEY_SEPARATOR);
                }
                key.extend_from_slice(v.trim_ascii());
            }
            return Ok(Scope::Key(key.into(), column));
        }
        if record.fingerprint.is_some() {
            self.rows_fingerprinted = true;
        } else if keys.is_empty() {
            return Err(at(
                "an occurrence decision that names its claim by neither key columns nor a \
                 `fingerprint`: bound to a row number alone it could land on another claim once \
                 the file is sorted. Keep the audit's key columns (or its fingerprint column), \
                 or decide the code for every occurrence on its code row"
                    .to_string(),
            ));
        }
        Ok(Scope::Row(record.row, column, record.fingerprint))
    }

    /// The number of a decisions file, stored once.
    fn file_number(&mut self, path: &Path) -> u16 {
        match self.files.iter().position(|f| f == path) {
            Some(i) => i as u16,
            None => {
                self.files.push(path.to_path_buf());
                (self.files.len() - 1) as u16
            }
        }
    }

    /// The number of a column name, stored once.
    fn column_number(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.column_ids.get(name) {
            return id;
        }
        let id = self.columns.len() as u32;
        self.columns.push(name.into());
        self.column_ids.insert(name.into(), id);
        id
    }

    /// The file a decision was read from.
    pub fn origin(&self, d: &Decision) -> &Path {
        &self.files[usize::from(d.origin)]
    }

    /// The decision of an occurrence index slot's chain that decides exactly this.
    fn in_chain(&self, head: Option<u32>, same: impl Fn(&Decision) -> bool) -> Option<usize> {
        let mut at = head?;
        while at != u32::MAX {
            let d = &self.list[at as usize];
            if same(d) {
                return Some(at as usize);
            }
            at = d.next;
        }
        None
    }

    fn add(&mut self, mut d: Decision) -> Result<()> {
        let index = self.list.len() as u32;
        let hash = occurrence_hash(&d.scope, d.system, &d.subject);
        let existing = match &d.scope {
            Scope::Code => self
                .by_code
                .get(&(d.system, d.subject.clone()))
                .map(|&i| i as usize),
            _ => self.in_chain(self.by_occurrence.get(&hash).copied(), |o| {
                o.system == d.system && o.subject == d.subject && o.scope == d.scope
            }),
        };
        if let Some(i) = existing {
            let o = &self.list[i];
            if o.choice == d.choice {
                return Ok(());
            }
            return Err(Error::parse(
                self.origin(&d),
                d.line,
                format!(
                    "decision {:?} for {} conflicts with {:?} at {}:{}",
                    d.value,
                    d.subject.shown(d.system),
                    o.value,
                    self.origin(o).display(),
                    o.line
                ),
            ));
        }
        match &d.scope {
            Scope::Code => {
                self.by_code.insert((d.system, d.subject.clone()), index);
            }
            _ => {
                d.next = self.by_occurrence.insert(hash, index).unwrap_or(u32::MAX);
            }
        }
        self.list.push(d);
        Ok(())
    }

    /// The decision for `subject` in column `column` of data row `row`, whose key values (those of
    /// [`Decisions::key_columns`], joined by 0x1F) are `key`: an occurrence decision first, then
    /// one for the code. Returns its index in [`Decisions::list`].
    pub fn find(
        &self,
        system: System,
        subject: &Subject,
        row: u64,
        key: &[u8],
        fingerprint: u64,
        column: &str,
    ) -> Option<usize> {
        if !self.by_occurrence.is_empty()
            && let Some(&col) = self.column_ids.get(column)
        {
            let same = |d: &Decision, scope_matches: &dyn Fn(&Scope) -> bool| {
                d.system == system && d.subject == *subject && scope_matches(&d.scope)
            };
            let by_key = self.by_occurrence.get(&key_hash(key, col, system, subject));
            let found = self.in_chain(by_key.copied(), |d| {
                same(
                    d,
                    &|s| matches!(s, Scope::Key(k, c) if **k == *key && *c == col),
                )
            });
            if found.is_some() {
                return found;
            }
            let scope = Scope::Row(row, col, None);
            let by_row = self
                .by_occurrence
                .get(&occurrence_hash(&scope, system, subject));
            // A decision bound to a row whose fingerprint differs is for another row: the file
            // was re-sorted or edited since the audit.
            let found = self.in_chain(by_row.copied(), |d| {
                same(d, &|s| {
                    matches!(s, Scope::Row(r, c, f)
                        if *r == row && *c == col && f.is_none_or(|f| f == fingerprint))
                })
            });
            if found.is_some() {
                return found;
            }
        }
        self.by_code
            .get(&(system, subject.clone()))
            .map(|&i| i as usize)
    }

    /// The decisions whose use count in `used` (indexed like [`Decisions::list`]) is zero.
    /// `moved` (indexed the same way) marks the row-bound decisions whose row was met with other
    /// fields than the audit's.
    pub fn unused(&self, used: &[u64], moved: &[bool]) -> Vec<Unused> {
        self.list
            .iter()
            .enumerate()
            .filter(|(i, _)| used.get(*i).copied().unwrap_or(0) == 0)
            .map(|(i, d)| Unused {
                at: format!("{}:{}", self.origin(d).display(), d.line),
                system: d.system.name(),
                code: d.subject.shown(d.system),
                decision: d.value.to_string(),
                why: moved.get(i).copied().unwrap_or(false).then_some(
                    "its row number now holds another row (other fields than in the audit): \
                     the file was re-sorted or edited",
                ),
            })
            .collect()
    }

    /// The decision for every occurrence of `subject`, if one was loaded.
    pub fn for_code(&self, system: System, subject: &Subject) -> Option<&Decision> {
        self.by_code
            .get(&(system, subject.clone()))
            .map(|&i| &self.list[i as usize])
    }

    /// The row-bound decision for `subject` in `column` of data row `row` whose fingerprint is
    /// not `fingerprint`: a decision for a row that is not this one any more.
    pub fn moved_row(
        &self,
        system: System,
        subject: &Subject,
        row: u64,
        fingerprint: u64,
        column: &str,
    ) -> Option<usize> {
        let col = *self.column_ids.get(column)?;
        let scope = Scope::Row(row, col, None);
        let head = self
            .by_occurrence
            .get(&occurrence_hash(&scope, system, subject))
            .copied();
        self.in_chain(head, |d| {
            d.system == system
                && d.subject == *subject
                && matches!(d.scope, Scope::Row(r, c, Some(f)) if r == row && c == col && f != fingerprint)
        })
    }
}

/// Append the key of `record` for `key_indices` to `out` (cleared first), as [`Decisions::find`]
/// expects it.
pub fn occurrence_key(record: &impl Record, key_indices: &[usize], out: &mut Vec<u8>) {
    out.clear();
    for (n, &i) in key_indices.iter().enumerate() {
        if n > 0 {
            out.push(KEY_SEPARATOR);
        }
        out.extend_from_slice(record.field(i).unwrap_or(b"").trim_ascii());
    }
}

/// Read a decision value for a code with these alternatives.
fn parse_choice(
    value: &str,
    system: System,
    alternatives: &[crate::mapping::Alternative],
    crosswalk: &Crosswalk,
) -> std::result::Result<(Choice, bool), String> {
    match value.to_ascii_lowercase().as_str() {
        "keep" => return Ok((Choice::Keep, false)),
        "blank" => return Ok((Choice::Blank, false)),
        "accept" if alternatives.is_empty() => {
            return Err(
                "accept writes the code's translation, keeping in the flags what does not fit; \
                 this code has none"
                    .to_string(),
            );
        }
        "accept" => return Ok((Choice::Accept, false)),
        _ => {}
    }
    // An ICD-9 code is decided as ICD-10 codes; an ICD-10 code as another of its own system.
    let target = if system.is_icd9() {
        system.gem_target()
    } else {
        system
    };
    if let Some((code, _)) = value.split_once(" — ") {
        return Err(format!(
            "write the code alone ({:?}), not its description",
            code.trim()
        ));
    }
    let mut codes = Vec::new();
    for part in value.split('+') {
        let code = Code::parse_str(target, part.trim()).map_err(|e| {
            format!(
                "{e}; write one of the alternatives, another {} code, keep or blank",
                target.label()
            )
        })?;
        codes.push(code);
    }
    let mut wanted = codes.clone();
    wanted.sort();
    // A billable code under a header the GEM names is what the GEM means, made specific: the
    // audit lists those codes for a reviewer to pick from.
    let within = |have: &Code, want: &Code| {
        have == want
            || (want.as_str().starts_with(have.as_str())
                && crosswalk.validity(target, have) == Validity::Header
                && crosswalk.validity(target, want) == Validity::Billable)
    };
    let in_gem = alternatives.iter().any(|a| {
        let mut have: Vec<Code> = a.codes.iter().map(|t| t.code).collect();
        have.sort();
        have.len() == wanted.len() && have.iter().zip(&wanted).all(|(h, w)| within(h, w))
    });
    if !in_gem || !system.is_icd9() {
        for code in &codes {
            let validity = crosswalk.validity(target, code);
            if validity != Validity::Billable {
                return Err(format!(
                    "{} is not one of its alternatives and is {} in the built-in {} code set",
                    code.dotted(target),
                    validity.as_str().replace('_', " "),
                    target.label()
                ));
            }
        }
    }
    // An ICD-10 code has no GEM to be outside of.
    Ok((Choice::Codes(codes), !in_gem && system.is_icd9()))
}
