//! Criterion benchmarks: loading the built-in crosswalk, parsing codes, looking codes up.
//!
//! Run with `cargo bench --bench crosswalk`. These are measurements, never pass/fail tests.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
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
    group.throughput(criterion::Throughput::Elements(codes.len() as u64));
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

criterion_group!(benches, load, parse_and_lookup);
criterion_main!(benches);
