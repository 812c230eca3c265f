#!/usr/bin/env bash
# The Python package: builds the wheel with maturin, installs it offline (--no-index) into a
# fresh virtual environment and imports it there, then installs pyarrow, polars, pandas, pytest
# and pyspark into that environment and runs tests/python (every cell against the CLI's output,
# the audit, pickling, errors, the Polars example, and PySpark mapInArrow on 4 partitions).
# Java for Spark comes from Debian's openjdk-17-jre-headless when missing and this user may
# install it; without it the Spark tests skip, saying why.
#
# Skips, saying why, when Python or the packages cannot be had (CROSSWALK_REQUIRE_PYTHON=1 makes
# that a failure). Leaves the wheel in target/wheels/.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/support/python.sh

CHECK=python-check REQUIRE=CROSSWALK_REQUIRE_PYTHON
. tests/support/check.sh
python_with maturin || skip "$PY_WHY"
case $PY in */*) PY=$PWD/$PY ;; esac

cargo build --release --quiet
rm -rf target/wheels
say "building the wheel ($("$PY" -m maturin --version))"
(cd python && "$PY" -m maturin build --release --locked --quiet --out ../target/wheels) >target/maturin.log 2>&1 ||
    fail "maturin build failed: $(tail -n 5 target/maturin.log)"
wheels=(target/wheels/*.whl)
[ "${#wheels[@]}" = 1 ] || fail "expected one wheel, found: ${wheels[*]}"
say "built $(basename "${wheels[0]}") ($(du -h "${wheels[0]}" | cut -f1))"

venv=target/python-wheel
rm -rf "$venv"
python3 -m venv "$venv" || fail "python3 -m venv failed"
vpy=$PWD/$venv/bin/python
# The wheel needs nothing from the network: installed with the package index turned off.
"$vpy" -m pip install -q --disable-pip-version-check --no-index "${wheels[0]}" ||
    fail "pip could not install the wheel offline"
(cd /tmp && "$vpy" -c 'import crosswalk; r = crosswalk.map(["273.1"]); assert r[0]["alternatives"][0]["codes"][0]["dotted"] == "D47.2", r') ||
    fail "the installed wheel does not map 273.1 to D47.2"
say "the wheel installs offline and maps 273.1 to D47.2"

say "installing pyarrow, polars, pandas, pytest and pyspark into $venv"
"$vpy" -m pip install -q --disable-pip-version-check pyarrow polars "pandas<3" pytest pyspark >"$venv/pip.log" 2>&1 ||
    skip "pip could not install the test packages: $(tail -n 2 "$venv/pip.log" | tr '\n' ' ')"

if ! command -v java >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing Debian's openjdk-17-jre-headless for Spark"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; } \
            >"$venv/apt.log" 2>&1 || say "apt-get could not install Java: $(tail -n 2 "$venv/apt.log" | tr '\n' ' ')"
    else
        say "Java is missing and this user cannot install it: the Spark tests will skip"
    fi
fi

# The tests run with the wheel's environment first on PATH (the Polars example runs `python`).
CROSSWALK_BIN=$PWD/target/release/crosswalk PATH=$PWD/$venv/bin:$PATH \
    "$vpy" -m pytest -q -rs -p no:cacheprovider tests/python || fail "the Python tests failed"
say "passed"
