//! The conversion engine: a claim file in, converted rows, audit records and events out.
//!
//! A [`Converter`] holds what a run is configured with (the crosswalk, the decisions, the
//! options). [`Converter::open`] reads the header and plans the columns (which the caller may
//! show); [`Opened::run`] streams every record through the [`Rewriter`] on the pipeline's threads
//! and writes the results, in input order, to the caller's writers. The binary, the fuzz target
//! and the benchmarks all drive this one path.

mod pipeline;
mod rewrite;

use std::collections::VecDeque;
use std::io::{Read, Write};

use crate::audit::{AuditSink, Auditor, Merger};
use crate::chunk::{self, Cutter};
use crate::columns::{ColumnOptions, Plan};
use crate::crosswalk::Crosswalk;
use crate::csvio::{self, Sniffed};
use crate::csvout::Encoder;
use crate::decisions::Decisions;
use crate::error::{Error, Result};
use crate::report::Review;
use crate::rows::{Fields, Rows};
use crate::summary::Summary;
use crate::workbook::ReviewWorkbook;

pub use crate::event::{CodeEvent, OwnedEvent, Sink};
pub use crate::options::{Choose, Dots, Options, Unmapped};
pub use crate::status::{CellStatus, Statuses};
pub use pipeline::default_threads;
pub use rewrite::Rewriter;

/// Records read ahead at most, to judge the columns (lost leading zeros) before converting.
const READ_AHEAD_ROWS: usize = 10_000;

/// Bytes read ahead at most: memory stays flat whatever the records.
const READ_AHEAD_BYTES: usize = 8 << 20;

/// Mark the columns that look like they lost their leading zeros (no value read ahead starts
/// with `0`, and some are codes only with one restored), and say so in the plan's notes.
fn judge_zeros(plan: &mut Plan, records: &[Fields<'_>], crosswalk: &Crosswalk) {
    use crate::columns::Version;
    use crate::zeros::{Tally, ZeroMode};
    let mut tallies = vec![Tally::default(); plan.columns.len()];
    for record in records {
        for (column, tally) in plan.columns.iter().zip(&mut tallies) {
            let cell = record.get(column.index).unwrap_or(b"");
            if column.zeros == ZeroMode::Trusted
                && !cell.trim_ascii().is_empty()
                && column.version.version(record) == Ok(Version::Icd9)
            {
                tally.add(crosswalk, column.kind.system(Version::Icd9), cell);
            }
        }
    }
    // A group of columns went through the same hands: judged together.
    let mut groups = vec![Tally::default(); plan.groups.len()];
    for (column, tally) in plan.columns.iter().zip(&tallies) {
        groups[column.group].merge(tally);
    }
    let mut suspect = Vec::new();
    let mut example = None;
    for column in plan.columns.iter_mut() {
        let tally = &groups[column.group];
        if column.zeros == ZeroMode::Trusted && tally.suspect() {
            column.zeros = ZeroMode::Suspect;
            suspect.push(column.name.clone());
            if example.is_none() {
                example = tally.example.clone().map(|e| (e, column.kind));
            }
        }
    }
    if let Some(((text, code), kind)) = example {
        let system = kind.system(Version::Icd9);
        plan.notes.push(format!(
            "warning: {} may have lost leading zeros (a spreadsheet or a numeric type?): no value \
             starts with 0, and some are codes only with a zero restored ({text} is no code, \
             {} is); values that are codes both ways are flagged possible_lost_zero, and \
             --restore-zeros {} restores the others",
            suspect.join(", "),
            code.dotted(system),
            suspect.join(",")
        ));
    }
}

/// The records read ahead that the columns are judged on: the first [`READ_AHEAD_ROWS`], up to
/// the one that makes them [`READ_AHEAD_BYTES`] or more.
fn read_ahead(pending: &VecDeque<Rows>) -> Vec<Fields<'_>> {
    let mut bytes = 0;
    pending
        .iter()
        .flat_map(Rows::iter)
        .take(READ_AHEAD_ROWS)
        .take_while(|r| {
            let before = bytes;
            // The bytes of its fields, as the record was counted before it was read in place.
            bytes += r.text().len() + 1 - r.len();
            before < READ_AHEAD_BYTES
        })
        .collect()
}

/// The name of the flags column unless told otherwise.
pub const DEFAULT_FLAGS_COLUMN: &str = "crosswalk_flags";

