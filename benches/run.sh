#!/usr/bin/env bash
# Whole-program benchmark. Generates a claim file and times, side by side on that file, in
# alternating rounds (medians of 3): `xsv fmt -o` and `xan select '*' -o` (the CSV tools users
# compare against: read and rewrite every record), the project's own passthrough (same csv crate
# settings as convert), and `crosswalk convert` without and with the audit, at -j 1 and -j 2, and
# two one-thread runs at once on the two halves of the file (the machine's ceiling for two threads).
# Each is printed with rows/s, MiB/s, peak RSS and its ratio to `xsv fmt -o`. Then: scaling
# with code columns, bad input, decisions, RSS at other sizes, start-up.
# Needs GNU time (/usr/bin/time, Debian package `time`). xsv and xan are installed with
# `cargo install --locked` into $TOOLS (default ~/.cache/crosswalk-bench) when they are not on
# the PATH; a tool that cannot be installed is left out, saying why.
#
#   benches/run.sh                       # 1M rows, plus RSS at 1M and 10M rows
#   ROWS=200000 SCALES= benches/run.sh   # a quick run
#   WORK=/dev/shm/cw benches/run.sh      # files in memory (about 12 GiB at 10M rows): the figures
#                                        # then measure the program, not the disk
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-1000000}
SCALES=${SCALES-1000000 10000000}
ROUNDS=${ROUNDS:-3}
TOOLS=${TOOLS:-$HOME/.cache/crosswalk-bench}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT

command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)"; exit 1; }
cargo build --release --quiet --bin crosswalk --example gen_claims --example passthrough
BIN=target/release/crosswalk
GEN=target/release/examples/gen_claims
PASS=target/release/examples/passthrough

# tool NAME: the path of xsv or xan, installed into $TOOLS when missing; empty when it cannot be.
tool() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  if [ ! -x "$TOOLS/bin/$name" ]; then
    echo "installing $name into $TOOLS (cargo install --locked; once)" >&2
    cargo install --locked --quiet --root "$TOOLS" "$name" >"$WORK/$name-install.log" 2>&1 ||
      { echo "  $name left out: cargo install failed: $(tail -n 2 "$WORK/$name-install.log" | tr '\n' ' ')" >&2; return; }
  fi
  echo "$TOOLS/bin/$name"
}
XSV=$(tool xsv)
XAN=$(tool xan)

# measure NAME CMD... : best of 3 wall times, with the peak RSS of that run
measure() {
  local name=$1; shift
  local best="" rss=""
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || { cat "$WORK/stderr"; exit 1; }
    read -r t m < "$WORK/time"
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$m; fi
  done
  echo "$name $best $rss"
}

report() {  # report LABEL ROWS BYTES SECONDS RSS_KB
  awk -v l="$1" -v n="$2" -v b="$3" -v s="$4" -v m="$5" 'BEGIN{
    printf "  %-34s %7.2f s  %10.0f rows/s  %7.1f MiB/s  peak RSS %6.1f MiB\n", l, s, n/s, b/1048576/s, m/1024 }'
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "generating $ROWS rows (DE-SynPUF inpatient layout, 81 columns, 11 dx + 6 px code columns)"
$GEN "$ROWS" > "$WORK/claims.csv"
BYTES=$(stat -c %s "$WORK/claims.csv")
echo "  $(awk -v b="$BYTES" 'BEGIN{printf "%.0f MiB", b/1048576}')"

# The side-by-side runs: every one writes its output to a file, as convert does.
IN=$WORK/claims.csv OUT=$WORK/out.csv
names=() cmds=()
add() { names+=("$1"); cmds+=("$2"); }
[ -n "$XSV" ] && add "xsv fmt -o" "$XSV fmt $IN -o $OUT"
[ -n "$XAN" ] && add "xan select '*' -o" "$XAN select '*' $IN -o $OUT"
add "passthrough (csv crate)" "$PASS $IN > $OUT"
add "convert -j 2" "$BIN convert $IN -q -j 2 -o $OUT"
add "convert -j 2 --audit" "$BIN convert $IN -q -j 2 -o $OUT --audit $WORK/audit.csv --summary $WORK/summary.json"
add "convert -j 1" "$BIN convert $IN -q -j 1 -o $OUT"
add "convert -j 1 --audit" "$BIN convert $IN -q -j 1 -o $OUT --audit $WORK/audit.csv --summary $WORK/summary.json"
# The machine's own ceiling for two threads: two one-thread runs at once, each on half the file
# (two cores share caches, memory and, on a virtual machine, whatever else the host runs).
HALF=$(( (ROWS + 1) / 2 ))
head -n $((HALF + 1)) "$IN" > "$WORK/half1.csv"
{ head -n 1 "$IN"; tail -n +$((HALF + 2)) "$IN"; } > "$WORK/half2.csv"
# (GNU time's peak RSS of it is one process's.)
add "two convert -j 1 at once, halves" "$BIN convert $WORK/half1.csv -q -j 1 -o $WORK/out1.csv & p=\$!; $BIN convert $WORK/half2.csv -q -j 1 -o $WORK/out2.csv && wait \$p"
for round in $(seq "$ROUNDS"); do
  for i in "${!cmds[@]}"; do
    /usr/bin/time -f "%e %M" -o "$WORK/time" sh -c "${cmds[$i]}" >/dev/null 2>"$WORK/stderr" ||
      { echo "${names[$i]} failed:"; cat "$WORK/stderr"; exit 1; }
    echo "$i $(cat "$WORK/time")" >> "$WORK/rounds"
  done
