//! The `crosswalk` Python module: the library's conversion engine over Arrow record batches, for
//! Spark's `mapInArrow`, Polars and notebooks. It holds no conversion logic of its own: options
//! are resolved into the library's `Config`, batches go through `engine::batches`, lookups through
//! `engine::explain`.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use arrow_pyarrow::{FromPyArrow, ToPyArrow};
use arrow_schema::Schema;
use engine::batches::BatchConverter;
use engine::columns::ColumnOptions;
use engine::convert::{Choose, Config, Converter as Engine, Dots, Options, Unmapped};
use engine::decisions::Decisions;
use engine::summary::{DecisionReport, Summary};
use engine::{Crosswalk, Gem, System};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyList};

pyo3::create_exception!(
    crosswalk,
    CrosswalkError,
    PyException,
    "A claim batch, mapping table, code set or decisions file that cannot be converted or read: \
     the message says which and why, as the command line does."
);

fn error(e: impl std::fmt::Display) -> PyErr {
    CrosswalkError::new_err(e.to_string())
}

/// One option value as text: a string, or a number (a 1-based column number).
fn text(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if value.is_instance_of::<pyo3::types::PyInt>() {
        return Ok(value.str()?.to_string());
    }
    value.extract::<String>()
}

/// Column options may be one string (`"ICD9_DGNS_CD_*"`, `"A,B"`, `"21-30"`) or number, or a
/// list of them.
fn strings(value: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<String>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(Vec::new());
    };
    if let Ok(one) = text(value) {
        return Ok(vec![one]);
    }
    value
        .try_iter()
        .and_then(|items| items.map(|i| text(&i?)).collect())
        .map_err(|_| error(format!("{what}: expected a string or a list of strings")))
}

/// File options may be one path (a string or a `pathlib.Path`) or a list of them.
fn paths(value: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<PathBuf>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(Vec::new());
    };
    if let Ok(one) = value.extract::<PathBuf>() {
        return Ok(vec![one]);
    }
    value
        .try_iter()
        .and_then(|items| items.map(|i| i?.extract::<PathBuf>()).collect())
        .map_err(|_| error(format!("{what}: expected a path or a list of paths")))
}

/// The options a `Converter` was made with, as given: what pickling sends to Spark's executors.
#[derive(Clone, Default)]
struct Settings {
    dx: Vec<String>,
    proc: Vec<String>,
    version_col: Vec<String>,
    date_col: Option<String>,
    companion: Vec<String>,
    key: Vec<String>,
    restore_zeros: Vec<String>,
    long: bool,
    no_add_rows: bool,
    choose: String,
    unmapped: String,
    dots: Option<bool>,
    flags_column: Option<String>,
    flexible: bool,
    gems: Option<PathBuf>,
    gem: Vec<String>,
    code_set_year: Option<u16>,
    code_set: Option<PathBuf>,
    decisions: Vec<PathBuf>,
    file_name: Option<String>,
    threads: usize,
    name: String,
}

impl Settings {
    /// The keyword arguments that make a converter with these settings.
    fn kwargs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("dx", &self.dx)?;
        d.set_item("proc", &self.proc)?;
        d.set_item("version_col", &self.version_col)?;
        d.set_item("date_col", &self.date_col)?;
        d.set_item("companion", &self.companion)?;
        d.set_item("key", &self.key)?;
        d.set_item("restore_zeros", &self.restore_zeros)?;
        d.set_item("long", self.long)?;
        d.set_item("no_add_rows", self.no_add_rows)?;
        d.set_item("choose", &self.choose)?;
        d.set_item("unmapped", &self.unmapped)?;
        d.set_item("dots", self.dots)?;
        d.set_item("flags_column", &self.flags_column)?;
        d.set_item("flexible", self.flexible)?;
        d.set_item("gems", &self.gems)?;
        d.set_item("gem", &self.gem)?;
        d.set_item("code_set_year", self.code_set_year)?;
        d.set_item("code_set", &self.code_set)?;
        d.set_item("decisions", &self.decisions)?;
        d.set_item("file_name", &self.file_name)?;
        d.set_item("threads", self.threads)?;
        d.set_item("name", &self.name)?;
        Ok(d)
    }
}

