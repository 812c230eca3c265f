//! What the converter reports: one event per code cell, in record and column order, to a
//! [`Sink`] (the audit, the summary, the review page, a `Vec` in tests), as ripgrep's searcher
//! reports to its sink. Below the converter and every sink, so that none imports another.

use crate::code::{Code, System};
use crate::columns::CodeColumn;
use crate::error::Result;
use crate::gem::Gem;
use crate::mapping::Mapping;
use crate::rows::Fields;
use crate::status::Statuses;

/// One code met in a record, as reported to a [`Sink`].
#[derive(Debug)]
pub struct CodeEvent<'a> {
    /// 1-based data row number (the header is not a row).
    pub row: u64,
    /// 1-based line number where the record starts in the input.
    pub line: u64,
    /// The column.
    pub column: &'a CodeColumn,
    /// The system the code was read as.
    pub system: System,
    /// The cell as it was in the input.
    pub original: &'a [u8],
    /// The parsed code, if it is one.
    pub code: Option<Code>,
    /// What happened: the outcome and any problems on top of it.
    pub statuses: Statuses,
    /// Why a code is malformed.
    pub reason: Option<&'a str>,
    /// The table the code was looked up in (ICD-9 codes that were parsed).
    pub gem: Option<&'a Gem>,
    /// The value now in the cell.
    pub written: &'a [u8],
    /// Codes of the chosen cluster that found no empty cell (status `overflow`).
    pub leftover: &'a [Code],
    /// The whole input record, for key columns.
    pub record: Fields<'a>,
    /// The decision applied to this occurrence alone (an occurrence row of a decisions file),
    /// as written there.
    pub decision: Option<&'a str>,
    /// The decision the decisions files hold for every occurrence of this code, as written:
    /// applied here unless an occurrence decision beat it.
    pub code_decision: Option<&'a str>,
}

impl CodeEvent<'_> {
    /// The crosswalk's alternatives for the code, when it was looked up and found. Computed on
    /// demand: the rewriter keeps only what it needs per code, and most sinks never ask.
    pub fn mapping(&self) -> Option<Mapping> {
        self.gem?.mapping(self.code.as_ref()?)
    }
}

/// Receives every code event of a conversion.
pub trait Sink {
    /// Called once per non-empty code cell, in record and column order.
    fn code(&mut self, event: &CodeEvent<'_>) -> Result<()>;
}

/// An owned copy of an event, for tests and small tools.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedEvent {
    /// Data row number.
    pub row: u64,
    /// Column name.
    pub column: String,
    /// System.
    pub system: System,
    /// Original cell.
    pub original: String,
    /// Statuses.
    pub statuses: Statuses,
    /// Value written.
    pub written: String,
    /// Leftover codes of an overflow.
    pub leftover: Vec<Code>,
}

impl Sink for Vec<OwnedEvent> {
    fn code(&mut self, e: &CodeEvent<'_>) -> Result<()> {
        self.push(OwnedEvent {
            row: e.row,
            column: e.column.name.clone(),
            system: e.system,
            original: String::from_utf8_lossy(e.original).into_owned(),
            statuses: e.statuses,
            written: String::from_utf8_lossy(e.written).into_owned(),
            leftover: e.leftover.to_vec(),
        });
        Ok(())
    }
}

/// Several sinks as one.
impl<A: Sink, B: Sink> Sink for (A, B) {
    fn code(&mut self, event: &CodeEvent<'_>) -> Result<()> {
        self.0.code(event)?;
        self.1.code(event)
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    fn code(&mut self, event: &CodeEvent<'_>) -> Result<()> {
        (**self).code(event)
    }
}
