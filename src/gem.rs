//! Loading General Equivalence Mapping tables faithfully.
//!
//! Three layouts are read, told apart by their first line:
//!
//! * the **CMS text layout** of the official files (`2018_I9gem.txt`, `gem_i9pcs.txt`, …):
//!   `SOURCE TARGET FLAGS` per line, blank-padded, split on whitespace, CRLF or LF;
//! * the **NBER CSV layout** (`icd9cm,icd10cm,flags,approximate,no_map,combination,scenario,choice_list`);
//! * a **plain CSV** with the header `source,target,flags`, for tables a user makes.
//!
//! Both CSV layouts are one rule: a header row, the source code in the first column, the target in
//! the second, and a `flags` column; where the NBER split-out flag columns are present they must
//! agree with `flags`.
//!
//! Codes are normalised (case, blanks). Any target beginning `No` (`NoDx`, `NoPCS`, `NoI9`) is a
//! no-map row whatever its no-map flag says: 29 rows of the official `gem_pcsi9.txt` read `NoI9`
//! with the flag off. A row with the no-map flag on and a real target code is rejected, because the
//! table contradicts itself and a guess either way could hide a mapping.
//!
//! Rows keep their file order within each source; sources keep the order of their first row.

use std::fmt;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;

use crate::code::{Code, System};
use crate::error::{Error, Result};
use crate::mapping::{self, Mapping};
pub use crate::row::{Flags, Row};

/// Where a table came from, for every output to name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// The release, as far as it is known (`CMS GEM FY2018`, `NBER GEM FY2016`).
    pub release: String,
    /// The file it was read from, or the built-in file name.
    pub origin: PathBuf,
    /// True for the crosswalk embedded in the program.
    pub builtin: bool,
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.builtin {
            write!(f, "{} (built-in {})", self.release, self.origin.display())
        } else {
            write!(f, "{} ({})", self.release, self.origin.display())
        }
    }
}

/// A loaded GEM: for each source code, its rows in file order.
#[derive(Clone, Debug)]
pub struct Gem {
    source: System,
    provenance: Provenance,
    index: IndexMap<Code, (u32, u32), FxBuildHasher>,
    rows: Vec<Row>,
}

impl Gem {
    /// Read a GEM file from disk (a regular file of at most
    /// [`crate::tablefile::MAX_TABLE_BYTES`]); see [`Gem::parse`].
    pub fn from_path(source: System, path: &Path, release: String) -> Result<Gem> {
        let data = crate::tablefile::read(path, "mapping table")?;
        let provenance = Provenance {
            release,
            origin: path.to_path_buf(),
            builtin: false,
        };
        Gem::parse(source, &data, provenance)
    }

    /// Parse a GEM whose source codes are in `source` (targets are in `source.gem_target()`).
    /// `provenance.origin` names the file in errors.
    pub fn parse(source: System, data: &[u8], provenance: Provenance) -> Result<Gem> {
        let path = provenance.origin.clone();
        let mut builder = Builder {
            source,
            path: &path,
            index: IndexMap::with_capacity_and_hasher(data.len() / 40, FxBuildHasher),
            tagged: Vec::with_capacity(data.len() / 20),
        };
        let first_line = data
            .split(|&b| b == b'\n')
            .map(|l| l.trim_ascii())
            .find(|l| !l.is_empty());
        match first_line {
            None => return Err(Error::parse(&path, 1, "the mapping table is empty")),
            Some(line) if line.contains(&b',') => read_csv(data, &mut builder)?,
            Some(_) => read_text(data, &mut builder)?,
        }
        if builder.tagged.is_empty() {
            return Err(Error::parse(&path, 1, "the mapping table has no rows"));
        }
        builder.finish(provenance)
    }

    /// The system of the source codes.
    pub fn source_system(&self) -> System {
        self.source
    }

    /// The system of the target codes.
    pub fn target_system(&self) -> System {
        self.source.gem_target()
    }

    /// Where the table came from.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// Number of rows (lines with a mapping).
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    /// Number of distinct source codes.
    pub fn source_count(&self) -> usize {
        self.index.len()
    }

    /// The rows of a source code in file order, or `None` when the code is not a source.
    pub fn rows(&self, code: &Code) -> Option<&[Row]> {
        self.index
            .get(code)
            .map(|&(start, end)| &self.rows[start as usize..end as usize])
    }

