//! The review report: the rows of an audit file grouped by source code, with counts of the
//! claims each code affects, ready to render as one self-contained HTML page ([`html`]).
//!
//! A [`Review`] is fed audit records one at a time (from a running `convert`, or read back from
//! an audit file), so its memory depends on the number of distinct codes, not on the number of
//! rows: each group keeps a handful of samples and tallies.

pub mod html;

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::Path;

use rustc_hash::{FxHashMap, FxHasher};
use serde::Deserialize;

use crate::audit::{AuditRecord, AuditSink, Kind, Layout};
use crate::code::{Code, System};
use crate::csvio::Records;
use crate::error::{Error, Result};
use crate::status::CellStatus;

/// Distinct values kept per tally (columns, values written, decisions); the rest are counted.
const TALLY_VALUES: usize = 6;

/// Sample claims kept per group.
const SAMPLES: usize = 5;

/// Groups of cells that are no valid code, tracked one by one. Valid codes are bounded by the
/// code systems (some 18,000 ICD-9-CM codes); malformed cells are not, and beyond this many
/// distinct texts their rows are only counted.
const MAX_TEXT_GROUPS: usize = 10_000;

/// Up to [`TALLY_VALUES`] distinct values with their counts, most frequent kept in first-seen
/// order; values beyond that are counted in `others`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Distinct values and how often each was seen.
    pub values: Vec<(Box<str>, u64)>,
    /// Occurrences of values not kept.
    pub others: u64,
}

impl Tally {
    fn add(&mut self, value: &[u8]) {
        if let Some(entry) = self.values.iter_mut().find(|(v, _)| v.as_bytes() == value) {
            entry.1 += 1;
        } else if self.values.len() < TALLY_VALUES {
            if self.values.is_empty() {
                self.values.reserve_exact(TALLY_VALUES);
            }
            self.values.push((String::from_utf8_lossy(value).into(), 1));
        } else {
            self.others += 1;
        }
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.others == 0
    }

    /// Values by descending count (first seen first among equals).
    pub fn sorted(&self) -> Vec<(&str, u64)> {
        let mut values: Vec<(&str, u64)> = self.values.iter().map(|(v, n)| (&v[..], *n)).collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.1));
        values
    }
}

/// One occurrence of a code, as an example for the reviewer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The values of the claim's key columns ([`Review::key_names`]), empty when the audit has
    /// none.
    pub claim: Box<[Box<str>]>,
    /// Data row number in the input.
    pub row: u64,
    /// Line number in the input.
    pub line: u64,
    /// The column the code was in.
    pub column: Box<str>,
    /// The row's fingerprint, when the audit has no key columns (it binds a decision to the
    /// row).
    pub fingerprint: Option<u64>,
}

/// Every audit row of one source code (or of one malformed cell text).
#[derive(Clone, Debug)]
pub struct Group {
    /// The system the code was read as.
    pub system: System,
    /// The canonical code; `None` for a cell that is no valid code of the system.
    pub code: Option<Code>,
    /// The code dotted, or the cell as written.
    pub shown: String,
    /// The code's title, from the audit.
    pub title: String,
    /// Audit rows by status, in [`CellStatus::ALL`] order (a row with several statuses counts
    /// under each).
    pub statuses: Vec<(CellStatus, u64)>,
    /// Cells: audit occurrence rows, each counted for the claim lines it stands for.
    pub occurrences: u64,
    /// Audit occurrence rows: review items (one per claim, column and code).
    pub items: u64,
    /// Claims with at least one occurrence.
    pub claims: u64,
    last_claim: Option<u64>,
    /// The columns the code was found in.
    pub columns: Tally,
    /// The values written in its place.
    pub written: Tally,
    /// Codes left over for want of empty cells.
    pub leftover: Tally,
    /// Decisions already filled in.
    pub decisions: Tally,
    /// The first non-empty reason given.
    pub reason: String,
    /// The `alternatives` cell of the audit, as listed there.
    pub listed: String,
    /// Some occurrences.
    pub samples: Vec<Sample>,
}

