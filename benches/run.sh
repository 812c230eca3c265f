#!/usr/bin/env bash
# Whole-program benchmark: generate claim files, time the plain read-and-rewrite baseline and
# `crosswalk convert` (with --audit and --summary), and print rows/s, MiB/s, peak RSS and the
# ratio. Needs only the project's tools and GNU time (/usr/bin/time, Debian package `time`).
#
#   benches/run.sh                 # 2M rows, plus RSS at 1M and 10M rows
#   ROWS=200000 SCALES= benches/run.sh   # a quick run
#   WORK=/dev/shm/cw benches/run.sh      # files in memory (about 12 GiB at 10M rows): the figures
#                                        # then measure the program, not the disk
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-2000000}
SCALES=${SCALES-1000000 10000000}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT

command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)"; exit 1; }
cargo build --release --quiet --bin crosswalk --example gen_claims --example passthrough
BIN=target/release/crosswalk
GEN=target/release/examples/gen_claims
PASS=target/release/examples/passthrough

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
    printf "  %-28s %7.2f s  %10.0f rows/s  %7.1f MiB/s  peak RSS %6.1f MiB\n", l, s, n/s, b/1048576/s, m/1024 }'
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "generating $ROWS rows (DE-SynPUF inpatient layout, 81 columns, 11 dx + 6 px code columns)"
$GEN "$ROWS" > "$WORK/claims.csv"
BYTES=$(stat -c %s "$WORK/claims.csv")
echo "  $(awk -v b="$BYTES" 'BEGIN{printf "%.0f MiB", b/1048576}')"

# The baseline writes a file too, as convert does.
read -r _ tp mp < <(measure passthrough sh -c "$PASS \"\$1\" > \"\$2\"" sh "$WORK/claims.csv" "$WORK/pass.csv")
rm -f "$WORK/pass.csv"
read -r _ tc mc < <(measure convert $BIN convert "$WORK/claims.csv" -q -o "$WORK/out.csv" --audit "$WORK/audit.csv" --summary "$WORK/summary.json")
read -r _ tn mn < <(measure convert-no-audit $BIN convert "$WORK/claims.csv" -q -o "$WORK/out.csv")
read -r _ t1 m1 < <(measure convert-j1 $BIN convert "$WORK/claims.csv" -j 1 -q -o "$WORK/out.csv" --audit "$WORK/audit.csv" --summary "$WORK/summary.json")
read -r _ t1n m1n < <(measure convert-j1-no-audit $BIN convert "$WORK/claims.csv" -j 1 -q -o "$WORK/out.csv")
report "passthrough (baseline)" "$ROWS" "$BYTES" "$tp" "$mp"
report "convert --audit --summary" "$ROWS" "$BYTES" "$tc" "$mc"
report "convert (no audit)" "$ROWS" "$BYTES" "$tn" "$mn"
report "convert -j 1 --audit --summary" "$ROWS" "$BYTES" "$t1" "$m1"
report "convert -j 1 (no audit)" "$ROWS" "$BYTES" "$t1n" "$m1n"
echo "  audit: $(($(wc -l < "$WORK/audit.csv") - 1)) rows, $(awk -v b="$(stat -c %s "$WORK/audit.csv")" 'BEGIN{printf "%.0f MiB", b/1048576}')"
awk -v c="$tc" -v n="$tn" -v c1="$t1" -v n1="$t1n" -v p="$tp" 'BEGIN{printf "  ratio to passthrough: %.2f with audit, %.2f without (one thread: %.2f, %.2f)\n", c/p, n/p, c1/p, n1/p}'

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

# Start-up: a one-off look-up, best of 30 (GNU time counts only hundredths of a second).
best_ns=""
for _ in $(seq 30); do
  t0=$(date +%s%N); $BIN map 273.1 >/dev/null; t1=$(date +%s%N)
  if [ -z "$best_ns" ] || [ $((t1 - t0)) -lt "$best_ns" ]; then best_ns=$((t1 - t0)); fi
done
read -r _ _ ms < <(measure map $BIN map 273.1)
awk -v n="$best_ns" -v m="$ms" 'BEGIN{printf "  %-28s %7.1f ms  peak RSS %.1f MiB\n", "map 273.1 (end to end)", n/1e6, m/1024}'
