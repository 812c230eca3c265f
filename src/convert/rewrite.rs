//! Rewriting one claim record: every ICD-9 code cell replaced by its ICD-10 translation or
//! visibly flagged, with an event for every code so that summaries and audits never miss one.
//!
//! The [`Rewriter`] works on one `csv::ByteRecord` at a time and reports each code it meets to a
//! [`Sink`]. Bytes outside code cells pass through untouched.

use rustc_hash::FxHashMap;

use crate::code::{Code, System};
use crate::codemap::FlatMap;
use crate::codeset::{BILLABLE_UNDER_SHOWN, CodeSet, Validity};
use crate::columns::{CodeColumn, Plan, Version, VersionSource};
use crate::crosswalk::Crosswalk;
use crate::csvout::Encoder;
use crate::decisions::{Choice, Decision, Decisions, Subject, occurrence_key};
use crate::error::{Error, Result};
use crate::event::{CodeEvent, Sink};
use crate::gem::Gem;
use crate::mapping::Mapping;
use crate::rows::{Fields, Rows};
use crate::status::{CellStatus, Statuses};

use crate::options::{Choose, Dots, Options, Unmapped};
use crate::zeros::{self, ZeroMode};

/// A rewritten field: its new content's range in [`Scratch::bytes`].
type Override = Option<(u32, u32)>;

/// Per-row working space, reused for every record so the hot path does not allocate.
#[derive(Default)]
struct Scratch {
    /// Per field: the replacement's range in `bytes`, if the cell is rewritten.
    overrides: Vec<Override>,
    bytes: Vec<u8>,
    /// The empty cells of the current group, left to right: (plan column, field index).
    free: Vec<(usize, usize)>,
    /// How many of `free` the current group has used.
    free_next: usize,
    flags: Vec<u8>,
    leftover: Vec<Code>,
    reason: String,
    /// Plan columns of the cells the current cell's cluster was placed into.
    placed: Vec<usize>,
    /// In a long layout: the further codes of the row's cluster, each to become a row (a range
    /// of `bytes`), and the flags entry of those rows.
    added: Vec<(u32, u32)>,
    added_flag: (u32, u32),
    added_column: usize,
    /// Row-level version fields met in this row: (field, a code was converted, a code stayed
    /// ICD-9).
    row_versions: Vec<(usize, bool, bool)>,
    /// Per plan column: its cell in this row read as an ICD-9 code, when it is one.
    icd9: Vec<Option<Code>>,
    /// The fields of `overrides` that are set, in order once the row is rewritten: encoding a
    /// row visits only them.
    touched: Vec<u32>,
}

impl Scratch {
    /// Make `value` the content of field `index`.
    fn set(&mut self, index: usize, value: &[u8]) {
        if index >= self.overrides.len() {
            self.overrides.resize(index + 1, None);
        }
        let start = self.bytes.len() as u32;
        self.bytes.extend_from_slice(value);
        self.put(index, (start, self.bytes.len() as u32));
    }

    /// Make `bytes[range]` the content of field `index` (within `overrides`).
    fn put(&mut self, index: usize, range: (u32, u32)) {
        if self.overrides[index].replace(range).is_none() {
            self.touched.push(index as u32);
        }
    }

    /// Note what became of a code under the row-level version field `field`.
    fn row_version(&mut self, field: usize, converted: bool, kept: bool) {
        match self.row_versions.iter_mut().find(|v| v.0 == field) {
            Some(v) => {
                v.1 |= converted;
                v.2 |= kept;
            }
            None => self.row_versions.push((field, converted, kept)),
        }
    }
}

/// What the rewriter needs of a code, computed once per distinct code and kept to 16 bytes so that
/// the per-cell look-up (a code of some 18,000, in any order) stays in the cache while the claim,
/// output and audit bytes stream past it.
#[derive(Clone, Copy)]
struct Resolved {
    /// The first code of the alternative to write, held here so that a one-code alternative
    /// (most are) needs no second look-up.
    first: Code,
    /// The codes of the alternative to write (the first, or as `--choose` says): `chosen_len`
    /// codes of `Rewriter::codes` from `chosen`.
    chosen: u32,
    chosen_len: u8,
    status: CellStatus,
    /// A code of that alternative is not billable in the built-in target code set.
    chosen_not_billable: bool,
    /// The audit's `reason` says something of the written alternative (a code that is not
    /// billable, the first alternative passed over): its text is in `Rewriter::notes`, where
    /// `Rewriter::note_spans` says.
    noted: bool,
}

const _: () = assert!(std::mem::size_of::<Resolved>() == 16);

impl Default for Resolved {
    fn default() -> Self {
        Resolved {
            first: Code::NONE,
            chosen: 0,
            chosen_len: 0,
            status: CellStatus::NotInCrosswalk,
            chosen_not_billable: false,
            noted: false,
        }
    }
}

impl Resolved {
    /// The chosen codes, of `codes` (`Rewriter::codes`) unless there is only one.
    fn chosen<'a>(&'a self, codes: &'a [Code]) -> &'a [Code] {
        match self.chosen_len {
            1 => std::slice::from_ref(&self.first),
            n => &codes[self.chosen as usize..self.chosen as usize + usize::from(n)],
        }
    }
}

/// Rewrites records by a [`Plan`] with a [`Crosswalk`].
pub struct Rewriter<'c> {
    crosswalk: &'c Crosswalk,
    plan: Plan,
    options: Options,
    source: String,
    // By system (`System::index`) and code.
    cache: [FlatMap<Code, Resolved>; 4],
    codes: Vec<Code>,
    notes: String,
    /// By system and code: where a resolved code's note is in `notes` (see [`Resolved::noted`]).
    note_spans: FxHashMap<(System, Code), (u32, u32)>,
    scratch: Scratch,
    decisions: Option<&'c Decisions>,
    decided: Decided,
    /// The header's width, where the flags column goes in rows of another width.
    width: Option<usize>,
    /// Per plan column judged to have lost its zeros: values met that start with 0 after all.
    zero_led: Vec<u64>,
    /// Whether a sink reads the reasons of cells that are no code (the audit and the page do);
    /// without one, the text (other readings, titles) is not made.
    reasons: bool,
}

