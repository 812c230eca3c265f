"""PySpark in local mode: the DE-SynPUF sample and a RIF sample read as all-string DataFrames on
4 partitions, converted with `mapInArrow(conv.convert_batches, ...)`, must hold the CLI's rows
cell for cell, and `mapInArrow(conv.audit_batches, ...)` the CLI's audit rows. Spark reads an
empty CSV field as null; both sides are compared with null as an empty cell. Partitions are
converted apart, each by its own copy of the pickled converter, so rows are compared as a
multiset and the audit's row numbers (which count within a partition) are left out.

Skipped, saying why, without pyspark or Java (tests/python/check.sh installs both)."""

import collections
import os
import shutil
import sys

import pytest

from test_crosswalk import cli, effective_audit, sample

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed")
if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
    pytest.skip("Java is not installed (Debian: openjdk-17-jre-headless)", allow_module_level=True)

from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql.pandas.types import from_arrow_schema  # noqa: E402

import crosswalk  # noqa: E402

SPARK_SAMPLES = [
    ("desynpuf-inpatient-sample1-head/DE1_0_2008_to_2010_Inpatient_Claims_Sample_1.first122.csv", ","),
    ("cms-bluebutton-rif-sample-b/sample-b-bcarrier.txt", "|"),
]


@pytest.fixture(scope="module")
def spark():
    # The Python workers run this interpreter, which has the wheel installed.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("crosswalk-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def cells(rows):
    return collections.Counter(tuple("" if v is None else v for v in row) for row in rows)


@pytest.mark.parametrize("name,delimiter", SPARK_SAMPLES)
def test_map_in_arrow_is_the_cli(spark, tmp_path, name, delimiter):
    path = sample(name)
    expected, audit = cli(tmp_path, path, audit=True)
    df = (
        spark.read.option("header", True)
        .option("sep", delimiter)
        .option("inferSchema", False)
        .csv(str(path))
        .repartition(4)
    )
    assert df.rdd.getNumPartitions() == 4
    conv = crosswalk.Converter(name=str(path))
    arrow_schema = conv.output_schema(to_arrow(df.schema))
    converted = df.mapInArrow(conv.convert_batches, from_arrow_schema(arrow_schema))
    got = converted.collect()
    assert [f.name for f in converted.schema.fields] == expected[0]
    assert cells(got) == cells(expected[1:])

    audit_schema = conv.audit_schema(to_arrow(df.schema))
    audited = df.mapInArrow(conv.audit_batches, from_arrow_schema(audit_schema)).collect()
    header = [f.name for f in audit_schema]
    assert header == audit[0]
    rows = [header] + [["" if v is None else v for v in r] for r in audited]
    got_occurrences, got_codes = effective_audit(rows)
    want_occurrences, want_codes = effective_audit(audit)

    def without_numbers(occurrences):
        return collections.Counter({k: v[0] for k, v in occurrences.items()})

    assert without_numbers(got_occurrences) == without_numbers(want_occurrences)
    assert got_codes == want_codes


def to_arrow(schema):
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(schema)

