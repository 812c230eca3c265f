//! One row of a General Equivalence Mapping: its target code and its five flags. Below both
//! the loader ([`crate::gem`]) and the reading rule ([`crate::mapping`]), which share it.

use std::fmt;

use crate::code::Code;

/// The five GEM flags of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Flags {
    /// Source and target do not mean exactly the same thing (the normal case).
    pub approximate: bool,
    /// The source has no acceptable target.
    pub no_map: bool,
    /// The row is one member of a cluster of targets that together express the source.
    pub combination: bool,
    /// Within a combination entry, which variation of the source's meaning (1–9).
    pub scenario: u8,
    /// Within a scenario, which pick-list the target belongs to (1–9).
    pub choice_list: u8,
}

impl Flags {
    /// Parse the five-digit field (`10111`).
    pub fn parse(field: &[u8]) -> Option<Flags> {
        let [a, n, c, s, l] = field else {
            return None;
        };
        let bit = |b: u8| match b {
            b'0' => Some(false),
            b'1' => Some(true),
            _ => None,
        };
        let digit = |b: u8| b.is_ascii_digit().then(|| b - b'0');
        Some(Flags {
            approximate: bit(*a)?,
            no_map: bit(*n)?,
            combination: bit(*c)?,
            scenario: digit(*s)?,
            choice_list: digit(*l)?,
        })
    }

    /// True for `00000`: source and target mean the same thing and map only to each other.
    pub fn is_exact(&self) -> bool {
        *self == Flags::default()
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}{}{}",
            u8::from(self.approximate),
            u8::from(self.no_map),
            u8::from(self.combination),
            self.scenario,
            self.choice_list
        )
    }
}

/// One line of a GEM, without its source code (rows are stored grouped by source).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// The target code, or `None` for a no-map row.
    pub target: Option<Code>,
    /// The row's flags as written in the file.
    pub flags: Flags,
    /// 1-based line number in the file.
    pub line: u32,
}
