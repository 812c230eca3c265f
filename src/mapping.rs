//! The GEM reading rule: from a source code's rows to its ordered alternatives and a status.
//!
//! The alternatives of a source are *or*; the codes inside an alternative (a cluster) are *and*.
//!
//! * Every row with the combination flag 0 is an alternative of its own (a *single*), in file
//!   order. Its scenario and choice-list digits are ignored: the combination flag is what says a
//!   row stands alone. (Three official `gem_i9pcs.txt` rows, e.g. `3584 02S00ZZ 10013`, carry
//!   combination 0 with a non-zero scenario; CMS's own definition makes them complete
//!   alternatives, and reading them as cluster members would invent a cluster the flag denies.)
//! * Then, for each scenario in ascending number, every cluster that takes one code from each of
//!   its choice lists, in odometer order: choice lists ascending, the first list varying slowest,
//!   each list's codes in file order.
//! * An alternative that repeats (the same set of codes) is listed once, where it first appears.
//! * No-map rows contribute no alternative.

use std::collections::BTreeMap;

use rustc_hash::FxHashSet;
use serde::Serialize;

use crate::code::{Code, System};
use crate::row::{Flags, Row};

/// How a code translates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// One alternative of one code, flags `00000`: same meaning, mapped only to each other.
    Exact,
    /// One alternative of one code that is an approximation: the normal case, not an alarm.
    Approximate,
    /// Exactly one alternative, a cluster of two or more codes that together express the source.
    Combination,
    /// Two or more alternatives: someone must choose.
    Ambiguous,
    /// The table says the code has no acceptable target.
    NoMap,
    /// A valid code of the system that is not a source in the table.
    NotInCrosswalk,
    /// Not a valid code of the system at all.
    Malformed,
}

impl Status {
    /// Every status, in the order reports list them.
    pub const ALL: [Status; 7] = [
        Status::Exact,
        Status::Approximate,
        Status::Combination,
        Status::Ambiguous,
        Status::NoMap,
        Status::NotInCrosswalk,
        Status::Malformed,
    ];

    /// The name used in output (`not_in_crosswalk`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Exact => "exact",
            Status::Approximate => "approximate",
            Status::Combination => "combination",
            Status::Ambiguous => "ambiguous",
            Status::NoMap => "no_map",
            Status::NotInCrosswalk => "not_in_crosswalk",
            Status::Malformed => "malformed",
        }
    }

    /// True when the code was found in the table (whatever the table says about it).
    pub fn is_found(self) -> bool {
        !matches!(self, Status::NotInCrosswalk | Status::Malformed)
    }
}

/// One target code of an alternative, with the flags of the row it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// The target code.
    pub code: Code,
    /// The flags of its GEM row.
    pub flags: Flags,
}

/// One way to translate a source code: a single code, or a cluster whose codes are all needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alternative {
    /// The codes, in choice-list order for a cluster.
    pub codes: Vec<Target>,
    /// The scenario a cluster came from; `None` for a single (combination 0) row.
    pub scenario: Option<u8>,
}

impl Alternative {
    /// The codes dotted for `system` and joined by `+` (`A70+J17`), as audits and messages show
    /// an alternative.
    pub fn spelled(&self, system: System) -> String {
        let codes: Vec<String> = self.codes.iter().map(|t| t.code.dotted(system)).collect();
        codes.join("+")
    }
}

/// The translation of a source code: its status and its alternatives in the crosswalk's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// How the code translates.
    pub status: Status,
    /// The alternatives, empty for `no_map`, `not_in_crosswalk` and `malformed`.
    pub alternatives: Vec<Alternative>,
}

impl Mapping {
    /// A mapping with a look-up failure status and no alternatives.
    pub fn failed(status: Status) -> Mapping {
        Mapping {
            status,
            alternatives: Vec::new(),
        }
    }
}

