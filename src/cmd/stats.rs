//! `crosswalk stats`: the figures of each loaded table, to compare with the official counts.

use std::collections::BTreeMap;
use std::io::Write;

use crosswalk::{Crosswalk, Gem, Status, System};
use serde::Serialize;

use super::{CrosswalkArgs, Outcome};

const EXAMPLES: &str = "\
Examples:
  crosswalk stats
  crosswalk stats --gems ../gems/fy2018
  crosswalk stats --json

For each mapping table: rows, source codes, sources with more than one target, with a
combination row, with no map, exact 1:1 (a single 00000 row), and sources by status under the
GEM reading rule. Then the code sets that give titles and validity.";

/// Count rows, sources and statuses of every loaded mapping table.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Print one JSON object per table (JSON Lines) instead of text.
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    crosswalk: CrosswalkArgs,
}

#[derive(Serialize)]
struct TableStats {
    source_system: &'static str,
    target_system: &'static str,
    crosswalk: String,
    rows: usize,
    sources: usize,
    sources_with_several_targets: usize,
    sources_with_combination_row: usize,
    no_map_sources: usize,
    exact_one_to_one: usize,
    by_status: BTreeMap<&'static str, usize>,
}

fn table_stats(gem: &Gem) -> TableStats {
    let mut stats = TableStats {
        source_system: gem.source_system().name(),
        target_system: gem.target_system().name(),
        crosswalk: gem.provenance().to_string(),
        rows: gem.row_count(),
        sources: gem.source_count(),
        sources_with_several_targets: 0,
        sources_with_combination_row: 0,
        no_map_sources: 0,
        exact_one_to_one: 0,
        by_status: BTreeMap::new(),
    };
    for (_, rows) in gem.sources() {
        let first = rows[0].target;
        if rows.iter().any(|r| r.target != first) {
            stats.sources_with_several_targets += 1;
        }
        if rows.iter().any(|r| r.flags.combination) {
            stats.sources_with_combination_row += 1;
        }
        if rows.iter().all(|r| r.target.is_none()) {
            stats.no_map_sources += 1;
        }
        if let [only] = rows
            && only.target.is_some()
            && only.flags.is_exact()
        {
            stats.exact_one_to_one += 1;
        }
        let status = crosswalk::mapping::read_rows(rows).status;
        *stats.by_status.entry(status.as_str()).or_default() += 1;
    }
    stats
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let crosswalk: Crosswalk = args.crosswalk.load()?;
    // Every table is reported: parse them side by side.
    crosswalk.load_all()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for system in System::ALL {
        if !crosswalk.has_gem(system) {
            continue;
        }
        let stats = table_stats(crosswalk.gem(system)?);
        if args.json {
            serde_json::to_writer(&mut out, &stats)?;
            writeln!(out)?;
        } else {
            write_text(&mut out, system, &stats)?;
        }
    }
    if !args.json {
        writeln!(out, "code sets (titles and validity)")?;
        for system in System::ALL {
            let set = crosswalk.code_set(system);
            writeln!(
                out,
                "  {:<20} {:<24} {:>7} codes, {:>7} billable",
                system.label(),
                set.release(),
                thousands(set.len()),
                thousands(set.billable_count())
            )?;
        }
    }
    out.flush()?;
    Ok(Outcome::Done)
}

fn write_text(out: &mut impl Write, system: System, s: &TableStats) -> std::io::Result<()> {
    writeln!(
        out,
        "{} → {}: {}",
        system.label(),
        system.gem_target().label(),
        s.crosswalk
    )?;
    let lines = [
        ("rows", s.rows),
        ("sources", s.sources),
        ("sources with >1 target", s.sources_with_several_targets),
        (
            "sources with a combination row",
            s.sources_with_combination_row,
        ),
        ("no-map sources", s.no_map_sources),
        ("exact 1:1 (single 00000 row)", s.exact_one_to_one),
    ];
    for (label, n) in lines {
        writeln!(out, "  {label:<32}{:>8}", thousands(n))?;
    }
    writeln!(out, "  sources by status")?;
    for status in Status::ALL.iter().filter(|s| s.is_found()) {
        let n = s.by_status.get(status.as_str()).copied().unwrap_or(0);
        writeln!(out, "    {:<30}{:>8}", status.as_str(), thousands(n))?;
    }
    writeln!(out)
}

fn thousands(n: usize) -> String {
    crosswalk::summary::thousands(n as u64)
}
