//! What a reviewer can decide for a code: the values `--decisions` accepts that the crosswalk and
//! the code set suggest. The review workbook offers them in a dropdown and the review page as
//! buttons; any other valid code can still be typed.

use crate::code::{Code, System};
use crate::codeset::Validity;
use crate::crosswalk::Crosswalk;

/// One choice: the decision value and what it writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The value to write in a `decision` cell (`T86.12`, `A70+J17`, `keep`).
    pub value: String,
    /// What it means: the codes' titles and validity, or what the keyword does.
    pub label: String,
}

/// At most this many billable codes are offered under a header alternative.
const MAX_UNDER_HEADER: usize = 50;

/// The choices for `code` of `system` (`None`: a cell that is no code), whose occurrences have
/// an overflow among them when `overflow`: every alternative in the crosswalk's order (each
/// header followed by the billable codes under it), `accept` for an overflow, then `keep` and
/// `blank`.
pub fn choices(
    crosswalk: &Crosswalk,
    system: System,
    code: Option<&Code>,
    overflow: bool,
) -> Vec<Choice> {
    let mut out = Vec::new();
    let target = if system.is_icd9() {
        system.gem_target()
    } else {
        system
    };
    let describe = |code: &Code| {
        let title = crosswalk
            .title(target, code)
            .map(|t| t.into_owned())
            .unwrap_or_else(|| "(no title)".to_string());
        match crosswalk.validity(target, code) {
            Validity::Billable => title,
            other => format!("{title} [{}]", other.as_str().replace('_', " ")),
        }
    };
    let under_header = |header: &Code, out: &mut Vec<Choice>| {
        if crosswalk.validity(target, header) != Validity::Header {
            return;
        }
        for billable in crosswalk
            .code_set(target)
            .billable_under(header)
            .take(MAX_UNDER_HEADER)
        {
            out.push(Choice {
                value: billable.dotted(target),
                label: format!("{} (under {})", describe(&billable), header.dotted(target)),
            });
        }
    };
    if let Some(code) = code {
        for alternative in &super::alternatives_of(crosswalk, system, code) {
            let labels: Vec<String> = alternative
                .codes
                .iter()
                .map(|t| describe(&t.code))
                .collect();
            out.push(Choice {
                value: alternative.spelled(target),
                label: labels.join(" + "),
            });
            if let [single] = &alternative.codes[..] {
                under_header(&single.code, &mut out);
            }
        }
        // An audited ICD-10 code: a header is decided as a billable code under it.
        if !system.is_icd9() {
            under_header(code, &mut out);
        }
    }
    if overflow {
        out.push(Choice {
            value: "accept".to_string(),
            label: "write what fits, keep the rest of the cluster in the flags column".to_string(),
        });
    }
    out.push(Choice {
        value: "keep".to_string(),
        label: "leave the code as it was".to_string(),
    });
    out.push(Choice {
        value: "blank".to_string(),
        label: "blank the cell".to_string(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(system: System, code: &str, overflow: bool) -> Vec<String> {
        let crosswalk = Crosswalk::builtin();
        let code = Code::parse_str(system, code).unwrap();
        choices(&crosswalk, system, Some(&code), overflow)
            .into_iter()
            .map(|c| c.value)
            .collect()
    }

    #[test]
    fn alternatives_then_the_codes_under_a_header_then_keywords() {
        assert_eq!(
            values(System::Icd9Dx, "996.81", false),
            ["T86.10", "T86.11", "T86.12", "keep", "blank"]
        );
        // 288.1 → D71, a header in FY2026.
        assert_eq!(
            values(System::Icd9Dx, "288.1", false),
            ["D71", "D71.1", "D71.8", "D71.9", "keep", "blank"]
        );
        assert_eq!(
            values(System::Icd9Dx, "073.0", true),
            ["A70+J17", "accept", "keep", "blank"]
        );
        assert_eq!(
            values(System::Icd10Cm, "D71", false),
            ["D71.1", "D71.8", "D71.9", "keep", "blank"]
        );
        let crosswalk = Crosswalk::builtin();
        let none = choices(&crosswalk, System::Icd9Dx, None, false);
        assert_eq!(none.len(), 2);
    }
}