/// The state of applying decisions.
#[derive(Default)]
struct Decided {
    /// Input columns holding the key values occurrence decisions name.
    key_columns: Vec<usize>,
    /// Per decision (in `Decisions::list` order): how many codes it decided.
    used: Vec<u64>,
    /// The occurrence key of the current cell.
    key: Vec<u8>,
    /// The current row's fingerprint, when decisions are bound to rows by it.
    fingerprint: u64,
    /// Per decision: bound to a row whose number now holds another row.
    moved: Vec<bool>,
}

/// The decision for `subject` in `column` of `input`, counted as used.
fn decide<'c>(
    decisions: &'c Decisions,
    state: &mut Decided,
    system: System,
    subject: &Subject,
    row: u64,
    column: &CodeColumn,
    input: Fields<'_>,
) -> Option<&'c Decision> {
    occurrence_key(&input, &state.key_columns, &mut state.key);
    if decisions.binds_rows()
        && let Some(moved) =
            decisions.moved_row(system, subject, row, state.fingerprint, &column.name)
    {
        state.moved[moved] = true;
    }
    let i = decisions.find(
        system,
        subject,
        row,
        &state.key,
        state.fingerprint,
        &column.name,
    )?;
    state.used[i] += 1;
    Some(&decisions.list()[i])
}

impl<'c> Rewriter<'c> {
    /// A rewriter for records of the file named `source` (used in error messages).
    pub fn new(crosswalk: &'c Crosswalk, plan: Plan, options: Options, source: String) -> Self {
        Rewriter {
            crosswalk,
            plan,
            options,
            source,
            cache: Default::default(),
            codes: Vec::new(),
            notes: String::new(),
            note_spans: FxHashMap::default(),
            scratch: Scratch::default(),
            decisions: None,
            decided: Decided::default(),
            width: None,
            zero_led: Vec::new(),
            reasons: true,
        }
    }

    /// Put the flags column after field `width` in every row, whatever its width (`--flexible`).
    pub fn with_width(mut self, width: usize) -> Self {
        self.width = Some(width);
        self
    }

    /// Apply `decisions` before anything else decides a code. `key_columns` are the input
    /// columns holding the values of [`Decisions::key_columns`], in that order.
    pub fn with_decisions(mut self, decisions: &'c Decisions, key_columns: Vec<usize>) -> Self {
        self.decided = Decided {
            key_columns,
            used: vec![0; decisions.len()],
            key: Vec::new(),
            fingerprint: 0,
            moved: vec![false; decisions.len()],
        };
        self.decisions = (!decisions.is_empty()).then_some(decisions);
        self
    }

