//! The run summary: rows in and out, codes by system and status, and the codes that most often
//! need review. Collected as a [`Sink`], rendered as text for stderr and as JSON for `--summary`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::code::{Code, System};
use crate::codemap::{FlatKey, FlatMap};
use crate::crosswalk::Crosswalk;
use crate::error::Result;
use crate::event::{CodeEvent, Sink};
use crate::status::{CellStatus, Statuses};

/// A review item's identity: system, status and the code (or the first 16 bytes of a malformed
/// cell), packed so counting needs no allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReviewKey {
    system: System,
    status: Statuses,
    text: [u8; 16],
    len: u8,
}

impl FlatKey for ReviewKey {
    const EMPTY: ReviewKey = ReviewKey {
        system: System::Icd9Dx,
        status: Statuses::NONE,
        text: [0; 16],
        len: u8::MAX,
    };

    #[inline]
    fn hash64(&self) -> u64 {
        let half = |k: usize| u64::from_le_bytes(self.text[k..k + 8].try_into().expect("8 bytes"));
        let rest = u64::from(self.len)
            | u64::from(self.status.bits()) << 8
            | (self.system.index() as u64) << 24;
        half(0) ^ half(8).rotate_left(29) ^ rest.rotate_left(40)
    }
}

/// Counts collected during a conversion.
#[derive(Default)]
pub struct Summary {
    /// Data rows read.
    pub rows_in: u64,
    /// Data rows written.
    pub rows_out: u64,
    /// Rows added after their row for the further codes of a cluster (long layouts).
    pub rows_added: u64,
    /// Rows with a number of fields different from the header (passed through with `--flexible`).
    pub ragged_rows: u64,
    // By system (System::ALL order) and status (CellStatus::ALL order): an array, since this is
    // bumped for every code cell. A cell with several statuses counts under each.
    counts: [[u64; CellStatus::ALL.len()]; 4],
    cells: u64,
    review: FlatMap<ReviewKey, u64>,
    /// Keys of `review` that are malformed text rather than codes: unbounded in a bad file.
    texts_ranked: usize,
    /// Review codes whose malformed text came after [`MAX_RANKED_TEXTS`] distinct ones.
    unranked: u64,
    review_rows: u64,
    last_review_row: u64,
    /// When set, review items of malformed text are not counted here but kept in input order,
    /// for the summary that counts the whole file to take them in that order
    /// ([`Summary::count_texts`]): which texts are ranked depends on the order they come in.
    deferred: Option<Vec<ReviewKey>>,
    /// In a part: the review items of codes met in the current chunk, counted together when
    /// its texts are taken (see [`Summary::take_texts`]).
    pending: Vec<ReviewKey>,
}

/// Distinct malformed texts counted one by one for the most-often list. Codes are bounded by their
/// systems, text is not (a claim-id column named as a code column has a new value on every row):
/// past this many, further texts are counted in total only, so memory stays flat.
pub const MAX_RANKED_TEXTS: usize = 10_000;

/// One of the codes most often needing review.
#[derive(Serialize, Debug)]
pub struct ReviewCount {
    /// The code's system.
    pub system: &'static str,
    /// The code (canonical, or the cell as written when malformed).
    pub code: String,
    /// Its statuses (`ambiguous`, or several joined by `+`).
    pub status: Statuses,
    /// How many cells.
    pub count: u64,
    /// Its title, when known.
    pub title: String,
}

