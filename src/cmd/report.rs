//! `crosswalk report`: the review page of an existing audit file.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use crosswalk::report::html::{self, About};
use crosswalk::report::{self, RunTotals};

use super::{CrosswalkArgs, Outcome};
use crosswalk::output::{self, Output};

const EXAMPLES: &str = "\
Examples:
  crosswalk report review.csv -o review.html
  crosswalk report review.csv --summary run.json -o review.html    # with the run's totals

The page is one self-contained HTML file: no network access, scripts, styles or fonts from
elsewhere. Every value from the claims is escaped.";

/// Render an audit file (from `crosswalk convert --audit`) as a review page.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The audit file; `-` reads stdin.
    #[arg(value_name = "AUDIT")]
    audit: PathBuf,

    /// Write the page here (via a temporary file renamed on success) instead of stdout.
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,

    /// The run summary written by `convert --summary`, for the totals of every code converted
    /// (an audit lists only the codes that need review).
    #[arg(long, value_name = "JSON")]
    summary: Option<PathBuf>,

    /// Source codes shown one by one, the most claims first; the rest are counted.
    #[arg(long, value_name = "N", default_value_t = html::DEFAULT_MAX_GROUPS)]
    max_codes: usize,

    #[command(flatten)]
    crosswalk: CrosswalkArgs,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut inputs = vec![("the audit file", args.audit.as_path())];
    if let Some(summary) = &args.summary {
        inputs.push(("the --summary file", summary.as_path()));
    }
    output::check_targets(&[("--output", args.output.as_deref())], &inputs)
        .map_err(super::usage)?;
    let crosswalk = args.crosswalk.load()?;
    let totals = match &args.summary {
        Some(path) => {
            // Read as convert wrote it: compressed when its name said so.
            let text = std::fs::File::open(path)
                .and_then(crosswalk::input::decompressed)
                .and_then(|(mut reader, _)| {
                    let mut text = Vec::new();
                    std::io::Read::read_to_end(&mut reader, &mut text).map(|_| text)
                })
                .with_context(|| format!("cannot read {}", path.display()))?;
            let totals: RunTotals = serde_json::from_slice(&text).with_context(|| {
                format!(
                    "{}: not a run summary (one is written by `crosswalk convert --summary PATH`)",
                    path.display()
                )
            })?;
            Some(totals)
        }
        None => None,
    };
    let review = if args.audit.as_os_str() == "-" {
        report::read_audit_from(std::io::stdin(), std::path::Path::new("<stdin>"))?
    } else {
        report::read_audit(&args.audit)?
    };
    let about = About {
        source: args.audit.display().to_string(),
        audit_file: Some(args.audit.display().to_string()),
        totals,
        max_groups: args.max_codes,
    };
    let mut out = Output::create(args.output.as_deref())?;
    out.write_all(html::render(&review, &crosswalk, &about).as_bytes())?;
    let ready = out.finish().context("cannot write the report")?;
    output::commit(vec![ready]).context("cannot write the report")?;
    if let Some(path) = &args.output {
        super::say(format!(
            "report: {} codes to review in {} claims, {} source codes, in {}",
            review.review_rows(),
            review.claims(),
            review.group_count(),
            path.display()
        ));
    }
    Ok(Outcome::Done)
}
