//! Parquet in and out, at the edges of the one conversion path: a Parquet file is read as the
//! delimited text of its rows ([`ParquetText`]), and the converted text is written back as
//! Parquet ([`ParquetSink`]), so that column detection, every rule of conversion, the audit and
//! the thread count work the same for both formats.
//!
//! Codes must be text: a code column stored as a number has lost what makes it a code (`0389`
//! reads as 389, `250.00` as 250), so [`ParquetText::check_text`] refuses one, naming it. Other
//! columns keep their type: they are read as text and written back as the type they had, and the
//! output has the input's schema plus the flags column. Row groups are written when about
//! [`ROW_GROUP_BYTES`] are buffered, so memory stays flat.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::csvout::Encoder;

/// Bytes of encoded data a row group holds before it is written out.
pub const ROW_GROUP_BYTES: usize = 4 << 20;

/// Casts that fail on a value they cannot read instead of making it null.
const EXACT: arrow_cast::CastOptions<'static> = arrow_cast::CastOptions {
    safe: false,
    format_options: FormatOptions::new(),
};

/// Rows read or written per Arrow batch.
const BATCH_ROWS: usize = 8192;

/// True when `start` (a file's first bytes) is a Parquet file.
pub fn is_parquet(start: &[u8]) -> bool {
    start.starts_with(b"PAR1")
}

/// True when `path` names a Parquet output.
pub fn is_parquet_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        // Text stored as a dictionary (a pandas categorical).
        DataType::Dictionary(_, values) => is_text(values),
        _ => false,
    }
}

/// Types whose cells do not come back from their text as they were (bytes shown as hex,
/// nested values, durations): refused rather than changed.
fn round_trips(data_type: &DataType) -> bool {
    !matches!(
        data_type,
        DataType::Duration(_)
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_)
            | DataType::List(_)
            | DataType::LargeList(_)
            | DataType::ListView(_)
            | DataType::LargeListView(_)
            | DataType::FixedSizeList(..)
            | DataType::Struct(_)
            | DataType::Map(..)
            | DataType::Union(..)
    )
}

