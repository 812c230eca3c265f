//! `crosswalk convert` through the binary: the bundled example, options, bad input, and every
//! real-format sample in `../shared/data/claims/`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use crate::fy2018::{expected, read_gem};
use crate::workdir::{DESYNPUF_SAMPLE, Run, Workdir, fy2018_gems, shared_data};

type Table = Vec<Vec<String>>;

fn example() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/claims.csv"))
        .unwrap()
}

pub(crate) fn read_csv(text: &[u8], delimiter: u8) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text)
        .byte_records()
        .map(|r| {
            r.unwrap()
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect()
        })
        .collect()
}

/// `rows` as CSV text (the reverse of [`read_csv`]).
pub(crate) fn write_csv(rows: &[Vec<String>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(r).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

pub(crate) fn read_file(path: &Path, delimiter: u8) -> Vec<Vec<String>> {
    read_csv(&std::fs::read(path).unwrap(), delimiter)
}

/// The audit file `path` as its header and its occurrence rows, each with its code's cells
/// (title, alternatives, data, and the reason when its own is empty) copied from the code row,
/// which must come before it.
pub(crate) fn read_audit(path: &Path) -> Vec<Vec<String>> {
    audit_occurrences(read_file(path, b','))
}

/// The occurrence rows of audit `rows` (header first), with their code rows' cells filled in.
pub(crate) fn audit_occurrences(rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let h = rows[0].clone();
    let (kind, system, code) = (col(&h, "kind"), col(&h, "system"), col(&h, "code"));
    let per_code = [
        "original_title",
        "alternative_count",
        "alternatives",
        "alternative_titles",
        "data",
    ]
    .map(|c| col(&h, c));
    let mut codes: std::collections::HashMap<(String, String), Vec<String>> = Default::default();
    let mut out = vec![h];
    for mut r in rows.into_iter().skip(1) {
        if r[kind] == "code" {
            let id = (r[system].clone(), r[code].clone());
            assert!(codes.insert(id, r).is_none(), "one code row per code");
            continue;
        }
        assert_eq!(r[kind], "occurrence");
        if !r[code].is_empty() {
            let c = &codes[&(r[system].clone(), r[code].clone())];
            for i in per_code {
                assert_eq!(r[i], "", "a per-code cell of an occurrence row: {r:?}");
                r[i] = c[i].clone();
            }
            let reason = col(&out[0], "reason");
            assert!(
                r[reason].is_empty() || r[reason] != c[reason],
                "a reason the code row gives: {r:?}"
            );
            if r[reason].is_empty() {
                r[reason] = c[reason].clone();
            }
        }
        out.push(r);
    }
    out
}

/// `COLUMN:STATUS:ORIGINAL[:LEFTOVER]` entries of a flags cell.
fn flags(cell: &str) -> Vec<Vec<String>> {
    if cell.is_empty() {
        return vec![];
    }
    cell.split(';')
        .map(|e| e.split(':').map(str::to_string).collect())
        .collect()
}

pub(crate) fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// Files in a directory other than the named ones: a failed run must leave nothing behind.
fn leftovers(wd: &Workdir, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(wd.path("."))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect()
}

#[test]
fn example_file_every_status() {
    let wd = Workdir::new();
    wd.write("claims.csv", example());
    let run = wd
        .run(&[
            "convert",
            "claims.csv",
            "-o",
            "out.csv",
            "--audit",
            "review.csv",
            "--summary",
            "summary.json",
        ])
        .expect_exit(0);
    assert!(
        run.stderr
            .contains("crosswalk: diagnosis columns: ADMTNG_ICD9_DGNS_CD, ICD9_DGNS_CD_1..10")
    );
    assert!(
        run.stderr
            .contains("crosswalk: procedure columns: ICD9_PRCDR_CD_1..6")
    );
    let input = read_csv(example().as_bytes(), b',');
    let out = read_file(&wd.path("out.csv"), b',');
    assert_eq!(out.len(), input.len(), "every row out");
    assert!(out.iter().all(|r| r.len() == 82));
    let h = &out[0];
    assert_eq!(h[81], "crosswalk_flags");
    let (adm, dx1, px1) = (
        col(h, "ADMTNG_ICD9_DGNS_CD"),
        col(h, "ICD9_DGNS_CD_1"),
        col(h, "ICD9_PRCDR_CD_1"),
    );
    let dx = |r: usize, k: usize| out[r][dx1 + k].as_str();
    // Row 1: exact, approximate, V and E codes, nothing flagged.
    assert_eq!(out[1][adm], "I501");
    assert_eq!(
        [dx(1, 0), dx(1, 1), dx(1, 2), dx(1, 3), dx(1, 4)],
        ["I501", "D708", "D472", "Z8551", "V4988XA"]
    );
    assert_eq!(out[1][81], "");
    // Row 2: ambiguous -> first alternative, flagged.
    assert_eq!(dx(2, 0), "T8610");
    assert_eq!(out[2][px1], "6A750Z4");
    assert!(out[2][81].contains("ICD9_DGNS_CD_1:ambiguous:99681"));
    // Row 3: the cluster A70 + J17 fills the next empty cell of its group; the admitting field
    // is a group of its own, so its J17 is left over, never written into another field.
    assert_eq!([dx(3, 0), dx(3, 1), dx(3, 2)], ["A70", "J189", "J17"]);
    assert_eq!(out[3][adm], "A70");
    assert_eq!(
        flags(&out[3][81]),
        [["ADMTNG_ICD9_DGNS_CD", "overflow", "0730", "J17"]]
    );
    // Row 4: a full group: overflow, J17 kept in the flags.
    assert!(out[4][81].contains("ICD9_DGNS_CD_2:overflow:0730:J17"));
    // Row 5: no_map and not_in_crosswalk keep their value.
    assert_eq!(
        [dx(5, 0), dx(5, 1), dx(5, 2), dx(5, 3)],
        ["7796", "E9300", "V854", "0414"]
    );
    let statuses: Vec<String> = flags(&out[5][81]).iter().map(|f| f[1].clone()).collect();
    assert_eq!(
        statuses,
        [
            "no_map",
            "no_map",
            "no_map",
            "not_in_crosswalk",
            "not_in_crosswalk"
        ]
    );
    // Row 6: malformed, a diagnosis code in a procedure column, gaps kept.
    assert_eq!(dx(6, 0), "25O00");
    assert_eq!(dx(6, 2), "");
    assert_eq!(out[6][px1], "25000");
    assert!(out[6][81].contains("ICD9_PRCDR_CD_1:malformed:25000"));
    // Row 7: dotted in, dotted out.
    assert_eq!(
        [out[7][adm].as_str(), dx(7, 0), dx(7, 1)],
        ["D47.2", "D47.2", "Z85.51"]
    );
    // Row 8: gaps before a code are kept; 288.1 has one sure translation, D71, which is a
    // header in the ICD-10-CM FY2026 code set (split into D71.1, D71.8 and D71.9): written, and
    // flagged not_billable.
    assert_eq!([dx(8, 0), dx(8, 3), dx(8, 4)], ["", "Z7982", "D71"]);
    assert_eq!(
        flags(&out[8][81]),
        [["ICD9_DGNS_CD_5", "not_billable", "2881"]]
    );
    // Untouched columns stay byte-equal.
    for (a, b) in input.iter().zip(&out) {
        for (i, v) in a.iter().enumerate() {
            if !(adm == i || (dx1..dx1 + 16).contains(&i)) {
                assert_eq!(&b[i], v);
            }
        }
    }

    // Audit: exactly the flagged codes, with alternatives and empty decision and scope columns.
    let audit = read_audit(&wd.path("review.csv"));
    let ah = &audit[0];
    assert_eq!(ah[..4], ["kind", "row", "line", "CLM_ID"]);
    assert_eq!(ah[ah.len() - 2..], ["decision", "scope"]);
    let flagged: usize = out[1..].iter().map(|r| flags(&r[81]).len()).sum();
    assert_eq!(audit.len() - 1, flagged);
    let amb = audit
        .iter()
        .find(|r| r[col(ah, "original")] == "99681")
        .unwrap();
    assert_eq!(amb[col(ah, "alternatives")], "T86.10 | T86.11 | T86.12");
    assert_eq!(amb[col(ah, "status")], "ambiguous");
    assert_eq!(amb[col(ah, "line")], "3");
    assert_eq!(amb[col(ah, "CLM_ID")], "900000000000002");
    assert!(amb[col(ah, "alternative_titles")].contains("Kidney transplant rejection"));
    let header = audit
        .iter()
        .find(|r| r[col(ah, "status")] == "not_billable")
        .unwrap();
    assert_eq!(
        header[col(ah, "reason")],
        "D71 is a header (not billable) in ICD-10-CM FY2026; billable codes under it: D71.1, \
         D71.8, D71.9"
    );
    assert_eq!(header[col(ah, "alternatives")], "D71");
    // An ambiguous code whose first alternative is a header says so too.
    let first_is_header = audit
        .iter()
        .find(|r| r[col(ah, "original")] == "2724")
        .unwrap();
    assert_eq!(first_is_header[col(ah, "status")], "ambiguous+not_billable");
    assert_eq!(
        first_is_header[col(ah, "reason")],
        "E78.4 is a header (not billable) in ICD-10-CM FY2026; billable codes under it: E78.41, \
         E78.49"
    );

    // Summary JSON.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(wd.path("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["rows_in"], 8);
    assert_eq!(summary["rows_out"], 8);
    assert_eq!(summary["review_codes"], flagged);
    let dxs = &summary["by_system"]["icd9-dx"];
    for status in [
        "exact",
        "approximate",
        "combination",
        "ambiguous",
        "no_map",
        "not_in_crosswalk",
        "malformed",
        "overflow",
    ] {
        assert!(dxs[status].as_u64().unwrap() > 0, "{status} in {dxs}");
    }
    assert!(
        summary["crosswalk"]["icd9-dx"]
            .as_str()
            .unwrap()
            .contains("CMS GEM FY2018 (built-in crosswalk/gems/2018_I9gem.txt)")
    );
    assert!(summary["top_review"].as_array().unwrap().len() <= 10);
    // What validity was judged against, and the options that decided what was written.
    assert_eq!(
        summary["code_sets"],
        serde_json::json!({"icd10-cm": "ICD-10-CM FY2026", "icd10-pcs": "ICD-10-PCS FY2024"})
    );
    assert_eq!(
        summary["options"],
        serde_json::json!({"choose": "first", "unmapped": "keep", "dots": "as-input",
                           "flags_column": true})
    );
    assert!(run.stderr.contains("rows in, 8 rows out"));
}

#[test]
fn stdin_to_stdout_pipe_delimited_crlf_latin1() {
    let wd = Workdir::new();
    let input =
        b"ID|NAME|ICD9_DGNS_CD_1|ICD9_DGNS_CD_2\r\n1|Jos\xe9|2731|\r\n2|\"a|b\"|99681|V1051\r\n";
    let run = wd
        .run_with_stdin(&["convert", "-q"], Some(input))
        .expect_exit(0);
    // (The harness reads stdout as UTF-8, so the Latin-1 byte shows as U+FFFD here; the next
    // test compares bytes.)
    assert_eq!(
        run.stdout,
        "ID|NAME|ICD9_DGNS_CD_1|ICD9_DGNS_CD_2|crosswalk_flags\r\n1|Jos\u{FFFD}|D472||\r\n2|\"a|b\"|T8610|Z8551|ICD9_DGNS_CD_1:ambiguous:99681\r\n"
    );
}

#[test]
fn latin1_bytes_pass_through_untouched() {
    let wd = Workdir::new();
    wd.write("in.csv", b"ID,NAME,DX1\n1,Jos\xe9,2731\n".as_slice());
    wd.run(&["convert", "in.csv", "-o", "out.csv", "-q"])
        .expect_exit(0);
    assert_eq!(
        std::fs::read(wd.path("out.csv")).unwrap(),
        b"ID,NAME,DX1,crosswalk_flags\n1,Jos\xe9,D472,\n"
    );
}

#[test]
fn tab_delimiter_no_headers_and_options() {
    let wd = Workdir::new();
    wd.write("in.tsv", "a\t273.1\t99681\t7796\n");
    let run = wd
        .run(&[
            "convert",
            "in.tsv",
            "-n",
            "--dx",
            "2-4",
            "--no-dots",
            "--choose",
            "keep",
            "--unmapped",
            "blank",
            "-q",
        ])
        .expect_exit(0);
    assert_eq!(
        run.stdout,
        "a\tD472\t99681\t\t#3:ambiguous:99681;#4:no_map:7796\n"
    );
    let run = wd
        .run(&[
            "convert",
            "in.tsv",
            "-d",
            r"\t",
            "-n",
            "--dx",
            "2,3",
            "--dots",
            "--no-flags-column",
            "-q",
        ])
        .expect_exit(0);
    assert_eq!(run.stdout, "a\tD47.2\tT86.10\t7796\n");
    let run = wd
        .run(&[
            "convert",
            "in.tsv",
            "-n",
            "--dx",
            "2",
            "--flags-column",
            "x",
            "-d",
            ";;",
            "-q",
        ])
        .expect_exit(2);
    assert!(
        run.stderr.contains("--delimiter \";;\""),
        "{}",
        run.describe()
    );
}

#[test]
fn choose_fail_names_row_column_and_code_and_leaves_no_file() {
    let wd = Workdir::new();
    wd.write("in.csv", example());
    let run = wd
        .run(&[
            "convert", "in.csv", "--choose", "fail", "-o", "out.csv", "--audit", "a.csv",
        ])
        .expect_exit(1);
    assert!(
        run.stderr.contains("in.csv:3: row 2, column ICD9_DGNS_CD_1: ICD-9-CM diagnosis 996.81 is ambiguous (T86.10 | T86.11 | T86.12)"),
        "{}",
        run.describe()
    );
    assert_eq!(leftovers(&wd, &["in.csv"]), Vec::<String>::new());
}

/// `--choose first-billable` writes the first alternative that is billable today (272.4: E78.5,
/// not the header E78.4), says so in the audit, and changes nothing else: a code whose only
/// translation is a header stays `not_billable`, an all-billable ambiguous code takes its first.
#[test]
fn choose_first_billable_passes_over_headers() {
    let wd = Workdir::new();
    wd.write("c.csv", "ID,DX1,DX2\n1,272.4,996.81\n2,288.1,\n");
    let run = wd
        .run(&[
            "convert",
            "c.csv",
            "-q",
            "--choose",
            "first-billable",
            "--audit",
            "a.csv",
        ])
        .expect_exit(0);
    assert_eq!(
        run.stdout,
        "ID,DX1,DX2,crosswalk_flags\n\
         1,E78.5,T86.10,DX1:ambiguous:272.4;DX2:ambiguous:996.81\n\
         2,D71,,DX1:not_billable:288.1\n"
    );
    let audit = read_audit(&wd.path("a.csv"));
    let h = &audit[0];
    let (reason, written) = (col(h, "reason"), col(h, "written"));
    assert_eq!(audit[1][written], "E78.5");
    assert_eq!(
        audit[1][reason],
        "the first alternative is not billable in ICD-10-CM FY2026; the first billable one was \
         written (--choose first-billable)"
    );
    assert_eq!(audit[2][reason], "");
    assert!(audit[3][reason].starts_with("D71 is a header"));
    let run = wd
        .run(&[
            "convert",
            "c.csv",
            "-q",
            "--choose",
            "first-billable",
            "--unmapped",
            "blank",
            "--no-dots",
            "--summary",
            "s.json",
            "-o",
            "out.csv",
        ])
        .expect_exit(0);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(wd.path("s.json")).unwrap()).unwrap();
    assert_eq!(
        summary["options"],
        serde_json::json!({"choose": "first-billable", "unmapped": "blank", "dots": "undotted",
                           "flags_column": true}),
        "{}",
        run.describe()
    );
    // The default writes the header, and says so.
    let run = wd.run(&["convert", "c.csv", "-q"]).expect_exit(0);
    assert!(
        run.stdout.contains("\n1,E78.4,T86.10,"),
        "{}",
        run.describe()
    );
}

/// Codes that cannot be converted say why in the audit, in terms a reviewer can act on: a
/// category subdivided before the GEMs (with its codes), or a code of the other ICD-9 system in
/// the wrong column (DE-SynPUF procedure columns hold diagnoses). Nothing is converted by guess.
#[test]
fn unconvertible_codes_say_what_they_are() {
    let wd = Workdir::new();
    wd.write(
        "c.csv",
        "ID,DX1,DX2,PR1,PR2\n1,041.4,99.04,4280,V5866\n2,2841,,486,\n",
    );
    let run = wd
        .run(&[
            "convert", "c.csv", "-q", "--dx", "DX*", "--proc", "PR*", "--audit", "a.csv",
        ])
        .expect_exit(0);
    assert_eq!(
        run.stdout,
        "ID,DX1,DX2,PR1,PR2,crosswalk_flags\n\
         1,041.4,99.04,4280,V5866,DX1:not_in_crosswalk:041.4;DX2:malformed:99.04;\
         PR1:not_in_crosswalk:4280;PR2:malformed:V5866\n\
         2,2841,,486,,DX1:not_in_crosswalk:2841;PR1:not_in_crosswalk:486\n"
    );
    let audit = read_audit(&wd.path("a.csv"));
    let reason = col(&audit[0], "reason");
    let reasons: Vec<&str> = audit[1..].iter().map(|r| r[reason].as_str()).collect();
    assert_eq!(
        reasons,
        [
            "041.4 is a category that needs more characters in ICD-9-CM v32 (FY2015): 041.41, \
             041.42, 041.43, 041.49",
            "decimal point after 2 characters, but an ICD-9-CM diagnosis code has it after 3; it \
             reads as the ICD-9-CM procedure code 99.04 (Transfusion of packed cells): a \
             procedure in a diagnosis column?",
            "42.80 is not an ICD-9-CM procedure code in ICD-9-CM v32 (FY2015); it reads as the \
             ICD-9-CM diagnosis code 428.0 (Congestive heart failure, unspecified): a diagnosis \
             in a procedure column?",
            "too long for an ICD-9-CM procedure code (at most 4 characters); it reads as the \
             ICD-9-CM diagnosis code V58.66 (Long-term (current) use of aspirin): a diagnosis in \
             a procedure column?",
            "284.1 is a category that needs more characters in ICD-9-CM v32 (FY2015): 284.11, \
             284.12, 284.19",
            "48.6 is a category that needs more characters in ICD-9-CM v32 (FY2015): 48.61, \
             48.62, 48.63, 48.64, 48.65, 48.69; it reads as the ICD-9-CM diagnosis code 486 \
             (Pneumonia, organism unspecified): a diagnosis in a procedure column?",
        ]
    );
}

/// A column of ids named as a code column has a new malformed value on every row: the summary
/// ranks the first 10,000 distinct ones and counts the rest, so its memory stays flat.
#[test]
fn distinct_malformed_values_are_counted_beyond_the_ranking_cap() {
    let wd = Workdir::new();
    let mut text = String::from("ID,DX1\n");
    for i in 0..10_025 {
        text += &format!("{i},X{i:06}\n");
    }
    text += "a,X000001\nb,X010020\nc,273.1\n";
    wd.write("ids.csv", text);
    let run = wd
        .run(&["convert", "ids.csv", "-o", "out.csv", "--summary", "s.json"])
        .expect_exit(0);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(wd.path("s.json")).unwrap()).unwrap();
    // 10,027 malformed cells; X000001 (ranked) twice, X010020 (past the cap) twice.
    assert_eq!(summary["review_codes"], 10_027);
    assert_eq!(summary["unranked_review_codes"], 26, "{summary}");
    assert_eq!(summary["top_review"][0]["code"], "X000001");
    assert_eq!(summary["top_review"][0]["count"], 2);
    assert!(
        run.stderr.contains(
            "crosswalk:         26  malformed values beyond the first 10000 distinct ones \
             (counted, not ranked)"
        ),
        "{}",
        run.describe()
    );
}

