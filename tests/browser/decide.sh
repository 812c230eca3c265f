#!/usr/bin/env bash
# Deciding in the review page, end to end, in headless Chromium driven by WebDriver: for the
# bundled example and the real DE-SynPUF sample, tests/browser/decide.py chooses alternatives on
# several cards and for one sample claim, reloads the page (choices come back from local
# storage), downloads the decisions, re-converts with them and finds those codes decided, with no
# console message from the page. Leaves its files in target/decide-browser/.
#
# Installs Debian's chromium and chromium-driver, and selenium in a virtual environment, when
# they are missing and this user may; when it cannot, it says why and exits 0
# (CROSSWALK_REQUIRE_BROWSER=1 makes that a failure).
set -euo pipefail
cd "$(dirname "$0")/../.."
CHECK=decide-browser REQUIRE=CROSSWALK_REQUIRE_BROWSER
. tests/support/check.sh
. tests/support/python.sh

out=target/decide-browser
rm -rf "$out"
mkdir -p "$out"
apt_install chromium chromium
apt_install chromedriver chromium-driver
python_with selenium || skip "$PY_WHY"
say "$(chromedriver --version 2>/dev/null | head -n 1)"

cargo build --release --quiet
bin=$PWD/target/release/crosswalk

"$PY" tests/browser/decide.py "$bin" examples/claims.csv "$out/example" ||
    fail "deciding in the page of the example"
say "example: decided in the page, downloaded, re-converted"
# Without key columns a claim is named by its row and the row's fingerprint.
python3 -c 'import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
at = rows[0].index("CLM_ID")
csv.writer(open(sys.argv[2], "w", newline=""), lineterminator="\n").writerows([r[:at] + r[at + 1:] for r in rows])' \
    examples/claims.csv "$out/keyless.csv"
"$PY" tests/browser/decide.py "$bin" "$out/keyless.csv" "$out/keyless" ||
    fail "deciding in the page of the example without its key column"
grep -q ',fingerprint,' "$out/keyless/downloads/decisions.csv" ||
    fail "the keyless page's decisions carry no fingerprint"
say "example without key columns: decided per claim by row and fingerprint"
sample=../shared/data/claims/desynpuf-inpatient-sample1-head/DE1_0_2008_to_2010_Inpatient_Claims_Sample_1.first122.csv
if [ -f "$sample" ]; then
    "$PY" tests/browser/decide.py "$bin" "$sample" "$out/desynpuf" ||
        fail "deciding in the page of the DE-SynPUF sample"
    say "desynpuf: decided in the page, downloaded, re-converted"
else
    say "DE-SynPUF part skipped: $sample is absent (the real-format samples live in ../shared/data/claims/)"
fi
say "passed"