done
# The median time of each, with the peak RSS of its median run; the ratio to xsv fmt (to the
# passthrough when xsv is left out).
base=0
declare -A median rss
for i in "${!cmds[@]}"; do
  read -r t m < <(awk -v i="$i" '$1 == i {print $2, $3}' "$WORK/rounds" | sort -n | awk '{a[NR]=$0} END{print a[int((NR+1)/2)]}')
  median[$i]=$t rss[$i]=$m
done
[ -n "$XSV" ] || base=$(for i in "${!names[@]}"; do [ "${names[$i]}" = "passthrough (csv crate)" ] && echo "$i"; done)
echo "side by side, median of $ROUNDS alternating rounds (ratio to ${names[$base]}):"
for i in "${!cmds[@]}"; do
  report "${names[$i]}" "$ROWS" "$BYTES" "${median[$i]}" "${rss[$i]}" | tr -d '\n'
  awk -v t="${median[$i]}" -v b="${median[$base]}" 'BEGIN{printf "  %5.2f x\n", t/b}'
done
index_of() { for i in "${!names[@]}"; do [ "${names[$i]}" = "$1" ] && echo "$i"; done; }
j1=$(index_of "convert -j 1") j2=$(index_of "convert -j 2") pair=$(index_of "two convert -j 1 at once, halves")
awk -v a="${median[$j1]}" -v b="${median[$j2]}" -v p="${median[$pair]}" 'BEGIN{
  printf "  -j 2 converts %.2f x as fast as -j 1; two -j 1 runs at once on the halves: %.2f x\n", a/b, a/p }'
rm -f "$WORK/half1.csv" "$WORK/half2.csv" "$WORK/out1.csv" "$WORK/out2.csv"
awk -v a="$(stat -c %s "$WORK/audit.csv")" -v b="$BYTES" -v n="$(grep -c '^occurrence,' "$WORK/audit.csv")" \
  'BEGIN{printf "  audit: %d occurrences, %.0f MiB (%.2f of the input)\n", n, a/1048576, a/b}'

# Scaling with code columns: the same file, converting 1, 6, 11 (every diagnosis column) and 17
# (all) of its code columns.
for spec in "1:ICD9_DGNS_CD_1" \
  "6:ICD9_DGNS_CD_1,ICD9_DGNS_CD_2,ICD9_DGNS_CD_3,ICD9_DGNS_CD_4,ICD9_DGNS_CD_5,ICD9_DGNS_CD_6" \
  "11:ADMTNG_ICD9_DGNS_CD,ICD9_DGNS_CD_*" "17:"; do
  n=${spec%%:*}
  cols=${spec#*:}
  sel=()
  if [ -n "$cols" ]; then sel=(--dx "$cols"); fi
  read -r _ tk mk < <(measure "cols-$n" $BIN convert "$WORK/claims.csv" "${sel[@]}" -q -o "$WORK/out.csv" --audit "$WORK/audit.csv" --summary "$WORK/summary.json")
  report "convert, $n code columns" "$ROWS" "$BYTES" "$tk" "$mk"
done

# Bad input keeps memory flat too: the claim id columns named as code columns make two new
# malformed values per row, and an unclosed quote at the top turns the file into one record.
read -r _ ti mi < <(measure ids-as-codes $BIN convert "$WORK/claims.csv" --dx CLM_ID,DESYNPUF_ID -q -o "$WORK/out.csv" --audit "$WORK/audit.csv" --report "$WORK/review.html" --summary "$WORK/summary.json")
report "ids as codes (audit, page)" "$ROWS" "$BYTES" "$ti" "$mi"
{ head -2 "$WORK/claims.csv"; printf '1,"unclosed\n'; tail -n +3 "$WORK/claims.csv"; } > "$WORK/quote.csv"
/usr/bin/time -f "%e %M" -o "$WORK/time" $BIN convert "$WORK/quote.csv" -q -o "$WORK/out.csv" 2>/dev/null && { echo "unclosed quote not refused"; exit 1; }
read -r t m < <(tail -n 1 "$WORK/time")  # after GNU time's "exited with non-zero status" line
awk -v s="$t" -v m="$m" 'BEGIN{printf "  %-28s %7.2f s  peak RSS %6.1f MiB (refused)\n", "unclosed quote on line 3", s, m/1024}'
rm -f "$WORK/quote.csv" "$WORK/review.html"

# Decisions held compactly: 2M occurrence decisions (a filled-in audit) for a one-row file; the
# peak RSS beyond a run without them, per decision.
awk 'BEGIN { print "row,line,CLM_ID,column,system,original,status,alternatives,decision,scope";
  for (i = 0; i < 2000000; i++)
    printf "%d,%d,1%014d,ICD9_DGNS_CD_1,icd9-dx,99681,ambiguous,T86.10 | T86.11 | T86.12,T86.11,\n", i + 1, i + 2, i }' > "$WORK/decisions.csv"