/// How a run reads and writes, beside the [`Options`] that decide what is written.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// What is written for each code.
    pub options: Options,
    /// Which columns hold codes, their versions and the claim keys.
    pub columns: ColumnOptions,
    /// The delimiter; `None` sniffs it from the first line.
    pub delimiter: Option<u8>,
    /// The first line is data.
    pub no_headers: bool,
    /// Pass rows of another width through, flagged, instead of stopping.
    pub flexible: bool,
    /// The name of the flags column.
    pub flags_column_name: String,
    /// Threads: 1 reads, converts and writes in turn. N of 2 or more: N threads convert (the
    /// audit's lines too) while one reads and this one puts the results in order and writes.
    pub threads: usize,
}

/// A conversion's settings and data, reused for any number of inputs.
pub struct Converter<'c> {
    crosswalk: &'c Crosswalk,
    decisions: &'c Decisions,
    config: Config,
}

/// Where a run's results go. The review page is fed the records an audit holds.
pub struct Outputs<W: Write> {
    /// The converted claim file.
    pub rows: W,
    /// The audit file, if one is wanted.
    pub audit: Option<W>,
    /// Group the audit records for a review page.
    pub review: bool,
    /// The review workbook, if one is wanted (made with the plan's key column names).
    pub workbook: Option<ReviewWorkbook>,
}

/// What a run made, for the caller to finish and report.
pub struct Finished<W: Write> {
    /// The converted claim file's writer, flushed.
    pub rows: W,
    /// The audit file's writer, flushed.
    pub audit: Option<W>,
    /// The audit records grouped for the review page.
    pub review: Option<Review>,
    /// The review workbook, filled, for the caller to save.
    pub workbook: Option<ReviewWorkbook>,
    /// The run's counts.
    pub summary: Summary,
    /// Audit occurrence rows written (or grouped).
    pub audit_rows: u64,
    /// Audit code rows written.
    pub audit_codes: u64,
    /// Audit occurrence rows of cells that are no code.
    pub audit_textual: u64,
    /// Per decision (in [`Decisions::list`] order): how many codes it decided.
    pub decisions_used: Vec<u64>,
    /// Per decision: bound to a row whose number now holds another row.
    pub decisions_moved: Vec<bool>,
    /// What the run learnt too late to act on (see [`Rewriter::warnings`]).
    pub warnings: Vec<String>,
}

/// A claim file with its header read and its columns planned, ready to [`Opened::run`].
pub struct Opened<'c, R> {
    converter: &'c Converter<'c>,
    name: String,
    cutter: Cutter<R>,
    header: Option<csv::ByteRecord>,
    pending: VecDeque<Rows>,
    width: usize,
    sniffed: Sniffed,
    delimiter: u8,
    rewriter: Rewriter<'c>,
    /// Data rows and lines that came before this input, in a stream of inputs converted as one.
    before: (u64, u64),
}

