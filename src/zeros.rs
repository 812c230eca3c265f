//! Leading zeros lost on the way: a column that went through a spreadsheet or a numeric column
//! type holds `1882` for 018.82 (tuberculosis), which also reads as 188.2 (bladder cancer), and
//! `389` for 038.9. Nothing here pads silently: a column is *suspect* when no value in it starts
//! with `0` and some are codes only with a zero restored; its values that are codes both ways
//! are flagged `possible_lost_zero`, with both readings. `--restore-zeros` restores the zero of
//! the values that are codes only with it.

use crate::code::{Code, System};
use crate::crosswalk::Crosswalk;

/// The readings of `text` (a `system` cell, ICD-9) with one or two leading zeros restored that
/// are source codes of the crosswalk, the fewest zeros first: `389` → 038.9, `38.9` → 038.9.
pub fn padded(crosswalk: &Crosswalk, system: System, text: &[u8]) -> Option<Code> {
    let text = text.trim_ascii();
    let (int, rest) = match memchr::memchr(b'.', text) {
        Some(at) => (&text[..at], &text[at..]),
        None => (text, &b""[..]),
    };
    if int.is_empty() || !int.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let (whole, longest) = match system {
        System::Icd9Dx => (3, 5),
        System::Icd9Proc => (2, 4),
        System::Icd10Cm | System::Icd10Pcs => return None,
    };
    let gem = crosswalk.gem(system).ok()?;
    (1..=2).find_map(|zeros| {
        // Dotted, the part before the dot has a fixed width; undotted, the whole code has at
        // most `longest` digits.
        let fits = if rest.is_empty() {
            int.len() + zeros <= longest
        } else {
            int.len() + zeros == whole
        };
        if !fits {
            return None;
        }
        let mut candidate = vec![b'0'; zeros];
        candidate.extend_from_slice(int);
        candidate.extend_from_slice(rest);
        let code = Code::parse(system, &candidate).ok()?;
        gem.rows(&code).is_some().then_some(code)
    })
}

/// How `text` reads with a leading zero restored, when that is a source code (as `convert` and
/// `map` say it): `with a leading zero restored it reads as 038.9 (Unspecified septicemia)`.
pub fn padded_reading(crosswalk: &Crosswalk, system: System, text: &[u8]) -> Option<String> {
    let code = padded(crosswalk, system, text)?;
    let title = crosswalk.title(system, &code).unwrap_or_default();
    Some(format!(
        "with a leading zero restored it reads as {} ({title})",
        code.dotted(system)
    ))
}

/// True when `text` is a source code of the crosswalk as written.
pub fn is_source(crosswalk: &Crosswalk, system: System, text: &[u8]) -> bool {
    let Ok(code) = Code::parse(system, text) else {
        return false;
    };
    crosswalk
        .gem(system)
        .is_ok_and(|gem| gem.rows(&code).is_some())
}

/// True when `text` is a code (or category) of the other ICD-9 system as written: DE-SynPUF
/// procedure columns hold many diagnosis codes (`650`), which say nothing about lost zeros.
pub fn other_system_code(crosswalk: &Crosswalk, system: System, text: &[u8]) -> bool {
    crosswalk.other_icd9_code(system, text).is_some()
}

/// What the values of one column seen so far say about lost zeros.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Values that start with `0`: zeros were kept.
    pub zero_first: u64,
    /// Values that are codes only with a zero restored, and the first of them.
    pub only_padded: u64,
    /// The first such value and its padded reading.
    pub example: Option<(String, Code)>,
}

impl Tally {
    /// Count one non-empty cell of a `system` column.
    pub fn add(&mut self, crosswalk: &Crosswalk, system: System, text: &[u8]) {
        let text = text.trim_ascii();
        if self.zero_first > 0 {
            // The column kept its zeros: nothing more to learn.
        } else if text.first() == Some(&b'0') {
            self.zero_first += 1;
        } else if !(is_source(crosswalk, system, text)
            || system == System::Icd9Proc && other_system_code(crosswalk, system, text))
            && let Some(code) = padded(crosswalk, system, text)
        {
            self.only_padded += 1;
            if self.example.is_none() {
                self.example = Some((String::from_utf8_lossy(text).into_owned(), code));
            }
        }
    }

    /// Add what another column of the same group showed: a group of columns went through the
    /// same hands.
    pub fn merge(&mut self, other: &Tally) {
        self.zero_first += other.zero_first;
        self.only_padded += other.only_padded;
        if self.example.is_none() {
            self.example.clone_from(&other.example);
        }
    }

    /// True when the column shows the tell-tale of a numeric round trip.
    pub fn suspect(&self) -> bool {
        self.zero_first == 0 && self.only_padded > 0
    }
}

/// How a code column is treated for lost zeros.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ZeroMode {
    /// Nothing suggests lost zeros.
    #[default]
    Trusted,
    /// The column looks like it lost leading zeros: values that are codes both ways are flagged.
    Suspect,
    /// `--restore-zeros`: values that are codes only with a zero restored get it; values that
    /// are codes both ways are flagged.
    Restore,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_with_zeros_restored() {
        let cw = Crosswalk::builtin();
        let shown = |s: System, t: &str| padded(&cw, s, t.as_bytes()).map(|c| c.dotted(s));
        assert_eq!(shown(System::Icd9Dx, "389").as_deref(), Some("038.9"));
        assert_eq!(shown(System::Icd9Dx, "38.9").as_deref(), Some("038.9"));
        assert_eq!(shown(System::Icd9Dx, "1882").as_deref(), Some("018.82"));
        assert_eq!(shown(System::Icd9Dx, "10").as_deref(), Some("001.0"));
        assert_eq!(shown(System::Icd9Dx, "V1051"), None);
        assert_eq!(shown(System::Icd9Dx, "27310"), None, "no room for a zero");
        assert_eq!(
            shown(System::Icd9Proc, "50").as_deref(),
            Some("05.0"),
            "fewest zeros"
        );
        let mut t = Tally::default();
        for v in ["4019", "389", "1882"] {
            t.add(&cw, System::Icd9Dx, v.as_bytes());
        }
        assert!(t.suspect());
        t.add(&cw, System::Icd9Dx, b"0389");
        assert!(!t.suspect(), "a kept zero clears the column");
    }
}