/// The summary as reported.
#[derive(Serialize, Debug)]
pub struct Report {
    /// The program and its version (`crosswalk 0.1.0`).
    pub tool: &'static str,
    /// The claim file converted, as the user named it, when the caller gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Data rows read.
    pub rows_in: u64,
    /// Data rows written: those read, and those added.
    pub rows_out: u64,
    /// Rows added after their row for the further codes of a cluster (long layouts), marked
    /// `added` in the flags column.
    pub rows_added: u64,
    /// Rows passed through with a different number of fields than the header.
    pub ragged_rows: u64,
    /// Code cells seen.
    pub codes: u64,
    /// Codes by system, then by status; a cell with several statuses (`ambiguous+overflow`)
    /// counts under each.
    pub by_system: BTreeMap<&'static str, BTreeMap<&'static str, u64>>,
    /// Code cells that need review.
    pub review_codes: u64,
    /// Rows with at least one code that needs review.
    pub review_rows: u64,
    /// The 10 codes most often needing review.
    pub top_review: Vec<ReviewCount>,
    /// Review codes left out of the ranking: malformed text met after
    /// [`MAX_RANKED_TEXTS`] distinct ones (counted in `review_codes` all the same).
    pub unranked_review_codes: u64,
    /// The mapping tables used, by source system.
    pub crosswalk: BTreeMap<&'static str, String>,
    /// The code sets that validity (billable, header) was judged against, by system: the target
    /// systems of the codes converted and the ICD-10 systems of codes passed through.
    pub code_sets: BTreeMap<&'static str, String>,
    /// What was found in the file's columns and how they were paired (as said on stderr), when
    /// the caller gives it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plan: Vec<String>,
    /// Warnings: what may make the output wrong in a way no flag says (lost leading zeros).
    pub warnings: Vec<String>,
    /// The options that decided what was written, when the caller gives them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<crate::options::Options>,
    /// Decisions read with `--decisions`, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decisions: Option<DecisionReport>,
}

/// What became of the decisions read.
#[derive(Serialize, Debug)]
pub struct DecisionReport {
    /// Decisions read (rows with a decision; repeats of the same decision count once).
    pub loaded: usize,
    /// Code cells written as a decision says.
    pub applied: u64,
    /// Decisions that matched no code of this run.
    pub unused: Vec<crate::decisions::Unused>,
}

impl DecisionReport {
    /// Tally `decisions` by their use counts (indexed like [`crate::decisions::Decisions::list`]).
    /// `moved` marks the row-bound decisions whose row now holds another row.
    pub fn new(
        decisions: &crate::decisions::Decisions,
        used: &[u64],
        moved: &[bool],
    ) -> DecisionReport {
        DecisionReport {
            loaded: decisions.len(),
            applied: used.iter().sum(),
            unused: decisions.unused(used, moved),
        }
    }
}

impl Sink for Summary {
    fn code(&mut self, e: &CodeEvent<'_>) -> Result<()> {
        for status in e.statuses.iter() {
            self.counts[e.system.index()][status as usize] += 1;
        }
        self.cells += 1;
        if e.statuses.needs_review() {
            let bytes = match &e.code {
                Some(code) => code.as_bytes(),
                None => e.original.trim_ascii(),
            };
            let len = bytes.len().min(16);
            let mut text = [0u8; 16];
            text[..len].copy_from_slice(&bytes[..len]);
            let key = ReviewKey {
                system: e.system,
                status: e.statuses,
                text,
                len: len as u8,
            };
            let text = e.code.is_none();
            match &mut self.deferred {
                Some(deferred) if text => deferred.push(key),
                Some(_) => self.pending.push(key),
                None => self.count_review(key, text),
            }
            if self.last_review_row != e.row {
                self.last_review_row = e.row;
                self.review_rows += 1;
            }
        }
        Ok(())
    }
}

/// `n` with thousands separators (`1,290`), as every figure is shown to people.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

impl Summary {
    /// A summary of part of a file, converted on a thread of its own: its counts are added to
    /// the whole file's by [`Summary::absorb`], its malformed texts taken in order by
    /// [`Summary::take_texts`] (after each chunk, which also counts the chunk's codes needing
    /// review) and counted by [`Summary::count_texts`].
    pub fn part() -> Summary {
        Summary {
            deferred: Some(Vec::new()),
            ..Summary::default()
        }
    }

