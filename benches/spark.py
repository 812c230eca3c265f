"""PySpark local mode on the generated claim file: the same rows read as all-string columns and
written to Spark's `noop` sink (which runs the whole plan and keeps nothing), once as they are and
once converted by `mapInArrow(Converter().convert_batches, ...)`; then, without Spark, the rows
converted in this process from a pyarrow table in 10,000-row batches (Spark's batch size), on
one core. Prints one line per run: label, seconds, rows. Run by benches/spark.sh."""

import os
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

import crosswalk

path, cores = sys.argv[1], sys.argv[2]
# The Python workers run this interpreter, which has the wheel installed.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
spark = (
    SparkSession.builder.master(f"local[{cores}]")
    .appName("crosswalk-bench")
    .config("spark.ui.enabled", "false")
    .config("spark.driver.memory", "4g")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")


def claims():
    return spark.read.option("header", True).option("inferSchema", False).csv(path)


conv = crosswalk.Converter()
schema = from_arrow_schema(conv.output_schema(to_arrow_schema(claims().schema)))
rows = claims().count()
runs = [
    ("read only", lambda: claims().write.format("noop").mode("overwrite").save()),
    ("read and convert", lambda: claims().mapInArrow(conv.convert_batches, schema)
     .write.format("noop").mode("overwrite").save()),
]
for label, run in runs:
    # The second of two runs: the first warms the JVM and the page cache.
    for _ in range(2):
        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
    print(f"{label}\t{seconds:.2f}\t{rows}", flush=True)
spark.stop()

import csv  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402

with open(path, newline="") as f:
    names = next(csv.reader(f))
table = pacsv.read_csv(
    path,
    convert_options=pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=False
    ),
).combine_chunks()
batches = table.to_batches(max_chunksize=10000)
start = time.perf_counter()
converted = sum(b.num_rows for b in crosswalk.Converter().convert_batches(batches))
print(f"pyarrow batches in one process\t{time.perf_counter() - start:.2f}\t{converted}", flush=True)
