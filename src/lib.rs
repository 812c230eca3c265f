//! Convert ICD-9-CM codes and claim records to ICD-10-CM / ICD-10-PCS with the CMS General
//! Equivalence Mappings (GEMs), and say which conversions need a person's judgment.
//!
//! The library does the work and never prints; the `crosswalk` binary is a thin shell around it.
//!
//! * [`code`]: the four code systems and the compact canonical [`Code`].
//! * [`gem`]: loading GEM tables (CMS text, NBER CSV, plain CSV) faithfully.
//! * [`row`]: one GEM row, its target and five flags.
//! * [`mapping`]: the GEM reading rule, from rows to ordered alternatives and a [`Status`].
//! * [`codeset`]: titles and validity (billable, header, not in the code set).
//! * [`years`]: ICD-10-CM by fiscal year, from a code list and the billable spans of its codes.
//! * [`crosswalk`]: the built-in crosswalk and tables loaded from files.
//! * [`columns`]: which columns of a claim file hold codes, their groups and version sources.
//! * [`decisions`]: reviewers' decisions, read from a filled-in audit or a `system,code,decision` file.
//! * [`explain`]: what a code lookup found, in words and as `map --json`'s record.
//! * [`convert`]: the conversion engine: [`convert::Converter`] reads a claim file, rewrites each
//!   record and reports every code to a [`convert::Sink`] ([`event`]), on the pipeline's threads.
//! * [`options`] and [`status`]: what a run writes for each kind of code, and what can happen to
//!   a cell (an outcome and the problems on top of it).
//! * [`csvio`]: reading delimited text: sniffing, bounded records, true line numbers.
//! * [`inert`]: keeping untrusted claim text inert in spreadsheets, terminals and the page.
//! * [`tablefile`]: reading mapping tables and code sets, bounded in size.
//! * [`audit`] and [`summary`]: the sinks behind `--audit` and the run summary.
//! * [`report`]: audit rows grouped by source code, rendered as a self-contained HTML review page.
//! * [`batches`]: Arrow record batches converted as claim files are (for Spark, Polars, DuckDB).
//! * [`chunk`]: the input cut into chunks at record boundaries, and chunks split into records.
//! * [`rows`]: a chunk's records, split without copying, and the [`rows::Record`] the converter reads.
//! * [`input`] and [`output`]: a claim file read to the end it had when opened, and a run's
//!   outputs committed together or not at all.
//!
//! ```
//! use crosswalk::{Crosswalk, Status, System};
//!
//! let cw = Crosswalk::builtin();
//! let found = cw.lookup(System::Icd9Dx, b"996.81")?;
//! assert_eq!(found.mapping.status, Status::Ambiguous);
//! let first = &found.mapping.alternatives[0].codes[0];
//! assert_eq!(first.code.dotted(System::Icd10Cm), "T86.10");
//! # Ok::<(), crosswalk::Error>(())
//! ```
#![deny(missing_docs)]

pub mod audit;
pub mod batches;
pub mod chunk;
pub mod code;
mod codemap;
pub mod codeset;
pub mod columns;
pub mod convert;
pub mod crosswalk;
pub mod csvio;
pub mod csvout;
pub mod dates;
pub mod decisions;
pub mod error;
pub mod event;
pub mod explain;
pub mod export;
pub mod gem;
mod index;
pub mod inert;
pub mod input;
pub mod mapping;
pub mod options;
pub mod output;
pub mod parquet;
pub mod report;
pub mod row;
pub mod rows;
pub mod status;
pub mod summary;
pub mod tablefile;
pub mod workbook;
pub mod xlsx;
pub mod years;
pub mod zeros;

pub use crate::code::{Code, CodeError, System};
pub use crate::codeset::{CodeSet, Validity};
pub use crate::crosswalk::{Crosswalk, Lookup};
pub use crate::error::{Error, ErrorKind, Result};
pub use crate::gem::{Gem, Provenance};
pub use crate::mapping::{Alternative, Mapping, Status, Target};
pub use crate::row::{Flags, Row};
