//! `convert --decisions`: every decision kind, every invalid-decision error, and the
//! convert → decide → re-convert round trip on the bundled example and a real sample.

use std::path::Path;

use crate::workdir::{Workdir, with_desynpuf_sample};

const CLAIMS: &str = "\
CLM_ID,DX1,DX2,DX3,PX1
1,99681,,,0001
2,99681,2948,,
3,0730,,,
4,7796,25O00,V854,
";

fn table(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn convert(wd: &Workdir, extra: &[&str]) -> (Vec<Vec<String>>, String) {
    let mut args = vec![
        "convert",
        "claims.csv",
        "-q",
        "--dx",
        "DX*",
        "--proc",
        "PX1",
    ];
    args.extend_from_slice(extra);
    let run = wd.run(&args).expect_exit(0);
    (table(&run.stdout), run.stderr)
}

#[test]
fn each_kind_of_decision() {
    let wd = Workdir::new();
    wd.write("claims.csv", CLAIMS);
    wd.write(
        "codes.csv",
        "system,code,decision\n\
         icd9-dx,996.81,T86.12\n\
         icd9-dx,294.8,keep\n\
         icd9-dx,779.6,blank\n\
         icd9-dx,V85.4,Z68.41\n\
         icd9-proc,00.01,B34HZZZ\n\
         icd9-dx,272.4,E78.5\n",
    );
    let (out, _) = convert(
        &wd,
        &[
            "--decisions",
            "codes.csv",
            "--choose",
            "fail",
            "--summary",
            "s.json",
        ],
    );
    assert_eq!(out[0][5], "crosswalk_flags");
    // Code decisions beat --choose fail, which would stop at 996.81.
    assert_eq!(out[1][1], "T8612");
    assert_eq!(out[1][4], "B34HZZZ");
    assert_eq!(out[1][5], "DX1:decided:99681;PX1:decided_outside_gem:0001");
    assert_eq!(out[2][1..3], ["T8612", "2948"]);
    assert_eq!(out[4][1], "");
    assert_eq!(out[4][3], "Z6841");
    assert!(
        out[4][5].contains("DX3:decided_outside_gem:V854"),
        "{:?}",
        out[4]
    );
    assert!(out[4][5].contains("DX2:malformed:25O00"), "{:?}", out[4]);

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(wd.path("s.json")).unwrap()).unwrap();
    let d = &summary["decisions"];
    assert_eq!(d["loaded"], 6, "{summary}");
    assert_eq!(d["applied"], 6, "{summary}");
    assert_eq!(d["unused"][0]["code"], "272.4", "{summary}");
    assert_eq!(d["unused"][0]["at"], "codes.csv:7", "{summary}");

    // An occurrence decision (row 2, DX1) beats the code decision; a cluster as A+B.
    wd.write(
        "rows.csv",
        "row,line,CLM_ID,column,system,original,status,alternatives,decision,scope\n\
         2,3,2,DX1,icd9-dx,99681,ambiguous,T86.10 | T86.11 | T86.12,T86.11,\n\
         3,4,3,DX1,icd9-dx,0730,overflow,A70+J17,A70+J17,code\n\
         4,5,4,DX2,icd9-dx,25O00,malformed,,blank,\n",
    );
    let (out, _) = convert(
        &wd,
        &["--decisions", "codes.csv", "--decisions", "rows.csv"],
    );
    assert_eq!(out[1][1], "T8612");
    assert_eq!(out[2][1], "T8611");
    assert_eq!(out[3][1..4], ["A70", "J17", ""]);
    assert_eq!(out[3][5], "DX1:decided:0730");
    assert_eq!(out[4][2], "");
    assert!(out[4][5].contains("DX2:decided:25O00"), "{:?}", out[4]);
}

fn expect_refused(wd: &Workdir, decisions: &str, message: &str) {
    wd.write("bad.csv", decisions);
    let run = wd
        .run(&[
            "convert",
            "claims.csv",
            "--decisions",
            "bad.csv",
            "-o",
            "out.csv",
            "--audit",
            "audit.csv",
        ])
        .expect_exit(1);
    assert!(
        run.stderr.contains(message),
        "wanted {message:?}\n{}",
        run.describe()
    );
    assert!(!wd.path("out.csv").exists() && !wd.path("audit.csv").exists());
}