/// The mapping tables and code sets of `crosswalk convert --gems/--gem/--code-set-year/--code-set`.
fn load_crosswalk(
    gems: Option<&PathBuf>,
    gem: &[String],
    code_set_year: Option<u16>,
    code_set: Option<&PathBuf>,
) -> PyResult<Crosswalk> {
    let mut crosswalk = Crosswalk::builtin();
    if let Some(dir) = gems {
        crosswalk.load_gems_dir(dir).map_err(error)?;
    }
    for spec in gem {
        let Some((system, file)) = spec.split_once('=') else {
            return Err(error(format!(
                "gem {spec:?}: expected SYSTEM=FILE, e.g. icd9-dx=my_table.csv"
            )));
        };
        let system: System = system
            .parse()
            .map_err(|e: String| error(format!("gem {spec:?}: {e}")))?;
        let path = PathBuf::from(file);
        let release = engine::crosswalk::release_from_names(&path);
        crosswalk.set_gem(Gem::from_path(system, &path, release).map_err(error)?);
    }
    if let Some(year) = code_set_year {
        crosswalk.set_code_set_year(year).map_err(error)?;
    }
    if let Some(path) = code_set {
        crosswalk.set_code_set(engine::CodeSet::order_file_from_path(path).map_err(error)?);
    }
    Ok(crosswalk)
}

/// What the settings resolve to, once per object.
struct Resolved {
    crosswalk: Crosswalk,
    decisions: Decisions,
    config: Config,
}

impl Resolved {
    fn new(s: &Settings) -> PyResult<Resolved> {
        let choose: Choose = s.choose.parse().map_err(error)?;
        let unmapped: Unmapped = s.unmapped.parse().map_err(error)?;
        if s.threads == 0 {
            return Err(error("threads: at least 1"));
        }
        let crosswalk = load_crosswalk(
            s.gems.as_ref(),
            &s.gem,
            s.code_set_year,
            s.code_set.as_ref(),
        )?;
        let mut decisions = Decisions::new();
        for path in &s.decisions {
            decisions.load(path, &crosswalk).map_err(error)?;
        }
        let config = Config {
            options: Options {
                choose,
                unmapped,
                dots: match s.dots {
                    None => Dots::AsInput,
                    Some(true) => Dots::Dotted,
                    Some(false) => Dots::Undotted,
                },
                flags_column: s.flags_column.is_some(),
            },
            columns: ColumnOptions {
                dx: s.dx.clone(),
                proc: s.proc.clone(),
                version_cols: s.version_col.clone(),
                date_col: s.date_col.clone(),
                key: s.key.clone(),
                file_name: s.file_name.clone(),
                companions: s.companion.clone(),
                restore_zeros: s.restore_zeros.clone(),
                long: s.long,
                no_add_rows: s.no_add_rows,
            },
            // Batches are read as comma-separated text.
            delimiter: Some(b','),
            no_headers: false,
            flexible: s.flexible,
            flags_column_name: s
                .flags_column
                .clone()
                .unwrap_or_else(|| engine::convert::DEFAULT_FLAGS_COLUMN.to_string()),
            threads: s.threads,
        };
        Ok(Resolved {
            crosswalk,
            decisions,
            config,
        })
    }

    fn engine(&self) -> Engine<'_> {
        Engine::new(&self.crosswalk, &self.decisions, self.config.clone())
    }
}

/// What an object converted, over every stream.
#[derive(Default)]
struct Counts {
    summary: Summary,
    notes: Vec<String>,
    decisions_used: Vec<u64>,
    decisions_moved: Vec<bool>,
}

