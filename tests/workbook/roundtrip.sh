#!/usr/bin/env bash
# The review workbook through a real spreadsheet program, end to end. For the bundled example and
# the real DE-SynPUF sample:
#   1. `convert --audit review.xlsx` writes the workbook;
#   2. openpyxl (a spreadsheet library) fills every code's decision from its dropdown list
#      (`accept` for an overflow) and overrides one claim's decision on the Occurrences sheet;
#   3. LibreOffice opens the workbook and saves it again, as a coder's spreadsheet would;
#   4. `convert --decisions review.xlsx --strict` re-converts (also a RIF sample, whose ICD-10
#      codes are decided as ICD-10 codes): no review item may be left, the
#      override must win for its claim, and codes with leading zeros and 15-digit claim ids
#      must come back exactly as written.
# Leaves the files in target/workbook-check/.
#
# Installs Debian's libreoffice-calc-nogui when soffice is missing and this user may, and
# openpyxl in a virtual environment. When it cannot, it says why and exits 0
# (CROSSWALK_REQUIRE_WORKBOOK=1 makes that a failure). The DE-SynPUF part is skipped, saying so,
# when ../shared/data is absent.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/support/python.sh

out=target/workbook-check
CHECK=workbook-check REQUIRE=CROSSWALK_REQUIRE_WORKBOOK
. tests/support/check.sh
rm -rf "$out"
mkdir -p "$out"
apt_install soffice libreoffice-calc-nogui
python_with openpyxl || skip "$PY_WHY"
say "$(soffice --version 2>/dev/null | head -n 1)"

cargo build --release --quiet
bin=$PWD/target/release/crosswalk

