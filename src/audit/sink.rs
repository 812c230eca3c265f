//! From the converter's events to the lines of the audit file, in two halves so that the work is
//! spread over the converting threads and the file is the same whatever their number.
//!
//! [`Auditor`] (one per converting thread) encodes each audited occurrence of its batch into a
//! [`Part`]: the whole line but for the two cells that depend on what came before it in the file,
//! `lines` (how many claim lines the occurrence stands for, known when its claim ends) and
//! `reason` (left empty when it is the reason on the code's row). [`Merger`] takes the parts in
//! input order, writes each code's row (its title and alternatives, rendered once) before its
//! first occurrence, groups the occurrences of a claim and fills in those two cells.

use std::ops::Range;

/// Where something is in a [`Part`]'s bytes (a part holds one chunk's audit: far below 4 GiB).
type Span = Range<u32>;

/// The span of `range`.
fn span(range: Range<usize>) -> Span {
    range.start as u32..range.end as u32
}

use crate::codemap::FlatMap;

use super::schema::{AuditRecord, Digits, Keys, Kind, fingerprint_hex};
use super::{list_alternatives, listed_alternatives};
use crate::code::{Code, System};
use crate::columns::Fingerprint;
use crate::crosswalk::Crosswalk;
use crate::csvout::Encoder;
use crate::error::Result;
use crate::event::{CodeEvent, Sink};
use crate::inert::guard;
use crate::rows::Fields;

/// The audit file's encoder: comma-separated, LF-ended, quoted where needed.
fn encoder() -> Encoder {
    Encoder::new(b',', false)
}

/// The audit file's header line for claims keyed by `keys`.
pub fn header<'k>(keys: impl IntoIterator<Item = &'k str>) -> Vec<u8> {
    let mut out = Vec::new();
    encoder().record(&super::Layout::header(keys), &mut out);
    out
}

/// The `data` cell per source system: what converted the file (`crosswalk 0.1.0; input
/// claims.csv; CMS GEM FY2018 (…); ICD-10-CM FY2026`), so that an audit says where it came from.
struct DataCells {
    input: String,
    /// Per system, in the order of `System::ALL`, made on first use.
    cells: [Option<Box<[u8]>>; 4],
    /// The same, encoded as audit cells.
    encoded: [Option<Box<[u8]>>; 4],
}

impl DataCells {
    fn new(input: &str) -> DataCells {
        DataCells {
            input: input.to_string(),
            cells: Default::default(),
            encoded: Default::default(),
        }
    }

    /// The cell of `system` as [`DataCells::of`] makes it, encoded by `encoder`.
    fn encoded(&mut self, crosswalk: &Crosswalk, system: System, encoder: &Encoder) -> &[u8] {
        if self.encoded[system.index()].is_none() {
            let cell = encoded(encoder, self.of(crosswalk, system));
            self.encoded[system.index()] = Some(cell);
        }
        self.encoded[system.index()].as_deref().expect("made above")
    }

    fn of(&mut self, crosswalk: &Crosswalk, system: System) -> &[u8] {
        let input = &self.input;
        self.cells[system.index()].get_or_insert_with(|| {
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
        })
    }
}

/// One batch's audit occurrences, encoded but for their `lines` and `reason` cells.
#[derive(Default)]
pub struct Part {
    bytes: Vec<u8>,
    pieces: Vec<Piece>,
}

impl Part {
    /// Occurrences in the part.
    pub fn len(&self) -> usize {
        self.pieces.len()
    }

    /// True when the batch had no audited occurrence.
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.pieces.clear();
    }

    fn at(&self, span: &Span) -> &[u8] {
        &self.bytes[span.start as usize..span.end as usize]
    }
}