/// Converts claim records with the CMS General Equivalence Mappings, as `crosswalk convert`
/// does, over Arrow record batches; the options resolved once (mapping tables, code sets and
/// decisions loaded).
///
/// Every keyword is the `crosswalk convert` option of the same name, with the same default:
/// dx / proc (names, globs, 1-based numbers or ranges; default: detected from the columns),
/// version_col, date_col, companion, key, restore_zeros, long, no_add_rows, choose ("first",
/// "first-billable", "keep", "fail"), unmapped ("keep", "blank"), dots (None: as the input;
/// True: dotted; False: undotted), flags_column (its name; None: no flags column), flexible,
/// gems (a directory of GEM files), gem ("SYSTEM=FILE"), code_set_year, code_set, decisions
/// (filled-in audits or system,code,decision files). file_name tells MIMIC diagnosis tables from
/// procedure tables, as the input's name does on the command line. threads: converting threads
/// per batch (default 1: Spark and Polars run batches in parallel themselves). name: what the
/// batches are called in errors and the summary.
///
/// A converter pickles by its options (Spark ships it to executors that way: the files it names
/// must be readable there too); each copy counts what it converts in its own summary().
#[pyclass(module = "crosswalk", frozen)]
struct Converter {
    settings: Settings,
    resolved: Arc<Resolved>,
    counts: Arc<Mutex<Counts>>,
}

#[pymethods]
impl Converter {
    #[new]
    #[pyo3(signature = (
        *, dx=None, proc=None, version_col=None, date_col=None, companion=None, key=None,
        restore_zeros=None, long=false, no_add_rows=false, choose="first", unmapped="keep",
        dots=None, flags_column=Some("crosswalk_flags".to_string()), flexible=false, gems=None,
        gem=None, code_set_year=None, code_set=None, decisions=None, file_name=None, threads=1,
        name="batches"
    ))]
    #[pyo3(
        text_signature = "(*, dx=None, proc=None, version_col=None, date_col=None, \
        companion=None, key=None, restore_zeros=None, long=False, no_add_rows=False, \
        choose='first', unmapped='keep', dots=None, flags_column='crosswalk_flags', \
        flexible=False, gems=None, gem=None, code_set_year=None, code_set=None, decisions=None, \
        file_name=None, threads=1, name='batches')"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        dx: Option<&Bound<'_, PyAny>>,
        proc: Option<&Bound<'_, PyAny>>,
        version_col: Option<&Bound<'_, PyAny>>,
        date_col: Option<String>,
        companion: Option<&Bound<'_, PyAny>>,
        key: Option<&Bound<'_, PyAny>>,
        restore_zeros: Option<&Bound<'_, PyAny>>,
        long: bool,
        no_add_rows: bool,
        choose: &str,
        unmapped: &str,
        dots: Option<bool>,
        flags_column: Option<String>,
        flexible: bool,
        gems: Option<PathBuf>,
        gem: Option<&Bound<'_, PyAny>>,
        code_set_year: Option<u16>,
        code_set: Option<PathBuf>,
        decisions: Option<&Bound<'_, PyAny>>,
        file_name: Option<String>,
        threads: usize,
        name: &str,
    ) -> PyResult<Converter> {
        let settings = Settings {
            dx: strings(dx, "dx")?,
            proc: strings(proc, "proc")?,
            version_col: strings(version_col, "version_col")?,
            date_col,
            companion: strings(companion, "companion")?,
            key: strings(key, "key")?,
            restore_zeros: strings(restore_zeros, "restore_zeros")?,
            long,
            no_add_rows,
            choose: choose.to_string(),
            unmapped: unmapped.to_string(),
            dots,
            flags_column,
            flexible,
            gems,
            gem: strings(gem, "gem")?,
            code_set_year,
            code_set,
            decisions: paths(decisions, "decisions")?,
            file_name,
            threads,
            name: name.to_string(),
        };
        let resolved = Arc::new(Resolved::new(&settings)?);
        Ok(Converter {
            settings,
            resolved,
            counts: Arc::default(),
        })
    }

    /// Convert an iterable of `pyarrow.RecordBatch` (or a `pyarrow.Table`), yielding the
    /// converted batches: the input's columns and the flags column.
    fn convert_batches(&self, batches: &Bound<'_, PyAny>) -> PyResult<Batches> {
        self.stream(batches, Want::Rows)
    }

    /// Convert an iterable of `pyarrow.RecordBatch`, yielding the audit's lines as batches of
    /// text columns (the CSV audit's columns).
    fn audit_batches(&self, batches: &Bound<'_, PyAny>) -> PyResult<Batches> {
        self.stream(batches, Want::Audit)
    }

    /// The schema of `convert_batches`' output for input of `schema` (a `pyarrow.Schema`).
    fn output_schema<'py>(
        &self,
        py: Python<'py>,
        schema: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let schema = Schema::from_pyarrow_bound(schema)?;
        BatchConverter::output_schema(&self.resolved.engine(), &schema)
            .map_err(error)?
            .to_pyarrow(py)
    }

    /// The schema of `audit_batches`' output for input of `schema` (a `pyarrow.Schema`).
    fn audit_schema<'py>(
        &self,
        py: Python<'py>,
        schema: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let schema = Schema::from_pyarrow_bound(schema)?;
        BatchConverter::audit_schema(&self.resolved.engine(), &schema)
            .map_err(error)?
            .to_pyarrow(py)
    }

    /// What this object converted, as `crosswalk convert --summary` writes it (a dict).
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let r = &self.resolved;
        let mut report = counts.summary.report(&r.crosswalk);
        report.options = Some(r.config.options);
        report.input = Some(self.settings.name.clone());
        report.plan = counts.notes.clone();
        report.warnings = counts
            .notes
            .iter()
            .filter(|l| l.starts_with("warning: "))
            .cloned()
            .collect();
        if !r.decisions.is_empty() {
            let used = padded(&counts.decisions_used, r.decisions.len());
            let moved = padded(&counts.decisions_moved, r.decisions.len());
            report.decisions = Some(DecisionReport::new(&r.decisions, &used, &moved));
        }
        let json = serde_json::to_string(&report).map_err(error)?;
        py.import("json")?.call_method1("loads", (json,))
    }

    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyDict>,))> {
        let restore = py.import("crosswalk")?.getattr("_restore")?;
        Ok((restore, (self.settings.kwargs(py)?,)))
    }

    fn __repr__(&self) -> String {
        let s = &self.settings;
        let flags = s
            .flags_column
            .as_ref()
            .map_or_else(|| "None".to_string(), |f| format!("{f:?}"));
        format!(
            "crosswalk.Converter(choose={:?}, unmapped={:?}, flags_column={flags})",
            s.choose, s.unmapped
        )
    }
}

