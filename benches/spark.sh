#!/usr/bin/env bash
# Throughput of the Python package in PySpark local mode beside the CLI's, on the generated
# 1M-row claim file of benches/run.sh: Spark reading the rows only, Spark reading and converting
# them with mapInArrow, and `crosswalk convert` of the same file. Needs the environment that
# tests/python/check.sh makes (the wheel, pyspark, Java): run that first.
#   benches/spark.sh [ROWS]       (default 1000000; WORK=dir for the files, default a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
py=target/python-wheel/bin/python
[ -x "$py" ] && "$py" -c 'import crosswalk, pyspark' 2>/dev/null ||
    { echo "spark.sh: run tests/python/check.sh first (it builds the wheel and installs pyspark)"; exit 1; }
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
cargo build --release --quiet --example gen_claims
cargo build --release --quiet
IN=$WORK/claims.csv
[ -s "$IN" ] || target/release/examples/gen_claims "$ROWS" >"$IN"
cores=$(nproc)
echo "# $(date -u +%F), $cores cores, $(wc -l <"$IN") lines ($(du -m "$IN" | cut -f1) MB), pyspark $("$py" -c 'import pyspark; print(pyspark.__version__)')"
"$py" benches/spark.py "$IN" "$cores" 2>/dev/null
for j in "$cores" 1; do
    rm -f "$WORK/out.csv"
    /usr/bin/time -f "%e" -o "$WORK/time" target/release/crosswalk convert "$IN" -q -j "$j" -o "$WORK/out.csv"
    echo -e "crosswalk convert -j $j\t$(cat "$WORK/time")\t$((ROWS))"
done
