"""The Python package against the command line: every cell `convert_batches` yields must be the
cell `crosswalk convert` writes for the same rows, and the audit batches must hold the CLI's audit
rows. Run by tests/python/check.sh with the wheel installed in a fresh virtual environment;
CROSSWALK_BIN names the release binary. The real samples are read in place from
../shared/data/claims and skipped, saying so, when absent."""

import collections
import csv
import json
import os
import pickle
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import crosswalk

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CROSSWALK_BIN", str(ROOT / "target" / "release" / "crosswalk"))
CLAIMS = ROOT.parent / "shared" / "data" / "claims"
EXAMPLE = ROOT / "examples" / "claims.csv"

# (sample, delimiter): the real samples that convert without --flexible.
SAMPLES = [
    ("desynpuf-inpatient-sample1-head/DE1_0_2008_to_2010_Inpatient_Claims_Sample_1.first122.csv", ","),
    ("cms-bluebutton-rif-sample-b/sample-b-bcarrier.txt", "|"),
    ("cms-bluebutton-rif-sample-b/sample-b-dme.txt", "|"),
    ("cms-bluebutton-rif-sample-b/sample-b-hha.txt", "|"),
    ("mimic-iii-demo-1.4/DIAGNOSES_ICD.csv", ","),
    ("mimic-iii-demo-1.4/PROCEDURES_ICD.csv", ","),
]


def sample(name):
    path = CLAIMS / name
    if not path.exists():
        pytest.skip(f"the real samples are not in {CLAIMS}")
    return path


def read_strings(path, delimiter=","):
    """A claim file as a table of strings, empty cells as empty strings (codes stay text)."""
    with open(path, newline="", encoding="utf-8") as f:
        names = next(csv.reader(f, delimiter=delimiter))
    return pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(delimiter=delimiter),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False
        ),
    )


def read_csv_rows(path, delimiter=","):
    with open(path, newline="", encoding="utf-8") as f:
        return [row for row in csv.reader(f, delimiter=delimiter)]


def cli(tmp_path, path, *options, audit=False):
    """`crosswalk convert` of `path`: its rows (header first) and, with `audit`, its audit rows."""
    out = tmp_path / "out.csv"
    args = [BIN, "convert", "-q", str(path), "-o", str(out), *options]
    if audit:
        args += ["--audit", str(tmp_path / "audit.csv")]
    subprocess.run(args, check=True)
    delimiter = "|" if str(path).endswith(".txt") else ","
    rows = read_csv_rows(out, delimiter)
    audited = read_csv_rows(tmp_path / "audit.csv") if audit else None
    for f in [out, tmp_path / "audit.csv"]:
        if f.exists():
            f.unlink()
    return rows, audited


def table_rows(batches):
    """Batches as rows of text (header first): a null is an empty cell, as in CSV."""
    batches = list(batches)
    assert batches, "no batch came out"
    table = pa.Table.from_batches(batches)
    columns = [c.to_pylist() for c in table.columns]
    body = [["" if v is None else str(v) for v in row] for row in zip(*columns)]
    return [table.schema.names] + body


def in_batches(table, rows):
    return table.to_batches(max_chunksize=rows)


def effective_audit(rows):
    """Audit rows compared across batchings: each occurrence with its reason filled in from its
    code row when left empty, and a claim's occurrences of one column and code (which a batch
    boundary may split) added together; the set of code rows beside them."""
    header, body = rows[0], rows[1:]
    at = {name: i for i, name in enumerate(header)}
    reasons, codes = {}, set()
    occurrences = collections.defaultdict(lambda: [0, None, None])
    for row in body:
        if row[at["kind"]] == "code":
            reasons[(row[at["system"]], row[at["code"]])] = row[at["reason"]]
            codes.add(tuple(row))
            continue
        row = list(row)
        if not row[at["reason"]]:
            row[at["reason"]] = reasons.get((row[at["system"]], row[at["code"]]), "")
        key = tuple(v for i, v in enumerate(row) if header[i] not in ("row", "line", "lines"))
        entry = occurrences[key]
        entry[0] += int(row[at["lines"]])
        entry[1] = row[at["row"]] if entry[1] is None else entry[1]
        entry[2] = row[at["line"]] if entry[2] is None else entry[2]
    return dict(occurrences), codes


