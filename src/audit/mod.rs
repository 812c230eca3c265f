//! The audit: one row per code that needs a person's judgment, with everything a reviewer needs
//! to decide and an empty `decision` column to record it.
//!
//! [`schema`] defines the row ([`AuditRecord`]) and reads and writes it; [`sink`] turns the
//! converter's events into the lines of the audit file, on every converting thread. The review
//! page ([`crate::report::Review`]) and workbook are [`AuditSink`]s, fed the records those lines
//! hold, in the same process or from the file.

pub mod choices;
pub mod schema;
pub mod sink;

pub use schema::{AuditRecord, Keys, Kind, Layout};
pub use sink::{Auditor, Merger, Part, header};

use crate::code::{Code, System};
use crate::crosswalk::Crosswalk;
use crate::error::Result;
use crate::mapping::Alternative;

/// Receives audit records, in input order.
pub trait AuditSink {
    /// Called once per audit row.
    fn record(&mut self, record: &AuditRecord<'_>) -> Result<()>;
}

impl<A: AuditSink, B: AuditSink> AuditSink for (A, B) {
    fn record(&mut self, record: &AuditRecord<'_>) -> Result<()> {
        self.0.record(record)?;
        self.1.record(record)
    }
}

impl<S: AuditSink> AuditSink for Option<S> {
    fn record(&mut self, record: &AuditRecord<'_>) -> Result<()> {
        match self {
            Some(sink) => sink.record(record),
            None => Ok(()),
        }
    }
}

/// At most this many alternatives are spelled out per audit row: some procedure codes have
/// hundreds (00.50 has 216 clusters of four codes), which no reviewer reads in a cell.
/// `crosswalk map` lists them all.
pub const MAX_LISTED_ALTERNATIVES: usize = 20;

/// The alternatives a reviewer decides between for a `system` code: its GEM's, for an ICD-9
/// code; none for an ICD-10 code (audited when it is no billable code of its code set, and
/// decided as another code of its own system, never by a GEM back to ICD-9).
pub fn alternatives_of(crosswalk: &Crosswalk, system: System, code: &Code) -> Vec<Alternative> {
    if !system.is_icd9() {
        return Vec::new();
    }
    crosswalk
        .gem(system)
        .ok()
        .and_then(|g| g.mapping(code))
        .map(|m| m.alternatives)
        .unwrap_or_default()
}

/// The `alternatives` cell of an audit row: up to [`MAX_LISTED_ALTERNATIVES`] alternatives of
/// `code` (a `system` code), clusters as `A+B`, joined by ` | `, then a note of how many more.
/// A decisions file read from an audit checks it against the crosswalk of the run.
pub fn listed_alternatives(system: System, code: &Code, alternatives: &[Alternative]) -> String {
    let target = system.gem_target();
    list_alternatives(system, code, alternatives, |alternative, out| {
        out.push_str(&alternative.spelled(target));
    })
}

/// Up to [`MAX_LISTED_ALTERNATIVES`] alternatives, each written by `each`, joined by ` | `, then a
/// note of how many more.
fn list_alternatives(
    system: System,
    code: &Code,
    alternatives: &[Alternative],
    mut each: impl FnMut(&Alternative, &mut String),
) -> String {
    let mut out = String::new();
    for (n, alternative) in alternatives
        .iter()
        .take(MAX_LISTED_ALTERNATIVES)
        .enumerate()
    {
        if n > 0 {
            out.push_str(" | ");
        }
        each(alternative, &mut out);
    }
    if alternatives.len() > MAX_LISTED_ALTERNATIVES {
        out.push_str(&format!(
            " | … {} more (crosswalk map --system {} {})",
            alternatives.len() - MAX_LISTED_ALTERNATIVES,
            system.name(),
            code.dotted(system)
        ));
    }
    out
}
