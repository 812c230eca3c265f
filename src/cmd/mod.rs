//! One module per subcommand, each with its arguments and `run`, plus the options they share.

pub mod convert;
pub mod export;
pub mod map;
pub mod progress;
pub mod report;
pub mod stats;

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use crosswalk::output::{Output, Ready};
use crosswalk::parquet::ParquetSink;
use crosswalk::{CodeSet, Crosswalk, Gem, System};

/// How a command that ran to the end finished.
pub enum Outcome {
    /// Everything was resolved.
    Done,
    /// The command finished, but some codes could not be resolved (exit status 3).
    Unresolved,
}

/// A code system as the command line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SystemArg {
    /// ICD-9-CM diagnoses.
    #[value(name = "icd9-dx")]
    Icd9Dx,
    /// ICD-9-CM procedures.
    #[value(name = "icd9-proc")]
    Icd9Proc,
    /// ICD-10-CM diagnoses.
    #[value(name = "icd10-cm")]
    Icd10Cm,
    /// ICD-10-PCS procedures.
    #[value(name = "icd10-pcs")]
    Icd10Pcs,
}

impl From<SystemArg> for System {
    fn from(arg: SystemArg) -> System {
        match arg {
            SystemArg::Icd9Dx => System::Icd9Dx,
            SystemArg::Icd9Proc => System::Icd9Proc,
            SystemArg::Icd10Cm => System::Icd10Cm,
            SystemArg::Icd10Pcs => System::Icd10Pcs,
        }
    }
}

/// Options that choose the mapping tables, shared by every command that uses them.
#[derive(clap::Args, Debug)]
pub struct CrosswalkArgs {
    /// Load the GEM files found in DIR, recognised by their CMS names (2018_I9gem.txt,
    /// 2018_I10gem.txt, gem_i9pcs.txt, gem_pcsi9.txt, other years alike) or NBER names
    /// (icd9toicd10cmgem.csv, …), in place of the built-in tables for the directions they cover.
    #[arg(long, value_name = "DIR")]
    pub gems: Option<PathBuf>,

    /// Load one mapping table whose source codes are in SYSTEM, e.g. `--gem icd9-dx=my.csv`.
    /// CMS text, NBER CSV and plain `source,target,flags` CSV are read. Repeatable; applied after --gems.
    #[arg(long = "gem", value_name = "SYSTEM=FILE")]
    pub gem: Vec<String>,

    /// Judge ICD-10-CM codes (billable, header, not in the code set) and title them as of this
    /// fiscal year: one of the built-in years (see `crosswalk --version`); default the newest.
    #[arg(long, value_name = "YYYY", value_parser = parse_code_set_year, conflicts_with = "code_set")]
    pub code_set_year: Option<u16>,

    /// Judge and title ICD-10-CM codes with this CMS order file (`icd10cm_order_2027.txt`, any
    /// year) instead of a built-in code set.
    #[arg(long, value_name = "FILE")]
    pub code_set: Option<PathBuf>,
}

/// A fiscal year with a built-in ICD-10-CM code set; anything else is a usage error naming them.
fn parse_code_set_year(text: &str) -> Result<u16, String> {
    text.parse::<u16>()
        .ok()
        .filter(|year| crosswalk::crosswalk::builtin_code_set_years().contains(year))
        .ok_or_else(|| crosswalk::crosswalk::unknown_year(text))
}

impl CrosswalkArgs {
    /// The built-in crosswalk with the user's tables in place of the built-in ones.
    pub fn load(&self) -> anyhow::Result<Crosswalk> {
        let mut crosswalk = Crosswalk::builtin();
        if let Some(dir) = &self.gems {
            crosswalk
                .load_gems_dir(dir)
                .context("cannot load the mapping tables of --gems")?;
        }
        for spec in &self.gem {
            let Some((system, file)) = spec.split_once('=') else {
                bail!("--gem {spec:?}: expected SYSTEM=FILE, e.g. icd9-dx=my_table.csv");
            };
            let system: System = system
                .parse()
                .map_err(|e: String| anyhow::anyhow!("--gem {spec:?}: {e}"))?;
            let path = PathBuf::from(file);
            let release = crosswalk::crosswalk::release_from_names(&path);
            let gem = Gem::from_path(system, &path, release)
                .with_context(|| format!("cannot load the mapping table of --gem {spec}"))?;
            crosswalk.set_gem(gem);
        }
        if let Some(year) = self.code_set_year {
            crosswalk.set_code_set_year(year)?;
        }
        if let Some(path) = &self.code_set {
            let set = CodeSet::order_file_from_path(path)
                .context("cannot load the ICD-10-CM code set of --code-set")?;
            crosswalk.set_code_set(set);
        }
        Ok(crosswalk)
    }
}

/// True when the error is a write to a closed pipe, which ends a command quietly (`| head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == BrokenPipe)
            || cause
                .downcast_ref::<crosswalk::Error>()
                .is_some_and(|e| e.io_kind() == Some(BrokenPipe))
            || cause
                .downcast_ref::<serde_json::Error>()
                .is_some_and(|e| e.io_error_kind() == Some(BrokenPipe))
            || cause.downcast_ref::<csv::Error>().is_some_and(
                |e| matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == BrokenPipe),
            )
    })
}

/// Print one line of diagnostics on stderr, prefixed `crosswalk: `, with control characters and
/// invisible format characters escaped: messages quote claim-file text, which must not drive
/// the terminal.
pub fn say(line: impl std::fmt::Display) {
    eprintln!(
        "crosswalk: {}",
        crosswalk::inert::for_terminal(&line.to_string())
    );
}

/// A command line that cannot be run as given: exit status 2, as for clap's own usage errors.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A usage error with this message.
pub fn usage(message: impl Into<String>) -> UsageError {
    UsageError(message.into())
}

/// Where a command's rows go: delimited text, or Parquet for an output named `.parquet`.
pub enum Table {
    Text(Box<Output>),
    Parquet(Box<ParquetSink<Output>>),
}

impl Table {
    pub fn finish(self) -> io::Result<Ready> {
        match self {
            Table::Text(out) => out.finish(),
            Table::Parquet(sink) => sink.finish()?.finish(),
        }
    }
}

impl Write for Table {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Table::Text(out) => out.write(buf),
            Table::Parquet(sink) => sink.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Table::Text(out) => out.write_all(buf),
            Table::Parquet(sink) => sink.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Table::Text(out) => out.flush(),
            Table::Parquet(sink) => sink.flush(),
        }
    }
}
