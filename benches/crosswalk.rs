//! Criterion benchmarks: loading the built-in crosswalk, parsing codes, looking codes up.
//!
//! Run with `cargo bench --bench crosswalk`. These are measurements, never pass/fail tests.

use std::hint::black_box;

#[path = "support/generator.rs"]
mod generator;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crosswalk::convert::{Config, Converter, Options, Outputs};
use crosswalk::decisions::Decisions;
use crosswalk::{Code, Crosswalk, System};

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group.sample_size(20);
    // What `crosswalk map 273.1` does: the forward table and the two code sets it shows.
    group.bench_function("builtin_for_one_icd9_lookup", |b| {
        b.iter(|| {
            let cw = Crosswalk::builtin();
            let found = cw.lookup(System::Icd9Dx, b"273.1").unwrap();
            let target = found.mapping.alternatives[0].codes[0].code;
            black_box(cw.title(System::Icd9Dx, found.code.as_ref().unwrap()));
            black_box(cw.title(System::Icd10Cm, &target));
        })
    });
    group.bench_function("builtin_everything", |b| {
        b.iter(|| {
            let cw = Crosswalk::builtin();
            cw.load_all().unwrap();
            black_box(cw)
        })
    });
    group.finish();
}

fn sample_codes(cw: &Crosswalk) -> Vec<Vec<u8>> {
    let gem = cw.gem(System::Icd9Dx).unwrap();
    gem.sources()
        .enumerate()
        .map(|(i, (code, _))| match i % 3 {
            0 => code.as_bytes().to_vec(),
            1 => code.dotted(System::Icd9Dx).into_bytes(),
            _ => format!(" {} ", code.as_str().to_ascii_lowercase()).into_bytes(),
        })
        .collect()
}

fn parse_and_lookup(c: &mut Criterion) {
    let cw = Crosswalk::builtin();
    let codes = sample_codes(&cw);
    let gem = cw.gem(System::Icd9Dx).unwrap();
    let mut group = c.benchmark_group("per_code");
    group.throughput(Throughput::Elements(codes.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| {
            for raw in &codes {
                black_box(Code::parse(System::Icd9Dx, raw).ok());
            }
        })
    });
    let parsed: Vec<Code> = codes
        .iter()
        .map(|raw| Code::parse(System::Icd9Dx, raw).unwrap())
        .collect();
    group.bench_function("rows", |b| {
        b.iter(|| {
            for code in &parsed {
                black_box(gem.rows(code));
            }
        })
    });
    group.bench_function("reading_rule", |b| {
        b.iter(|| {
            for code in &parsed {
                black_box(gem.mapping(code));
            }
        })
    });
    group.finish();
}

fn writer() -> csv::Writer<std::io::Sink> {
    csv::WriterBuilder::new()
        .buffer_capacity(1 << 16)
        .from_writer(std::io::sink())
}

fn reader_with(data: &[u8], delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(data)
}

/// Converting 100,000 generated rows (DE-SynPUF inpatient, and RIF with version columns and
/// ICD-10 claims), each next to a plain read-and-rewrite of the same rows with the same csv
/// settings. The ratio of the two is the figure to watch.
fn convert_vs_passthrough(c: &mut Criterion) {
    let crosswalk = Crosswalk::builtin();
    crosswalk.load_all().unwrap();
    for (name, layout, delimiter) in [
        ("desynpuf_100k", generator::Layout::DeSynPuf, b','),
        ("rif_100k", generator::Layout::Rif, b'|'),
    ] {
        let mut data = Vec::new();
        generator::write_claims(&mut data, layout, 100_000, 1).unwrap();
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function("passthrough", |b| {
            b.iter(|| {
                let (mut r, mut w) = (reader_with(&data, delimiter), writer());
                let mut record = csv::ByteRecord::new();
                while r.read_byte_record(&mut record).unwrap() {
                    w.write_byte_record(&record).unwrap();
                }
                w.flush().unwrap();
            })
        });
        // The converter the binary runs: on one thread like the passthrough, on two converting
        // threads, and on one with the audit.
        let decisions = Decisions::new();
        for (label, threads, audit) in [
            ("convert", 1, false),
            ("convert_j2", 2, false),
            ("convert_audit", 1, true),
        ] {
            let config = Config {
                options: Options {
                    flags_column: true,
                    ..Options::default()
                },
                flags_column_name: "crosswalk_flags".into(),
                flexible: true,
                threads,
                ..Config::default()
            };
            let converter = Converter::new(&crosswalk, &decisions, config);
            group.bench_function(label, |b| {
                b.iter(|| {
                    let opened = converter.open(&data[..], "bench").unwrap();
                    let outputs = Outputs {
                        rows: Vec::with_capacity(data.len() + data.len() / 4),
                        audit: audit.then(|| Vec::with_capacity(data.len())),
                        review: false,
                        workbook: None,
                    };
                    let finished = opened.run(outputs, |_| {}).unwrap();
                    black_box(finished.summary.rows_in);
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, load, parse_and_lookup, convert_vs_passthrough);
criterion_main!(benches);