    /// The malformed texts met since the last call, in input order (see [`Summary::part`]);
    /// the codes met since are counted.
    pub fn take_texts(&mut self, into: &mut Vec<ReviewKey>) {
        // A chunk's review items counted together: each slot is fetched a few items ahead,
        // so that the fetches overlap.
        const AHEAD: usize = 8;
        let pending = std::mem::take(&mut self.pending);
        for (k, key) in pending.iter().enumerate() {
            if let Some(next) = pending.get(k + AHEAD) {
                self.review.prefetch(next);
            }
            self.count_review(*key, false);
        }
        self.pending = pending;
        self.pending.clear();
        into.clear();
        if let Some(deferred) = &mut self.deferred {
            std::mem::swap(deferred, into);
        }
    }

    /// Count review items of malformed text, in input order, as [`Sink::code`] counts them.
    pub fn count_texts(&mut self, keys: &[ReviewKey]) {
        for &key in keys {
            self.count_review(key, true);
        }
    }

    /// Count one review item (`text`: of malformed text). Past [`MAX_RANKED_TEXTS`] distinct
    /// texts, a new text is counted as unranked only.
    fn count_review(&mut self, key: ReviewKey, text: bool) {
        if text && self.texts_ranked >= MAX_RANKED_TEXTS {
            match self.review.get_mut(&key) {
                Some(n) => *n += 1,
                None => self.unranked += 1,
            }
        } else {
            let (n, had) = self.review.entry(key);
            *n += 1;
            if !had {
                self.texts_ranked += usize::from(text);
            }
        }
    }

    /// Add the counts of `part` (a [`Summary::part`] whose texts were all taken). Rows of a part
    /// are rows of no other part.
    pub fn absorb(&mut self, part: &Summary) {
        self.rows_in += part.rows_in;
        self.rows_out += part.rows_out;
        self.rows_added += part.rows_added;
        self.ragged_rows += part.ragged_rows;
        for (mine, theirs) in self.counts.iter_mut().zip(&part.counts) {
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m += t;
            }
        }
        self.cells += part.cells;
        for (key, n) in part.review.iter() {
            *self.review.entry(*key).0 += n;
        }
        // Codes met since the part's texts were last taken (none when a converter took them
        // after its last chunk).
        for key in &part.pending {
            self.count_review(*key, false);
        }
        self.review_rows += part.review_rows;
    }

    /// Non-zero counts as (system, status, count).
    fn counted(&self) -> impl Iterator<Item = (System, CellStatus, u64)> + '_ {
        System::ALL
            .iter()
            .enumerate()
            .flat_map(move |(i, &system)| {
                CellStatus::ALL
                    .iter()
                    .filter(move |s| self.counts[i][**s as usize] > 0)
                    .map(move |&s| (system, s, self.counts[i][s as usize]))
            })
    }

    /// Code cells that need review.
    pub fn review_codes(&self) -> u64 {
        self.review.iter().map(|(_, n)| n).sum::<u64>() + self.unranked
    }

    /// The figures to report, with titles and table releases from `crosswalk`.
    pub fn report(&self, crosswalk: &Crosswalk) -> Report {
        let mut by_system: BTreeMap<&'static str, BTreeMap<&'static str, u64>> = BTreeMap::new();
        let mut tables = BTreeMap::new();
        let mut code_sets = BTreeMap::new();
        for (system, status, n) in self.counted() {
            let judged = if system.is_icd9() {
                system.gem_target()
            } else {
                system
            };
            code_sets.insert(
                judged.name(),
                crosswalk.code_set(judged).release().to_string(),
            );
            by_system
                .entry(system.name())
                .or_default()
                .insert(status.as_str(), n);
            if system.is_icd9()
                && let Ok(gem) = crosswalk.gem(system)
            {
                tables.insert(system.name(), gem.provenance().to_string());
            }
        }
        let mut top: Vec<(&ReviewKey, &u64)> = self.review.iter().collect();
        top.sort_by(|a, b| {
            b.1.cmp(a.1)
                .then_with(|| a.0.text[..a.0.len as usize].cmp(&b.0.text[..b.0.len as usize]))
                .then_with(|| a.0.status.cmp(&b.0.status))
                .then_with(|| a.0.system.cmp(&b.0.system))
        });
        let top_review = top
            .into_iter()
            .take(10)
            .map(|(key, &count)| {
                let raw = &key.text[..key.len as usize];
                let code = Code::parse(key.system, raw).ok();
                ReviewCount {
                    system: key.system.name(),
                    code: match code {
                        Some(c) => c.dotted(key.system),
                        None => String::from_utf8_lossy(raw).into_owned(),
                    },
                    status: key.status,
                    count,
                    title: code
                        .and_then(|c| crosswalk.title(key.system, &c))
                        .map(|t| t.into_owned())
                        .unwrap_or_default(),
                }
            })
            .collect();
        Report {
            tool: concat!("crosswalk ", env!("CARGO_PKG_VERSION")),
            input: None,
            rows_in: self.rows_in,
            rows_out: self.rows_out,
            rows_added: self.rows_added,
            ragged_rows: self.ragged_rows,
            codes: self.cells,
            by_system,
            review_codes: self.review_codes(),
            review_rows: self.review_rows,
            unranked_review_codes: self.unranked,
            top_review,
            crosswalk: tables,
            code_sets,
            plan: Vec::new(),
            warnings: Vec::new(),
            options: None,
            decisions: None,
        }
    }
}