fn padded<T: Clone + Default>(values: &[T], len: usize) -> Vec<T> {
    let mut v = values.to_vec();
    v.resize(len, T::default());
    v
}

impl Converter {
    fn stream(&self, batches: &Bound<'_, PyAny>, want: Want) -> PyResult<Batches> {
        let py = batches.py();
        let source = if batches.hasattr("to_batches")? {
            // A Table, read as its batches.
            batches.call_method0("to_batches")?
        } else if batches.hasattr("__arrow_c_array__")? {
            // One RecordBatch.
            PyList::new(py, [batches])?.into_any()
        } else if batches.hasattr("__arrow_c_stream__")? {
            // Any Arrow stream (a Polars or pandas frame, a RecordBatchReader).
            py.import("pyarrow")?
                .getattr("RecordBatchReader")?
                .call_method1("from_stream", (batches,))?
        } else {
            batches.clone()
        };
        let input = PyIterator::from_object(&source)?.unbind();
        Ok(Batches {
            resolved: self.resolved.clone(),
            counts: self.counts.clone(),
            stream: BatchConverter::new(&self.settings.name),
            input: Some(input),
            pending: VecDeque::new(),
            want,
        })
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Want {
    Rows,
    Audit,
}

/// An iterator of converted batches (or audit batches), converting as it is read.
#[pyclass(module = "crosswalk")]
struct Batches {
    resolved: Arc<Resolved>,
    counts: Arc<Mutex<Counts>>,
    stream: BatchConverter,
    input: Option<Py<PyIterator>>,
    pending: VecDeque<RecordBatch>,
    want: Want,
}

#[pymethods]
impl Batches {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loop {
            if let Some(batch) = self.pending.pop_front() {
                return batch.to_pyarrow(py).map(Some);
            }
            let Some(input) = &self.input else {
                return Ok(None);
            };
            let Some(item) = input.bind(py).clone().next() else {
                self.input = None;
                return Ok(None);
            };
            let item = item?;
            let batch = RecordBatch::from_pyarrow_bound(&item).map_err(|e| {
                let kind = item
                    .get_type()
                    .name()
                    .map_or_else(|_| "?".to_string(), |n| n.to_string());
                pyo3::exceptions::PyTypeError::new_err(format!(
                    "expected pyarrow RecordBatches (an iterable of them, a Table, a \
                     RecordBatchReader or any Arrow stream), got a {kind}: {e}"
                ))
            })?;
            let (resolved, stream, audit) =
                (&self.resolved, &mut self.stream, self.want == Want::Audit);
            let converted = py
                .detach(|| stream.convert(&resolved.engine(), &batch, audit))
                .map_err(error)?;
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            counts.summary.absorb(&converted.summary);
            add(
                &mut counts.decisions_used,
                &converted.decisions_used,
                |a, b| *a += b,
            );
            add(
                &mut counts.decisions_moved,
                &converted.decisions_moved,
                |a, b| *a |= b,
            );
            // What the columns were found to be, from the first batch with rows.
            if counts.notes.is_empty() {
                counts.notes = self.stream.notes().to_vec();
            }
            self.pending.extend(match self.want {
                Want::Rows => converted.rows,
                Want::Audit => converted.audit,
            });
        }
    }
}

fn add<T: Clone + Default>(into: &mut Vec<T>, from: &[T], op: impl Fn(&mut T, &T)) {
    if into.len() < from.len() {
        into.resize(from.len(), T::default());
    }
    for (a, b) in into.iter_mut().zip(from) {
        op(a, b);
    }
}

/// Look up codes as `crosswalk map --json` does: a list of dicts, one per code.
#[pyfunction]
#[pyo3(signature = (codes, system="icd9-dx", *, gems=None, gem=None, code_set_year=None, code_set=None))]
fn map<'py>(
    py: Python<'py>,
    codes: &Bound<'py, PyAny>,
    system: &str,
    gems: Option<PathBuf>,
    gem: Option<&Bound<'py, PyAny>>,
    code_set_year: Option<u16>,
    code_set: Option<PathBuf>,
) -> PyResult<Bound<'py, PyList>> {
    let system: System = system.parse().map_err(error)?;
    let codes = strings(Some(codes), "codes")?;
    let crosswalk = load_crosswalk(
        gems.as_ref(),
        &strings(gem, "gem")?,
        code_set_year,
        code_set.as_ref(),
    )?;
    let release = crosswalk
        .gem(system)
        .map_err(error)?
        .provenance()
        .to_string();
    let loads = py.import("json")?.getattr("loads")?;
    let out = PyList::empty(py);
    for code in &codes {
        let lookup = crosswalk.lookup(system, code.as_bytes()).map_err(error)?;
        let record = engine::explain::LookupRecord::new(&crosswalk, code, &lookup, &release);
        let json = serde_json::to_string(&record).map_err(error)?;
        out.append(loads.call1((json,))?)?;
    }
    Ok(out)
}

/// Make a converter from the keyword arguments a pickled one was made with.
#[pyfunction]
fn _restore(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    let class = py.import("crosswalk")?.getattr("Converter")?;
    Ok(class.call((), Some(kwargs))?.unbind())
}

/// Convert ICD-9-CM claim records to ICD-10-CM / ICD-10-PCS with the CMS General Equivalence
/// Mappings over Arrow record batches, flagging every conversion that needs human judgment.
#[pymodule]
fn crosswalk(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Converter>()?;
    m.add_class::<Batches>()?;
    m.add_function(wrap_pyfunction!(map, m)?)?;
    m.add_function(wrap_pyfunction!(_restore, m)?)?;
    m.add("CrosswalkError", m.py().get_type::<CrosswalkError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
