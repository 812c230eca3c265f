//! A converted claim file is internally consistent: what describes a code (its version field,
//! POA indicator, procedure date) travels with it, per-line fields stay on their line, a long
//! layout gets rows for a cluster's further codes, ICD-10 codes are checked, and a converted
//! file is never converted again.

use std::path::Path;

use crate::convert::{col, read_audit, read_csv, read_file, write_csv};
use crate::workdir::{Workdir, shared_data};

const RIF_HEADER: &str = "CLM_ID|ICD_DGNS_CD1|ICD_DGNS_VRSN_CD1|CLM_POA_IND_SW1|ICD_DGNS_CD2|\
                          ICD_DGNS_VRSN_CD2|CLM_POA_IND_SW2|ICD_DGNS_CD3|ICD_DGNS_VRSN_CD3|\
                          CLM_POA_IND_SW3|ICD_PRCDR_CD1|ICD_PRCDR_VRSN_CD1|PRCDR_DT1|\
                          ICD_PRCDR_CD2|ICD_PRCDR_VRSN_CD2|PRCDR_DT2";

/// The cells of `text`'s rows by column name.
fn by_name(text: &str, delimiter: u8) -> Vec<std::collections::HashMap<String, String>> {
    let table = read_csv(text.as_bytes(), delimiter);
    table[1..]
        .iter()
        .map(|r| table[0].iter().cloned().zip(r.iter().cloned()).collect())
        .collect()
}

#[test]
fn versions_poa_and_dates_travel_with_their_codes() {
    let wd = Workdir::new();
    // 073.0 (POA N) → A70 + J17 into the empty second cell; 779.6 has no map and stays ICD-9;
    // 37.52 (dated) → 02RK0JZ + 02RL0JZ into the second procedure cell, whose date said none.
    wd.write(
        "rif.txt",
        format!("{RIF_HEADER}\n1|0730|9|N||||7796|9|Y|3752|9|14-MAR-2014||9|01-JAN-1000\n"),
    );
    let run = wd.run(&["convert", "rif.txt", "-q"]).expect_exit(0);
    let rows = by_name(&run.stdout, b'|');
    let r = &rows[0];
    let cell = |name: &str| r[name].as_str();
    assert_eq!(
        [
            cell("ICD_DGNS_CD1"),
            cell("ICD_DGNS_VRSN_CD1"),
            cell("CLM_POA_IND_SW1")
        ],
        ["A70", "0", "N"]
    );
    assert_eq!(
        [
            cell("ICD_DGNS_CD2"),
            cell("ICD_DGNS_VRSN_CD2"),
            cell("CLM_POA_IND_SW2")
        ],
        ["J17", "0", "N"],
        "a placed code takes its source's POA and the ICD-10 version"
    );
    assert_eq!(
        [
            cell("ICD_DGNS_CD3"),
            cell("ICD_DGNS_VRSN_CD3"),
            cell("CLM_POA_IND_SW3")
        ],
        ["7796", "9", "Y"],
        "a code left ICD-9 keeps its version"
    );
    assert_eq!(
        [
            cell("ICD_PRCDR_CD1"),
            cell("ICD_PRCDR_VRSN_CD1"),
            cell("PRCDR_DT1")
        ],
        ["02RK0JZ", "0", "14-MAR-2014"]
    );
    assert_eq!(
        [
            cell("ICD_PRCDR_CD2"),
            cell("ICD_PRCDR_VRSN_CD2"),
            cell("PRCDR_DT2")
        ],
        ["02RL0JZ", "0", "14-MAR-2014"],
        "a placed procedure takes its source's date"
    );
    // What was paired is said.
    let run = wd
        .run(&["convert", "rif.txt", "-o", "out.txt"])
        .expect_exit(0);
    assert!(
        run.stderr.contains(
            "present-on-admission indicators: 3 paired with their code columns \
             (CLM_POA_IND_SW1, …, CLM_POA_IND_SW3)"
        ) && run.stderr.contains("procedure dates: 2 paired"),
        "{}",
        run.stderr
    );
}

