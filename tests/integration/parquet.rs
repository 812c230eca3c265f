//! Parquet in and out, through the binary (tests/parquet/check.sh does the same with pyarrow on
//! every real sample): a Parquet claim file converts as its CSV does, into Parquet or CSV; other
//! columns keep their types; a code column stored as a number, and rows of another width, are
//! errors naming them, with no output left.

use std::fs::File;
use std::sync::Arc;

use arrow_array::RecordBatchReader;
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::convert::read_file;
use crate::workdir::Workdir;

/// The example's rows as a table: every column text but CLM_PMT_AMT (a number, when `typed`)
/// and SEGMENT (an integer, when `typed`).
fn write_parquet(path: &std::path::Path, rows: &[Vec<String>], typed: bool) {
    let header = &rows[0];
    let columns: Vec<(String, ArrayRef)> = header
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let values = rows[1..].iter().map(|r| r[i].as_str());
            let array: ArrayRef = match name.as_str() {
                "CLM_PMT_AMT" if typed => Arc::new(Float64Array::from_iter_values(
                    values.map(|v| v.parse::<f64>().unwrap()),
                )),
                "SEGMENT" if typed => Arc::new(Int64Array::from_iter_values(
                    values.map(|v| v.parse::<i64>().unwrap()),
                )),
                "ICD9_DGNS_CD_1" if !typed => {
                    Arc::new(Int64Array::from_iter(values.map(|v| v.parse::<i64>().ok())))
                }
                _ => Arc::new(StringArray::from_iter_values(values)),
            };
            (name.clone(), array)
        })
        .collect();
    write_batch(path, &RecordBatch::try_from_iter(columns).unwrap());
}

