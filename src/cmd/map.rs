//! `crosswalk map`: explain what codes translate to, why, and how sure the crosswalk is.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};
use crosswalk::codeset::BILLABLE_UNDER_SHOWN;
use crosswalk::status::{CellStatus, Statuses};
use crosswalk::{Crosswalk, Lookup, Status, System, Validity};

use crosswalk::explain::{LookupRecord, explain};

use super::{CrosswalkArgs, Outcome, SystemArg};

const EXAMPLES: &str = "\
Examples:
  crosswalk map 273.1 288.09 288.50 996.81 073.0 779.6
  crosswalk map --system icd10-cm D89.83
  crosswalk map --system icd9-proc 36.06
  cut -f1 codes.txt | crosswalk map --json -
  crosswalk map --gems ../gems/fy2018 249.51

Each code is shown with its title, its status (exact, approximate, combination, ambiguous,
no_map, not_in_crosswalk, malformed) and every alternative translation in the crosswalk's order;
the codes of a cluster (`+`) are all needed together, alternatives are a choice.

Exit status: 0 every code was found in the crosswalk (no_map included); 3 some codes were
malformed or not in the crosswalk (all codes are still printed); 1 error; 2 usage.";

/// Show the translations of codes, with titles, validity and GEM flags.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Codes to look up, in any common spelling (273.1, 2731, v10.51). `-` or none: read codes
    /// from stdin, one per line.
    #[arg(value_name = "CODE")]
    codes: Vec<String>,

    /// The code system of the codes given.
    #[arg(short, long, value_enum, default_value_t = SystemArg::Icd9Dx, value_name = "SYSTEM")]
    system: SystemArg,

    /// Print one JSON object per code (JSON Lines) instead of text.
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    crosswalk: CrosswalkArgs,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let system: System = args.system.into();
    let crosswalk = args.crosswalk.load()?;
    let gem = crosswalk.gem(system)?;
    let release = gem.provenance().to_string();

    if args.codes.is_empty() && std::io::stdin().is_terminal() {
        bail!(
            "no codes given; name them as arguments (crosswalk map 273.1) or pipe them in, one per line"
        );
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut malformed, mut missing, mut count) = (0usize, 0usize, 0usize);
    for_each_input(&args.codes, |input| {
        count += 1;
        let lookup = crosswalk.lookup(system, input.as_bytes())?;
        match lookup.mapping.status {
            Status::Malformed => malformed += 1,
            Status::NotInCrosswalk => missing += 1,
            _ => {}
        }
        if args.json {
            let record = LookupRecord::new(&crosswalk, input, &lookup, &release);
            serde_json::to_writer(&mut out, &record)?;
            out.write_all(b"\n")?;
        } else {
            write_text(&mut out, &crosswalk, input, &lookup)?;
            writeln!(out)?;
        }
        Ok(())
    })?;
    if !args.json {
        writeln!(out, "crosswalk: {release}")?;
    }
    out.flush()?;

    if malformed + missing == 0 {
        return Ok(Outcome::Done);
    }
    super::say(format!(
        "{} of {count} codes could not be looked up ({malformed} malformed, {missing} not in the crosswalk)",
        malformed + missing,
    ));
    Ok(Outcome::Unresolved)
}

/// The most bytes of one stdin line kept: no code is near it, and a huge line (a file piped in
/// by mistake) must not be held in memory. A longer line is looked up as its first bytes, which
/// are malformed anyway.
const MAX_LINE: usize = 1024;

/// Call `each` with every code of the arguments in order, `-` (or no argument at all) standing
/// for the lines of stdin, read one at a time so that memory stays flat however much is piped.
fn for_each_input(
    codes: &[String],
    mut each: impl FnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut stdin_read = false;
    let all_stdin = [String::from("-")];
    let codes = if codes.is_empty() {
        &all_stdin[..]
    } else {
        codes
    };
    for code in codes {
        if code != "-" {
            each(code)?;
        } else if !stdin_read {
            // stdin is read once, at the place of the first `-`.
            stdin_read = true;
            let mut reader = std::io::stdin().lock();
            let mut line = Vec::with_capacity(MAX_LINE);
            let mut number = 0u64;
            while read_bounded_line(&mut reader, &mut line)
                .with_context(|| format!("cannot read codes from stdin (line {})", number + 1))?
            {
                number += 1;
                let text = line.strip_suffix(b"\r").unwrap_or(&line);
                each(&String::from_utf8_lossy(text))?;
            }
        }
    }
    Ok(())
}

/// Read one line into `line` (cleared first, without its `\n`), keeping at most [`MAX_LINE`]
/// bytes of it; false at the end of the input.
fn read_bounded_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<bool> {
    line.clear();
    let mut any = false;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(any);
        }
        any = true;
        let (part, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        let room = MAX_LINE.saturating_sub(line.len());
        line.extend_from_slice(&part[..part.len().min(room)]);
        let used = done.unwrap_or(buf.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(true);
        }
    }
}

fn write_text(
    out: &mut impl Write,
    crosswalk: &Crosswalk,
    input: &str,
    lookup: &Lookup,
) -> anyhow::Result<()> {
    let system = lookup.system;
    match &lookup.code {
        Ok(code) => {
            let set = crosswalk.code_set(system);
            write!(out, "{} ({})", code.dotted(system), system.label())?;
            if let Some(title) = set.title(code) {
                write!(out, " {title}")?;
            }
            match set.validity(code) {
                Validity::Billable => writeln!(out)?,
                Validity::Header => writeln!(
                    out,
                    " [header in {}: a category that needs more characters]",
                    set.release()
                )?,
                Validity::NotInCodeSet => writeln!(out, " [not in {}]", set.release())?,
            }
            if let Some(codes) = set.billable_under_text(code, system, BILLABLE_UNDER_SHOWN) {
                writeln!(out, "  billable codes under it: {codes}")?;
            }
        }
        Err(_) => writeln!(out, "{input:?} ({})", system.label())?,
    }
    let target_set = crosswalk.code_set(system.gem_target());
    let statuses = Statuses::of_mapping(&lookup.mapping, target_set);
    let mut explained = explain(input, lookup, crosswalk);
    if statuses.contains(CellStatus::NotBillable) {
        explained.push_str(&format!(
            "; what convert writes is not billable in {}",
            target_set.release()
        ));
    }
    writeln!(out, "  {statuses}: {explained}")?;
    let target = system.gem_target();
    let set = crosswalk.code_set(target);
    for (n, alternative) in lookup.mapping.alternatives.iter().enumerate() {
        for (k, t) in alternative.codes.iter().enumerate() {
            let lead = if k == 0 {
                format!("{:>4}", format!("{}.", n + 1))
            } else {
                "   +".to_string()
            };
            writeln!(
                out,
                "{lead} {:<9}{:<16}{}  {}",
                t.code.dotted(target),
                set.validity(&t.code).as_str(),
                t.flags,
                set.title(&t.code).unwrap_or_default()
            )?;
            if let Some(codes) = set.billable_under_text(&t.code, target, BILLABLE_UNDER_SHOWN) {
                writeln!(out, "              billable codes under it: {codes}")?;
            }
        }
    }
    Ok(())
}