#[test]
fn companions_named_by_the_user_travel_too() {
    let wd = Workdir::new();
    wd.write("c.csv", "ID,DX1,Q1,DX2,Q2\n1,0730,x,,\n");
    let run = wd
        .run(&["convert", "c.csv", "-q", "--companion", "DX*=Q*"])
        .expect_exit(0);
    assert_eq!(
        run.stdout,
        "ID,DX1,Q1,DX2,Q2,crosswalk_flags\n1,A70,x,J17,x,\n"
    );
    let run = wd
        .run(&["convert", "c.csv", "-q", "--companion", "DX*=NOPE*"])
        .expect_exit(1);
    assert!(
        run.stderr
            .contains("pairs with NOPE1, which is not in the header"),
        "{}",
        run.stderr
    );
}

#[test]
fn carrier_line_diagnoses_stay_on_their_line() {
    let wd = Workdir::new();
    wd.write(
        "carrier.csv",
        "CLM_ID,ICD9_DGNS_CD_1,ICD9_DGNS_CD_2,LINE_ICD9_DGNS_CD_1,LINE_ICD9_DGNS_CD_2\n\
         1,0730,,0730,\n",
    );
    let run = wd.run(&["convert", "carrier.csv", "-q"]).expect_exit(0);
    assert_eq!(
        run.stdout,
        "CLM_ID,ICD9_DGNS_CD_1,ICD9_DGNS_CD_2,LINE_ICD9_DGNS_CD_1,LINE_ICD9_DGNS_CD_2,\
         crosswalk_flags\n1,A70,J17,A70,,LINE_ICD9_DGNS_CD_1:overflow:0730:J17\n",
        "the claim's diagnoses are a list; a line's diagnosis is one cell"
    );
}