/// An occurrence in a [`Part`]: where its line and the cells the merger reads are in the part's
/// bytes.
struct Piece {
    system: System,
    code: Option<Code>,
    /// The code was looked up in its system's GEM (the code row lists the GEM's alternatives).
    looked_up: bool,
    /// The line, up to its end: `lines_at` and `reason_at` are where those cells go (both
    /// empty in the encoded bytes).
    line: Span,
    lines_at: u32,
    reason_at: u32,
    /// The claim key cells as encoded (with the delimiter after each): one claim's lines have
    /// the same.
    keys: Span,
    /// The column cell as encoded.
    column: Span,
    /// The cell as in the claim file, trimmed (with key columns only).
    original: Span,
    /// The reason, not encoded.
    reason: Span,
    reason_hash: u64,
    /// The decision the decisions files hold for every occurrence of the code (for its row).
    code_decision: Span,
}

/// Turns one converting thread's review events into a [`Part`] per batch.
pub struct Auditor<'c> {
    crosswalk: &'c Crosswalk,
    keys: Vec<usize>,
    fingerprint: Fingerprint,
    /// The fingerprint of the last row met: (row, fingerprint).
    last_fingerprint: (u64, u64),
    data: DataCells,
    /// Per input field, its column's name as encoded (made on first use).
    columns: Vec<Option<Box<[u8]>>>,
    /// The row and line of the last occurrence, its line's start as encoded
    /// (`occurrence,ROW,LINE,` and the claim key cells, each with its comma) and where the key
    /// cells start in it: a row's occurrences share it.
    row_start: (Option<(u64, u64)>, Vec<u8>, usize),
    encoder: Encoder,
    part: Part,
}

impl<'c> Auditor<'c> {
    /// An auditor of the claim file `input` (as the user named it) whose key columns are `keys`
    /// (indices into its records); `fingerprint` identifies a row apart from its codes.
    pub fn new(
        crosswalk: &'c Crosswalk,
        keys: &[usize],
        fingerprint: Fingerprint,
        input: &str,
    ) -> Self {
        Auditor {
            crosswalk,
            keys: keys.to_vec(),
            fingerprint,
            last_fingerprint: (0, 0),
            data: DataCells::new(input),
            columns: Vec::new(),
            row_start: (None, Vec::new(), 0),
            encoder: encoder(),
            part: Part::default(),
        }
    }

    /// Move the occurrences met since the last call into `into`, whose buffers are kept for the
    /// next ones.
    pub fn take(&mut self, into: &mut Part) {
        std::mem::swap(&mut self.part, into);
        self.part.clear();
    }

    /// Append `raw`, guarded and quoted where needed, to the part's bytes, then `after` (the
    /// delimiter, or nothing for the last cell).
    fn cell(&mut self, raw: &[u8], after: &[u8]) {
        cell(&self.encoder, raw, &mut self.part.bytes);
        self.part.bytes.extend_from_slice(after);
    }

    /// Append `raw` unencoded; returns where it is.
    fn keep(&mut self, raw: &[u8]) -> Span {
        let start = self.part.bytes.len();
        self.part.bytes.extend_from_slice(raw);
        span(start..self.part.bytes.len())
    }

    /// Append the start of an occurrence line of data row `row` at input line `line` of
    /// `record`, up to its key cells; returns where they are in the part's bytes.
    fn line_start(&mut self, row: u64, line: u64, record: &Fields<'_>) -> Range<usize> {
        let (at, start, keys_at) = &mut self.row_start;
        if *at != Some((row, line)) {
            let mut digits = Digits::default();
            start.clear();
            start.extend_from_slice(b"occurrence,");
            start.extend_from_slice(digits.format(row));
            start.push(b',');
            start.extend_from_slice(digits.format(line));
            start.push(b',');
            *keys_at = start.len();
            for &k in &self.keys {
                cell(&self.encoder, record.get(k).unwrap_or(b""), start);
                start.push(b',');
            }
            *at = Some((row, line));
        }
        let from = self.part.bytes.len();
        self.part.bytes.extend_from_slice(start);
        from + *keys_at..self.part.bytes.len()
    }
}

/// Append `raw` to `out` as an audit cell: guarded, then quoted where needed.
fn cell(encoder: &Encoder, raw: &[u8], out: &mut Vec<u8>) {
    encoder.field(&guard(raw), out);
}

