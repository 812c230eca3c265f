//! The `crosswalk` command line: parse arguments, run one subcommand, map the outcome to an exit
//! status. All the work is done by the library.

mod cmd;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::cmd::Outcome;

const AFTER_HELP: &str = "\
Exit status:
  0  success
  1  error: an unreadable or malformed file, a missing table; nothing (or no complete output file) was written
  2  usage: the command line is wrong
  3  finished, but some codes could not be resolved: `map` found malformed codes or codes not in
     the crosswalk; `convert --strict` found codes that need review

A broken pipe (`crosswalk map … | head`) exits 0.";

/// Convert ICD-9-CM codes and claim files to ICD-10-CM / ICD-10-PCS with the CMS General
/// Equivalence Mappings, and flag every conversion that needs a person's judgment.
#[derive(Parser)]
#[command(name = "crosswalk", version, after_help = AFTER_HELP, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    // Boxed: its many options make it far larger than the other variants.
    Convert(Box<cmd::convert::Args>),
    Export(cmd::export::Args),
    Map(cmd::map::Args),
    Report(cmd::report::Args),
    Stats(cmd::stats::Args),
}

/// The command line, with `--version` naming the built-in data as well as the program.
fn parse() -> Result<Cli, clap::Error> {
    let long_version = format!(
        "{}\nbuilt-in data:\n{}",
        env!("CARGO_PKG_VERSION"),
        crosswalk::crosswalk::builtin_releases().trim_end()
    );
    // Leaked once: clap keeps version text as `&'static str`.
    let command = Cli::command().long_version(&*Box::leak(long_version.into_boxed_str()));
    Cli::from_arg_matches(&command.try_get_matches()?)
}

/// One allocator arena for every thread. glibc gives each thread that allocates an arena of its
/// own and keeps what a thread frees there; `convert`'s buffers pass from the thread that
/// converted a chunk to the one that writes it and back, and with an arena per thread the peak
/// memory of a two-thread run with the audit is about 1 MiB higher. The converting threads
/// allocate little per record, so they seldom wait on each other for the one arena.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn one_allocator_arena() {
    // SAFETY: mallopt sets a parameter of glibc's allocator; it is called before any other thread
    // starts, and M_ARENA_MAX takes any positive count.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn one_allocator_arena() {}

fn main() -> ExitCode {
    one_allocator_arena();
    let cli = match parse() {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version print to stdout and succeed; real usage errors exit 2.
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    if let Err(err) = crosswalk::output::install_signal_cleanup() {
        eprintln!("crosswalk: cannot watch for signals: {err}");
        return ExitCode::from(1);
    }
    let result = match cli.command {
        Command::Convert(args) => cmd::convert::run(*args),
        Command::Export(args) => cmd::export::run(args),
        Command::Map(args) => cmd::map::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Stats(args) => cmd::stats::run(args),
    };
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Unresolved) => ExitCode::from(3),
        Err(err) if cmd::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) if err.downcast_ref::<cmd::UsageError>().is_some() => {
            cmd::say(format!("{err:#}"));
            ExitCode::from(2)
        }
        Err(err) => {
            cmd::say(format!("{err:#}"));
            ExitCode::from(1)
        }
    }
}