#[test]
fn strict_exits_3_when_review_is_needed() {
    let wd = Workdir::new();
    wd.write("in.csv", example());
    wd.run(&["convert", "in.csv", "--strict", "-q", "-o", "out.csv"])
        .expect_exit(3);
    assert!(wd.path("out.csv").exists(), "the output is complete");
    wd.write("clean.csv", "DX1\n2731\n");
    wd.run(&["convert", "clean.csv", "--strict", "-q"])
        .expect_exit(0);
}

#[test]
fn versions_per_code_row_and_date() {
    let wd = Workdir::new();
    // Per code (RIF naming): version 0 is ICD-10 and passes through, checked; a converted code
    // sets its version field to 0.
    wd.write(
        "rif.txt",
        "CLM_ID|ICD_DGNS_CD1|ICD_DGNS_VRSN_CD1|ICD_DGNS_CD2|ICD_DGNS_VRSN_CD2\n\
         1|E119|0|25000|9\n2|2731|9|XYZ|0\n3|2731||2731|7\n",
    );
    let run = wd.run(&["convert", "rif.txt", "-q"]).expect_exit(0);
    assert_eq!(
        run.stdout,
        "CLM_ID|ICD_DGNS_CD1|ICD_DGNS_VRSN_CD1|ICD_DGNS_CD2|ICD_DGNS_VRSN_CD2|crosswalk_flags\n\
         1|E119|0|E119|0|\n\
         2|D472|0|XYZ|0|ICD_DGNS_CD2:malformed:XYZ\n\
         3|D472|0|2731|7|ICD_DGNS_CD2:malformed:2731\n"
    );
    // Row-level version column and date column.
    wd.write(
        "row.csv",
        "ID,V,D,DIAG\n1,10,20100101,E119\n2,9,20160101,2731\n",
    );
    let run = wd
        .run(&[
            "convert",
            "row.csv",
            "--dx",
            "DIAG",
            "--version-col",
            "V",
            "-q",
        ])
        .expect_exit(0);
    assert_eq!(
        run.stdout, "ID,V,D,DIAG,crosswalk_flags\n1,10,20100101,E119,\n2,10,20160101,D472,\n",
        "a row-level version is set to 10 when every code it governs was converted"
    );
    let run = wd
        .run(&["convert", "row.csv", "--dx", "DIAG", "--date-col", "D"])
        .expect_exit(0);
    assert_eq!(
        run.stdout,
        // E119 has the shape of an ICD-9 E code but is none; 2731 is no ICD-10-CM code.
        "ID,V,D,DIAG,crosswalk_flags\n1,10,20100101,E119,DIAG:not_in_crosswalk:E119\n2,9,20160101,2731,DIAG:malformed:2731\n"
    );
    assert!(
        run.stderr.contains("ICD-10 from 2015-10-01 by D"),
        "{}",
        run.describe()
    );
    wd.write("baddate.csv", "D,DIAG\nyesterday,2731\n");
    let run = wd
        .run(&[
            "convert",
            "baddate.csv",
            "--dx",
            "DIAG",
            "--date-col",
            "D",
            "-q",
        ])
        .expect_exit(0);
    assert!(
        run.stdout.contains("DIAG:malformed:2731"),
        "{}",
        run.describe()
    );
}