impl Group {
    /// The status with the most occurrences (first in report order among equals).
    pub fn main_status(&self) -> CellStatus {
        self.statuses
            .iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map_or(CellStatus::Malformed, |s| s.0)
    }

    /// The code's title: the audit's, else the code set's (an audit may leave it out).
    pub fn title_in(&self, crosswalk: &crate::crosswalk::Crosswalk) -> String {
        match (&self.code, self.title.is_empty()) {
            (Some(code), true) => crosswalk
                .title(self.system, code)
                .map(|t| t.into_owned())
                .unwrap_or_default(),
            _ => self.title.clone(),
        }
    }

    /// True when an occurrence still needs a person's judgment.
    pub fn needs_review(&self) -> bool {
        self.statuses.iter().any(|(s, _)| s.needs_review())
    }
}

/// Totals of a whole conversion, from the run summary (`convert --summary`), when known: an
/// audit file lists only the codes that need review.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RunTotals {
    /// Data rows read.
    pub rows_in: u64,
    /// Code cells seen.
    pub codes: u64,
    /// Codes by system, then by status.
    pub by_system: BTreeMap<String, BTreeMap<String, u64>>,
    /// Code cells that need review.
    pub review_codes: u64,
    /// Rows with at least one code that needs review.
    pub review_rows: u64,
    /// The mapping tables used, by source system.
    #[serde(default)]
    pub crosswalk: BTreeMap<String, String>,
}

impl From<&crate::summary::Report> for RunTotals {
    fn from(r: &crate::summary::Report) -> RunTotals {
        RunTotals {
            rows_in: r.rows_in,
            codes: r.codes,
            by_system: r
                .by_system
                .iter()
                .map(|(system, statuses)| {
                    let statuses = statuses.iter().map(|(s, n)| (s.to_string(), *n));
                    (system.to_string(), statuses.collect())
                })
                .collect(),
            review_codes: r.review_codes,
            review_rows: r.review_rows,
            crosswalk: r
                .crosswalk
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }
}

/// Audit rows grouped by source code.
pub struct Review {
    key_names: Vec<String>,
    codes: [FxHashMap<Code, usize>; 4],
    texts: [FxHashMap<Box<[u8]>, usize>; 4],
    text_groups: usize,
    groups: Vec<Group>,
    by_status: [u64; CellStatus::ALL.len()],
    review_rows: u64,
    rows: u64,
    claims: u64,
    last_claim: Option<u64>,
    untracked_rows: u64,
}

impl Review {
    /// An empty review of audit records whose claim key columns are named `key_names`.
    pub fn new(key_names: Vec<String>) -> Review {
        Review {
            key_names,
            codes: Default::default(),
            texts: Default::default(),
            text_groups: 0,
            groups: Vec::new(),
            by_status: [0; CellStatus::ALL.len()],
            review_rows: 0,
            rows: 0,
            claims: 0,
            last_claim: None,
            untracked_rows: 0,
        }
    }

