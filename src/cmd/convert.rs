//! `crosswalk convert`: rewrite the ICD-9 code columns of a claim file, flag every judgment call,
//! and optionally write an audit file and a JSON summary.

use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use crosswalk::columns::ColumnOptions;
use crosswalk::convert::{
    Choose, Config, Converter, Dots, Finished, Options, Outputs, Unmapped, default_threads,
};
use crosswalk::crosswalk::Crosswalk;
use crosswalk::csvio;
use crosswalk::decisions::Decisions;
use crosswalk::input::CheckedFile;
use crosswalk::output::{self, Output, Ready};
use crosswalk::parquet::{ParquetSink, ParquetText};
use crosswalk::report::{
    Review, RunTotals,
    html::{self, About},
};
use crosswalk::summary::{DecisionReport, Report};
use crosswalk::workbook::{ReviewWorkbook, WorkbookAbout};

use super::{CrosswalkArgs, Outcome, Table};

const EXAMPLES: &str = "\
Examples:
  crosswalk convert examples/claims.csv -o claims_icd10.csv --audit review.csv
  crosswalk convert sample-b-inpatient.txt --flexible -o out.txt      # CMS RIF, pipe-delimited
  crosswalk convert DIAGNOSES_ICD.csv --key hadm_id                   # MIMIC-III
  crosswalk convert claims.csv --dx 'DIAG*' --proc PROC1,PROC2 --date-col THRU_DT
  zcat claims.csv.gz | crosswalk convert - --summary run.json > out.csv