def test_bundled_example_cell_for_cell(tmp_path):
    table = read_strings(EXAMPLE)
    expected, _ = cli(tmp_path, EXAMPLE)
    for size in (1, 3, 8):
        got = table_rows(crosswalk.Converter().convert_batches(in_batches(table, size)))
        assert got == expected, f"batches of {size} rows"


@pytest.mark.parametrize("name,delimiter", SAMPLES)
def test_real_samples_cell_for_cell_and_audit(tmp_path, name, delimiter):
    path = sample(name)
    table = read_strings(path, delimiter)
    file_name = path.name
    expected, audit = cli(tmp_path, path, audit=True)
    conv = crosswalk.Converter(file_name=file_name, name=str(path))
    got = table_rows(conv.convert_batches(in_batches(table, 500)))
    assert got == expected
    got_audit = table_rows(conv.audit_batches(in_batches(table, 500)))
    assert got_audit[0] == audit[0]
    assert effective_audit(got_audit) == effective_audit(audit)
    # One batch: the audit is the CLI's, line for line.
    whole = table.combine_chunks().to_batches()
    assert len(whole) == 1
    one = table_rows(crosswalk.Converter(file_name=file_name, name=str(path)).audit_batches(whole))
    assert one == audit


def test_options_are_the_cli_options(tmp_path):
    table = read_strings(EXAMPLE)
    for options, kwargs in [
        (["--choose", "first-billable", "--unmapped", "blank"], {"choose": "first-billable", "unmapped": "blank"}),
        (["--dots", "--flags-column", "flags"], {"dots": True, "flags_column": "flags"}),
        (["--no-dots", "--no-flags-column"], {"dots": False, "flags_column": None}),
        (["--dx", "ICD9_DGNS_CD_1,ICD9_DGNS_CD_2", "--proc", "ICD9_PRCDR_CD_*"],
         {"dx": "ICD9_DGNS_CD_1,ICD9_DGNS_CD_2", "proc": ["ICD9_PRCDR_CD_*"]}),
        (["--code-set-year", "2018"], {"code_set_year": 2018}),
    ]:
        expected, _ = cli(tmp_path, EXAMPLE, *options)
        got = table_rows(crosswalk.Converter(**kwargs).convert_batches(in_batches(table, 3)))
        assert got == expected, options


def test_decisions_file(tmp_path):
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("system,code,decision\nicd9-dx,996.81,T86.12\n")
    expected, _ = cli(tmp_path, EXAMPLE, "--decisions", str(decisions))
    conv = crosswalk.Converter(decisions=str(decisions))
    got = table_rows(conv.convert_batches(read_strings(EXAMPLE)))
    assert got == expected
    assert conv.summary()["decisions"]["applied"] >= 1


def test_pickle_with_files(tmp_path):
    """Paths pickle as paths: a converter with decisions (a string or a pathlib.Path) is rebuilt
    from them on the other side, as a Spark executor does."""
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("system,code,decision\nicd9-dx,996.81,T86.12\n")
    table = read_strings(EXAMPLE)
    for given in (str(decisions), decisions, [decisions]):
        conv = crosswalk.Converter(decisions=given)
        copy = pickle.loads(pickle.dumps(conv))
        assert table_rows(copy.convert_batches(table)) == table_rows(conv.convert_batches(table))
        assert copy.summary()["decisions"]["applied"] >= 1


def test_inputs_of_every_kind():
    """A Table, one RecordBatch, a list, a generator, a RecordBatchReader and a Polars frame
    (an Arrow stream) all convert the same; anything else is a TypeError saying what to pass."""
    table = read_strings(EXAMPLE).combine_chunks()
    conv = crosswalk.Converter()
    expected = table_rows(conv.convert_batches(table))
    batch = table.to_batches()[0]
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    for given in (batch, [batch], (b for b in [batch]), reader):
        assert table_rows(conv.convert_batches(given)) == expected
    polars = pytest.importorskip("polars")
    assert table_rows(conv.convert_batches(polars.from_arrow(table))) == expected
    with pytest.raises(TypeError, match="expected pyarrow RecordBatches"):
        list(conv.convert_batches(["not a batch"]))