    /// Add one audit record.
    pub fn add(&mut self, r: &AuditRecord<'_>) {
        if r.kind == Kind::Code {
            // A code row describes the code's group; its occurrences count.
            if let Some(index) = self.group_of(r.system, r.code, r.original_title, r.alternatives) {
                let group = &mut self.groups[index];
                if group.title.is_empty() {
                    group.title = String::from_utf8_lossy(r.original_title).into_owned();
                }
                if group.listed.is_empty() {
                    group.listed = String::from_utf8_lossy(r.alternatives).into_owned();
                }
                if group.reason.is_empty() {
                    group.reason = String::from_utf8_lossy(r.reason).into_owned();
                }
                let decision = r.decision.trim_ascii();
                if !decision.is_empty() && group.decisions.is_empty() {
                    group.decisions.add(decision);
                }
            }
            return;
        }
        // A claim is identified by its key columns, else by its row; consecutive rows of one
        // claim (an audit is in input order) count once.
        let mut hasher = FxHasher::default();
        if r.keys.is_empty() {
            r.row.hash(&mut hasher);
        } else {
            for key in r.keys.iter() {
                key.hash(&mut hasher);
            }
        }
        let claim = hasher.finish();
        if self.last_claim != Some(claim) {
            self.claims += 1;
            self.last_claim = Some(claim);
        }
        // An audit row stands for `lines` cells (claim lines repeating a code): counted as cells,
        // like the run summary counts them.
        let cells = r.lines.max(1);
        self.rows += cells;
        for status in r.statuses.iter() {
            self.by_status[status as usize] += cells;
        }
        self.review_rows += cells * u64::from(r.statuses.needs_review());

        // An occurrence names its code (an audit without a `code` column: its cell as written).
        let code = match r.code.trim_ascii() {
            b"" => r.original,
            code => code,
        };
        let Some(index) = self.group_of(r.system, code, r.original_title, r.alternatives) else {
            self.untracked_rows += cells;
            return;
        };
        let group = &mut self.groups[index];
        for status in r.statuses.iter() {
            match group.statuses.iter_mut().find(|(s, _)| *s == status) {
                Some(entry) => entry.1 += cells,
                None => {
                    group.statuses.push((status, cells));
                    group.statuses.sort();
                }
            }
        }
        group.occurrences += cells;
        group.items += 1;
        if group.last_claim != Some(claim) {
            group.claims += 1;
            group.last_claim = Some(claim);
            if group.samples.len() < SAMPLES {
                if group.samples.is_empty() {
                    group.samples.reserve_exact(SAMPLES);
                }
                let boxed = |b: &[u8]| -> Box<str> { String::from_utf8_lossy(b).into() };
                group.samples.push(Sample {
                    claim: r.keys.iter().map(boxed).collect(),
                    row: r.row,
                    line: r.line,
                    column: boxed(r.column),
                    fingerprint: r.fingerprint,
                });
            }
        }
        group.columns.add(r.column);
        group.written.add(r.written);
        if !r.leftover.is_empty() {
            group.leftover.add(r.leftover);
        }
        let decision = r.decision.trim_ascii();
        if !decision.is_empty() {
            group.decisions.add(decision);
        }
        if group.reason.is_empty() && !r.reason.is_empty() {
            group.reason = String::from_utf8_lossy(r.reason).into_owned();
        }
    }

    /// The group of a code (or of a malformed cell's text), made when first met; `None` once
    /// [`MAX_TEXT_GROUPS`] texts are tracked and this is another one.
    fn group_of(
        &mut self,
        system: System,
        original: &[u8],
        title: &[u8],
        listed: &[u8],
    ) -> Option<usize> {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let code = Code::parse(system, original).ok();
        let slot = system.index();
        let found = match &code {
            Some(code) => self.codes[slot].get(code).copied(),
            None => self.texts[slot].get(original.trim_ascii()).copied(),
        };
        if found.is_some() {
            return found;
        }
        if code.is_none() && self.text_groups >= MAX_TEXT_GROUPS {
            return None;
        }
        let i = self.groups.len();
        match &code {
            Some(code) => self.codes[slot].insert(*code, i),
            None => {
                self.text_groups += 1;
                self.texts[slot].insert(original.trim_ascii().into(), i)
            }
        };
        self.groups.push(Group {
            system,
            code,
            shown: match &code {
                Some(code) => code.dotted(system),
                None => text(original.trim_ascii()),
            },
            title: text(title),
            statuses: Vec::new(),
            occurrences: 0,
            items: 0,
            claims: 0,
            last_claim: None,
            columns: Tally::default(),
            written: Tally::default(),
            leftover: Tally::default(),
            decisions: Tally::default(),
            reason: String::new(),
            listed: text(listed),
            samples: Vec::new(),
        });
        Some(i)
    }

    /// The groups, the codes affecting the most claims first (then the most occurrences, then
    /// by system and code).
    pub fn groups(&self) -> Vec<&Group> {
        let mut groups: Vec<&Group> = self.groups.iter().filter(|g| g.occurrences > 0).collect();
        groups.sort_by(|a, b| {
            b.claims
                .cmp(&a.claims)
                .then(b.occurrences.cmp(&a.occurrences))
                .then(a.system.cmp(&b.system))
                .then(a.shown.cmp(&b.shown))
        });
        groups
    }

