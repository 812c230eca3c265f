//! `convert --report` and `crosswalk report`: the review page, through the binary.

use std::path::Path;

use crate::workdir::{Run, Workdir, with_desynpuf_sample};

fn example(wd: &Workdir) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/claims.csv");
    wd.write("claims.csv", std::fs::read(example).unwrap());
}

fn read(wd: &Workdir, name: &str) -> String {
    std::fs::read_to_string(wd.path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Convert the example with an audit (`review.csv`), a summary (`run.json`) and the page `page`.
fn convert_example(wd: &Workdir, page: &str) -> Run {
    example(wd);
    wd.run(&[
        "convert",
        "claims.csv",
        "-o",
        "out.csv",
        "--audit",
        "review.csv",
        "--summary",
        "run.json",
        "--report",
        page,
    ])
    .expect_exit(0)
}

/// The part of a page listing the codes.
fn codes_section(html: &str) -> &str {
    let start = html
        .find("<section id=\"codes\">")
        .expect("a codes section");
    let end = start + html[start..].find("</section>").expect("its end");
    &html[start..end]
}

fn figure<'h>(html: &'h str, id: &str) -> &'h str {
    let open = format!("<dd id=\"{id}\">");
    let start = html.find(&open).unwrap_or_else(|| panic!("no figure {id}")) + open.len();
    let end = start + html[start..].find('<').unwrap();
    &html[start..end]
}

#[test]
fn convert_writes_a_page_that_matches_the_audit_and_the_summary() {
    let wd = Workdir::new();
    let run = convert_example(&wd, "review.html");
    let html = read(&wd, "review.html");
    let summary: serde_json::Value = serde_json::from_str(&read(&wd, "run.json")).unwrap();
    assert_eq!(figure(&html, "rows"), "8", "{}", run.describe());
    assert_eq!(figure(&html, "codes"), summary["codes"].to_string());
    assert_eq!(
        figure(&html, "review-codes"),
        summary["review_codes"].to_string()
    );
    assert_eq!(figure(&html, "claims"), summary["review_rows"].to_string());
    // One group per distinct source code of the audit, the most claims first.
    let audit = crate::convert::read_audit(&wd.path("review.csv"));
    let at = |name: &str| crate::convert::col(&audit[0], name);
    let mut codes: Vec<(String, String)> = audit[1..]
        .iter()
        .map(|r| match r[at("code")].as_str() {
            "" => (r[at("system")].clone(), r[at("original")].clone()),
            code => (r[at("system")].clone(), code.to_string()),
        })
        .collect();
    codes.sort();
    codes.dedup();
    assert_eq!(figure(&html, "groups"), codes.len().to_string());
    assert_eq!(html.matches("<article").count(), codes.len());
    let first = html.find("<span class=\"code\">").unwrap();
    assert!(
        ["401.9", "428.0", "073.0", "779.6", "996.81"]
            .iter()
            .any(|c| html[first..].starts_with(&format!("<span class=\"code\">{c}<"))),
        "a code in two claims comes first"
    );
    // The audit file the reviewer fills in is named, with the command to apply it.
    assert!(html.contains("--decisions decisions.csv"));
    assert!(html.contains("<code>review.csv</code>"));
    // An overflow shows its leftover code; an ambiguous code every alternative with validity.
    assert!(html.contains("Left over (in the flags column): <code>J17</code>"));
    assert!(html.contains("Kidney transplant failure"));
}

#[test]
fn report_of_an_audit_file_lists_the_same_codes_as_convert() {
    let wd = Workdir::new();
    convert_example(&wd, "from-convert.html");
    let run = wd
        .run(&[
            "report",
            "review.csv",
            "--summary",
            "run.json",
            "-o",
            "from-audit.html",
        ])
        .expect_exit(0);
    assert!(
        run.stderr
            .contains("22 codes to review in 7 claims, 16 source codes"),
        "{}",
        run.describe()
    );
    let (a, b) = (read(&wd, "from-convert.html"), read(&wd, "from-audit.html"));
    assert_eq!(codes_section(&a), codes_section(&b));
    assert_eq!(figure(&a, "codes"), figure(&b, "codes"));

    // From stdin, the same codes.
    let audit = std::fs::read(wd.path("review.csv")).unwrap();
    let piped = wd
        .run_with_stdin(&["report", "-"], Some(&audit))
        .expect_exit(0);
    assert_eq!(codes_section(&piped.stdout), codes_section(&a));

    // Without the summary, the page has the audit's own totals and says what its chart counts.
    let page = wd.run(&["report", "review.csv"]).expect_exit(0).stdout;
    assert_eq!(codes_section(&page), codes_section(&a));
    assert!(!page.contains("<dd id=\"codes\">"));
    assert!(page.contains("Codes in the audit by status"));
}