Every input row comes out, in order, with the same columns plus `crosswalk_flags` (in a long
layout, rows added for a cluster's further codes follow their row, flagged `added`): empty when
no code in the row needs review, else `COLUMN:STATUS:ORIGINAL` entries joined by `;` (an
overflow adds `:LEFTOVER+CODES`). Review statuses: ambiguous, no_map, not_in_crosswalk,
malformed, overflow, not_billable (the code written is not billable in the chosen ICD-10 code
set), possible_lost_zero (a code both as written and with a leading zero restored). Also flagged:
decided, decided_outside_gem, zero_restored, and per row `(row):ragged:N fields` (--flexible) and
`VERSIONCOL:version_kept:9` (a row-level version left at ICD-9). A converted code's version field
is set to ICD-10, and a placed code takes its source's POA and date fields.

Exit status: 0 success; 3 with --strict when some codes need review; 1 error (nothing, or no
complete output file, is left behind); 2 usage.";

/// Convert the ICD-9 codes of a claim file to ICD-10, flagging what needs review.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The claim file (CSV, pipe- or tab-delimited; gzip or zstd compressed too, known by its
    /// first bytes). Missing or `-`: read stdin.
    #[arg(value_name = "INPUT")]
    input: Option<PathBuf>,

    /// Write the converted file here (via a temporary file renamed on success) instead of stdout.
    /// Every output named `.gz` or `.zst` is written compressed.
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,

    /// Field delimiter: one ASCII character, `\t` for tab. Default: detected from the first line
    /// (comma, pipe or tab).
    #[arg(short, long, value_name = "CHAR")]
    delimiter: Option<String>,

    /// The first line is data, not a header; name columns by number (1-based).
    #[arg(short, long)]
    no_headers: bool,

    /// Diagnosis code columns: names, globs (`ICD9_DGNS_CD_*`) or numbers and ranges (`13,21-30`),
    /// comma-separated. Default: detected from the header (DE-SynPUF, RIF, MedPAR, HCUP, MIMIC).
    #[arg(long, value_name = "COLS")]
    dx: Vec<String>,

    /// Procedure code columns, as --dx.
    #[arg(long = "proc", value_name = "COLS")]
    proc_cols: Vec<String>,

    /// Where the code version comes from: `CODECOL=VERSIONCOL` per code (globs: `DX*=DXV*`;
    /// 9 ICD-9, 0 ICD-10, blank ICD-9), or `NAME` for a row-level column (9 / 10 or 0). RIF and
    /// MedPAR per-code columns, HCUP DXVER/PRVER and MIMIC-IV icd_version are detected.
    #[arg(long = "version-col", value_name = "SPEC")]
    version_col: Vec<String>,

    /// A date column deciding the version: ICD-10 on or after 2015-10-01 (YYYYMMDD, YYYY-MM-DD,
    /// DD-MON-YYYY, MM/DD/YYYY; blank and 01-JAN-1000 mean no date, read as ICD-9).
    #[arg(long = "date-col", value_name = "NAME")]
    date_col: Option<String>,

    /// Fields that describe a code and travel with it: `CODECOL=COL` (globs: `DX*=DXQUAL*`). A
    /// code placed into another cell of its group takes its source's values there. RIF, MedPAR
    /// and HCUP present-on-admission and procedure-date fields are detected.
    #[arg(long, value_name = "SPEC")]
    companion: Vec<String>,

    /// Restore the leading zeros these code columns lost (in a spreadsheet, say) where only the
    /// padded reading is a code (`389` → 038.9, flagged zero_restored); values that are codes
    /// both ways stay as they are, flagged possible_lost_zero.
    #[arg(long, value_name = "COLS")]
    restore_zeros: Vec<String>,

    /// The file holds one code per row (a long layout, like MIMIC DIAGNOSES_ICD, which is
    /// detected): a cluster's further codes become further rows.
    #[arg(long)]
    long: bool,

    /// In a long layout, keep a cluster's further codes in the flags (`overflow`) instead of
    /// adding rows.
    #[arg(long)]
    no_add_rows: bool,

    /// What to write for an ambiguous code: the first alternative in the crosswalk's order, the
    /// first whose codes are all billable today (else the first), the ICD-9 code unchanged, or
    /// stop with an error. Always flagged.
    #[arg(long, value_name = "HOW", value_enum, default_value_t = Choose::First)]
    choose: Choose,

    /// What to write for a code that cannot be converted (no_map, not_in_crosswalk, malformed):
    /// keep the original or blank the cell. Always flagged; the original stays in flags and audit.
    #[arg(long, value_name = "HOW", value_enum, default_value_t = Unmapped::Keep)]
    unmapped: Unmapped,

    /// Write converted codes with a decimal point (default: as the input cell was).
    #[arg(long, conflicts_with = "no_dots")]
    dots: bool,

    /// Write converted codes without a decimal point.
    #[arg(long)]
    no_dots: bool,

    /// Name of the flags column.
    #[arg(long, value_name = "NAME", default_value = "crosswalk_flags")]
    flags_column: String,

    /// Do not add the flags column.
    #[arg(long, conflicts_with = "flags_column")]
    no_flags_column: bool,

    /// Write the codes that need review: a CSV file (a `code` row per code with its
    /// alternatives and titles, an `occurrence` row per claim, column and code), or, for a PATH
    /// ending in .xlsx, a review workbook (a Codes sheet with a dropdown of choices per code, an
    /// Occurrences sheet, codes and claim ids as text). Both have `decision` cells that --decisions reads.
    #[arg(long, value_name = "PATH")]
    audit: Option<PathBuf>,

    /// Write a review page to PATH: one self-contained HTML file (opens offline in any browser)
    /// with totals, a chart by status, and the codes needing review grouped by source code, the
    /// most claims first, each with its alternatives, titles, validity and sample claims.
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,

    /// Key columns copied into the audit (e.g. CLM_ID). Default: CLM_ID, CLAIM_ID, HADM_ID, KEY
    /// or RECORD_ID when present.
    #[arg(long, value_name = "COLS")]
    key: Vec<String>,

    /// Apply reviewers' decisions: a filled-in audit file or review workbook (a code row's
    /// decision holds for every occurrence of the code, an occurrence row's for that claim) or a
    /// CSV with the columns `system,code,decision`. A decision is one of the code's alternatives (`A+B` for a
    /// cluster), another valid ICD-10 code, `keep` or `blank`. Repeatable.
    #[arg(long, value_name = "PATH")]
    decisions: Vec<PathBuf>,

    /// Also write the run summary as JSON to PATH.
    #[arg(long, value_name = "PATH")]
    summary: Option<PathBuf>,

    /// Pass rows with a different number of fields through (flagged) instead of stopping.
    #[arg(long)]
    flexible: bool,

    /// Exit with status 3 when any code needs review.
    #[arg(long)]
    strict: bool,

    /// Threads: 1 reads, converts and writes in turn. N of 2 or more: N threads convert, beside
    /// one that reads and one that writes (with --audit or --report, one converting thread,
    /// for now). Every output is the same byte for byte whatever N. Default: the cores
    /// available.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,

    /// Do not print the detected columns or the summary on stderr.
    #[arg(short, long)]
    quiet: bool,

    #[command(flatten)]
    crosswalk: CrosswalkArgs,
}