    /// Distinct source codes (and malformed texts) grouped.
    pub fn group_count(&self) -> usize {
        self.groups.iter().filter(|g| g.occurrences > 0).count()
    }

    /// The names of the claim key columns of the audit.
    pub fn key_names(&self) -> &[String] {
        &self.key_names
    }

    /// Audit rows read.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Claims with at least one audit row.
    pub fn claims(&self) -> u64 {
        self.claims
    }

    /// Audit rows by status, in [`CellStatus::ALL`] order, statuses with no row left out.
    pub fn by_status(&self) -> Vec<(CellStatus, u64)> {
        CellStatus::ALL
            .into_iter()
            .zip(self.by_status)
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Audit rows that need review (the others are decisions outside the GEM, kept for a
    /// second look).
    pub fn review_rows(&self) -> u64 {
        self.review_rows
    }

    /// Rows beyond the tracked groups, counted but not grouped.
    pub fn untracked_rows(&self) -> u64 {
        self.untracked_rows
    }
}

/// Read a whole audit file into a review.
pub fn read_audit(path: &Path) -> Result<Review> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
    read_audit_from(file, path)
}

/// Read an audit from `reader`, decompressed when it is gzip or zstd (an audit written as
/// `--audit audit.csv.gz`); `path` names it in errors.
pub fn read_audit_from(reader: impl std::io::Read + Send, path: &Path) -> Result<Review> {
    let (reader, _) =
        crate::input::decompressed(reader).map_err(|e| Error::io(Some(path.to_path_buf()), e))?;
    read_plain_audit(reader, path)
}

/// Read an audit from `reader`; `path` names it in errors, with the lines an editor shows
/// whatever the line ends (see [`crate::csvio`]).
fn read_plain_audit(reader: impl std::io::Read, path: &Path) -> Result<Review> {
    let mut records = Records::new(reader, &path.display().to_string(), b',');
    let mut record = csv::ByteRecord::new();
    if !records.read(&mut record)? {
        return Err(Error::parse(
            path,
            1,
            "the file is empty; an audit file starts with its header line",
        ));
    }
    if crate::input::is_zip(record.as_slice()) {
        return Err(Error::parse(
            path,
            1,
            "a workbook (zip) file: `report` reads the CSV audit (convert --audit PATH.csv); \
             the review workbook holds the same codes on its Codes sheet",
        ));
    }
    let layout = Layout::read_header(&record, path)?;
    let mut review = Review::new(layout.key_names().to_vec());
    while records.read(&mut record)? {
        let line = records.line_of(&record);
        review.add(&layout.read(&record, path, line)?);
    }
    Ok(review)
}

/// A review built in the process that converts: fed the records an audit would hold.
impl AuditSink for Review {
    fn record(&mut self, record: &AuditRecord<'_>) -> Result<()> {
        self.add(record);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "row,line,CLM_ID,column,system,original,original_title,status,reason,\
                          written,leftover,alternative_count,alternatives,alternative_titles,\
                          decision,scope\n";

    fn review(rows: &str) -> Review {
        let text = format!("{HEADER}{rows}");
        read_audit_from(text.as_bytes(), Path::new("audit.csv")).expect("a valid audit")
    }

    #[test]
    fn groups_by_code_whatever_the_spelling_and_counts_claims_once() {
        let r = review(
            "1,2,A,DX1,icd9-dx,99681,T,ambiguous,,T8610,,3,x,,,\n\
             1,2,A,DX2,icd9-dx,996.81,T,ambiguous,,T8610,,3,x,,,\n\
             2,3,B,DX1,icd9-dx,99681,T,ambiguous,,T8611,,3,x,,T86.11,\n\
             3,4,C,DX1,icd9-dx,7796,U,no_map,,7796,,0,,,,\n\
             4,5,D,DX1,icd9-dx,25O00,,malformed,,25O00,,0,,,,\n\
             5,6,E,DX3,icd9-dx, 25O00 ,,malformed,,25O00,,0,,,,\n",
        );
        assert_eq!(r.rows(), 6);
        assert_eq!(r.claims(), 5);
        let groups = r.groups();
        let shown: Vec<(&str, u64, u64)> = groups
            .iter()
            .map(|g| (&g.shown[..], g.claims, g.occurrences))
            .collect();
        assert_eq!(shown, [("996.81", 2, 3), ("25O00", 2, 2), ("779.6", 1, 1)]);
        let g = groups[0];
        assert_eq!(g.main_status(), CellStatus::Ambiguous);
        assert_eq!(g.written.sorted(), [("T8610", 2), ("T8611", 1)]);
        assert_eq!(g.decisions.sorted(), [("T86.11", 1)]);
        assert_eq!(g.columns.sorted(), [("DX1", 2), ("DX2", 1)]);
        assert_eq!(g.samples.len(), 2, "one sample per claim");
        assert_eq!(&g.samples[0].claim[..], [Box::<str>::from("A")]);
        assert_eq!(r.key_names(), ["CLM_ID"]);
        assert_eq!(r.by_status()[0], (CellStatus::Ambiguous, 3));
    }

    #[test]
    fn without_key_columns_a_claim_is_a_row() {
        let text = "row,line,column,system,original,status\n\
                    1,2,DX1,icd9-dx,7796,no_map\n\
                    1,2,DX2,icd9-dx,7796,no_map\n\
                    2,3,DX1,icd9-dx,7796,no_map\n";
        let r = read_audit_from(text.as_bytes(), Path::new("a.csv")).unwrap();
        assert_eq!(r.claims(), 2);
        assert_eq!(r.groups()[0].claims, 2);
        assert_eq!(r.groups()[0].occurrences, 3);
    }

    #[test]
    fn formula_guards_are_removed() {
        let r = review("1,2,'=HYPERLINK(x),DX1,icd9-dx,'-1,,malformed,,'-1,,0,,,,\n");
        let g = r.groups()[0];
        assert_eq!(g.shown, "-1");
        assert_eq!(&*g.samples[0].claim[0], "=HYPERLINK(x)");
    }

    #[test]
    fn malformed_texts_beyond_the_cap_are_counted_not_grouped() {
        let mut rows = String::new();
        for i in 0..MAX_TEXT_GROUPS + 5 {
            rows.push_str(&format!(
                "{i},{i},K{i},DX1,icd9-dx,X{i},,malformed,,,,0,,,,\n"
            ));
        }
        rows.push_str("0,0,K,DX1,icd9-dx,2724,,ambiguous,,,,2,,,,\n");
        let r = review(&rows);
        assert_eq!(
            r.groups().len(),
            MAX_TEXT_GROUPS + 1,
            "valid codes are always grouped"
        );
        assert_eq!(r.untracked_rows(), 5);
        assert_eq!(r.rows(), MAX_TEXT_GROUPS as u64 + 6);
    }

    #[test]
    fn tallies_keep_a_few_values_and_count_the_rest() {
        let mut t = Tally::default();
        for v in ["a", "b", "a", "c", "d", "e", "f", "g", "h", "a"] {
            t.add(v.as_bytes());
        }
        assert_eq!(t.values.len(), TALLY_VALUES);
        assert_eq!(t.others, 2);
        assert_eq!(t.sorted()[0], ("a", 3));
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let error = |text: &str, name: &str| {
            read_audit_from(text.as_bytes(), Path::new(name))
                .err()
                .expect("an error")
                .to_string()
        };
        let err = error(
            &format!("{HEADER}1,2,A,DX1,icd10-xx,99681,,ambiguous,,,,0,,,,\n"),
            "review.csv",
        );
        assert!(
            err.contains("review.csv:2") && err.contains("icd10-xx"),
            "{err}"
        );
        let err = error(
            &format!("{HEADER}1,2,A,DX1,icd9-dx,99681,,weird,,,,0,,,,\n"),
            "review.csv",
        );
        assert!(
            err.contains("review.csv:2") && err.contains("weird"),
            "{err}"
        );
        let err = error("system,code,decision\n", "d.csv");
        assert!(
            err.contains("d.csv:1") && err.contains("not an audit file"),
            "{err}"
        );
        let err = error("", "e.csv");
        assert!(err.contains("e.csv:1") && err.contains("empty"), "{err}");
    }
}
