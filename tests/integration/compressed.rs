//! Compressed claim files, through the binary: gzip and zstd inputs are known by their first
//! bytes (whatever their name, on standard input too) and read as the plain file; outputs named
//! `.gz` or `.zst` are written compressed and decompress to the bytes of the plain ones; damaged
//! data is an error naming the file, with no output left.

use std::io::{Read, Write};
use std::path::Path;

use crate::workdir::Workdir;

/// The bundled example's rows, repeated until the file holds several chunks of the reader.
fn claims() -> Vec<u8> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/claims.csv"))
            .unwrap();
    let (header, rows) = text.split_once('\n').unwrap();
    let mut out = format!("{header}\n");
    while out.len() < 600 << 10 {
        out.push_str(rows);
    }
    out.into_bytes()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).unwrap()
}

fn unzstd(bytes: &[u8]) -> Vec<u8> {
    zstd::decode_all(bytes).unwrap()
}

/// The audit of input `name`, as if it had been read as `as_name`: its `data` cells name the
/// input.
fn renamed(audit: &[u8], name: &str, as_name: &str) -> Vec<u8> {
    String::from_utf8(audit.to_vec())
        .unwrap()
        .replace(&format!("input {name};"), &format!("input {as_name};"))
        .into_bytes()
}

#[test]
fn compressed_inputs_convert_as_the_plain_file() {
    let wd = Workdir::new();
    let plain = claims();
    wd.write("claims.csv", &plain);
    // Two gzip members (as pigz and bgzip write) cut inside a record.
    let cut = plain.len() / 3 + 7;
    let mut members = gzip(&plain[..cut]);
    members.extend(gzip(&plain[cut..]));
    let inputs = [
        ("claims.csv.gz", gzip(&plain)),
        ("members.gz", members),
        ("claims.csv.zst", zstd(&plain)),
        // The name says nothing: the first bytes do.
        ("claims-gzip.csv", gzip(&plain)),
        ("claims-zstd", zstd(&plain)),
    ];
    for j in ["1", "2"] {
        let args = ["-q", "-j", j, "-o", "out.csv", "--audit", "audit.csv"];
        wd.run(&[&["convert", "claims.csv"][..], &args].concat())
            .expect_exit(0);
        let (want_out, want_audit) = (
            std::fs::read(wd.path("out.csv")).unwrap(),
            std::fs::read(wd.path("audit.csv")).unwrap(),
        );
        assert!(want_audit.len() > 1000, "the example has codes to review");
        for (name, bytes) in &inputs {
            wd.write(name, bytes);
            wd.run(&[&["convert", name][..], &args].concat())
                .expect_exit(0);
            assert!(
                std::fs::read(wd.path("out.csv")).unwrap() == want_out,
                "{name} -j {j}: another output"
            );
            let audit = std::fs::read(wd.path("audit.csv")).unwrap();
            assert!(
                renamed(&audit, name, "claims.csv") == want_audit,
                "{name} -j {j}: another audit"
            );
        }
        // On standard input.
        for (name, bytes) in &inputs[..3] {
            wd.run_with_stdin(
                &["convert", "-", "-q", "-j", j, "-o", "out.csv"],
                Some(bytes),
            )
            .expect_exit(0);
            assert!(
                std::fs::read(wd.path("out.csv")).unwrap() == want_out,
                "{name} on stdin -j {j}: another output"
            );
        }
    }
}

#[test]
fn outputs_named_gz_or_zst_are_written_compressed() {
    let wd = Workdir::new();
    wd.write("claims.csv", claims());
    let run = |args: &[&str]| {
        wd.run(&[&["convert", "claims.csv", "-q"][..], args].concat())
            .expect_exit(0)
    };
    run(&[
        "-o",
        "out.csv",
        "--audit",
        "audit.csv",
        "--summary",
        "s.json",
    ]);
    let want = |name: &str| std::fs::read(wd.path(name)).unwrap();
    let (out, audit) = (want("out.csv"), want("audit.csv"));
    run(&[
        "-o",
        "out.csv.gz",
        "--audit",
        "audit.csv.zst",
        "--summary",
        "s.json.gz",
    ]);
    let got = |name: &str| std::fs::read(wd.path(name)).unwrap();
    assert_eq!(&got("out.csv.gz")[..2], [0x1f, 0x8b], "gzip");
    assert_eq!(&got("audit.csv.zst")[..4], [0x28, 0xb5, 0x2f, 0xfd], "zstd");
    assert!(gunzip(&got("out.csv.gz")) == out, "the same output");
    assert!(unzstd(&got("audit.csv.zst")) == audit, "the same audit");
    let summary: serde_json::Value = serde_json::from_slice(&gunzip(&got("s.json.gz"))).unwrap();
    assert!(summary["rows_in"].as_u64().unwrap() > 1000, "{summary}");
    // With the other compressions the other way round.
    run(&["-o", "out.csv.zst", "--audit", "audit.csv.gz"]);
    assert!(unzstd(&got("out.csv.zst")) == out);
    assert!(gunzip(&got("audit.csv.gz")) == audit);

    // A compressed audit reads back: as a page, and as decisions.
    wd.run(&["report", "audit.csv.zst", "-o", "zst.html"])
        .expect_exit(0);
    wd.run(&["report", "audit.csv", "-o", "plain.html"])
        .expect_exit(0);
    // The same page, but for the audit's name (and the page's id, made of it).
    let page = |name: &str| {
        let mut text = wd
            .read(name)
            .replace("audit.csv.zst", "AUDIT")
            .replace("audit.csv", "AUDIT");
        let at = text.find("data-page=\"").unwrap() + 11;
        text.replace_range(at..at + 16, "");
        text
    };
    assert!(page("zst.html") == page("plain.html"), "the same page");
    let mut filled = String::from_utf8(audit.clone()).unwrap();
    let first_code_row = filled.find("\ncode,").unwrap() + 1;
    let end = first_code_row + filled[first_code_row..].find('\n').unwrap();
    // The decision (the last cells are `decision,scope`) for the first code row: keep it.
    filled.replace_range(end - 1..end - 1, "keep");
    wd.write("decided.csv.gz", gzip(filled.as_bytes()));
    let decided = wd
        .run(&[
            "convert",
            "claims.csv",
            "-q",
            "--decisions",
            "decided.csv.gz",
        ])
        .expect_exit(0);
    assert!(
        decided.stdout.contains(":decided:"),
        "a decision was read from the compressed file"
    );
}

