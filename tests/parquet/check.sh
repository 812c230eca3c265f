#!/usr/bin/env bash
# Parquet in and out against the CSV path, on every real sample: each claim file is written as
# all-string Parquet by pyarrow (codes stay text), converted by `crosswalk convert x.parquet -o
# y.parquet`, and the output read back with pyarrow must hold, cell for cell, what `convert`
# writes for the CSV file (the same columns plus the flags column, codes as strings); the same
# for CSV in and Parquet out, and Parquet in and CSV out (byte-identical to the CSV path).
# A typed file (pyarrow's own inference: numbers as int64 and double) keeps its types, and one
# whose code column was inferred as a number is refused, naming the column.
# Leaves the files in target/parquet-check/.
#
# Installs pyarrow in a virtual environment; when it cannot, or ../shared/data is absent, it
# says why and exits 0 (CROSSWALK_REQUIRE_PARQUET=1 makes that a failure).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/support/python.sh

out=target/parquet-check
CHECK=parquet-check REQUIRE=CROSSWALK_REQUIRE_PARQUET
. tests/support/check.sh
claims=../shared/data/claims
[ -d "$claims" ] || skip "the real samples are not in $claims"
python_with pyarrow || skip "$PY_WHY"
case $PY in */*) PY=$PWD/$PY ;; esac
say "pyarrow $("$PY" -c 'import pyarrow; print(pyarrow.__version__)')"
cargo build --release --quiet
bin=$PWD/target/release/crosswalk
rm -rf "$out"
mkdir -p "$out"

n=0
for input in "$claims"/desynpuf-inpatient-sample1-head/*.csv "$claims"/mimic-iii-demo-1.4/*.csv \
    "$claims"/cms-bluebutton-rif-sample-b/*.txt; do
    name=$(basename "$input")
    dir=$out/${name%.*}
    # Named as the sample: the MIMIC tables are told apart by their names.
    pqin=$dir/${name%.*}.parquet
    mkdir -p "$dir"
    delimiter=,
    flexible=()
    case $name in *.txt) delimiter='|' flexible=(--flexible) ;; esac
    # The CSV path; a file that convert refuses (no code columns) is left out.
    if ! "$bin" convert "$input" -q "${flexible[@]}" -o "$dir/want.csv" 2>"$dir/err"; then
        say "$name: not converted as CSV ($(head -c 120 "$dir/err")), left out"
        continue
    fi
    "$PY" - "$input" "$delimiter" "$pqin" <<'PY' || fail "$name: writing Parquet with pyarrow"
import sys, csv
import pyarrow as pa, pyarrow.parquet as pq
path, delimiter, target = sys.argv[1], sys.argv[2], sys.argv[3]
with open(path, newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f, delimiter=delimiter))
header, body = rows[0], rows[1:]
width = len(header)
# Rows of another width (the RIF samples' revenue tails) are cut or padded to the header's.
body = [(r + [""] * width)[:width] for r in body]
table = pa.table({h: pa.array([r[i] for r in body], pa.string()) for i, h in enumerate(header)})
pq.write_table(table, target)
PY
    "$bin" convert "$pqin" -q -o "$dir/pq.parquet" || fail "$name: Parquet to Parquet"
    if [ ${#flexible[@]} = 0 ]; then
        "$bin" convert "$input" -q -o "$dir/csv.parquet" || fail "$name: CSV to Parquet"
    elif "$bin" convert "$input" -q --flexible -o "$dir/csv.parquet" 2>"$dir/err"; then
        # Every row had the header's width after all.
        :
    else
        grep -q "cannot be written to it; write CSV" "$dir/err" || fail "$name: $(cat "$dir/err")"
        [ ! -e "$dir/csv.parquet" ] || fail "$name: a Parquet file left after the error"
        cp "$dir/pq.parquet" "$dir/csv.parquet"
    fi
    "$bin" convert "$pqin" -q -o "$dir/pq.csv" || fail "$name: Parquet to CSV"
    "$PY" - "$dir" "$delimiter" "${flexible[*]:-}" <<'PY' || fail "$name: cells"
import sys, csv
import pyarrow.parquet as pq
d, delimiter, flexible = sys.argv[1], sys.argv[2], sys.argv[3]
with open(f"{d}/want.csv", newline="", encoding="utf-8") as f:
    want = list(csv.reader(f, delimiter=delimiter))
with open(f"{d}/pq.csv", newline="", encoding="utf-8") as f:
    from_parquet = list(csv.reader(f))
for label in ("pq", "csv"):
    table = pq.read_table(f"{d}/{label}.parquet")
    assert table.schema.names == want[0], (label, table.schema.names[:3], want[0][:3])
    assert all(str(t) == "string" for t in table.schema.types), (label, set(map(str, table.schema.types)))
    got = [[v if v is not None else "" for v in r.values()] for r in table.to_pylist()]
    if not flexible:
        assert got == want[1:], f"{label}: another cell"
    else:
        # A ragged row was cut to the header's width on its way into Parquet: compare the cells
        # of the header's columns but the flags, which name the raggedness.
        cut = [r[: len(want[0]) - 1] for r in want[1:]]
        assert [r[:-1] for r in got] == cut, f"{label}: another cell"
if not flexible:
    assert from_parquet == want, "Parquet in, CSV out: another cell"
PY
    n=$((n + 1))
done
[ "$n" -ge 5 ] || fail "only $n samples converted"
say "$n real samples: the same cells through Parquet as through CSV"

# Types: numbers stay numbers; a code column inferred as a number is refused, naming it.
sample=$claims/desynpuf-inpatient-sample1-head/DE1_0_2008_to_2010_Inpatient_Claims_Sample_1.first122.csv
"$PY" - "$sample" "$out" <<'PY' || fail "typed files"
import sys, subprocess
import pyarrow as pa, pyarrow.csv as pc, pyarrow.parquet as pq
sample, out = sys.argv[1], sys.argv[2]
inferred = pc.read_csv(sample)
pq.write_table(inferred, f"{out}/inferred.parquet")
codes = [n for n in inferred.schema.names if "ICD9" in n or n.startswith("HCPCS")]
typed = pc.read_csv(sample, convert_options=pc.ConvertOptions(column_types={n: pa.string() for n in codes}))
pq.write_table(typed, f"{out}/typed.parquet")
bin = "target/release/crosswalk"
refused = subprocess.run([bin, "convert", f"{out}/inferred.parquet", "-q", "-o", f"{out}/x.parquet"], capture_output=True, text=True)
assert refused.returncode == 1 and "stored as Int64" in refused.stderr, refused.stderr
subprocess.run([bin, "convert", f"{out}/typed.parquet", "-q", "-o", f"{out}/typed-out.parquet"], check=True)
got = pq.read_table(f"{out}/typed-out.parquet")
for f in typed.schema:
    if f.name not in codes:
        assert got.schema.field(f.name).type == f.type, f.name
        assert got.column(f.name).to_pylist() == typed.column(f.name).to_pylist(), f.name

PY
say "typed columns keep their type and values; a numeric code column is refused"
say "passed"
