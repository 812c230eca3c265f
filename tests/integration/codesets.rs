//! ICD-10-CM validity by fiscal year through the binary: the built-in years, `--code-set-year`,
//! `--code-set FILE`, and the official order files they must agree with.

use serde_json::Value;

use crate::workdir::{Workdir, shared_data};

/// `map --json --system icd10-cm` of `codes` with `args`: (code, validity) per record.
fn validity(wd: &Workdir, args: &[&str], codes: &[&str]) -> Vec<(String, String)> {
    let run = wd
        .run(&[&["map", "--json", "--system", "icd10-cm"], args, codes].concat())
        .expect_exit_in(&[0, 3]);
    run.json_lines()
        .iter()
        .map(|r: &Value| {
            (
                r["dotted"].as_str().unwrap_or_default().to_string(),
                r["validity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn validity_follows_the_fiscal_year() {
    let wd = Workdir::new();
    let codes = ["C50.A0", "D71", "E78.01", "E78.010"];
    let v = |args: &[&str]| -> Vec<String> {
        validity(&wd, args, &codes)
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    };
    // FY2026, the default: C50.A0 new, D71 and E78.01 split.
    let fy2026 = ["billable", "header", "header", "billable"];
    assert_eq!(v(&[]), fy2026);
    assert_eq!(v(&["--code-set-year", "2026"]), fy2026);
    assert_eq!(
        v(&["--code-set-year", "2025"]),
        ["not_in_code_set", "billable", "billable", "not_in_code_set"]
    );
    assert_eq!(
        v(&["--code-set-year", "2018"]),
        ["not_in_code_set", "billable", "billable", "not_in_code_set"]
    );
    let run = wd
        .run(&[
            "map",
            "--system",
            "icd10-cm",
            "--code-set-year",
            "2025",
            "D71",
        ])
        .expect_exit(0);
    assert!(
        run.stdout
            .starts_with("D71 (ICD-10-CM) Functional disorders of polymorphonuclear neutrophils\n"),
        "{}",
        run.describe()
    );
    // The summary names the year judged against.
    wd.write("c.csv", "ID,DX1\n1,288.1\n");
    wd.run(&[
        "convert",
        "c.csv",
        "-q",
        "--code-set-year",
        "2025",
        "--summary",
        "s.json",
        "-o",
        "o.csv",
    ])
    .expect_exit(0);
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(wd.path("s.json")).unwrap()).unwrap();
    assert_eq!(summary["code_sets"]["icd10-cm"], "ICD-10-CM FY2025");
    assert_eq!(wd.read("o.csv"), "ID,DX1,crosswalk_flags\n1,D71,\n");
}

#[test]
fn unknown_years_are_a_usage_error_naming_the_built_in_ones() {
    let wd = Workdir::new();
    for year in ["2019", "2027", "twenty"] {
        let run = wd
            .run(&["map", "--code-set-year", year, "273.1"])
            .expect_exit(2);
        assert!(
            run.stderr
                .contains("built-in fiscal years: 2018, 2021, 2022, 2023, 2024, 2025, 2026"),
            "{}",
            run.describe()
        );
    }
    let run = wd
        .run(&[
            "map",
            "--code-set-year",
            "2025",
            "--code-set",
            "x.txt",
            "273.1",
        ])
        .expect_exit(2);
    assert!(
        run.stderr.contains("cannot be used with"),
        "{}",
        run.describe()
    );
}

#[test]
fn version_names_every_built_in_release() {
    let wd = Workdir::new();
    let run = wd.run(&["--version"]).expect_exit(0);
    let out = &run.stdout;
    assert!(out.starts_with(&format!("crosswalk {}\n", env!("CARGO_PKG_VERSION"))));
    for line in [
        "ICD-9-CM diagnosis → ICD-10-CM: CMS GEM FY2018 (crosswalk/gems/2018_I9gem.txt)",
        "ICD-10-CM → ICD-9-CM diagnosis: CMS GEM FY2018 (crosswalk/gems/2018_I10gem.txt)",
        "ICD-9-CM procedure → ICD-10-PCS: CMS GEM FY2018 (crosswalk/gems/gem_i9pcs.txt)",
        "ICD-10-PCS → ICD-9-CM procedure: CMS GEM FY2018 (crosswalk/gems/gem_pcsi9.txt)",
        "ICD-10-CM code sets: FY2026 (default), FY2021–FY2026",
        "ICD-10-PCS code set: ICD-10-PCS FY2024",
    ] {
        assert!(out.contains(line), "{line:?} in {out}");
    }
}

/// The FY2025 and FY2018 years built in agree code by code with the official order files of those
/// years, and `--code-set FILE` of such a file gives the same validity and names its year.
#[test]
fn built_in_years_equal_the_official_order_files() {
    let files = [
        (2025, "registry/icd10cm/icd10cm_order_2025.txt"),
        (2018, "reference/icd10cm/icd10cm_order_2018.txt"),
    ];
    for (year, file) in files {
        let Some(path) = shared_data(file) else {
            return;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let mut codes = Vec::new();
        let mut want = Vec::new();
        for line in text.lines().filter(|l| l.len() > 15) {
            codes.push(line[6..13].trim().to_string());
            want.push(if &line[14..15] == "1" {
                "billable"
            } else {
                "header"
            });
        }
        let wd = Workdir::new();
        let stdin: String = codes.iter().map(|c| format!("{c}\n")).collect();
        let year_arg = year.to_string();
        let path_arg = path.to_str().unwrap();
        for args in [
            vec!["--code-set-year", year_arg.as_str()],
            vec!["--code-set", path_arg],
        ] {
            let run = wd
                .run_with_stdin(
                    &[&["map", "--json", "--system", "icd10-cm", "-"], &args[..]].concat(),
                    Some(stdin.as_bytes()),
                )
                .expect_exit_in(&[0, 3]);
            let records = run.json_lines();
            assert_eq!(records.len(), codes.len());
            let mut differ = 0;
            for ((code, want), r) in codes.iter().zip(&want).zip(&records) {
                if r["validity"] != *want {
                    differ += 1;
                    eprintln!("FY{year} {args:?} {code}: {} for {want}", r["validity"]);
                }
            }
            assert_eq!(differ, 0, "FY{year} {args:?}: {} codes", codes.len());
            eprintln!("FY{year} {args:?}: {} codes agree with {file}", codes.len());
        }
        let run = wd.run(&["stats", "--code-set", path_arg]).expect_exit(0);
        assert!(
            run.stdout.contains(&format!("ICD-10-CM FY{year} (")),
            "{}",
            run.describe()
        );
    }
}

#[test]
fn code_set_files_must_be_regular_and_well_formed() {
    let wd = Workdir::new();
    let run = wd
        .run(&["map", "--code-set", "/dev/zero", "273.1"])
        .expect_exit(1);
    assert!(
        run.stderr
            .contains("/dev/zero:1: a code set must be a regular file"),
        "{}",
        run.describe()
    );
    wd.write("icd10cm_order_2027.txt", "00001 A00     X Cholera\n");
    let run = wd
        .run(&["map", "--code-set", "icd10cm_order_2027.txt", "273.1"])
        .expect_exit(1);
    assert!(
        run.stderr
            .contains("icd10cm_order_2027.txt:1: column 15 must be 1"),
        "{}",
        run.describe()
    );
    let run = wd
        .run(&["map", "--gem", "icd9-dx=/dev/zero", "273.1"])
        .expect_exit(1);
    assert!(
        run.stderr
            .contains("a mapping table must be a regular file"),
        "{}",
        run.describe()
    );
}

/// 204 of the 17,513 distinct targets of the FY2018 forward GEM are not billable in FY2026, 185
/// in FY2025 (the figure of `../shared/data/README.md`).
#[test]
fn forward_targets_no_longer_billable() {
    let gem = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crosswalk/gems/2018_I9gem.txt"),
    )
    .unwrap();
    let mut targets: Vec<&str> = gem
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|t| !t.starts_with("No"))
        .collect();
    targets.sort();
    targets.dedup();
    assert_eq!(targets.len(), 17_513);
    let stdin: String = targets.iter().map(|t| format!("{t}\n")).collect();
    let wd = Workdir::new();
    for (year, want) in [("2026", 204), ("2025", 185)] {
        let run = wd
            .run_with_stdin(
                &[
                    "map",
                    "--json",
                    "--system",
                    "icd10-cm",
                    "--code-set-year",
                    year,
                    "-",
                ],
                Some(stdin.as_bytes()),
            )
            .expect_exit_in(&[0, 3]);
        let not_billable = run
            .json_lines()
            .iter()
            .filter(|r| r["validity"] != "billable")
            .count();
        assert_eq!(not_billable, want, "FY{year}");
    }
}

#[test]
fn a_code_set_may_have_titles_of_any_length() {
    // Titles are packed in small blocks; one longer than a block has a block of its own.
    let wd = Workdir::new();
    let long = format!(
        "Monoclonal gammopathy {}",
        "of undetermined significance ".repeat(200)
    );
    let mut file = String::new();
    for (n, (code, billable, title)) in [
        ("D47", '0', "Other neoplasms of uncertain behavior"),
        ("D472", '1', long.trim_end()),
        ("D473", '1', "Essential (hemorrhagic) thrombocythemia"),
    ]
    .into_iter()
    .enumerate()
    {
        let short: String = title.chars().take(60).collect();
        file.push_str(&format!(
            "{:05} {code:<7} {billable} {short:<60} {title}\n",
            n + 1
        ));
    }
    wd.write("icd10cm_order_2027.txt", &file);
    let run = wd
        .run(&[
            "map",
            "--json",
            "--code-set",
            "icd10cm_order_2027.txt",
            "273.1",
        ])
        .expect_exit(0);
    let record = &run.json_lines()[0];
    assert_eq!(
        record["alternatives"][0]["codes"][0]["title"],
        long.trim_end(),
        "{}",
        run.describe()
    );
}
