//! Arrow record batches through the one conversion path, for engines that hand claims over in
//! batches (Spark's `mapInArrow`, Polars, DuckDB): each batch is read as the delimited text of its
//! rows, converted by [`Converter`] as a claim file is, and its output and audit are parsed back
//! into batches. So a batch gets exactly the cells `crosswalk convert` writes for its rows.
//!
//! The batches of one [`BatchConverter`] are converted as parts of one stream: they must have
//! the same schema, rows are numbered on from one batch to the next, and the code columns'
//! leading zeros are judged once, on the first batch. Every batch is otherwise converted on its
//! own, so that it can be converted again, or elsewhere, with the same result: its audit has a
//! code row before the first occurrence of each code in it, and a claim's lines are grouped
//! within a batch.
//!
//! Text has no null: an empty cell of a text column comes back as null when the batch's column
//! has nulls, and as an empty string when it has none. Other columns are cast back to their
//! types, an empty cell as null.

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};

use crate::convert::{Converter, Outputs};
use crate::csvout::Encoder;
use crate::error::{Error, Result};
use crate::parquet::{ParquetText, TextBatches, encode_batch, encode_header};
use crate::summary::Summary;
use crate::zeros::ZeroMode;

/// What converting a batch made.
pub struct Converted {
    /// The converted rows (and the rows a long layout adds for a cluster's further codes), as
    /// the input's columns and the flags column: in batches of at most 8,192 rows.
    pub rows: Vec<RecordBatch>,
    /// The audit's lines, every column text (empty when not asked for).
    pub audit: Vec<RecordBatch>,
    /// The batch's counts.
    pub summary: Summary,
    /// Per decision (in [`crate::decisions::Decisions::list`] order): how many codes it decided
    /// in the batch, and whether it is bound to a row that now holds another row.
    pub decisions_used: Vec<u64>,
    /// See `decisions_used`.
    pub decisions_moved: Vec<bool>,
}

/// Converts a stream of record batches with the same schema.
pub struct BatchConverter {
    name: String,
    schema: Option<SchemaRef>,
    zeros: Option<Vec<ZeroMode>>,
    /// Data rows and text lines of the batches converted so far.
    rows: u64,
    lines: u64,
    summary: Summary,
    /// The first batch's notes on its columns (the detected layout, warnings).
    notes: Vec<String>,
}

impl BatchConverter {
    /// A converter of batches called `name` in error messages.
    pub fn new(name: &str) -> BatchConverter {
        BatchConverter {
            name: name.to_string(),
            schema: None,
            zeros: None,
            rows: 0,
            lines: 0,
            summary: Summary::default(),
            notes: Vec::new(),
        }
    }

    /// The counts of every batch converted so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// What the first batch's columns were found to be, as `convert` says on stderr.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The schema of the converted batches for input batches of `schema`: its columns, typed as
    /// they are (a column of nulls only as text), and the flags column (text) unless `converter`
    /// leaves it out. An error when batches of `schema` cannot be converted (no code column, a
    /// code column that is not text, a column type that does not come back from its text).
    pub fn output_schema(converter: &Converter<'_>, schema: &Schema) -> Result<SchemaRef> {
        plan_of(converter, schema, "batches")?;
        let names = output_names(converter, schema);
        Ok(TextBatches::new(b',', true, Some(schema), &names).schema())
    }

    /// The schema of the audit batches for input batches of `schema`: the audit file's columns,
    /// with the claim key columns `converter` finds in it, every one text. Errors as
    /// [`BatchConverter::output_schema`].
    pub fn audit_schema(converter: &Converter<'_>, schema: &Schema) -> Result<SchemaRef> {
        let plan = plan_of(converter, schema, "batches")?;
        Ok(TextBatches::new(b',', true, None, &audit_names(&plan)).schema())
    }