impl Report {
    /// The summary as lines of text, for stderr.
    pub fn render_text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let added = match self.rows_added {
            0 => String::new(),
            n => format!(" ({n} added for clusters, marked `added`)"),
        };
        let _ = writeln!(
            out,
            "{} rows in, {} rows out{added}; {} codes",
            self.rows_in, self.rows_out, self.codes
        );
        if self.ragged_rows > 0 {
            let _ = writeln!(
                out,
                "  {} rows with a different number of fields than the header, passed through and flagged",
                self.ragged_rows
            );
        }
        for (system, statuses) in &self.by_system {
            let parts: Vec<String> = CellStatus::ALL
                .iter()
                .filter_map(|s| {
                    statuses
                        .get(s.as_str())
                        .map(|n| format!("{} {n}", s.as_str()))
                })
                .collect();
            let _ = writeln!(out, "  {system:<10} {}", parts.join(", "));
        }
        if self.review_codes == 0 {
            let _ = writeln!(out, "  no code needs review");
        } else {
            let _ = writeln!(
                out,
                "  {} codes in {} rows need review; most often:",
                self.review_codes, self.review_rows
            );
            for r in &self.top_review {
                let line = format!(
                    "  {:>8}  {:<9} {:<8} {:<16} {}",
                    r.count,
                    r.system,
                    r.code,
                    r.status.to_string(),
                    r.title
                );
                let _ = writeln!(out, "{}", line.trim_end());
            }
            if self.unranked_review_codes > 0 {
                let _ = writeln!(
                    out,
                    "  {:>8}  malformed values beyond the first {MAX_RANKED_TEXTS} distinct ones \
                     (counted, not ranked)",
                    self.unranked_review_codes
                );
            }
        }
        if let Some(d) = &self.decisions {
            let _ = writeln!(
                out,
                "  decisions: {} read, {} codes decided, {} matched nothing",
                d.loaded,
                d.applied,
                d.unused.len()
            );
            for u in d.unused.iter().take(5) {
                let _ = writeln!(
                    out,
                    "    unused: {} {} {} -> {}{}",
                    u.at,
                    u.system,
                    u.code,
                    u.decision,
                    u.why.map(|w| format!(" ({w})")).unwrap_or_default()
                );
            }
            if d.unused.len() > 5 {
                let _ = writeln!(out, "    … {} more (all in --summary)", d.unused.len() - 5);
            }
        }
        for (system, table) in &self.crosswalk {
            let _ = writeln!(out, "  crosswalk for {system}: {table}");
        }
        out
    }
}