#[test]
fn formulas_in_claims_are_neutralised_in_the_audit() {
    let wd = Workdir::new();
    wd.write("in.csv", "CLM_ID,DX1\n=HYPERLINK(\"x\"),-2731\n");
    wd.run(&["convert", "in.csv", "--audit", "a.csv", "-q"])
        .expect_exit(0);
    let audit = read_audit(&wd.path("a.csv"));
    assert_eq!(audit[1][col(&audit[0], "CLM_ID")], "'=HYPERLINK(\"x\")");
    assert_eq!(audit[1][col(&audit[0], "original")], "'-2731");
}

fn expect_error(wd: &Workdir, args: &[&str], message: &str, keep: &[&str]) -> Run {
    let run = wd.run(args).expect_exit(1);
    assert!(run.stderr.starts_with("crosswalk: "), "{}", run.describe());
    assert!(
        run.stderr.contains(message),
        "wanted {message:?}\n{}",
        run.describe()
    );
    assert_eq!(
        leftovers(wd, keep),
        Vec::<String>::new(),
        "{}",
        run.describe()
    );
    run
}

#[test]
fn bad_inputs_name_file_and_line_and_leave_no_output() {
    let wd = Workdir::new();
    wd.write("ragged.csv", "ID,DX1\n1,2731\n2,2731,extra\n");
    expect_error(
        &wd,
        &["convert", "ragged.csv", "-o", "out.csv", "--audit", "a.csv"],
        "ragged.csv:3: record 2 has 3 fields, but the header has 2; pass --flexible",
        &["ragged.csv"],
    );
    let run = wd
        .run(&["convert", "ragged.csv", "--flexible", "-q"])
        .expect_exit(0);
    assert_eq!(
        run.stdout,
        "ID,DX1,crosswalk_flags\n1,D472,\n2,D472,(row):ragged:3 fields,extra\n"
    );

    wd.write("quote.csv", "ID,DX1\n1,2731\n2,\"2731\n3,2731\n");
    expect_error(
        &wd,
        &["convert", "quote.csv", "-o", "out.csv", "--flexible"],
        "quote.csv:3: record 2 has a quoted field that is never closed",
        &["ragged.csv", "quote.csv"],
    );
    // An unclosed quote early in a big file is stopped before it holds the file in memory.
    // `head`, then `line` until the file is over 16 MiB.
    let big = |head: &str, line: &str| {
        let mut text = head.to_string();
        while text.len() < 17 << 20 {
            text.push_str(line);
        }
        text
    };
    wd.write("quote.csv", big("ID,DX1\n1,2731\n2,\"2731\n", "3,2731\n"));
    expect_error(
        &wd,
        &["convert", "quote.csv", "-o", "out.csv", "--flexible"],
        "quote.csv:3: the record starting on line 3 runs over 16 MiB: a quote opened in it is \
         probably never closed",
        &["ragged.csv", "quote.csv"],
    );
    // The same with CRLF line ends (the parser counts their lines differently).
    wd.write(
        "quote.csv",
        big("ID,DX1\r\n1,2731\r\n2,2731\r\n3,\"2731\r\n", "4,2731\r\n"),
    );
    expect_error(
        &wd,
        &["convert", "quote.csv", "-o", "out.csv", "--flexible"],
        "quote.csv:4: the record starting on line 4 runs over 16 MiB",
        &["ragged.csv", "quote.csv"],
    );
    // Without --flexible, the swallowed lines usually show as a wrong field count first: the
    // message names the quote, not the count alone.
    wd.write(
        "quote.csv",
        "ID,DX1,DX2\n1,2731,\n2,\"2731\n3,2731,\n4,2731,\n",
    );
    expect_error(
        &wd,
        &["convert", "quote.csv", "-o", "out.csv"],
        "quote.csv:3: record 2 runs over 3 lines and has 2 fields, but the header has 3: a quote \
         opened on line 3 is probably never closed",
        &["ragged.csv", "quote.csv"],
    );
    wd.write("plain.csv", "ID,DX1\n1,2731\n");
    let keep = ["ragged.csv", "quote.csv", "plain.csv"];
    expect_error(
        &wd,
        &["convert", "plain.csv", "--dx", "DX9", "-o", "out.csv"],
        "--dx DX9: no such column; the header has: ID, DX1",
        &keep,
    );
    wd.write("nocodes.csv", "ID,NAME\n1,x\n");
    let keep = ["ragged.csv", "quote.csv", "plain.csv", "nocodes.csv"];
    expect_error(
        &wd,
        &["convert", "nocodes.csv", "-o", "out.csv"],
        "no code columns found",
        &keep,
    );
    expect_error(
        &wd,
        &["convert", "absent.csv", "-o", "out.csv"],
        "cannot open absent.csv",
        &keep,
    );
    assert_eq!(
        std::fs::read_to_string(wd.path("plain.csv")).unwrap(),
        "ID,DX1\n1,2731\n"
    );
    wd.write("empty.csv", "");
    let keep = [
        "ragged.csv",
        "quote.csv",
        "plain.csv",
        "nocodes.csv",
        "empty.csv",
    ];
    expect_error(
        &wd,
        &["convert", "empty.csv", "-o", "out.csv"],
        "empty.csv: the file is empty",
        &keep,
    );
}

