//! Which columns of a claim file hold codes, how they form groups, and where each code's
//! version (ICD-9 or ICD-10) comes from.
//!
//! A numbered series (`ICD9_DGNS_CD_1..10`, `ICD_DGNS_CD1..25`, `DX1..n`) is one *group*: the extra
//! codes of a cluster go into its empty cells. A single-valued field (admitting or principal
//! diagnosis, an E-code field) is a group of its own, so its extra codes never land elsewhere.
//!
//! Per-line fields (DE-SynPUF carrier `LINE_ICD9_DGNS_CD_n`, the diagnosis of claim line n) are
//! groups of one: a code never moves into another line's field. In a long layout (MIMIC
//! `DIAGNOSES_ICD`: one code per row), a cluster's further codes become further rows.
//!
//! The version of a code comes, in this order, from a per-code version column (`ICD_DGNS_CD3` ↔
//! `ICD_DGNS_VRSN_CD3`), a row-level version column, a date column with the 2015-10-01 cutover,
//! or else is ICD-9.

pub mod companions;

use std::fmt;

pub use companions::{Companion, Role};

use crate::code::System;
use crate::dates;
use crate::error::{Error, Result};
use crate::rows::Record;
use crate::zeros::ZeroMode;

/// Diagnosis or procedure: with the version, it gives a code's system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodeKind {
    /// Diagnosis codes (ICD-9-CM dx or ICD-10-CM).
    Diagnosis,
    /// Procedure codes (ICD-9-CM vol. 3 or ICD-10-PCS).
    Procedure,
}

impl CodeKind {
    /// The system of a code of this kind in the given version.
    pub fn system(self, version: Version) -> System {
        match (self, version) {
            (CodeKind::Diagnosis, Version::Icd9) => System::Icd9Dx,
            (CodeKind::Diagnosis, Version::Icd10) => System::Icd10Cm,
            (CodeKind::Procedure, Version::Icd9) => System::Icd9Proc,
            (CodeKind::Procedure, Version::Icd10) => System::Icd10Pcs,
        }
    }
}

/// ICD-9 or ICD-10.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// ICD-9-CM.
    Icd9,
    /// ICD-10-CM / ICD-10-PCS.
    Icd10,
}

/// Where the version of a code column comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionSource {
    /// A per-code version column (index): `9` or blank ICD-9, `0` ICD-10.
    PerCode(usize),
    /// A row-level version column (index): `9` or blank ICD-9, `10` or `0` ICD-10.
    Row(usize),
    /// A date column (index): ICD-10 on or after 2015-10-01; no date means ICD-9.
    Date(usize),
    /// No version information: every code is ICD-9.
    Icd9,
}

impl VersionSource {
    /// The version field to set when the code it describes is written as ICD-10, and the value
    /// for ICD-10 there (`0` in RIF and MedPAR per-code fields, `10` in MIMIC-IV and HCUP
    /// row-level ones). `None` when the version comes from no field of its own.
    pub fn icd10_field(&self) -> Option<(usize, &'static [u8])> {
        match *self {
            VersionSource::PerCode(i) => Some((i, b"0")),
            VersionSource::Row(i) => Some((i, b"10")),
            VersionSource::Date(_) | VersionSource::Icd9 => None,
        }
    }
}

/// The version could not be read from a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionProblem {
    /// The column the value came from.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl VersionSource {
    /// Read the version of a code in `record`.
    pub fn version(&self, record: &impl Record) -> std::result::Result<Version, VersionProblem> {
        let field = |i: usize| record.field(i).unwrap_or(b"").trim_ascii();
        match *self {
            VersionSource::Icd9 => Ok(Version::Icd9),
            VersionSource::PerCode(i) => match field(i) {
                b"" | b"9" => Ok(Version::Icd9),
                b"0" => Ok(Version::Icd10),
                other => Err(VersionProblem {
                    column: i,
                    message: format!(
                        "version {:?} is neither 9 (ICD-9) nor 0 (ICD-10)",
                        String::from_utf8_lossy(other)
                    ),
                }),
            },
            VersionSource::Row(i) => match field(i) {
                b"" | b"9" | b"09" => Ok(Version::Icd9),
                b"0" | b"10" => Ok(Version::Icd10),
                other => Err(VersionProblem {
                    column: i,
                    message: format!(
                        "version {:?} is neither 9 (ICD-9) nor 10 or 0 (ICD-10)",
                        String::from_utf8_lossy(other)
                    ),
                }),
            },
            VersionSource::Date(i) => match dates::parse(field(i)) {
                Ok(None) => Ok(Version::Icd9),
                Ok(Some(date)) if date >= dates::ICD10_CUTOVER => Ok(Version::Icd10),
                Ok(Some(_)) => Ok(Version::Icd9),
                Err(message) => Err(VersionProblem { column: i, message }),
            },
        }
    }
}

