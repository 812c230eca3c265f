//! Code sets: the title of every code and whether a target code is valid on a claim.
//!
//! A GEM's target may be a code that is no longer billable in a later code set (185 FY2018
//! forward targets are not billable in FY2025): users must see that next to every target.
//!
//! Titles are kept as byte ranges into the file's text, so loading a code set allocates one
//! table and no strings.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::code::{Code, System};
use crate::error::{Error, Result};

/// Whether a code can be used on a claim, according to a code set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    /// A complete, valid code.
    Billable,
    /// A category that needs more characters to be a valid code (`D89.83`, ICD-9 `250`).
    Header,
    /// Not in the code set at all.
    NotInCodeSet,
}

impl Validity {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Validity::Billable => "billable",
            Validity::Header => "header",
            Validity::NotInCodeSet => "not_in_code_set",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    billable: bool,
    title_start: u32,
    title_len: u32,
}

/// The codes of one system in one release, with titles.
#[derive(Clone, Debug)]
pub struct CodeSet {
    system: System,
    release: String,
    text: Cow<'static, [u8]>,
    entries: FxHashMap<Code, Entry>,
}

impl CodeSet {
    /// Read a `CODE TITLE` file (CMS32 ICD-9-CM title files, the ICD-10-PCS codes file): one code
    /// per line, blank padding, then the title. Every code listed is billable.
    pub fn from_titles(
        system: System,
        release: String,
        text: Cow<'static, [u8]>,
        origin: &Path,
    ) -> Result<CodeSet> {
        let mut entries = FxHashMap::default();
        entries.reserve(text.len() / 60);
        for_each_line(&text, |line_no, start, line| {
            let split = line
                .iter()
                .position(|b| b.is_ascii_whitespace())
                .unwrap_or(line.len());
            let code = parse_code(system, &line[..split], origin, line_no)?;
            let title = trim_range(line, split, line.len());
            entries.insert(code, entry(true, start, title));
            Ok(())
        })?;
        Ok(CodeSet {
            system,
            release,
            text,
            entries,
        })
    }

    /// Read a CMS ICD-10-CM order file: columns 7–13 the code, 15 `1` billable / `0` header,
    /// 17–76 the short title, 78– the long title.
    pub fn from_order_file(
        release: String,
        text: Cow<'static, [u8]>,
        origin: &Path,
    ) -> Result<CodeSet> {
        let system = System::Icd10Cm;
        let mut entries = FxHashMap::default();
        entries.reserve(text.len() / 140);
        for_each_line(&text, |line_no, start, line| {
            if line.len() < 17 {
                return Err(Error::parse(
                    origin,
                    line_no,
                    "too short for the order-file layout (order number, code, billable flag, titles)",
                ));
            }
            let code = parse_code(system, &line[6..13], origin, line_no)?;
            let billable = match line[14] {
                b'1' => true,
                b'0' => false,
                other => {
                    return Err(Error::parse(
                        origin,
                        line_no,
                        format!(
                            "column 15 must be 1 (billable) or 0 (header), found {:?}",
                            other as char
                        ),
                    ));
                }
            };
            let title = if line.len() > 77 {
                trim_range(line, 77, line.len())
            } else {
                trim_range(line, 16, line.len())
            };
            entries.insert(code, entry(billable, start, title));
            Ok(())
        })?;
        Ok(CodeSet {
            system,
            release,
            text,
            entries,
        })
    }

    /// The system of the codes.
    pub fn system(&self) -> System {
        self.system
    }

    /// The release, for output to name (`ICD-10-CM FY2025`).
    pub fn release(&self) -> &str {
        &self.release
    }

    /// Number of codes listed (billable and header).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the set lists no code.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of billable codes.
    pub fn billable_count(&self) -> usize {
        self.entries.values().filter(|e| e.billable).count()
    }

    /// The title of a code (billable or header), if the set lists it.
    pub fn title(&self, code: &Code) -> Option<Cow<'_, str>> {
        let e = self.entries.get(code)?;
        let start = e.title_start as usize;
        let bytes = &self.text[start..start + e.title_len as usize];
        Some(decode(bytes))
    }

    /// Whether `code` is a valid code, a category header, or unknown. A set that lists only valid
    /// codes (ICD-9-CM) treats a proper prefix of a listed code as a header (`250` of `25000`).
    pub fn validity(&self, code: &Code) -> Validity {
        match self.entries.get(code) {
            Some(e) if e.billable => Validity::Billable,
            Some(_) => Validity::Header,
            None if self.entries.keys().any(|c| c.starts_with(code)) => Validity::Header,
            None => Validity::NotInCodeSet,
        }
    }
}