    /// What the run learnt too late to act on: a column judged, on the rows read ahead, to have
    /// lost its leading zeros that later holds values starting with 0.
    pub fn warnings(&self) -> Vec<String> {
        self.zero_led
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(m, n)| {
                format!(
                    "warning: {} was judged on the rows read ahead to have lost its leading zeros, \
                     but {n} later values start with 0: its possible_lost_zero flags may be wrong",
                    self.plan.columns[m].name
                )
            })
            .collect()
    }

    /// Per decision (in [`Decisions::list`] order): how many codes it decided so far.
    pub fn decisions_used(&self) -> &[u64] {
        &self.decided.used
    }

    /// Per decision (in [`Decisions::list`] order): bound to a row whose number now holds
    /// another row.
    pub fn decisions_moved(&self) -> &[bool] {
        &self.decided.moved
    }

    /// A rewriter like this one for a converting thread of its own: the same plan, options and
    /// decisions, fresh caches and counts ([`Rewriter::absorb`] adds them back).
    pub fn fork(&self) -> Rewriter<'c> {
        Rewriter {
            crosswalk: self.crosswalk,
            plan: self.plan.clone(),
            options: self.options,
            source: self.source.clone(),
            cache: Default::default(),
            codes: Vec::new(),
            notes: String::new(),
            note_spans: FxHashMap::default(),
            scratch: Scratch::default(),
            decisions: self.decisions,
            decided: Decided {
                key_columns: self.decided.key_columns.clone(),
                used: vec![0; self.decided.used.len()],
                key: Vec::new(),
                fingerprint: 0,
                moved: vec![false; self.decided.moved.len()],
            },
            width: self.width,
            zero_led: vec![0; self.zero_led.len()],
            reasons: self.reasons,
        }
    }

    /// Add the counts of a [`Rewriter::fork`] of this one: decisions used and moved, zero-led
    /// values met.
    pub fn absorb(&mut self, fork: &Rewriter<'_>) {
        for (mine, theirs) in self.decided.used.iter_mut().zip(&fork.decided.used) {
            *mine += theirs;
        }
        for (mine, theirs) in self.decided.moved.iter_mut().zip(&fork.decided.moved) {
            *mine |= theirs;
        }
        if self.zero_led.len() < fork.zero_led.len() {
            self.zero_led.resize(fork.zero_led.len(), 0);
        }
        for (mine, theirs) in self.zero_led.iter_mut().zip(&fork.zero_led) {
            *mine += theirs;
        }
    }

    /// Say whether any sink reads the reasons of cells that are no code (default: yes). Without
    /// one, such cells are judged the same but their reason text is not made.
    pub fn set_reasons(&mut self, wanted: bool) {
        self.reasons = wanted;
    }

    /// The column plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Rewrite `input` into `output` (cleared first) and report every code to `sink`.
    /// `extra_flag` is a row-level flags entry (a ragged row) to put first in the flags column.
    pub fn rewrite(
        &mut self,
        row: u64,
        line: u64,
        input: &csv::ByteRecord,
        output: &mut csv::ByteRecord,
        extra_flag: Option<&[u8]>,
        sink: &mut dyn Sink,
    ) -> Result<()> {
        output.clear();
        let input = Rows::of_record(input);
        for field in self.rewrite_fields(row, line, input.get(0), extra_flag, sink)? {
            output.push_field(field);
        }
        Ok(())
    }

    /// As [`Rewriter::rewrite`], but return the output fields (input fields, rewritten cells and
    /// the flags column) without copying them into a record: a CSV writer can take them directly.
    pub fn rewrite_fields<'a>(
        &'a mut self,
        row: u64,
        line: u64,
        input: Fields<'a>,
        extra_flag: Option<&[u8]>,
        sink: &mut dyn Sink,
    ) -> Result<impl Iterator<Item = &'a [u8]> + 'a> {
        self.rewrite_row(row, line, input, extra_flag, sink)?;
        let flags = self.options.flags_column.then_some(&self.scratch.flags[..]);
        Ok(self.fields(input, flags, None))
    }

    /// Rewrite `input` and report every code to `sink`, keeping the result for
    /// [`Rewriter::encode_row`] (and [`Rewriter::encode_added`]) to write.
    pub fn rewrite_row(
        &mut self,
        row: u64,
        line: u64,
        input: Fields<'_>,
        extra_flag: Option<&[u8]>,
        sink: &mut dyn Sink,
    ) -> Result<()> {
        let s = &mut self.scratch;
        s.overrides.clear();
        s.overrides
            .resize(input.len().max(self.width.unwrap_or(0)), None);
        s.touched.clear();
        s.bytes.clear();
        s.flags.clear();
        s.added.clear();
        s.row_versions.clear();
        if self.decisions.is_some_and(Decisions::binds_rows) {
            self.decided.fingerprint = self.plan.fingerprint.of(&input);
        }
        if let Some(flag) = extra_flag {
            s.flags.extend_from_slice(flag);
        }
        // Read the row's cells as ICD-9 codes, as most are, and fetch their cache slots
        // together (see `FlatMap`); `cell` takes the codes read here.
        s.icd9.clear();
        for column in &self.plan.columns {
            let system = column.kind.system(Version::Icd9);
            let code = input
                .get(column.index)
                .and_then(|cell| Code::parse(system, cell).ok());
            if let Some(code) = &code {
                self.cache[system.index()].prefetch(code);
            }
            s.icd9.push(code);
        }
        for g in 0..self.plan.groups.len() {
            let members = &self.plan.groups[g].members;
            self.scratch.free.clear();
            self.scratch.free_next = 0;
            for &m in members {
                let index = self.plan.columns[m].index;
                if input.get(index).is_some_and(|f| f.trim_ascii().is_empty()) {
                    self.scratch.free.push((m, index));
                }
            }
            for k in 0..self.plan.groups[g].members.len() {
                let m = self.plan.groups[g].members[k];
                let index = self.plan.columns[m].index;
                match input.get(index) {
                    Some(cell) if !cell.trim_ascii().is_empty() => {
                        self.cell(row, line, m, input, sink)?;
                    }
                    _ => {}
                }
            }
        }
        self.row_level_versions(input);
        self.scratch.touched.sort_unstable();
        Ok(())
    }

    /// Append the row just rewritten from `input` to `out`, encoded. When `input` is a line
    /// without quotes (see [`Fields::raw`]), the fields left as they were are copied from it,
    /// runs of them at a time, and only the rewritten ones encoded.
    pub fn encode_row(&self, input: Fields<'_>, encoder: &Encoder, out: &mut Vec<u8>) {
        let flags = self.options.flags_column.then_some(&self.scratch.flags[..]);
        self.encode(input, flags, None, encoder, out);
    }

    /// Append the `k`-th row added after the row just rewritten from `input` (see
    /// [`Rewriter::added_fields`]) to `out`, encoded as [`Rewriter::encode_row`] does.
    pub fn encode_added(&self, k: usize, input: Fields<'_>, encoder: &Encoder, out: &mut Vec<u8>) {
        let (flags, code) = self.added(k);
        self.encode(input, flags, Some(code), encoder, out);
    }

    fn encode(
        &self,
        input: Fields<'_>,
        flags: Option<&[u8]>,
        code: Option<(usize, &[u8])>,
        encoder: &Encoder,
        out: &mut Vec<u8>,
    ) {
        let s = &self.scratch;
        let width = self.width.unwrap_or(input.len());
        // An added row's code replaces a cell the row's cluster was placed in: one of `touched`.
        let copy = input.raw().is_some()
            && input.len() == width
            && s.overrides.len() <= width
            && code.is_none_or(|(at, _)| s.touched.contains(&(at as u32)));
        if !copy {
            encoder.record(self.fields(input, flags, code), out);
            return;
        }
        let delimiter = encoder.delimiter();
        let start = out.len();
        let span = |a: usize, b: usize| input.raw_span(a, b);
        let mut next = 0;
        for &i in &s.touched {
            let i = i as usize;
            let value = match (code, s.overrides[i]) {
                (Some((at, value)), _) if at == i => value,
                (_, Some((a, b))) => &s.bytes[a as usize..b as usize],
                (_, None) => unreachable!("a touched field is set"),
            };
            if next < i {
                out.extend_from_slice(span(next, i));
                out.push(delimiter);
            }
            encoder.field(value, out);
            if i + 1 < width {
                out.push(delimiter);
            }
            next = i + 1;
        }
        if next < width {
            out.extend_from_slice(span(next, width));
        }
        if let Some(flags) = flags {
            out.push(delimiter);
            encoder.field(flags, out);
        }
        encoder.end(start, out);
    }

    /// The output fields of the row just rewritten: `input` with the rewritten cells, then
    /// `flags`; `code` replaces the (one) code cell, for a row added in a long layout. With
    /// the flags column, a row of another width than the header's (`--flexible`) is padded or
    /// cut at the header's width, so that the flags are always at the header's position, and
    /// its extra fields follow them.
    fn fields<'a>(
        &'a self,
        input: Fields<'a>,
        flags: Option<&'a [u8]>,
        code: Option<(usize, &'a [u8])>,
    ) -> impl Iterator<Item = &'a [u8]> + 'a {
        let s = &self.scratch;
        let width = self.width.unwrap_or(input.len());
        // Fields past a short row's end read as empty (a version or companion set there is
        // written: the row is padded to the header's width).
        let total = input.len().max(width).max(s.overrides.len());
        let field = move |i: usize| -> &'a [u8] {
            match (code, s.overrides.get(i)) {
                (Some((at, value)), _) if at == i => value,
                (_, Some(Some((a, b)))) => &s.bytes[*a as usize..*b as usize],
                _ => input.get(i).unwrap_or(b""),
            }
        };
        let at = if flags.is_some() { width } else { total };
        (0..at)
            .map(field)
            .chain(flags)
            .chain((at..total).map(field))
    }

    /// Rows to add after the row just rewritten (long layouts): one per further code of its
    /// cluster.
    pub fn added_rows(&self) -> usize {
        self.scratch.added.len()
    }

    /// The output fields of the `k`-th row added after the row just rewritten from `input`: a
    /// copy of it with the code (and its version) replaced, marked `added` in the flags.
    pub fn added_fields<'a>(
        &'a self,
        k: usize,
        input: Fields<'a>,
    ) -> impl Iterator<Item = &'a [u8]> + 'a {
        let (flags, code) = self.added(k);
        self.fields(input, flags, Some(code))
    }

    /// The flags and the code cell (field index and content) of the `k`-th added row.
    fn added(&self, k: usize) -> (Option<&[u8]>, (usize, &[u8])) {
        let s = &self.scratch;
        let (a, b) = s.added[k];
        let code = &s.bytes[a as usize..b as usize];
        let index = self.plan.columns[s.added_column].index;
        let flags = self
            .options
            .flags_column
            .then_some(&s.bytes[s.added_flag.0 as usize..s.added_flag.1 as usize]);
        (flags, (index, code))
    }

    /// Set each row-level version field to ICD-10 when every code it governs was converted;
    /// when some stayed ICD-9, keep it and say so in the flags.
    fn row_level_versions(&mut self, input: Fields<'_>) {
        for k in 0..self.scratch.row_versions.len() {
            let (field, converted, kept) = self.scratch.row_versions[k];
            if kept {
                if !self.options.flags_column {
                    continue;
                }
                let s = &mut self.scratch;
                if !s.flags.is_empty() {
                    s.flags.push(b';');
                }
                let name = self
                    .plan
                    .version_names
                    .iter()
                    .find(|(i, _)| *i == field)
                    .map_or("(version)", |(_, n)| n.as_str());
                s.flags.extend_from_slice(name.as_bytes());
                s.flags.extend_from_slice(b":version_kept:");
                s.flags
                    .extend_from_slice(input.get(field).unwrap_or(b"").trim_ascii());
            } else if converted {
                let (_, value) = VersionSource::Row(field)
                    .icd10_field()
                    .expect("a row-level field");
                self.scratch.set(field, value);
            }
        }
    }

    /// Handle one non-empty code cell: column `m` of the plan. Classify it, place what is
    /// written, flag it, and report it.
    fn cell(
        &mut self,
        row: u64,
        line: u64,
        m: usize,
        input: Fields<'_>,
        sink: &mut dyn Sink,
    ) -> Result<()> {
        let column = &self.plan.columns[m];
        let index = column.index;
        let original = input.get(index).unwrap_or_default();
        let version = column.version.version(&input);
        let system = column
            .kind
            .system(*version.as_ref().unwrap_or(&Version::Icd9));
        self.scratch.reason.clear();
        self.scratch.leftover.clear();
        let dotted = match self.options.dots {
            Dots::AsInput => original.contains(&b'.'),
            Dots::Dotted => true,
            Dots::Undotted => false,
        };
        if self.plan.columns[m].zeros == ZeroMode::Suspect
            && original.trim_ascii().first() == Some(&b'0')
        {
            self.zero_led.resize(self.plan.columns.len(), 0);
            self.zero_led[m] += 1;
        }
        let (restored, lost_zero) = self.zeros(m, system, original, &version);
        let parsed = match &version {
            Err(problem) => {
                self.scratch.reason.push_str(&problem.message);
                None
            }
            Ok(_) if restored.is_some() => restored,
            Ok(_)
                if system == column.kind.system(Version::Icd9)
                    && self.scratch.icd9[m].is_some() =>
            {
                self.scratch.icd9[m]
            }
            Ok(_) => self.parse(system, original),
        };
        let icd10 = matches!(version, Ok(Version::Icd10));
        let verdict = self.judge(row, line, m, input, system, parsed, icd10)?;

        let (status, not_billable, converted) = self.place(&verdict, m, input, system, dotted);
        let s = &mut self.scratch;
        if let (VersionSource::Row(field), Ok(Version::Icd9)) =
            (&self.plan.columns[m].version, &version)
        {
            // A cell blanked by --unmapped holds no code any more.
            let blank = matches!(s.overrides[index], Some((a, b)) if a == b);
            s.row_version(*field, converted, !converted && !blank);
        }
        let mut statuses = Statuses::one(status);
        let accepted = verdict.decided.is_some_and(|d| d.choice == Choice::Accept);
        if !s.leftover.is_empty() && !accepted {
            statuses.add_problem(CellStatus::Overflow);
        }
        if not_billable {
            statuses.add_problem(CellStatus::NotBillable);
        }
        if restored.is_some() {
            statuses.add_problem(CellStatus::ZeroRestored);
            push_note(&mut s.reason, "a leading zero restored (--restore-zeros)");
        }
        if let Some(other) = lost_zero {
            statuses.add_problem(CellStatus::PossibleLostZero);
            let title = self.crosswalk.title(system, &other).unwrap_or_default();
            push_note(
                &mut s.reason,
                &format!(
                    "also reads as {} ({title}) if a leading zero was lost",
                    other.dotted(system)
                ),
            );
        }
        let column = &self.plan.columns[m];
        if statuses.flagged() && self.options.flags_column {
            s.flag(&column.name, statuses, original, written_in(system), dotted);
        }
        let written: &[u8] = match s.overrides[index] {
            Some((a, b)) => &s.bytes[a as usize..b as usize],
            None => original,
        };
        let reason = (!s.reason.is_empty()).then_some(s.reason.as_str());
        sink.code(&CodeEvent {
            row,
            line,
            column,
            system,
            original,
            code: parsed,
            statuses,
            reason,
            gem: verdict.gem,
            written,
            leftover: &s.leftover,
            record: input,
            decision: verdict.decided.filter(|d| !d.for_code()).map(|d| &*d.value),
            code_decision: match verdict.decided {
                Some(d) if d.for_code() => Some(&*d.value),
                Some(d) => self
                    .decisions
                    .and_then(|all| all.for_code(d.system, &d.subject))
                    .map(|c| &*c.value),
                None => None,
            },
        })
    }

    /// Write what `verdict` says into cell `index` (a `system` code): the decided or chosen
    /// codes, or what `--unmapped` asks for. Returns the cell's outcome and whether the
    /// alternative written is not billable.
    fn place(
        &mut self,
        verdict: &Verdict<'c>,
        m: usize,
        input: Fields<'_>,
        system: System,
        dotted: bool,
    ) -> (CellStatus, bool, bool) {
        let index = self.plan.columns[m].index;
        let mut status = verdict.status;
        let s = &mut self.scratch;
        let mut not_billable = verdict.not_billable && verdict.decided.is_none();
        let mut converted = false;
        let to_write: Option<&[Code]> = match verdict.decided {
            Some(d) => {
                status = if d.outside_gem {
                    CellStatus::DecidedOutsideGem
                } else {
                    CellStatus::Decided
                };
                match &d.choice {
                    Choice::Codes(codes) => Some(codes),
                    // What the run writes anyway, with its overflow accepted.
                    Choice::Accept => verdict.resolved.as_ref().map(|r| r.chosen(&self.codes)),
                    Choice::Keep | Choice::Blank => None,
                }
            }
            None => verdict
                .resolved
                .as_ref()
                .filter(|_| verdict.chosen)
                .map(|r| r.chosen(&self.codes)),
        };
        let undecided = verdict.resolved.filter(|_| verdict.decided.is_none());
        if let Some(codes) = to_write {
            s.placed.clear();
            s.place(index, codes, written_in(system), dotted, self.plan.long);
            converted = true;
            travel(&self.plan, s, m, m, input);
            for k in 0..s.placed.len() {
                travel(&self.plan, s, m, s.placed[k], input);
            }
            if !s.added.is_empty() {
                s.added_column = m;
                let start = s.bytes.len() as u32;
                s.bytes
                    .extend_from_slice(self.plan.columns[m].name.as_bytes());
                s.bytes.extend_from_slice(b":added:");
                s.bytes
                    .extend_from_slice(input.get(index).unwrap_or_default().trim_ascii());
                s.added_flag = (start, s.bytes.len() as u32);
            }
            if let Some(r) = undecided {
                not_billable = r.chosen_not_billable;
                s.reason.push_str(&self.notes[verdict.note.clone()]);
            }
        } else if verdict.decided.is_some_and(|d| d.choice == Choice::Blank)
            || (verdict.decided.is_none()
                && status.needs_review()
                && status != CellStatus::Ambiguous
                && system.is_icd9()
                && self.options.unmapped == Unmapped::Blank)
        {
            // What described the code goes with it.
            s.set(index, b"");
            for companion in &self.plan.columns[m].companions {
                s.set(companion.index, b"");
            }
        }
        // Nothing was written from the table; its note says why (a subdivided category, …).
        if let Some(r) = undecided
            && r.status == CellStatus::NotInCrosswalk
        {
            s.reason.push_str(&self.notes[verdict.note.clone()]);
        }

        (status, not_billable, converted)
    }

    /// What lost leading zeros do to a cell of plan column `m` read as a `system` code: the
    /// code with its zero restored (`--restore-zeros`, when only that reading is a code), or the
    /// other reading of a code that is one both ways, in a column that may have lost its zeros.
    fn zeros(
        &self,
        m: usize,
        system: System,
        original: &[u8],
        version: &std::result::Result<Version, crate::columns::VersionProblem>,
    ) -> (Option<Code>, Option<Code>) {
        let mode = self.plan.columns[m].zeros;
        if mode == ZeroMode::Trusted || *version != Ok(Version::Icd9) {
            return (None, None);
        }
        let first_zero = original.trim_ascii().first() == Some(&b'0');
        if first_zero {
            return (None, None);
        }
        let padded = zeros::padded(self.crosswalk, system, original);
        match zeros::is_source(self.crosswalk, system, original.trim_ascii()) {
            true => (None, padded),
            false if mode == ZeroMode::Restore => (padded, None),
            false => (None, None),
        }
    }

    /// Parse a cell as a `system` code; when it is none, say why in the reason.
    fn parse(&mut self, system: System, original: &[u8]) -> Option<Code> {
        match Code::parse(system, original) {
            Ok(code) => Some(code),
            Err(_) if !self.reasons => None,
            Err(e) => {
                use std::fmt::Write;
                let _ = write!(self.scratch.reason, "{e}");
                let (before, after) = zero_readings(self.crosswalk, system, original);
                if let Some(reading) = before {
                    push_note(&mut self.scratch.reason, &reading);
                }
                column_hint(self.crosswalk, system, original, &mut self.scratch.reason);
                if let Some(reading) = after {
                    push_note(&mut self.scratch.reason, &reading);
                }
                None
            }
        }
    }

    /// What becomes of a cell: its status from the crosswalk (once per distinct code), the
    /// decision that applies, and whether the alternative `--choose` picks is written.
    #[allow(clippy::too_many_arguments)]
    fn judge(
        &mut self,
        row: u64,
        line: u64,
        m: usize,
        input: Fields<'_>,
        system: System,
        parsed: Option<Code>,
        icd10: bool,
    ) -> Result<Verdict<'c>> {
        let index = self.plan.columns[m].index;
        let Some(code) = parsed else {
            let subject = Subject::text(input.get(index).unwrap_or_default());
            let decided = self.decisions.and_then(|d| {
                let column = &self.plan.columns[m];
                decide(d, &mut self.decided, system, &subject, row, column, input)
            });
            return Ok(Verdict::new(CellStatus::Malformed, decided));
        };
        if icd10 {
            // An ICD-10 code is left as it is, but never called valid unless it is.
            let set = self.crosswalk.code_set(system);
            let validity = set.validity(&code);
            not_billable_reason(&[code], set, system, &mut self.scratch.reason);
            // One that is not can be decided (replaced by a billable code, kept or blanked).
            let decided = match validity {
                Validity::Billable => None,
                Validity::Header | Validity::NotInCodeSet => self.decisions.and_then(|d| {
                    let column = &self.plan.columns[m];
                    let subject = Subject::Code(code);
                    decide(d, &mut self.decided, system, &subject, row, column, input)
                }),
            };
            return Ok(match validity {
                Validity::Billable => Verdict::new(CellStatus::PassedThrough, None),
                Validity::Header => Verdict {
                    not_billable: true,
                    ..Verdict::new(CellStatus::PassedThrough, decided)
                },
                Validity::NotInCodeSet => {
                    push_note(
                        &mut self.scratch.reason,
                        "deleted since it was coded, or never valid (--code-set-year YYYY judges \
                         it by another year's code set)",
                    );
                    Verdict::new(CellStatus::Malformed, decided)
                }
            });
        }
        let table = self.crosswalk.gem(system)?;
        let r = self.resolved(system, code, table);
        let decided = self.decisions.and_then(|d| {
            let column = &self.plan.columns[m];
            let subject = Subject::Code(code);
            decide(d, &mut self.decided, system, &subject, row, column, input)
        });
        let column = &self.plan.columns[m];
        let chosen = match r.status {
            _ if decided.is_some() => false,
            CellStatus::Exact | CellStatus::Approximate | CellStatus::Combination => true,
            CellStatus::Ambiguous => match self.options.choose {
                Choose::First | Choose::FirstBillable => true,
                Choose::Keep => false,
                Choose::Fail => {
                    return Err(ambiguous_error(
                        &self.source,
                        line,
                        row,
                        &column.name,
                        system,
                        code,
                        &table
                            .mapping(&code)
                            .expect("an ambiguous code has a mapping"),
                    ));
                }
            },
            _ => false,
        };
        Ok(Verdict {
            status: r.status,
            not_billable: false,
            chosen,
            resolved: Some(r),
            note: match r.noted {
                true => {
                    let (a, b) = self.note_spans[&(system, code)];
                    a as usize..b as usize
                }
                false => 0..0,
            },
            gem: Some(table),
            decided,
        })
    }

    /// What the rewriter keeps of `code`'s mapping, from the cache or resolved now.
    fn resolved(&mut self, system: System, code: Code, table: &Gem) -> Resolved {
        if let Some(r) = self.cache[system.index()].get(&code) {
            return *r;
        }
        let note_start = self.notes.len() as u32;
        let r = resolve(
            table.mapping(&code),
            code,
            system,
            &mut self.codes,
            &mut self.notes,
            self.crosswalk,
            self.options.choose == Choose::FirstBillable,
        );
        if r.noted {
            let span = (note_start, self.notes.len() as u32);
            self.note_spans.insert((system, code), span);
        }
        self.cache[system.index()].insert(code, r);
        r
    }
}