/// One column that holds codes.
#[derive(Clone, Debug)]
pub struct CodeColumn {
    /// 0-based index in the record.
    pub index: usize,
    /// Header name, or `#N` (1-based) without headers.
    pub name: String,
    /// Diagnosis or procedure.
    pub kind: CodeKind,
    /// Where each code's version comes from.
    pub version: VersionSource,
    /// Index into [`Plan::groups`].
    pub group: usize,
    /// The fields that describe this column's code (POA, date, …), copied to a cell a code of
    /// this column is placed into.
    pub companions: Vec<Companion>,
    /// Whether the column may have lost leading zeros (judged once records are read).
    pub zeros: ZeroMode,
}

/// Columns that share spare cells for the extra codes of a cluster.
#[derive(Clone, Debug)]
pub struct Group {
    /// A readable name (`ICD9_DGNS_CD_1..10`).
    pub name: String,
    /// Indices into [`Plan::columns`], left to right.
    pub members: Vec<usize>,
}

/// What `convert` does with the columns of a file.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Every code column, in record order.
    pub columns: Vec<CodeColumn>,
    /// The column groups.
    pub groups: Vec<Group>,
    /// Key columns that identify a claim in the audit: (index, name).
    pub keys: Vec<(usize, String)>,
    /// Human-readable notes on what was detected, for stderr.
    pub notes: Vec<String>,
    /// One code per row (a long layout): a cluster's further codes become further rows.
    pub long: bool,
    /// The row-level version fields: (index, name).
    pub version_names: Vec<(usize, String)>,
    /// What identifies a row apart from its codes, for decisions bound to a row number.
    pub fingerprint: Fingerprint,
}

/// A stable hash of a record's fields other than its code columns: what a row is, whatever was
/// converted in it (version and companion fields are kept: they are read, never changed, in the
/// input, and which are paired depends on a run's options). An occurrence decision of an
/// audit without key columns records it, so that after the file is re-sorted a decision never
/// lands on another patient's row.
#[derive(Clone, Debug, Default)]
pub struct Fingerprint {
    /// Per field: left out of the hash.
    skip: Vec<bool>,
}

impl Fingerprint {
    /// The fingerprint of `record`: FNV-1a (64 bits) over the kept fields, each followed by
    /// 0x1F. FNV is written out here because the value is stored in audit files: it must never
    /// change with a dependency's version.
    pub fn of(&self, record: &impl Record) -> u64 {
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for i in 0..record.width() {
            let field = record.field(i).unwrap_or_default();
            if self.skip.get(i).copied().unwrap_or(false) {
                continue;
            }
            for &b in field.iter().chain(&[0x1F]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(PRIME);
            }
        }
        h
    }
}

/// What the user said about columns.
#[derive(Clone, Debug, Default)]
pub struct ColumnOptions {
    /// `--dx`: names, globs (`*`) or 1-based indices / ranges.
    pub dx: Vec<String>,
    /// `--proc`: as `--dx`.
    pub proc: Vec<String>,
    /// `--version-col`: `NAME` (row level) or `CODECOL=VERSIONCOL` (per code, globs allowed).
    pub version_cols: Vec<String>,
    /// `--date-col`.
    pub date_col: Option<String>,
    /// `--key`.
    pub key: Vec<String>,
    /// The input's file name, which tells MIMIC diagnosis files from procedure files.
    pub file_name: Option<String>,
    /// `--companion`: `CODECOL=COL` pairs (globs allowed) of fields that travel with a code.
    pub companions: Vec<String>,
    /// `--restore-zeros`: code columns whose lost leading zeros are restored where only the
    /// padded reading is a code.
    pub restore_zeros: Vec<String>,
    /// `--long`: one code per row, whatever the column names.
    pub long: bool,
    /// `--no-add-rows`: in a long layout, keep a cluster's further codes in the flags
    /// (`overflow`) instead of adding rows.
    pub no_add_rows: bool,
}

/// A detection rule: a prefix, optionally followed by one or more digits only.
struct Convention {
    prefix: &'static str,
    numbered: bool,
    kind: CodeKind,
}

const fn rule(prefix: &'static str, numbered: bool, kind: CodeKind) -> Convention {
    Convention {
        prefix,
        numbered,
        kind,
    }
}