#[test]
fn invalid_decisions_are_refused_before_any_output() {
    let wd = Workdir::new();
    wd.write("claims.csv", CLAIMS);
    let head = "system,code,decision\n";
    expect_refused(
        &wd,
        &format!("{head}icd9-dx,999.99,T86.12\n"),
        "bad.csv:2: ICD-9-CM diagnosis 999.99 is neither in the crosswalk nor in",
    );
    expect_refused(
        &wd,
        &format!("{head}icd9-dx,99X81,T86.12\n"),
        "bad.csv:2: \"99X81\"",
    );
    expect_refused(
        &wd,
        // An ICD-10 code is decided as another code of its own system, which must be billable.
        &format!("{head}icd10-cm,D71,D71.77\n"),
        "bad.csv:2: decision \"D71.77\" for D71: D71.77 is not one of its alternatives and is not \
         in code set",
    );
    expect_refused(
        &wd,
        &format!("{head}icd9-dx,996.81,0001\n"),
        "bad.csv:2: decision \"0001\" for 996.81",
    );
    expect_refused(
        &wd,
        &format!("{head}icd9-dx,996.81,T86.1\n"),
        "T86.1 is not one of its alternatives and is header in the built-in",
    );
    expect_refused(
        &wd,
        &format!("{head}icd9-dx,996.81,T86.12\nicd9-dx,99681,T86.11\n"),
        "bad.csv:3: decision \"T86.11\" for 996.81 conflicts with \"T86.12\" at bad.csv:2",
    );
    expect_refused(
        &wd,
        "row,line,CLM_ID,column,system,original,status,alternatives,decision,scope\n\
         1,2,1,DX1,icd9-dx,99681,ambiguous,T86.10 | T86.11,T86.11,\n",
        "bad.csv:2: the alternatives of ICD-9-CM diagnosis 996.81 changed since this audit",
    );
    expect_refused(
        &wd,
        "a,b\n1,2\n",
        "bad.csv:1: a decisions file needs the columns",
    );
}

/// Fill every decision of an audit file: the second alternative of an ambiguous code, the
/// first single alternative of an overflow, `blank` for what cannot be converted.
fn decide_all(audit: &str) -> String {
    let rows = table(audit);
    let h = &rows[0];
    let at = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (status, alternatives, decision) = (at("status"), at("alternatives"), at("decision"));
    let (kind, system, code) = (at("kind"), at("system"), at("code"));
    let mut listed = std::collections::HashMap::new();
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(h).unwrap();
    for r in &rows[1..] {
        let mut r = r.clone();
        if r[kind] == "code" {
            listed.insert(
                (r[system].clone(), r[code].clone()),
                r[alternatives].clone(),
            );
            out.write_record(&r).unwrap();
            continue;
        }
        let id = (r[system].clone(), r[code].clone());
        let alts: Vec<&str> = listed.get(&id).map_or(vec![], |l| l.split(" | ").collect());
        r[decision] = match r[status].as_str() {
            "ambiguous" => alts[1].to_string(),
            "overflow" => "keep".to_string(),
            _ => "blank".to_string(),
        };
        out.write_record(&r).unwrap();
    }
    String::from_utf8(out.into_inner().unwrap()).unwrap()
}

