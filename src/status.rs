//! What can happen to a code cell: the names the flags column, the audit, the summary and the
//! review page use, and the set of them one cell carries.
//!
//! A cell has one outcome (`exact`, `ambiguous`, `decided`, …) and may have problems on top of
//! it: the alternative written can be ambiguous *and* not fit its column group (`overflow`) *and*
//! hold a code that is not billable (`not_billable`). A [`Statuses`] set holds all of them, so
//! that a reviewer filtering for any one of them finds the cell.

use std::fmt;

use serde::Serialize;

use crate::codeset::{CodeSet, Validity};
use crate::mapping::{Mapping, Status};

/// The outcome for one code cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CellStatus {
    /// Same meaning, one code.
    Exact,
    /// One code, an approximation (the normal case).
    Approximate,
    /// A cluster, all placed in the column group.
    Combination,
    /// Several alternatives; the one written depends on `--choose`.
    Ambiguous,
    /// The crosswalk has no translation.
    NoMap,
    /// A valid-looking code that is not a source in the crosswalk.
    NotInCrosswalk,
    /// Not a valid code for this column (or its version could not be read).
    Malformed,
    /// A cluster whose extra codes did not all find an empty cell in the group.
    Overflow,
    /// The GEM's only translation was written, but a written code is not billable in the built-in
    /// ICD-10 code set (a category header, or a code no longer in it): someone must pick a valid
    /// code.
    NotBillable,
    /// A value that is a code as written and also with a leading zero restored (`1882`: 188.2 or
    /// 018.82), in a column that looks like it lost its zeros: someone must say which.
    PossibleLostZero,
    /// A value that is a code only with its leading zero restored (`389`: 038.9), restored as
    /// `--restore-zeros` asks.
    ZeroRestored,
    /// A valid ICD-10 code, left as it is.
    PassedThrough,
    /// Written as a decisions file says (one of the code's alternatives, `keep` or `blank`).
    Decided,
    /// Written as a decisions file says, with codes that are not among the GEM's alternatives
    /// (valid in the built-in code set): reported in the audit for a second look.
    DecidedOutsideGem,
}

impl CellStatus {
    /// Every status, in report order.
    pub const ALL: [CellStatus; 14] = [
        CellStatus::Exact,
        CellStatus::Approximate,
        CellStatus::Combination,
        CellStatus::Ambiguous,
        CellStatus::NoMap,
        CellStatus::NotInCrosswalk,
        CellStatus::Malformed,
        CellStatus::Overflow,
        CellStatus::NotBillable,
        CellStatus::PossibleLostZero,
        CellStatus::ZeroRestored,
        CellStatus::PassedThrough,
        CellStatus::Decided,
        CellStatus::DecidedOutsideGem,
    ];

    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            CellStatus::Exact => "exact",
            CellStatus::Approximate => "approximate",
            CellStatus::Combination => "combination",
            CellStatus::Ambiguous => "ambiguous",
            CellStatus::NoMap => "no_map",
            CellStatus::NotInCrosswalk => "not_in_crosswalk",
            CellStatus::Malformed => "malformed",
            CellStatus::Overflow => "overflow",
            CellStatus::NotBillable => "not_billable",
            CellStatus::PossibleLostZero => "possible_lost_zero",
            CellStatus::ZeroRestored => "zero_restored",
            CellStatus::PassedThrough => "passed_through",
            CellStatus::Decided => "decided",
            CellStatus::DecidedOutsideGem => "decided_outside_gem",
        }
    }

    /// True for the statuses a person must look at.
    pub fn needs_review(self) -> bool {
        matches!(
            self,
            CellStatus::Ambiguous
                | CellStatus::NoMap
                | CellStatus::NotInCrosswalk
                | CellStatus::Malformed
                | CellStatus::Overflow
                | CellStatus::NotBillable
                | CellStatus::PossibleLostZero
        )
    }

    /// True for the statuses named in the flags column: those that need review and those a
    /// decisions file settled.
    pub fn flagged(self) -> bool {
        self.needs_review()
            || matches!(
                self,
                CellStatus::Decided | CellStatus::DecidedOutsideGem | CellStatus::ZeroRestored
            )
    }

    /// True for the statuses listed in the audit file: those that need review, and decisions
    /// that went outside the GEM.
    pub fn audited(self) -> bool {
        self.needs_review() || self == CellStatus::DecidedOutsideGem
    }

    pub(crate) fn from_lookup(status: Status) -> CellStatus {
        match status {
            Status::Exact => CellStatus::Exact,
            Status::Approximate => CellStatus::Approximate,
            Status::Combination => CellStatus::Combination,
            Status::Ambiguous => CellStatus::Ambiguous,
            Status::NoMap => CellStatus::NoMap,
            Status::NotInCrosswalk => CellStatus::NotInCrosswalk,
            Status::Malformed => CellStatus::Malformed,
        }
    }
}

