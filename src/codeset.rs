//! Code sets: the title of every code and whether a target code is valid on a claim.
//!
//! A GEM's target may be a code that is no longer billable in a later code set (204 of the 17,513
//! distinct FY2018 forward targets are not billable in FY2026, 185 in FY2025): users must see that
//! next to every target.
//!
//! A code set is a sorted index of its codes with their titles packed in small compressed blocks
//! ([`crate::index`]). The built-in sets are indexed and packed when the program is built, so
//! using one parses nothing and reads only the entries and title blocks looked up. Blocks are
//! 512 bytes, compressed against a dictionary of the set's own titles, so a look-up decompresses
//! little and the ICD-10-CM titles of every built-in year take 1.6 MiB in the program.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use crate::code::{Code, System};
use crate::error::{Error, Result};
use crate::index::{self, ENTRY, Layout};
use crate::years;

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

/// The codes of one system in one release, with titles.
#[derive(Debug)]
pub struct CodeSet {
    system: System,
    release: String,
    // Sorted entries, see [`crate::index`], with titles in compressed blocks.
    index: Cow<'static, [u8]>,
    blocks: Cow<'static, [u8]>,
    packed: Cow<'static, [u8]>,
    recent: Mutex<Recent>,
}

/// A code listed in a [`CodeSet`], as [`CodeSet::find`] found it.
#[derive(Clone, Copy, Debug)]
pub struct Listed(usize);

/// Blocks of titles decompressed lately, direct-mapped by block number: the titles of one
/// source code's alternatives are mostly in one or two blocks, and claims repeat codes.
#[derive(Debug, Default)]
struct Recent {
    /// Per slot: the block it holds (`usize::MAX`: none yet) and its bytes.
    slots: Vec<(usize, Vec<u8>)>,
}

/// Decompressed blocks kept per code set (at most this many × [`index::BLOCK`] bytes).
const RECENT_BLOCKS: usize = 128;

/// How many of a header's billable codes a message names before saying how many more there are.
pub const BILLABLE_UNDER_SHOWN: usize = 8;

impl CodeSet {
    /// Read a `CODE TITLE` file (CMS32 ICD-9-CM title files, the ICD-10-PCS codes file): one code
    /// per line, blank padding, then the title. Every code listed is billable.
    pub fn from_titles(
        system: System,
        release: String,
        text: Cow<'static, [u8]>,
        origin: &Path,
    ) -> Result<CodeSet> {
        CodeSet::read(system, Layout::Titles, release, &text, origin)
    }

    /// Read a CMS ICD-10-CM order file: columns 7–13 the code, 15 `1` billable / `0` header,
    /// 17–76 the short title, 78– the long title.
    pub fn from_order_file(
        release: String,
        text: Cow<'static, [u8]>,
        origin: &Path,
    ) -> Result<CodeSet> {
        CodeSet::read(System::Icd10Cm, Layout::OrderFile, release, &text, origin)
    }

    /// Read a CMS ICD-10-CM order file from disk (a regular file of at most
    /// [`crate::tablefile::MAX_TABLE_BYTES`]). The release is named from the year in the file
    /// name (`icd10cm_order_2027.txt` → `ICD-10-CM FY2027`).
    pub fn order_file_from_path(path: &Path) -> Result<CodeSet> {
        let text = crate::tablefile::read(path, "code set")?;
        let year =
            crate::tablefile::year_in(path.file_name().and_then(|n| n.to_str()).unwrap_or(""));
        let release = match year {
            Some(year) => format!("ICD-10-CM FY{year} ({})", path.display()),
            None => format!("ICD-10-CM, release not stated ({})", path.display()),
        };
        CodeSet::from_order_file(release, Cow::Owned(text), path)
    }

    fn read(
        system: System,
        layout: Layout,
        release: String,
        text: &[u8],
        origin: &Path,
    ) -> Result<CodeSet> {
        let index = index::build(system, layout, text)
            .map_err(|bad| Error::parse(PathBuf::from(origin), bad.line, bad.message))?;
        let (index, blocks, packed) = index::pack_titles(&index, text);
        Ok(CodeSet {
            system,
            release,
            index: Cow::Owned(index),
            blocks: Cow::Owned(blocks),
            packed: Cow::Owned(packed),
            recent: Mutex::default(),
        })
    }

    /// A built-in code set, indexed and packed when the program was built.
    pub(crate) fn prebuilt(
        system: System,
        release: String,
        index: &'static [u8],
        blocks: &'static [u8],
        packed: &'static [u8],
    ) -> CodeSet {
        CodeSet {
            system,
            release,
            index: Cow::Borrowed(index),
            blocks: Cow::Borrowed(blocks),
            packed: Cow::Borrowed(packed),
            recent: Mutex::default(),
        }
    }