/// `raw` encoded as an audit cell.
fn encoded(encoder: &Encoder, raw: &[u8]) -> Box<[u8]> {
    let mut out = Vec::new();
    cell(encoder, raw, &mut out);
    out.into()
}

impl Sink for Auditor<'_> {
    fn code(&mut self, e: &CodeEvent<'_>) -> Result<()> {
        if !e.statuses.audited() {
            return Ok(());
        }
        let keyless = self.keys.is_empty();
        if keyless && self.last_fingerprint.0 != e.row {
            self.last_fingerprint = (e.row, self.fingerprint.of(&e.record));
        }
        let start = self.part.bytes.len();
        let keys = self.line_start(e.row, e.line, &e.record);
        let index = e.column.index;
        if self.columns.len() <= index {
            self.columns.resize(index + 1, None);
        }
        let name = self.columns[index]
            .get_or_insert_with(|| encoded(&self.encoder, e.column.name.as_bytes()));
        // Codes, status labels, system names and hex digits are letters, digits, `.`, `_`,
        // `-` and `+` (never first): cells that need neither guard nor quotes.
        let b = &mut self.part.bytes;
        b.extend_from_slice(name);
        let column = span(keys.end..b.len());
        let keys = span(keys);
        b.push(b',');
        let lines_at = b.len();
        b.push(b',');
        b.extend_from_slice(e.system.name().as_bytes());
        b.push(b',');
        if let Some(code) = e.code {
            code.write_spelled(e.system, true, b);
        }
        b.push(b',');
        self.cell(e.original, b",,");
        let b = &mut self.part.bytes;
        e.statuses.write_label(b);
        b.push(b',');
        let reason_at = b.len();
        b.push(b',');
        self.cell(e.written, b",");
        let b = &mut self.part.bytes;
        let target = e.system.gem_target();
        for (n, code) in e.leftover.iter().enumerate() {
            if n > 0 {
                b.push(b'+');
            }
            code.write_spelled(target, true, b);
        }
        b.extend_from_slice(b",,,,");
        if keyless {
            b.extend_from_slice(&fingerprint_hex(self.last_fingerprint.1));
        }
        b.push(b',');
        // A cell that is no code has no code row: its occurrence says what converted the file,
        // and carries the decision of its text for every occurrence (scope `code`).
        if e.code.is_none() {
            let cell = self.data.encoded(self.crosswalk, e.system, &self.encoder);
            self.part.bytes.extend_from_slice(cell);
        }
        self.part.bytes.push(b',');
        match (e.decision, e.code_decision, e.code) {
            (Some(d), _, _) => {
                self.cell(d.as_bytes(), b",");
            }
            (None, Some(d), None) => {
                self.cell(d.as_bytes(), b",code");
            }
            _ => self.part.bytes.push(b','),
        }
        self.part.bytes.push(b'\n');
        let line = span(start..self.part.bytes.len());
        let original = if keyless {
            0..0
        } else {
            self.keep(e.original.trim_ascii())
        };
        let reason = e.reason.unwrap_or("").as_bytes();
        let reason_hash = reason_hash(reason);
        let reason = self.keep(reason);
        let code_decision = self.keep(e.code_decision.unwrap_or("").as_bytes());
        self.part.pieces.push(Piece {
            system: e.system,
            code: e.code,
            looked_up: e.gem.is_some(),
            line,
            lines_at: lines_at as u32,
            reason_at: reason_at as u32,
            keys,
            column,
            original,
            reason,
            reason_hash,
            code_decision,
        });
        Ok(())
    }
}

/// Codes remembered as announced (about 2 MiB); past this many the set starts again, and a code
/// met again gets another code row (readers take its cells from the first, its decision from
/// either).
const MAX_ANNOUNCED: usize = 1 << 16;

/// A reason's hash, as the code rows' reasons are remembered (64 bits: two reasons of one code
/// that collide are not met in practice).
fn reason_hash(reason: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(reason);
    h.write_usize(reason.len());
    h.finish()
}

