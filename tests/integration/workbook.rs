//! The review workbook: `convert --audit review.xlsx` and `--decisions review.xlsx`.

use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};
use rust_xlsxwriter::Workbook;

use crate::workdir::Workdir;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/claims.csv");

/// Every sheet of a workbook: its name and its rows of cells.
fn sheets(path: &Path) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut book: Xlsx<_> = open_workbook(path).unwrap();
    let names = book.sheet_names();
    names
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).unwrap();
            let rows = range.rows().map(<[Data]>::to_vec).collect();
            (name, rows)
        })
        .collect()
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

fn column(header: &[Data], name: &str) -> usize {
    header
        .iter()
        .position(|h| text(h) == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn the_workbook_lists_each_code_once_and_every_occurrence_as_text() {
    let wd = Workdir::new();
    let run = wd
        .run(&[
            "convert",
            EXAMPLE,
            "-o",
            "out.csv",
            "--audit",
            "review.xlsx",
        ])
        .expect_exit(0);
    assert!(
        run.stderr.contains(
            "review workbook: 16 codes and values to decide, 22 occurrences, in review.xlsx"
        ),
        "{}",
        run.describe()
    );
    let book = sheets(&wd.path("review.xlsx"));
    let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Codes", "Occurrences", "About", "Choices"]);

    let codes = &book[0].1;
    let h = &codes[0];
    assert_eq!(text(&h[0]), "system");
    assert_eq!(codes.len(), 17, "16 codes and the header");
    // The most claims first: 401.9 (3 occurrences in 2 claims).
    let first = &codes[1];
    assert_eq!(text(&first[column(h, "code")]), "401.9");
    assert_eq!(first[column(h, "claims")], Data::Float(2.0));
    assert_eq!(first[column(h, "occurrences")], Data::Float(3.0));
    let ornithosis = codes
        .iter()
        .find(|r| r[column(h, "code")] == Data::String("073.0".into()))
        .expect("073.0 stored as text, its zero kept");
    assert_eq!(text(&ornithosis[column(h, "status")]), "overflow 2");
    let choices = text(&ornithosis[column(h, "choices")]);
    assert!(
        choices.starts_with(
            "A70+J17 — Chlamydia psittaci infections + Pneumonia in diseases classified elsewhere\naccept — "
        ),
        "{choices}"
    );
    let hyperlipidemia = codes
        .iter()
        .find(|r| text(&r[column(h, "code")]) == "272.4")
        .unwrap();
    assert!(text(&hyperlipidemia[column(h, "choices")]).contains(
        "E78.4 — Other hyperlipidemia [header]\nE78.41 — Elevated Lipoprotein(a) (under E78.4)"
    ));

    let occurrences = &book[1].1;
    let oh = &occurrences[0];
    assert_eq!(text(&oh[0]), "CLM_ID", "the claim key columns come first");
    assert_eq!(occurrences.len(), 23);
    let row = &occurrences[1];
    assert_eq!(row[0], Data::String("900000000000002".into()));
    assert_eq!(text(&row[column(oh, "code")]), "996.81");
    assert_eq!(text(&row[column(oh, "original")]), "99681");
    assert_eq!(row[column(oh, "row")], Data::Float(2.0));
    assert_eq!(text(&row[column(oh, "decision")]), "");

    let about = &book[2].1;
    let said: Vec<String> = about.iter().map(|r| text(&r[1])).collect();
    assert!(said.iter().any(|s| s.starts_with("CMS GEM FY2018")));
    assert!(said.iter().any(|s| s.starts_with("1. On the Codes sheet")));
    // Nothing but the outputs is left in the directory (the Occurrences sheet's temporary file
    // is an unnamed one).
    let mut files: Vec<String> = std::fs::read_dir(wd.path("."))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["out.csv", "review.xlsx"]);
    let run = wd.run(&["report", "review.xlsx"]).expect_exit(1);
    assert!(
        run.stderr
            .contains("review.xlsx:1: a workbook (zip) file: `report` reads the CSV audit"),
        "{}",
        run.describe()
    );
}

/// A workbook as a reviewer might make one: a Codes sheet and an Occurrences sheet with the
/// columns `--decisions` reads.
fn decisions_workbook(path: &Path, codes: &[[&str; 4]], occurrences: &[[&str; 6]]) {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Codes").unwrap();
    for (r, row) in [["system", "code", "decision", "alternatives"]]
        .iter()
        .chain(codes)
        .enumerate()
    {
        for (c, value) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *value).unwrap();
        }
    }
    let sheet = book.add_worksheet();
    sheet.set_name("Occurrences").unwrap();
    for (r, row) in [["CLM_ID", "row", "column", "system", "code", "decision"]]
        .iter()
        .chain(occurrences)
        .enumerate()
    {
        for (c, value) in row.iter().enumerate() {
            // A row number as a spreadsheet stores one (a number), else text.
            match (r, c, value.parse::<f64>()) {
                (1.., 1, Ok(n)) => sheet.write_number(r as u32, 1, n),
                _ => sheet.write_string(r as u32, c as u16, *value),
            }
            .unwrap();
        }
    }
    book.save(path).unwrap();
}

