//! What a code lookup found, in words and as the record `crosswalk map --json` prints (and the
//! Python package's `map` returns): one definition for both.

use serde::Serialize;

use crate::status::Statuses;
use crate::{Code, CodeSet, Crosswalk, Lookup, Status, System, Validity};

/// Why `lookup` of `input` has its status, in a sentence: the kind of mapping, or what the
/// input is instead (a code with its leading zero lost, a code of the other ICD-9 system).
pub fn explain(input: &str, lookup: &Lookup, crosswalk: &Crosswalk) -> String {
    let alternatives = lookup.mapping.alternatives.len();
    let target = lookup.system.gem_target().label();
    match lookup.mapping.status {
        Status::Exact => "one code with the same meaning".to_string(),
        Status::Approximate => "one code, close but not identical in meaning".to_string(),
        Status::Combination => format!(
            "one cluster of {} codes, all needed together",
            lookup.mapping.alternatives[0].codes.len()
        ),
        Status::Ambiguous => {
            format!("{alternatives} alternatives, a person must choose one")
        }
        Status::NoMap => format!("the crosswalk says there is no {target} equivalent"),
        Status::NotInCrosswalk => {
            let table = crosswalk
                .gem(lookup.system)
                .map(|g| g.provenance().release.clone())
                .unwrap_or_default();
            let mut text = format!("not a source code of the {table} table");
            zero_hint(crosswalk, lookup.system, input, &mut text);
            if let Ok(code) = &lookup.code
                && crosswalk.validity(lookup.system, code) == Validity::NotInCodeSet
            {
                system_hint(crosswalk, lookup.system, input, &mut text);
            }
            text
        }
        Status::Malformed => match &lookup.code {
            Err(e) => {
                let mut text = e.to_string();
                zero_hint(crosswalk, lookup.system, input, &mut text);
                system_hint(crosswalk, lookup.system, input, &mut text);
                text
            }
            Ok(_) => String::new(),
        },
    }
}

/// For input that is no code (or no source code) as written but one with a leading zero restored
/// (`389`: 038.9), as `convert` says it.
fn zero_hint(crosswalk: &Crosswalk, system: System, input: &str, text: &mut String) {
    if let Some(reading) = crate::zeros::padded_reading(crosswalk, system, input.as_bytes()) {
        text.push_str("; ");
        text.push_str(&reading);
    }
}

/// For input that is no code of the system asked for but one of the other ICD-9 system: say so.
fn system_hint(crosswalk: &Crosswalk, system: System, input: &str, text: &mut String) {
    if let Some(other) = crosswalk.other_icd9_reading(system, input.as_bytes(), text) {
        text.push_str(&format!(" (--system {})", other.name()));
    }
}

/// A target code of an alternative.
#[derive(Serialize)]
pub struct JsonCode<'a> {
    code: &'a str,
    dotted: String,
    title: Option<std::borrow::Cow<'a, str>>,
    validity: Validity,
    /// For a header: its billable codes (canonical), what it has become.
    billable_under: Vec<String>,
    flags: String,
}

/// One alternative: its codes (a cluster when several) and its GEM scenario.
#[derive(Serialize)]
pub struct JsonAlternative<'a> {
    codes: Vec<JsonCode<'a>>,
    scenario: Option<u8>,
}

/// One looked-up code as `map --json` prints it.
#[derive(Serialize)]
pub struct LookupRecord<'a> {
    input: &'a str,
    system: &'static str,
    code: Option<&'a str>,
    dotted: Option<String>,
    title: Option<std::borrow::Cow<'a, str>>,
    validity: Option<Validity>,
    billable_under: Vec<String>,
    /// What `convert` reports for the code (its outcome and problems, as in the flags column).
    status: Statuses,
    /// How the crosswalk reads the code.
    gem_status: Status,
    reason: Option<String>,
    alternatives: Vec<JsonAlternative<'a>>,
    crosswalk: &'a str,
}

impl<'a> LookupRecord<'a> {
    /// The record of `lookup` of `input`; `release` names the crosswalk it was looked up in.
    pub fn new(
        crosswalk: &'a Crosswalk,
        input: &'a str,
        lookup: &'a Lookup,
        release: &'a str,
    ) -> LookupRecord<'a> {
        let system = lookup.system;
        let target = system.gem_target();
        let (source_set, target_set) = (crosswalk.code_set(system), crosswalk.code_set(target));
        let code: Option<&Code> = lookup.code.as_ref().ok();
        let reason = match (&lookup.code, lookup.mapping.status) {
            (Err(_), _) | (Ok(_), Status::NotInCrosswalk) => {
                Some(explain(input, lookup, crosswalk))
            }
            _ => None,
        };
        LookupRecord {
            input,
            system: system.name(),
            code: code.map(Code::as_str),
            dotted: code.map(|c| c.dotted(system)),
            title: code.and_then(|c| source_set.title(c)),
            validity: code.map(|c| source_set.validity(c)),
            billable_under: code.map_or_else(Vec::new, |c| billable_under(source_set, c)),
            status: Statuses::of_mapping(&lookup.mapping, target_set),
            gem_status: lookup.mapping.status,
            reason,
            alternatives: lookup
                .mapping
                .alternatives
                .iter()
                .map(|a| JsonAlternative {
                    codes: a
                        .codes
                        .iter()
                        .map(|t| JsonCode {
                            code: t.code.as_str(),
                            dotted: t.code.dotted(target),
                            title: target_set.title(&t.code),
                            validity: target_set.validity(&t.code),
                            billable_under: billable_under(target_set, &t.code),
                            flags: t.flags.to_string(),
                        })
                        .collect(),
                    scenario: a.scenario,
                })
                .collect(),
            crosswalk: release,
        }
    }
}

fn billable_under(set: &CodeSet, code: &Code) -> Vec<String> {
    set.billable_under(code)
        .map(|c| c.as_str().to_string())
        .collect()
}