impl<'c> Converter<'c> {
    /// A converter with these tables, decisions and settings.
    pub fn new(crosswalk: &'c Crosswalk, decisions: &'c Decisions, config: Config) -> Self {
        Converter {
            crosswalk,
            decisions,
            config,
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Read the header of `input` (the file called `name` in errors) and plan its columns.
    pub fn open<R: Read>(
        &'c self,
        input: R,
        name: &str,
    ) -> Result<Opened<'c, impl Read + use<'c, R>>> {
        self.open_judged(input, name, None)
    }

    /// As [`Converter::open`], the code columns' leading zeros judged as `zeros` says when it is
    /// given (what [`Opened::zero_modes`] gave for the first of several inputs converted as one)
    /// instead of on this input's records.
    pub fn open_judged<R: Read>(
        &'c self,
        mut input: R,
        name: &str,
        zeros: Option<&[crate::zeros::ZeroMode]>,
    ) -> Result<Opened<'c, impl Read + use<'c, R>>> {
        let prefix = csvio::read_prefix(&mut input).map_err(|e| Error::io(Some(name.into()), e))?;
        let sniffed = csvio::sniff(&prefix);
        let delimiter = self.config.delimiter.unwrap_or(sniffed.delimiter);
        let mut cutter = Cutter::new(std::io::Cursor::new(prefix).chain(input), name, delimiter);
        // The first records are read ahead, in whole chunks: without a header, the width comes
        // from the first record; whether a column lost its leading zeros is judged on up to
        // READ_AHEAD_ROWS of them (and READ_AHEAD_BYTES).
        let (mut pending, mut chunk) = (VecDeque::new(), chunk::Chunk::default());
        let mut core = chunk::core_reader(delimiter);
        let (mut rows, mut ahead) = (0, 0);
        let mut header = None;
        while rows < READ_AHEAD_ROWS && ahead < READ_AHEAD_BYTES {
            if !cutter.next_chunk(&mut chunk)? {
                break;
            }
            let mut batch = Rows::default();
            chunk::split(&mut chunk, delimiter, &mut core, &mut batch);
            if !self.config.no_headers && header.is_none() {
                header = batch.take_first();
            }
            rows += batch.len();
            ahead += batch.raw_len();
            pending.push_back(batch);
        }
        if !self.config.no_headers && header.is_none() {
            return Err(Error::config(format!(
                "{name}: the file is empty; a header line was expected (use --no-headers \
                 for files without one)"
            )));
        }
        let ahead = read_ahead(&pending);
        let width = match &header {
            Some(h) => h.len(),
            None => ahead.first().map_or(0, |r| r.len()),
        };
        if let Some(h) = &header {
            self.refuse_converted(h, &ahead, name)?;
        }
        let mut plan = Plan::new(header.as_ref(), width, &self.config.columns)
            .map_err(|e| Error::config(format!("{name}: {e}")))?;
        match zeros {
            Some(modes) => {
                for (column, mode) in plan.columns.iter_mut().zip(modes) {
                    column.zeros = *mode;
                }
            }
            None => judge_zeros(&mut plan, &ahead, self.crosswalk),
        }
        let decision_keys = self
            .decisions
            .key_columns()
            .iter()
            .map(|k| {
                header
                    .as_ref()
                    .and_then(|h| h.iter().position(|f| f == k.as_bytes()))
                    .ok_or_else(|| {
                        Error::config(format!(
                            "{name}: the decisions name claims by the column {k}, which this \
                             file does not have"
                        ))
                    })
            })
            .collect::<Result<Vec<usize>>>()?;
        let mut rewriter = Rewriter::new(self.crosswalk, plan, self.config.options, name.into())
            .with_decisions(self.decisions, decision_keys);
        if self.config.flexible {
            rewriter = rewriter.with_width(width);
        }
        Ok(Opened {
            converter: self,
            name: name.to_string(),
            cutter,
            header,
            pending,
            width,
            sniffed,
            delimiter,
            rewriter,
            before: (0, 0),
        })
    }
}

impl Converter<'_> {
    /// A converted file is not converted again: converting it would read its ICD-10 codes by
    /// whatever version fields it has and append a second flags column. It is known by a column
    /// whose values read ahead are crosswalk flags (whatever its name), or by a column with the
    /// flags column's name that is empty in every row read ahead (nothing needed review). A
    /// column of that name holding anything else is a name clash.
    fn refuse_converted(
        &self,
        header: &csv::ByteRecord,
        rows: &[Fields<'_>],
        name: &str,
    ) -> Result<()> {
        let names: Vec<&[u8]> = header.iter().map(|h| h.trim_ascii()).collect();
        let flags_name = [DEFAULT_FLAGS_COLUMN, self.config.flags_column_name.as_str()];
        for (i, column) in names.iter().enumerate() {
            let mut values = rows
                .iter()
                .map(|r| r.get(i).unwrap_or(b"").trim_ascii())
                .filter(|v| !v.is_empty())
                .peekable();
            let some = values.peek().is_some();
            let all_flags = values.all(|v| looks_like_flags(v, &names));
            let named = flags_name
                .iter()
                .any(|f| column.eq_ignore_ascii_case(f.as_bytes()));
            let shown = String::from_utf8_lossy(column);
            if (some && all_flags) || (named && !some) {
                return Err(Error::config(format!(
                    "{name}: this file was converted by crosswalk already (its column {shown} \
                     holds crosswalk flags); convert the original file instead (with --decisions \
                     to apply reviewers' decisions)"
                )));
            }
            let clash = column.eq_ignore_ascii_case(self.config.flags_column_name.as_bytes());
            if clash && self.config.options.flags_column {
                return Err(Error::config(format!(
                    "{name}: the file has a column {shown} already; name the flags column \
                     otherwise with --flags-column NAME"
                )));
            }
        }
        Ok(())
    }
}

/// True when `value` reads as a flags cell this program writes: `COLUMN:STATUS:ORIGINAL`
/// entries joined by `;`, each naming a column of the header (or `(row)`) and known statuses.
fn looks_like_flags(value: &[u8], header: &[&[u8]]) -> bool {
    value.split(|&b| b == b';').all(|entry| {
        let mut parts = entry.splitn(3, |&b| b == b':');
        let (Some(column), Some(label), Some(_)) = (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let known_column = column == b"(row)" || header.contains(&column);
        let label = std::str::from_utf8(label).unwrap_or("");
        let known_label = matches!(label, "ragged" | "added" | "version_kept")
            || crate::status::Statuses::parse(label).is_some();
        known_column && known_label
    })
}

impl<'c, R: Read + Send> Opened<'c, R> {
    /// The column plan, for the caller to show.
    pub fn plan(&self) -> &Plan {
        self.rewriter.plan()
    }

    /// The header record, when the file has one.
    pub fn header(&self) -> Option<&csv::ByteRecord> {
        self.header.as_ref()
    }

    /// The width of the records (the header's, or the first record's).
    pub fn width(&self) -> usize {
        self.width
    }

    /// The delimiter the output is written with (the input's).
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// How the code columns' leading zeros were judged on the records read ahead, in plan
    /// order.
    pub fn zero_modes(&self) -> Vec<crate::zeros::ZeroMode> {
        self.plan().columns.iter().map(|c| c.zeros).collect()
    }

    /// Number rows and lines after `rows` data rows and `lines` lines of inputs converted before
    /// this one, as parts of one stream: the audit, errors and row decisions count on from there.
    pub fn after(mut self, rows: u64, lines: u64) -> Self {
        self.before = (rows, lines);
        self
    }

    /// Convert every record, writing the results to `outputs`; `progress` is told the bytes
    /// read after each batch.
    pub fn run<W: Write + Send>(
        self,
        outputs: Outputs<W>,
        mut progress: impl FnMut(u64) + Send,
    ) -> Result<Finished<W>> {
        let Opened {
            converter,
            name,
            cutter,
            header,
            pending,
            width,
            sniffed,
            delimiter,
            mut rewriter,
            before: (rows_before, lines_before),
        } = self;
        let config = &converter.config;
        let keys = rewriter.plan().keys.clone();
        let key_at: Vec<usize> = keys.iter().map(|(i, _)| *i).collect();
        let mut outputs = outputs;
        let mut reviewers = Reviewers::new(&name, &keys, outputs.review, outputs.workbook.take())?;
        let auditing = outputs.audit.is_some() || reviewers.wanted();
        let writers = writers(
            config,
            header.as_ref(),
            &keys,
            sniffed.crlf,
            delimiter,
            outputs,
        )?;
        rewriter.set_reasons(auditing);
        let swallowed = cutter.swallowed();
        let encoder = Encoder::new(delimiter, sniffed.crlf);
        let rows = RowCheck {
            name: &name,
            width,
            header: header.is_some(),
            flexible: config.flexible,
            ..RowCheck::default()
        };
        let crosswalk = converter.crosswalk;
        let fingerprint = &rewriter.plan().fingerprint;
        // Each converting thread has a rewriter, counts and auditor of its own; what depends on
        // input order (the audit's code rows and claims, the texts needing review) is put
        // together as the chunks are written, in input order, by whichever thread writes them,
        // so every output is the same whatever the thread count.
        let mut states: Vec<Worker> = (0..config.threads.max(1))
            .map(|_| Worker {
                rewriter: rewriter.fork(),
                summary: Summary::part(),
                rows: rows.clone(),
                audit: auditing
                    .then(|| Auditor::new(crosswalk, &key_at, fingerprint.clone(), &name)),
            })
            .collect();
        let mut merger = auditing.then(|| Merger::new(crosswalk, keys.len(), &name));
        let mut summary = Summary::default();
        let source = pipeline::Source::new(cutter, pending, delimiter, header.is_some());
        let mut writers = pipeline::run(
            source,
            writers,
            &mut states,
            |w: &mut Worker, first_row, input, output| {
                output.rows.clear();
                w.rows.row = rows_before + first_row - 1;
                for record in input.iter() {
                    let line = lines_before + record.line();
                    let row = w.rows.row + 1;
                    let extra_flag = w.rows.check(record, line, &mut w.summary)?;
                    let at = (row, line, extra_flag);
                    let out = (&encoder, &mut *output);
                    convert_record(
                        &mut w.rewriter,
                        at,
                        record,
                        &mut w.summary,
                        &mut w.audit,
                        out,
                    )?;
                }
                w.summary.take_texts(&mut output.texts);
                if let Some(audit) = &mut w.audit {
                    audit.take(&mut output.part);
                }
                Ok(())
            },
            |input, output, lines| {
                summary.count_texts(&output.texts);
                if let Some(merger) = &mut merger {
                    merger.merge(&output.part, lines);
                    reviewers.feed(lines)?;
                }
                progress(input.end());
                Ok(())
            },
        )?;
        for w in &states {
            rewriter.absorb(&w.rewriter);
            summary.absorb(&w.summary);
        }
        rows.finish(*swallowed.lock().unwrap_or_else(|e| e.into_inner()))?;
        // The last claim's occurrences, held until the input ended.
        if let Some(merger) = &mut merger {
            let mut last = Vec::new();
            merger.finish(&mut last);
            reviewers.feed(&last)?;
            if let Some(out) = &mut writers.audit {
                out.write_all(&last).map_err(|e| Error::io(None, e))?;
            }
        }
        finished(&name, writers, merger, reviewers, summary, &rewriter)
    }
}

/// What a run made, once every record is converted: the writers flushed, the counts checked.
fn finished<W: Write>(
    name: &str,
    writers: pipeline::Writers<W>,
    merger: Option<Merger<'_>>,
    reviewers: Reviewers,
    summary: Summary,
    rewriter: &Rewriter<'_>,
) -> Result<Finished<W>> {
    if summary.rows_in + summary.rows_added != summary.rows_out {
        return Err(Error::config(format!(
            "{name}: {} rows read and {} added but {} written; nothing was kept",
            summary.rows_in, summary.rows_added, summary.rows_out
        )));
    }
    let finish = |mut w: W| w.flush().map(|()| w).map_err(|e| Error::io(None, e));
    Ok(Finished {
        rows: {
            let mut rows = writers.rows;
            rows.flush().map_err(|e| Error::io(None, e))?;
            rows
        },
        audit: writers.audit.map(finish).transpose()?,
        audit_rows: merger.as_ref().map_or(0, |a| a.count()),
        audit_codes: merger.as_ref().map_or(0, |a| a.code_rows()),
        audit_textual: merger.as_ref().map_or(0, |a| a.textual()),
        workbook: reviewers.workbook,
        review: reviewers.review,
        summary,
        decisions_used: rewriter.decisions_used().to_vec(),
        decisions_moved: rewriter.decisions_moved().to_vec(),
        warnings: rewriter.warnings(),
    })
}

/// A converting thread's own rewriter, counts, row check and auditor.
struct Worker<'c, 'n> {
    rewriter: Rewriter<'c>,
    summary: Summary,
    rows: RowCheck<'n>,
    audit: Option<Auditor<'c>>,
}

/// The review page and workbook of a run, fed the records of its audit lines as they are made
/// (as `report` is fed an audit file's).
struct Reviewers {
    review: Option<Review>,
    workbook: Option<ReviewWorkbook>,
    layout: crate::audit::Layout,
    name: std::path::PathBuf,
    record: csv::ByteRecord,
    lines: u64,
}

impl Reviewers {
    fn new(
        name: &str,
        keys: &[(usize, String)],
        review_page: bool,
        workbook: Option<ReviewWorkbook>,
    ) -> Result<Reviewers> {
        let header = crate::audit::Layout::header(keys.iter().map(|k| &k.1[..]));
        let name = std::path::PathBuf::from(name);
        Ok(Reviewers {
            review: review_page.then(|| Review::new(keys.iter().map(|k| k.1.clone()).collect())),
            workbook,
            layout: crate::audit::Layout::read_header(&header, &name)?,
            name,
            record: csv::ByteRecord::new(),
            lines: 1,
        })
    }

    fn wanted(&self) -> bool {
        self.review.is_some() || self.workbook.is_some()
    }

    /// Hand the records of `lines` (whole lines of the audit) to the page and the workbook.
    fn feed(&mut self, lines: &[u8]) -> Result<()> {
        if !self.wanted() || lines.is_empty() {
            return Ok(());
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(lines);
        loop {
            match reader.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => return Err(Error::config(format!("an audit line made no record: {e}"))),
            }
            self.lines += 1;
            let record = self.layout.read(&self.record, &self.name, self.lines)?;
            if let Some(review) = &mut self.review {
                review.record(&record)?;
            }
            if let Some(workbook) = &mut self.workbook {
                workbook.record(&record)?;
            }
        }
    }
}

/// Convert one record (data row `row`, from `line`, with the row-level flag `extra_flag`) into
/// `output`, with the rows a long layout adds after it, reporting to the summary and the audit.
fn convert_record(
    rewriter: &mut Rewriter<'_>,
    (row, line, extra_flag): (u64, u64, Option<&[u8]>),
    record: Fields<'_>,
    summary: &mut Summary,
    audit: &mut Option<Auditor<'_>>,
    (encoder, output): (&Encoder, &mut pipeline::Converted),
) -> Result<()> {
    match audit {
        Some(audit) => {
            let mut sinks = (&mut *summary, audit);
            rewriter.rewrite_row(row, line, record, extra_flag, &mut sinks as &mut dyn Sink)?
        }
        None => rewriter.rewrite_row(row, line, record, extra_flag, &mut *summary)?,
    };
    rewriter.encode_row(record, encoder, &mut output.rows);
    summary.rows_out += 1;
    for k in 0..rewriter.added_rows() {
        rewriter.encode_added(k, record, encoder, &mut output.rows);
        summary.rows_out += 1;
        summary.rows_added += 1;
    }
    Ok(())
}

/// The writers of a run's outputs, with their header rows written.
fn writers<W: Write>(
    config: &Config,
    header: Option<&csv::ByteRecord>,
    keys: &[(usize, String)],
    crlf: bool,
    delimiter: u8,
    outputs: Outputs<W>,
) -> Result<pipeline::Writers<W>> {
    let mut rows = outputs.rows;
    if let Some(h) = header {
        let mut out = Vec::new();
        let flags = config
            .options
            .flags_column
            .then_some(config.flags_column_name.as_bytes());
        crate::csvout::Encoder::new(delimiter, crlf).record(h.iter().chain(flags), &mut out);
        rows.write_all(&out).map_err(|e| Error::io(None, e))?;
    }
    let audit = match outputs.audit {
        Some(mut out) => {
            let header = crate::audit::header(keys.iter().map(|k| &k.1[..]));
            out.write_all(&header).map_err(|e| Error::io(None, e))?;
            Some(out)
        }
        None => None,
    };
    Ok(pipeline::Writers { rows, audit })
}

/// Checks each record's width and counts rows.
#[derive(Clone, Default)]
struct RowCheck<'a> {
    name: &'a str,
    width: usize,
    header: bool,
    flexible: bool,
    row: u64,
    ragged_note: Vec<u8>,
}

impl RowCheck<'_> {
    /// Count `record` (on `line`) and check its width: an error, or with `flexible` the flags
    /// entry of a ragged row.
    fn check(
        &mut self,
        record: Fields<'_>,
        line: u64,
        summary: &mut Summary,
    ) -> Result<Option<&[u8]>> {
        self.row += 1;
        summary.rows_in += 1;
        let row = self.row;
        if record.len() == self.width {
            return Ok(None);
        }
        if !self.flexible {
            let fields = format!(
                "{} fields, but {} {}",
                record.len(),
                if self.header {
                    "the header has"
                } else {
                    "the first record has"
                },
                self.width
            );
            // A quote that is never closed makes one record of the rest of the file, which then
            // has the wrong number of fields: name the likelier cause.
            let text = record.text().trim_ascii_end();
            let breaks = memchr::memchr_iter(b'\n', text).count();
            let message = if breaks > 0 {
                format!(
                    "record {row} runs over {} lines and has {fields}: a quote opened on line \
                     {line} is probably never closed",
                    breaks + 1
                )
            } else {
                format!("record {row} has {fields}; pass --flexible to keep such rows, flagged")
            };
            return Err(Error::parse(self.name, line, message));
        }
        summary.ragged_rows += 1;
        self.ragged_note.clear();
        self.ragged_note
            .extend_from_slice(format!("(row):ragged:{} fields", record.len()).as_bytes());
        Ok(Some(&self.ragged_note))
    }

    /// An unclosed quote that ran to the end of the input (`swallowed`: its record's first line
    /// and number, header included) is an error, not data.
    fn finish(&self, swallowed: Option<(u64, u64)>) -> Result<()> {
        match swallowed {
            Some((line, number)) => {
                let row = number - u64::from(self.header);
                Err(Error::parse(
                    self.name,
                    line,
                    format!(
                        "record {row} has a quoted field that is never closed; it would swallow \
                         the rest of the file"
                    ),
                ))
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Config, Converter, Options, Outputs};
    use crate::audit::{AuditRecord, Layout};
    use crate::columns::ColumnOptions;
    use crate::crosswalk::Crosswalk;
    use crate::csvout::Encoder;
    use crate::decisions::Decisions;

    /// The audit of `claims` with key columns `key`, on `threads` threads.
    fn audit(claims: &str, key: &[&str], threads: usize) -> Vec<u8> {
        let crosswalk = Crosswalk::builtin();
        let decisions = Decisions::new();
        let config = Config {
            options: Options {
                flags_column: true,
                ..Options::default()
            },
            columns: ColumnOptions {
                dx: vec!["DX1".into(), "DX2".into()],
                key: key.iter().map(|k| k.to_string()).collect(),
                ..ColumnOptions::default()
            },
            flags_column_name: "crosswalk_flags".into(),
            threads,
            ..Config::default()
        };
        let converter = Converter::new(&crosswalk, &decisions, config);
        let opened = converter.open(claims.as_bytes(), "c.csv").unwrap();
        let outputs = Outputs {
            rows: Vec::new(),
            audit: Some(Vec::new()),
            review: false,
            workbook: None,
        };
        opened.run(outputs, |_| {}).unwrap().audit.unwrap()
    }

    /// Occurrence lines are written by the audit's auditor and merger, not through
    /// `AuditRecord::encode`: each must be exactly what that one definition of a row writes
    /// for the record read back from it, with cells that need quotes and guards, without and
    /// with key columns, on one thread and on several.
    #[test]
    fn occurrence_lines_are_the_rows_the_schema_writes() {
        let mut claims = String::from("ID,NOTE,DX1,DX2\n");
        let hostile = [
            "=HYPERLINK(\"x\")",
            "a,b",
            "\"quoted\"",
            "-5",
            "'@x",
            "line\nbreak",
        ];
        for n in 0..3_000 {
            let id = match n % 4 {
                0 => format!("\"{}\"", hostile[n % hostile.len()].replace('"', "\"\"")),
                _ => format!("C{}", n / 3),
            };
            let dx1 = ["2731", "\"=1+2\"", "XYZ", "4019", "\"7,9\""][n % 5];
            let dx2 = ["28809", "", "\"-12\"", "0389"][n % 4];
            claims.push_str(&format!("{id},note {n},{dx1},{dx2}\n"));
        }
        let encoder = Encoder::new(b',', false);
        for key in [&[][..], &["ID"][..]] {
            let one = audit(&claims, key, 1);
            assert_eq!(one, audit(&claims, key, 3), "key {key:?}: -j 1 and -j 3");
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(&one[..]);
            let mut records = reader.byte_records();
            let header = records.next().unwrap().unwrap();
            let layout = Layout::read_header(&header, std::path::Path::new("a.csv")).unwrap();
            let (mut occurrences, mut quoted) = (0, 0);
            for (n, record) in records.enumerate() {
                let record = record.unwrap();
                let position = record.position().unwrap().byte() as usize;
                let line_end = line_end(&one, position, record.len());
                let written = &one[position..line_end];
                let read = layout.read(&record, std::path::Path::new("a.csv"), n as u64 + 2);
                let read: AuditRecord<'_> = read.unwrap();
                let mut again = Vec::new();
                read.encode(&encoder, &mut again);
                assert_eq!(
                    String::from_utf8_lossy(written),
                    String::from_utf8_lossy(&again),
                    "key {key:?}, audit line {}",
                    n + 2
                );
                if read.kind == crate::audit::Kind::Occurrence {
                    occurrences += 1;
                    quoted += usize::from(written.contains(&b'"'));
                }
            }
            assert!(
                occurrences > 1_000 && quoted > 100,
                "{occurrences} {quoted}"
            );
        }
    }

    /// Where the audit line that starts at `start` ends (after its LF), reading it as a record
    /// of `fields` fields: quoted cells may hold line breaks.
    fn line_end(audit: &[u8], start: usize, fields: usize) -> usize {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&audit[start..]);
        let mut record = csv::ByteRecord::new();
        reader.read_byte_record(&mut record).unwrap();
        assert_eq!(record.len(), fields);
        start + reader.position().byte() as usize
    }
}