printf 'CLM_ID,ICD9_DGNS_CD_1\n100000000000005,99681\n' > "$WORK/one.csv"
read -r _ td md < <(measure decisions $BIN convert "$WORK/one.csv" --decisions "$WORK/decisions.csv" -q -o "$WORK/out.csv")
read -r _ _ m0 < <(measure no-decisions $BIN convert "$WORK/one.csv" -q -o "$WORK/out.csv")
awk -v s="$td" -v m="$md" -v z="$m0" 'BEGIN{printf "  %-28s %7.2f s  peak RSS %6.1f MiB, %.0f bytes per decision\n", "2,000,000 decisions loaded", s, m/1024, (m-z)*1024/2000000}'
rm -f "$WORK/decisions.csv" "$WORK/one.csv"

for scale in $SCALES; do
  $GEN "$scale" > "$WORK/scale.csv"
  /usr/bin/time -f "%e %M" -o "$WORK/time" $BIN convert "$WORK/scale.csv" -q -o "$WORK/out.csv" --audit "$WORK/audit.csv" --summary "$WORK/summary.json"
  read -r t m < "$WORK/time"
  report "convert, $scale rows" "$scale" "$(stat -c %s "$WORK/scale.csv")" "$t" "$m"
  rm -f "$WORK/scale.csv" "$WORK/out.csv" "$WORK/audit.csv"
done

# Parquet in and out on the same file, when pyarrow can be had (it writes the all-string Parquet
# input, as a Parquet pipeline would hold the claims): best of 3 each.
. tests/support/python.sh
if python_with pyarrow; then
  "$PY" - "$IN" "$WORK/claims.parquet" <<'PY'
import csv, sys
import pyarrow as pa, pyarrow.csv as pc, pyarrow.parquet as pq
with open(sys.argv[1], newline="") as f:
    header = next(csv.reader(f))
text = {h: pa.string() for h in header}
table = pc.read_csv(sys.argv[1], convert_options=pc.ConvertOptions(column_types=text, strings_can_be_null=False))
pq.write_table(table, sys.argv[2], compression="zstd")
PY
  for run in "csv-to-parquet $IN $WORK/out.parquet" "parquet-to-parquet $WORK/claims.parquet $WORK/out.parquet" \
      "parquet-to-csv $WORK/claims.parquet $WORK/out.csv"; do
    set -- $run
    read -r _ tp mp < <(measure "$1" $BIN convert "$2" -q -j 2 -o "$3")
    report "convert -j 2, ${1//-/ }" "$ROWS" "$BYTES" "$tp" "$mp"
  done
  rm -f "$WORK/claims.parquet" "$WORK/out.parquet"
else
  echo "  Parquet runs left out: $PY_WHY"
fi

# Start-up: a one-off look-up, best of 30 (GNU time counts only hundredths of a second).
best_ns=""
for _ in $(seq 30); do
  t0=$(date +%s%N); $BIN map 273.1 >/dev/null; t1=$(date +%s%N)
  if [ -z "$best_ns" ] || [ $((t1 - t0)) -lt "$best_ns" ]; then best_ns=$((t1 - t0)); fi
done
read -r _ _ ms < <(measure map $BIN map 273.1)
awk -v n="$best_ns" -v m="$ms" 'BEGIN{printf "  %-28s %7.1f ms  peak RSS %.1f MiB\n", "map 273.1 (end to end)", n/1e6, m/1024}'