/// Apply the reading rule to the rows of one source code, in file order.
pub fn read_rows(rows: &[Row]) -> Mapping {
    let mut alternatives = Vec::new();
    let mut seen: FxHashSet<Vec<Code>> = FxHashSet::default();
    let mut push = |alternative: Alternative| {
        let mut key: Vec<Code> = alternative.codes.iter().map(|t| t.code).collect();
        key.sort_unstable();
        if seen.insert(key) {
            alternatives.push(alternative);
        }
    };

    // scenario -> choice list -> codes in file order
    let mut scenarios: BTreeMap<u8, BTreeMap<u8, Vec<Target>>> = BTreeMap::new();
    for row in rows {
        let Some(code) = row.target else { continue };
        let target = Target {
            code,
            flags: row.flags,
        };
        if row.flags.combination {
            scenarios
                .entry(row.flags.scenario)
                .or_default()
                .entry(row.flags.choice_list)
                .or_default()
                .push(target);
        } else {
            push(Alternative {
                codes: vec![target],
                scenario: None,
            });
        }
    }

    for (scenario, lists) in scenarios {
        let lists: Vec<Vec<Target>> = lists.into_values().collect();
        // Odometer over one index per choice list; the last list turns fastest.
        let mut odometer = vec![0usize; lists.len()];
        'clusters: loop {
            push(Alternative {
                codes: odometer.iter().zip(&lists).map(|(&i, l)| l[i]).collect(),
                scenario: Some(scenario),
            });
            for wheel in (0..lists.len()).rev() {
                odometer[wheel] += 1;
                if odometer[wheel] < lists[wheel].len() {
                    continue 'clusters;
                }
                odometer[wheel] = 0;
            }
            break;
        }
    }

    let status = match alternatives.as_slice() {
        [] => Status::NoMap,
        [only] if only.codes.len() > 1 => Status::Combination,
        [only] if only.codes[0].flags.is_exact() => Status::Exact,
        [_] => Status::Approximate,
        _ => Status::Ambiguous,
    };
    Mapping {
        status,
        alternatives,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(lines: &[(&str, &str)]) -> Vec<Row> {
        lines
            .iter()
            .enumerate()
            .map(|(i, (target, flags))| Row {
                target: (!target.starts_with("No"))
                    .then(|| Code::parse_str(System::Icd10Cm, target).unwrap()),
                flags: Flags::parse(flags.as_bytes()).unwrap(),
                line: i as u32 + 1,
            })
            .collect()
    }

    fn show(m: &Mapping) -> Vec<String> {
        m.alternatives
            .iter()
            .map(|a| {
                a.codes
                    .iter()
                    .map(|t| t.code.to_string())
                    .collect::<Vec<_>>()
                    .join("+")
            })
            .collect()
    }

    #[test]
    fn statuses_of_the_worked_examples() {
        type Case<'a> = (&'a [(&'a str, &'a str)], Status, &'a [&'a str]);
        let cases: &[Case] = &[
            (&[("D472", "10000")], Status::Approximate, &["D472"]),
            (&[("D708", "00000")], Status::Exact, &["D708"]),
            (
                &[("A70", "10111"), ("J17", "10112")],
                Status::Combination,
                &["A70+J17"],
            ),
            (
                &[("T8610", "10000"), ("T8611", "10000"), ("T8612", "10000")],
                Status::Ambiguous,
                &["T8610", "T8611", "T8612"],
            ),
            (&[("NoDx", "11000")], Status::NoMap, &[]),
        ];
        for (input, status, want) in cases {
            let m = read_rows(&rows(input));
            assert_eq!(m.status, *status, "{input:?}");
            assert_eq!(show(&m), *want, "{input:?}");
        }
    }

    #[test]
    fn singles_first_then_scenarios_in_odometer_order() {
        // Rows deliberately out of order: scenario 2 before 1, list 2 before list 1.
        let m = read_rows(&rows(&[
            ("B02", "10122"),
            ("A01", "10111"),
            ("S01", "10000"),
            ("A02", "10112"),
            ("B01", "10121"),
            ("A03", "10112"),
            ("A04", "10111"),
            ("S02", "10000"),
        ]));
        assert_eq!(m.status, Status::Ambiguous);
        assert_eq!(
            show(&m),
            [
                "S01", "S02", "A01+A02", "A01+A03", "A04+A02", "A04+A03", "B01+B02"
            ]
        );
        assert_eq!(m.alternatives[0].scenario, None);
        assert_eq!(m.alternatives[6].scenario, Some(2));
    }

    #[test]
    fn repeated_alternatives_are_listed_once() {
        // As 0231 in gem_i9pcs: the same code as a single and as a one-list scenario.
        let m = read_rows(&rows(&[
            ("A01", "10000"),
            ("B01", "10000"),
            ("A01", "10111"),
        ]));
        assert_eq!(show(&m), ["A01", "B01"]);
        // The same cluster in two scenarios, written in a different order.
        let m = read_rows(&rows(&[
            ("A01", "10111"),
            ("B01", "10112"),
            ("B01", "10121"),
            ("A01", "10122"),
        ]));
        assert_eq!(show(&m), ["A01+B01"]);
        assert_eq!(m.status, Status::Combination);
    }

    #[test]
    fn combination_zero_with_a_scenario_is_a_single() {
        // As 3584 in gem_i9pcs.
        let m = read_rows(&rows(&[
            ("A10", "10013"),
            ("A11", "10013"),
            ("B10", "10111"),
            ("C10", "10112"),
            ("C11", "10112"),
        ]));
        assert_eq!(show(&m), ["A10", "A11", "B10+C10", "B10+C11"]);
    }
}