/// The conventions of DE-SynPUF, CMS RIF/CCW, MedPAR and HCUP.
const CONVENTIONS: &[Convention] = &[
    // DE-SynPUF
    rule("ADMTNG_ICD9_DGNS_CD", false, CodeKind::Diagnosis),
    rule("ICD9_DGNS_CD_", true, CodeKind::Diagnosis),
    rule("LINE_ICD9_DGNS_CD_", true, CodeKind::Diagnosis),
    rule("ICD9_PRCDR_CD_", true, CodeKind::Procedure),
    // CMS RIF / CCW
    rule("PRNCPAL_DGNS_CD", false, CodeKind::Diagnosis),
    rule("ADMTG_DGNS_CD", false, CodeKind::Diagnosis),
    rule("ICD_DGNS_CD", true, CodeKind::Diagnosis),
    rule("FST_DGNS_E_CD", false, CodeKind::Diagnosis),
    rule("ICD_DGNS_E_CD", true, CodeKind::Diagnosis),
    rule("LINE_ICD_DGNS_CD", false, CodeKind::Diagnosis),
    rule("ICD_PRCDR_CD", true, CodeKind::Procedure),
    // MedPAR
    rule("DGNSCD", true, CodeKind::Diagnosis),
    rule("PRCDRCD", true, CodeKind::Procedure),
    // HCUP (ICD-9 era names; I10_DX columns are ICD-10 and left alone)
    rule("DX", true, CodeKind::Diagnosis),
    rule("ECODE", true, CodeKind::Diagnosis),
    rule("PR", true, CodeKind::Procedure),
];

/// MIMIC code columns, whose kind is told by the file (DIAGNOSES_ICD / PROCEDURES_ICD). A file
/// whose only code column is one of them is a long layout.
const MIMIC_COLUMNS: [&str; 2] = ["ICD9_CODE", "ICD_CODE"];

/// Per-line code fields: each is the code of one claim line, a group of its own.
const PER_LINE: [&str; 1] = ["LINE_ICD9_DGNS_CD_"];

/// Obvious claim-id columns for the audit, in order of preference.
const KEY_COLUMNS: [&str; 5] = ["CLM_ID", "CLAIM_ID", "HADM_ID", "KEY", "RECORD_ID"];

impl Convention {
    fn matches(&self, name: &str) -> bool {
        let upper = name.to_ascii_uppercase();
        match upper.strip_prefix(self.prefix) {
            Some(rest) if self.numbered => {
                !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())
            }
            Some(rest) => rest.is_empty(),
            None => false,
        }
    }
}