/// What [`Rewriter::judge`] found for a cell.
struct Verdict<'c> {
    status: CellStatus,
    /// A code passed through is not billable in its code set.
    not_billable: bool,
    /// The alternative `--choose` picks is written.
    chosen: bool,
    resolved: Option<Resolved>,
    /// Where the resolved code's note is in `Rewriter::notes` (empty when it has none).
    note: std::ops::Range<usize>,
    gem: Option<&'c Gem>,
    decided: Option<&'c Decision>,
}

impl<'c> Verdict<'c> {
    fn new(status: CellStatus, decided: Option<&'c Decision>) -> Verdict<'c> {
        Verdict {
            status,
            not_billable: false,
            chosen: false,
            resolved: None,
            note: 0..0,
            gem: None,
            decided,
        }
    }
}

impl Scratch {
    /// Write `codes` (of `target`): the first in the cell at `index`, the others in the group's
    /// next empty cells, left to right; what finds no cell is left over.
    /// The plan columns of the cells used are noted in `placed`; in a long layout (`long`),
    /// what finds no cell becomes an added row instead.
    fn place(&mut self, index: usize, codes: &[Code], target: System, dotted: bool, long: bool) {
        for (k, code) in codes.iter().enumerate() {
            let cell = if k == 0 {
                Some(index)
            } else if self.free_next < self.free.len() {
                self.free_next += 1;
                let (m, cell) = self.free[self.free_next - 1];
                self.placed.push(m);
                Some(cell)
            } else {
                None
            };
            let start = self.bytes.len() as u32;
            match cell {
                Some(cell) => {
                    code.write_spelled(target, dotted, &mut self.bytes);
                    self.put(cell, (start, self.bytes.len() as u32));
                }
                None if long => {
                    code.write_spelled(target, dotted, &mut self.bytes);
                    self.added.push((start, self.bytes.len() as u32));
                }
                None => self.leftover.push(*code),
            }
        }
    }

