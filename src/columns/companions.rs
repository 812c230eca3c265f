//! The fields that describe a code and must travel with it: its present-on-admission indicator
//! (`CLM_POA_IND_SW3` beside `ICD_DGNS_CD3`), a procedure's date (`PRCDR_DT3` beside
//! `ICD_PRCDR_CD3`), and any the user pairs with `--companion CODECOL=COL`. A code placed into
//! another cell of its group takes its source's companion values there. (The version field is a
//! companion too, but it is read as well as written: see [`super::VersionSource`].)

use super::{Header, expand_pair, glob_match};
use crate::error::{Error, Result};

/// What a companion field says of its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The present-on-admission indicator.
    Poa,
    /// The procedure date.
    Date,
    /// A field paired by the `n`-th `--companion` option.
    Named(u16),
}

/// One companion field of a code column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Companion {
    /// What it says of the code.
    pub role: Role,
    /// 0-based index in the record.
    pub index: usize,
}

/// The companions known layouts pair with a code column: (code prefix, companion before the
/// number, after it, role). RIF/CCW, MedPAR and HCUP.
const KNOWN: &[(&str, &str, &str, Role)] = &[
    ("ICD_DGNS_CD", "CLM_POA_IND_SW", "", Role::Poa),
    ("ICD_DGNS_E_CD", "CLM_E_POA_IND_SW", "", Role::Poa),
    ("DGNSCD", "POA_DGNS_", "_IND_CD", Role::Poa),
    ("DX", "DXPOA", "", Role::Poa),
    ("ECODE", "E_POA", "", Role::Poa),
    ("ICD_PRCDR_CD", "PRCDR_DT", "", Role::Date),
    ("PRCDRCD", "PRCDRDT", "", Role::Date),
    ("PR", "PRDAY", "", Role::Date),
];

/// The companion names a code column's name implies in the known layouts.
fn known_names(code_column: &str) -> impl Iterator<Item = (String, Role)> + '_ {
    let upper = code_column.to_ascii_uppercase();
    KNOWN
        .iter()
        .filter_map(move |(prefix, before, after, role)| {
            let n = upper.strip_prefix(prefix)?;
            (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .then(|| (format!("{before}{n}{after}"), *role))
        })
}

/// The companions of the code column `name`: the known ones found in `header`, then those
/// the `--companion` pairs name (an error when a pair names a column the header lacks).
pub(super) fn find(
    header: &Header,
    name: &str,
    pairs: &[(String, String)],
) -> Result<Vec<Companion>> {
    let mut found = Vec::new();
    if header.has_names {
        for (companion, role) in known_names(name) {
            if let Some(index) = header.find(&companion) {
                found.push(Companion { role, index });
            }
        }
    }
    for (n, (code_pattern, pattern)) in pairs.iter().enumerate() {
        if !glob_match(code_pattern, name) {
            continue;
        }
        let companion = expand_pair(code_pattern, pattern, name);
        let index = header.find(&companion).ok_or_else(|| {
            Error::config(format!(
                "--companion {code_pattern}={pattern}: code column {name} pairs with \
                 {companion}, which is not in the header: {}",
                header.listing()
            ))
        })?;
        let role = Role::Named(n as u16);
        found.retain(|c| c.index != index);
        found.push(Companion { role, index });
    }
    Ok(found)
}

/// The `--companion CODECOL=COL` options as pairs of patterns.
pub(super) fn pairs(options: &[String]) -> Result<Vec<(String, String)>> {
    options
        .iter()
        .map(|spec| match spec.split_once('=') {
            Some((code, companion)) if !code.trim().is_empty() && !companion.trim().is_empty() => {
                Ok((code.trim().to_string(), companion.trim().to_string()))
            }
            _ => Err(Error::config(format!(
                "--companion {spec}: write CODECOL=COL, e.g. --companion 'DX*=DXQUAL*'"
            ))),
        })
        .collect()
}

impl Role {
    /// As said in the plan's notes.
    pub fn label(self) -> &'static str {
        match self {
            Role::Poa => "present-on-admission indicators",
            Role::Date => "procedure dates",
            Role::Named(_) => "--companion fields",
        }
    }
}