    /// Every source code with its rows, in the order of first appearance in the file.
    pub fn sources(&self) -> impl ExactSizeIterator<Item = (Code, &[Row])> + '_ {
        self.index
            .iter()
            .map(|(code, &(start, end))| (*code, &self.rows[start as usize..end as usize]))
    }

    /// The alternatives and status of a source code under the GEM reading rule, or `None` when the
    /// code is not a source of this table.
    pub fn mapping(&self, code: &Code) -> Option<Mapping> {
        self.rows(code).map(mapping::read_rows)
    }
}

struct Builder<'a> {
    source: System,
    path: &'a Path,
    index: IndexMap<Code, (u32, u32), FxBuildHasher>,
    // (position of the source in `index`, row)
    tagged: Vec<(u32, Row)>,
}

impl Builder<'_> {
    fn add(&mut self, line: u64, source: &[u8], target: &[u8], flags: &[u8]) -> Result<()> {
        let err = |message: String| Error::parse(self.path, line, message);
        let source_code = Code::parse(self.source, source).map_err(|e| {
            err(format!(
                "source code {:?} is not valid: {e}",
                String::from_utf8_lossy(source)
            ))
        })?;
        let flags = Flags::parse(flags.trim_ascii()).ok_or_else(|| {
            err(format!(
                "flags {:?} are not five digits (approximate, no map, combination each 0 or 1, \
                 then scenario and choice list 0-9)",
                String::from_utf8_lossy(flags)
            ))
        })?;
        let target = target.trim_ascii();
        let target = if target.len() >= 2 && target[..2].eq_ignore_ascii_case(b"no") {
            None
        } else {
            let code = Code::parse(self.source.gem_target(), target).map_err(|e| {
                err(format!(
                    "target code {:?} is not valid: {e}",
                    String::from_utf8_lossy(target)
                ))
            })?;
            if flags.no_map {
                return Err(err(format!(
                    "the no-map flag is set ({flags}) but the target {code} is a code; the table \
                     contradicts itself"
                )));
            }
            Some(code)
        };
        let entry = self.index.entry(source_code);
        let position = entry.index() as u32;
        entry.or_insert((0, 0)).1 += 1;
        let line = u32::try_from(line).map_err(|_| err("too many lines".to_string()))?;
        self.tagged.push((
            position,
            Row {
                target,
                flags,
                line,
            },
        ));
        Ok(())
    }

    fn finish(mut self, provenance: Provenance) -> Result<Gem> {
        // Official files list each source's rows together; a user's table may not. A stable sort
        // groups them while keeping file order within a source.
        if !self.tagged.windows(2).all(|w| w[0].0 <= w[1].0) {
            self.tagged.sort_by_key(|(position, _)| *position);
        }
        let mut start = 0u32;
        for (code, range) in self.index.iter_mut() {
            let count = range.1;
            *range = (start, start + count);
            let rows = &self.tagged[start as usize..(start + count) as usize];
            check_cluster_count(self.source, code, rows, self.path)?;
            start += count;
        }
        Ok(Gem {
            source: self.source,
            provenance,
            index: self.index,
            rows: self.tagged.into_iter().map(|(_, row)| row).collect(),
        })
    }
}

/// A scenario makes one cluster per way of taking a code from each of its choice lists. Nine
/// lists of eight codes would be 134 million clusters: refuse a table that asks for more than
/// [`MAX_CLUSTERS`] in one scenario rather than run out of time or memory on every look-up.
fn check_cluster_count(
    source: System,
    code: &Code,
    rows: &[(u32, Row)],
    path: &Path,
) -> Result<()> {
    if !rows.iter().any(|(_, r)| r.flags.combination) {
        return Ok(());
    }
    // [scenario][choice list] -> codes
    let mut sizes = [[0u64; 10]; 10];
    for (_, row) in rows {
        if row.flags.combination && row.target.is_some() {
            sizes[usize::from(row.flags.scenario)][usize::from(row.flags.choice_list)] += 1;
        }
    }
    for (scenario, lists) in sizes.iter().enumerate() {
        let clusters = lists
            .iter()
            .filter(|&&n| n > 0)
            .fold(1u64, |product, &n| product.saturating_mul(n));
        if clusters > MAX_CLUSTERS {
            let first = rows
                .iter()
                .find(|(_, r)| r.flags.combination && usize::from(r.flags.scenario) == scenario)
                .map_or(1, |(_, r)| u64::from(r.line));
            let shape: Vec<String> = lists
                .iter()
                .filter(|&&n| n > 0)
                .map(u64::to_string)
                .collect();
            return Err(Error::parse(
                path,
                first,
                format!(
                    "scenario {scenario} of {} has choice lists of {} codes: {clusters} clusters, \
                     more than the {MAX_CLUSTERS} a scenario may make (the official GEMs make at \
                     most 720); check the scenario and choice-list digits",
                    code.dotted(source),
                    shape.join(" × ")
                ),
            ));
        }
    }
    Ok(())
}

