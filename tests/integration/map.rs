//! `crosswalk map` through the binary, on the built-in crosswalk and on user tables.

use serde_json::Value;

use crate::workdir::{Workdir, fy2018_gems};

/// The alternatives of a JSON record as `A+B` strings.
pub fn alternatives(record: &Value) -> Vec<String> {
    record["alternatives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a["codes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["code"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect()
}

/// The worked examples of the domain primer hold in the built-in crosswalk and in FY2018.
fn check_worked_examples(extra: &[&str]) {
    let wd = Workdir::new();
    let mut args = vec!["map", "--json"];
    args.extend_from_slice(extra);
    args.extend([
        "273.1", "288.09", "288.50", "203.12", "996.81", "073.0", "249.51", "779.6",
    ]);
    let run = wd.run(&args).expect_exit(0);
    let records = run.json_lines();
    let want: [(&str, &str, &[&str]); 8] = [
        ("2731", "approximate", &["D472"]),
        ("28809", "exact", &["D708"]),
        ("28850", "approximate", &["D72819"]),
        ("20312", "exact", &["C9012"]),
        ("99681", "ambiguous", &["T8610", "T8611", "T8612"]),
        ("0730", "combination", &["A70+J17"]),
        (
            "24951",
            "ambiguous",
            &[
                "E0839",
                "E0939",
                "E08311+E0865",
                "E08319+E0865",
                "E0836+E0865",
                "E09311+E0865",
                "E09319+E0865",
                "E0936+E0865",
            ],
        ),
        ("7796", "no_map", &[]),
    ];
    assert_eq!(records.len(), want.len(), "{}", run.describe());
    for (record, (code, status, alts)) in records.iter().zip(want) {
        assert_eq!(record["code"], code, "{record}");
        assert_eq!(record["status"], status, "{record}");
        assert_eq!(alternatives(record), alts, "{record}");
        assert_eq!(record["system"], "icd9-dx");
        assert!(record["crosswalk"].as_str().unwrap().contains("GEM"));
    }
    assert_eq!(records[0]["title"], "Monoclonal paraproteinemia");
    let d472 = &records[0]["alternatives"][0]["codes"][0];
    assert_eq!(d472["title"], "Monoclonal gammopathy");
    assert_eq!(d472["validity"], "billable");
    assert_eq!(d472["flags"], "10000");
    assert_eq!(d472["dotted"], "D47.2");
    assert_eq!(records[5]["alternatives"][0]["scenario"], 1);
}

#[test]
fn worked_examples_builtin() {
    check_worked_examples(&[]);
}

#[test]
fn worked_examples_fy2018() {
    let Some(dir) = fy2018_gems() else { return };
    check_worked_examples(&["--gems", dir.to_str().unwrap()]);
}

#[test]
fn text_output_names_status_titles_and_release() {
    let wd = Workdir::new();
    let run = wd.run(&["map", "996.81", "073.0"]).expect_exit(0);
    let out = &run.stdout;
    assert!(out.contains("996.81 (ICD-9-CM diagnosis) Complications of transplanted kidney"));
    assert!(out.contains("ambiguous: 3 alternatives"));
    assert!(out.contains("T86.11   billable        10000  Kidney transplant rejection"));
    assert!(out.contains("   + J17"), "{out}");
    assert!(out.contains("crosswalk: CMS GEM FY2018 (built-in crosswalk/gems/2018_I9gem.txt)"));
}

#[test]
fn icd10_header_not_in_backward_gem() {
    let wd = Workdir::new();
    let run = wd
        .run(&["map", "--json", "--system", "icd10-cm", "D89.83"])
        .expect_exit(3);
    let r = &run.json_lines()[0];
    assert_eq!(r["validity"], "header");
    assert_eq!(r["status"], "not_in_crosswalk");
    assert_eq!(r["code"], "D8983");
    assert_eq!(r["alternatives"], Value::Array(vec![]));
    // What the header has become (split in FY2024).
    assert_eq!(
        r["billable_under"],
        serde_json::json!(["D89831", "D89832", "D89833", "D89834", "D89835", "D89839"])
    );
    assert!(
        run.stderr.contains("1 not in the crosswalk"),
        "{}",
        run.describe()
    );
    let text = wd
        .run(&["map", "--system", "icd10-cm", "d89.83"])
        .expect_exit(3);
    assert!(
        text.stdout.contains("[header in ICD-10-CM FY2026"),
        "{}",
        text.describe()
    );
    assert!(
        text.stdout.contains(
            "\n  billable codes under it: D89.831, D89.832, D89.833, D89.834, D89.835, D89.839\n"
        ),
        "{}",
        text.describe()
    );

    // A GEM target that is a header now: its billable codes are named under it, in text and JSON.
    let text = wd.run(&["map", "272.0", "272.4"]).expect_exit(0);
    assert!(
        text.stdout.contains(
            "  2. E78.01   header          10000  Familial hypercholesterolemia\n              \
             billable codes under it: E78.010, E78.011, E78.019\n"
        ),
        "{}",
        text.describe()
    );
    assert_eq!(
        text.stdout.matches("billable codes under it").count(),
        2,
        "E78.01 and E78.4, not the billable E78.00 and E78.5: {}",
        text.describe()
    );
    let run = wd.run(&["map", "--json", "272.4"]).expect_exit(0);
    let codes = &run.json_lines()[0]["alternatives"];
    assert_eq!(
        codes[0]["codes"][0]["billable_under"],
        serde_json::json!(["E7841", "E7849"])
    );
    assert_eq!(
        codes[1]["codes"][0]["billable_under"],
        serde_json::json!([])
    );
}

#[test]
fn every_spelling_finds_the_same_code() {
    let wd = Workdir::new();
    let run = wd
        .run(&[
            "map", "--json", "273.1", "2731", " 273.1 ", "v10.51", "V1051", "e812.0",
        ])
        .expect_exit(0);
    let codes: Vec<Value> = run.json_lines().iter().map(|r| r["code"].clone()).collect();
    assert_eq!(codes, ["2731", "2731", "2731", "V1051", "V1051", "E8120"]);
}

#[test]
fn malformed_and_unknown_codes_are_reported_and_exit_3() {
    let wd = Workdir::new();
    let run = wd
        .run(&["map", "--json", "27.31", "0414", "D47.2", "273.1"])
        .expect_exit(3);
    let r = run.json_lines();
    assert_eq!(r[0]["status"], "malformed");
    assert_eq!(r[0]["code"], Value::Null);
    assert!(
        r[0]["reason"]
            .as_str()
            .unwrap()
            .contains("decimal point after 2")
    );
    assert_eq!(r[1]["status"], "not_in_crosswalk");
    assert_eq!(r[1]["validity"], "header");
    assert_eq!(
        r[2]["status"], "malformed",
        "an ICD-10 code is not an ICD-9 code"
    );
    assert_eq!(r[3]["status"], "approximate");
    assert!(
        run.stderr
            .contains("3 of 4 codes could not be looked up (2 malformed, 1 not in the crosswalk)"),
        "{}",
        run.describe()
    );
}

#[test]
fn codes_from_stdin_one_object_per_line() {
    let wd = Workdir::new();
    let run = wd
        .run_with_stdin(&["map", "--json", "-"], Some(b"273.1\r\n\n99681\nE8581\n"))
        .expect_exit(3);
    let r = run.json_lines();
    assert_eq!(r.len(), 4, "{}", run.describe());
    assert_eq!(
        r[1]["status"], "malformed",
        "a blank line is reported, not dropped"
    );
    assert_eq!(r[2]["status"], "ambiguous");
    assert_eq!(r[3]["system"], "icd9-dx");
    // Without arguments, stdin is read too; codes and `-` mix in order.
    let run = wd
        .run_with_stdin(&["map", "--json"], Some(b"2731\n"))
        .expect_exit(0);
    assert_eq!(run.json_lines().len(), 1);
    let run = wd
        .run_with_stdin(&["map", "--json", "0730", "-", "7796"], Some(b"2731\n"))
        .expect_exit(0);
    let codes: Vec<Value> = run.json_lines().iter().map(|r| r["code"].clone()).collect();
    assert_eq!(codes, ["0730", "2731", "7796"]);
}

#[test]
fn procedure_codes_map_to_pcs() {
    let wd = Workdir::new();
    let run = wd
        .run(&["map", "--json", "--system", "icd9-proc", "36.06", "0001"])
        .expect_exit(0);
    let r = run.json_lines();
    assert_eq!(r[0]["code"], "3606");
    assert!(
        r[0]["title"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("stent")
    );
    // Stent insertion is coded in ICD-10-PCS with the dilation it goes with: no map of its own.
    assert_eq!(r[0]["status"], "no_map");
    assert_eq!(alternatives(&r[1]), ["6A750Z4", "6A751Z4"]);
    let first = &r[1]["alternatives"][0]["codes"][0];
    assert_eq!(first["dotted"], "6A750Z4", "PCS codes never have a dot");
    assert_eq!(first["validity"], "billable");
}

#[test]
fn icd10_pcs_to_icd9_is_built_in() {
    let wd = Workdir::new();
    let run = wd
        .run(&[
            "map",
            "--json",
            "--system",
            "icd10-pcs",
            "0016070",
            "02YA0Z0",
        ])
        .expect_exit(0);
    let lines = run.json_lines();
    assert_eq!(lines[0]["status"], "approximate");
    assert_eq!(alternatives(&lines[0]), ["0231"]);
    // A cluster, in choice-list order though the file lists 00.93 first.
    assert_eq!(lines[1]["status"], "combination");
    assert_eq!(alternatives(&lines[1]), ["3751+0093"]);
    assert_eq!(
        lines[1]["crosswalk"],
        "CMS GEM FY2018 (built-in crosswalk/gems/gem_pcsi9.txt)"
    );
}

#[test]
fn user_tables_load_and_bad_ones_name_file_and_line() {
    let wd = Workdir::new();
    wd.write("mine.csv", "source,target,flags\n273.1,D47.9,10000\n");
    let run = wd
        .run(&["map", "--json", "--gem", "icd9-dx=mine.csv", "273.1"])
        .expect_exit(0);
    let r = &run.json_lines()[0];
    assert_eq!(alternatives(r), ["D479"]);
    assert!(r["crosswalk"].as_str().unwrap().contains("mine.csv"));

    wd.write(
        "bad.csv",
        "source,target,flags\n273.1,D47.9,10000\n288.09,D70.8,0000\n",
    );
    let run = wd
        .run(&["map", "--gem", "icd9-dx=bad.csv", "273.1"])
        .expect_exit(1);
    assert!(
        run.stderr.contains("bad.csv:3: flags \"0000\""),
        "{}",
        run.describe()
    );

    wd.write("gems/2018_I9gem.txt", "2731  D472    10000\r\n2880 D70\r\n");
    let run = wd.run(&["map", "--gems", "gems", "273.1"]).expect_exit(1);
    assert!(
        run.stderr
            .contains("2018_I9gem.txt:2: expected three fields"),
        "{}",
        run.describe()
    );

    let run = wd
        .run(&["map", "--gems", "nowhere", "273.1"])
        .expect_exit(1);
    assert!(run.stderr.contains("nowhere"), "{}", run.describe());

    wd.write("empty/readme.txt", "nothing here");
    let run = wd.run(&["map", "--gems", "empty", "273.1"]).expect_exit(1);
    assert!(
        run.stderr.contains("no GEM file found"),
        "{}",
        run.describe()
    );

    let run = wd
        .run(&["map", "--gem", "icd9-dx=absent.txt", "273.1"])
        .expect_exit(1);
    assert!(run.stderr.contains("absent.txt"), "{}", run.describe());

    // Nine choice lists of eight codes would be 134 million clusters: refused at once, naming
    // the scenario's first line. Ten thousand (the limit) still load.
    let lists = |count: u32, size: u32| -> String {
        let mut text = String::from("source,target,flags\n273.1,D47.2,10000\n");
        for list in 1..=count {
            for i in 0..size {
                text += &format!("073.0,A{list}{i},1011{list}\n");
            }
        }
        text
    };
    wd.write("bomb.csv", lists(9, 8));
    let run = wd
        .run(&["map", "--gem", "icd9-dx=bomb.csv", "073.0"])
        .expect_exit(1);
    assert!(
        run.stderr.contains(
            "bomb.csv:3: scenario 1 of 073.0 has choice lists of 8 × 8 × 8 × 8 × 8 × 8 × 8 × 8 × \
             8 codes: 134217728 clusters, more than the 10000"
        ),
        "{}",
        run.describe()
    );
    wd.write("big.csv", lists(4, 10));
    let run = wd
        .run(&["map", "--json", "--gem", "icd9-dx=big.csv", "073.0"])
        .expect_exit(0);
    let r = &run.json_lines()[0];
    assert_eq!(r["alternatives"].as_array().unwrap().len(), 10_000);
    assert_eq!(alternatives(r)[9_999], "A19+A29+A39+A49");
}

/// A code of the other ICD-9 system is named, with the option that reads it so; never used.
#[test]
fn codes_of_the_other_icd9_system_are_pointed_out() {
    let wd = Workdir::new();
    let run = wd
        .run(&["map", "--json", "--system", "icd9-proc", "4280", "V5866"])
        .expect_exit(3);
    let lines = run.json_lines();
    assert_eq!(lines[0]["status"], "not_in_crosswalk");
    assert_eq!(
        lines[0]["reason"],
        "not a source code of the CMS GEM FY2018 table; it reads as the ICD-9-CM diagnosis code \
         428.0 (Congestive heart failure, unspecified) (--system icd9-dx)"
    );
    assert_eq!(lines[1]["status"], "malformed");
    assert!(
        lines[1]["reason"].as_str().unwrap().ends_with(
            "ICD-9-CM diagnosis code V58.66 (Long-term (current) use of aspirin) (--system icd9-dx)"
        ),
        "{}",
        run.describe()
    );
    let run = wd.run(&["map", "99.04"]).expect_exit(3);
    assert!(
        run.stdout
            .contains("procedure code 99.04 (Transfusion of packed cells) (--system icd9-proc)"),
        "{}",
        run.describe()
    );
    // A code that is simply unknown gets no such hint.
    let run = wd
        .run(&["map", "--json", "--system", "icd9-proc", "0000"])
        .expect_exit(3);
    assert_eq!(
        run.json_lines()[0]["reason"],
        "not a source code of the CMS GEM FY2018 table"
    );
}

#[test]
fn usage_errors_exit_2() {
    let wd = Workdir::new();
    wd.run(&["map", "--system", "icd11", "273.1"])
        .expect_exit(2);
    wd.run(&["map", "--bogus"]).expect_exit(2);
    let help = wd.run(&["map", "--help"]).expect_exit(0);
    assert!(help.stdout.contains("Examples:") && help.stdout.contains("Exit status"));
}

#[test]
fn broken_pipe_exits_quietly() {
    let codes = "249.51\n".repeat(20_000);
    Workdir::new().expect_quiet_broken_pipe(&["map", "--json", "-"], codes.into_bytes());
}

/// `map -` reads stdin a line at a time and keeps at most 1 KiB of a line: a million codes and a
/// 128 MiB line run under a 160 MiB address-space limit.
#[cfg(unix)]
#[test]
fn stdin_is_streamed_in_bounded_memory() {
    let wd = Workdir::new();
    let mut text = "273.1\n".repeat(1_000_000);
    text.push_str(&"9".repeat(128 << 20));
    text.push_str("\n288.09\n");
    wd.write("codes.txt", &text);
    drop(text);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 163840 && {} map --json - < codes.txt | tail -n 2",
            env!("CARGO_BIN_EXE_crosswalk")
        ))
        .current_dir(wd.path("."))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}\n{stderr}");
    let long: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(long["status"], "malformed");
    assert_eq!(long["input"].as_str().unwrap().len(), 1024);
    let last: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(last["code"], "28809");
    assert!(
        stderr.contains("1 of 1000002 codes could not be looked up"),
        "{stderr}"
    );
}

/// `map` reports what `convert` reports: 288.1's only translation, D71, is a header in FY2026.
#[test]
fn map_and_convert_report_the_same_status() {
    let wd = Workdir::new();
    let run = wd.run(&["map", "288.1"]).expect_exit(0);
    assert!(
        run.stdout
            .contains("  not_billable: one code with the same meaning"),
        "{}",
        run.stdout
    );
    let run = wd.run(&["map", "--json", "288.1", "273.1"]).expect_exit(0);
    let records = run.json_lines();
    assert_eq!(records[0]["status"], "not_billable");
    assert_eq!(records[0]["gem_status"], "exact");
    assert_eq!(records[1]["status"], "approximate");
    wd.write("c.csv", "DX1\n2881\n2731\n");
    let run = wd.run(&["convert", "c.csv", "-q"]).expect_exit(0);
    assert_eq!(
        run.stdout,
        "DX1,crosswalk_flags\nD71,DX1:not_billable:2881\nD472,\n"
    );
}