/// Case-insensitive glob match with `*` (any run of characters).
fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some((b'*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some((c, rest)) => n
                .split_first()
                .is_some_and(|(d, tail)| c.eq_ignore_ascii_case(d) && go(rest, tail)),
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

/// The header as names; without headers, `#1`, `#2`, ….
struct Header {
    names: Vec<String>,
    has_names: bool,
}

impl Header {
    fn listing(&self) -> String {
        self.names.join(", ")
    }

    /// Columns selected by one item of a `--dx`/`--proc`/`--key` list. Ranges of indices (`5-14`)
    /// are returned as one run so that they form one group.
    fn select(&self, item: &str, option: &str) -> Result<Vec<usize>> {
        let item = item.trim();
        let index = |s: &str| -> Option<usize> { s.trim().parse::<usize>().ok() };
        let check = |i: usize| -> Result<usize> {
            if i == 0 || i > self.names.len() {
                Err(Error::config(format!(
                    "{option} {item}: column {i} does not exist; the file has {} columns (numbered from 1)",
                    self.names.len()
                )))
            } else {
                Ok(i - 1)
            }
        };
        if let Some(i) = index(item) {
            return Ok(vec![check(i)?]);
        }
        if let Some((a, b)) = item.split_once('-')
            && let (Some(a), Some(b)) = (index(a), index(b))
        {
            let (a, b) = (check(a)?, check(b)?);
            if a > b {
                return Err(Error::config(format!(
                    "{option} {item}: a range runs from the lower column to the higher"
                )));
            }
            return Ok((a..=b).collect());
        }
        if !self.has_names {
            return Err(Error::config(format!(
                "{option} {item}: the file has no header (--no-headers), so columns are named by \
                 number, e.g. {option} 13,21-30"
            )));
        }
        let exact: Vec<usize> = (0..self.names.len())
            .filter(|&i| self.names[i] == item)
            .collect();
        let found = if exact.is_empty() {
            (0..self.names.len())
                .filter(|&i| glob_match(item, &self.names[i]))
                .collect()
        } else {
            exact
        };
        if found.is_empty() {
            return Err(Error::config(format!(
                "{option} {item}: no such column; the header has: {}",
                self.listing()
            )));
        }
        Ok(found)
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .or_else(|| self.names.iter().position(|n| n.eq_ignore_ascii_case(name)))
    }
}

/// The name a numbered series shares (`ICD9_DGNS_CD_` of `ICD9_DGNS_CD_7`), if the name ends in
/// digits.
fn series_base(name: &str) -> Option<&str> {
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
    (base.len() < name.len() && !base.is_empty()).then_some(base)
}

/// The per-code version column a RIF or MedPAR code column pairs with.
fn paired_version_name(code_column: &str) -> Option<String> {
    let upper = code_column.to_ascii_uppercase();
    for (prefix, version) in [
        ("DGNSCD", "DGNS_VRSN_CD_"),
        ("PRCDRCD", "SRGCL_PRCDR_VRSN_CD_"),
    ] {
        if let Some(n) = upper.strip_prefix(prefix)
            && !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
        {
            return Some(format!("{version}{n}"));
        }
    }
    let at = upper.rfind("_CD")?;
    Some(format!(
        "{}_VRSN_CD{}",
        &code_column[..at],
        &code_column[at + 3..]
    ))
}

/// The code columns: those `--dx` and `--proc` name, else the detected ones, in header order;
/// with the runs of columns (without a header) that one option named together.
fn select(header: &Header, opts: &ColumnOptions, notes: &mut Vec<String>) -> Result<Selected> {
    let mut selected: Vec<(usize, CodeKind)> = Vec::new();
    let mut explicit_runs: Vec<Vec<usize>> = Vec::new();
    let given = !opts.dx.is_empty() || !opts.proc.is_empty();
    for (items, kind, option) in [
        (&opts.dx, CodeKind::Diagnosis, "--dx"),
        (&opts.proc, CodeKind::Procedure, "--proc"),
    ] {
        for item in items.iter().flat_map(|s| s.split(',')) {
            if item.trim().is_empty() {
                continue;
            }
            let cols = header.select(item, option)?;
            if !header.has_names && cols.len() > 1 {
                explicit_runs.push(cols.clone());
            }
            for c in cols {
                if let Some((_, k)) = selected.iter().find(|(i, _)| *i == c) {
                    if *k != kind {
                        return Err(Error::config(format!(
                            "column {} is named by both --dx and --proc",
                            header.names[c]
                        )));
                    }
                    continue;
                }
                selected.push((c, kind));
            }
        }
    }
    if !given {
        selected = detect(header, opts, notes)?;
    }
    selected.sort_by_key(|(i, _)| *i);
    Ok(Selected {
        columns: selected,
        runs: explicit_runs,
    })
}

/// The code columns chosen, with their kinds, and the runs named together without a header.
struct Selected {
    columns: Vec<(usize, CodeKind)>,
    runs: Vec<Vec<usize>>,
}

/// What the version options say.
struct VersionOptions {
    /// A `--version-col` for the whole row.
    row_level: Option<usize>,
    /// `--version-col CODE=VERSION` patterns.
    pairs: Vec<(String, String)>,
    /// `--date-col`.
    date: Option<usize>,
}

/// The version options: a row-level `--version-col`, the `CODE=VERSION` pairs, and the
/// `--date-col`.
fn version_options(header: &Header, opts: &ColumnOptions) -> Result<VersionOptions> {
    let mut row_level: Option<usize> = None;
    let mut explicit_pairs: Vec<(String, String)> = Vec::new();
    for spec in &opts.version_cols {
        match spec.split_once('=') {
            Some((code, version)) => {
                explicit_pairs.push((code.trim().to_string(), version.trim().to_string()))
            }
            None => {
                let cols = header.select(spec, "--version-col")?;
                if cols.len() != 1 || row_level.is_some() {
                    return Err(Error::config(format!(
                        "--version-col {spec}: a row-level version column must be exactly one column"
                    )));
                }
                row_level = Some(cols[0]);
            }
        }
    }
    let date = match &opts.date_col {
        Some(name) => {
            let cols = header.select(name, "--date-col")?;
            if cols.len() != 1 {
                return Err(Error::config(format!(
                    "--date-col {name}: name exactly one column"
                )));
            }
            Some(cols[0])
        }
        None => None,
    };
    Ok(VersionOptions {
        row_level,
        pairs: explicit_pairs,
        date,
    })
}

impl Plan {
    /// Decide the code columns, groups, version sources and keys for a file with this header
    /// (`None` with `-n`: `width` columns, named by number).
    pub fn new(
        header: Option<&csv::ByteRecord>,
        width: usize,
        opts: &ColumnOptions,
    ) -> Result<Plan> {
        let header = match header {
            Some(h) => Header {
                names: h
                    .iter()
                    .map(|f| String::from_utf8_lossy(f.trim_ascii()).into_owned())
                    .collect(),
                has_names: true,
            },
            None => Header {
                names: (1..=width).map(|i| format!("#{i}")).collect(),
                has_names: false,
            },
        };
        let mut plan = Plan::default();

        let selected = select(&header, opts, &mut plan.notes)?;
        plan.group(&header, &selected.columns, &selected.runs);
        plan.resolve_versions(&header, opts)?;
        plan.resolve_companions(&header, opts)?;
        plan.resolve_keys(&header, opts)?;
        plan.resolve_restore_zeros(&header, opts)?;
        plan.fingerprint = plan.fingerprint_of(header.names.len());
        plan.long = !opts.no_add_rows
            && plan.columns.len() == 1
            && (opts.long
                || MIMIC_COLUMNS
                    .iter()
                    .any(|m| plan.columns[0].name.eq_ignore_ascii_case(m)));
        if plan.long {
            plan.notes.push(
                "one code per row (long layout): a cluster's further codes become rows added \
                 after the row, marked `added` in the flags (--no-add-rows to keep them in the \
                 flags as overflow)"
                    .to_string(),
            );
        }
        Ok(plan)
    }

    /// Put the `selected` code columns into groups: a numbered series (or, without a header,
    /// a `-n` range named in one option, one of `explicit_runs`) is one group; anything else
    /// is its own.
    fn group(
        &mut self,
        header: &Header,
        selected: &[(usize, CodeKind)],
        explicit_runs: &[Vec<usize>],
    ) {
        let mut group_keys: Vec<(CodeKind, String)> = Vec::new();
        for &(index, kind) in selected {
            let name = &header.names[index];
            let key = if !header.has_names {
                match explicit_runs.iter().position(|run| run.contains(&index)) {
                    Some(run) => format!("run {run}"),
                    None => name.clone(),
                }
            } else {
                match series_base(name) {
                    Some(base) if !PER_LINE.iter().any(|p| base.eq_ignore_ascii_case(p)) => {
                        format!("series {base}")
                    }
                    _ => format!("single {name}"),
                }
            };
            let group = match group_keys.iter().position(|(k, g)| *k == kind && *g == key) {
                Some(g) => g,
                None => {
                    group_keys.push((kind, key));
                    self.groups.push(Group {
                        name: String::new(),
                        members: Vec::new(),
                    });
                    self.groups.len() - 1
                }
            };
            self.groups[group].members.push(self.columns.len());
            self.columns.push(CodeColumn {
                index,
                name: name.clone(),
                kind,
                version: VersionSource::Icd9,
                group,
                companions: Vec::new(),
                zeros: ZeroMode::Trusted,
            });
        }
        for group in &mut self.groups {
            let first = &self.columns[group.members[0]].name;
            let last = &self.columns[*group.members.last().expect("a group has a member")].name;
            group.name = match (group.members.len(), series_base(last)) {
                (1, _) => first.clone(),
                (_, Some(base)) if header.has_names => {
                    format!("{first}..{}", &last[base.len()..])
                }
                _ => format!("{first}..{last}"),
            };
        }
    }

    /// The columns `--restore-zeros` names.
    fn resolve_restore_zeros(&mut self, header: &Header, opts: &ColumnOptions) -> Result<()> {
        for item in opts.restore_zeros.iter().flat_map(|s| s.split(',')) {
            if item.trim().is_empty() {
                continue;
            }
            for c in header.select(item, "--restore-zeros")? {
                let column = self
                    .columns
                    .iter_mut()
                    .find(|k| k.index == c)
                    .ok_or_else(|| {
                        Error::config(format!(
                            "--restore-zeros {item}: {} is not a code column",
                            header.names[c]
                        ))
                    })?;
                column.zeros = ZeroMode::Restore;
            }
        }
        Ok(())
    }

    /// The fingerprint leaving out the code columns: the same whatever the version and
    /// companion options of a run.
    fn fingerprint_of(&self, width: usize) -> Fingerprint {
        let mut skip = vec![false; width];
        for c in &self.columns {
            if let Some(s) = skip.get_mut(c.index) {
                *s = true;
            }
        }
        Fingerprint { skip }
    }

    /// The companions of every code column, and a note of what was paired.
    fn resolve_companions(&mut self, header: &Header, opts: &ColumnOptions) -> Result<()> {
        let pairs = companions::pairs(&opts.companions)?;
        for column in &mut self.columns {
            column.companions = companions::find(header, &column.name, &pairs)?;
        }
        for (code_pattern, pattern) in &pairs {
            if !self
                .columns
                .iter()
                .any(|c| glob_match(code_pattern, &c.name))
            {
                return Err(Error::config(format!(
                    "--companion {code_pattern}={pattern}: no code column matches {code_pattern}"
                )));
            }
        }
        let mut said: Vec<(Role, Vec<&str>)> = Vec::new();
        for column in &self.columns {
            for c in &column.companions {
                let role = match c.role {
                    Role::Named(_) => Role::Named(0),
                    other => other,
                };
                let name = header.names[c.index].as_str();
                match said.iter_mut().find(|(r, _)| *r == role) {
                    Some((_, names)) => names.push(name),
                    None => said.push((role, vec![name])),
                }
            }
        }
        for (role, names) in said {
            let shown = match names.len() {
                1 => names[0].to_string(),
                2 => format!("{}, {}", names[0], names[1]),
                _ => format!("{}, …, {}", names[0], names[names.len() - 1]),
            };
            self.notes.push(format!(
                "{}: {} paired with their code columns ({shown}); a code placed into another \
                 cell takes its source's",
                role.label(),
                names.len()
            ));
        }
        Ok(())
    }

    /// The claim key columns: `--key`, else the first known key column of the header.
    fn resolve_keys(&mut self, header: &Header, opts: &ColumnOptions) -> Result<()> {
        for item in opts.key.iter().flat_map(|s| s.split(',')) {
            if item.trim().is_empty() {
                continue;
            }
            for c in header.select(item, "--key")? {
                self.keys.push((c, header.names[c].clone()));
            }
        }
        if opts.key.is_empty()
            && header.has_names
            && let Some((i, name)) = KEY_COLUMNS
                .iter()
                .find_map(|k| header.find(k).map(|i| (i, header.names[i].clone())))
        {
            self.keys.push((i, name));
        }
        Ok(())
    }

    /// Where each code column's version comes from: a paired version column (named or
    /// recognised), a row-level version column, a date column, or ICD-9 when nothing says.
    fn resolve_versions(&mut self, header: &Header, opts: &ColumnOptions) -> Result<()> {
        let VersionOptions {
            row_level,
            pairs: explicit_pairs,
            date,
        } = version_options(header, opts)?;
        let auto_row = |kind: CodeKind| -> Option<usize> {
            let names: &[&str] = match kind {
                CodeKind::Diagnosis => &["icd_version", "DXVER"],
                CodeKind::Procedure => &["icd_version", "PRVER"],
            };
            names.iter().find_map(|n| header.find(n))
        };
        for column in &mut self.columns {
            let mut source = None;
            for (code_pattern, version_pattern) in &explicit_pairs {
                if glob_match(code_pattern, &column.name) {
                    let name = expand_pair(code_pattern, version_pattern, &column.name);
                    let i = header.find(&name).ok_or_else(|| {
                        Error::config(format!(
                            "--version-col {code_pattern}={version_pattern}: code column {} pairs \
                             with {name}, which is not in the header: {}",
                            column.name,
                            header.listing()
                        ))
                    })?;
                    source = Some(VersionSource::PerCode(i));
                }
            }
            if source.is_none()
                && header.has_names
                && let Some(i) = paired_version_name(&column.name).and_then(|n| header.find(&n))
            {
                source = Some(VersionSource::PerCode(i));
            }
            column.version = source
                .or(row_level.map(VersionSource::Row))
                .or(date.map(VersionSource::Date))
                .or(auto_row(column.kind).map(VersionSource::Row))
                .unwrap_or(VersionSource::Icd9);
        }
        for (code_pattern, version_pattern) in &explicit_pairs {
            if !self
                .columns
                .iter()
                .any(|c| glob_match(code_pattern, &c.name))
            {
                return Err(Error::config(format!(
                    "--version-col {code_pattern}={version_pattern}: no code column matches {code_pattern}"
                )));
            }
        }
        for column in &self.columns {
            if let VersionSource::Row(i) = column.version
                && !self.version_names.iter().any(|(k, _)| *k == i)
            {
                self.version_names.push((i, header.names[i].clone()));
            }
        }
        let note = self.versions_note(header);
        self.notes.push(note);
        Ok(())
    }

    /// The `versions:` note of the plan.
    fn versions_note(&self, header: &Header) -> String {
        let paired = self
            .columns
            .iter()
            .filter(|c| matches!(c.version, VersionSource::PerCode(_)))
            .count();
        let mut sources: Vec<String> = Vec::new();
        if paired > 0 {
            sources.push(format!(
                "{paired} code columns paired with their version columns (9 = ICD-9, 0 = ICD-10)"
            ));
        }
        for column in &self.columns {
            let note = match column.version {
                VersionSource::Row(i) => format!("row version from {}", header.names[i]),
                VersionSource::Date(i) => {
                    format!("ICD-10 from 2015-10-01 by {}", header.names[i])
                }
                _ => continue,
            };
            if !sources.contains(&note) {
                sources.push(note);
            }
        }
        if self
            .columns
            .iter()
            .any(|c| c.version == VersionSource::Icd9)
        {
            sources.push(if sources.is_empty() {
                "every code read as ICD-9 (no version or date column)".to_string()
            } else {
                "other columns read as ICD-9".to_string()
            });
        }
        format!("versions: {}", sources.join("; "))
    }

    /// One line per kind: `diagnosis columns: A, B..10`.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (kind, label) in [
            (CodeKind::Diagnosis, "diagnosis columns"),
            (CodeKind::Procedure, "procedure columns"),
        ] {
            let groups: Vec<&str> = self
                .groups
                .iter()
                .filter(|g| self.columns[g.members[0]].kind == kind)
                .map(|g| g.name.as_str())
                .collect();
            if !groups.is_empty() {
                lines.push(format!("{label}: {}", groups.join(", ")));
            }
        }
        lines
    }
}