/// The most clusters one scenario of a source code may make (the official FY2018 GEMs make at
/// most 720, for ICD-9-CM procedure 34.73).
pub const MAX_CLUSTERS: u64 = 10_000;

fn read_text(data: &[u8], builder: &mut Builder<'_>) -> Result<()> {
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        let line_no = i as u64 + 1;
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let mut fields = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|f| !f.is_empty());
        match (fields.next(), fields.next(), fields.next(), fields.next()) {
            (Some(source), Some(target), Some(flags), None) => {
                builder.add(line_no, source, target, flags)?
            }
            _ => {
                let n = line
                    .split(|b| b.is_ascii_whitespace())
                    .filter(|f| !f.is_empty())
                    .count();
                return Err(Error::parse(
                    builder.path,
                    line_no,
                    format!("expected three fields (SOURCE TARGET FLAGS), found {n}"),
                ));
            }
        }
    }
    Ok(())
}

/// The NBER split-out flag columns, in the order of the five-digit field.
const FLAG_COLUMNS: [&str; 5] = [
    "approximate",
    "no_map",
    "combination",
    "scenario",
    "choice_list",
];

fn read_csv(data: &[u8], builder: &mut Builder<'_>) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(data);
    let path = builder.path.to_path_buf();
    let csv_err = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line());
        Error::parse(&path, line, e.to_string())
    };
    let header = reader.byte_headers().map_err(csv_err)?.clone();
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h.trim_ascii()).to_ascii_lowercase())
        .collect();
    let flags_at = names.iter().position(|n| n == "flags").ok_or_else(|| {
        Error::parse(
            &path,
            1,
            format!(
                "a CSV mapping table needs a header with the source code first, the target \
                 second and a `flags` column (for example `source,target,flags`); found {}",
                names.join(",")
            ),
        )
    })?;
    if flags_at < 2 {
        return Err(Error::parse(
            &path,
            1,
            "the `flags` column must come after the source and target columns",
        ));
    }
    let split_flags: Vec<(usize, usize)> = FLAG_COLUMNS
        .iter()
        .enumerate()
        .filter_map(|(digit, name)| names.iter().position(|n| n == name).map(|col| (digit, col)))
        .collect();
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(csv_err)? {
        let line = record.position().map_or(0, |p| p.line());
        let flags = record[flags_at].trim_ascii();
        for &(digit, col) in &split_flags {
            let written = record[col].trim_ascii();
            if flags.len() == 5 && written != [flags[digit]] {
                return Err(Error::parse(
                    &path,
                    line,
                    format!(
                        "column {} reads {:?} but the flags {:?} say {}",
                        FLAG_COLUMNS[digit],
                        String::from_utf8_lossy(written),
                        String::from_utf8_lossy(flags),
                        flags[digit] as char
                    ),
                ));
            }
        }
        builder.add(line, &record[0], &record[1], flags)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provenance() -> Provenance {
        Provenance {
            release: "test".into(),
            origin: PathBuf::from("test.txt"),
            builtin: false,
        }
    }

    fn parse(source: System, text: &str) -> Result<Gem> {
        Gem::parse(source, text.as_bytes(), provenance())
    }

    fn code(system: System, s: &str) -> Code {
        Code::parse_str(system, s).unwrap()
    }

    #[test]
    fn flags_round_trip() {
        let f = Flags::parse(b"10112").unwrap();
        assert!(f.approximate && !f.no_map && f.combination);
        assert_eq!((f.scenario, f.choice_list), (1, 2));
        assert_eq!(f.to_string(), "10112");
        assert!(Flags::parse(b"00000").unwrap().is_exact());
        for bad in [&b"1011"[..], b"20000", b"1011x", b"100000", b""] {
            assert_eq!(Flags::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn text_layout_with_crlf_padding_and_lower_case() {
        let gem = parse(
            System::Icd10Cm,
            "T8853XD v5889 10000\r\nA000    0010  00000\r\n\r\nR99     NoDx  11000\r\n",
        )
        .unwrap();
        assert_eq!((gem.row_count(), gem.source_count()), (3, 3));
        let rows = gem.rows(&code(System::Icd10Cm, "T8853XD")).unwrap();
        assert_eq!(rows[0].target, Some(code(System::Icd9Dx, "V5889")));
        assert_eq!(rows[0].line, 1);
        let rows = gem.rows(&code(System::Icd10Cm, "R99")).unwrap();
        assert_eq!(rows[0].target, None);
        assert_eq!(rows[0].line, 4);
    }

    #[test]
    fn any_target_beginning_no_is_no_map_whatever_the_flag() {
        let gem = parse(
            System::Icd10Pcs,
            "0016070 NoI9 10000\n0016071 NOPCS 11000\n",
        )
        .unwrap();
        for (_, rows) in gem.sources() {
            assert_eq!(rows[0].target, None);
        }
    }

    #[test]
    fn no_map_flag_on_a_real_target_is_rejected() {
        let err = parse(System::Icd9Dx, "2731 D472 11000\n").unwrap_err();
        assert!(err.to_string().contains("test.txt:1:"), "{err}");
        assert!(err.to_string().contains("no-map flag"), "{err}");
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let cases = [
            ("2731 D472 10000\n2732 D473\n", 2, "three fields"),
            ("2731 D472 10000\n2732 D473 1000\n", 2, "five digits"),
            ("27X1 D472 10000\n", 1, "source code"),
            ("2731 2731 10000\n", 1, "target code"),
        ];
        for (text, line, what) in cases {
            let err = parse(System::Icd9Dx, text).unwrap_err().to_string();
            assert!(err.starts_with(&format!("test.txt:{line}: ")), "{err}");
            assert!(err.contains(what), "{err}");
        }
        assert!(
            parse(System::Icd9Dx, "\n\n")
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
    }

    #[test]
    fn nber_csv_layout_and_its_consistency_check() {
        let text = "\"icd9cm\",\"icd10cm\",\"flags\",\"approximate\",\"no_map\",\"combination\",\"scenario\",\"choice_list\"\n\
                    \"0010\",\"A000\",\"00000\",0,0,0,0,0\n\
                    \"0730\",\"A70\",\"10111\",1,0,1,1,1\n";
        let gem = parse(System::Icd9Dx, text).unwrap();
        assert_eq!(gem.row_count(), 2);
        let rows = gem.rows(&code(System::Icd9Dx, "0730")).unwrap();
        assert_eq!(rows[0].line, 3);
        let bad = text.replace("1,0,1,1,1", "1,0,0,1,1");
        let err = parse(System::Icd9Dx, &bad).unwrap_err().to_string();
        assert!(err.starts_with("test.txt:3: column combination"), "{err}");
    }

    #[test]
    fn plain_csv_and_rows_of_a_source_scattered_through_the_file() {
        let gem = parse(
            System::Icd9Dx,
            "source,target,flags\n996.81,T86.10,10000\n273.1,D47.2,10000\n99681,t8611,10000\n",
        )
        .unwrap();
        let sources: Vec<String> = gem.sources().map(|(c, _)| c.to_string()).collect();
        assert_eq!(sources, ["99681", "2731"]);
        let targets: Vec<String> = gem
            .rows(&code(System::Icd9Dx, "99681"))
            .unwrap()
            .iter()
            .map(|r| r.target.unwrap().to_string())
            .collect();
        assert_eq!(targets, ["T8610", "T8611"]);
    }

    #[test]
    fn csv_without_flags_column_explains_the_layout() {
        let err = parse(System::Icd9Dx, "a,b\n2731,D472\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("source,target,flags"), "{err}");
    }
}