    /// Add `COLUMN:STATUSES:ORIGINAL[:LEFTOVER]` to the row's flags.
    fn flag(
        &mut self,
        column: &str,
        statuses: Statuses,
        original: &[u8],
        target: System,
        dotted: bool,
    ) {
        if !self.flags.is_empty() {
            self.flags.push(b';');
        }
        self.flags.extend_from_slice(column.as_bytes());
        self.flags.push(b':');
        statuses.write_label(&mut self.flags);
        self.flags.push(b':');
        self.flags.extend_from_slice(original.trim_ascii());
        if !self.leftover.is_empty() {
            self.flags.push(b':');
            for (k, code) in self.leftover.iter().enumerate() {
                if k > 0 {
                    self.flags.push(b'+');
                }
                code.write_spelled(target, dotted, &mut self.flags);
            }
        }
    }
}

/// The system codes of `system` are written in: ICD-10 for ICD-9 codes, converted; their own for
/// ICD-10 codes, which are only ever replaced by a decision.
fn written_in(system: System) -> System {
    if system.is_icd9() {
        system.gem_target()
    } else {
        system
    }
}

/// What describes a code travels with it: the cell of plan column `to`, now holding an ICD-10
/// code placed from column `from` (the same column for the code's own cell), gets its version
/// field set to ICD-10 and, when it is another cell, the source's companion values (POA, date).
fn travel(plan: &Plan, s: &mut Scratch, from: usize, to: usize, input: Fields<'_>) {
    let column = &plan.columns[to];
    match column.version {
        VersionSource::PerCode(_) => {
            let (field, value) = column.version.icd10_field().expect("a per-code field");
            s.set(field, value);
        }
        VersionSource::Row(field) => s.row_version(field, true, false),
        VersionSource::Date(_) | VersionSource::Icd9 => {}
    }
    if from == to {
        return;
    }
    for companion in &column.companions {
        if let Some(source) = plan.columns[from]
            .companions
            .iter()
            .find(|c| c.role == companion.role)
        {
            s.set(companion.index, input.get(source.index).unwrap_or(b""));
        }
    }
}

/// Reduce the mapping of `code` (of `system`) to what the per-cell path needs (sinks recompute it
/// on demand), with its audit note written once into `notes`. With `prefer_billable`, the
/// alternative to write is the first whose codes are all billable, when there is one.
fn resolve(
    mapping: Option<Mapping>,
    code: Code,
    system: System,
    codes: &mut Vec<Code>,
    notes: &mut String,
    crosswalk: &Crosswalk,
    prefer_billable: bool,
) -> Resolved {
    let note_start = notes.len() as u32;
    let Some(mapping) = mapping else {
        not_in_crosswalk_note(crosswalk, system, code, notes);
        return Resolved {
            first: Code::NONE,
            status: CellStatus::NotInCrosswalk,
            chosen: 0,
            chosen_len: 0,
            chosen_not_billable: false,
            noted: notes.len() as u32 > note_start,
        };
    };
    let target = system.gem_target();
    let targets = crosswalk.code_set(target);
    let billable = |a: &crate::mapping::Alternative| {
        a.codes
            .iter()
            .all(|t| targets.validity(&t.code) == Validity::Billable)
    };
    let index = if prefer_billable {
        mapping.alternatives.iter().position(billable).unwrap_or(0)
    } else {
        0
    };
    let start = codes.len() as u32;
    if let Some(chosen) = mapping.alternatives.get(index) {
        codes.extend(chosen.codes.iter().map(|t| t.code));
    }
    let chosen_not_billable = not_billable_reason(&codes[start as usize..], targets, target, notes);
    if index > 0 {
        if notes.len() as u32 > note_start {
            notes.push_str("; ");
        }
        notes.push_str("the first alternative is not billable in ");
        notes.push_str(targets.release());
        notes.push_str("; the first billable one was written (--choose first-billable)");
    }
    Resolved {
        first: codes.get(start as usize).copied().unwrap_or(Code::NONE),
        status: CellStatus::from_lookup(mapping.status),
        chosen_not_billable,
        chosen: start,
        chosen_len: u8::try_from(codes.len() - start as usize)
            .expect("an alternative has a handful of codes"),
        noted: notes.len() as u32 > note_start,
    }
}

/// Append what a reviewer needs to know of a well-formed code that is not a source of the table:
/// a category that was subdivided (codes valid when the claim was coded, such as 041.4 before
/// FY2013) with the codes under it, or a code of no release, perhaps of the other ICD-9 system.
fn not_in_crosswalk_note(crosswalk: &Crosswalk, system: System, code: Code, out: &mut String) {
    use std::fmt::Write;
    let set = crosswalk.code_set(system);
    let dotted = code.dotted(system);
    let validity = set.validity(&code);
    let (before, after) = match validity {
        Validity::Billable => (None, None),
        _ => zero_readings(crosswalk, system, code.as_bytes()),
    };
    if let Some(reading) = before {
        let _ = write!(out, "{reading}; as written, ");
    }
    match validity {
        Validity::Header => {
            let _ = write!(
                out,
                "{dotted} is a category that needs more characters in {}",
                set.release()
            );
            if let Some(codes) = set.billable_under_text(&code, system, BILLABLE_UNDER_SHOWN) {
                let _ = write!(out, ": {codes}");
            }
        }
        Validity::NotInCodeSet => {
            let _ = write!(
                out,
                "{dotted} is not an {} code in {}",
                system.label(),
                set.release()
            );
        }
        // A valid code the table has no row for (user tables may be partial).
        Validity::Billable => return,
    }
    column_hint(crosswalk, system, code.as_bytes(), out);
    if let Some(reading) = after {
        let _ = write!(out, "; {reading}");
    }
}

/// How a cell that is no code (or no source code) reads with a leading zero restored, placed
/// before the other hints or after them: the likelier reading comes first. `389` is 038.9 that
/// lost its zero more often than a category; but a procedure column's `650` is a diagnosis code
/// (DE-SynPUF procedure columns hold many) more often than 06.50.
fn zero_readings(
    crosswalk: &Crosswalk,
    system: System,
    text: &[u8],
) -> (Option<String>, Option<String>) {
    let Some(reading) = zeros::padded_reading(crosswalk, system, text) else {
        return (None, None);
    };
    let reading = format!("{reading}; was it lost in a spreadsheet?");
    match system == System::Icd9Proc && zeros::other_system_code(crosswalk, system, text) {
        true => (None, Some(reading)),
        false => (Some(reading), None),
    }
}

/// Append `note` to `out`, after a `; ` when `out` has something already.
fn push_note(out: &mut String, note: &str) {
    if !out.is_empty() {
        out.push_str("; ");
    }
    out.push_str(note);
}

/// For a cell that is no code of its column's ICD-9 system but one of the other: say so.
fn column_hint(crosswalk: &Crosswalk, system: System, text: &[u8], out: &mut String) {
    match crosswalk.other_icd9_reading(system, text, out) {
        Some(System::Icd9Dx) => out.push_str(": a diagnosis in a procedure column?"),
        Some(_) => out.push_str(": a procedure in a diagnosis column?"),
        None => {}
    }
}

/// Append why the first of `codes` that is not billable in `targets` is not, and say whether there
/// was one (nothing is appended when all are billable).
fn not_billable_reason(
    codes: &[Code],
    targets: &CodeSet,
    target: System,
    out: &mut String,
) -> bool {
    use std::fmt::Write;
    let Some((code, validity)) = codes
        .iter()
        .map(|c| (c, targets.validity(c)))
        .find(|(_, v)| *v != Validity::Billable)
    else {
        return false;
    };
    let what = match validity {
        Validity::Header => "a header (not billable) in",
        _ => "not in",
    };
    let _ = write!(
        out,
        "{} is {what} {}",
        code.dotted(target),
        targets.release()
    );
    // What the header has become: the codes a reviewer picks from.
    if let Some(codes) = targets.billable_under_text(code, target, BILLABLE_UNDER_SHOWN) {
        let _ = write!(out, "; billable codes under it: {codes}");
    }
    true
}

fn ambiguous_error(
    source: &str,
    line: u64,
    row: u64,
    column: &str,
    system: System,
    code: Code,
    mapping: &Mapping,
) -> Error {
    let target = system.gem_target();
    let alternatives: Vec<String> = mapping
        .alternatives
        .iter()
        .map(|a| a.spelled(target))
        .collect();
    Error::parse(
        source,
        line,
        format!(
            "row {row}, column {column}: {} {} is ambiguous ({}); --choose fail stops at the \
             first ambiguous code",
            system.label(),
            code.dotted(system),
            alternatives.join(" | ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::ColumnOptions;
    use crate::event::OwnedEvent;

    fn run(header: &str, row: &str, options: Options) -> (Vec<String>, Vec<OwnedEvent>) {
        let cw = Crosswalk::builtin();
        let h = csv::ByteRecord::from(header.split(',').collect::<Vec<_>>());
        let plan = Plan::new(Some(&h), h.len(), &ColumnOptions::default()).unwrap();
        let mut rewriter = Rewriter::new(&cw, plan, options, "test.csv".into());
        let input = csv::ByteRecord::from(row.split(',').collect::<Vec<_>>());
        let mut output = csv::ByteRecord::new();
        let mut events = Vec::new();
        rewriter
            .rewrite(1, 2, &input, &mut output, None, &mut events)
            .unwrap();
        let out = output
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        (out, events)
    }

    /// The codes a part of a file counts as needing review are counted into the whole file's
    /// summary whether or not the part's texts were taken after its last chunk.
    #[test]
    fn a_parts_codes_count_whether_or_not_its_texts_were_taken() {
        use crate::summary::Summary;
        let cw = Crosswalk::builtin();
        let h = csv::ByteRecord::from(vec!["CLM_ID", "ICD9_DGNS_CD_1", "ICD9_DGNS_CD_2"]);
        let plan = Plan::new(Some(&h), h.len(), &ColumnOptions::default()).unwrap();
        let counted = |take: bool| {
            let mut rewriter =
                Rewriter::new(&cw, plan.clone(), Options::default(), "test.csv".into());
            let mut part = Summary::part();
            // An ambiguous code and a malformed text: both need review.
            let input = csv::ByteRecord::from(vec!["1", "99681", "xyz"]);
            let mut output = csv::ByteRecord::new();
            rewriter
                .rewrite(1, 2, &input, &mut output, None, &mut part)
                .unwrap();
            let mut texts = Vec::new();
            if take {
                part.take_texts(&mut texts);
            }
            let mut whole = Summary::default();
            whole.count_texts(&texts);
            whole.absorb(&part);
            whole.review_codes()
        };
        assert_eq!(counted(true), 2);
        // The text is the part's to hand over in input order; the code is counted anyway.
        assert_eq!(counted(false), 1);
    }

    fn flagged() -> Options {
        Options {
            flags_column: true,
            ..Options::default()
        }
    }

    #[test]
    fn cluster_fills_empty_cells_left_to_right_never_overwriting() {
        let (out, events) = run("DX1,DX2,DX3,DX4", "0730,,2731,", flagged());
        assert_eq!(out, ["A70", "J17", "D472", "", ""]);
        assert_eq!(
            events.len(),
            2,
            "one event per input code, none for placed codes"
        );
        assert_eq!(events[0].statuses, CellStatus::Combination.into());
        // A later cell's cluster uses the next free cell.
        let (out, _) = run("DX1,DX2,DX3,DX4", ",0730,0730,", flagged());
        assert_eq!(out, ["J17", "A70", "A70", "J17", ""]);
    }

    #[test]
    fn overflow_keeps_leftovers_in_flags_and_event() {
        let (out, events) = run("DX1,DX2", "0730,2731", flagged());
        assert_eq!(out, ["A70", "D472", "DX1:overflow:0730:J17"]);
        assert_eq!(events[0].statuses.to_string(), "overflow");
        assert_eq!(events[0].leftover.len(), 1);
        // A single-valued field is a group of its own.
        let (out, _) = run("ADMTG_DGNS_CD,DX1,DX2", "073.0,,", flagged());
        assert_eq!(
            out,
            ["A70", "", "", "ADMTG_DGNS_CD:overflow:073.0:J17"],
            "dotted input spells leftovers dotted too"
        );
    }

    #[test]
    fn choose_and_unmapped_policies() {
        let keep = Options {
            choose: Choose::Keep,
            unmapped: Unmapped::Blank,
            flags_column: true,
            ..Options::default()
        };
        let (out, events) = run("DX1,DX2,DX3", "99681,7796,27.31", keep);
        assert_eq!(
            out,
            [
                "99681",
                "",
                "",
                "DX1:ambiguous:99681;DX2:no_map:7796;DX3:malformed:27.31"
            ]
        );
        assert!(events[2].statuses == CellStatus::Malformed.into() && events[2].written.is_empty());
        let cw = Crosswalk::builtin();
        let h = csv::ByteRecord::from(vec!["DX1"]);
        let plan = Plan::new(Some(&h), 1, &ColumnOptions::default()).unwrap();
        let fail = Options {
            choose: Choose::Fail,
            ..Options::default()
        };
        let mut rewriter = Rewriter::new(&cw, plan, fail, "claims.csv".into());
        let err = rewriter
            .rewrite(
                4,
                5,
                &csv::ByteRecord::from(vec!["99681"]),
                &mut csv::ByteRecord::new(),
                None,
                &mut Vec::new(),
            )
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("claims.csv:5: row 4, column DX1:"), "{err}");
    }

    #[test]
    fn dots_follow_the_input_unless_told() {
        let (out, _) = run("DX1,DX2", "288.50,28850", Options::default());
        assert_eq!(out, ["D72.819", "D72819"]);
        let dotted = Options {
            dots: Dots::Dotted,
            ..Options::default()
        };
        let (out, _) = run("DX1,DX2", "288.50,28850", dotted);
        assert_eq!(out, ["D72.819", "D72.819"]);
    }
}
