//! `crosswalk stats` through the binary.

use crate::workdir::{Workdir, fy2018_gems};

/// The built-in tables are the official FY2018 files: `stats` with no `--gems` gives the
/// counts of `../shared/data/README.md` for all four directions.
#[test]
fn builtin_tables() {
    let wd = Workdir::new();
    check_official_counts(&wd, &[], "(built-in crosswalk/gems/");
    let text = wd.run(&["stats"]).expect_exit(0);
    assert!(
        text.stdout
            .contains("CMS GEM FY2018 (built-in crosswalk/gems/2018_I9gem.txt)")
    );
    assert!(
        text.stdout
            .contains("ICD-10-CM FY2026          98,186 codes,  74,719 billable")
    );
    let text = wd.run(&["stats", "--code-set-year", "2025"]).expect_exit(0);
    assert!(
        text.stdout
            .contains("ICD-10-CM FY2025          97,584 codes,  74,260 billable"),
        "{}",
        text.describe()
    );
}

/// The counts table of `../shared/data/README.md`.
#[test]
fn fy2018_counts_match_the_official_figures() {
    let Some(dir) = fy2018_gems() else { return };
    let wd = Workdir::new();
    check_official_counts(&wd, &["--gems", dir.to_str().unwrap()], "");
}

/// `stats --json` with `args` gives the official FY2018 counts; each table's origin contains
/// `origin`.
fn check_official_counts(wd: &Workdir, args: &[&str], origin: &str) {
    let run = wd
        .run(&[&["stats", "--json"], args].concat())
        .expect_exit(0);
    let tables = run.json_lines();
    // rows, sources, >1 target, combination row, no map, exact 1:1
    let want = [
        (
            "icd9-dx",
            "2018_I9gem.txt",
            [24_860, 14_567, 3_380, 668, 422, 3_521],
        ),
        (
            "icd10-cm",
            "2018_I10gem.txt",
            [81_593, 71_704, 7_862, 4_241, 731, 3_516],
        ),
        (
            "icd9-proc",
            "gem_i9pcs.txt",
            [73_593, 3_882, 3_278, 215, 210, 45],
        ),
        (
            "icd10-pcs",
            "gem_pcsi9.txt",
            [101_025, 78_705, 10_674, 5_451, 31, 47],
        ),
    ];
    assert_eq!(tables.len(), 4);
    for (t, (system, file, counts)) in tables.iter().zip(want) {
        assert_eq!(t["source_system"], system);
        assert!(
            t["crosswalk"]
                .as_str()
                .unwrap()
                .starts_with("CMS GEM FY2018 (")
        );
        assert!(t["crosswalk"].as_str().unwrap().contains(file));
        assert!(t["crosswalk"].as_str().unwrap().contains(origin));
        let got = [
            "rows",
            "sources",
            "sources_with_several_targets",
            "sources_with_combination_row",
            "no_map_sources",
            "exact_one_to_one",
        ]
        .map(|k| t[k].as_u64().unwrap());
        assert_eq!(got, counts.map(|n| n as u64), "{system}");
        let by_status: u64 = t["by_status"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(by_status, counts[1] as u64, "every source has one status");
        assert_eq!(
            t["by_status"]["exact"], counts[5],
            "exact = single 00000 row"
        );
        assert_eq!(t["by_status"]["no_map"], counts[4]);
    }
}