/// Run `convert` on a real sample and check what every sample must satisfy: every row out with
/// its fields plus the flags column, every flagged code in the audit and nothing else.
fn convert_sample(relative: &str, extra: &[&str]) -> Option<(Table, Table, Table, Run)> {
    let path = shared_data(&format!("claims/{relative}"))?;
    let wd = Workdir::new();
    let delimiter = if relative.ends_with(".txt") {
        b'|'
    } else {
        b','
    };
    let mut args = vec![
        "convert",
        path.to_str().unwrap(),
        "-o",
        "out",
        "--audit",
        "audit.csv",
    ];
    args.extend_from_slice(extra);
    let run = wd.run(&args).expect_exit(0);
    let input = read_file(&path, delimiter);
    let out = read_file(&wd.path("out"), delimiter);
    let audit = read_audit(&wd.path("audit.csv"));
    // The flags are at the header's position in every row, also in ragged ones.
    let width = input[0].len();
    let is_added = |r: &Vec<String>| {
        flags(&r[width])
            .iter()
            .any(|f| f.len() > 1 && f[1] == "added")
    };
    let added = out.iter().filter(|r| is_added(r)).count();
    assert_eq!(out.len(), input.len() + added, "{relative}: rows");
    let kept: Vec<&Vec<String>> = out.iter().filter(|r| !is_added(r)).collect();
    for (a, b) in input.iter().zip(&kept) {
        assert_eq!(b.len(), a.len().max(width) + 1, "{relative}: fields");
    }
    // An audit with key columns has one item per claim, column and code (claim lines that repeat
    // them are counted in `lines`); without, one per flagged cell.
    let ah = &audit[0];
    let keys: Vec<usize> = (col(ah, "line") + 1..col(ah, "column"))
        .map(|k| col(&input[0], &ah[k]))
        .collect();
    let mut flagged = BTreeSet::new();
    let mut cells = 0;
    for (i, r) in kept.iter().enumerate().skip(1) {
        for f in flags(&r[width]) {
            if f[0] != "(row)" && f.get(1).is_none_or(|s| s != "version_kept") {
                cells += 1;
                let claim: Vec<String> = match keys.is_empty() {
                    true => vec![i.to_string()],
                    false => keys.iter().map(|&k| r[k].clone()).collect(),
                };
                flagged.insert((claim, f[0].clone(), f[2].clone()));
            }
        }
    }
    let audited: BTreeSet<(Vec<String>, String, String)> = audit[1..]
        .iter()
        .map(|r| {
            let claim: Vec<String> = match keys.is_empty() {
                true => vec![r[col(ah, "row")].clone()],
                false => (col(ah, "line") + 1..col(ah, "column"))
                    .map(|k| r[k].clone())
                    .collect(),
            };
            let original = r[col(ah, "original")]
                .trim_start_matches('\'')
                .trim()
                .to_string();
            (claim, r[col(ah, "column")].clone(), original)
        })
        .collect();
    assert_eq!(
        audited.len(),
        audit.len() - 1,
        "one audit row per claim, column and code"
    );
    let lines: usize = audit[1..]
        .iter()
        .map(|r| r[col(ah, "lines")].parse::<usize>().unwrap())
        .sum();
    assert_eq!(
        lines, cells,
        "{relative}: the audit's lines count every flagged cell"
    );
    assert_eq!(
        flagged, audited,
        "{relative}: every flagged code is audited"
    );
    Some((input, out, audit, run))
}

