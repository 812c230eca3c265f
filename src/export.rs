//! The resolved lookup table (`crosswalk export`): for every source code of a GEM, what
//! `convert` writes for it with the run's options and decisions, one row per alternative and
//! position, for SQL engines to join claim tables on. Each code is put through the converter's
//! own rewriter, as the one code of a claim row with room for its cluster, so the table says
//! what `convert` does rather than what a reading of the GEM suggests.
//!
//! The rows of a code whose `chosen` is true are what `convert` writes: position 1 into the
//! code's cell, the others into empty cells of its group; a chosen row without a target blanks
//! the cell (`--unmapped blank`, a `blank` decision); a code with no chosen row is left as it is.

use crate::code::{Code, System};
use crate::columns::{ColumnOptions, Plan};
use crate::convert::{Dots, Options, Rewriter};
use crate::crosswalk::Crosswalk;
use crate::decisions::{Decisions, Subject};
use crate::error::{Error, Result};
use crate::event::{CodeEvent, Sink};
use crate::row::Flags;
use crate::status::Statuses;

/// The columns of the table, in order.
pub const COLUMNS: [&str; 16] = [
    "system",
    "code",
    "dotted",
    "status",
    "needs_review",
    "decided_by",
    "alternative",
    "chosen",
    "position",
    "target",
    "target_dotted",
    "target_title",
    "target_validity",
    "flags",
    "gem",
    "code_set",
];

/// One row of the table.
#[derive(Clone, Debug)]
pub struct ExportRow<'a> {
    /// The source system.
    pub system: System,
    /// The source code.
    pub code: Code,
    /// What `convert` reports for a cell holding the code: its outcome and every problem.
    pub statuses: Statuses,
    /// `convert --audit` lists the code.
    pub needs_review: bool,
    /// The decision applied to every occurrence of the code (`FILE:LINE`), if one was loaded.
    pub decided_by: Option<&'a str>,
    /// The alternative, 1-based in the crosswalk's order; `None` for a row that is no
    /// alternative of the GEM (a code with none, or codes a decision chose outside it).
    pub alternative: Option<u32>,
    /// `convert` writes this row's target.
    pub chosen: bool,
    /// The target's place in its cluster, 1-based (`None` without a target).
    pub position: Option<u32>,
    /// The target code.
    pub target: Option<Code>,
    /// The target's GEM flags (`None` for a target a decision chose).
    pub flags: Option<Flags>,
}

/// Collects what the rewriter reports of the cell under export.
#[derive(Default)]
struct Seen {
    statuses: Option<Statuses>,
}

impl Sink for Seen {
    fn code(&mut self, e: &CodeEvent<'_>) -> Result<()> {
        if e.column.index == 0 {
            self.statuses = Some(e.statuses);
        }
        Ok(())
    }
}

/// Hand every row of `system`'s table to `row`, in the GEM's order of source codes, as
/// `convert` with `options` and the code decisions of `decisions` would write them (occurrence
/// decisions are for claims, not codes, and are left out). `row`'s error ends the export.
pub fn export<E: From<Error>>(
    crosswalk: &Crosswalk,
    decisions: &Decisions,
    options: Options,
    system: System,
    mut row: impl FnMut(&ExportRow<'_>) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    if !system.is_icd9() {
        return Err(E::from(Error::config(format!(
            "{}: convert rewrites ICD-9 codes only; export one of icd9-dx, icd9-proc",
            system.name()
        ))));
    }
    let gem = crosswalk.gem(system)?;
    let target = system.gem_target();
    // Room for the largest cluster: the code's cell and empty cells beside it, one group.
    let width = gem
        .sources()
        .filter_map(|(code, _)| gem.mapping(&code))
        .flat_map(|m| m.alternatives.into_iter().map(|a| a.codes.len()))
        .max()
        .unwrap_or(1)
        .max(1);
    let names: Vec<String> = (1..=width)
        .map(|k| format!("crosswalk_export_cell_{k}"))
        .collect();
    let header = csv::ByteRecord::from(names.clone());
    let columns = match system {
        System::Icd9Dx => ColumnOptions {
            dx: names,
            ..ColumnOptions::default()
        },
        _ => ColumnOptions {
            proc: names,
            ..ColumnOptions::default()
        },
    };
    let plan = Plan::new(Some(&header), width, &columns)?;
    let options = Options {
        dots: Dots::Undotted,
        flags_column: false,
        ..options
    };
    let mut rewriter = Rewriter::new(crosswalk, plan, options, "export".into());
    if !decisions.is_empty() {
        rewriter = rewriter.with_decisions(decisions, Vec::new());
    }
    let (mut input, mut output) = (csv::ByteRecord::new(), csv::ByteRecord::new());
    for (n, (code, _)) in gem.sources().enumerate() {
        input.clear();
        input.push_field(code.as_bytes());
        for _ in 1..width {
            input.push_field(b"");
        }
        let mut seen = Seen::default();
        let number = n as u64 + 1;
        rewriter
            .rewrite(number, number + 1, &input, &mut output, None, &mut seen)
            .map_err(E::from)?;
        let statuses = seen.statuses.expect("the rewriter reports the code's cell");
        // What was written: the cell as it was (kept), empty (blanked), or the codes placed.
        let kept = output.get(0) == Some(code.as_bytes());
        let written: Vec<Code> = output
            .iter()
            .filter(|cell| !cell.is_empty())
            .filter_map(|cell| Code::parse(target, cell).ok())
            .collect();
        let decided = decisions.for_code(system, &Subject::Code(code));
        let decided_by = decided.map(|d| format!("{}:{}", decisions.origin(d).display(), d.line));
        let base = ExportRow {
            system,
            code,
            statuses,
            needs_review: statuses.audited(),
            decided_by: decided_by.as_deref(),
            alternative: None,
            chosen: false,
            position: None,
            target: None,
            flags: None,
        };
        let alternatives = gem
            .mapping(&code)
            .map(|m| m.alternatives)
            .unwrap_or_default();
        let chosen_at = (!kept)
            .then(|| {
                alternatives.iter().position(|a| {
                    a.codes.len() == written.len()
                        && a.codes.iter().zip(&written).all(|(t, w)| t.code == *w)
                })
            })
            .flatten();
        for (a, alternative) in alternatives.iter().enumerate() {
            for (p, t) in alternative.codes.iter().enumerate() {
                row(&ExportRow {
                    alternative: Some(a as u32 + 1),
                    chosen: chosen_at == Some(a),
                    position: Some(p as u32 + 1),
                    target: Some(t.code),
                    flags: Some(t.flags),
                    ..base.clone()
                })?;
            }
        }
        if kept || chosen_at.is_some() {
            if alternatives.is_empty() {
                row(&base)?;
            }
            continue;
        }
        // Written, but no alternative of the GEM: blanked, or a decision's own codes.
        if written.is_empty() {
            row(&ExportRow {
                chosen: true,
                ..base.clone()
            })?;
        }
        for (p, w) in written.iter().enumerate() {
            row(&ExportRow {
                chosen: true,
                position: Some(p as u32 + 1),
                target: Some(*w),
                ..base.clone()
            })?;
        }
    }
    Ok(())
}