fn entry(billable: bool, line_start: usize, (from, to): (usize, usize)) -> Entry {
    Entry {
        billable,
        title_start: (line_start + from) as u32,
        title_len: (to - from) as u32,
    }
}

/// Call `f(line number, byte offset of the line, line without its terminator)` for each non-empty
/// line.
fn for_each_line(text: &[u8], mut f: impl FnMut(u64, usize, &[u8]) -> Result<()>) -> Result<()> {
    let mut start = 0;
    let mut line_no = 0u64;
    while start < text.len() {
        line_no += 1;
        let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i);
        let mut line = &text[start..end];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        if !line.trim_ascii().is_empty() {
            f(line_no, start, line)?;
        }
        start = end + 1;
    }
    Ok(())
}

fn trim_range(line: &[u8], mut from: usize, mut to: usize) -> (usize, usize) {
    while from < to && line[from].is_ascii_whitespace() {
        from += 1;
    }
    while to > from && line[to - 1].is_ascii_whitespace() {
        to -= 1;
    }
    (from, to)
}

fn parse_code(system: System, field: &[u8], origin: &Path, line: u64) -> Result<Code> {
    Code::parse(system, field).map_err(|e| {
        Error::parse(
            PathBuf::from(origin),
            line,
            format!(
                "code {:?} is not valid: {e}",
                String::from_utf8_lossy(field)
            ),
        )
    })
}

/// Titles are ASCII in the ICD-10 files and ISO-8859-1 in the CMS32 ICD-9-CM files; UTF-8 is
/// accepted too. Every Latin-1 byte is the Unicode code point of the same number.
fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(bytes.iter().map(|&b| b as char).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_file_titles_and_headers() {
        let text = b"00001 A00     0 Cholera                                                      Cholera\r\n\
00002 A000    1 Cholera due to Vibrio cholerae 01, biovar cholerae           Cholera due to Vibrio cholerae 01, biovar cholerae\r\n";
        let set =
            CodeSet::from_order_file("t".into(), Cow::Borrowed(&text[..]), Path::new("order.txt"))
                .unwrap();
        let a00 = Code::parse_str(System::Icd10Cm, "A00").unwrap();
        let a000 = Code::parse_str(System::Icd10Cm, "A00.0").unwrap();
        let a001 = Code::parse_str(System::Icd10Cm, "A00.1").unwrap();
        assert_eq!(set.validity(&a00), Validity::Header);
        assert_eq!(set.validity(&a000), Validity::Billable);
        assert_eq!(set.validity(&a001), Validity::NotInCodeSet);
        assert_eq!(
            set.title(&a000).unwrap(),
            "Cholera due to Vibrio cholerae 01, biovar cholerae"
        );
        assert_eq!(set.billable_count(), 1);
    }

    #[test]
    fn title_file_latin1_and_prefix_headers() {
        let text = b"25000 Diabetes mellitus\n2731  Monoclonal paraprotein\xe9mia\n";
        let set = CodeSet::from_titles(
            System::Icd9Dx,
            "t".into(),
            Cow::Borrowed(&text[..]),
            Path::new("t.txt"),
        )
        .unwrap();
        let code = |s| Code::parse_str(System::Icd9Dx, s).unwrap();
        assert_eq!(
            set.title(&code("2731")).unwrap(),
            "Monoclonal paraproteinémia"
        );
        assert_eq!(set.validity(&code("250")), Validity::Header);
        assert_eq!(set.validity(&code("2500")), Validity::Header);
        assert_eq!(set.validity(&code("25001")), Validity::NotInCodeSet);
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let err = CodeSet::from_titles(
            System::Icd9Dx,
            "t".into(),
            Cow::Borrowed(&b"2731 ok\n\nXYZ1 bad\n"[..]),
            Path::new("t.txt"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("t.txt:3: code \"XYZ1\""), "{err}");
    }
}
