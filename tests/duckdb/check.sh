#!/usr/bin/env bash
# The DuckDB recipe (examples/duckdb/convert.sql) against `convert`, on the DE-SynPUF sample:
# `crosswalk export` writes the lookup table, DuckDB (the Python package) unpivots the claims,
# joins the table and pivots back, and every code cell must be what `convert` wrote there, with
# the same options and decisions; the cells the join marks for review must be the ones the
# audit lists, but for clusters that found no room (overflow), which only `convert` places.
# Three runs: the defaults; --choose first-billable --unmapped blank; a decisions file.
# Leaves the files in target/duckdb-check/.
#
# Installs duckdb in a virtual environment; when it cannot, or ../shared/data is absent, it says
# why and exits 0 (CROSSWALK_REQUIRE_DUCKDB=1 makes that a failure).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/support/python.sh

out=target/duckdb-check
CHECK=duckdb-check REQUIRE=CROSSWALK_REQUIRE_DUCKDB
. tests/support/check.sh
sample=../shared/data/claims/desynpuf-inpatient-sample1-head/DE1_0_2008_to_2010_Inpatient_Claims_Sample_1.first122.csv
[ -f "$sample" ] || skip "the DE-SynPUF sample is not at $sample"
python_with duckdb || skip "$PY_WHY"
say "duckdb $("$PY" -c 'import duckdb; print(duckdb.__version__)')"

case $PY in */*) PY=$PWD/$PY ;; esac
cargo build --release --quiet
bin=$PWD/target/release/crosswalk
recipe=$PWD/examples/duckdb/convert.sql
rm -rf "$out"
mkdir -p "$out"

# run NAME OPTION...: export and convert with the same options, join in DuckDB, compare.
run() {
    local name=$1 dir=$out/$1
    shift
    mkdir -p "$dir"
    cp "$sample" "$dir/claims.csv"
    "$bin" export -q "$@" -o "$dir/crosswalk.csv"
    "$bin" convert "$dir/claims.csv" -q "$@" -o "$dir/converted.csv" --audit "$dir/audit.csv"
    local result
    local unmapped=keep
    case " $* " in *" --unmapped blank "*) unmapped=blank ;; esac
    result=$(cd "$dir" && "$PY" - "$recipe" "$unmapped" <<'PY'

import csv, sys
import duckdb

con = duckdb.connect()
if sys.argv[2] == "blank":
    con.execute("SET VARIABLE unmapped = 'blank'")
con.execute(open(sys.argv[1]).read())
cols = [d[0] for d in con.execute("SELECT * FROM converted LIMIT 0").description]
joined = [dict(zip(cols, r)) for r in con.execute("SELECT * FROM converted ORDER BY crosswalk_row").fetchall()]
with open("claims.csv", newline="") as f:
    claims = list(csv.DictReader(f))
with open("converted.csv", newline="") as f:
    converted = list(csv.DictReader(f))
assert len(joined) == len(claims) == len(converted), (len(joined), len(claims), len(converted))
code_cols = [c for c in claims[0] if c == "ADMTNG_ICD9_DGNS_CD" or c.startswith("ICD9_DGNS_CD_") or c.startswith("ICD9_PRCDR_CD_")]
cells = same = clusters = 0
for n, (j, c, v) in enumerate(zip(joined, claims, converted), start=1):
    marked = set((j["cluster"] or "").split())
    for col in code_cols:
        if not c[col].strip():
            continue
        cells += 1
        want, got = v[col], j[col] or ""
        if col in marked:
            # A cluster: the join writes its first code, convert places the rest (or overflows).
            clusters += 1
            assert got == want.split("+")[0] or got == want, (n, col, c[col], got, want)
            continue
        assert got == want, f"row {n} {col}: {c[col]!r} joined as {got!r}, convert wrote {want!r}"
        same += 1
with open("audit.csv", newline="") as f:
    audit = [r for r in csv.DictReader(f) if r["kind"] == "occurrence"]
listed = {(int(r["row"]), r["column"]) for r in audit}
overflow = {(int(r["row"]), r["column"]) for r in audit if "overflow" in r["status"]}
review, cluster = set(), set()
for n, j in enumerate(joined, start=1):
    review |= {(n, col) for col in (j["review"] or "").split()}
    cluster |= {(n, col) for col in (j["cluster"] or "").split()}
assert review <= listed, f"marked for review but not in the audit: {sorted(review - listed)[:5]}"
missing = listed - review
assert missing <= (overflow & cluster), f"in the audit but not marked: {sorted(missing - overflow)[:5]}"
print(f"{cells} code cells: {same} single-code cells as convert wrote them, {clusters} clusters; "
      f"{len(review)} marked for review, {len(listed)} in the audit ({len(missing)} overflowing clusters)")
PY
    ) || fail "$name"
    say "$name: $result"
}

run defaults
run options --choose first-billable --unmapped blank
printf 'system,code,decision\nicd9-dx,401.9,I16.9\nicd9-dx,428.0,I50.9\nicd9-proc,81.54,keep\nicd9-dx,V70.0,blank\n' >"$out/decisions.csv"
run decisions --decisions "$PWD/$out/decisions.csv"
say "passed"
