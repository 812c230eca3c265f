//! Write a seeded synthetic claim file for benchmarks.
//!
//! ```sh
//! cargo run --release --example gen_claims -- 2000000 > claims_2m.csv          # DE-SynPUF inpatient
//! cargo run --release --example gen_claims -- 100000 --rif --seed 7 > rif.txt  # RIF with ICD-10 claims
//! ```

#[path = "../benches/support/generator.rs"]
mod generator;

use std::io::Write;

fn main() -> std::io::Result<()> {
    let mut rows = 100_000u64;
    let mut seed = 1u64;
    let mut layout = generator::Layout::DeSynPuf;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rif" => layout = generator::Layout::Rif,
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).expect("--seed N"),
            n => {
                rows = n
                    .parse()
                    .expect("usage: gen_claims ROWS [--rif] [--seed N]")
            }
        }
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    generator::write_claims(&mut out, layout, rows, seed)?;
    out.flush()
}
