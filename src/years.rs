//! ICD-10-CM by fiscal year: which codes were listed and which billable in each year the program
//! carries, from one code list of the newest year and the billable spans of every code.
//!
//! A code is billable in a fiscal year when its span (`first_fy`..=`last_fy`) covers it. It is a
//! header that year when it is not billable then but longer codes that begin with it are (`D71`
//! in FY2026, once `D71.1`, `D71.8` and `D71.9` replaced it). The newest year's code list must
//! agree: its leaves are exactly that year's billable codes.
//!
//! `build.rs` includes this file to index the built-in years when the program is built; the
//! index keeps, per code, one bit per year for "billable" and one for "listed" ([`Masks`]).

use std::collections::{BTreeMap, HashSet};

use crate::code::{Code, System};
use crate::index::BadLine;

/// The first fiscal year of the billable spans.
pub const FIRST_YEAR: u16 = 2021;

/// The newest fiscal year carried, the year of the code list.
pub const LAST_YEAR: u16 = 2026;

/// Per code: bit `y - FIRST_YEAR` of `billable` is set when the code is billable in fiscal year
/// `y`, of `listed` when it is billable or a header then.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Masks {
    /// Years billable.
    pub billable: u8,
    /// Years listed (billable or header).
    pub listed: u8,
}

/// The bit of fiscal year `year` in a [`Masks`] field.
pub fn bit(year: u16) -> u8 {
    debug_assert!((FIRST_YEAR..=LAST_YEAR).contains(&year));
    1 << (year - FIRST_YEAR)
}

/// Every code of the years with its masks and title: code (canonical, undotted) → (masks, title).
pub type Years = BTreeMap<String, (Masks, String)>;

/// Read the newest year's code list (one entry a line, tabular order; chapter numbers and block
/// ranges such as `A00-A09` are not codes; a code is billable when no other code extends it) and
/// the spans (`code`, `first_fy`, `last_fy`, `title`, tab-separated, with a header line).
/// `header_title` gives the title of a code that was never billable.
pub fn read(
    code_list: &[u8],
    spans: &[u8],
    header_title: &dyn Fn(&str) -> Option<String>,
) -> Result<Years, (&'static str, BadLine)> {
    let mut years = Years::new();
    let span_lines = lines(spans).enumerate().filter(|(_, l)| !l.is_empty());
    for (i, line) in span_lines.skip(1) {
        let bad = |message: String| {
            (
                "spans",
                BadLine {
                    line: i as u64 + 1,
                    message,
                },
            )
        };
        let fields: Vec<&[u8]> = line.split(|&b| b == b'\t').collect();
        let [code, first, last, title] = fields[..] else {
            return Err(bad(format!(
                "expected 4 tab-separated fields, found {}",
                fields.len()
            )));
        };
        let code = canonical(code).map_err(&bad)?;
        let year = |f: &[u8]| -> Result<u16, (&'static str, BadLine)> {
            std::str::from_utf8(f)
                .ok()
                .and_then(|s| s.parse::<u16>().ok())
                .filter(|y| (FIRST_YEAR..=LAST_YEAR).contains(y))
                .ok_or_else(|| {
                    bad(format!(
                        "fiscal year {:?} is not one of {FIRST_YEAR}–{LAST_YEAR}",
                        String::from_utf8_lossy(f)
                    ))
                })
        };
        let (first, last) = (year(first)?, year(last)?);
        let billable = (first..=last).fold(0, |m, y| m | bit(y));
        let title = String::from_utf8_lossy(title).trim().to_string();
        years.insert(
            code,
            (
                Masks {
                    billable,
                    listed: billable,
                },
                title,
            ),
        );
    }
    let mut newest = HashSet::new();
    for (i, line) in lines(code_list).enumerate() {
        let entry = line.trim_ascii();
        if entry.is_empty() || entry.iter().all(u8::is_ascii_digit) || entry.contains(&b'-') {
            continue; // a chapter number or a block of categories
        }
        let bad = |message: String| {
            (
                "code list",
                BadLine {
                    line: i as u64 + 1,
                    message,
                },
            )
        };
        newest.insert(canonical(entry).map_err(bad)?);
    }
    for code in &newest {
        years.entry(code.clone()).or_insert_with(|| {
            let title = header_title(code).unwrap_or_default();
            (Masks::default(), title)
        });
    }
    mark_headers(&mut years);
    check_newest(&years, &newest)?;
    Ok(years)
}

/// Per year, mark as listed every code that is a proper prefix of a code billable that year.
fn mark_headers(years: &mut Years) {
    for year in FIRST_YEAR..=LAST_YEAR {
        let mut prefixes = HashSet::new();
        for (code, (masks, _)) in &*years {
            if masks.billable & bit(year) != 0 {
                for len in 3..code.len() {
                    prefixes.insert(code[..len].to_string());
                }
            }
        }
        for (code, (masks, _)) in years.iter_mut() {
            if prefixes.contains(code) {
                masks.listed |= bit(year);
            }
        }
    }
}

/// The newest year's list is the authority for what that year lists: its entries must be the
/// codes the spans make billable or headers that year.
fn check_newest(years: &Years, newest: &HashSet<String>) -> Result<(), (&'static str, BadLine)> {
    let last = bit(LAST_YEAR);
    for (code, (masks, _)) in years {
        let listed = masks.listed & last != 0;
        if listed != newest.contains(code) {
            return Err((
                "code list",
                BadLine {
                    line: 0,
                    message: format!(
                        "{code} is {} in the FY{LAST_YEAR} code list but {} by the spans",
                        if listed { "missing" } else { "listed" },
                        if listed { "listed" } else { "not listed" }
                    ),
                },
            ));
        }
    }
    Ok(())
}

fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

fn canonical(text: &[u8]) -> Result<String, String> {
    Code::parse(System::Icd10Cm, text)
        .map(|c| String::from_utf8_lossy(c.as_bytes()).into_owned())
        .map_err(|e| format!("code {:?} is not valid: {e}", String::from_utf8_lossy(text)))
}

/// The years as a `CODE TITLE` text (see [`crate::index::Layout::Titles`]) with the masks of
/// its codes in the same order.
pub fn titles_text(years: &Years) -> (Vec<u8>, Vec<Masks>) {
    let mut text = Vec::new();
    let mut masks = Vec::with_capacity(years.len());
    for (code, (m, title)) in years {
        text.extend_from_slice(code.as_bytes());
        text.push(b' ');
        text.extend_from_slice(title.as_bytes());
        text.push(b'\n');
        masks.push(*m);
    }
    (text, masks)
}
