//! The four code systems and one compact, canonical form for their codes.
//!
//! Claim files spell the same code many ways (`273.1`, `2731`, ` 2731 `, `v10.51`). Every look-up
//! in the crosswalk is keyed on [`Code`], the undotted upper-case form packed into eight bytes, so
//! that parsing a cell never allocates and hashing a code is one integer write.
//!
//! The system of a code is always given by the caller: `E8581` is a valid ICD-9-CM external-cause
//! code *and* a valid ICD-10-CM code, and `0010` is both an ICD-9 diagnosis and an ICD-9 procedure.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// A code system of the crosswalk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum System {
    /// ICD-9-CM diagnoses (volumes 1–2), used on US claims before 2015-10-01.
    Icd9Dx,
    /// ICD-9-CM procedures (volume 3).
    Icd9Proc,
    /// ICD-10-CM diagnoses, used from 2015-10-01.
    Icd10Cm,
    /// ICD-10-PCS inpatient procedures, used from 2015-10-01.
    Icd10Pcs,
}

impl System {
    /// All four systems, in the order the GEM files are usually listed.
    pub const ALL: [System; 4] = [
        System::Icd9Dx,
        System::Icd10Cm,
        System::Icd9Proc,
        System::Icd10Pcs,
    ];

    /// The position of the system in [`System::ALL`], for tables indexed by system.
    pub fn index(self) -> usize {
        match self {
            System::Icd9Dx => 0,
            System::Icd10Cm => 1,
            System::Icd9Proc => 2,
            System::Icd10Pcs => 3,
        }
    }

    /// The name used on the command line and in JSON output (`icd9-dx`, …).
    pub fn name(self) -> &'static str {
        match self {
            System::Icd9Dx => "icd9-dx",
            System::Icd9Proc => "icd9-proc",
            System::Icd10Cm => "icd10-cm",
            System::Icd10Pcs => "icd10-pcs",
        }
    }

    /// The name a person reads (`ICD-9-CM diagnosis`, …).
    pub fn label(self) -> &'static str {
        match self {
            System::Icd9Dx => "ICD-9-CM diagnosis",
            System::Icd9Proc => "ICD-9-CM procedure",
            System::Icd10Cm => "ICD-10-CM",
            System::Icd10Pcs => "ICD-10-PCS",
        }
    }

    /// True for the two ICD-9-CM systems.
    pub fn is_icd9(self) -> bool {
        matches!(self, System::Icd9Dx | System::Icd9Proc)
    }

    /// True for the two diagnosis systems.
    pub fn is_diagnosis(self) -> bool {
        matches!(self, System::Icd9Dx | System::Icd10Cm)
    }

    /// The system a GEM whose sources are in `self` translates into.
    pub fn gem_target(self) -> System {
        match self {
            System::Icd9Dx => System::Icd10Cm,
            System::Icd10Cm => System::Icd9Dx,
            System::Icd9Proc => System::Icd10Pcs,
            System::Icd10Pcs => System::Icd9Proc,
        }
    }

    /// Where the decimal point goes when a code of this system is printed dotted: after this many
    /// characters, or never.
    fn dot_position(self, code: &[u8]) -> Option<usize> {
        match self {
            System::Icd9Dx if code.first() == Some(&b'E') => Some(4),
            System::Icd9Dx | System::Icd10Cm => Some(3),
            System::Icd9Proc => Some(2),
            System::Icd10Pcs => None,
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for System {
    type Err = String;

    fn from_str(s: &str) -> Result<System, String> {
        let wanted = s.trim().to_ascii_lowercase();
        System::ALL
            .into_iter()
            .find(|sys| sys.name() == wanted)
            .ok_or_else(|| {
                format!("unknown code system {s:?}; expected one of icd9-dx, icd9-proc, icd10-cm, icd10-pcs")
            })
    }
}

/// Why a string is not a code of a system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeErrorKind {
    /// Nothing but blanks.
    Empty,
    /// Fewer characters than the shortest code of the system.
    TooShort {
        /// Shortest valid length, without the decimal point.
        min: usize,
    },
    /// More characters than the longest code of the system.
    TooLong {
        /// Longest valid length, without the decimal point.
        max: usize,
    },
    /// A character the system never uses at that position.
    BadCharacter {
        /// 1-based position in the undotted code.
        position: usize,
        /// The offending byte.
        byte: u8,
        /// What the system expects there.
        expected: &'static str,
    },
    /// A decimal point where the system does not put one.
    MisplacedDot {
        /// Characters before the decimal point.
        after: usize,
        /// Where the system puts it, if it uses one.
        expected: Option<usize>,
    },
}

/// A string that is not a valid code of the system it was parsed as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeError {
    /// The system the string was parsed as.
    pub system: System,
    /// Why it is not a code.
    pub kind: CodeErrorKind,
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = self.system.label();
        match &self.kind {
            CodeErrorKind::Empty => write!(f, "empty, not an {label} code"),
            CodeErrorKind::TooShort { min } => {
                write!(
                    f,
                    "too short for an {label} code (at least {min} characters)"
                )
            }
            CodeErrorKind::TooLong { max } => {
                write!(f, "too long for an {label} code (at most {max} characters)")
            }
            CodeErrorKind::BadCharacter {
                position,
                byte,
                expected,
            } => write!(
                f,
                "character {position} is {}, but an {label} code has {expected} there",
                describe_byte(*byte)
            ),
            CodeErrorKind::MisplacedDot { after, expected } => match expected {
                Some(n) => write!(
                    f,
                    "decimal point after {after} characters, but an {label} code has it after {n}"
                ),
                None => write!(f, "an {label} code has no decimal point"),
            },
        }
    }
}