    /// ICD-10-CM as of fiscal year `year`, from the built-in index of every code of the years
    /// ([`crate::years`]): the codes listed that year, billable as that year says.
    pub(crate) fn prebuilt_year(
        year: u16,
        index: &'static [u8],
        blocks: &'static [u8],
        packed: &'static [u8],
        masks: &'static [u8],
    ) -> CodeSet {
        let bit = years::bit(year);
        let mut kept = Vec::with_capacity(index.len());
        for (entry, m) in index.chunks_exact(ENTRY).zip(masks.chunks_exact(2)) {
            if m[1] & bit != 0 {
                kept.extend_from_slice(entry);
                let flags = kept.len() - ENTRY + 7;
                kept[flags] = u8::from(m[0] & bit != 0);
            }
        }
        CodeSet {
            system: System::Icd10Cm,
            release: format!("ICD-10-CM FY{year}"),
            index: Cow::Owned(kept),
            blocks: Cow::Borrowed(blocks),
            packed: Cow::Borrowed(packed),
            recent: Mutex::default(),
        }
    }

    /// The index, block table and packed titles (for checks).
    #[doc(hidden)]
    pub fn packed_parts(&self) -> [&[u8]; 3] {
        [&self.index, &self.blocks, &self.packed]
    }

    /// The system of the codes.
    pub fn system(&self) -> System {
        self.system
    }

    /// The release, for output to name (`ICD-10-CM FY2026`).
    pub fn release(&self) -> &str {
        &self.release
    }

    /// Number of codes listed (billable and header).
    pub fn len(&self) -> usize {
        self.index.len() / ENTRY
    }

    /// True when the set lists no code.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Number of billable codes.
    pub fn billable_count(&self) -> usize {
        self.index
            .chunks_exact(ENTRY)
            .filter(|e| e[7] & 1 == 1)
            .count()
    }

    fn entry(&self, i: usize) -> &[u8] {
        &self.index[i * ENTRY..(i + 1) * ENTRY]
    }

