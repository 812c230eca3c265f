//! Every source code of the four official FY2018 GEMs, through `crosswalk map --json` on the
//! built-in crosswalk and on the official files, against an independent reading of the files; and
//! the anomalies a loader must survive.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde_json::Value;

use crate::map::alternatives;
use crate::workdir::{Workdir, fy2018_gems};

pub struct Row {
    target: String,
    flags: Vec<u8>,
}

/// Rows per source in first-appearance order, read the simplest way.
pub fn read_gem(path: &Path) -> Vec<(String, Vec<Row>)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut order: Vec<String> = Vec::new();
    let mut rows: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        assert_eq!(f.len(), 3, "{line:?}");
        let source = f[0].to_uppercase();
        if !rows.contains_key(&source) {
            order.push(source.clone());
        }
        rows.entry(source).or_default().push(Row {
            target: f[1].to_uppercase(),
            flags: f[2].bytes().map(|b| b - b'0').collect(),
        });
    }
    order
        .into_iter()
        .map(|s| {
            let r = rows.remove(&s).unwrap();
            (s, r)
        })
        .collect()
}

/// Every way to take one code from each list, first list slowest.
fn product(lists: &[Vec<String>]) -> Vec<Vec<String>> {
    match lists.split_first() {
        None => vec![vec![]],
        Some((first, rest)) => {
            let tails = product(rest);
            first
                .iter()
                .flat_map(|code| {
                    tails.iter().map(move |tail| {
                        let mut cluster = vec![code.clone()];
                        cluster.extend(tail.iter().cloned());
                        cluster
                    })
                })
                .collect()
        }
    }
}

/// The reading rule of the issue, written independently of the library.
pub fn expected(rows: &[Row]) -> (&'static str, Vec<String>) {
    let real = |r: &&Row| !r.target.starts_with("NO");
    let mut alts: Vec<Vec<String>> = rows
        .iter()
        .filter(real)
        .filter(|r| r.flags[2] == 0)
        .map(|r| vec![r.target.clone()])
        .collect();
    let mut scenarios: Vec<u8> = rows
        .iter()
        .filter(real)
        .filter(|r| r.flags[2] == 1)
        .map(|r| r.flags[3])
        .collect();
    scenarios.sort();
    scenarios.dedup();
    for s in scenarios {
        let mut list_numbers: Vec<u8> = rows
            .iter()
            .filter(real)
            .filter(|r| r.flags[2] == 1 && r.flags[3] == s)
            .map(|r| r.flags[4])
            .collect();
        list_numbers.sort();
        list_numbers.dedup();
        let lists: Vec<Vec<String>> = list_numbers
            .iter()
            .map(|&l| {
                rows.iter()
                    .filter(real)
                    .filter(|r| r.flags[2] == 1 && r.flags[3] == s && r.flags[4] == l)
                    .map(|r| r.target.clone())
                    .collect()
            })
            .collect();
        alts.extend(product(&lists));
    }
    let mut seen = HashSet::new();
    alts.retain(|a| {
        let mut key = a.clone();
        key.sort();
        seen.insert(key)
    });
    let status = match alts.len() {
        0 => "no_map",
        1 if alts[0].len() > 1 => "combination",
        1 => {
            let row = rows.iter().find(|r| r.target == alts[0][0]).unwrap();
            if row.flags.iter().all(|&f| f == 0) {
                "exact"
            } else {
                "approximate"
            }
        }
        _ => "ambiguous",
    };
    (status, alts.into_iter().map(|a| a.join("+")).collect())
}

/// Every source code of the FY2018 GEM `file`, looked up in the built-in crosswalk and, when
/// `../shared/data` is present, with `--gems` on the official folder: both give the status and
/// the ordered alternatives of the reading rule.
fn check_every_source(file: &str, system: &str) {
    let builtin = builtin_gems().join(file);
    let gem = read_gem(&builtin);
    let official = fy2018_gems().map(|dir| dir.to_str().unwrap().to_string());
    let runs = std::iter::once(None).chain(official.as_deref().map(Some));
    let stdin: String = gem.iter().map(|(s, _)| format!("{s}\n")).collect();
    let wd = Workdir::new();
    for gems in runs {
        let mut args = vec!["map", "--json", "--system", system, "-"];
        if let Some(dir) = gems {
            args.extend(["--gems", dir]);
        }
        let run = wd
            .run_with_stdin(&args, Some(stdin.as_bytes()))
            .expect_exit(0);
        let records = run.json_lines();
        assert_eq!(records.len(), gem.len(), "one record per source code");
        let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
        for ((source, rows), record) in gem.iter().zip(&records) {
            let (status, alts) = expected(rows);
            assert_eq!(record["code"], source.as_str());
            assert_eq!(record["gem_status"], status, "{file} {source}");
            assert_eq!(alternatives(record), alts, "{file} {source}");
            let origin = record["crosswalk"].as_str().unwrap();
            assert!(origin.starts_with("CMS GEM FY2018 ("), "{origin}");
            assert!(origin.contains(file));
            assert_eq!(origin.contains("(built-in "), gems.is_none(), "{origin}");
            *statuses.entry(status.to_string()).or_default() += 1;
        }
        let how = gems.map_or("built in".to_string(), |d| format!("--gems {d}"));
        eprintln!(
            "{file} ({how}): {} sources checked, {statuses:?}",
            gem.len()
        );
    }
}