def test_zeros_are_judged_on_the_first_batch_with_rows(tmp_path):
    """A batch without rows judges nothing: lost leading zeros are judged on the next one, as
    `convert` judges the file."""
    lost = ROOT / "examples" / "lost-zeros.csv"
    table = read_strings(lost).combine_chunks()
    expected, _ = cli(tmp_path, lost)
    empty = pa.RecordBatch.from_pylist([], schema=table.schema)
    conv = crosswalk.Converter(name=str(lost))
    assert table_rows(conv.convert_batches([empty] + table.to_batches())) == expected
    assert any("lost leading zeros" in w for w in conv.summary()["warnings"])


def test_pickle_and_converting_twice():
    table = read_strings(EXAMPLE)
    conv = crosswalk.Converter(choose="first-billable", key="CLM_ID")
    copy = pickle.loads(pickle.dumps(conv))
    assert isinstance(copy, crosswalk.Converter)
    first = table_rows(conv.convert_batches(table))
    assert table_rows(conv.convert_batches(table)) == first
    assert table_rows(copy.convert_batches(table)) == first
    assert table_rows(copy.audit_batches(table)) == table_rows(conv.audit_batches(table))
    # Each copy counts what it converted: the original three runs, the copy two.
    assert conv.summary()["rows_in"] == 3 * table.num_rows
    assert copy.summary()["rows_in"] == 2 * table.num_rows


def test_summary_is_the_cli_summary(tmp_path):
    summary = tmp_path / "summary.json"
    subprocess.run([BIN, "convert", "-q", str(EXAMPLE), "-o", str(tmp_path / "o.csv"),
                    "--summary", str(summary)], check=True)
    expected = json.loads(summary.read_text())
    conv = crosswalk.Converter(name=str(EXAMPLE))
    for _ in conv.convert_batches(in_batches(read_strings(EXAMPLE), 3)):
        pass
    got = conv.summary()
    for field in ["rows_in", "rows_out", "codes", "by_system", "review_codes", "review_rows",
                  "top_review", "crosswalk", "code_sets", "plan", "options", "input"]:
        assert got[field] == expected[field], field


def test_schemas_and_types():
    table = read_strings(EXAMPLE)
    # Other columns keep their types; nulls stay null.
    amounts = pa.array([float(v) for v in table.column("CLM_PMT_AMT").to_pylist()])
    segment = pa.array([None] + [int(v) for v in table.column("SEGMENT").to_pylist()[1:]])
    typed = table.set_column(table.schema.get_field_index("CLM_PMT_AMT"), "CLM_PMT_AMT", amounts)
    typed = typed.set_column(typed.schema.get_field_index("SEGMENT"), "SEGMENT", segment)
    conv = crosswalk.Converter()
    out = pa.Table.from_batches(list(conv.convert_batches(typed)))
    assert out.schema == conv.output_schema(typed.schema)
    assert out.column("CLM_PMT_AMT").to_pylist() == amounts.to_pylist()
    assert out.column("SEGMENT").to_pylist() == segment.to_pylist()
    assert out.schema.field("crosswalk_flags").type == pa.string()
    audit = pa.Table.from_batches(list(conv.audit_batches(typed)))
    assert audit.schema == conv.audit_schema(typed.schema)
    assert "CLM_ID" in audit.schema.names
    # Text columns with nulls give them back; a column without keeps its empty strings.
    nulls = table.set_column(0, "DESYNPUF_ID", pa.array([None] * table.num_rows, pa.string()))
    out = pa.Table.from_batches(list(conv.convert_batches(nulls)))
    assert out.column("DESYNPUF_ID").null_count == table.num_rows
    assert out.column("ICD9_DGNS_CD_10").null_count == 0