#[test]
fn desynpuf_samples() {
    for file in [
        DESYNPUF_SAMPLE,
        "desynpuf-ohdsi-etl-cms-testdata/DE_0/DE1_0_2008_to_2010_Carrier_Claims_Sample_0A.csv",
        "desynpuf-ohdsi-etl-cms-testdata/DE_0/DE1_0_2008_to_2010_Carrier_Claims_Sample_0B.csv",
        "desynpuf-ohdsi-etl-cms-testdata/DE_0/DE1_0_2008_to_2010_Inpatient_Claims_Sample_0.csv",
        "desynpuf-ohdsi-etl-cms-testdata/DE_0/DE1_0_2008_to_2010_Outpatient_Claims_Sample_0.csv",
        "desynpuf-ohdsi-etl-cms-testdata/input/carrier_claims.csv",
        "desynpuf-ohdsi-etl-cms-testdata/input/inpatient_claims.csv",
        "desynpuf-ohdsi-etl-cms-testdata/input/outpatient_claims.csv",
    ] {
        let Some((_, out, _, run)) = convert_sample(file, &[]) else {
            return;
        };
        assert!(
            run.stderr.contains("diagnosis columns: "),
            "{}",
            run.describe()
        );
        // No ICD-9 dx code is left unconverted without a flag.
        let h = &out[0];
        for r in &out[1..] {
            let flagged: Vec<String> = flags(r.last().unwrap())
                .iter()
                .map(|f| f[0].clone())
                .collect();
            for (i, name) in h.iter().enumerate() {
                if name.starts_with("ICD9_DGNS_CD_") && !r[i].is_empty() && !flagged.contains(name)
                {
                    assert!(
                        r[i].starts_with(|c: char| c.is_ascii_uppercase()),
                        "{file}: {name}={}",
                        r[i]
                    );
                }
            }
        }
    }
}

#[test]
fn mimic_samples() {
    let Some((_, out, audit, run)) = convert_sample("mimic-iii-demo-1.4/DIAGNOSES_ICD.csv", &[])
    else {
        return;
    };
    assert!(
        run.stderr
            .contains("icd9_code read as diagnosis codes, from the file name")
    );
    // 1761 rows and a header, and a row added after each row whose cluster has further codes.
    let added: Vec<&Vec<String>> = out.iter().filter(|r| r[5].contains(":added:")).collect();
    assert_eq!(out.len(), 1762 + added.len());
    assert!(
        run.stderr
            .contains(&format!("({} added for clusters", added.len()))
    );
    assert_eq!(audit[0][3], "hadm_id");
    // 5672 is valid before v32, retired since: not in the crosswalk.
    assert!(audit.iter().any(|r| r[col(&audit[0], "original")] == "5672"
        && r[col(&audit[0], "status")] == "not_in_crosswalk"));
    let Some((_, out, _, run)) = convert_sample("mimic-iii-demo-1.4/PROCEDURES_ICD.csv", &[])
    else {
        return;
    };
    assert!(run.stderr.contains("read as procedure codes"));
    assert!(
        out[1..].iter().any(|r| r[4].len() == 7),
        "PCS codes written"
    );
}

