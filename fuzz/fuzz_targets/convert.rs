//! Any bytes as a claim file (the first byte picks the options), through the same `Converter`
//! the binary runs: it either fails with an error naming the file, or writes every record with
//! its fields plus the flags column, columns that hold no codes untouched, the flags column
//! non-empty exactly for the rows the audit lists (or that are ragged); the review page renders.
#![no_main]

use std::collections::BTreeSet;
use std::sync::LazyLock;

use crosswalk::Crosswalk;
use crosswalk::columns::ColumnOptions;
use crosswalk::convert::{Choose, Config, Converter, Dots, Options, Outputs, Unmapped};
use crosswalk::decisions::Decisions;
use crosswalk::report::html;
use libfuzzer_sys::fuzz_target;

// Loaded once: the built-in tables are the same for every input.
static CROSSWALK: LazyLock<Crosswalk> = LazyLock::new(Crosswalk::builtin);

fn records(data: &[u8], delimiter: u8) -> Vec<csv::ByteRecord> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(data)
        .byte_records()
        .map_while(Result::ok)
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let crosswalk = &*CROSSWALK;
    let decisions = Decisions::new();
    let columns = if mode & 2 == 0 {
        // Detected from the header's names.
        ColumnOptions::default()
    } else {
        ColumnOptions {
            dx: vec!["1-3".to_string()],
            proc: vec!["4".to_string(), "5".to_string()],
            ..ColumnOptions::default()
        }
    };
    let options = Options {
        choose: [
            Choose::First,
            Choose::Keep,
            Choose::Fail,
            Choose::FirstBillable,
        ][usize::from(mode >> 2) % 4],
        unmapped: if mode & 16 == 0 {
            Unmapped::Keep
        } else {
            Unmapped::Blank
        },
        dots: [Dots::AsInput, Dots::Dotted, Dots::Undotted][usize::from(mode >> 5) % 3],
        flags_column: true,
    };
    let delimiter = if mode & 128 == 0 { b',' } else { b'|' };
    let config = Config {
        options,
        columns,
        delimiter: Some(delimiter),
        no_headers: mode & 1 == 1,
        flexible: true,
        flags_column_name: "crosswalk_flags".to_string(),
        threads: 1,
    };
    let converter = Converter::new(crosswalk, &decisions, config);
    let Ok(opened) = converter.open(data, "fuzz.csv") else {
        return;
    };
    let code_columns: Vec<usize> = opened.plan().columns.iter().map(|c| c.index).collect();
    let outputs = Outputs {
        rows: Vec::new(),
        audit: Some(Vec::new()),
        review: true,
        workbook: None,
    };
    let finished = match opened.run(outputs, |_| {}) {
        Ok(finished) => finished,
        Err(e) => {
            assert!(e.to_string().starts_with("fuzz.csv"), "{e}");
            return;
        }
    };
    let input = records(data, delimiter);
    let output = records(&finished.rows, delimiter);
    assert_eq!(output.len(), input.len(), "every record comes out");
    let audit = records(finished.audit.as_ref().expect("asked for"), b',');
    // Occurrence rows name their data row (code rows describe codes).
    let audited: BTreeSet<&[u8]> = audit
        .iter()
        .skip(1)
        .filter(|r| &r[0] == b"occurrence")
        .map(|r| &r[1])
        .collect();
    let first_row = usize::from(mode & 1 == 0);
    for (i, (a, b)) in input.iter().zip(&output).enumerate().skip(first_row) {
        for (index, (x, y)) in a.iter().zip(b.iter()).enumerate() {
            if !code_columns.contains(&index) {
                assert_eq!(x, y, "column {index} holds no codes");
            }
        }
        let flags = b.get(b.len() - 1).unwrap_or(b"");
        let row = (i + 1 - first_row).to_string();
        let ragged = flags.starts_with(b"(row):ragged");
        assert_eq!(
            !flags.is_empty(),
            ragged || audited.contains(row.as_bytes()),
            "row {row}: {flags:?}"
        );
    }
    let about = html::About {
        source: "fuzz.csv".to_string(),
        audit_file: None,
        totals: None,
        max_groups: html::DEFAULT_MAX_GROUPS,
    };
    let review = finished.review.expect("asked for");
    let page = html::render(&review, crosswalk, &about);
    assert!(page.ends_with("</html>\n"));
});