def test_timestamps_with_a_zone_and_refused_types():
    """Spark hands timestamps over with a named zone: they come back as they were. Binary,
    nested and duration columns would not come back from their text: refused, naming them, by
    conversion and by the schemas alike."""
    import datetime

    table = read_strings(EXAMPLE)
    when = pa.array([datetime.datetime(2020, 1, 1, 12, 30, tzinfo=datetime.timezone.utc)] * table.num_rows,
                    pa.timestamp("us", tz="Etc/UTC"))
    stamped = table.append_column("LOADED_AT", when)
    conv = crosswalk.Converter()
    out = pa.Table.from_batches(list(conv.convert_batches(stamped)))
    assert out.column("LOADED_AT").type == when.type
    assert out.column("LOADED_AT").to_pylist() == when.to_pylist()
    for refused in (pa.array([b"\xff\xfe"] * table.num_rows),
                    pa.array([[1]] * table.num_rows),
                    pa.array([datetime.timedelta(seconds=1)] * table.num_rows)):
        odd = table.append_column("ODD", refused)
        with pytest.raises(crosswalk.CrosswalkError, match="column ODD is"):
            list(conv.convert_batches(odd))
        with pytest.raises(crosswalk.CrosswalkError, match="column ODD is"):
            conv.output_schema(odd.schema)
    numeric = pa.schema([pa.field("CLM_ID", pa.string()), pa.field("ICD9_DGNS_CD_1", pa.int64())])
    with pytest.raises(crosswalk.CrosswalkError, match="ICD9_DGNS_CD_1 holds codes"):
        conv.output_schema(numeric)
    with pytest.raises(crosswalk.CrosswalkError, match="column CLM_ID"):
        crosswalk.Converter(flags_column="CLM_ID").output_schema(table.schema)


def test_errors_raise_with_the_message():
    table = read_strings(EXAMPLE)
    numeric = table.set_column(
        table.schema.get_field_index("ICD9_DGNS_CD_1"),
        "ICD9_DGNS_CD_1",
        pa.array([int(v) if v.isdigit() else None for v in table.column("ICD9_DGNS_CD_1").to_pylist()]),
    )
    with pytest.raises(crosswalk.CrosswalkError, match="ICD9_DGNS_CD_1 holds codes but is stored as Int64"):
        list(crosswalk.Converter().convert_batches(numeric))
    other = table.drop_columns(["SEGMENT"])
    with pytest.raises(crosswalk.CrosswalkError, match="differ from the first batch"):
        list(crosswalk.Converter().convert_batches(table.to_batches() + other.to_batches()))
    with pytest.raises(crosswalk.CrosswalkError, match="choose"):
        crosswalk.Converter(choose="best")
    with pytest.raises(crosswalk.CrosswalkError, match="code set"):
        crosswalk.Converter(code_set_year=1999)
    with pytest.raises(crosswalk.CrosswalkError, match="ambiguous"):
        list(crosswalk.Converter(choose="fail").convert_batches(table))


def test_map_is_map_json():
    codes = ["273.1", "288.09", "288.50", "996.81", "073.0", "779.6", "389", "abc"]
    out = subprocess.run([BIN, "map", "--json", *codes], capture_output=True, text=True)
    expected = [json.loads(line) for line in out.stdout.splitlines()]
    assert crosswalk.map(codes) == expected
    proc = subprocess.run([BIN, "map", "--json", "--system", "icd9-proc", "36.06"],
                          capture_output=True, text=True, check=True)
    assert crosswalk.map("36.06", system="icd9-proc") == [json.loads(proc.stdout)]


def test_polars_example(tmp_path):
    pytest.importorskip("polars")
    inputs = [EXAMPLE]
    if CLAIMS.exists():
        inputs += [CLAIMS / "mimic-iii-demo-1.4" / "DIAGNOSES_ICD.csv",
                   CLAIMS / "cms-bluebutton-rif-sample-b" / "sample-b-dme.txt"]
    for source in inputs:
        expected, _ = cli(tmp_path, source)
        out = tmp_path / "polars.csv"
        subprocess.run(["python", str(ROOT / "examples" / "polars" / "convert.py"), str(source), str(out)],
                       check=True)
        delimiter = "|" if source.suffix == ".txt" else ","
        assert read_csv_rows(out, delimiter) == expected, source