    /// Convert `batch` with `converter`; with `audit`, also make its audit lines. A batch is
    /// read as comma-separated text: `converter`'s delimiter should be a comma (or sniffed, which
    /// finds the comma unless a one-column header holds a pipe or a tab).
    pub fn convert(
        &mut self,
        converter: &Converter<'_>,
        batch: &RecordBatch,
        audit: bool,
    ) -> Result<Converted> {
        let schema = batch.schema();
        match &self.schema {
            Some(first) if first.fields() != schema.fields() => {
                return Err(Error::config(format!(
                    "{}: a batch's columns differ from the first batch's (every batch of one \
                     stream has the same schema): {} against {}",
                    self.name,
                    describe(&schema),
                    describe(first)
                )));
            }
            Some(_) => {}
            None => {
                crate::parquet::check_types(&schema)
                    .map_err(|e| Error::config(format!("{}: {e}", self.name)))?;
                self.schema = Some(schema.clone());
            }
        }
        let encoder = Encoder::new(b',', false);
        let mut text = Vec::new();
        encode_header(&encoder, &schema, &mut text);
        let header_end = text.len();
        encode_batch(&encoder, batch, &mut text).map_err(|e| self.failed(e))?;
        let lines = memchr::memchr_iter(b'\n', &text[header_end..]).count() as u64;
        let opened = converter.open_judged(
            std::io::Cursor::new(text),
            &self.name,
            self.zeros.as_deref(),
        )?;
        // Judged on the first batch with rows: one without has nothing to judge by.
        if self.zeros.is_none() && batch.num_rows() > 0 {
            self.zeros = Some(opened.zero_modes());
            self.notes = opened
                .plan()
                .describe()
                .into_iter()
                .chain(opened.plan().notes.iter().cloned())
                .collect();
        }
        let codes: Vec<usize> = opened.plan().columns.iter().map(|c| c.index).collect();
        ParquetText::check_text(&schema, &codes, "the batch")
            .map_err(|e| Error::config(format!("{}: {e}", self.name)))?;
        // Text has no null: an empty cell of a text column comes back as null where the batch's
        // column has nulls, as an empty string where it has none.
        let shape = Schema::new(
            schema
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(f, c)| f.as_ref().clone().with_nullable(c.null_count() > 0))
                .collect::<Vec<_>>(),
        );
        let rows = TextBatches::new(
            opened.delimiter(),
            true,
            Some(&shape),
            &output_names(converter, &schema),
        );
        let audit_names = audit_names(opened.plan());
        let outputs = Outputs {
            rows: Vec::new(),
            audit: audit.then(Vec::new),
            review: false,
            workbook: None,
        };
        let delimiter = opened.delimiter();
        let finished = opened.after(self.rows, self.lines).run(outputs, |_| {})?;
        let collect = |mut batches: TextBatches, text: Vec<u8>| -> Result<Vec<RecordBatch>> {
            batches
                .add_records(text, delimiter)
                .map_err(|e| self.failed(e))?;
            batches.finish().map_err(|e| self.failed(e))?;
            Ok(batches.take_ready())
        };
        let audit_batches = TextBatches::new(b',', true, None, &audit_names);
        let converted = Converted {
            rows: collect(rows, finished.rows)?,
            audit: match finished.audit {
                Some(text) => collect(audit_batches, text)?,
                None => Vec::new(),
            },
            summary: finished.summary,
            decisions_used: finished.decisions_used,
            decisions_moved: finished.decisions_moved,
        };
        self.summary.absorb(&converted.summary);
        self.rows += batch.num_rows() as u64;
        self.lines += lines;
        Ok(converted)
    }

    fn failed(&self, e: std::io::Error) -> Error {
        Error::config(format!("{}: {e}", self.name))
    }
}

/// The plan of batches of `schema` (called `name` in errors), after checking they can be
/// converted: every column type comes back from its text, and code columns are text.
fn plan_of(converter: &Converter<'_>, schema: &Schema, name: &str) -> Result<crate::columns::Plan> {
    crate::parquet::check_types(schema).map_err(|e| Error::config(format!("{name}: {e}")))?;
    let encoder = Encoder::new(b',', false);
    let mut header = Vec::new();
    encode_header(&encoder, schema, &mut header);
    let opened = converter.open(std::io::Cursor::new(header), name)?;
    let plan = opened.plan().clone();
    let codes: Vec<usize> = plan.columns.iter().map(|c| c.index).collect();
    ParquetText::check_text(schema, &codes, "the batch")
        .map_err(|e| Error::config(format!("{name}: {e}")))?;
    Ok(plan)
}

/// The audit's column names for claims planned as `plan`.
fn audit_names(plan: &crate::columns::Plan) -> Vec<String> {
    crate::audit::Layout::header(plan.keys.iter().map(|k| &k.1[..]))
        .into_iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect()
}