/// Refuse a schema with a column whose cells would not come back from their text as they were,
/// naming the first.
pub fn check_types(schema: &Schema) -> Result<(), String> {
    if let Some(f) = schema.fields().iter().find(|f| !round_trips(f.data_type())) {
        return Err(format!(
            "column {} is {}, which crosswalk does not read (only text, numbers, booleans, dates, \
             times and timestamps come back from their text as they were); leave it out or cast \
             it to text first",
            f.name(),
            f.data_type()
        ));
    }
    for f in schema.fields() {
        let readable = |zone: &str| zone.parse::<arrow_array::timezone::Tz>().is_ok();
        match f.data_type() {
            DataType::Timestamp(_, Some(zone)) if !is_utc(zone) && !readable(zone) => {
                return Err(format!(
                    "column {} holds timestamps in the time zone {zone}, which crosswalk reads \
                     only as UTC or as an offset (such as -05:00); cast it to UTC or to text first",
                    f.name()
                ));
            }
            DataType::Dictionary(_, value) => {
                if let DataType::Timestamp(_, Some(zone)) = value.as_ref()
                    && !readable(zone)
                {
                    return Err(format!(
                        "column {} holds dictionary-encoded timestamps in the time zone {zone}, \
                         which crosswalk reads only at an offset (such as +00:00); cast it to \
                         plain timestamps or to text first",
                        f.name()
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// True for the names of UTC itself (`UTC`, `Etc/UTC`, `GMT` …): timestamps in such a zone are
/// read and written as `+00:00`, the same instants, with no time zone database (the command-line
/// program has none; Python's package does, for every named zone).
fn is_utc(zone: &str) -> bool {
    const NAMES: [&str; 16] = [
        "utc",
        "etc/utc",
        "uct",
        "etc/uct",
        "gmt",
        "etc/gmt",
        "gmt0",
        "etc/gmt0",
        "etc/gmt+0",
        "etc/gmt-0",
        "greenwich",
        "etc/greenwich",
        "universal",
        "etc/universal",
        "zulu",
        "etc/zulu",
    ];
    zone == "Z" || NAMES.iter().any(|n| zone.eq_ignore_ascii_case(n))
}

/// The type a column's text is read and written as: a timestamp type in a zone named for UTC
/// becomes one at `+00:00` (see [`is_utc`]); `None` for every other type.
fn text_type(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::Timestamp(unit, Some(zone)) if is_utc(zone) => {
            Some(DataType::Timestamp(*unit, Some("+00:00".into())))
        }
        _ => None,
    }
}

/// `array`'s values as of `data_type`, a type of the same layout (a timestamp type in another
/// zone).
fn retyped(array: &ArrayRef, data_type: DataType) -> io::Result<ArrayRef> {
    let data = array
        .to_data()
        .into_builder()
        .data_type(data_type)
        .build()
        .map_err(failed)?;
    Ok(arrow_array::make_array(data))
}

fn failed(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// A Parquet file read as comma-separated text: a header of its column names, then one line
/// per row (a null is an empty cell; other types are written as Arrow writes them as text).
pub struct ParquetText {
    schema: SchemaRef,
    batches: ParquetRecordBatchReader,
    encoder: Encoder,
    pending: Vec<u8>,
    at: usize,
    done: bool,
}

impl ParquetText {
    /// Open the Parquet file `path`.
    pub fn open(path: &Path) -> io::Result<ParquetText> {
        let file = File::open(path)?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(failed)?;
        let schema = builder.schema().clone();
        check_types(&schema).map_err(failed)?;
        let batches = builder
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(failed)?;
        let encoder = Encoder::new(b',', false);
        let mut pending = Vec::new();
        encode_header(&encoder, &schema, &mut pending);
        Ok(ParquetText {
            schema,
            batches,
            encoder,
            pending,
            at: 0,
            done: false,
        })
    }

    /// The file's schema.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Refuse code columns (the columns at `columns`, by index) that are not text, naming the
    /// first and saying why; `source` says where the schema is from (`the Parquet file`).
    pub fn check_text(schema: &Schema, columns: &[usize], source: &str) -> Result<(), String> {
        for &i in columns {
            let field = schema.field(i);
            // A column of nulls only holds no code yet; it is written as text.
            if !is_text(field.data_type()) && *field.data_type() != DataType::Null {
                return Err(format!(
                    "column {} holds codes but is stored as {} in {source}: a code stored as a \
                     number has lost its leading zeros and dots (0389 reads as 389, 250.00 as \
                     250); store it as a string column",
                    field.name(),
                    field.data_type()
                ));
            }
        }
        Ok(())
    }

    fn encode(&mut self, batch: &RecordBatch) -> io::Result<()> {
        encode_batch(&self.encoder, batch, &mut self.pending)
    }
}

/// Append the column names of `schema` to `out` as a header line.
pub fn encode_header(encoder: &Encoder, schema: &Schema, out: &mut Vec<u8>) {
    encoder.record(schema.fields().iter().map(|f| f.name().as_bytes()), out);
}

/// Append the rows of `batch` to `out` as comma-separated text, one line each: a null is an empty cell,
/// text is copied as it is and other types are written as Arrow writes them as text.
pub fn encode_batch(encoder: &Encoder, batch: &RecordBatch, out: &mut Vec<u8>) -> io::Result<()> {
    use arrow_array::cast::AsArray;
    let options = FormatOptions::default().with_null("");
    // Text columns are copied as they are; other types written as Arrow writes them.
    enum Column<'a> {
        Utf8(&'a arrow_array::StringArray),
        Large(&'a arrow_array::LargeStringArray),
        View(&'a arrow_array::StringViewArray),
        Other(ArrayFormatter<'a>),
    }
    // Timestamps in a zone named for UTC are written at +00:00.
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|c| match text_type(c.data_type()) {
            Some(t) => retyped(c, t),
            None => Ok(c.clone()),
        })
        .collect::<io::Result<_>>()?;
    let columns: Vec<Column<'_>> = columns
        .iter()
        .map(|c| match c.data_type() {
            DataType::Utf8 => Ok(Column::Utf8(c.as_string::<i32>())),
            DataType::LargeUtf8 => Ok(Column::Large(c.as_string::<i64>())),
            DataType::Utf8View => Ok(Column::View(c.as_string_view())),
            _ => ArrayFormatter::try_new(c.as_ref(), &options).map(Column::Other),
        })
        .collect::<Result<_, _>>()
        .map_err(failed)?;
    let mut cell = String::new();
    for row in 0..batch.num_rows() {
        let start = out.len();
        for (k, column) in columns.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            let text: &str = match column {
                Column::Utf8(a) if a.is_valid(row) => a.value(row),
                Column::Large(a) if a.is_valid(row) => a.value(row),
                Column::View(a) if a.is_valid(row) => a.value(row),
                Column::Other(f) => {
                    use std::fmt::Write as _;
                    cell.clear();
                    write!(cell, "{}", f.value(row)).map_err(failed)?;
                    &cell
                }
                _ => "",
            };
            encoder.field(text.as_bytes(), out);
        }
        encoder.end(start, out);
    }
    Ok(())
}

impl Read for ParquetText {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.pending.len() && !self.done {
            self.pending.clear();
            self.at = 0;
            match self.batches.next() {
                Some(batch) => self.encode(&batch.map_err(failed)?)?,
                None => self.done = true,
            }
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Delimited text parsed back into Arrow record batches of the columns `names`: each column is
/// cast to its field's type in the schema it was made with (text columns stay text, an empty cell
/// of another type is null). A batch is ready every [`BATCH_ROWS`] rows and at the end.
pub struct TextBatches {
    schema: SchemaRef,
    reader: csv_core::Reader,
    /// The header record comes first: it is checked, not written.
    header: bool,
    /// The parser's output buffer.
    field: Vec<u8>,
    /// The record being read: its fields' bytes one after another, and where each ends.
    record: Vec<u8>,
    ends: Vec<usize>,
    builders: Vec<StringBuilder>,
    /// Per column: an empty cell is null.
    null_empty: Vec<bool>,
    /// Rows in the builders, and rows read in all.
    rows: usize,
    written: u64,
    ready: Vec<RecordBatch>,
}

impl TextBatches {
    /// Batches of the records written to this, separated by `delimiter`, the first of them a
    /// header when `header`, as the columns `names`: typed as in `schema` where it has them (the
    /// input's, when it was Arrow or Parquet), text otherwise (a CSV input's columns, the flags
    /// column).
    pub fn new(
        delimiter: u8,
        header: bool,
        schema: Option<&Schema>,
        names: &[String],
    ) -> TextBatches {
        let fields: Vec<Field> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                // A column of nulls only (as a reader infers an empty one) may get codes (a
                // cluster's further codes): it is written as text.
                let data_type = schema
                    .and_then(|s| s.fields().get(i))
                    .map(|f| f.data_type().clone())
                    .filter(|t| *t != DataType::Null)
                    .unwrap_or(DataType::Utf8);
                Field::new(name, data_type, true)
            })
            .collect();
        // A text column of an Arrow input that may hold nulls gets them back for empty cells
        // (text has no other way to say null); a CSV input's text columns hold empty strings.
        let null_empty: Vec<bool> = (0..fields.len())
            .map(|i| {
                schema
                    .and_then(|s| s.fields().get(i))
                    .is_some_and(|f| f.is_nullable() && is_text(f.data_type()))
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        TextBatches {
            builders: (0..schema.fields().len())
                .map(|_| StringBuilder::new())
                .collect(),
            schema,
            reader: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            header,
            field: vec![0; 1 << 16],
            ends: Vec::new(),
            null_empty,
            rows: 0,
            written: 0,
            record: Vec::new(),
            ready: Vec::new(),
        }
    }

    /// The batches' schema.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The batches made since the last call.
    pub fn take_ready(&mut self) -> Vec<RecordBatch> {
        std::mem::take(&mut self.ready)
    }

    /// Add the records of `text`, which holds whole records separated by `delimiter` (the
    /// header first when this reads one), split as the engine splits its input: straight from
    /// the line when a record holds no quote. Faster than writing them, for text held whole.
    pub fn add_records(&mut self, text: Vec<u8>, delimiter: u8) -> io::Result<()> {
        let mut chunk = crate::chunk::Chunk {
            bytes: text,
            first_line: 1,
            ..Default::default()
        };
        let mut rows = crate::rows::Rows::default();
        crate::chunk::split(
            &mut chunk,
            delimiter,
            &mut crate::chunk::core_reader(delimiter),
            &mut rows,
        );
        let mut fields: Vec<&[u8]> = Vec::new();
        for record in rows.iter() {
            fields.clear();
            fields.extend(record.iter());
            self.add(&fields)?;
        }
        Ok(())
    }

    /// Read a last record written without its line end and make a batch of the rows left.
    pub fn finish(&mut self) -> io::Result<()> {
        let mut rest: &[u8] = &[];
        self.feed(&mut rest, true)?;
        self.make_batch()
    }

    fn add(&mut self, fields: &[&[u8]]) -> io::Result<()> {
        if std::mem::take(&mut self.header) {
            return Ok(());
        }
        self.written += 1;
        if fields.len() != self.builders.len() {
            return Err(failed(format!(
                "output row {} has {} fields where the columns are {} (with the flags column): \
                 an Arrow or Parquet table has one schema for every row, so a row of another \
                 width (--flexible) cannot be written to it; write CSV",
                self.written,
                fields.len(),
                self.builders.len()
            )));
        }
        for ((builder, field), f) in self
            .builders
            .iter_mut()
            .zip(fields)
            .zip(self.schema.fields())
        {
            // Arrow text is UTF-8: another encoding (Latin-1 claim text) cannot be written as it
            // is, and is not changed silently.
            let text = std::str::from_utf8(field).map_err(|_| {
                failed(format!(
                    "column {}: {} is not UTF-8 text, which Arrow and Parquet require; write \
                     CSV, or convert the file's text to UTF-8 first",
                    f.name(),
                    crate::inert::for_terminal(&String::from_utf8_lossy(field))
                ))
            })?;
            builder.append_value(text);
        }
        self.rows += 1;
        if self.rows == BATCH_ROWS {
            self.make_batch()?;
        }
        Ok(())
    }

    fn make_batch(&mut self) -> io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.builders.len());
        for (builder, field) in self.builders.iter_mut().zip(self.schema.fields()) {
            let text: ArrayRef = Arc::new(builder.finish());
            let text: ArrayRef = if self.null_empty[columns.len()] {
                let strings = text
                    .as_any()
                    .downcast_ref::<arrow_array::StringArray>()
                    .expect("built as strings");
                Arc::new(
                    strings
                        .iter()
                        .map(|v| v.filter(|v| !v.is_empty()))
                        .collect::<arrow_array::StringArray>(),
                )
            } else {
                text
            };
            columns.push(if *field.data_type() == DataType::Utf8 {
                text
            } else if is_text(field.data_type()) {
                arrow_cast::cast_with_options(&text, field.data_type(), &EXACT).map_err(failed)?
            } else {
                // An empty cell of a typed column is null.
                let text = text
                    .as_any()
                    .downcast_ref::<arrow_array::StringArray>()
                    .expect("built as strings");
                let nulled: arrow_array::StringArray =
                    text.iter().map(|v| v.filter(|v| !v.is_empty())).collect();
                let read = text_type(field.data_type());
                let typed = arrow_cast::cast_with_options(
                    &nulled,
                    read.as_ref().unwrap_or(field.data_type()),
                    &EXACT,
                )
                .map_err(|e| failed(format!("column {}: {e}", field.name())))?;
                match read {
                    Some(_) => retyped(&typed, field.data_type().clone())?,
                    None => typed,
                }
            });
        }
        let batch = RecordBatch::try_new(self.schema.clone(), columns).map_err(failed)?;
        self.ready.push(batch);
        self.rows = 0;
        Ok(())
    }

    fn feed(&mut self, input: &mut &[u8], end: bool) -> io::Result<()> {
        use csv_core::ReadFieldResult;
        loop {
            let (result, nin, nout) = self.reader.read_field(input, &mut self.field);
            *input = &input[nin..];
            self.record.extend_from_slice(&self.field[..nout]);
            match result {
                ReadFieldResult::InputEmpty => {
                    if !end {
                        return Ok(());
                    }
                }
                ReadFieldResult::OutputFull => {}
                ReadFieldResult::Field { record_end } => {
                    self.ends.push(self.record.len());
                    if record_end {
                        self.end_record()?;
                    }
                    // An empty input tells the parser the data has ended: only say so at the end.
                    if input.is_empty() && !end {
                        return Ok(());
                    }
                }
                ReadFieldResult::End => return Ok(()),
            }
        }
    }

    fn end_record(&mut self) -> io::Result<()> {
        let record = std::mem::take(&mut self.record);
        let ends = std::mem::take(&mut self.ends);
        let mut start = 0;
        let fields: Vec<&[u8]> = ends
            .iter()
            .map(|&end| {
                let field = &record[start..end];
                start = end;
                field
            })
            .collect();
        let added = self.add(&fields);
        drop(fields);
        (self.record, self.ends) = (record, ends);
        self.record.clear();
        self.ends.clear();
        added
    }
}

impl Write for TextBatches {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut input = buf;
        self.feed(&mut input, false)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Converted delimited text written as Parquet: the records written to it are made into
/// [`TextBatches`] and written in row groups of about [`ROW_GROUP_BYTES`].
pub struct ParquetSink<W: Write + Send> {
    writer: ArrowWriter<W>,
    batches: TextBatches,
}

impl<W: Write + Send> ParquetSink<W> {
    /// A sink writing to `out` records separated by `delimiter`, as [`TextBatches::new`] reads
    /// them.
    pub fn new(
        out: W,
        delimiter: u8,
        header: bool,
        schema: Option<SchemaRef>,
        names: &[String],
    ) -> io::Result<ParquetSink<W>> {
        let batches = TextBatches::new(delimiter, header, schema.as_deref(), names);
        // Small pages and dictionaries: every column buffers one of each until it is full, and
        // claim files have many columns.
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_data_page_size_limit(64 << 10)
            .set_dictionary_page_size_limit(64 << 10)
            .build();
        let writer =
            ArrowWriter::try_new(out, batches.schema(), Some(properties)).map_err(failed)?;
        Ok(ParquetSink { writer, batches })
    }

    fn write_ready(&mut self) -> io::Result<()> {
        for batch in self.batches.take_ready() {
            self.writer.write(&batch).map_err(failed)?;
            if self.writer.in_progress_size() > ROW_GROUP_BYTES {
                self.writer.flush().map_err(failed)?;
            }
        }
        Ok(())
    }

    /// Write the rows left and the file's footer; returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.batches.finish()?;
        self.write_ready()?;
        self.writer.into_inner().map_err(failed)
    }
}

impl<W: Write + Send> Write for ParquetSink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.batches.write_all(buf)?;
        self.write_ready()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records written in pieces cut anywhere (after a delimiter, inside a quoted field, between
    /// CR and LF) are the records of the whole.
    #[test]
    fn records_cut_anywhere_are_read_whole() {
        let text = b"x,y\r\na,\"b,\"\"c\"\"\"\r\n,\r\nlast,one";
        for cut in 0..=text.len() {
            let file = tempfile::NamedTempFile::new().unwrap();
            let names = ["x".to_string(), "y".to_string()];
            let mut sink =
                ParquetSink::new(file.reopen().unwrap(), b',', true, None, &names).unwrap();
            sink.write_all(&text[..cut]).unwrap();
            sink.write_all(&text[cut..]).unwrap();
            sink.finish().unwrap();
            let reader = ParquetRecordBatchReaderBuilder::try_new(file.reopen().unwrap())
                .unwrap()
                .build()
                .unwrap();
            let mut cells = Vec::new();
            for batch in reader {
                let batch = batch.unwrap();
                for row in 0..batch.num_rows() {
                    for column in batch.columns() {
                        let strings = column
                            .as_any()
                            .downcast_ref::<arrow_array::StringArray>()
                            .unwrap();
                        cells.push(strings.value(row).to_string());
                    }
                }
            }
            assert_eq!(
                cells,
                ["a", "b,\"c\"", "", "", "last", "one"],
                "cut at {cut}"
            );
        }
    }
}