/// The outputs may not clash with each other or with a file the run reads: a usage error.
fn check_targets(args: &Args) -> anyhow::Result<()> {
    // A workbook is a zip already; `review.xlsx.gz` would be a compressed CSV audit instead.
    if let Some(path) = args.audit.as_deref()
        && path.file_stem().map(Path::new).is_some_and(is_workbook)
        && crosswalk::input::Compression::of_name(path) != crosswalk::input::Compression::None
    {
        return Err(super::usage(format!(
            "--audit {}: a review workbook is compressed already (an .xlsx file is a zip); \
             name it {}",
            path.display(),
            path.with_extension("").display()
        ))
        .into());
    }
    let mut outputs = vec![("--output", args.output.as_deref())];
    for (option, path) in [
        ("--audit", &args.audit),
        ("--summary", &args.summary),
        ("--report", &args.report),
    ] {
        if let Some(path) = path {
            outputs.push((option, Some(path.as_path())));
        }
    }
    let mut inputs: Vec<(&str, &Path)> = args
        .input
        .iter()
        .map(|p| ("the input file", p.as_path()))
        .collect();
    inputs.extend(
        args.decisions
            .iter()
            .map(|p| ("a --decisions file", p.as_path())),
    );
    output::check_targets(&outputs, &inputs).map_err(|e| super::usage(e).into())
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    check_targets(&args)?;
    let config = config(&args)?;
    let crosswalk = args.crosswalk.load()?;
    // Decisions are checked before anything is written.
    let mut decisions = Decisions::new();
    for path in &args.decisions {
        decisions.load(path, &crosswalk)?;
    }
    let converter = Converter::new(&crosswalk, &decisions, config);

    let Input {
        name,
        reader,
        size,
        count,
        parquet,
    } = open_input(&args)?;
    let opened = converter.open(reader, &name)?;
    if let Some(schema) = &parquet {
        // Companions (POA, dates) may be typed: they are read as text and cast back.
        let codes: Vec<usize> = opened.plan().columns.iter().map(|c| c.index).collect();
        ParquetText::check_text(schema, &codes, "the Parquet file")
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    }
    let plan: Vec<String> = opened
        .plan()
        .describe()
        .into_iter()
        .chain(opened.plan().notes.iter().cloned())
        .collect();
    if !args.quiet {
        for line in &plan {
            super::say(line);
        }
    }

    let workbook = match args.audit.as_deref().filter(|p| is_workbook(p)) {
        Some(path) => {
            let keys = opened.plan().keys.iter().map(|k| k.1.clone()).collect();
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            Some(ReviewWorkbook::new(keys, dir.unwrap_or(Path::new(".")))?)
        }
        None => None,
    };
    let outputs = Outputs {
        rows: rows_output(&args, &opened, converter.config(), parquet)?,
        audit: args
            .audit
            .as_deref()
            .filter(|p| !is_workbook(p))
            .map(|path| Output::create(Some(path)).map(|out| Table::Text(Box::new(out))))
            .transpose()?,
        review: args.report.is_some(),
        workbook,
    };
    let progress = (!args.quiet && io::stderr().is_terminal())
        .then_some(size)
        .flatten()
        .map(super::progress::bar);
    let finished = opened
        .run(outputs, |_| {
            // The bytes read from the file, which a compressed input has fewer of than it holds.
            if let Some(bar) = &progress {
                bar.set_position(count.load(std::sync::atomic::Ordering::Relaxed));
            }
        })
        .map_err(|e| closed_stdout(&args, e.into()))?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }

    // Every output is complete before any is moved into place.
    let Finished {
        rows,
        audit,
        review,
        workbook,
        summary: counts,
        audit_rows,
        audit_codes,
        audit_textual,
        decisions_used,
        decisions_moved,
        warnings,
    } = finished;
    let rows = rows
        .finish()
        .map_err(|e| closed_stdout(&args, anyhow::Error::new(e)))
        .context("cannot write the output")?;
    let mut ready = vec![rows];
    let mut workbook_shown = None;
    if let Some(audit) = audit {
        ready.push(audit.finish().context("cannot write the audit file")?);
    }
    let mut report = counts.report(&crosswalk);
    report.options = Some(converter.config().options);
    report.input = Some(name.clone());
    report.warnings = plan
        .iter()
        .filter(|l| l.starts_with("warning: "))
        .chain(&warnings)
        .cloned()
        .collect();
    report.plan = plan;
    if !args.quiet {
        // Said before the summary, which they qualify.
        for line in &warnings {
            super::say(line);
        }
    }
    if !args.decisions.is_empty() {
        report.decisions = Some(DecisionReport::new(
            &decisions,
            &decisions_used,
            &decisions_moved,
        ));
    }
    if let (Some(workbook), Some(path)) = (workbook, &args.audit) {
        let about = WorkbookAbout {
            input: name.clone(),
            plan: report.plan.clone(),
            options: serde_json::to_string(&report.options).unwrap_or_default(),
        };
        let mut out = Output::create(Some(path))?;
        workbook_shown = Some((workbook.code_count(), workbook.not_shown()));
        workbook.save(&crosswalk, &about, &mut out)?;
        ready.push(out.finish().context("cannot write the review workbook")?);
    }
    ready.extend(page_and_summary(
        &args,
        review.as_ref(),
        &report,
        &crosswalk,
        &name,
    )?);
    output::commit(ready).context("cannot move the outputs into place")?;

    if !args.quiet {
        tell(
            &args,
            &report,
            (audit_rows, audit_codes, audit_textual, workbook_shown),
            review.as_ref(),
        );
    }
    if args.strict && report.review_codes > 0 {
        return Ok(Outcome::Unresolved);
    }
    Ok(Outcome::Done)
}