#[test]
fn damaged_compressed_input_is_an_error_naming_the_file() {
    let wd = Workdir::new();
    let plain = claims();
    let gz = gzip(&plain);
    let zst = zstd(&plain);
    let mut flipped = gz.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0xff;
    let cases = [
        ("cut.csv.gz", gz[..gz.len() / 2].to_vec(), "gzip"),
        ("flipped.csv.gz", flipped, "gzip"),
        ("cut.csv.zst", zst[..zst.len() / 2].to_vec(), "zstd"),
    ];
    for (name, bytes, format) in cases {
        wd.write(name, bytes);
        let run = wd
            .run(&["convert", name, "-o", "out.csv", "--audit", "audit.csv"])
            .expect_exit(1);
        assert!(
            run.stderr
                .contains(&format!("{name}: the {format} data is damaged or cut off")),
            "{}",
            run.describe()
        );
        assert!(!wd.path("out.csv").exists(), "{name}: no output");
        assert!(!wd.path("audit.csv").exists(), "{name}: no audit");
    }
}

#[test]
fn other_compressions_are_named_and_zstd_skippable_frames_read() {
    let wd = Workdir::new();
    let plain = claims();
    wd.write("claims.csv", &plain);
    wd.run(&[
        "convert",
        "claims.csv",
        "-q",
        "-o",
        "want.csv",
        "--summary",
        "s.json.zst",
    ])
    .expect_exit(0);
    // A skippable frame first, as pzstd writes.
    let mut skippable = vec![0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4];
    skippable.extend(zstd(&plain));
    wd.write("pzstd.zst", skippable);
    wd.run(&["convert", "pzstd.zst", "-q", "-o", "got.csv"])
        .expect_exit(0);
    assert!(
        std::fs::read(wd.path("got.csv")).unwrap() == std::fs::read(wd.path("want.csv")).unwrap()
    );
    for (name, start, says) in [
        (
            "x.csv.xz",
            &b"\xfd7zXZ\x00\x00\x04garbage"[..],
            "xz-compressed",
        ),
        ("x.csv.bz2", &b"BZh91AY&SYgarbage"[..], "bzip2-compressed"),
    ] {
        wd.write(name, start);
        let run = wd.run(&["convert", name, "-o", "out.csv"]).expect_exit(1);
        assert!(run.stderr.contains(says), "{}", run.describe());
        assert!(
            !run.stderr.contains("garbage"),
            "no bytes of it shown: {}",
            run.describe()
        );
        assert!(!wd.path("out.csv").exists());
    }
    // A compressed summary reads back for the page's totals.
    wd.run(&[
        "convert",
        "claims.csv",
        "-q",
        "-o",
        "o.csv",
        "--audit",
        "a.csv",
    ])
    .expect_exit(0);
    wd.run(&["report", "a.csv", "--summary", "s.json.zst", "-o", "r.html"])
        .expect_exit(0);
}

#[test]
fn a_compressed_workbook_name_is_a_usage_error() {
    let wd = Workdir::new();
    wd.write("claims.csv", claims());
    let run = wd
        .run(&[
            "convert",
            "claims.csv",
            "-o",
            "out.csv",
            "--audit",
            "review.xlsx.gz",
        ])
        .expect_exit(2);
    assert!(
        run.stderr
            .contains("a review workbook is compressed already"),
        "{}",
        run.describe()
    );
    assert!(!wd.path("out.csv").exists() && !wd.path("review.xlsx.gz").exists());
}

/// A named pipe (`<(zcat …)`, a FIFO) is read once: nothing is taken from it to look for a
/// Parquet file, and its gzip data is still known by its first bytes.
#[cfg(unix)]
#[test]
fn a_named_pipe_is_read_whole() {
    let wd = Workdir::new();
    let plain = claims();
    wd.write("claims.csv", &plain);
    wd.run(&["convert", "claims.csv", "-q", "-o", "want.csv"])
        .expect_exit(0);
    for (name, bytes) in [("plain.fifo", plain.clone()), ("gzip.fifo", gzip(&plain))] {
        let fifo = wd.path(name);
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let writer = std::thread::spawn(move || {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&fifo)
                .unwrap()
                .write_all(&bytes)
                .unwrap();
        });
        wd.run(&["convert", name, "-q", "-o", "got.csv"])
            .expect_exit(0);
        writer.join().unwrap();
        assert!(
            std::fs::read(wd.path("got.csv")).unwrap()
                == std::fs::read(wd.path("want.csv")).unwrap(),
            "{name}: another output"
        );
    }
}