impl fmt::Display for CodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CodeKind::Diagnosis => "diagnosis",
            CodeKind::Procedure => "procedure",
        })
    }
}

/// `ICD_DGNS_CD*` = `ICD_DGNS_VRSN_CD*` on column `ICD_DGNS_CD3` gives `ICD_DGNS_VRSN_CD3`.
fn expand_pair(code_pattern: &str, version_pattern: &str, column: &str) -> String {
    match code_pattern.split_once('*') {
        Some((prefix, suffix)) if version_pattern.contains('*') => {
            let end = column.len().saturating_sub(suffix.len());
            let matched = column.get(prefix.len()..end).unwrap_or("");
            version_pattern.replacen('*', matched, 1)
        }
        _ => version_pattern.to_string(),
    }
}

fn detect(
    header: &Header,
    opts: &ColumnOptions,
    notes: &mut Vec<String>,
) -> Result<Vec<(usize, CodeKind)>> {
    if !header.has_names {
        return Err(Error::config(
            "without a header (--no-headers), name the code columns by number with --dx and \
             --proc, e.g. --dx 13,21-30 --proc 31-36",
        ));
    }
    let mut found = Vec::new();
    for (i, name) in header.names.iter().enumerate() {
        if let Some(rule) = CONVENTIONS.iter().find(|r| r.matches(name)) {
            found.push((i, rule.kind));
        }
    }
    if found.is_empty()
        && let Some(i) = MIMIC_COLUMNS.iter().find_map(|n| header.find(n))
    {
        let file = opts.file_name.as_deref().unwrap_or("").to_ascii_lowercase();
        let kind = if file.contains("proc") {
            CodeKind::Procedure
        } else if file.contains("diag") {
            CodeKind::Diagnosis
        } else {
            return Err(Error::config(format!(
                "column {} holds ICD codes, but whether they are diagnoses or procedures cannot be \
                 told from this file; name it with --dx {} or --proc {}",
                header.names[i], header.names[i], header.names[i]
            )));
        };
        notes.push(format!(
            "{} read as {kind} codes, from the file name",
            header.names[i]
        ));
        found.push((i, kind));
    }
    if found.is_empty() {
        return Err(Error::config(format!(
            "no code columns found by their usual names (DE-SynPUF, CMS RIF, MedPAR, HCUP, MIMIC); \
             name them with --dx and --proc (names, globs like 'DIAG*', or numbers). The header \
             has: {}",
            header.listing()
        )));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &str) -> csv::ByteRecord {
        csv::ByteRecord::from(names.split(',').collect::<Vec<_>>())
    }

    fn groups(plan: &Plan) -> Vec<String> {
        plan.groups.iter().map(|g| g.name.clone()).collect()
    }

    #[test]
    fn desynpuf_inpatient_detection_and_groups() {
        let mut names = vec!["DESYNPUF_ID", "CLM_ID", "ADMTNG_ICD9_DGNS_CD", "PRVDR_NUM"];
        let dx: Vec<String> = (1..=10).map(|i| format!("ICD9_DGNS_CD_{i}")).collect();
        let px: Vec<String> = (1..=6).map(|i| format!("ICD9_PRCDR_CD_{i}")).collect();
        names.extend(dx.iter().map(String::as_str));
        names.extend(px.iter().map(String::as_str));
        names.push("HCPCS_CD_1");
        let h = csv::ByteRecord::from(names);
        let plan = Plan::new(Some(&h), h.len(), &ColumnOptions::default()).unwrap();
        assert_eq!(
            groups(&plan),
            [
                "ADMTNG_ICD9_DGNS_CD",
                "ICD9_DGNS_CD_1..10",
                "ICD9_PRCDR_CD_1..6"
            ]
        );
        assert_eq!(
            plan.describe(),
            [
                "diagnosis columns: ADMTNG_ICD9_DGNS_CD, ICD9_DGNS_CD_1..10",
                "procedure columns: ICD9_PRCDR_CD_1..6"
            ]
        );
        assert_eq!(plan.keys, [(1, "CLM_ID".to_string())]);
        assert!(
            plan.columns
                .iter()
                .all(|c| c.version == VersionSource::Icd9)
        );
    }

    #[test]
    fn rif_columns_pair_with_their_version_columns() {
        let h = header(
            "CLM_ID,PRNCPAL_DGNS_CD,PRNCPAL_DGNS_VRSN_CD,ICD_DGNS_CD1,ICD_DGNS_VRSN_CD1,\
             ICD_DGNS_CD2,ICD_DGNS_VRSN_CD2,ICD_PRCDR_CD1,ICD_PRCDR_VRSN_CD1,PRCDR_DT1,\
             PRVDR_NUM,PRF_PHYSN_NPI_1",
        );
        let plan = Plan::new(Some(&h), h.len(), &ColumnOptions::default()).unwrap();
        assert_eq!(
            groups(&plan),
            ["PRNCPAL_DGNS_CD", "ICD_DGNS_CD1..2", "ICD_PRCDR_CD1"]
        );
        let versions: Vec<_> = plan.columns.iter().map(|c| c.version.clone()).collect();
        assert_eq!(
            versions,
            [
                VersionSource::PerCode(2),
                VersionSource::PerCode(4),
                VersionSource::PerCode(6),
                VersionSource::PerCode(8)
            ]
        );
    }

    #[test]
    fn hcup_names_do_not_catch_lookalikes() {
        let h = header("KEY,DX1,DX2,DXVER,DXCCS1,ECODE1,PR1,PRVER,PRDAY1,I10_DX1");
        let plan = Plan::new(Some(&h), h.len(), &ColumnOptions::default()).unwrap();
        let names: Vec<&str> = plan.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["DX1", "DX2", "ECODE1", "PR1"]);
        assert_eq!(plan.columns[0].version, VersionSource::Row(3));
        assert_eq!(plan.columns[3].version, VersionSource::Row(7));
        assert_eq!(plan.keys[0].1, "KEY");
    }

    #[test]
    fn mimic_kind_from_file_name() {
        let h = header("row_id,subject_id,hadm_id,seq_num,icd9_code");
        let mut opts = ColumnOptions {
            file_name: Some("PROCEDURES_ICD.csv".into()),
            ..Default::default()
        };
        let plan = Plan::new(Some(&h), h.len(), &opts).unwrap();
        assert_eq!(plan.columns[0].kind, CodeKind::Procedure);
        assert_eq!(plan.keys[0].1, "hadm_id");
        opts.file_name = Some("codes.csv".into());
        let err = Plan::new(Some(&h), h.len(), &opts).unwrap_err().to_string();
        assert!(err.contains("--dx icd9_code"), "{err}");
    }

    #[test]
    fn explicit_columns_globs_indices_and_errors() {
        let h = header("ID,DIAG_A,DIAG_B,PROC,VISIT_DATE");
        let opts = ColumnOptions {
            dx: vec!["DIAG_*".into()],
            proc: vec!["4".into()],
            date_col: Some("VISIT_DATE".into()),
            key: vec!["ID".into()],
            ..Default::default()
        };
        let plan = Plan::new(Some(&h), h.len(), &opts).unwrap();
        assert_eq!(groups(&plan), ["DIAG_A", "DIAG_B", "PROC"]);
        assert!(
            plan.columns
                .iter()
                .all(|c| c.version == VersionSource::Date(4))
        );
        let bad = ColumnOptions {
            dx: vec!["DIAGNOSIS".into()],
            ..Default::default()
        };
        let err = Plan::new(Some(&h), h.len(), &bad).unwrap_err().to_string();
        assert!(
            err.contains("no such column") && err.contains("DIAG_A, DIAG_B"),
            "{err}"
        );
        let none = Plan::new(Some(&h), h.len(), &ColumnOptions::default())
            .unwrap_err()
            .to_string();
        assert!(none.contains("The header has: ID, DIAG_A"), "{none}");
    }

    #[test]
    fn no_headers_ranges_form_groups() {
        let opts = ColumnOptions {
            dx: vec!["2,4-6".into()],
            ..Default::default()
        };
        let plan = Plan::new(None, 7, &opts).unwrap();
        assert_eq!(groups(&plan), ["#2", "#4..#6"]);
        let err = Plan::new(None, 7, &ColumnOptions::default()).unwrap_err();
        assert!(err.to_string().contains("--no-headers"));
        let err = Plan::new(
            None,
            7,
            &ColumnOptions {
                dx: vec!["9".into()],
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("has 7 columns"), "{err}");
    }

    #[test]
    fn explicit_version_pairs_with_globs() {
        let h = header("DX_A,DX_A_V,DX_B,DX_B_V");
        let opts = ColumnOptions {
            dx: vec!["DX_A,DX_B".into()],
            version_cols: vec!["DX_*=DX_*_V".into()],
            ..Default::default()
        };
        let plan = Plan::new(Some(&h), h.len(), &opts).unwrap();
        assert_eq!(plan.columns[0].version, VersionSource::PerCode(1));
        assert_eq!(plan.columns[1].version, VersionSource::PerCode(3));
    }

    #[test]
    fn version_values() {
        let rec = csv::ByteRecord::from(vec![
            "9",
            "0",
            "",
            "10",
            "X",
            "20151001",
            "20150930",
            "01-JAN-1000",
        ]);
        assert_eq!(VersionSource::PerCode(0).version(&rec), Ok(Version::Icd9));
        assert_eq!(VersionSource::PerCode(1).version(&rec), Ok(Version::Icd10));
        assert_eq!(VersionSource::PerCode(2).version(&rec), Ok(Version::Icd9));
        assert!(VersionSource::PerCode(3).version(&rec).is_err());
        assert_eq!(VersionSource::Row(3).version(&rec), Ok(Version::Icd10));
        assert!(VersionSource::Row(4).version(&rec).is_err());
        assert_eq!(VersionSource::Date(5).version(&rec), Ok(Version::Icd10));
        assert_eq!(VersionSource::Date(6).version(&rec), Ok(Version::Icd9));
        assert_eq!(VersionSource::Date(7).version(&rec), Ok(Version::Icd9));
        assert!(VersionSource::Date(4).version(&rec).is_err());
    }
}