/// Puts the [`Part`]s of a run together, in input order, into the lines of its audit file.
pub struct Merger<'c> {
    crosswalk: &'c Crosswalk,
    data: DataCells,
    encoder: Encoder,
    /// `0..` the number of key columns (a code row has them all empty).
    key_at: Vec<usize>,
    /// Codes whose code row is written (each before its first occurrence), with a hash of the
    /// reason written there: an occurrence with the same reason leaves its own empty.
    announced: FlatMap<(System, Code), u64>,
    /// With key columns: the current claim's key cells, as encoded; its occurrences, one per
    /// column and code however many of its lines repeat them, are held until it ends.
    claim: Option<Vec<u8>>,
    held: Vec<Held>,
    held_bytes: Vec<u8>,
    rows: u64,
    code_rows: u64,
    textual: u64,
}

/// An occurrence held until its claim ends: its line before and after the `lines` cell, and
/// what tells it from the claim's other occurrences, in the merger's `held_bytes`.
struct Held {
    before: Range<usize>,
    after: Range<usize>,
    column: Range<usize>,
    original: Range<usize>,
    system: System,
    lines: u64,
}

impl<'c> Merger<'c> {
    /// A merger for the audit of the claim file `input` with `keys` key columns.
    pub fn new(crosswalk: &'c Crosswalk, keys: usize, input: &str) -> Self {
        Merger {
            crosswalk,
            data: DataCells::new(input),
            encoder: encoder(),
            key_at: (0..keys).collect(),
            announced: FlatMap::default(),
            claim: None,
            held: Vec::new(),
            held_bytes: Vec::new(),
            rows: 0,
            code_rows: 0,
            textual: 0,
        }
    }

    /// Occurrence rows made so far.
    pub fn count(&self) -> u64 {
        self.rows
    }

    /// Code rows made so far.
    pub fn code_rows(&self) -> u64 {
        self.code_rows
    }

    /// Occurrence rows of cells that are no code (they have no code row).
    pub fn textual(&self) -> u64 {
        self.textual
    }

    /// Append to `out` the audit lines `part` (the next batch's) completes.
    pub fn merge(&mut self, part: &Part, out: &mut Vec<u8>) {
        // Each code's slot is fetched a few occurrences ahead, so that the fetches overlap.
        const AHEAD: usize = 8;
        for (k, p) in part.pieces.iter().enumerate() {
            if let Some(ahead) = part.pieces.get(k + AHEAD)
                && let Some(code) = ahead.code
            {
                self.announced.prefetch(&(ahead.system, code));
            }
            let said = p.code.map(|code| self.announce(part, p, code, out));
            if self.key_at.is_empty() {
                self.rows += 1;
                self.textual += u64::from(p.code.is_none());
                let line = part.at(&p.line);
                let lines_at = (p.lines_at - p.line.start) as usize;
                let reason_at = (p.reason_at - p.line.start) as usize;
                out.extend_from_slice(&line[..lines_at]);
                out.push(b'1');
                out.extend_from_slice(&line[lines_at..reason_at]);
                self.own_reason(part, p, said, out);
                out.extend_from_slice(&line[reason_at..]);
            } else {
                self.hold(part, p, said, out);
            }
        }
    }