#[test]
fn rif_samples_keep_icd10_and_follow_version_columns() {
    for name in [
        "bcarrier",
        "dme",
        "hha",
        "hospice",
        "inpatient",
        "outpatient",
        "snf",
    ] {
        let file = format!("cms-bluebutton-rif-sample-b/sample-b-{name}.txt");
        let Some((input, out, _, run)) = convert_sample(&file, &["--flexible"]) else {
            return;
        };
        assert!(
            run.stderr.contains("paired with their version columns"),
            "{}",
            run.describe()
        );
        let h = &input[0];
        let mut icd10 = 0;
        let mut icd9 = 0;
        for (a, b) in input[1..].iter().zip(&out[1..]) {
            for (i, name) in h.iter().enumerate() {
                let paired = name.rfind("_CD").and_then(|at| {
                    let version = format!("{}_VRSN_CD{}", &name[..at], &name[at + 3..]);
                    h.iter().position(|x| *x == version)
                });
                let Some(v) = paired else { continue };
                if a.get(i).is_none_or(|c| c.is_empty()) || name.contains("VRSN") {
                    continue;
                }
                match a[v].as_str() {
                    "0" => {
                        icd10 += 1;
                        assert_eq!(b[i], a[i], "{file}: ICD-10 {name} untouched");
                    }
                    _ => icd9 += 1,
                }
            }
        }
        assert!(icd9 > 0, "{file}");
        if name != "snf" {
            assert!(icd10 > 0, "{file}");
        }
    }
    // DME claim 17444371623 runs across 2015-10-01 but is coded ICD-9: converted by its version.
    let Some((input, out, _, _)) = convert_sample(
        "cms-bluebutton-rif-sample-b/sample-b-dme.txt",
        &["--flexible"],
    ) else {
        return;
    };
    let h = &input[0];
    let (clm, dx1) = (col(h, "CLM_ID"), col(h, "ICD_DGNS_CD1"));
    let row = input.iter().position(|r| r[clm] == "17444371623").unwrap();
    assert_eq!(input[row][col(h, "ICD_DGNS_VRSN_CD1")], "9");
    assert_ne!(out[row][dx1], input[row][dx1]);
    assert!(
        out[row][dx1].starts_with('E'),
        "an ICD-10-CM diabetes code: {}",
        out[row][dx1]
    );
}

/// With the official FY2018 GEMs and default options, every converted cell is the first code of
/// the first alternative under the reading rule, and every status is the rule's.
#[test]
fn fy2018_conversion_follows_the_reading_rule() {
    let Some(gems) = fy2018_gems() else { return };
    let forward: HashMap<String, _> = read_gem(&gems.join("2018_I9gem.txt")).into_iter().collect();
    let procs: HashMap<String, _> = read_gem(&gems.join("gem_i9pcs.txt")).into_iter().collect();
    let Some((input, out, _, _)) =
        convert_sample(DESYNPUF_SAMPLE, &["--gems", gems.to_str().unwrap()])
    else {
        return;
    };
    let billable = billable_targets();
    let h = &input[0];
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (a, b) in input[1..].iter().zip(&out[1..]) {
        let flagged: HashMap<String, String> = flags(b.last().unwrap())
            .into_iter()
            .map(|f| (f[0].clone(), f[1].clone()))
            .collect();
        for (i, name) in h.iter().enumerate() {
            let table = if name.contains("DGNS") {
                &forward
            } else if name.contains("PRCDR") {
                &procs
            } else {
                continue;
            };
            if a[i].is_empty() {
                continue;
            }
            let status = match table.get(&a[i]) {
                Some(rows) => {
                    let (mut status, alternatives) = expected(rows);
                    if let Some(alternative) = alternatives.first() {
                        let first = alternative.split('+').next().unwrap();
                        assert_eq!(b[i], first, "{name}={}", a[i]);
                        // A translation to a code that is no longer billable needs review: a sure
                        // one is `not_billable`, an ambiguous one says both.
                        if alternative.split('+').any(|c| !billable.contains(c)) {
                            if ["exact", "approximate", "combination"].contains(&status) {
                                status = "not_billable";
                            } else if status == "ambiguous" {
                                status = "ambiguous+not_billable";
                            }
                        }
                    }
                    status
                }
                // A procedure code has at most 4 digits; a V or E code there is a diagnosis.
                None if name.contains("PRCDR")
                    && (a[i].len() > 4 || !a[i].bytes().all(|b| b.is_ascii_digit())) =>
                {
                    "malformed"
                }
                None => "not_in_crosswalk",
            };
            let reported = flagged.get(name).map(String::as_str);
            match reported {
                // A cluster that did not fit: the first alternative of a combination or of an
                // ambiguous code; its other statuses are shown beside the overflow.
                Some(r) if r.split('+').any(|s| s == "overflow") => {
                    let others: Vec<&str> = r.split('+').filter(|s| *s != "overflow").collect();
                    let want: Vec<&str> =
                        status.split('+').filter(|s| *s != "combination").collect();
                    assert_eq!(others, want, "{name}={} is {status}", a[i]);
                }
                Some(r) => assert_eq!(r, status, "{name}={}", a[i]),
                None => assert!(
                    ["exact", "approximate", "combination"].contains(&status),
                    "{name}={} is {status}",
                    a[i]
                ),
            }
            *seen.entry(status.to_string()).or_default() += 1;
        }
    }
    eprintln!("{seen:?}");
    assert!(seen.len() >= 5, "{seen:?}");
}

/// The billable codes of the default code sets, ICD-10-CM FY2026 and ICD-10-PCS FY2024, read
/// here without the library (the spans file: `code`, `first_fy`, `last_fy`, `title`).
fn billable_targets() -> HashSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("crosswalk");
    let spans =
        std::fs::read_to_string(dir.join("icd10cm/icd10cm-billable-2021-2026.tsv")).unwrap();
    let pcs = std::fs::read_to_string(dir.join("icd10pcs/icd10pcs_codes_2024.txt")).unwrap();
    let cm = spans.lines().skip(1).filter_map(|l| {
        let f: Vec<&str> = l.split('\t').collect();
        (f[2] == "2026").then(|| f[0].to_string())
    });
    let pcs = pcs
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string));
    cm.chain(pcs).collect()
}

#[test]
fn broken_pipe_exits_quietly() {
    let wd = Workdir::new();
    let mut big = String::from("ID,DX1,DX2\n");
    for i in 0..50_000 {
        big.push_str(&format!("{i},2731,99681\n"));
    }
    wd.write("big.csv", big);
    wd.expect_quiet_broken_pipe(&["convert", "big.csv", "-q"], Vec::new());
}

/// The example's data rows repeated `times` times under its header, with a ragged row and a
/// CRLF-free layout: several pipeline batches holding every status.
fn many_examples(times: usize) -> String {
    let text = example();
    let (header, rows) = text.split_once('\n').unwrap();
    let mut big = format!("{header}\n");
    for i in 0..times {
        big.push_str(rows);
        if i == times / 2 {
            big.push_str("ragged,row\n");
        }
    }
    big
}

