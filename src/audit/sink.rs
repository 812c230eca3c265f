//! From the converter's events to audit records: [`Auditor`] describes each code that needs
//! review (its title and alternatives rendered once per code) and hands the record to an
//! [`AuditSink`]; [`AuditCsv`] is the one that writes the audit file.

use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::schema::{AuditRecord, Keys, Kind};
use super::{AuditSink, list_alternatives, listed_alternatives};
use crate::code::{Code, System};
use crate::columns::Fingerprint;
use crate::crosswalk::Crosswalk;
use crate::csvout::Encoder;
use crate::error::Result;
use crate::event::{CodeEvent, Sink};
use crate::status::Statuses;

/// Turns review events into [`AuditRecord`]s for an [`AuditSink`].
pub struct Auditor<'c, S> {
    crosswalk: &'c Crosswalk,
    keys: Vec<usize>,
    rows: u64,
    code_rows: u64,
    textual: u64,
    // The title and alternatives of a code are the same at every occurrence: rendered once,
    // within a memory budget (cleared when it is spent; claim codes are skewed, so the common
    // ones are soon back).
    rendered: FxHashMap<(System, Code), Rc<Rendered>>,
    rendered_bytes: usize,
    /// Codes whose code row is written (each before its first occurrence), with a hash of the
    /// reason written there: an occurrence with the same reason leaves its own empty.
    announced: FxHashMap<(System, Code), u64>,
    // The `data` cell per source system (in the order of `System::ALL`), made on first use.
    input: String,
    data: [Option<Box<[u8]>>; 4],
    leftover: Vec<u8>,
    /// With key columns: the current claim's occurrences, one per column and code however many
    /// of its lines repeat them, held until the claim ends (`claim` holds its key values).
    claim: csv::ByteRecord,
    held: Vec<Held>,
    held_len: usize,
    /// `0..` the number of key columns: where `claim` holds each.
    claim_at: Vec<usize>,
    fingerprint: Fingerprint,
    /// The fingerprint of the last row met: (row, fingerprint).
    last_fingerprint: (u64, u64),
    /// Where the records go.
    pub sink: S,
}

/// Bytes of rendered audit text kept for re-use.
const RENDER_BUDGET: usize = 4 << 20;

/// Codes remembered as announced (about 2 MiB); past this many the set starts again, and a code
/// met again gets another code row (readers take its cells from the first, its decision from
/// either).
const MAX_ANNOUNCED: usize = 1 << 16;

/// The per-code cells of an audit row.
struct Rendered {
    dotted: Box<[u8]>,
    title: Box<[u8]>,
    count: u64,
    alternatives: Box<[u8]>,
    titles: Box<[u8]>,
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
    Rendered {
        dotted: code.dotted(e.system).into_bytes().into(),
        title: title(e.system, code).into_bytes().into(),
        count: alternatives.len() as u64,
        alternatives: listed_alternatives(e.system, code, alternatives)
            .into_bytes()
            .into(),
        titles: titles.into_bytes().into(),
    }
}

