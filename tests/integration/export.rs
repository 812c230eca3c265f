//! `crosswalk export`, through the binary: the lookup table says what `convert` writes. Each
//! code cell of the bundled example, looked up in the table as a join would, must be what
//! `convert` wrote there with the same options and decisions, and the codes the table marks for
//! review must be those the audit lists. (tests/duckdb/check.sh does the same join in DuckDB, on
//! the real DE-SynPUF sample.)

use std::collections::{HashMap, HashSet};

use crate::convert::{col, read_file};
use crate::workdir::Workdir;

/// Per (system, code): whether convert writes something, what goes into the code's own cell
/// (undotted and dotted; `None`: blanked), how many codes, and whether the code needs review.
type Table = HashMap<(String, String), (bool, Option<(String, String)>, usize, bool)>;

fn table(rows: &[Vec<String>]) -> Table {
    let h = &rows[0];
    let c = |n: &str| col(h, n);
    let mut out: Table = HashMap::new();
    for r in &rows[1..] {
        let e = out
            .entry((r[c("system")].clone(), r[c("code")].clone()))
            .or_insert((false, None, 0, false));
        e.3 |= r[c("needs_review")] == "true";
        if r[c("chosen")] == "true" {
            e.0 = true;
            let position: usize = r[c("position")].parse().unwrap_or(0);
            e.2 = e.2.max(position);
            if position == 1 {
                e.1 = Some((r[c("target")].clone(), r[c("target_dotted")].clone()));
            }
        }
    }
    out
}

/// Join the example's code cells to the export and compare with convert's output, both made
/// with `options`. Returns the number of single-code cells compared.
fn check(wd: &Workdir, options: &[&str]) -> usize {
    wd.run(&[&["export", "-q", "-o", "table.csv"][..], options].concat())
        .expect_exit(0);
    wd.run(
        &[
            &[
                "convert",
                "claims.csv",
                "-q",
                "-o",
                "out.csv",
                "--audit",
                "a.csv",
            ][..],
            options,
        ]
        .concat(),
    )
    .expect_exit(0);
    let table = table(&read_file(&wd.path("table.csv"), b','));
    let input = read_file(&wd.path("claims.csv"), b',');
    let output = read_file(&wd.path("out.csv"), b',');
    let audit = read_file(&wd.path("a.csv"), b',');
    let blank = options.windows(2).any(|w| w == ["--unmapped", "blank"]);
    let header = &input[0];
    let mut compared = 0;
    let mut review = HashSet::new();
    for (n, (row, out)) in input[1..].iter().zip(&output[1..]).enumerate() {
        for (i, name) in header.iter().enumerate() {
            let system = if name.contains("DGNS") {
                "icd9-dx"
            } else if name.contains("PRCDR") {
                "icd9-proc"
            } else {
                continue;
            };
            let cell = row[i].trim();
            if cell.is_empty() {
                continue;
            }
            let key = (system.to_string(), cell.replace('.', "").to_uppercase());
            let joined = match table.get(&key) {
                None if blank => String::new(),
                None => cell.to_string(),
                Some((false, ..)) => cell.to_string(),
                // Dotted as the cell was, as convert writes it.
                Some((true, target, positions, _)) if *positions <= 1 => match target {
                    Some((_, dotted)) if cell.contains('.') => dotted.clone(),
                    Some((undotted, _)) => undotted.clone(),
                    None => String::new(),
                },
                // A cluster: only convert places its further codes.
                Some(_) => continue,
            };
            assert_eq!(out[i], joined, "row {} {name}: {cell}", n + 1);
            compared += 1;
            if table.get(&key).is_none_or(|e| e.3) {
                review.insert((n + 1, name.clone()));
            }
        }
    }
    let (kind, row, column) = (
        col(&audit[0], "kind"),
        col(&audit[0], "row"),
        col(&audit[0], "column"),
    );
    let listed: HashSet<(usize, String)> = audit[1..]
        .iter()
        .filter(|r| r[kind] == "occurrence")
        .map(|r| (r[row].parse().unwrap(), r[column].clone()))
        .collect();
    let overflow = col(&audit[0], "status");
    let clusters: HashSet<(usize, String)> = audit[1..]
        .iter()
        .filter(|r| r[kind] == "occurrence" && r[overflow].contains("overflow"))
        .map(|r| (r[row].parse().unwrap(), r[column].clone()))
        .collect();
    assert!(review.is_subset(&listed), "marked but not audited");
    let missing: HashSet<_> = listed.difference(&review).cloned().collect();
    assert!(
        missing.is_subset(&clusters),
        "audited but not marked: {missing:?}"
    );
    compared
}

#[test]
fn the_exported_table_says_what_convert_writes() {
    let wd = Workdir::new();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/claims.csv");
    wd.write("claims.csv", std::fs::read(example).unwrap());
    assert!(check(&wd, &[]) > 20);
    assert!(check(&wd, &["--choose", "first-billable", "--unmapped", "blank"]) > 20);
    wd.write(
        "d.csv",
        "system,code,decision\nicd9-dx,428.1,I50.1\nicd9-dx,288.09,blank\nicd9-dx,273.1,keep\n",
    );
    assert!(check(&wd, &["--decisions", "d.csv"]) > 20);
    // The decision names its file and line on the code's rows.
    let rows = read_file(&wd.path("table.csv"), b',');
    let (code, by) = (col(&rows[0], "code"), col(&rows[0], "decided_by"));
    let decided: Vec<&str> = rows[1..]
        .iter()
        .filter(|r| r[0] == "icd9-dx" && r[code] == "4281")
        .map(|r| r[by].as_str())
        .collect();
    assert!(
        !decided.is_empty() && decided.iter().all(|d| *d == "d.csv:2"),
        "{decided:?}"
    );
    // Every ICD-9-CM source code of the built-in GEMs has rows.
    let codes: HashSet<(&str, &str)> = rows[1..]
        .iter()
        .map(|r| (r[0].as_str(), r[code].as_str()))
        .collect();
    let dx = codes.iter().filter(|(s, _)| *s == "icd9-dx").count();
    let proc = codes.iter().filter(|(s, _)| *s == "icd9-proc").count();
    assert_eq!(
        (dx, proc),
        (14_567, 3_882),
        "the FY2018 GEMs' source codes (shared data README)"
    );
}

#[test]
fn export_refuses_what_convert_does_not_do() {
    let wd = Workdir::new();
    for (args, says) in [
        (&["--system", "icd10-cm"][..], "invalid value 'icd10-cm'"),
        (
            &["--choose", "fail"][..],
            "would stop at the first ambiguous code",
        ),
    ] {
        let run = wd
            .run(&[&["export", "-o", "t.csv"][..], args].concat())
            .expect_exit(2);
        assert!(run.stderr.contains(says), "{}", run.describe());
        assert!(!wd.path("t.csv").exists());
    }
}

#[test]
fn the_table_as_parquet_holds_the_same_rows_typed() {
    let wd = Workdir::new();
    wd.run(&["export", "-q", "--system", "icd9-proc", "-o", "t.csv"])
        .expect_exit(0);
    wd.run(&["export", "-q", "--system", "icd9-proc", "-o", "t.parquet"])
        .expect_exit(0);
    let csv = read_file(&wd.path("t.csv"), b',');
    let (parquet, types) = crate::parquet::read_parquet(&wd.path("t.parquet"));
    assert_eq!(parquet, csv, "the same cells");
    let h = &csv[0];
    assert_eq!(types[col(h, "chosen")], "Boolean");
    assert_eq!(types[col(h, "position")], "Int32");
    assert_eq!(types[col(h, "target_title")], "Utf8");
}