#[test]
fn decisions_are_read_from_both_sheets_with_sheet_and_row_in_errors() {
    let wd = Workdir::new();
    wd.write(
        "c.csv",
        "CLM_ID,DX1,DX2\n900000000000001,99681,4019\n900000000000002,99681,0730\n",
    );
    decisions_workbook(
        &wd.path("d.xlsx"),
        &[
            ["icd9-dx", "996.81", "T86.11", "T86.10 | T86.11 | T86.12"],
            ["icd9-dx", "401.9", "", "I10 | I16.9"],
            ["icd9-dx", "073.0", "accept", "A70+J17"],
        ],
        &[["900000000000002", "2", "DX1", "icd9-dx", "996.81", "T86.12"]],
    );
    let run = wd
        .run(&["convert", "c.csv", "-q", "--decisions", "d.xlsx"])
        .expect_exit(0);
    assert_eq!(
        run.stdout,
        "CLM_ID,DX1,DX2,crosswalk_flags\n\
         900000000000001,T8611,I10,DX1:decided:99681;DX2:ambiguous:4019\n\
         900000000000002,T8612,A70,DX1:decided:99681;DX2:decided:0730:J17\n"
    );

    let refused = |codes: &[[&str; 4]], occurrences: &[[&str; 6]], message: &str| {
        decisions_workbook(&wd.path("bad.xlsx"), codes, occurrences);
        let run = wd
            .run(&["convert", "c.csv", "-q", "--decisions", "bad.xlsx"])
            .expect_exit(1);
        assert!(run.stderr.contains(message), "{}", run.describe());
    };
    refused(
        &[
            ["icd9-dx", "401.9", "", "I10 | I16.9"],
            ["icd9-dx", "996.81", "T86.1", "T86.10 | T86.11 | T86.12"],
        ],
        &[],
        "bad.xlsx:Codes:3: decision \"T86.1\" for 996.81: T86.1 is not one of its alternatives",
    );
    refused(
        &[["icd9-dx", "996.81", "", "T86.10 | T86.11"]],
        &[["900000000000002", "2", "DX1", "icd9-dx", "996.81", "T86.12"]],
        "bad.xlsx:Occurrences:2: the alternatives of ICD-9-CM diagnosis 996.81 changed since \
         this audit was written (then, at bad.xlsx:Codes:2",
    );
    refused(
        &[],
        &[[
            "900000000000002",
            "two",
            "DX1",
            "icd9-dx",
            "996.81",
            "T86.12",
        ]],
        "bad.xlsx:Occurrences:2: `row` is \"two\", not a number",
    );

    // A workbook that is no review workbook.
    let mut book = Workbook::new();
    book.add_worksheet().write_string(0, 0, "x").unwrap();
    book.save(wd.path("other.xlsx")).unwrap();
    let run = wd
        .run(&["convert", "c.csv", "-q", "--decisions", "other.xlsx"])
        .expect_exit(1);
    assert!(
        run.stderr
            .contains("other.xlsx:1: a workbook without a Codes or Occurrences sheet"),
        "{}",
        run.describe()
    );
}