impl<'c, S: AuditSink> Auditor<'c, S> {
    /// Audit records of the claim file `input` (as the user named it) whose key columns are
    /// `keys` (indices into its records), for `sink`.
    /// `fingerprint` identifies a row apart from its codes.
    pub fn new(
        crosswalk: &'c Crosswalk,
        keys: &[usize],
        fingerprint: Fingerprint,
        input: &str,
        sink: S,
    ) -> Self {
        Auditor {
            crosswalk,
            keys: keys.to_vec(),
            rows: 0,
            code_rows: 0,
            textual: 0,
            rendered: FxHashMap::default(),
            rendered_bytes: 0,
            announced: FxHashMap::default(),
            input: input.to_string(),
            data: Default::default(),
            leftover: Vec::new(),
            claim: csv::ByteRecord::new(),
            held: Vec::new(),
            held_len: 0,
            claim_at: (0..keys.len()).collect(),
            fingerprint,
            last_fingerprint: (0, 0),
            sink,
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

    /// The `data` cell of a `system` code: what converted it (`crosswalk 0.1.0; input claims.csv;
    /// CMS GEM FY2018 (…); ICD-10-CM FY2026`), so that an audit file says where it came from.
    /// Returns the index of the cell in `self.data`.
    fn data(&mut self, system: System) -> usize {
        let i = system.index();
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

    /// The rendered cells of `code`, rendered now if they are not kept.
    fn rendered(&mut self, e: &CodeEvent<'_>, code: Code) -> &Rendered {
        if !self.rendered.contains_key(&(e.system, code)) {
            let fresh = render(self.crosswalk, e, &code);
            self.rendered_bytes +=
                fresh.title.len() + fresh.alternatives.len() + fresh.titles.len();
            if self.rendered_bytes > RENDER_BUDGET {
                self.rendered.clear();
                self.rendered_bytes = 0;
            }
            self.rendered.insert((e.system, code), Rc::new(fresh));
        }
        &self.rendered[&(e.system, code)]
    }

    /// Write the code row of `code` unless it is written already.
    fn announce(&mut self, e: &CodeEvent<'_>, code: Code, data: usize) -> Result<()> {
        if self.announced.contains_key(&(e.system, code)) {
            return Ok(());
        }
        if self.announced.len() >= MAX_ANNOUNCED {
            self.announced.clear();
        }
        let reason = e.reason.unwrap_or("").as_bytes();
        self.announced.insert((e.system, code), reason_hash(reason));
        self.code_rows += 1;
        let r = &self.rendered[&(e.system, code)];
        let record = AuditRecord {
            code: &r.dotted,
            original_title: &r.title,
            reason,
            alternative_count: r.count,
            alternatives: &r.alternatives,
            alternative_titles: &r.titles,
            data: self.data[data].as_deref().expect("made before"),
            decision: e.code_decision.unwrap_or("").as_bytes(),
            ..AuditRecord::blank(Kind::Code, e.system, Keys::of_claim(&e.record, &self.keys))
        };
        self.sink.record(&record)
    }

    /// Hand the held occurrences of the claim that ended to the sink.
    fn flush(&mut self) -> Result<()> {
        let at = &self.claim_at[..self.claim.len()];
        for h in &self.held[..self.held_len] {
            let rendered = h.rendered.as_deref();
            let data = self.data[h.data].as_deref().expect("made when held");
            let record = AuditRecord {
                row: h.row,
                line: h.line,
                column: &h.column,
                lines: h.lines,
                original: &h.original,
                statuses: h.statuses,
                reason: &h.reason,
                written: &h.written,
                leftover: &h.leftover,
                decision: &h.decision,
                scope: if h.code_scope { b"code" } else { b"" },
                ..occurrence(h.system, rendered, data, Keys::of_claim(&self.claim, at))
            };
            self.sink.record(&record)?;
        }
        self.held_len = 0;
        Ok(())
    }

    /// The end of the input: the last claim's occurrences go to the sink.
    pub fn finish(&mut self) -> Result<()> {
        self.flush()
    }

    /// Hold `e` (an audited event of a claim with key columns) as an occurrence of its claim,
    /// or count it as one more line of an occurrence held already.
    fn hold(&mut self, e: &CodeEvent<'_>, data: usize) -> Result<()> {
        let same_claim = self.claim.len() == self.keys.len()
            && self
                .keys
                .iter()
                .zip(self.claim.iter())
                .all(|(&k, v)| e.record.get(k).unwrap_or(b"") == v);
        if !same_claim {
            self.flush()?;
            self.claim.clear();
            for &k in &self.keys {
                self.claim.push_field(e.record.get(k).unwrap_or(b""));
            }
        }
        let column = e.column.name.as_bytes();
        if let Some(h) = self.held[..self.held_len].iter_mut().find(|h| {
            h.column == column
                && h.system == e.system
                && h.original.trim_ascii() == e.original.trim_ascii()
        }) {
            h.lines += 1;
            return Ok(());
        }
        self.rows += 1;
        self.textual += u64::from(e.code.is_none());
        if self.held_len == self.held.len() {
            self.held.push(Held {
                row: 0,
                line: 0,
                lines: 0,
                column: Vec::new(),
                system: e.system,
                original: Vec::new(),
                statuses: e.statuses,
                reason: Vec::new(),
                written: Vec::new(),
                leftover: Vec::new(),
                rendered: None,
                data: 0,
                decision: Vec::new(),
                code_scope: false,
            });
        }
        let rendered = e
            .code
            .and_then(|code| self.rendered.get(&(e.system, code)).cloned());
        let h = &mut self.held[self.held_len];
        self.held_len += 1;
        h.row = e.row;
        h.line = e.line;
        h.lines = 1;
        h.system = e.system;
        h.statuses = e.statuses;
        h.data = data;
        h.rendered = rendered;
        let (decision, scope) = own_decision(e);
        h.code_scope = !scope.is_empty();
        for (to, from) in [
            (&mut h.column, column),
            (&mut h.original, e.original),
            (&mut h.reason, own_reason(&self.announced, e)),
            (&mut h.written, e.written),
            (&mut h.leftover, &self.leftover[..]),
            (&mut h.decision, decision),
        ] {
            to.clear();
            to.extend_from_slice(from);
        }
        Ok(())
    }
}

/// An occurrence row of a `system` code (`rendered`, or none for a cell that is no code) with its
/// occurrence cells empty: the per-code cells are on the code's row. A cell that is no code has
/// no code row, so its occurrence says what converted the file (`data`).
fn occurrence<'a>(
    system: System,
    rendered: Option<&'a Rendered>,
    data: &'a [u8],
    keys: Keys<'a>,
) -> AuditRecord<'a> {
    AuditRecord {
        code: rendered.map_or(&b""[..], |r| &r.dotted),
        data: if rendered.is_some() { b"" } else { data },
        ..AuditRecord::blank(Kind::Occurrence, system, keys)
    }
}

/// The `decision` and `scope` cells of an occurrence row: its own decision; or, for a cell that
/// is no code (it has no code row), the decision of its text for every occurrence, with the
/// scope `code`.
fn own_decision<'e>(e: &CodeEvent<'e>) -> (&'e [u8], &'static [u8]) {
    match (e.decision, e.code_decision, e.code) {
        (Some(d), _, _) => (d.as_bytes(), b""),
        (None, Some(d), None) => (d.as_bytes(), b"code"),
        _ => (b"", b""),
    }
}