fn round_trip(wd: &Workdir, input: &str) {
    let run = wd
        .run(&["convert", input, "-o", "out.csv", "--audit", "review.csv"])
        .expect_exit(0);
    let review = std::fs::read_to_string(wd.path("review.csv")).unwrap();
    let items = table(&review).len() - 1;
    assert!(items > 0, "{}", run.describe());
    wd.write("decided.csv", decide_all(&review));
    let run = wd
        .run(&[
            "convert",
            input,
            "-o",
            "out2.csv",
            "--decisions",
            "decided.csv",
            "--audit",
            "remaining.csv",
            "--strict",
        ])
        .expect_exit(0);
    assert!(
        run.stderr.contains("no code needs review"),
        "{}",
        run.describe()
    );
    assert!(
        run.stderr.contains("codes decided, 0 matched nothing"),
        "{}",
        run.describe()
    );
    assert_eq!(
        table(&std::fs::read_to_string(wd.path("remaining.csv")).unwrap()).len(),
        1
    );
    // The same rows, in order, as the first run.
    let (a, b) = (
        table(&std::fs::read_to_string(wd.path("out.csv")).unwrap()),
        table(&std::fs::read_to_string(wd.path("out2.csv")).unwrap()),
    );
    assert_eq!(a.len(), b.len());
    assert!(a.iter().zip(&b).all(|(x, y)| x[0] == y[0]));
}

#[test]
fn round_trip_on_the_example_leaves_nothing_to_review() {
    let wd = Workdir::new();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/claims.csv");
    wd.write("claims.csv", std::fs::read(example).unwrap());
    round_trip(&wd, "claims.csv");
}

#[test]
fn round_trip_on_a_real_sample_leaves_nothing_to_review() {
    let Some(wd) = with_desynpuf_sample() else {
        return;
    };
    round_trip(&wd, "sample.csv");
}

/// The decisions reader names true lines whatever the line ends, reads Latin-1 bytes, removes
/// exactly the formula guard it wrote (a key `'77` is a key `'77`), and refuses an unclosed
/// quote and an unknown scope instead of reading "0 decisions".
#[test]
fn decisions_files_as_spreadsheets_save_them() {
    let wd = Workdir::new();
    wd.write("claims.csv", CLAIMS);
    let head = "system,code,decision";
    for end in ["\r\n", "\r", "\n"] {
        let text = [head, "icd9-dx,996.81,T86.12", "icd9-dx,999.99,T86.12", ""].join(end);
        expect_refused(
            &wd,
            &text,
            "bad.csv:3: ICD-9-CM diagnosis 999.99 is neither in the crosswalk",
        );
    }
    // Mixed line ends: the bad row is on line 4.
    expect_refused(
        &wd,
        &format!("{head}\r\nicd9-dx,996.81,T86.12\nicd9-dx,294.8,F06.8\ricd9-dx,999.99,x\r\n"),
        "bad.csv:4: ICD-9-CM diagnosis 999.99",
    );
    expect_refused(
        &wd,
        &format!("{head}\nicd9-dx,996.81,\"T86.12\nicd9-dx,294.8,F06.8\n"),
        "bad.csv:2: a quoted field that is never closed",
    );
    expect_refused(
        &wd,
        "row,line,CLM_ID,column,system,original,status,alternatives,decision,scope\n\
         1,2,1,DX1,icd9-dx,99681,ambiguous,T86.10 | T86.11 | T86.12,T86.11,claim\n",
        "bad.csv:2: scope \"claim\": write `code`",
    );
    expect_refused(
        &wd,
        "row,line,CLM_ID,column,system,original,status,alternatives,decision,scope\n\
         1,2,1,DX1,icd9-dx,99681,ambiguous,T86.10 | T86.11 | T86.12,T86.11\n",
        "bad.csv:2: 9 fields, but the header has 10",
    );

    // Keys that need the guard, and keys in Latin-1, round-trip through the audit.
    let claims = b"CLM_ID,DX1\n'77,99681\n=1+2,99681\nJos\xe9,99681\n77,99681\n\"\t-5\",99681\n";
    wd.write("keys.csv", claims);
    wd.run(&[
        "convert",
        "keys.csv",
        "-q",
        "--audit",
        "audit.csv",
        "-o",
        "o.csv",
    ])
    .expect_exit(0);
    let audit = std::fs::read(wd.path("audit.csv")).unwrap();
    assert!(
        audit.windows(16).any(|w| w == b"\noccurrence,1,2,"),
        "row 1 in the audit"
    );
    assert!(
        audit.windows(6).any(|w| w == b",'=1+2"),
        "the formula key is guarded"
    );
    // Decide each occurrence differently.
    let mut filled = Vec::new();
    for (i, line) in audit.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let mut line = line.to_vec();
        // The first line is the header, the second the code row of 996.81.
        let i = i.saturating_sub(1);
        if i > 0 {
            // The audit row ends with `,decision,scope`: both empty.
            assert!(line.ends_with(b",,"));
            line.truncate(line.len() - 1);
            line.extend_from_slice(
                ["T86.10,", "T86.11,", "T86.12,", "keep,", "T86.11,"][i - 1].as_bytes(),
            );
        }
        filled.extend_from_slice(&line);
        filled.extend_from_slice(b"\r\n");
    }
    wd.write("decided.csv", &filled);
    let run = wd
        .run(&[
            "convert",
            "keys.csv",
            "--decisions",
            "decided.csv",
            "--summary",
            "s.json",
            "-o",
            "decided-out.csv",
        ])
        .expect_exit(0);
    let out = std::fs::read(wd.path("decided-out.csv")).unwrap();
    let rows: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
    assert!(rows[1].starts_with(b"'77,T8610,"), "{}", run.describe());
    assert!(rows[2].starts_with(b"=1+2,T8611,"), "{}", run.describe());
    assert!(rows[3].starts_with(b"Jos\xe9,T8612,"), "{}", run.describe());
    assert!(rows[4].starts_with(b"77,99681,"), "{}", run.describe());
    assert!(rows[5].starts_with(b"\t-5,T8611,"), "{}", run.describe());
    let summary: serde_json::Value = serde_json::from_str(&wd.read("s.json")).unwrap();
    assert_eq!(summary["decisions"]["applied"], 5);
}