#[test]
fn a_long_layout_gets_a_row_for_each_further_code() {
    let wd = Workdir::new();
    wd.write(
        "diagnoses_icd.csv",
        "subject_id,hadm_id,seq_num,icd_code,icd_version\n\
         1,10,1,0730,9\n1,10,2,7796,9\n1,10,3,I509,10\n",
    );
    let run = wd
        .run(&[
            "convert",
            "diagnoses_icd.csv",
            "-o",
            "out.csv",
            "--summary",
            "s.json",
        ])
        .expect_exit(0);
    assert_eq!(
        wd.read("out.csv"),
        "subject_id,hadm_id,seq_num,icd_code,icd_version,crosswalk_flags\n\
         1,10,1,A70,10,\n\
         1,10,1,J17,10,icd_code:added:0730\n\
         1,10,2,7796,9,icd_code:no_map:7796;icd_version:version_kept:9\n\
         1,10,3,I509,10,\n"
    );
    assert!(
        run.stderr
            .contains("3 rows in, 4 rows out (1 added for clusters"),
        "{}",
        run.stderr
    );
    let summary: serde_json::Value = serde_json::from_str(&wd.read("s.json")).unwrap();
    assert_eq!(
        (
            &summary["rows_in"],
            &summary["rows_out"],
            &summary["rows_added"]
        ),
        (&3.into(), &4.into(), &1.into())
    );
    // As before, on request: the further code stays in the flags.
    let run = wd
        .run(&["convert", "diagnoses_icd.csv", "-q", "--no-add-rows"])
        .expect_exit(0);
    assert!(
        run.stdout
            .contains("1,10,1,A70,10,icd_code:overflow:0730:J17\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn icd10_codes_are_checked_against_the_code_set() {
    let wd = Workdir::new();
    wd.write(
        "rif.txt",
        "CLM_ID|ICD_DGNS_CD1|ICD_DGNS_VRSN_CD1\n1|Z9999|0\n2|S0210XA|0\n3|N183|0\n4|E119|0\n",
    );
    let run = wd
        .run(&["convert", "rif.txt", "-q", "--audit", "a.csv"])
        .expect_exit(0);
    let rows = by_name(&run.stdout, b'|');
    let flagged: Vec<&str> = rows.iter().map(|r| r["crosswalk_flags"].as_str()).collect();
    assert_eq!(
        flagged,
        [
            "ICD_DGNS_CD1:malformed:Z9999",
            "ICD_DGNS_CD1:malformed:S0210XA",
            "ICD_DGNS_CD1:not_billable:N183",
            ""
        ]
    );
    let audit = read_audit(&wd.path("a.csv"));
    let reason = col(&audit[0], "reason");
    assert!(
        audit[1][reason].contains("Z99.99 is not in ICD-10-CM FY2026"),
        "{:?}",
        audit[1]
    );
    assert!(
        audit[3][reason].contains("N18.3 is a header (not billable)"),
        "{:?}",
        audit[3]
    );
}

#[test]
fn a_converted_file_is_not_converted_again() {
    let wd = Workdir::new();
    wd.write("in.csv", "ID,DX1\n1,2731\n2,99681\n");
    wd.run(&["convert", "in.csv", "-q", "-o", "once.csv"])
        .expect_exit(0);
    wd.write("twice.csv", "old\n");
    let run = wd
        .run(&["convert", "once.csv", "-o", "twice.csv"])
        .expect_exit(1);
    assert!(
        run.stderr.contains(
            "once.csv: this file was converted by crosswalk already (its column crosswalk_flags \
             holds crosswalk flags)"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(wd.read("twice.csv"), "old\n");
    // Whatever the flags column was called.
    wd.run(&[
        "convert",
        "in.csv",
        "-q",
        "-o",
        "x.csv",
        "--flags-column",
        "X",
    ])
    .expect_exit(0);
    let run = wd
        .run(&["convert", "x.csv", "-o", "twice.csv"])
        .expect_exit(1);
    assert!(
        run.stderr.contains("(its column X holds crosswalk flags)"),
        "{}",
        run.stderr
    );
    // A column of the flags column's name that holds something else is a clash, not a
    // converted file.
    wd.write("f.csv", "ID,DX1,crosswalk_flags\n1,2731,hello\n");
    let run = wd.run(&["convert", "f.csv"]).expect_exit(1);
    assert!(
        run.stderr.contains(
            "f.csv: the file has a column crosswalk_flags already; name the flags column otherwise"
        ),
        "{}",
        run.stderr
    );
    wd.run(&["convert", "f.csv", "-q", "--flags-column", "flags"])
        .expect_exit(0);
}

#[test]
fn flexible_rows_keep_the_flags_at_the_header_position() {
    let wd = Workdir::new();
    wd.write("r.csv", "ID,DX1,DX2\n1,2731\n2,2731,,extra\n3,2731,\n");
    let run = wd
        .run(&["convert", "r.csv", "-q", "--flexible"])
        .expect_exit(0);
    let rows = by_name(&run.stdout, b',');
    let flagged: Vec<&str> = rows.iter().map(|r| r["crosswalk_flags"].as_str()).collect();
    assert_eq!(
        flagged,
        ["(row):ragged:2 fields", "(row):ragged:4 fields", ""],
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\n1,D472,,(row):ragged:2 fields\n"),
        "short rows padded"
    );
    assert!(
        run.stdout
            .contains("\n2,D472,,(row):ragged:4 fields,extra\n"),
        "extra fields after"
    );
}

/// Every real sample: a written ICD-10 code's version field says ICD-10, a placed code carries
/// its source's POA and date, no line diagnosis spills into another line, and the output is
/// refused as input.
#[test]
fn real_samples_are_internally_consistent() {
    let Some(root) = shared_data("claims") else {
        return;
    };
    let mut files = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if is_claim_file(&p) {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    assert!(files.len() >= 14, "{files:?}");
    let wd = Workdir::new();
    let (mut versions, mut placed) = (0, 0);
    for path in &files {
        let delimiter = if path.extension().is_some_and(|e| e == "txt") {
            b'|'
        } else {
            b','
        };
        let out = wd.path("out");
        wd.run(&[
            "convert",
            path.to_str().unwrap(),
            "--flexible",
            "-q",
            "-o",
            "out",
        ])
        .expect_exit(0);
        let input = read_file(path, delimiter);
        let output = read_file(&out, delimiter);
        let (v, p) = check_sample(path, &input, &output);
        versions += v;
        placed += p;
        let again = wd
            .run(&["convert", "out", "--flexible", "-o", "again"])
            .expect_exit(1);
        assert!(
            again.stderr.contains("converted by crosswalk already"),
            "{}",
            again.stderr
        );
    }
    assert!(
        versions > 1000 && placed > 0,
        "{versions} versions, {placed} placed codes"
    );
}

fn is_claim_file(p: &Path) -> bool {
    let name = p.file_name().unwrap().to_string_lossy().to_string();
    (name.ends_with(".txt") && name.starts_with("sample-b-"))
        || name.contains("Claims")
        || name.ends_with("_claims.csv")
        || name == "DIAGNOSES_ICD.csv"
        || name == "PROCEDURES_ICD.csv"
}

/// Check one converted sample; returns (ICD-10 codes written with a version field, codes
/// placed into another cell).
fn check_sample(path: &Path, input: &[Vec<String>], output: &[Vec<String>]) -> (usize, usize) {
    let name = path.display();
    let header = &input[0];
    let find = |n: &str| header.iter().position(|h| h == n);
    let (mut versions, mut placed) = (0, 0);
    for (r_in, r_out) in input[1..].iter().zip(&output[1..]) {
        let get = |r: &Vec<String>, i: usize| r.get(i).cloned().unwrap_or_default();
        for (i, h) in header.iter().enumerate() {
            let (before, after) = (get(r_in, i), get(r_out, i));
            if before == after || after.is_empty() {
                continue;
            }
            if h.starts_with("LINE_ICD9_DGNS_CD_") {
                assert!(
                    !before.is_empty(),
                    "{name}: {h} got {after}, another line's code"
                );
            }
            let Some(at) = h.rfind("_CD") else { continue };
            if let Some(v) = find(&format!("{}_VRSN_CD{}", &h[..at], &h[at + 3..])) {
                assert_eq!(get(r_out, v), "0", "{name}: {h} = {after} beside version");
                versions += 1;
            }
            if before.is_empty() {
                placed += 1;
                // A placed code's POA or date is that of a converted code of its group.
                let n = &h[h.rfind(|c: char| !c.is_ascii_digit()).unwrap() + 1..];
                for (code, companion) in [
                    ("ICD_DGNS_CD", "CLM_POA_IND_SW"),
                    ("ICD_DGNS_E_CD", "CLM_E_POA_IND_SW"),
                    ("ICD_PRCDR_CD", "PRCDR_DT"),
                ] {
                    if h != &format!("{code}{n}") {
                        continue;
                    }
                    let Some(at) = find(&format!("{companion}{n}")) else {
                        continue;
                    };
                    let value = get(r_out, at);
                    let sources: Vec<String> = (1..=25)
                        .filter_map(|k| {
                            let c = find(&format!("{code}{k}"))?;
                            let changed = !get(r_in, c).is_empty() && get(r_in, c) != get(r_out, c);
                            let source = find(&format!("{companion}{k}"))?;
                            changed.then(|| get(r_in, source))
                        })
                        .collect();
                    assert!(
                        sources.contains(&value),
                        "{name}: {h} {after}: {value:?} of {sources:?}"
                    );
                }
            }
        }
    }
    (versions, placed)
}

#[test]
fn a_column_that_lost_its_leading_zeros_is_warned_and_flagged() {
    let wd = Workdir::new();
    wd.write(
        "z.csv",
        "CLM_ID,ICD9_DGNS_CD_1,ICD9_DGNS_CD_2\n1,1882,4019\n2,389,\n3,2731,\n",
    );
    let run = wd
        .run(&["convert", "z.csv", "-o", "out.csv", "--audit", "a.csv"])
        .expect_exit(0);
    assert!(
        run.stderr.contains(
            "warning: ICD9_DGNS_CD_1, ICD9_DGNS_CD_2 may have lost leading zeros (a spreadsheet \
             or a numeric type?): no value starts with 0, and some are codes only with a zero restored (389 \
             is no code, 038.9 is)"
        ),
        "{}",
        run.stderr
    );
    let out = read_file(&wd.path("out.csv"), b',');
    assert_eq!(
        out[1][3],
        "ICD9_DGNS_CD_1:possible_lost_zero:1882;ICD9_DGNS_CD_2:ambiguous:4019"
    );
    assert_eq!(out[3][3], "", "2731 has no other reading");
    let audit = read_audit(&wd.path("a.csv"));
    let (title, reason) = (col(&audit[0], "original_title"), col(&audit[0], "reason"));
    assert!(
        audit[1][title].contains("urinary bladder"),
        "{:?}",
        audit[1]
    );
    assert!(
        audit[1][reason].starts_with("also reads as 018.82 (Other specified miliary tuberculosis"),
        "{:?}",
        audit[1]
    );
    assert!(
        audit[3][reason]
            .starts_with("with a leading zero restored it reads as 038.9 (Unspecified septicemia)"),
        "the padded reading first: {:?}",
        audit[3]
    );
    // On purpose: the zero restored where only that reading is a code, never where both are.
    let run = wd
        .run(&[
            "convert",
            "z.csv",
            "-q",
            "--restore-zeros",
            "ICD9_DGNS_CD_1",
        ])
        .expect_exit(0);
    let out = read_csv(run.stdout.as_bytes(), b',');
    assert_eq!(out[1][1], "C672");
    assert_eq!(
        out[2][1..4],
        ["A419", "", "ICD9_DGNS_CD_1:zero_restored:389"]
    );
    // A column that kept its zeros is trusted.
    wd.write("kept.csv", "ICD9_DGNS_CD_1\n1882\n0389\n");
    let run = wd.run(&["convert", "kept.csv"]).expect_exit(0);
    assert!(!run.stderr.contains("leading zeros"), "{}", run.stderr);
    assert!(run.stdout.contains("\nC672,\n"), "{}", run.stdout);
}

/// 322 of the 1,064 ICD-9-CM diagnosis sources that start with 0 are another source once their
/// zeros are lost; in a column that lost them, every one is flagged.
#[test]
fn every_code_a_lost_zero_turns_into_another_is_flagged() {
    let gem = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crosswalk/gems/2018_I9gem.txt"),
    )
    .unwrap();
    let sources: std::collections::BTreeSet<&str> = gem
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let zero: Vec<&str> = sources
        .iter()
        .copied()
        .filter(|c| c.starts_with('0'))
        .collect();
    let turned: Vec<&str> = zero
        .iter()
        .map(|c| c.trim_start_matches('0'))
        .filter(|c| sources.contains(c))
        .collect();
    assert_eq!((zero.len(), turned.len()), (1064, 322));
    let wd = Workdir::new();
    // 389 (038.9 without its zero) makes the column suspect.
    wd.write("z.csv", format!("DX1\n389\n{}\n", turned.join("\n")));
    let run = wd.run(&["convert", "z.csv", "-q"]).expect_exit(0);
    let out = read_csv(run.stdout.as_bytes(), b',');
    let flagged = out[2..]
        .iter()
        .filter(|r| r[1].contains("possible_lost_zero"))
        .count();
    assert_eq!(flagged, 322);
}

/// With `--flexible`, a short row that ends before a code's version or companion field gets
/// them all the same: the row is padded to the header's width.
#[test]
fn short_rows_get_their_version_and_companion_fields() {
    let wd = Workdir::new();
    wd.write(
        "r.txt",
        "CLM_ID|ICD_DGNS_CD1|ICD_DGNS_VRSN_CD1|CLM_POA_IND_SW1|ICD_DGNS_CD2|ICD_DGNS_VRSN_CD2\n\
         1|4019\n2|0730|9|Y|\n",
    );
    let run = wd
        .run(&["convert", "r.txt", "--flexible", "-q"])
        .expect_exit(0);
    assert_eq!(
        run.stdout,
        "CLM_ID|ICD_DGNS_CD1|ICD_DGNS_VRSN_CD1|CLM_POA_IND_SW1|ICD_DGNS_CD2|ICD_DGNS_VRSN_CD2|\
         crosswalk_flags\n\
         1|I10|0||||(row):ragged:2 fields;ICD_DGNS_CD1:ambiguous:4019\n\
         2|A70|0|Y|J17|0|(row):ragged:5 fields\n"
    );
    wd.write(
        "diagnoses_icd.csv",
        "subject_id,hadm_id,seq_num,icd_code,icd_version\n1,10,1,0730\n",
    );
    let run = wd
        .run(&["convert", "diagnoses_icd.csv", "--flexible", "-q"])
        .expect_exit(0);
    assert_eq!(
        run.stdout,
        "subject_id,hadm_id,seq_num,icd_code,icd_version,crosswalk_flags\n\
         1,10,1,A70,10,(row):ragged:4 fields\n\
         1,10,1,J17,10,icd_code:added:0730\n"
    );
}

/// An ICD-10 code that is audited (a header, or not in the code set) can be decided like any
/// other, and `--unmapped blank` never erases one: it was not converted.
#[test]
fn audited_icd10_codes_can_be_decided_and_are_never_blanked() {
    let wd = Workdir::new();
    wd.write(
        "i10.txt",
        "CLM_ID|ICD_DGNS_CD1|ICD_DGNS_VRSN_CD1|CLM_POA_IND_SW1\n1|D71|0|Y\n2|Z9999|0|N\n3|H4011X2|0|Y\n4|7796|9|Y\n",
    );
    let run = wd
        .run(&[
            "convert",
            "i10.txt",
            "-q",
            "--audit",
            "a.csv",
            "--unmapped",
            "blank",
        ])
        .expect_exit(0);
    let rows = by_name(&run.stdout, b'|');
    let codes: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["ICD_DGNS_CD1"].as_str(), r["CLM_POA_IND_SW1"].as_str()))
        .collect();
    assert_eq!(
        codes,
        [("D71", "Y"), ("Z9999", "N"), ("H4011X2", "Y"), ("", "")],
        "ICD-10 codes stay; a blanked ICD-9 code takes its POA with it"
    );
    let mut audit = read_audit(&wd.path("a.csv"));
    assert!(
        audit[3][col(&audit[0], "reason")].contains("deleted since it was coded, or never valid"),
        "{:?}",
        audit[3]
    );
    let d = col(&audit[0], "decision");
    audit[1][d] = "D71.9".into();
    audit[2][d] = "blank".into();
    wd.write("d.csv", write_csv(&audit));
    let run = wd
        .run(&["convert", "i10.txt", "-q", "--decisions", "d.csv"])
        .expect_exit(0);
    let rows = by_name(&run.stdout, b'|');
    let out: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["ICD_DGNS_CD1"].as_str(), r["crosswalk_flags"].as_str()))
        .collect();
    assert_eq!(
        out[..2],
        [
            ("D719", "ICD_DGNS_CD1:decided:D71"),
            ("", "ICD_DGNS_CD1:decided:Z9999")
        ]
    );
}