fn builtin_gems() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crosswalk/gems")
}

#[test]
fn every_forward_dx_source() {
    check_every_source("2018_I9gem.txt", "icd9-dx");
}

#[test]
fn every_backward_dx_source() {
    check_every_source("2018_I10gem.txt", "icd10-cm");
}

#[test]
fn every_icd9_procedure_source() {
    check_every_source("gem_i9pcs.txt", "icd9-proc");
}

#[test]
fn every_pcs_source() {
    check_every_source("gem_pcsi9.txt", "icd10-pcs");
}

fn map_fy2018(system: &str, codes: &[&str]) -> Option<Vec<Value>> {
    let dir = fy2018_gems()?;
    let wd = Workdir::new();
    let mut args = vec![
        "map",
        "--json",
        "--system",
        system,
        "--gems",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(codes);
    Some(wd.run(&args).expect_exit(0).json_lines())
}

#[test]
fn worked_examples_with_scenarios() {
    let Some(r) = map_fy2018("icd9-dx", &["806.00", "828.0"]) else {
        return;
    };
    let cervical = alternatives(&r[0]);
    assert_eq!(
        cervical.len(),
        8,
        "four scenarios of two clusters: {cervical:?}"
    );
    assert_eq!(&cervical[..2], ["S14101A+S12000A", "S14101A+S12001A"]);
    let scenarios: Vec<Value> = r[0]["alternatives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["scenario"].clone())
        .collect();
    assert_eq!(scenarios, [1, 1, 2, 2, 3, 3, 4, 4]);
    // 828.0: S7290XA appears in scenarios 2 and 3, so rows are not keyed on (source, target).
    let scenarios_with_s7290xa: HashSet<u64> = r[1]["alternatives"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["codes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["code"] == "S7290XA")
        })
        .map(|a| a["scenario"].as_u64().unwrap())
        .collect();
    assert_eq!(scenarios_with_s7290xa, HashSet::from([2, 3]));
}

#[test]
fn the_three_no_map_tokens() {
    let Some(dx) = map_fy2018("icd9-dx", &["779.6", "E930.0"]) else {
        return;
    };
    assert_eq!(dx[0]["status"], "no_map", "NoDx");
    assert_eq!(dx[1]["status"], "no_map", "an adverse-effect E code");
    let px = map_fy2018("icd9-proc", &["00.16"]).unwrap();
    assert_eq!(px[0]["status"], "no_map", "NoPCS");
    // `02H40NZ NoI9 10000`: no-map target with the no-map flag off.
    let pcs = map_fy2018("icd10-pcs", &["02H40NZ"]).unwrap();
    assert_eq!(pcs[0]["status"], "no_map", "NoI9");
}

#[test]
fn lower_case_target_is_normalised() {
    // 2018_I10gem.txt line 73,170 reads `T8853XD v5889 10000`.
    let Some(r) = map_fy2018("icd10-cm", &["T88.53XD"]) else {
        return;
    };
    assert_eq!(alternatives(&r[0]), ["V5889"]);
    assert_eq!(r[0]["alternatives"][0]["codes"][0]["dotted"], "V58.89");
}

#[test]
fn combination_zero_with_scenario_digits_is_a_single() {
    let Some(r) = map_fy2018("icd9-proc", &["35.84", "86.28", "02.31"]) else {
        return;
    };
    assert_eq!(
        alternatives(&r[0]),
        ["02S00ZZ", "02S10ZZ", "02SP0ZZ+02SW0ZZ", "02SP0ZZ+02SX0ZZ"]
    );
    assert!(alternatives(&r[1]).contains(&"0NDB0ZZ".to_string()));
    assert!(alternatives(&r[1]).iter().all(|a| !a.contains('+')));
    // 02.31: 00164ZB is both a single and a one-code cluster; it is listed once.
    let a = alternatives(&r[2]);
    assert_eq!(a.len(), 21);
    assert_eq!(a.iter().filter(|x| *x == "00164ZB").count(), 1);
}

/// The four built-in GEMs are the official FY2018 files, byte for byte.
#[test]
fn builtin_gems_are_the_official_files() {
    let Some(dir) = fy2018_gems() else { return };
    for file in [
        "2018_I9gem.txt",
        "2018_I10gem.txt",
        "gem_i9pcs.txt",
        "gem_pcsi9.txt",
    ] {
        let builtin = std::fs::read(builtin_gems().join(file)).unwrap();
        let official = std::fs::read(dir.join(file)).unwrap();
        assert!(
            builtin == official,
            "the built-in {file} differs from the official file"
        );
    }
}
