//! The baseline of the performance targets: read and rewrite every record of a CSV file with the
//! same csv crate settings `crosswalk convert` uses, and nothing else.
//!
//! ```sh
//! cargo run --release --example passthrough -- claims_2m.csv > /dev/null
//! ```

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: passthrough FILE")?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_path(path)?;
    let stdout = std::io::stdout();
    let mut writer = csv::WriterBuilder::new()
        .buffer_capacity(1 << 16)
        .from_writer(stdout.lock());
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record)? {
        writer.write_byte_record(&record)?;
    }
    writer.flush()?;
    std::io::stdout().flush()?;
    Ok(())
}