impl std::error::Error for CodeError {}

fn describe_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else if b == b' ' {
        "a blank".to_string()
    } else {
        format!("byte 0x{b:02X}")
    }
}

/// A code in canonical form: upper case, no decimal point, no padding, at most seven characters.
///
/// Ordering is byte-wise on the undotted form, which sorts `A00` before `A000`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Code {
    // Unused bytes are zero, so equality and ordering on the array are those of the string.
    bytes: [u8; 7],
    len: u8,
}

impl Hash for Code {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // One integer write: the look-up hot path hashes millions of codes.
        state.write_u64(self.packed());
    }
}

impl Code {
    /// The longest code of any system (ICD-10-CM and ICD-10-PCS).
    pub const MAX_LEN: usize = 7;

    /// No code: the empty string, which [`Code::parse`] never returns.
    pub(crate) const NONE: Code = Code {
        bytes: [0; 7],
        len: 0,
    };

    /// Parse any common spelling of a code of `system`: dotted or undotted, any case, with
    /// surrounding blanks. The decimal point, if present, must sit where the system puts it.
    pub fn parse(system: System, input: &[u8]) -> Result<Code, CodeError> {
        let err = |kind| CodeError { system, kind };
        let trimmed = input.trim_ascii();
        if trimmed.is_empty() {
            return Err(err(CodeErrorKind::Empty));
        }
        let mut bytes = [0u8; 7];
        let mut len = 0usize;
        let mut dot_after = None;
        for &b in trimmed {
            if b == b'.' {
                if dot_after.is_some() {
                    return Err(err(CodeErrorKind::BadCharacter {
                        position: len + 1,
                        byte: b,
                        expected: "at most one decimal point",
                    }));
                }
                dot_after = Some(len);
                continue;
            }
            if len == Code::MAX_LEN {
                return Err(err(CodeErrorKind::TooLong {
                    max: max_len(system),
                }));
            }
            bytes[len] = b.to_ascii_uppercase();
            len += 1;
        }
        let code = &bytes[..len];
        if let Some(after) = dot_after {
            let expected = system.dot_position(code);
            if expected != Some(after) {
                return Err(err(CodeErrorKind::MisplacedDot { after, expected }));
            }
        }
        validate(system, code).map_err(err)?;
        Ok(Code {
            bytes,
            len: len as u8,
        })
    }

    /// Parse a `&str`; see [`Code::parse`].
    pub fn parse_str(system: System, input: &str) -> Result<Code, CodeError> {
        Code::parse(system, input.as_bytes())
    }