/// A billable code under a header the GEM names is a decision within the GEM: 288.1 → D71 (a
/// header in FY2026) decided as D71.9 is `decided`, not sent back for review.
#[test]
fn a_billable_code_under_a_header_target_is_within_the_gem() {
    let wd = Workdir::new();
    wd.write("c.csv", "DX1\n2881\n");
    wd.write("d.csv", "system,code,decision\nicd9-dx,288.1,D71.9\n");
    let run = wd
        .run(&[
            "convert",
            "c.csv",
            "-q",
            "--decisions",
            "d.csv",
            "--audit",
            "a.csv",
        ])
        .expect_exit(0);
    assert_eq!(run.stdout, "DX1,crosswalk_flags\nD719,DX1:decided:2881\n");
    assert_eq!(
        wd.read("a.csv").lines().count(),
        1,
        "nothing left to review"
    );
    // A billable code elsewhere is still outside the GEM.
    wd.write("d.csv", "system,code,decision\nicd9-dx,288.1,D70.9\n");
    let run = wd
        .run(&["convert", "c.csv", "-q", "--decisions", "d.csv"])
        .expect_exit(0);
    assert!(
        run.stdout.contains("DX1:decided_outside_gem:2881"),
        "{}",
        run.stdout
    );
}

/// Without key columns, an occurrence decision is bound to its row number and the row's
/// fingerprint: after the file is re-sorted, it never decides another patient's code.
#[test]
fn row_bound_decisions_follow_their_row_not_its_number() {
    let wd = Workdir::new();
    wd.write("c.csv", "NAME,DX1\nann,99681\nbob,99681\n");
    wd.run(&[
        "convert", "c.csv", "-q", "-o", "out.csv", "--audit", "a.csv",
    ])
    .expect_exit(0);
    // Decide Ann's code (row 1) only.
    let audit = wd.read("a.csv");
    assert!(
        audit.lines().next().unwrap().contains(",fingerprint,"),
        "{audit}"
    );
    let decided = {
        let mut t = table(&audit);
        let d = t[0].iter().position(|h| h == "decision").unwrap();
        // The header and Ann's occurrence, after the code row.
        assert_eq!(t[1][0], "code");
        t.remove(1);
        t[1][d] = "T86.12".into();
        t.truncate(2);
        crate::convert::write_csv(&t)
    };
    wd.write("d.csv", &decided);
    let run = wd
        .run(&["convert", "c.csv", "-q", "--decisions", "d.csv"])
        .expect_exit(0);
    assert_eq!(
        run.stdout,
        "NAME,DX1,crosswalk_flags\nann,T8612,DX1:decided:99681\nbob,T8610,DX1:ambiguous:99681\n"
    );
    // Re-sorted: Bob is row 1 now, and Ann's decision is not his.
    wd.write("sorted.csv", "NAME,DX1\nbob,99681\nann,99681\n");
    let run = wd
        .run(&[
            "convert",
            "sorted.csv",
            "-q",
            "--decisions",
            "d.csv",
            "--summary",
            "s.json",
        ])
        .expect_exit(0);
    assert_eq!(
        run.stdout,
        "NAME,DX1,crosswalk_flags\nbob,T8610,DX1:ambiguous:99681\nann,T8610,DX1:ambiguous:99681\n"
    );
    let summary: serde_json::Value = serde_json::from_str(&wd.read("s.json")).unwrap();
    assert_eq!(
        summary["decisions"]["unused"][0]["at"], "d.csv:2",
        "{summary}"
    );
}