#[test]
fn output_is_identical_for_every_thread_count() {
    let wd = Workdir::new();
    wd.write("claims.csv", many_examples(400));
    // Output, audit, summary and report files, and what was printed on stderr.
    type Results = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>, String);
    let mut first: Option<Results> = None;
    for threads in ["1", "2", "3", "8"] {
        let run = wd
            .run(&[
                "convert",
                "claims.csv",
                "--flexible",
                "-j",
                threads,
                "-o",
                "out.csv",
                "--audit",
                "audit.csv",
                "--summary",
                "summary.json",
                "--report",
                "review.html",
            ])
            .expect_exit(0);
        let got = (
            std::fs::read(wd.path("out.csv")).unwrap(),
            std::fs::read(wd.path("audit.csv")).unwrap(),
            std::fs::read(wd.path("summary.json")).unwrap(),
            std::fs::read(wd.path("review.html")).unwrap(),
            run.stderr,
        );
        match &first {
            None => {
                let out = read_csv(&got.0, b',');
                assert_eq!(out.len(), 1 + 400 * 8 + 1, "every row comes out");
                let summary: serde_json::Value = serde_json::from_slice(&got.2).unwrap();
                assert_eq!(summary["rows_out"], 3201, "{summary}");
                first = Some(got);
            }
            Some(first) => {
                assert!(got.0 == first.0, "output differs with -j {threads}");
                assert!(got.1 == first.1, "audit differs with -j {threads}");
                assert!(got.2 == first.2, "summary differs with -j {threads}");
                assert!(got.3 == first.3, "report differs with -j {threads}");
                assert_eq!(got.4, first.4, "stderr differs with -j {threads}");
            }
        }
    }
}

#[test]
fn errors_deep_in_a_file_are_reported_the_same_with_threads() {
    let wd = Workdir::new();
    let mut text = many_examples(300).replace("ragged,row\n", "");
    text.push_str("late,ragged\n");
    let line = text.lines().count();
    wd.write("claims.csv", text);
    expect_bad_row_with_threads(&wd, line, &["1", "2"]);
    wd.run(&["convert", "claims.csv", "-j", "0"]).expect_exit(2);
}

/// `claims.csv` in `wd` is refused at each of `threads`, naming the two-field row on `line`,
/// with no output, audit or summary left.
fn expect_bad_row_with_threads(wd: &Workdir, line: usize, threads: &[&str]) {
    for threads in threads {
        let args = ["convert", "claims.csv", "-j", threads, "-o", "out.csv"];
        expect_error(
            wd,
            &[&args[..], &["--audit", "a.csv", "--summary", "s.json"]].concat(),
            &format!("claims.csv:{line}: record {} has 2 fields", line - 1),
            &["claims.csv"],
        );
    }
}

/// Of two bad rows a chunk apart, the first in the file is the one reported, with any number
/// of threads, and no output is left: the threads convert the chunks around both at once.
#[test]
fn the_first_of_two_errors_is_reported_with_any_thread_count() {
    let wd = Workdir::new();
    let text = example();
    let (header, rows) = text.split_once('\n').unwrap();
    let mut big = format!("{header}\n");
    let (mut bad_line, mut late) = (0, false);
    // About 3 MB: two dozen chunks, the bad rows in the third and the fourth.
    while big.len() < 3 << 20 {
        big.push_str(rows);
        if bad_line == 0 && big.len() > 300 << 10 {
            big.push_str("early,ragged\n");
            bad_line = big.lines().count();
        }
        if !late && big.len() > 450 << 10 {
            big.push_str("late,ragged\n");
            late = true;
        }
    }
    wd.write("claims.csv", big);
    expect_bad_row_with_threads(&wd, bad_line, &["1", "2", "3", "8"]);
}