    /// The undotted canonical form.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("a parsed code holds only ASCII alphanumerics")
    }

    /// The code as one integer (its bytes and its length): never 0, one per code.
    #[inline]
    pub(crate) fn packed(&self) -> u64 {
        let mut packed = [0u8; 8];
        packed[..7].copy_from_slice(&self.bytes);
        packed[7] = self.len;
        u64::from_le_bytes(packed)
    }

    /// The canonical bytes zero-padded to seven: ordered as the codes are, a prefix first.
    pub(crate) fn padded(&self) -> [u8; 7] {
        self.bytes
    }

    /// The code whose [`Code::padded`] bytes these are (as stored in a code set's index).
    pub(crate) fn from_padded(bytes: [u8; 7]) -> Code {
        let len = bytes.iter().position(|&b| b == 0).unwrap_or(7);
        Code {
            bytes,
            len: len as u8,
        }
    }

    /// The undotted canonical form as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// Number of characters, without the decimal point.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Always false: a parsed code has at least two characters. Present for API symmetry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when `prefix` is a proper prefix of this code (`250` of `25000`).
    pub fn starts_with(&self, prefix: &Code) -> bool {
        self.len > prefix.len && self.as_bytes().starts_with(prefix.as_bytes())
    }

    /// Where `system` puts the code's dot, when a character follows it (one rule for the byte
    /// and the string writers).
    fn dot_at(&self, system: System) -> Option<usize> {
        system
            .dot_position(self.as_bytes())
            .filter(|&n| self.len() > n)
    }

    /// Write the code into `out` spelled for `system`: dotted by the system's rule when `dotted`,
    /// otherwise undotted. A dot is only written when characters follow it.
    pub fn write_spelled(&self, system: System, dotted: bool, out: &mut Vec<u8>) {
        let code = self.as_bytes();
        match self.dot_at(system).filter(|_| dotted) {
            Some(n) => {
                out.extend_from_slice(&code[..n]);
                out.push(b'.');
                out.extend_from_slice(&code[n..]);
            }
            None => out.extend_from_slice(code),
        }
    }

    /// Append the code to `out`, dotted by the rule of `system` (as [`Code::dotted`] spells it).
    pub fn write_dotted(&self, system: System, out: &mut String) {
        let code = self.as_str();
        match self.dot_at(system) {
            Some(n) => {
                out.push_str(&code[..n]);
                out.push('.');
                out.push_str(&code[n..]);
            }
            None => out.push_str(code),
        }
    }

    /// The code printed dotted by the rule of `system` (`273.1`, `E812.0`, `36.06`, `D72.819`;
    /// ICD-10-PCS never has a dot).
    pub fn dotted(&self, system: System) -> String {
        let mut out = String::with_capacity(8);
        self.write_dotted(system, &mut out);
        out
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code({})", self.as_str())
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn max_len(system: System) -> usize {
    match system {
        System::Icd9Dx => 5,
        System::Icd9Proc => 4,
        System::Icd10Cm | System::Icd10Pcs => 7,
    }
}

fn check_len(code: &[u8], min: usize, max: usize) -> Result<(), CodeErrorKind> {
    if code.len() < min {
        Err(CodeErrorKind::TooShort { min })
    } else if code.len() > max {
        Err(CodeErrorKind::TooLong { max })
    } else {
        Ok(())
    }
}

fn check_all(
    code: &[u8],
    from: usize,
    ok: impl Fn(u8) -> bool,
    expected: &'static str,
) -> Result<(), CodeErrorKind> {
    match code.iter().enumerate().skip(from).find(|(_, b)| !ok(**b)) {
        Some((i, &byte)) => Err(CodeErrorKind::BadCharacter {
            position: i + 1,
            byte,
            expected,
        }),
        None => Ok(()),
    }
}

fn validate(system: System, code: &[u8]) -> Result<(), CodeErrorKind> {
    match system {
        System::Icd9Dx => {
            match code.first() {
                Some(b'E') => check_len(code, 4, 5)?,
                Some(b'V') => check_len(code, 3, 5)?,
                Some(b) if b.is_ascii_digit() => check_len(code, 3, 5)?,
                Some(&byte) => {
                    return Err(CodeErrorKind::BadCharacter {
                        position: 1,
                        byte,
                        expected: "a digit, V or E",
                    });
                }
                None => return Err(CodeErrorKind::Empty),
            }
            check_all(code, 1, |b| b.is_ascii_digit(), "a digit")
        }
        System::Icd9Proc => {
            check_len(code, 2, 4)?;
            check_all(code, 0, |b| b.is_ascii_digit(), "a digit")
        }
        System::Icd10Cm => {
            check_len(code, 3, 7)?;
            check_all(&code[..1], 0, |b| b.is_ascii_uppercase(), "a letter")?;
            // The only codes with a letter second are FY2026's QA0 genetic disorders.
            if code[..2] == *b"QA" {
                check_all(&code[..3], 2, |b| b.is_ascii_digit(), "a digit")?;
            } else {
                check_all(&code[..2], 1, |b| b.is_ascii_digit(), "a digit")?;
            }
            check_all(
                code,
                2,
                |b| b.is_ascii_digit() || b.is_ascii_uppercase(),
                "a letter or digit",
            )
        }
        System::Icd10Pcs => {
            check_len(code, 7, 7)?;
            // ICD-10-PCS leaves out the letters I and O so they are never read as 1 and 0.
            check_all(
                code,
                0,
                |b| b.is_ascii_digit() || (b.is_ascii_uppercase() && b != b'I' && b != b'O'),
                "a digit or a letter other than I and O",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_the_position_in_all() {
        for (i, system) in System::ALL.into_iter().enumerate() {
            assert_eq!(system.index(), i, "{system:?}");
        }
    }

    fn ok(system: System, input: &str) -> String {
        Code::parse_str(system, input)
            .unwrap_or_else(|e| panic!("{input:?} as {system}: {e}"))
            .to_string()
    }

    fn bad(system: System, input: &str) -> CodeErrorKind {
        match Code::parse_str(system, input) {
            Ok(c) => panic!("{input:?} as {system} parsed as {c}"),
            Err(e) => e.kind,
        }
    }

    #[test]
    fn spellings_of_one_code_agree() {
        use System::*;
        let table = [
            (Icd9Dx, "273.1", "2731"),
            (Icd9Dx, "2731", "2731"),
            (Icd9Dx, "  273.1 ", "2731"),
            (Icd9Dx, "v10.51", "V1051"),
            (Icd9Dx, "V1051", "V1051"),
            (Icd9Dx, "E812.0", "E8120"),
            (Icd9Dx, "e8120", "E8120"),
            (Icd9Dx, "E849", "E849"),
            (Icd9Dx, "486", "486"),
            (Icd9Dx, "486.", "486"),
            (Icd9Dx, "V854", "V854"),
            (Icd9Proc, "36.06", "3606"),
            (Icd9Proc, "0010", "0010"),
            (Icd9Proc, "46", "46"),
            (Icd10Cm, "D47.2", "D472"),
            (Icd10Cm, "d72.819", "D72819"),
            (Icd10Cm, "S14.101A", "S14101A"),
            (Icd10Cm, "C7A.010", "C7A010"),
            (Icd10Cm, "E8581", "E8581"),
            (Icd10Pcs, "02ya0z0", "02YA0Z0"),
            (Icd10Pcs, " 0TCC8ZZ\t", "0TCC8ZZ"),
        ];
        for (system, input, want) in table {
            assert_eq!(ok(system, input), want, "{input:?} as {system}");
        }
    }

    #[test]
    fn dotted_spelling_follows_each_systems_rule() {
        use System::*;
        let table = [
            (Icd9Dx, "2731", "273.1"),
            (Icd9Dx, "486", "486"),
            (Icd9Dx, "V1051", "V10.51"),
            (Icd9Dx, "E8120", "E812.0"),
            (Icd9Dx, "E849", "E849"),
            (Icd9Proc, "3606", "36.06"),
            (Icd9Proc, "46", "46"),
            (Icd10Cm, "D72819", "D72.819"),
            (Icd10Cm, "A70", "A70"),
            (Icd10Pcs, "02YA0Z0", "02YA0Z0"),
        ];
        for (system, undotted, dotted) in table {
            let code = Code::parse_str(system, undotted).unwrap();
            assert_eq!(code.dotted(system), dotted);
            assert_eq!(Code::parse_str(system, dotted).unwrap(), code);
        }
    }

    #[test]
    fn malformed_codes_say_why() {
        use System::*;
        assert_eq!(bad(Icd9Dx, ""), CodeErrorKind::Empty);
        assert_eq!(bad(Icd9Dx, "   "), CodeErrorKind::Empty);
        assert_eq!(bad(Icd9Dx, "27"), CodeErrorKind::TooShort { min: 3 });
        assert_eq!(bad(Icd9Dx, "273111"), CodeErrorKind::TooLong { max: 5 });
        assert_eq!(bad(Icd9Dx, "E81"), CodeErrorKind::TooShort { min: 4 });
        assert_eq!(
            bad(Icd9Dx, "27.31"),
            CodeErrorKind::MisplacedDot {
                after: 2,
                expected: Some(3)
            }
        );
        assert_eq!(
            bad(Icd9Dx, "E81.20"),
            CodeErrorKind::MisplacedDot {
                after: 3,
                expected: Some(4)
            }
        );
        assert!(matches!(
            bad(Icd9Dx, "D472"),
            CodeErrorKind::BadCharacter { position: 1, .. }
        ));
        assert!(matches!(
            bad(Icd9Dx, "27A1"),
            CodeErrorKind::BadCharacter { position: 3, .. }
        ));
        assert!(matches!(
            bad(Icd9Dx, "27 31"),
            CodeErrorKind::BadCharacter { position: 3, .. }
        ));
        assert_eq!(bad(Icd9Proc, "25000"), CodeErrorKind::TooLong { max: 4 });
        assert!(matches!(
            bad(Icd9Proc, "V586"),
            CodeErrorKind::BadCharacter { position: 1, .. }
        ));
        assert!(matches!(
            bad(Icd10Cm, "2731"),
            CodeErrorKind::BadCharacter { position: 1, .. }
        ));
        assert!(matches!(
            bad(Icd10Cm, "DA72"),
            CodeErrorKind::BadCharacter { position: 2, .. }
        ));
        assert_eq!(bad(Icd10Cm, "D7281999"), CodeErrorKind::TooLong { max: 7 });
        assert_eq!(bad(Icd10Pcs, "02YA0Z"), CodeErrorKind::TooShort { min: 7 });
        assert!(matches!(
            bad(Icd10Pcs, "02YI0Z0"),
            CodeErrorKind::BadCharacter { position: 4, .. }
        ));
        assert_eq!(
            bad(Icd10Pcs, "02Y.A0Z0"),
            CodeErrorKind::MisplacedDot {
                after: 3,
                expected: None
            }
        );
        assert!(matches!(
            bad(Icd9Dx, "2.7.31"),
            CodeErrorKind::BadCharacter { .. }
        ));
    }

    #[test]
    fn errors_read_as_sentences() {
        let e = Code::parse_str(System::Icd9Dx, "27.31").unwrap_err();
        assert_eq!(
            e.to_string(),
            "decimal point after 2 characters, but an ICD-9-CM diagnosis code has it after 3"
        );
        let e = Code::parse_str(System::Icd9Proc, "V586").unwrap_err();
        assert_eq!(
            e.to_string(),
            "character 1 is 'V', but an ICD-9-CM procedure code has a digit there"
        );
    }

    #[test]
    fn ordering_is_that_of_the_string() {
        let a = Code::parse_str(System::Icd10Cm, "A00").unwrap();
        let b = Code::parse_str(System::Icd10Cm, "A000").unwrap();
        let c = Code::parse_str(System::Icd10Cm, "A01").unwrap();
        assert!(a < b && b < c);
        assert!(b.starts_with(&a) && !a.starts_with(&a));
    }

    #[test]
    fn systems_parse_by_name() {
        for s in System::ALL {
            assert_eq!(s.name().parse::<System>().unwrap(), s);
        }
        assert!("icd9".parse::<System>().unwrap_err().contains("icd9-dx"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn icd9_dx() -> impl Strategy<Value = String> {
            prop_oneof!["[0-9]{3,5}", "V[0-9]{2,4}", "E[0-9]{3,4}",]
        }

        fn icd10_cm() -> impl Strategy<Value = String> {
            "[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}"
        }

        fn icd10_pcs() -> impl Strategy<Value = String> {
            "[0-9A-HJ-NP-Z]{7}"
        }

        fn any_code() -> impl Strategy<Value = (System, String)> {
            prop_oneof![
                icd9_dx().prop_map(|c| (System::Icd9Dx, c)),
                "[0-9]{2,4}".prop_map(|c| (System::Icd9Proc, c)),
                icd10_cm().prop_map(|c| (System::Icd10Cm, c)),
                icd10_pcs().prop_map(|c| (System::Icd10Pcs, c)),
            ]
        }

        proptest! {
            #[test]
            fn every_spelling_parses_to_the_same_code(
                (system, raw) in any_code(),
                lower in any::<bool>(),
                pad_left in "[ \t]{0,2}",
                pad_right in "[ \t]{0,2}",
            ) {
                let code = Code::parse_str(system, &raw).unwrap();
                prop_assert_eq!(code.as_str(), raw.as_str());
                let dotted = code.dotted(system);
                let mut spelled = format!("{pad_left}{dotted}{pad_right}");
                if lower {
                    spelled = spelled.to_ascii_lowercase();
                }
                prop_assert_eq!(Code::parse_str(system, &spelled).unwrap(), code);
            }

            #[test]
            fn arbitrary_bytes_never_panic(system in prop_oneof![
                Just(System::Icd9Dx), Just(System::Icd9Proc),
                Just(System::Icd10Cm), Just(System::Icd10Pcs)
            ], input in proptest::collection::vec(any::<u8>(), 0..12)) {
                if let Ok(code) = Code::parse(system, &input) {
                    // Whatever parses is canonical and parses again to itself.
                    prop_assert_eq!(Code::parse(system, code.as_bytes()).unwrap(), code);
                }
            }
        }
    }
}
