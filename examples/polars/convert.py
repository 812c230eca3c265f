"""Convert a claim file with Polars, the crosswalk engine doing the conversion batch by batch.

    python examples/polars/convert.py claims.csv converted.csv

Every column is read as text (codes must stay text: 0389 is not 389), each batch Polars hands
over goes through `Converter.convert_batches`, and the result is what `crosswalk convert
claims.csv -o converted.csv` writes: the same cells and the flags column. A `.txt` file is read
as pipe-delimited (CMS RIF), and the file's name is given to the converter, which tells MIMIC
diagnosis tables from procedure tables by it.
"""

import sys
from pathlib import Path

import polars as pl
import pyarrow as pa

import crosswalk

source, target = sys.argv[1], sys.argv[2]
separator = "|" if source.endswith(".txt") else ","
converter = crosswalk.Converter(file_name=Path(source).name, name=source)


def convert(df: pl.DataFrame) -> pl.DataFrame:
    batches = list(converter.convert_batches(df.to_arrow()))
    if not batches:  # a batch without rows
        return pl.DataFrame(schema=schema)
    return pl.from_arrow(pa.Table.from_batches(batches))


claims = pl.scan_csv(source, separator=separator, infer_schema=False)
# The input's columns and the flags column, as the converter says for this input.
columns = claims.collect_schema()
empty = pl.DataFrame(schema=columns).to_arrow()
schema = pl.from_arrow(converter.output_schema(empty.schema).empty_table()).schema
converted = claims.map_batches(convert, schema=schema, streamable=True).collect()
converted.write_csv(target, separator=separator)
summary = converter.summary()
print(f"{summary['rows_in']} rows, {summary['review_codes']} codes to review", file=sys.stderr)