    /// The end of the input: the last claim's occurrences go to `out`.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.flush(out);
    }

    /// Write the code row of `code` unless it is written already; returns the hash of the
    /// reason its row gives.
    fn announce(&mut self, part: &Part, p: &Piece, code: Code, out: &mut Vec<u8>) -> u64 {
        if let Some(said) = self.announced.get(&(p.system, code)) {
            return *said;
        }
        if self.announced.len() >= MAX_ANNOUNCED {
            self.announced.clear();
        }
        self.announced.insert((p.system, code), p.reason_hash);
        self.code_rows += 1;
        let crosswalk = self.crosswalk;
        let title = |system: System, code: &Code| {
            crosswalk
                .title(system, code)
                .map(|t| t.into_owned())
                .unwrap_or_default()
        };
        let mapping = p
            .looked_up
            .then(|| crosswalk.gem(p.system).ok()?.mapping(&code))
            .flatten();
        let alternatives = mapping.as_ref().map_or(&[][..], |m| &m.alternatives[..]);
        let target = p.system.gem_target();
        let titles = list_alternatives(p.system, &code, alternatives, |alternative, out| {
            for (k, t) in alternative.codes.iter().enumerate() {
                if k > 0 {
                    out.push_str(" + ");
                }
                out.push_str(&title(target, &t.code));
            }
        });
        let no_keys = csv::ByteRecord::new();
        let (dotted, original_title) = (code.dotted(p.system), title(p.system, &code));
        let listed = listed_alternatives(p.system, &code, alternatives);
        let record = AuditRecord {
            code: dotted.as_bytes(),
            original_title: original_title.as_bytes(),
            reason: part.at(&p.reason),
            alternative_count: alternatives.len() as u64,
            alternatives: listed.as_bytes(),
            alternative_titles: titles.as_bytes(),
            data: self.data.of(crosswalk, p.system),
            decision: part.at(&p.code_decision),
            ..AuditRecord::blank(Kind::Code, p.system, Keys::of_claim(&no_keys, &self.key_at))
        };
        record.encode(&self.encoder, out);
        p.reason_hash
    }

    /// The `reason` cell of an occurrence, encoded into `out`: empty when its code row gives the
    /// same reason (`said`: the hash of that reason).
    fn own_reason(&self, part: &Part, p: &Piece, said: Option<u64>, out: &mut Vec<u8>) {
        if said != Some(p.reason_hash) {
            cell(&self.encoder, part.at(&p.reason), out);
        }
    }

    /// Hold `p` as an occurrence of its claim, or count it as one more line of an occurrence
    /// held already.
    fn hold(&mut self, part: &Part, p: &Piece, said: Option<u64>, out: &mut Vec<u8>) {
        let keys = part.at(&p.keys);
        if self.claim.as_deref() != Some(keys) {
            self.flush(out);
            let claim = self.claim.get_or_insert_with(Vec::new);
            claim.clear();
            claim.extend_from_slice(keys);
        }
        let (column, original) = (part.at(&p.column), part.at(&p.original));
        let bytes = &self.held_bytes;
        if let Some(h) = self.held.iter_mut().find(|h| {
            h.system == p.system
                && &bytes[h.column.clone()] == column
                && &bytes[h.original.clone()] == original
        }) {
            h.lines += 1;
            return;
        }
        self.rows += 1;
        self.textual += u64::from(p.code.is_none());
        let keep = |from: &[u8], bytes: &mut Vec<u8>| {
            let start = bytes.len();
            bytes.extend_from_slice(from);
            start..bytes.len()
        };
        let mut bytes = std::mem::take(&mut self.held_bytes);
        let column = keep(column, &mut bytes);
        let original = keep(original, &mut bytes);
        let before = keep(part.at(&(p.line.start..p.lines_at)), &mut bytes);
        let start = bytes.len();
        bytes.extend_from_slice(part.at(&(p.lines_at..p.reason_at)));
        self.own_reason(part, p, said, &mut bytes);
        bytes.extend_from_slice(part.at(&(p.reason_at..p.line.end)));
        self.held_bytes = bytes;
        self.held.push(Held {
            before,
            after: start..self.held_bytes.len(),
            column,
            original,
            system: p.system,
            lines: 1,
        });
    }

    /// Write the held occurrences of the claim that ended.
    fn flush(&mut self, out: &mut Vec<u8>) {
        let mut digits = Digits::default();
        for h in &self.held {
            out.extend_from_slice(&self.held_bytes[h.before.clone()]);
            out.extend_from_slice(digits.format(h.lines));
            out.extend_from_slice(&self.held_bytes[h.after.clone()]);
        }
        self.held.clear();
        self.held_bytes.clear();
    }
}