/// An overflow can be decided: `accept` writes what the run writes and keeps the codes that do
/// not fit in the flags, no longer for review; `accept` for a code with no translation is refused.
#[test]
fn an_accepted_overflow_is_no_longer_a_review_item() {
    let wd = Workdir::new();
    wd.write("c.csv", "CLM_ID,ADMTG_DGNS_CD,DX1\n1,0730,2731\n");
    let run = wd.run(&["convert", "c.csv", "-q"]).expect_exit(0);
    assert!(
        run.stdout
            .ends_with("1,A70,D472,ADMTG_DGNS_CD:overflow:0730:J17\n"),
        "{}",
        run.stdout
    );
    wd.write("d.csv", "system,code,decision\nicd9-dx,073.0,accept\n");
    let run = wd
        .run(&[
            "convert",
            "c.csv",
            "-q",
            "--decisions",
            "d.csv",
            "--audit",
            "a.csv",
            "--strict",
        ])
        .expect_exit(0);
    assert!(
        run.stdout
            .ends_with("1,A70,D472,ADMTG_DGNS_CD:decided:0730:J17\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        wd.read("a.csv").lines().count(),
        1,
        "nothing left to review"
    );
    wd.write("d.csv", "system,code,decision\nicd9-dx,779.6,accept\n");
    let run = wd
        .run(&["convert", "c.csv", "-q", "--decisions", "d.csv"])
        .expect_exit(1);
    assert!(
        run.stderr
            .contains("d.csv:2: decision \"accept\" for 779.6: accept writes"),
        "{}",
        run.stderr
    );
}

/// The audit lists each code once, on a code row before its first occurrence; a decision there
/// is for every occurrence, and an occurrence's decision is checked against its code row.
#[test]
fn code_rows_decide_every_occurrence_and_carry_the_alternatives() {
    let wd = Workdir::new();
    wd.write(
        "c.csv",
        "CLM_ID,DX1,DX2\n1,99681,4019\n2,99681,2948\n3,4019,99681\n",
    );
    wd.run(&["convert", "c.csv", "-q", "-o", "o.csv", "--audit", "a.csv"])
        .expect_exit(0);
    let mut t = table(&wd.read("a.csv"));
    let at = |name: &str| t[0].iter().position(|h| h == name).unwrap();
    let (kind, code, alternatives, decision) =
        (at("kind"), at("code"), at("alternatives"), at("decision"));
    let kinds: Vec<(&str, &str)> = t[1..]
        .iter()
        .map(|r| (r[kind].as_str(), r[code].as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("code", "996.81"),
            ("code", "401.9"),
            ("occurrence", "996.81"),
            ("occurrence", "401.9"),
            ("code", "294.8"),
            ("occurrence", "996.81"),
            ("occurrence", "294.8"),
            ("occurrence", "401.9"),
            ("occurrence", "996.81"),
        ]
    );
    assert_eq!(t[1][alternatives], "T86.10 | T86.11 | T86.12");
    assert_eq!(
        t[3][alternatives], "",
        "occurrences refer to their code row"
    );
    // 996.81 decided on its code row, 401.9 on claim 3's occurrence only.
    t[1][decision] = "T86.11".into();
    t[8][decision] = "I16.9".into();
    wd.write("d.csv", crate::convert::write_csv(&t));
    let run = wd
        .run(&["convert", "c.csv", "-q", "--decisions", "d.csv"])
        .expect_exit(0);
    assert_eq!(
        run.stdout,
        "CLM_ID,DX1,DX2,crosswalk_flags\n\
         1,T8611,I10,DX1:decided:99681;DX2:ambiguous:4019\n\
         2,T8611,F060,DX1:decided:99681;DX2:ambiguous:2948\n\
         3,I169,T8611,DX1:decided:4019;DX2:decided:99681\n"
    );

    // A code row whose alternatives are not today's: refused for the code decided there or on
    // an occurrence, naming the code row; ignored for a code nobody decided.
    let mut stale = t.clone();
    stale[5][alternatives] = "F06.0".into();
    wd.write("d.csv", crate::convert::write_csv(&stale));
    wd.run(&["convert", "c.csv", "-q", "--decisions", "d.csv"])
        .expect_exit(0);
    stale[2][alternatives] = "I10".into();
    wd.write("d.csv", crate::convert::write_csv(&stale));
    let run = wd
        .run(&["convert", "c.csv", "-q", "--decisions", "d.csv"])
        .expect_exit(1);
    assert!(
        run.stderr.contains(
            "d.csv:9: the alternatives of ICD-9-CM diagnosis 401.9 changed since this audit was \
             written (then, at d.csv:3: \"I10\""
        ),
        "{}",
        run.describe()
    );
    stale[1][alternatives] = "T86.10".into();
    wd.write("d.csv", crate::convert::write_csv(&stale));
    let run = wd
        .run(&["convert", "c.csv", "-q", "--decisions", "d.csv"])
        .expect_exit(1);
    assert!(
        run.stderr
            .contains("d.csv:2: the alternatives of ICD-9-CM diagnosis 996.81 changed"),
        "{}",
        run.describe()
    );
}

/// A second round's CSV audit: the code decision is on the code row only; changed there, it
/// decides every occurrence that has no decision of its own.
#[test]
fn a_second_round_audit_carries_code_decisions_on_code_rows() {
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
        "r.csv",
    ])
    .expect_exit(0);
    let mut t = table(&wd.read("r.csv"));
    let at = |name: &str| t[0].iter().position(|h| h == name).unwrap();
    let (kind, decision) = (at("kind"), at("decision"));
    let cells: Vec<(&str, &str)> = t[1..]
        .iter()
        .map(|r| (r[kind].as_str(), r[decision].as_str()))
        .collect();
    assert_eq!(
        cells,
        [("code", "I11.9"), ("occurrence", ""), ("occurrence", "")]
    );
    t[1][decision] = "I10".into();
    wd.write("r2.csv", crate::convert::write_csv(&t));
    let run = wd
        .run(&["convert", "c.csv", "-q", "--decisions", "r2.csv"])
        .expect_exit(0);
    assert_eq!(
        run.stdout,
        "CLM_ID,DX1,crosswalk_flags\n1,I10,DX1:decided:4019\n2,I10,DX1:decided:4019\n"
    );
}

/// An occurrence decision must name its claim by key columns or a fingerprint: by row number
/// alone it would follow the row number through a re-sort.
#[test]
fn occurrence_decisions_by_row_number_alone_are_refused() {
    let wd = Workdir::new();
    wd.write("c.csv", "DX1\n99681\n");
    wd.write(
        "d.csv",
        "kind,row,line,column,system,code,original,status,decision\n\
         occurrence,1,2,DX1,icd9-dx,996.81,99681,ambiguous,T86.11\n",
    );
    let run = wd
        .run(&["convert", "c.csv", "-q", "--decisions", "d.csv"])
        .expect_exit(1);
    assert!(
        run.stderr.contains(
            "d.csv:2: an occurrence decision that names its claim by neither key columns nor a \
             `fingerprint`"
        ),
        "{}",
        run.describe()
    );
}