# check NAME INPUT [OPTION...]: the whole loop on one claim file.
check() {
    local name=$1 input=$2 dir=$out/$1
    shift 2
    mkdir -p "$dir/resaved"
    "$bin" convert "$input" "$@" -q -o "$dir/first.csv" --audit "$dir/review.xlsx"
    "$PY" - "$dir" <<'PY' || fail "$name: filling the workbook"
import json, sys
import openpyxl
d = sys.argv[1]
wb = openpyxl.load_workbook(f"{d}/review.xlsx")
codes, occ = wb["Codes"], wb["Occurrences"]
ch = [c.value for c in codes[1]]
oh = [c.value for c in occ[1]]
# The dropdown of each decision cell: a list in the validation, or a row of the hidden sheet.
lists = wb["Choices"]
dropdowns = {}
for dv in codes.data_validations.dataValidation:
    f = dv.formula1
    if f.startswith('"'):
        values = f.strip('"').split(",")
    else:
        n = int(f.rsplit("$", 1)[1])
        values = [c.value for c in lists[n][1:] if c.value is not None]
    for ref in str(dv.sqref).split():
        dropdowns[ref] = values
assert len(dropdowns) == codes.max_row - 1, "a dropdown per code"
decided = {}
for row in codes.iter_rows(min_row=2):
    cell = {h: c for h, c in zip(ch, row)}
    choices = dropdowns[cell["decision"].coordinate]
    value = "accept" if "overflow" in cell["status"].value else choices[0]
    assert value in choices, (cell["code"].value, value, choices)
    cell["decision"].value = value
    decided[(cell["system"].value, cell["code"].value)] = (value, choices)
# One claim decided otherwise: the first occurrence of a code with two or more alternatives.
override = None
for row in occ.iter_rows(min_row=2):
    cell = {h: c for h, c in zip(oh, row)}
    value, choices = decided[(cell["system"].value, cell["code"].value)]
    alternatives = [c for c in choices if c not in ("keep", "blank", "accept")]
    if "ambiguous" in cell["status"].value and len(alternatives) >= 2:
        cell["decision"].value = alternatives[1]
        override = {h: cell[h].value for h in oh if h != "decision"} | {"decision": alternatives[1]}
        break
assert override, "an ambiguous occurrence to override"
# What must survive the spreadsheet: every key and code cell, as text.
texts = {
    "keys": [[c.value for c in row[: oh.index("row")]] for row in occ.iter_rows(min_row=2)],
    "codes": [row[ch.index("code")].value for row in codes.iter_rows(min_row=2)],
}
assert all(isinstance(v, str) for r in texts["keys"] for v in r), "keys are text"
wb.save(f"{d}/filled.xlsx")
json.dump({"override": override, "texts": texts}, open(f"{d}/filled.json", "w"))
PY
    soffice --headless --calc --convert-to xlsx --outdir "$dir/resaved" "$dir/filled.xlsx" \
        >"$dir/soffice.log" 2>&1 || fail "$name: LibreOffice could not re-save: $(tail -n 2 "$dir/soffice.log")"
    [ -s "$dir/resaved/filled.xlsx" ] || fail "$name: LibreOffice wrote no workbook: $(cat "$dir/soffice.log")"
    "$PY" - "$dir" <<'PY' || fail "$name: the re-saved workbook lost text"
import json, sys
import openpyxl
d = sys.argv[1]
want = json.load(open(f"{d}/filled.json"))["texts"]
wb = openpyxl.load_workbook(f"{d}/resaved/filled.xlsx")
codes, occ = wb["Codes"], wb["Occurrences"]
ch = [c.value for c in codes[1]]
oh = [c.value for c in occ[1]]
keys = [[c.value for c in row[: oh.index("row")]] for row in occ.iter_rows(min_row=2)]
got = [row[ch.index("code")].value for row in codes.iter_rows(min_row=2)]
assert keys == want["keys"], "claim keys changed"
assert got == want["codes"], "codes changed"
if "rif" not in d:
    assert any(len(k) == 15 and k.isdigit() for r in keys for k in r), "15-digit claim ids were tested"
    assert any(c.startswith("0") for c in got), "a code with a leading zero was tested"
else:
    assert any(c[0].isalpha() and c[0] not in "EV" for c in got), "ICD-10 codes were tested"
PY
    "$bin" convert "$input" "$@" -o "$dir/decided.csv" --decisions "$dir/resaved/filled.xlsx" \
        --audit "$dir/remaining.xlsx" --summary "$dir/run.json" --strict 2>"$dir/decided.log" ||
        fail "$name: the re-conversion left review items or failed: $(tail -n 5 "$dir/decided.log")"
    "$PY" - "$dir" "$dir/decided.csv" <<'PY' || fail "$name: the decisions were not applied as made"
import csv, json, sys
d, converted = sys.argv[1], sys.argv[2]
run = json.load(open(f"{d}/run.json"))
assert run["review_codes"] == 0, run["review_codes"]
assert run["decisions"]["unused"] == [], run["decisions"]["unused"]
o = json.load(open(f"{d}/filled.json"))["override"]
with open(converted, newline="") as f:
    first = f.readline()
    f.seek(0)
    rows = list(csv.DictReader(f, delimiter="|" if first.count("|") > first.count(",") else ","))
row = rows[int(o["row"]) - 1]
written = row[o["column"]].replace(".", "")
assert written == o["decision"].replace(".", "").replace("+", ""), (written, o)
assert f'{o["column"]}:decided:' in row["crosswalk_flags"], row["crosswalk_flags"]
print(f'{run["decisions"]["loaded"]} decisions, {run["decisions"]["applied"]} codes decided; '
      f'claim row {o["row"]} {o["column"]}: {o["code"]} -> {o["decision"]}')
PY
    say "$name: filled, re-saved by LibreOffice, re-converted with no review item left"
}

check example examples/claims.csv
sample=../shared/data/claims/desynpuf-inpatient-sample1-head/DE1_0_2008_to_2010_Inpatient_Claims_Sample_1.first122.csv
rif=../shared/data/claims/cms-bluebutton-rif-sample-b/sample-b-inpatient.txt
if [ -f "$sample" ]; then
    check desynpuf "$sample"
    # ICD-10 codes (headers, codes not in the code set) are decided as ICD-10 codes.
    check rif-inpatient "$rif" --flexible
else
    say "DE-SynPUF part skipped: $sample is absent (the real-format samples live in ../shared/data/claims/)"
fi
say "passed"