/// What convert writes, `--decisions` reads: the workbook of a run as it was written (formatted
/// empty decision cells, numbers, the About and hidden Choices sheets) is read without error and
/// decides nothing. (tests/workbook/roundtrip.sh fills one in and has LibreOffice save it.)
#[test]
fn a_written_workbook_reads_back() {
    let wd = Workdir::new();
    wd.run(&["convert", EXAMPLE, "-q", "-o", "o.csv", "--audit", "r.xlsx"])
        .expect_exit(0);
    let run = wd
        .run(&[
            "convert",
            EXAMPLE,
            "-o",
            "o2.csv",
            "--decisions",
            "r.xlsx",
            "--summary",
            "s.json",
        ])
        .expect_exit(0);
    let summary: serde_json::Value = serde_json::from_str(&wd.read("s.json")).unwrap();
    assert_eq!(summary["decisions"]["loaded"], 0, "{}", run.describe());
    assert_eq!(summary["review_codes"], 22);
}

/// An audited ICD-10 code (a header) is decided as a code of its own system: the workbook and
/// the page list no alternatives for it (none from the GEM back to ICD-9), and a decision read
/// from either applies.
#[test]
fn icd10_codes_are_decided_in_their_own_system() {
    let wd = Workdir::new();
    wd.write("c.csv", "CLM_ID,icd_version,DX1\n1,10,D71\n2,10,D71\n");
    let run = wd
        .run(&[
            "convert", "c.csv", "-o", "o.csv", "--audit", "r.xlsx", "--report", "r.html",
        ])
        .expect_exit(0);
    let book = sheets(&wd.path("r.xlsx"));
    let codes = &book[0].1;
    let h = &codes[0];
    assert_eq!(codes.len(), 2, "{}", run.describe());
    let d71 = &codes[1];
    assert_eq!(text(&d71[column(h, "system")]), "icd10-cm");
    assert_eq!(text(&d71[column(h, "alternatives")]), "");
    assert_eq!(d71[column(h, "alternative_count")], Data::Float(0.0));
    assert!(text(&d71[column(h, "choices")]).starts_with("D71.1 — "));
    let page = wd.read("r.html");
    assert!(
        page.contains("data-system=\"icd10-cm\" data-code=\"D71\" data-text=\"\" data-listed=\"\""),
        "no alternatives on the page either"
    );
    decisions_workbook(&wd.path("d.xlsx"), &[["icd10-cm", "D71", "D71.9", ""]], &[]);
    let run = wd
        .run(&["convert", "c.csv", "-q", "--decisions", "d.xlsx"])
        .expect_exit(0);
    assert_eq!(
        run.stdout,
        "CLM_ID,icd_version,DX1,crosswalk_flags\n1,10,D719,DX1:decided:D71\n2,10,D719,DX1:decided:D71\n"
    );
}

/// A second round: the remaining workbook of a run with decisions carries the code's decision
/// on the Codes sheet, not on every occurrence, so changing it there changes every occurrence.
#[test]
fn a_second_round_workbook_carries_code_decisions_on_the_codes_sheet() {
    let wd = Workdir::new();
    wd.write("c.csv", "CLM_ID,DX1\n1,4019\n2,4019\n");
    wd.write("d.csv", "system,code,decision\nicd9-dx,401.9,I11.9\n");
    wd.run(&[
        "convert",
        "c.csv",
        "-q",
        "-o",
        "o.csv",
        "--decisions",
        "d.csv",
        "--audit",
        "r.xlsx",
    ])
    .expect_exit(0);
    let book = sheets(&wd.path("r.xlsx"));
    let (codes, occurrences) = (&book[0].1, &book[1].1);
    assert_eq!(text(&codes[1][column(&codes[0], "decision")]), "I11.9");
    for row in &occurrences[1..] {
        assert_eq!(text(&row[column(&occurrences[0], "decision")]), "");
    }
    let run = wd
        .run(&[
            "convert",
            "c.csv",
            "-q",
            "--decisions",
            "r.xlsx",
            "--summary",
            "s.json",
        ])
        .expect_exit(0);
    assert!(run.stdout.contains("1,I119,DX1:decided_outside_gem:4019"));
    let summary: serde_json::Value = serde_json::from_str(&wd.read("s.json")).unwrap();
    assert_eq!(summary["decisions"]["unused"], serde_json::json!([]));
}
