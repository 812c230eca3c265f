//! `crosswalk export`: the resolved lookup table, for joins in SQL engines.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use crosswalk::convert::{Choose, Options, Unmapped};
use crosswalk::csvout::Encoder;
use crosswalk::decisions::Decisions;
use crosswalk::export::{COLUMNS, ExportRow, export};
use crosswalk::output::{self, Output};
use crosswalk::parquet;
use crosswalk::{Code, System};

use super::{CrosswalkArgs, Outcome, Table};

/// The table's columns as Parquet types: numbers and booleans typed, the rest text.
fn schema() -> std::sync::Arc<arrow_schema::Schema> {
    use arrow_schema::{DataType, Field};
    let fields: Vec<Field> = COLUMNS
        .iter()
        .map(|&name| {
            let data_type = match name {
                "alternative" | "position" => DataType::Int32,
                "needs_review" | "chosen" => DataType::Boolean,
                _ => DataType::Utf8,
            };
            Field::new(name, data_type, true)
        })
        .collect();
    std::sync::Arc::new(arrow_schema::Schema::new(fields))
}

/// A system `convert` converts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Source {
    /// ICD-9-CM diagnoses.
    #[value(name = "icd9-dx")]
    Icd9Dx,
    /// ICD-9-CM procedures.
    #[value(name = "icd9-proc")]
    Icd9Proc,
}

const EXAMPLES: &str = "\
Examples:
  crosswalk export -o crosswalk.csv
  crosswalk export --system icd9-dx --choose first-billable -o dx.csv
  crosswalk export --decisions reviewed.csv -o decided.csv.gz

One row per source code, alternative and position in its cluster: the code, its status and
whether it needs review, and each target with its title and validity. The rows whose `chosen`
is true are what `convert` writes with the same options and decisions: position 1 into the
code's cell, the others into empty cells of its group; a chosen row without a target blanks the
cell; a code with no chosen row is left as it is. See examples/duckdb/ for a join in SQL.";

/// Write the table `convert` converts by, for SQL joins.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Write the table to PATH (`-` or none: stdout; `.gz` / `.zst`: compressed CSV;
    /// `.parquet`: Parquet, with `alternative` and `position` as integers and `needs_review`
    /// and `chosen` as booleans).
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,

    /// The source systems to export (repeatable; default both ICD-9-CM systems).
    #[arg(long, value_enum, value_name = "SYSTEM")]
    system: Vec<Source>,

    /// As for convert: what to write for an ambiguous code (`fail` has nothing to stop on
    /// here: every GEM has ambiguous codes).
    #[arg(long, value_name = "HOW", value_enum, default_value_t = Choose::First)]
    choose: Choose,

    /// As for convert: what to write for a code that cannot be converted.
    #[arg(long, value_name = "HOW", value_enum, default_value_t = Unmapped::Keep)]
    unmapped: Unmapped,

    /// Apply reviewers' decisions for codes (code rows of a filled-in audit, a review workbook,
    /// or `system,code,decision` rows), as convert does. Repeatable.
    #[arg(long, value_name = "PATH")]
    decisions: Vec<PathBuf>,

    /// Print nothing on stderr but errors.
    #[arg(short, long)]
    quiet: bool,

    #[command(flatten)]
    crosswalk: CrosswalkArgs,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if args.choose == Choose::Fail {
        return Err(super::usage(
            "export --choose fail would stop at the first ambiguous code; choose first, \
             first-billable or keep",
        )
        .into());
    }
    let inputs: Vec<(&str, &std::path::Path)> = args
        .decisions
        .iter()
        .map(|p| ("a --decisions file", p.as_path()))
        .collect();
    output::check_targets(&[("--output", args.output.as_deref())], &inputs)
        .map_err(super::usage)?;
    let crosswalk = args.crosswalk.load()?;
    let mut decisions = Decisions::new();
    for path in &args.decisions {
        decisions.load(path, &crosswalk)?;
    }
    let for_claims = decisions.list().iter().filter(|d| !d.for_code()).count();
    if for_claims > 0 && !args.quiet {
        super::say(format!(
            "export: {} decisions for single claims (occurrence rows) are left out: a lookup \
             table holds decisions for codes",
            crosswalk::summary::thousands(for_claims as u64)
        ));
    }
    let options = Options {
        choose: args.choose,
        unmapped: args.unmapped,
        ..Options::default()
    };
    let systems: Vec<System> = if args.system.is_empty() {
        vec![System::Icd9Dx, System::Icd9Proc]
    } else {
        let system = |s: &Source| match s {
            Source::Icd9Dx => System::Icd9Dx,
            Source::Icd9Proc => System::Icd9Proc,
        };
        args.system.iter().map(system).collect()
    };
    let file = Output::create(args.output.as_deref())?;
    let mut out = match args
        .output
        .as_deref()
        .filter(|p| parquet::is_parquet_name(p))
    {
        Some(path) => {
            let names: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
            let sink = parquet::ParquetSink::new(file, b',', true, Some(schema()), &names)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Table::Parquet(Box::new(sink))
        }
        None => Table::Text(Box::new(file)),
    };
    let encoder = Encoder::new(b',', false);
    let mut line = Vec::new();
    encoder.record(COLUMNS.iter().map(|c| c.as_bytes()), &mut line);
    out.write_all(&line)?;
    let mut rows = 0u64;
    for system in systems {
        let target = system.gem_target();
        let gem = crosswalk.gem(system)?.provenance().to_string();
        let code_set = crosswalk.code_set(target).release().to_string();
        export(&crosswalk, &decisions, options, system, |r| {
            line.clear();
            encoder.record(
                cells(&crosswalk, r, &gem, &code_set)
                    .iter()
                    .map(|c| c.as_bytes()),
                &mut line,
            );
            rows += 1;
            out.write_all(&line).context("cannot write the table")
        })?;
    }
    let ready = out.finish().context("cannot write the table")?;
    output::commit(vec![ready]).context("cannot write the table")?;
    if args.output.is_some() && !args.quiet {
        super::say(format!(
            "export: {} rows",
            crosswalk::summary::thousands(rows)
        ));
    }
    Ok(Outcome::Done)
}

/// The cells of one row, in the order of [`COLUMNS`].
fn cells(
    crosswalk: &crosswalk::Crosswalk,
    r: &ExportRow<'_>,
    gem: &str,
    code_set: &str,
) -> [String; COLUMNS.len()] {
    let target = r.system.gem_target();
    let number = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
    let spelled = |c: Option<Code>, dotted: bool| match c {
        Some(c) if dotted => c.dotted(target),
        Some(c) => c.as_str().to_string(),
        None => String::new(),
    };
    let mut status = Vec::new();
    r.statuses.write_label(&mut status);
    [
        r.system.name().to_string(),
        r.code.as_str().to_string(),
        r.code.dotted(r.system),
        String::from_utf8(status).expect("status names are ASCII"),
        r.needs_review.to_string(),
        r.decided_by.unwrap_or("").to_string(),
        number(r.alternative),
        r.chosen.to_string(),
        number(r.position),
        spelled(r.target, false),
        spelled(r.target, true),
        r.target
            .and_then(|c| crosswalk.title(target, &c))
            .map(|t| t.into_owned())
            .unwrap_or_default(),
        r.target
            .map(|c| crosswalk.code_set(target).validity(&c).as_str().to_string())
            .unwrap_or_default(),
        r.flags.map(|f| f.to_string()).unwrap_or_default(),
        gem.to_string(),
        code_set.to_string(),
    ]
}