/// The `reason` cell of an occurrence row: empty when its code row gives the same reason.
fn own_reason<'e>(announced: &FxHashMap<(System, Code), u64>, e: &CodeEvent<'e>) -> &'e [u8] {
    let reason = e.reason.unwrap_or("").as_bytes();
    match e.code.and_then(|code| announced.get(&(e.system, code))) {
        Some(&said) if said == reason_hash(reason) => b"",
        _ => reason,
    }
}

/// A reason's hash, as the code rows' reasons are remembered (64 bits: two reasons of one code
/// that collide are not met in practice).
fn reason_hash(reason: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(reason);
    h.write_usize(reason.len());
    h.finish()
}

/// An occurrence held until its claim ends; its buffers are kept for the next claims.
struct Held {
    row: u64,
    line: u64,
    lines: u64,
    column: Vec<u8>,
    system: System,
    original: Vec<u8>,
    statuses: Statuses,
    reason: Vec<u8>,
    written: Vec<u8>,
    leftover: Vec<u8>,
    rendered: Option<Rc<Rendered>>,
    data: usize,
    decision: Vec<u8>,
    code_scope: bool,
}

impl<S: AuditSink> Sink for Auditor<'_, S> {
    fn code(&mut self, e: &CodeEvent<'_>) -> Result<()> {
        if !e.statuses.audited() {
            return Ok(());
        }
        let data = self.data(e.system);
        self.leftover.clear();
        let target = e.system.gem_target();
        for (n, code) in e.leftover.iter().enumerate() {
            if n > 0 {
                self.leftover.push(b'+');
            }
            self.leftover
                .extend_from_slice(code.dotted(target).as_bytes());
        }
        if let Some(code) = e.code {
            self.rendered(e, code);
            self.announce(e, code, data)?;
        }
        if !self.keys.is_empty() {
            return self.hold(e, data);
        }
        // The fingerprint binds decisions to rows only where no key columns name the claim.
        let keyless = self.keys.is_empty();
        if keyless && self.last_fingerprint.0 != e.row {
            self.last_fingerprint = (e.row, self.fingerprint.of(&e.record));
        }
        let rendered = e
            .code
            .and_then(|code| self.rendered.get(&(e.system, code)))
            .map(|r| &**r);
        let (decision, scope) = own_decision(e);
        let record = AuditRecord {
            row: e.row,
            line: e.line,
            column: e.column.name.as_bytes(),
            original: e.original,
            statuses: e.statuses,
            reason: own_reason(&self.announced, e),
            written: e.written,
            leftover: &self.leftover,
            fingerprint: keyless.then_some(self.last_fingerprint.1),
            decision,
            scope,
            ..occurrence(
                e.system,
                rendered,
                self.data[data].as_deref().expect("made above"),
                Keys::of_claim(&e.record, &self.keys),
            )
        };
        self.rows += 1;
        self.textual += u64::from(e.code.is_none());
        self.sink.record(&record)
    }
}

/// Audit records as lines of the audit file, kept until the caller takes them (to write them
/// on another thread, say).
pub struct AuditCsv {
    pending: Vec<u8>,
    encoder: Encoder,
}

impl Default for AuditCsv {
    fn default() -> AuditCsv {
        AuditCsv {
            pending: Vec::new(),
            encoder: Encoder::new(b',', false),
        }
    }
}

impl AuditCsv {
    /// Move the lines made since the last call into `into` (cleared first), in order; `into`'s
    /// buffer is kept for the next ones.
    pub fn take(&mut self, into: &mut Vec<u8>) {
        into.clear();
        std::mem::swap(&mut self.pending, into);
    }

    /// The audit file's header line for claims keyed by `keys`.
    pub fn header<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> Vec<u8> {
        let mut out = Vec::new();
        self.encoder
            .record(&crate::audit::Layout::header(keys), &mut out);
        out
    }
}

impl AuditSink for AuditCsv {
    fn record(&mut self, record: &AuditRecord<'_>) -> Result<()> {
        record.encode(&self.encoder, &mut self.pending);
        Ok(())
    }
}
