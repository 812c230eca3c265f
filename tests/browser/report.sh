#!/usr/bin/env bash
# The review page in a real browser, end to end. Converts a real DE-SynPUF sample with
# `--audit --summary --report`, renders the same audit again with `crosswalk report`, and opens
# both pages in headless Chromium. Checks that each page
#   - loads with no console message at all (errors, CSP violations, failed loads),
#   - runs its script: the filter, driven by the URL (`#filter=`), narrows the list,
#   - shows the counts that the audit file and the run summary hold (counted here, in Python).
# Leaves the pages and screenshots in target/report-browser/.
#
# Installs Debian's chromium when it is missing and this user may. When it cannot, or the
# samples in ../shared/data are absent, it says why and exits 0 (CROSSWALK_REQUIRE_BROWSER=1
# makes that a failure).
set -euo pipefail
cd "$(dirname "$0")/../.."

sample=../shared/data/claims/desynpuf-inpatient-sample1-head/DE1_0_2008_to_2010_Inpatient_Claims_Sample_1.first122.csv
out=target/report-browser
CHECK=report-browser REQUIRE=CROSSWALK_REQUIRE_BROWSER
. tests/support/check.sh

[ -f "$sample" ] || skip "$sample is absent (the real-format claim samples live in ../shared/data/claims/)"
rm -rf "$out"
mkdir -p "$out"
apt_install chromium chromium
say "$(chromium --version 2>/dev/null | head -n 1)"

cargo build --release --quiet
bin=target/release/crosswalk

# Headless Chromium with nothing running in the background, a fresh profile each time, and the
# page's console written to stderr (lines holding `:CONSOLE`).
browse() {
    local log=$1
    shift
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d "$out/profile.XXXXXX")" \
        --enable-logging=stderr --v=0 --virtual-time-budget=5000 "$@" 2>"$log"
}
console() { grep -E ':CONSOLE' "$1" || true; }

# The console check must be able to fail: a page with a script error is caught.
cat >"$out/broken.html" <<'HTML'
<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head>
<body><script>notDefined();</script></body></html>
HTML
browse "$out/broken.log" --dump-dom "file://$PWD/$out/broken.html" >/dev/null
[ -n "$(console "$out/broken.log")" ] || fail "the console check does not see a script error"

"$bin" convert "$sample" -o "$out/converted.csv" --audit "$out/review.csv" \
    --summary "$out/run.json" --report "$out/review.html" --quiet
"$bin" report "$out/review.csv" --summary "$out/run.json" -o "$out/report.html"

# What the pages must show, counted from the audit and the summary.
python3 - "$out/review.csv" "$out/run.json" >"$out/expected.txt" <<'PY' || fail "the audit and the summary disagree"
import csv, json, sys
review = {"ambiguous", "no_map", "not_in_crosswalk", "malformed", "overflow", "not_billable"}
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
run = json.load(open(sys.argv[2]))
codes, claims, last, per_code = 0, 0, None, {}
# Code rows describe codes; occurrence rows are the review items.
rows = [r for r in rows if r.get("kind", "occurrence") == "occurrence"]
for r in rows:
    if r["CLM_ID"] != last:
        claims, last = claims + 1, r["CLM_ID"]
    codes += any(s in review for s in r["status"].split("+"))
    key = (r["system"], (r["code"] or r["original"]).strip().replace(".", "").upper())
    per_code.setdefault(key, set()).add(r["CLM_ID"])
# The code in the most claims whose text is in no other code of its system, so that filtering
# for it leaves one group.
def alone(key):
    return not any(o != key and o[0] == key[0] and key[1] in o[1] for o in per_code)
top = sorted((k for k in per_code if alone(k)), key=lambda k: (-len(per_code[k]), k))[0]
ambiguous = sum(s.get("ambiguous", 0) for s in run["by_system"].values())
if codes != run["review_codes"]:
    sys.exit(f"the audit lists {codes} codes to review, the summary {run['review_codes']}")
print(*(f"{n:,}" for n in (codes, claims, len(per_code), run["rows_in"], run["codes"])),
      top[0], top[1], f"{ambiguous:,}")
PY
read -r review_codes claims groups rows codes top_system top ambiguous <"$out/expected.txt"
say "expect $rows rows, $codes codes, $review_codes to review in $claims claims, $groups source codes (most claims: $top_system $top)"

for page in review report; do
    html="$out/$page.html"
    grep -q 'https\?://' "$html" && fail "$page.html refers to the network"
    browse "$out/$page.load.log" --dump-dom "file://$PWD/$html" >"$out/$page.dom.html"
    messages=$(console "$out/$page.load.log")
    [ -z "$messages" ] || fail "$page.html logged to the console: $messages"
    for expect in "id=\"rows\">$rows<" "id=\"codes\">$codes<" \
        "id=\"review-codes\">$review_codes<" \
        "id=\"claims\">$claims<" \
        "id=\"groups\">$groups<" \
        "data-status=\"ambiguous\"" \
        ">$ambiguous</text>" \
        "$groups of $groups codes shown"; do
        grep -qF "$expect" "$out/$page.dom.html" || fail "$page.html does not show $expect"
    done

    # The filter: every word must match, so the top code, its system and a title word leave one.
    browse "$out/$page.filter.log" --dump-dom "file://$PWD/$html#filter=$top_system%20$top" \
        >"$out/$page.filtered.html"
    messages=$(console "$out/$page.filter.log")
    [ -z "$messages" ] || fail "$page.html#filter logged to the console: $messages"
    shown=$(grep -o '[0-9]* of [0-9]* codes shown' "$out/$page.filtered.html" || true)
    [ "$shown" = "1 of $groups codes shown" ] || fail "filtering $page.html for $top shows '$shown'"

    browse "$out/$page.shot.log" --window-size=1280,2400 --screenshot="$PWD/$out/$page.png" \
        "file://$PWD/$html" >/dev/null
    [ "$(head -c 8 "$out/$page.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        fail "no screenshot of $page.html"
    say "$page.html: loads with no console message, shows the expected counts, filters; screenshot $out/$page.png"
done
say "passed"