/// Every source code of the official FY2018 ICD-9-CM diagnosis and procedure GEMs, one per row,
/// converted with default options and with `--choose first-billable`: the cells hold the first
/// alternative of the reading rule (or the first whose codes are all billable, when there is one)
/// — a cluster across the empty cells of its column group, in order — and the flags and the
/// audit carry exactly the codes whose status needs review.
#[test]
fn fy2018_every_icd9_source_code_converts_by_the_reading_rule() {
    let Some(gems) = fy2018_gems() else { return };
    let billable = billable_targets();
    let all_billable = |a: &str| a.split('+').all(|c| billable.contains(c));
    // (column prefix, code, status, alternatives)
    let mut cases: Vec<(&str, String, &'static str, Vec<String>)> = Vec::new();
    for (prefix, file) in [("DX", "2018_I9gem.txt"), ("PR", "gem_i9pcs.txt")] {
        for (code, rows) in read_gem(&gems.join(file)) {
            let (mut status, alternatives) = expected(&rows);
            if ["exact", "approximate", "combination"].contains(&status)
                && !all_billable(&alternatives[0])
            {
                status = "not_billable";
            }
            cases.push((prefix, code, status, alternatives));
        }
    }
    // Wide enough groups that every cluster fits.
    let width = cases
        .iter()
        .flat_map(|c| c.3.iter().map(|a| a.split('+').count()))
        .max()
        .unwrap()
        .max(2);
    let names = |prefix: &'static str| (1..=width).map(move |i| format!("{prefix}{i}"));
    let header: Vec<String> = std::iter::once("KEY".to_string())
        .chain(names("DX"))
        .chain(names("PR"))
        .collect();
    let mut text = header.join(",") + "\n";
    for (i, (prefix, code, _, _)) in cases.iter().enumerate() {
        let mut row = vec![String::new(); header.len()];
        row[0] = i.to_string();
        row[col(&header, &format!("{prefix}1"))] = code.clone();
        text += &(row.join(",") + "\n");
    }
    let wd = Workdir::new();
    wd.write("every.csv", text);
    let mut chose_otherwise = 0;
    for choose in ["first", "first-billable"] {
        let run = wd
            .run(&[
                "convert",
                "every.csv",
                "--gems",
                gems.to_str().unwrap(),
                "--choose",
                choose,
                "-o",
                "out.csv",
                "--audit",
                "audit.csv",
            ])
            .expect_exit(0);
        assert!(
            run.stderr
                .contains(&format!("diagnosis columns: DX1..{width}")),
            "{}",
            run.describe()
        );
        let out = read_file(&wd.path("out.csv"), b',');
        assert_eq!(out.len(), cases.len() + 1, "every row comes out");
        assert_eq!(out[0][..header.len()], header[..]);
        let mut review = 0;
        let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
        for ((prefix, code, status, alternatives), row) in cases.iter().zip(&out[1..]) {
            *by_status.entry(status).or_default() += 1;
            let start = col(&header, &format!("{prefix}1"));
            let cells = &row[start..start + width];
            let mut want = vec![String::new(); width];
            let chosen = match choose {
                "first-billable" => alternatives
                    .iter()
                    .find(|a| all_billable(a))
                    .or(alternatives.first()),
                _ => alternatives.first(),
            };
            if chosen != alternatives.first() {
                chose_otherwise += 1;
            }
            match chosen {
                Some(a) => {
                    for (cell, c) in want.iter_mut().zip(a.split('+')) {
                        *cell = c.to_string();
                    }
                }
                None => want[0] = code.clone(),
            }
            assert_eq!(cells, &want[..], "{choose}: {prefix} {code} ({status})");
            let flagged = flags(row.last().unwrap());
            // An ambiguous code whose written alternative is not billable says both.
            let label = match *status {
                "ambiguous" if chosen.is_some_and(|a| !all_billable(a)) => {
                    "ambiguous+not_billable".to_string()
                }
                other => other.to_string(),
            };
            if ["exact", "approximate", "combination"].contains(status) {
                assert!(flagged.is_empty(), "{prefix} {code}: {flagged:?}");
            } else {
                review += 1;
                let entry = vec![format!("{prefix}1"), label, code.clone()];
                assert_eq!(flagged, vec![entry], "{choose}: {prefix} {code}");
            }
        }
        let audit = read_audit(&wd.path("audit.csv"));
        assert_eq!(audit.len() - 1, review, "one audit row per flagged code");
        eprintln!("{choose}: {} codes: {by_status:?}", cases.len());
        for status in [
            "exact",
            "approximate",
            "combination",
            "ambiguous",
            "no_map",
            "not_billable",
        ] {
            assert!(by_status.contains_key(status), "{by_status:?}");
        }
    }
    eprintln!("first-billable wrote another alternative for {chose_otherwise} codes");
    assert!(chose_otherwise > 0);
}

/// A cell can carry several problems: 00.50 is ambiguous (243 clusters of four codes) and its
/// cluster does not fit a group of two; 272.4's first alternative, E78.4, is a header. The flags
/// column, the audit, the summary and the page show every one, so each filter finds the cell.
#[test]
fn several_problems_on_one_cell_are_all_shown() {
    let wd = Workdir::new();
    wd.write(
        "c.csv",
        "ID,ICD9_DGNS_CD_1,ICD9_PRCDR_CD_1,ICD9_PRCDR_CD_2\n1,272.4,0050,\n",
    );
    let run = wd
        .run(&[
            "convert",
            "c.csv",
            "--audit",
            "a.csv",
            "--summary",
            "s.json",
            "--report",
            "r.html",
        ])
        .expect_exit(0);
    let out = read_csv(run.stdout.as_bytes(), b',');
    assert_eq!(
        flags(&out[1][4]),
        [
            vec!["ICD9_DGNS_CD_1", "ambiguous+not_billable", "272.4"],
            vec![
                "ICD9_PRCDR_CD_1",
                "ambiguous+overflow",
                "0050",
                "02H40JZ+02H60JZ"
            ],
        ],
        "{}",
        run.describe()
    );
    let audit = read_audit(&wd.path("a.csv"));
    let status = col(&audit[0], "status");
    assert_eq!(audit[1][status], "ambiguous+not_billable");
    assert_eq!(audit[2][status], "ambiguous+overflow");
    let summary: serde_json::Value = serde_json::from_str(&wd.read("s.json")).unwrap();
    assert_eq!(
        summary["by_system"],
        serde_json::json!({"icd9-dx": {"ambiguous": 1, "not_billable": 1},
                           "icd9-proc": {"ambiguous": 1, "overflow": 1}})
    );
    assert_eq!(summary["codes"], 2);
    assert_eq!(summary["review_codes"], 2);
    assert!(
        run.stderr.contains("icd9-proc 00.50    ambiguous+overflow"),
        "{}",
        run.describe()
    );
    let page = wd.read("r.html");
    for badge in ["ambiguous 1", "overflow 1", "not_billable 1"] {
        assert!(
            page.contains(&format!("badge review\">{badge}<")),
            "{badge}"
        );
    }
    let search = |code: &str| {
        let at = page.find(&format!("data-search=\"{code} ")).unwrap();
        page[at..at + page[at..].find('>').unwrap()].to_string()
    };
    assert!(search("00.50").contains(" ambiguous overflow "));
    assert!(search("272.4").contains(" ambiguous not_billable "));
}

/// Line numbers are the file's own whatever its line ends: LF, CRLF, CR alone, or a mix. Errors
/// and the audit's `line` column name the line a text editor shows.
#[test]
fn line_numbers_are_true_for_every_line_end() {
    let wd = Workdir::new();
    for (name, end) in [("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r"), ("mixed", "")] {
        let lines = ["ID,DX1", "1,2731", "2,99681", "3,2731,extra", "4,2731"];
        let text = if end.is_empty() {
            // Each line its own ending.
            format!(
                "{}\r\n{}\n{}\r{}\r\n{}\n",
                lines[0], lines[1], lines[2], lines[3], lines[4]
            )
        } else {
            lines.iter().map(|l| format!("{l}{end}")).collect()
        };
        let file = format!("{name}.csv");
        wd.write(&file, &text);
        let run = wd.run(&["convert", &file, "-q"]).expect_exit(1);
        assert!(
            run.stderr.contains(&format!(
                "{file}:4: record 3 has 3 fields, but the header has 2"
            )),
            "{}",
            run.describe()
        );
        wd.run(&[
            "convert",
            &file,
            "-q",
            "--flexible",
            "--audit",
            "a.csv",
            "-o",
            "o.csv",
        ])
        .expect_exit(0);
        let audit = read_audit(&wd.path("a.csv"));
        assert_eq!(audit[1][col(&audit[0], "line")], "3", "{name}");
        assert_eq!(audit[1][col(&audit[0], "original")], "99681", "{name}");
    }
    // Blank lines are skipped but counted.
    wd.write("blank.csv", "ID,DX1\r\n1,2731\r\n\r\n\r\n2,2731,x\r\n");
    let run = wd.run(&["convert", "blank.csv", "-q"]).expect_exit(1);
    assert!(
        run.stderr.contains("blank.csv:5: record 2 has 3 fields"),
        "{}",
        run.describe()
    );
    // A last record with a quoted line break, its quote closed, is data.
    wd.write(
        "notes.csv",
        "ID,DX1,NOTE\n1,2731,x\n2,2731,\"two\nlines\"\n",
    );
    let run = wd.run(&["convert", "notes.csv", "-q"]).expect_exit(0);
    assert!(
        run.stdout.ends_with("2,D472,\"two\nlines\",\n"),
        "{}",
        run.describe()
    );
}

/// Hostile claim text stays inert everywhere it is shown: a formula behind a control character
/// is guarded in the audit, escape sequences reach stderr escaped, and a right-to-left override
/// is shown by name on the page instead of turning `4272` into `2724`.
#[test]
fn hostile_text_stays_inert() {
    let wd = Workdir::new();
    wd.write(
        "h.csv",
        "CLM_ID,DX1\n1,\u{1b}[2J\u{1b}]0;owned\u{7}\n2,\u{202E}4272\n\"\0=HYPERLINK(\"\"x\"\")\",\t=1\n",
    );
    let run = wd
        .run(&[
            "convert", "h.csv", "--audit", "a.csv", "--report", "r.html", "-o", "o.csv",
        ])
        .expect_exit(0);
    assert!(
        !run.stderr.contains(['\u{1b}', '\u{7}', '\u{202E}', '\0']),
        "{}",
        run.describe()
    );
    assert!(
        run.stderr.contains("\\x1B[2J\\x1B]0;owned\\x07"),
        "{}",
        run.describe()
    );
    assert!(run.stderr.contains("\\u{202E}4272"), "{}", run.describe());
    let audit = read_audit(&wd.path("a.csv"));
    let (id, original) = (col(&audit[0], "CLM_ID"), col(&audit[0], "original"));
    assert_eq!(audit[3][id], "'\0=HYPERLINK(\"x\")");
    assert_eq!(audit[3][original], "'\t=1");
    let page = wd.read("r.html");
    assert!(!page.contains('\u{202E}'));
    assert!(page.contains("[U+202E]4272"));
    // An error quoting claim text escapes it too.
    wd.write("bad.csv", "ID,DX1\n1,2731\n2,\u{1b}[31m,x\n");
    let run = wd.run(&["convert", "bad.csv", "-q"]).expect_exit(1);
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.describe());
}