/// The converted batches' column names: the input's and the flags column.
fn output_names(converter: &Converter<'_>, schema: &Schema) -> Vec<String> {
    let config = converter.config();
    let flags = config
        .options
        .flags_column
        .then(|| config.flags_column_name.clone());
    schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .chain(flags)
        .collect()
}

fn describe(schema: &Schema) -> String {
    let fields: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("{} {}", f.name(), f.data_type()))
        .collect();
    format!("({})", fields.join(", "))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, StringArray};

    use super::*;
    use crate::convert::Config;
    use crate::crosswalk::Crosswalk;
    use crate::decisions::Decisions;

    const EXAMPLE: &[u8] = include_bytes!("../examples/claims.csv");

    /// The example's rows as batches of `size` rows, every column text.
    fn example_batches(size: usize) -> Vec<RecordBatch> {
        let mut reader = csv::Reader::from_reader(EXAMPLE);
        let names: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        rows.chunks(size)
            .map(|chunk| {
                let columns = names.iter().enumerate().map(|(i, name)| {
                    let values = StringArray::from_iter_values(chunk.iter().map(|r| &r[i]));
                    (name.clone(), Arc::new(values) as ArrayRef)
                });
                RecordBatch::try_from_iter(columns).unwrap()
            })
            .collect()
    }

    /// What the engine writes for the example as a CSV file: its rows and its audit.
    fn as_file(converter: &Converter<'_>) -> (Vec<u8>, Vec<u8>) {
        let opened = converter.open(EXAMPLE, "claims.csv").unwrap();
        let outputs = Outputs {
            rows: Vec::new(),
            audit: Some(Vec::new()),
            review: false,
            workbook: None,
        };
        let finished = opened.run(outputs, |_| {}).unwrap();
        (finished.rows, finished.audit.unwrap())
    }

    /// Batches as CSV text, a header first.
    fn text(batches: &[RecordBatch]) -> Vec<u8> {
        let encoder = Encoder::new(b',', false);
        let mut out = Vec::new();
        let schema = batches[0].schema();
        encode_header(&encoder, &schema, &mut out);
        for batch in batches {
            encode_batch(&encoder, batch, &mut out).unwrap();
        }
        out
    }

    /// The (row, line, column, code) of every occurrence line of an audit.
    fn occurrences(audit: &[u8]) -> Vec<(String, String, String, String)> {
        let mut reader = csv::Reader::from_reader(audit);
        let h = reader.headers().unwrap().clone();
        let at = |name: &str| h.iter().position(|n| n == name).unwrap();
        let (kind, row, line, column, code) =
            (at("kind"), at("row"), at("line"), at("column"), at("code"));
        let mut all: Vec<_> = reader
            .records()
            .map(|r| r.unwrap())
            .filter(|r| &r[kind] == "occurrence")
            .map(|r| {
                let cell = |i: usize| r[i].to_string();
                (cell(row), cell(line), cell(column), cell(code))
            })
            .collect();
        all.sort();
        all
    }

    #[test]
    fn batches_convert_as_the_file_does() {
        let crosswalk = Crosswalk::builtin();
        let decisions = Decisions::new();
        let config = Config {
            threads: 1,
            flags_column_name: crate::convert::DEFAULT_FLAGS_COLUMN.into(),
            options: crate::convert::Options {
                flags_column: true,
                ..Default::default()
            },
            ..Default::default()
        };
        let converter = Converter::new(&crosswalk, &decisions, config);
        let (rows, audit) = as_file(&converter);
        for size in [1, 3, 100] {
            let mut stream = BatchConverter::new("claims.csv");
            let (mut out, mut audited) = (Vec::new(), Vec::new());
            for batch in example_batches(size) {
                let converted = stream.convert(&converter, &batch, true).unwrap();
                out.extend(converted.rows);
                audited.extend(converted.audit);
            }
            assert_eq!(
                String::from_utf8(text(&out)).unwrap(),
                String::from_utf8(rows.clone()).unwrap(),
                "batches of {size}"
            );
            // Rows and lines are numbered on from batch to batch.
            assert_eq!(occurrences(&text(&audited)), occurrences(&audit));
            if size == 100 {
                // One batch: the file's audit, line for line.
                assert_eq!(text(&audited), audit);
            }
            assert_eq!(stream.summary().rows_in, 8);
        }
    }
}