impl fmt::Display for CellStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The statuses one cell carries: its outcome, and the problems on top of it. Shown (flags
/// column, audit, page) as their names joined by `+` in [`CellStatus::ALL`] order
/// (`ambiguous+overflow`). An outcome that needs no review is not shown beside a problem: a sure
/// translation to a header is `not_billable`, not `exact+not_billable`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Statuses(u16);

impl Statuses {
    /// The empty set.
    pub(crate) const NONE: Statuses = Statuses(0);

    /// The set as bits, one per status.
    pub(crate) fn bits(self) -> u16 {
        self.0
    }

    /// The set of one status.
    pub fn one(status: CellStatus) -> Statuses {
        Statuses(1 << status as u16)
    }

    /// Add a problem to the cell's outcome. A problem replaces an outcome that needs no review
    /// (`exact` + `not_billable` is `not_billable`; so is an ICD-10 code passed through that is
    /// a header).
    pub fn add_problem(&mut self, problem: CellStatus) {
        debug_assert!(matches!(
            problem,
            CellStatus::Overflow
                | CellStatus::NotBillable
                | CellStatus::PossibleLostZero
                | CellStatus::ZeroRestored
        ));
        for quiet in [
            CellStatus::Exact,
            CellStatus::Approximate,
            CellStatus::Combination,
            CellStatus::PassedThrough,
        ] {
            self.0 &= !(1 << quiet as u16);
        }
        self.0 |= 1 << problem as u16;
    }

    /// What `convert` (with the default `--choose first`) reports for a code whose crosswalk
    /// reading is `mapping`: its outcome, and `not_billable` when the alternative it writes (the
    /// first) holds a code that is not billable in `targets`, the code set of the target system.
    pub fn of_mapping(mapping: &Mapping, targets: &CodeSet) -> Statuses {
        let mut statuses = Statuses::one(CellStatus::from_lookup(mapping.status));
        if let Some(first) = mapping.alternatives.first()
            && first
                .codes
                .iter()
                .any(|t| targets.validity(&t.code) != Validity::Billable)
        {
            statuses.add_problem(CellStatus::NotBillable);
        }
        statuses
    }

    /// True when `status` is one of the set.
    pub fn contains(self, status: CellStatus) -> bool {
        self.0 & (1 << status as u16) != 0
    }

    /// The statuses of the set, in [`CellStatus::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = CellStatus> {
        // Bit `n` is the status of discriminant `n`, which is its place in `ALL`: visit the set
        // bits only (this runs for every code cell).
        let mut bits = self.0;
        std::iter::from_fn(move || {
            let n = bits.trailing_zeros() as usize;
            bits &= bits.checked_sub(1)?;
            Some(CellStatus::ALL[n])
        })
    }

    /// True when a person must look at the cell.
    pub fn needs_review(self) -> bool {
        self.iter().any(CellStatus::needs_review)
    }

    /// True when the cell is named in the flags column.
    pub fn flagged(self) -> bool {
        self.iter().any(CellStatus::flagged)
    }

    /// True when the cell is listed in the audit.
    pub fn audited(self) -> bool {
        self.iter().any(CellStatus::audited)
    }

    /// Append the names joined by `+`.
    pub fn write_label(self, out: &mut Vec<u8>) {
        for (k, status) in self.iter().enumerate() {
            if k > 0 {
                out.push(b'+');
            }
            out.extend_from_slice(status.as_str().as_bytes());
        }
    }

    /// Read a label written by [`Statuses::write_label`] (or a single name).
    pub fn parse(label: &str) -> Option<Statuses> {
        let mut set = Statuses::default();
        for name in label.split('+') {
            let status = CellStatus::ALL.into_iter().find(|s| s.as_str() == name)?;
            set.0 |= 1 << status as u16;
        }
        (set.0 != 0).then_some(set)
    }
}

impl From<CellStatus> for Statuses {
    fn from(status: CellStatus) -> Statuses {
        Statuses::one(status)
    }
}

impl fmt::Display for Statuses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, status) in self.iter().enumerate() {
            if k > 0 {
                f.write_str("+")?;
            }
            f.write_str(status.as_str())?;
        }
        Ok(())
    }
}

impl Serialize for Statuses {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_discriminant_order() {
        for (n, status) in CellStatus::ALL.into_iter().enumerate() {
            assert_eq!(status as usize, n, "{status}");
        }
    }

    #[test]
    fn labels_join_every_status_and_read_back() {
        let mut s = Statuses::one(CellStatus::Ambiguous);
        s.add_problem(CellStatus::Overflow);
        s.add_problem(CellStatus::NotBillable);
        assert_eq!(s.to_string(), "ambiguous+overflow+not_billable");
        assert_eq!(Statuses::parse("ambiguous+overflow+not_billable"), Some(s));
        assert!(s.contains(CellStatus::Overflow) && s.needs_review());
        let mut sure = Statuses::one(CellStatus::Exact);
        sure.add_problem(CellStatus::NotBillable);
        assert_eq!(sure.to_string(), "not_billable");
        assert_eq!(Statuses::parse("exact+nonsense"), None);
        assert_eq!(Statuses::parse(""), None);
        assert!(!Statuses::one(CellStatus::Exact).flagged());
    }
}
