//! The choices that decide what a conversion writes for each kind of code. Below the converter
//! and the summary, which records them.

use serde::Serialize;

/// What to write for an `ambiguous` code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Choose {
    /// The first alternative in the crosswalk's order (flagged).
    #[default]
    First,
    /// The first alternative whose codes are all billable in the built-in target code set, else
    /// the first (flagged either way).
    FirstBillable,
    /// Leave the ICD-9 code in place (flagged).
    Keep,
    /// Stop with an error naming row, column and code.
    Fail,
}

/// What to write for a code that cannot be converted (`no_map`, `not_in_crosswalk`, `malformed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Unmapped {
    /// Keep the original value (flagged).
    #[default]
    Keep,
    /// Blank the cell (the original stays in the flags column and the audit).
    Blank,
}

/// How converted codes are spelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dots {
    /// Dotted where the input cell was dotted.
    #[default]
    AsInput,
    /// Always dotted.
    Dotted,
    /// Never dotted.
    Undotted,
}

/// Choices that change what is written.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Options {
    /// For ambiguous codes.
    pub choose: Choose,
    /// For codes that cannot be converted.
    pub unmapped: Unmapped,
    /// Spelling of converted codes.
    pub dots: Dots,
    /// Append the flags column.
    pub flags_column: bool,
}

/// `name` read as one of `T`'s values, spelled as on the command line (`first-billable`).
fn parse_choice<T: clap::ValueEnum>(name: &str, what: &str) -> Result<T, String> {
    T::from_str(name, false).map_err(|_| {
        let known: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect();
        format!("{what} {name:?}: expected one of {}", known.join(", "))
    })
}

impl std::str::FromStr for Choose {
    type Err = String;

    fn from_str(name: &str) -> Result<Choose, String> {
        parse_choice(name, "choose")
    }
}

impl std::str::FromStr for Unmapped {
    type Err = String;

    fn from_str(name: &str) -> Result<Unmapped, String> {
        parse_choice(name, "unmapped")
    }
}