    /// The entry of `code`, or where it would be. Codes compare as big-endian integers of their
    /// seven padded bytes (as bytes, in one comparison each).
    fn search(&self, code: &Code) -> std::result::Result<usize, usize> {
        let key = code.padded();
        let key = u64::from_be_bytes([key[0], key[1], key[2], key[3], key[4], key[5], key[6], 0]);
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let e = self.entry(mid);
            let at = u64::from_be_bytes(e[..8].try_into().expect("8 bytes")) & !0xff;
            match at.cmp(&key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// The title of a code (billable or header), if the set lists it with one.
    pub fn title(&self, code: &Code) -> Option<Cow<'_, str>> {
        let mut out = String::new();
        self.write_title_at(self.search(code).ok()?, &mut out)
            .then_some(Cow::Owned(out))
    }

    /// Whether `code` is listed (billable, a header, or neither) and, when it is listed, where
    /// its title is (for [`CodeSet::write_title`]): one search for both.
    pub fn find(&self, code: &Code) -> (Validity, Option<Listed>) {
        let found = self.search(code);
        (self.validity_at(code, found), found.ok().map(Listed))
    }

    /// Append the title of a code [`CodeSet::find`] found to `out`; false when it has none.
    pub fn write_title(&self, listed: Listed, out: &mut String) -> bool {
        self.write_title_at(listed.0, out)
    }

    /// Append the title of entry `i` to `out`; false when it has none.
    fn write_title_at(&self, i: usize, out: &mut String) -> bool {
        let e = self.entry(i);
        let at = u32::from_le_bytes(e[8..12].try_into().expect("4 bytes")) as usize;
        let len = u32::from_le_bytes(e[12..16].try_into().expect("4 bytes")) as usize;
        if len == 0 {
            return false;
        }
        let (block, offset) = (at / index::BLOCK, at % index::BLOCK);
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.slots.is_empty() {
            recent.slots.resize(RECENT_BLOCKS, (usize::MAX, Vec::new()));
        }
        let (held, bytes) = &mut recent.slots[block % RECENT_BLOCKS];
        if *held != block {
            // Marked empty while it is refilled: a slot never names a block it does not hold.
            *held = usize::MAX;
            self.decompress(block, bytes);
            *held = block;
        }
        out.push_str(&decode(&bytes[offset..offset + len]));
        true
    }

    /// Decompress title block `block` into `into` (its buffer reused).
    fn decompress(&self, block: usize, into: &mut Vec<u8>) {
        let t = &self.blocks[block * index::BLOCK_ENTRY..(block + 1) * index::BLOCK_ENTRY];
        let word = |i: usize| u32::from_le_bytes(t[i..i + 4].try_into().expect("4 bytes")) as usize;
        let (from, len, size) = (word(0), word(4), word(8));
        let dictionary = u32::from_le_bytes(self.packed[..4].try_into().expect("4 bytes")) as usize;
        let dictionary = &self.packed[4..4 + dictionary];
        into.resize(size, 0);
        let n = lz4_flex::block::decompress_into_with_dict(
            &self.packed[from..from + len],
            into,
            dictionary,
        )
        .expect("title blocks are written by this program");
        assert_eq!(n, size, "a title block decompresses to its size");
    }

    /// Whether `code` is a valid code, a category header, or unknown. A set that lists only valid
    /// codes (ICD-9-CM) treats a proper prefix of a listed code as a header (`250` of `25000`).
    pub fn validity(&self, code: &Code) -> Validity {
        self.validity_at(code, self.search(code))
    }

    /// The validity of `code`, found by [`CodeSet::search`] at `found`.
    fn validity_at(&self, code: &Code, found: std::result::Result<usize, usize>) -> Validity {
        match found {
            Ok(i) if self.entry(i)[7] & 1 == 1 => Validity::Billable,
            Ok(_) => Validity::Header,
            // Codes that start with `code` sort right after it.
            Err(i) if i < self.len() && self.entry(i)[..code.len()] == *code.as_bytes() => {
                Validity::Header
            }
            Err(_) => Validity::NotInCodeSet,
        }
    }

    /// The billable codes of the set that begin with `code` and are longer, in code order: what
    /// a header has become (`E78.0` → `E78.00`, `E78.01`). Empty for a billable or unknown code.
    pub fn billable_under<'a>(&'a self, code: &Code) -> impl Iterator<Item = Code> + 'a {
        let prefix = *code;
        // A code's longer codes sort right after it.
        let start = match self.search(code) {
            Ok(i) => i + 1,
            Err(i) => i,
        };
        (start..self.len())
            .map(|i| self.entry(i))
            .take_while(move |e| e[..prefix.len()] == *prefix.as_bytes())
            .filter(|e| e[7] & 1 == 1)
            .map(|e| Code::from_padded(e[..7].try_into().expect("7 bytes")))
    }

    /// [`CodeSet::billable_under`] as text for messages: at most `max` codes dotted for `system`,
    /// then how many more (`E78.00, E78.01`; `S72.001A, …, and 40 more`). `None` when there are
    /// none.
    pub fn billable_under_text(&self, code: &Code, system: System, max: usize) -> Option<String> {
        let mut text = String::new();
        let mut count = 0;
        for c in self.billable_under(code) {
            if count < max {
                if count > 0 {
                    text.push_str(", ");
                }
                text.push_str(&c.dotted(system));
            }
            count += 1;
        }
        if count > max {
            text.push_str(&format!(", and {} more", count - max));
        }
        (count > 0).then_some(text)
    }
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
        let under = |c: &Code| set.billable_under(c).collect::<Vec<_>>();
        assert_eq!(under(&a00), [a000]);
        assert_eq!(under(&a000), []);
        assert_eq!(under(&a001), []);
    }

    #[test]
    fn billable_under_a_header_and_its_text() {
        let text =
            b"00001 E78     0 Disorders of lipoprotein metabolism                         x\n\
00002 E780    0 Pure hypercholesterolemia                                   x\n\
00003 E7800   1 Pure hypercholesterolemia, unspecified                      x\n\
00004 E7801   1 Familial hypercholesterolemia                               x\n\
00005 E781    1 Pure hyperglyceridemia                                      x\n\
00006 E79     0 Disorders of purine and pyrimidine metabolism               x\n\
00007 E790    1 Hyperuricemia without signs of inflammatory arthritis       x\n";
        let set =
            CodeSet::from_order_file("t".into(), Cow::Borrowed(&text[..]), Path::new("order.txt"))
                .unwrap();
        let code = |s: &str| Code::parse_str(System::Icd10Cm, s).unwrap();
        let under = |s: &str| {
            set.billable_under(&code(s))
                .map(|c| c.dotted(System::Icd10Cm))
                .collect::<Vec<_>>()
        };
        assert_eq!(under("E78.0"), ["E78.00", "E78.01"]);
        assert_eq!(under("E78"), ["E78.00", "E78.01", "E78.1"]);
        assert_eq!(under("E79"), ["E79.0"]);
        assert_eq!(under("E78.1"), Vec::<String>::new());
        let text = |s: &str, max| set.billable_under_text(&code(s), System::Icd10Cm, max);
        assert_eq!(text("E78", 8).unwrap(), "E78.00, E78.01, E78.1");
        assert_eq!(text("E78", 2).unwrap(), "E78.00, E78.01, and 1 more");
        assert_eq!(text("E78.1", 8), None);
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
    fn titles_across_many_blocks() {
        // Enough titles of varied length to fill many blocks; every one must come back whole,
        // those longer than a block too (a code set read from a user's file may have them).
        let mut text = String::new();
        let mut expected = Vec::new();
        for n in 0..3000u32 {
            let code = format!("{:03}{}", n / 10, n % 10);
            let long = if n % 97 == 0 { 5 * index::BLOCK } else { 0 };
            let title = format!("Title {n} {}", "x".repeat((n as usize * 7) % 300 + long))
                .trim_end()
                .to_string();
            text.push_str(&format!("{code} {title}\n"));
            expected.push((code, title));
        }
        let set = CodeSet::from_titles(
            System::Icd9Dx,
            "t".into(),
            Cow::Owned(text.into_bytes()),
            Path::new("t.txt"),
        )
        .unwrap();
        assert!(set.packed_parts()[1].len() / index::BLOCK_ENTRY > 100);
        // Out of order, so that blocks are evicted and read again.
        for (code, title) in expected.iter().rev().chain(expected.iter().step_by(7)) {
            let code = Code::parse_str(System::Icd9Dx, code).unwrap();
            assert_eq!(set.title(&code).unwrap(), *title);
        }
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