/// A group of columns is judged together, and a procedure column's diagnosis codes say nothing
/// about lost zeros; a column judged to have lost them that later holds zero-led values is
/// warned about at the end and in the summary.
#[test]
fn lost_zero_judgement_is_per_group_and_revisited() {
    let wd = Workdir::new();
    // 650 is a diagnosis code in a procedure column (06.50 with a zero); the group's other
    // column keeps its zeros.
    wd.write(
        "p.csv",
        "ICD9_PRCDR_CD_1,ICD9_PRCDR_CD_2,ICD9_PRCDR_CD_3\n0050,,650\n3893,,\n",
    );
    let run = wd
        .run(&["convert", "p.csv", "-o", "out.csv"])
        .expect_exit(0);
    assert!(!run.stderr.contains("leading zeros"), "{}", run.stderr);
    let mut text = String::from("DX1\n389\n");
    for _ in 0..10_000 {
        text.push_str("4019\n");
    }
    text.push_str("0389\n1882\n");
    wd.write("late.csv", text);
    let run = wd
        .run(&[
            "convert",
            "late.csv",
            "-o",
            "out.csv",
            "--summary",
            "s.json",
        ])
        .expect_exit(0);
    let late = "warning: DX1 was judged on the rows read ahead to have lost its leading zeros, \
                but 1 later values start with 0: its possible_lost_zero flags may be wrong";
    assert!(run.stderr.contains(late), "{}", run.stderr);
    let summary: serde_json::Value = serde_json::from_str(&wd.read("s.json")).unwrap();
    let warnings = summary["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 2, "{summary}");
    assert_eq!(warnings[1], late);
    assert!(
        summary["plan"][0]
            .as_str()
            .unwrap()
            .starts_with("diagnosis columns: DX1")
    );
}

/// A claim whose lines repeat its codes (RIF) is one review item per column and code, with the
/// number of lines; a decision on that item decides every line.
#[test]
fn claim_lines_that_repeat_a_code_are_one_review_item() {
    let wd = Workdir::new();
    wd.write(
        "c.csv",
        "CLM_ID,LINE,DX1,DX2\n1,1,4019,7796\n1,2,4019,7796\n1,3,4019,\n2,1,4019,\n",
    );
    wd.run(&[
        "convert", "c.csv", "-q", "-o", "out.csv", "--audit", "a.csv",
    ])
    .expect_exit(0);
    let audit = read_audit(&wd.path("a.csv"));
    let items: Vec<(&str, &str, &str, &str)> = audit[1..]
        .iter()
        .map(|r| {
            let c = |n: &str| r[col(&audit[0], n)].as_str();
            (c("CLM_ID"), c("column"), c("original"), c("lines"))
        })
        .collect();
    assert_eq!(
        items,
        [
            ("1", "DX1", "4019", "3"),
            ("1", "DX2", "7796", "2"),
            ("2", "DX1", "4019", "1")
        ]
    );
    let mut filled = audit.clone();
    let d = col(&audit[0], "decision");
    filled[1][d] = "I10".into();
    wd.write("d.csv", write_csv(&filled));
    let run = wd
        .run(&["convert", "c.csv", "-q", "--decisions", "d.csv"])
        .expect_exit(0);
    let decided = run.stdout.matches("DX1:decided:4019").count();
    assert_eq!(decided, 3, "every line of claim 1: {}", run.stdout);
    assert!(
        run.stdout.ends_with("2,1,I10,,DX1:ambiguous:4019\n"),
        "{}",
        run.stdout
    );
}

/// A claim is one review item per column and code however the input is cut between threads:
/// claims of 30 lines in a file of many chunks, so that some claims start in one chunk and end
/// in the next. The audit and the review page are the same for every thread count.
#[test]
fn a_claim_whose_lines_span_chunks_is_one_review_item_whatever_the_thread_count() {
    let wd = Workdir::new();
    let (claims, lines) = (1_000, 30);
    let mut text = String::from("CLM_ID,LINE,NOTE,DX1,DX2\n");
    for claim in 0..claims {
        for line in 0..lines {
            // DX2 holds a code on every other line only.
            let dx2 = if line % 2 == 0 { "7796" } else { "" };
            text.push_str(&format!("C{claim:05},{line},{:-<40},4019,{dx2}\n", "note"));
        }
    }
    assert!(text.len() > 1 << 20, "many chunks");
    wd.write("c.csv", &text);
    let mut first: Option<(Vec<u8>, Vec<u8>)> = None;
    for j in ["1", "2", "3"] {
        wd.run(&[
            "convert", "c.csv", "-q", "-j", j, "-o", "out.csv", "--audit", "a.csv", "--report",
            "r.html",
        ])
        .expect_exit(0);
        let audit = read_audit(&wd.path("a.csv"));
        let c = |n: &str| col(&audit[0], n);
        let items: Vec<(String, String, usize)> = audit[1..]
            .iter()
            .filter(|r| r[c("kind")] == "occurrence")
            .map(|r| {
                (
                    r[c("CLM_ID")].clone(),
                    r[c("column")].clone(),
                    r[c("lines")].parse().unwrap(),
                )
            })
            .collect();
        let mut want = Vec::new();
        for claim in 0..claims {
            want.push((format!("C{claim:05}"), "DX1".to_string(), lines));
            want.push((format!("C{claim:05}"), "DX2".to_string(), lines / 2));
        }
        assert!(
            items == want,
            "-j {j}: one item per claim and column, with all its lines"
        );
        let got = (
            std::fs::read(wd.path("a.csv")).unwrap(),
            std::fs::read(wd.path("r.html")).unwrap(),
        );
        match &first {
            None => first = Some(got),
            Some(want) => {
                assert!(got.0 == want.0, "-j {j} wrote another audit");
                assert!(got.1 == want.1, "-j {j} wrote another page");
            }
        }
    }
}

/// The figure the README gives: the RIF inpatient sample's flagged cells, one review item per
/// claim, column and code.
#[test]
fn rif_inpatient_review_items() {
    let Some(path) = shared_data("claims/cms-bluebutton-rif-sample-b/sample-b-inpatient.txt")
    else {
        return;
    };
    let wd = Workdir::new();
    wd.run(&[
        "convert",
        path.to_str().unwrap(),
        "--flexible",
        "-q",
        "-o",
        "out.txt",
        "--audit",
        "a.csv",
    ])
    .expect_exit(0);
    let audit = read_audit(&wd.path("a.csv"));
    let lines: usize = audit[1..]
        .iter()
        .map(|r| r[col(&audit[0], "lines")].parse::<usize>().unwrap())
        .sum();
    assert_eq!((audit.len() - 1, lines), (129, 2896));
    // Counted independently from the converted file's flags: the distinct claim, column and
    // code of the flagged cells that need review.
    let out = read_file(&wd.path("out.txt"), b'|');
    let (id, flags) = (col(&out[0], "CLM_ID"), out[0].len() - 1);
    let review = [
        "ambiguous",
        "no_map",
        "not_in_crosswalk",
        "malformed",
        "overflow",
        "not_billable",
        "possible_lost_zero",
        "decided_outside_gem",
    ];
    let mut cells = 0;
    let mut items = std::collections::BTreeSet::new();
    for row in &out[1..] {
        for entry in row[flags].split(';').filter(|e| !e.is_empty()) {
            let parts: Vec<&str> = entry.split(':').collect();
            if parts[1].split('+').any(|s| review.contains(&s)) {
                cells += 1;
                items.insert((row[id].clone(), parts[0].to_string(), parts[2].to_string()));
            }
        }
    }
    assert_eq!((items.len(), cells), (129, 2896));
}

/// A claim file that mixes every way a record can be written: plain lines, quoted fields with
/// delimiters, doubled quotes and line breaks in them, a quote inside an unquoted field (text,
/// as the csv crate reads it), blank lines and CRLF ends; long enough to be cut into several
/// chunks. Returns the text and, per data row, the line it starts on (counted here, apart from
/// any CSV parser).
fn mixed_records(rows: usize) -> (String, Vec<u64>) {
    let codes = [
        "2731",
        "996.81",
        "28809",
        "",
        "\"250.00\"",
        "\"2731, x\"",
        "ab\"c",
        "00.50",
    ];
    let notes = [
        "x",
        "\"multi\r\nline\"",
        "\"q\"\"uote\"",
        "plain",
        "\"a,b\"",
        "",
        "'1",
    ];
    let mut text = String::from("ID,DX1,DX2,NOTE,PX1\r\n");
    let (mut lines, mut line) = (Vec::new(), 2u64);
    for i in 0..rows {
        if i % 101 == 7 {
            text.push_str("\r\n");
            line += 1;
        }
        let note = notes[(i * 7) % notes.len()];
        let row = format!(
            "{i},{},{},{note},{}\r\n",
            codes[i % codes.len()],
            codes[(i / 3) % codes.len()],
            codes[(i / 5) % codes.len()]
        );
        lines.push(line);
        line += row.matches("\r\n").count() as u64;
        text.push_str(&row);
    }
    (text, lines)
}

#[test]
fn every_kind_of_record_keeps_its_bytes_and_its_line_across_chunks() {
    let wd = Workdir::new();
    let (text, lines) = mixed_records(40_000);
    assert!(text.len() > 3 * 256 * 1024, "several chunks");
    wd.write("mixed.csv", &text);
    let args = |j: &'static str, out: &'static str, audit: &'static str| {
        let cols = ["--dx", "DX1,DX2", "--proc", "PX1"];
        let mut a = vec![
            "convert",
            "mixed.csv",
            "-q",
            "-j",
            j,
            "-o",
            out,
            "--audit",
            audit,
        ];
        a.extend(cols);
        a
    };
    wd.run(&args("1", "out1.csv", "a1.csv")).expect_exit(0);
    wd.run(&args("3", "out3.csv", "a3.csv")).expect_exit(0);
    let out = std::fs::read(wd.path("out1.csv")).unwrap();
    assert!(
        out == std::fs::read(wd.path("out3.csv")).unwrap(),
        "-j 3 wrote another file"
    );
    assert!(
        std::fs::read(wd.path("a1.csv")).unwrap() == std::fs::read(wd.path("a3.csv")).unwrap(),
        "-j 3 wrote another audit"
    );

    // Every row, in order; the columns that hold no code untouched, field for field.
    let input = read_csv(text.as_bytes(), b',');
    let output = read_csv(&out, b',');
    assert_eq!(output.len(), input.len(), "every row comes out");
    for (i, (a, b)) in input.iter().zip(&output).enumerate() {
        assert_eq!(
            (&a[0], &a[3]),
            (&b[0], &b[3]),
            "row {i}: ID and NOTE unchanged"
        );
    }
    // Written exactly as the csv crate's writer writes those fields, line ends included:
    // fields copied from their line and fields encoded anew are indistinguishable.
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in &output {
        writer.write_record(row).unwrap();
    }
    assert!(
        writer.into_inner().unwrap() == out,
        "the output is canonical CSV"
    );

    // The audit names each row's true first line.
    let audit = read_audit(&wd.path("a1.csv"));
    let (row, line) = (col(&audit[0], "row"), col(&audit[0], "line"));
    assert!(audit.len() > 1000);
    for r in &audit[1..] {
        let n: usize = r[row].parse().unwrap();
        assert_eq!(r[line], lines[n - 1].to_string(), "row {n}'s line");
    }
}