/// True when an audit path asks for the review workbook (`.xlsx`).
fn is_workbook(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

/// The claim file: a file (read to the end it had when opened) or stdin, with its name in
/// messages and its size when known.
/// The input: its name, its records' bytes (decompressed when it is gzip or zstd), its size on
/// disk, and a count of the bytes read from it (for the progress bar).
fn open_input(args: &Args) -> anyhow::Result<Input> {
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (name, raw, size): (String, Box<dyn Read + Send>, _) =
        match args.input.as_ref().filter(|p| p.as_os_str() != "-") {
            None => ("<stdin>".to_string(), Box::new(io::stdin()), None),
            Some(path) => {
                let file = CheckedFile::open(path)
                    .with_context(|| format!("cannot open {}", path.display()))?;
                let size = file.size();
                (path.display().to_string(), Box::new(file), size)
            }
        };
    // A Parquet file is read from its end, so only a regular file (a pipe's bytes would be
    // taken from the stream read below): as the text of its rows.
    if let Some(path) = args
        .input
        .as_ref()
        .filter(|p| p.as_os_str() != "-" && size.is_some())
    {
        let mut start = [0u8; 4];
        let n = std::fs::File::open(path)
            .and_then(|mut f| f.read(&mut start))
            .with_context(|| format!("cannot read {}", path.display()))?;
        if crosswalk::parquet::is_parquet(&start[..n]) {
            // Its text is comma-separated with a header line, whatever the options say.
            if args.no_headers || args.delimiter.is_some() {
                return Err(super::usage(format!(
                    "{}: a Parquet file has its column names and no delimiter: leave out \
                     --no-headers and --delimiter",
                    path.display()
                ))
                .into());
            }
            let text = ParquetText::open(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            return Ok(Input {
                name,
                parquet: Some(text.schema()),
                reader: Box::new(text),
                size: None,
                count,
            });
        }
    }
    let counted = crosswalk::input::Counted::new(raw, std::sync::Arc::clone(&count));
    let (reader, _) =
        crosswalk::input::decompressed(counted).with_context(|| format!("cannot read {name}"))?;
    Ok(Input {
        name,
        reader,
        size,
        count,
        parquet: None,
    })
}

/// An opened input (see [`open_input`]).
struct Input {
    name: String,
    reader: Box<dyn Read + Send>,
    size: Option<u64>,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The schema of a Parquet input.
    parquet: Option<arrow_schema::SchemaRef>,
}

/// The review page and the summary file, when asked for, complete and staged.
fn page_and_summary(
    args: &Args,
    review: Option<&Review>,
    report: &Report,
    crosswalk: &Crosswalk,
    name: &str,
) -> anyhow::Result<Vec<Ready>> {
    let mut ready = Vec::new();
    if let (Some(path), Some(review)) = (&args.report, review) {
        let about = About {
            source: name.to_string(),
            audit_file: args.audit.as_ref().map(|p| p.display().to_string()),
            totals: Some(RunTotals::from(report)),
            max_groups: html::DEFAULT_MAX_GROUPS,
        };
        let mut out = Output::create(Some(path))?;
        out.write_all(html::render(review, crosswalk, &about).as_bytes())?;
        ready.push(out.finish().context("cannot write the report")?);
    }
    if let Some(path) = &args.summary {
        let mut out = Output::create(Some(path))?;
        serde_json::to_writer_pretty(&mut out, report)?;
        out.write_all(b"\n")?;
        ready.push(out.finish().context("cannot write the summary file")?);
    }
    Ok(ready)
}

/// What the run did, on stderr.
fn tell(
    args: &Args,
    report: &Report,
    audit: (u64, u64, u64, Option<(usize, u64)>),
    review: Option<&Review>,
) {
    for line in report.render_text().lines() {
        super::say(line);
    }
    if let Some(path) = &args.audit {
        let noun = |n: u64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
        match audit.3 {
            Some((codes, not_shown)) => {
                super::say(format!(
                    "review workbook: {} to decide, {}, in {}",
                    match codes {
                        1 => "1 code or value".to_string(),
                        n => format!("{n} codes and values"),
                    },
                    noun(audit.0, "occurrence"),
                    path.display()
                ));
                if not_shown > 0 {
                    super::say(format!(
                        "  {not_shown} occurrences are beyond the Occurrences sheet's row limit: \
                         the CSV audit (--audit PATH.csv) lists them all"
                    ));
                }
            }
            None => {
                let mut said = format!(
                    "audit: {} in {}",
                    noun(audit.0, "occurrence"),
                    path.display()
                );
                if audit.0 > 0 {
                    said.push_str(&format!(
                        ": {} of {} (a code row each)",
                        audit.0 - audit.2,
                        noun(audit.1, "code")
                    ));
                }
                if audit.2 > 0 {
                    said.push_str(&format!(", {} of cells that are no code", audit.2));
                }
                super::say(said);
            }
        }
    }
    if let (Some(review), Some(path)) = (review, &args.report) {
        super::say(format!(
            "review page: {} source codes in {}",
            review.group_count(),
            path.display()
        ));
    }
}

/// A closed standard output (`| head`) ends a run quietly, unless other outputs were asked for:
/// they are not written then, and saying nothing would leave an older audit looking current.
/// The output of the converted records: Parquet for a `-o` named `.parquet` (typed as a Parquet
/// input's `schema`, with the flags column as text), else text.
fn rows_output<R: Read + Send>(
    args: &Args,
    opened: &crosswalk::convert::Opened<'_, R>,
    config: &Config,
    schema: Option<arrow_schema::SchemaRef>,
) -> anyhow::Result<Table> {
    let out = Output::create(args.output.as_deref())?;
    let Some(path) = args
        .output
        .as_deref()
        .filter(|p| crosswalk::parquet::is_parquet_name(p))
    else {
        return Ok(Table::Text(Box::new(out)));
    };
    let mut names: Vec<String> = match opened.header() {
        Some(h) => h
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect(),
        None => (1..=opened.width())
            .map(|k| format!("column_{k}"))
            .collect(),
    };
    if config.options.flags_column {
        names.push(config.flags_column_name.clone());
    }
    let sink = ParquetSink::new(
        out,
        opened.delimiter(),
        opened.header().is_some(),
        schema,
        &names,
    )
    .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Table::Parquet(Box::new(sink)))
}

fn closed_stdout(args: &Args, error: anyhow::Error) -> anyhow::Error {
    let others: Vec<&str> = [
        ("--audit", args.audit.is_some()),
        ("--report", args.report.is_some()),
        ("--summary", args.summary.is_some()),
    ]
    .into_iter()
    .filter_map(|(option, given)| given.then_some(option))
    .collect();
    if !super::is_broken_pipe(&error) || others.is_empty() {
        return error;
    }
    anyhow::anyhow!(
        "standard output was closed before the conversion ended, so the files of {} were not \
         written",
        others.join(", ")
    )
}

/// The converter's settings from the command line.
fn config(args: &Args) -> anyhow::Result<Config> {
    let delimiter = match &args.delimiter {
        Some(d) => Some(csvio::parse_delimiter(d).map_err(super::usage)?),
        None => None,
    };
    Ok(Config {
        options: Options {
            choose: args.choose,
            unmapped: args.unmapped,
            dots: if args.dots {
                Dots::Dotted
            } else if args.no_dots {
                Dots::Undotted
            } else {
                Dots::AsInput
            },
            flags_column: !args.no_flags_column,
        },
        columns: ColumnOptions {
            dx: args.dx.clone(),
            proc: args.proc_cols.clone(),
            version_cols: args.version_col.clone(),
            date_col: args.date_col.clone(),
            key: args.key.clone(),
            file_name: args
                .input
                .as_ref()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned()),
            companions: args.companion.clone(),
            restore_zeros: args.restore_zeros.clone(),
            long: args.long,
            no_add_rows: args.no_add_rows,
        },
        delimiter,
        no_headers: args.no_headers,
        flexible: args.flexible,
        flags_column_name: args.flags_column.clone(),
        threads: args.threads.map_or_else(default_threads, usize::from),
    })
}