/// Write `batch` as the Parquet file `path`.
fn write_batch(path: &std::path::Path, batch: &RecordBatch) {
    let mut writer =
        ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

/// Two claims with a code column DX1 and `column` named LOADED_AT.
fn two_claims_with(column: ArrayRef) -> RecordBatch {
    RecordBatch::try_from_iter([
        (
            "CLM_ID",
            Arc::new(StringArray::from(vec!["1", "2"])) as ArrayRef,
        ),
        (
            "DX1",
            Arc::new(StringArray::from(vec!["2731", "4019"])) as ArrayRef,
        ),
        ("LOADED_AT", column),
    ])
    .unwrap()
}

/// The bundled example written into `wd` as claims.csv; returns its rows.
fn with_example(wd: &Workdir) -> Vec<Vec<String>> {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/claims.csv");
    wd.write("claims.csv", std::fs::read(example).unwrap());
    read_file(&wd.path("claims.csv"), b',')
}

/// The cells of a Parquet file as text (null as empty), header first, with the column types.
pub(crate) fn read_parquet(path: &std::path::Path) -> (Vec<Vec<String>>, Vec<String>) {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let schema = reader.schema();
    let mut rows = vec![schema.fields().iter().map(|f| f.name().clone()).collect()];
    let types = schema
        .fields()
        .iter()
        .map(|f| f.data_type().to_string())
        .collect();
    let options = arrow_cast::display::FormatOptions::default().with_null("");
    for batch in reader {
        let batch = batch.unwrap();
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| arrow_cast::display::ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    (rows, types)
}

#[test]
fn parquet_converts_as_its_csv_does() {
    let wd = Workdir::new();
    let rows = with_example(&wd);
    wd.run(&["convert", "claims.csv", "-q", "-o", "want.csv"])
        .expect_exit(0);
    let want = read_file(&wd.path("want.csv"), b',');
    // CSV in, Parquet out: every column text, the flags column last.
    wd.run(&["convert", "claims.csv", "-q", "-o", "out.parquet"])
        .expect_exit(0);
    let (got, types) = read_parquet(&wd.path("out.parquet"));
    assert_eq!(got, want);
    assert!(types.iter().all(|t| t == "Utf8"), "{types:?}");
    // Parquet in, CSV out, with two typed columns: the same bytes as a CSV of the same text.
    write_parquet(&wd.path("claims.parquet"), &rows, true);
    wd.run(&[
        "convert",
        "claims.parquet",
        "-q",
        "-o",
        "from-parquet.csv",
        "-j",
        "2",
    ])
    .expect_exit(0);
    let from_parquet = read_file(&wd.path("from-parquet.csv"), b',');
    let amount = rows[0].iter().position(|c| c == "CLM_PMT_AMT").unwrap();
    for (a, b) in from_parquet.iter().zip(&want).skip(1) {
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            if i == amount {
                // A number written as Arrow writes it (4000 for 4000.00).
                assert_eq!(x.parse::<f64>().unwrap(), y.parse::<f64>().unwrap());
            } else {
                assert_eq!(x, y);
            }
        }
    }
    // Parquet in and out: the types stay.
    wd.run(&["convert", "claims.parquet", "-q", "-o", "both.parquet"])
        .expect_exit(0);
    let (both, types) = read_parquet(&wd.path("both.parquet"));
    assert_eq!(both.len(), want.len());
    assert_eq!(types[amount], "Float64");
    assert_eq!(
        types[rows[0].iter().position(|c| c == "SEGMENT").unwrap()],
        "Int64"
    );
}

#[test]
fn numeric_codes_and_ragged_rows_are_refused_in_parquet() {
    let wd = Workdir::new();
    let rows = with_example(&wd);
    write_parquet(&wd.path("numbers.parquet"), &rows, false);
    let run = wd
        .run(&["convert", "numbers.parquet", "-o", "out.csv"])
        .expect_exit(1);
    assert!(
        run.stderr
            .contains("column ICD9_DGNS_CD_1 holds codes but is stored as Int64"),
        "{}",
        run.describe()
    );
    assert!(!wd.path("out.csv").exists());
    wd.write(
        "ragged.csv",
        "CLM_ID,DX1,DX2\n1,4019,2731\n2,4019,2731,extra\n",
    );
    let run = wd
        .run(&["convert", "ragged.csv", "--flexible", "-o", "out.parquet"])
        .expect_exit(1);
    assert!(
        run.stderr.contains("output row 2 has 5 fields"),
        "{}",
        run.describe()
    );
    assert!(!wd.path("out.parquet").exists());
    // Piped, a Parquet file cannot be read (its schema is at its end): said, not a header of
    // binary.
    write_parquet(&wd.path("claims.parquet"), &rows, true);
    let bytes = std::fs::read(wd.path("claims.parquet")).unwrap();
    let run = wd
        .run_with_stdin(&["convert", "-", "-o", "out.csv"], Some(&bytes))
        .expect_exit(1);
    assert!(
        run.stderr.contains("name the file instead of piping it"),
        "{}",
        run.describe()
    );
    assert!(!wd.path("out.csv").exists());
}

#[test]
fn parquet_input_takes_no_text_options_and_no_binary_columns() {
    let wd = Workdir::new();
    let rows = with_example(&wd);
    write_parquet(&wd.path("claims.parquet"), &rows, true);
    for option in [&["--no-headers"][..], &["--delimiter", "|"][..]] {
        let run = wd
            .run(&[&["convert", "claims.parquet", "-o", "out.csv"][..], option].concat())
            .expect_exit(2);
        assert!(
            run.stderr
                .contains("leave out --no-headers and --delimiter"),
            "{}",
            run.describe()
        );
    }
    // A binary column would come back as the hex text of its bytes: refused, naming it.
    let batch = RecordBatch::try_from_iter([
        ("CLM_ID", Arc::new(StringArray::from(vec!["1"])) as ArrayRef),
        ("DX1", Arc::new(StringArray::from(vec!["4019"])) as ArrayRef),
        (
            "BLOB",
            Arc::new(arrow_array::BinaryArray::from(vec![&b"abc"[..]])) as ArrayRef,
        ),
    ])
    .unwrap();
    write_batch(&wd.path("blob.parquet"), &batch);
    let run = wd
        .run(&[
            "convert",
            "blob.parquet",
            "--dx",
            "DX1",
            "-o",
            "out.parquet",
        ])
        .expect_exit(1);
    assert!(
        run.stderr.contains("column BLOB is Binary"),
        "{}",
        run.describe()
    );
    assert!(!wd.path("out.parquet").exists());
}

#[test]
fn timestamps_in_a_zone_named_for_utc_come_back_and_other_named_zones_are_refused() {
    use arrow_array::TimestampMicrosecondArray;
    let wd = Workdir::new();
    let instants = [1_577_881_800_000_000i64, -86_400_000_000];
    let write = |name: &str, zone: &str| {
        let stamps = TimestampMicrosecondArray::from(instants.to_vec()).with_timezone(zone);
        write_batch(&wd.path(name), &two_claims_with(Arc::new(stamps)));
    };
    for zone in ["UTC", "Etc/UTC", "+02:00"] {
        write("stamped.parquet", zone);
        wd.run(&[
            "convert",
            "stamped.parquet",
            "--dx",
            "DX1",
            "-o",
            "out.parquet",
        ])
        .expect_exit(0);
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(File::open(wd.path("out.parquet")).unwrap())
                .unwrap()
                .build()
                .unwrap();
        let batch = reader.into_iter().next().unwrap().unwrap();
        let column = batch.column_by_name("LOADED_AT").unwrap();
        let stamps = column
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap_or_else(|| panic!("{zone}: {}", column.data_type()));
        assert_eq!(stamps.timezone(), Some(zone));
        assert_eq!(stamps.values().to_vec(), instants.to_vec(), "{zone}");
        // As text, the same instants at +00:00 (or the offset).
        let run = wd
            .run(&["convert", "stamped.parquet", "--dx", "DX1", "-o", "out.csv"])
            .expect_exit(0);
        let text = wd.read("out.csv");
        let want = if zone == "+02:00" {
            "2020-01-01T14:30:00+02:00"
        } else {
            "2020-01-01T12:30:00Z"
        };
        assert!(text.contains(want), "{zone}: {text}\n{}", run.describe());
    }
    write("zoned.parquet", "America/New_York");
    let run = wd
        .run(&[
            "convert",
            "zoned.parquet",
            "--dx",
            "DX1",
            "-o",
            "out2.parquet",
        ])
        .expect_exit(1);
    assert!(
        run.stderr.contains(
            "column LOADED_AT holds timestamps in the time zone America/New_York, which \
             crosswalk reads only as UTC or as an offset"
        ),
        "{}",
        run.describe()
    );
    assert!(!wd.path("out2.parquet").exists());
    // Dictionary-encoded, a zone is read only at an offset.
    let stamps = TimestampMicrosecondArray::from(instants.to_vec()).with_timezone("UTC");
    let keys = arrow_array::Int32Array::from(vec![0, 1]);
    let dictionary = arrow_array::DictionaryArray::<arrow_array::types::Int32Type>::try_new(
        keys,
        Arc::new(stamps),
    )
    .unwrap();
    write_batch(
        &wd.path("dictionary.parquet"),
        &two_claims_with(Arc::new(dictionary)),
    );
    let run = wd
        .run(&[
            "convert",
            "dictionary.parquet",
            "--dx",
            "DX1",
            "-o",
            "out3.csv",
        ])
        .expect_exit(1);
    assert!(
        run.stderr
            .contains("column LOADED_AT holds dictionary-encoded timestamps in the time zone UTC"),
        "{}",
        run.describe()
    );
    assert!(!wd.path("out3.csv").exists());
}