#[test]
fn claim_data_is_escaped_on_the_page() {
    let wd = Workdir::new();
    wd.write(
        "claims.csv",
        "CLM_ID,ICD9_DGNS_CD_1\n\
         \"<script>alert(1)</script>\",<img src=x onerror=alert(2)>\n\
         \"\"\"><b>bold</b>\",99681\n",
    );
    wd.run(&[
        "convert",
        "claims.csv",
        "-o",
        "out.csv",
        "--report",
        "r.html",
    ])
    .expect_exit(0);
    let html = read(&wd, "r.html");
    assert_eq!(
        html.matches("<script").count(),
        1,
        "the page's own script only"
    );
    assert!(!html.contains("<img"));
    assert!(!html.contains("<b>"));
    assert!(html.contains("CLM_ID <code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(html.contains("&quot;&gt;&lt;b&gt;bold&lt;/b&gt;"));
}

#[test]
fn a_run_with_nothing_to_review_says_so() {
    let wd = Workdir::new();
    wd.write("claims.csv", "CLM_ID,ICD9_DGNS_CD_1\n1,2731\n");
    wd.run(&["convert", "claims.csv", "-o", "o.csv", "--report", "r.html"])
        .expect_exit(0);
    let html = read(&wd, "r.html");
    assert!(html.contains("No code needs review."));
    assert_eq!(figure(&html, "review-codes"), "0");
    assert_eq!(figure(&html, "rows"), "1");
}

#[test]
fn max_codes_caps_the_list_and_says_how_many_are_hidden() {
    let wd = Workdir::new();
    example(&wd);
    wd.run(&["convert", "claims.csv", "-o", "o.csv", "--audit", "a.csv"])
        .expect_exit(0);
    let page = wd
        .run(&["report", "a.csv", "--max-codes", "3"])
        .expect_exit(0)
        .stdout;
    assert_eq!(page.matches("<article").count(), 3);
    assert!(
        page.contains("13 more source codes affecting fewer claims (15 occurrences) are not shown"),
        "{page}"
    );
}

#[test]
fn bad_audit_files_are_errors_naming_file_and_line_with_no_page_left() {
    let wd = Workdir::new();
    wd.write(
        "decisions.csv",
        "system,code,decision\nicd9-dx,2724,E78.5\n",
    );
    let run = wd
        .run(&["report", "decisions.csv", "-o", "r.html"])
        .expect_exit(1);
    assert!(
        run.stderr
            .contains("decisions.csv:1: no `line` column: not an audit file"),
        "{}",
        run.describe()
    );
    // LF, and CR alone as some spreadsheets save: line 3 either way.
    for end in ["\n", "\r"] {
        let rows = [
            "row,line,column,system,original,status",
            "1,2,DX1,icd9-dx,2724,ambiguous",
            "2,3,DX1,icd9-dx,2724,fine",
            "",
        ];
        wd.write("bad.csv", rows.join(end));
        let run = wd
            .run(&["report", "bad.csv", "-o", "r.html"])
            .expect_exit(1);
        assert!(
            run.stderr.contains("bad.csv:3: unknown status \"fine\""),
            "{}",
            run.describe()
        );
    }
    wd.write("a.csv", "row,line,column,system,original,status\n");
    let run = wd.run(&["report", "a.csv", "-o", "a.csv"]).expect_exit(2);
    assert!(
        run.stderr.contains("--output a.csv is the audit file"),
        "{}",
        run.describe()
    );
    let run = wd
        .run(&["report", "a.csv", "--summary", "a.csv", "-o", "r.html"])
        .expect_exit(1);
    assert!(
        run.stderr.contains("not a run summary"),
        "{}",
        run.describe()
    );
    let mut left: Vec<String> = std::fs::read_dir(wd.path("."))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["a.csv", "bad.csv", "decisions.csv"]);

    // convert refuses a page over its input.
    wd.write("claims.csv", "CLM_ID,ICD9_DGNS_CD_1\n1,2731\n");
    let run = wd
        .run(&["convert", "claims.csv", "--report", "claims.csv"])
        .expect_exit(2);
    assert!(run.stderr.contains("--report"), "{}", run.describe());
}

#[test]
fn decided_codes_leave_the_page_and_outside_decisions_are_shown_apart() {
    let wd = Workdir::new();
    example(&wd);
    // 996.81 decided everywhere as one of its alternatives, 272.4 with a code outside the GEM.
    wd.write(
        "decisions.csv",
        "system,code,decision\nicd9-dx,996.81,T86.11\nicd9-dx,272.4,E78.2\n",
    );
    wd.run(&[
        "convert",
        "claims.csv",
        "-o",
        "o.csv",
        "--decisions",
        "decisions.csv",
        "--report",
        "r.html",
    ])
    .expect_exit(0);
    let html = read(&wd, "r.html");
    assert!(!html.contains("<span class=\"code\">996.81</span>"));
    assert!(html.contains("<article class=\"group settled\""));
    assert!(html.contains("decided_outside_gem 1"));
    assert_eq!(figure(&html, "outside"), "1");
    assert_eq!(figure(&html, "review-codes"), "19");
}

#[test]
fn report_of_a_real_sample() {
    let Some(wd) = with_desynpuf_sample() else {
        return;
    };
    wd.run(&[
        "convert",
        "sample.csv",
        "-o",
        "o.csv",
        "--summary",
        "run.json",
        "--report",
        "r.html",
    ])
    .expect_exit(0);
    let html = read(&wd, "r.html");
    let summary: serde_json::Value = serde_json::from_str(&read(&wd, "run.json")).unwrap();
    assert_eq!(
        figure(&html, "review-codes"),
        summary["review_codes"].to_string()
    );
    assert_eq!(figure(&html, "claims"), summary["review_rows"].to_string());
    // The most frequent review item of the summary leads the page.
    let top = summary["top_review"][0]["code"].as_str().unwrap();
    let first = html.find("<span class=\"code\">").unwrap();
    assert!(
        html[first..].starts_with(&format!("<span class=\"code\">{top}<")),
        "{top} first"
    );
}
