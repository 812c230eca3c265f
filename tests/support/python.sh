# Sourced by the browser and workbook checks: a Python with the packages a check needs.
#   python_with PACKAGE...   sets PY to a python3 that imports them all, from a virtual
#                            environment in target/python-checks made on first use (Debian's
#                            python3-venv is installed when venv is missing and this user may);
#                            returns 1 with a reason in PY_WHY when it cannot.
python_with() {
    PY=python3 PY_WHY=
    command -v python3 >/dev/null 2>&1 || { PY_WHY="python3 is not installed"; return 1; }
    local imports
    imports=$(printf 'import %s;' "$@")
    if python3 -c "$imports" >/dev/null 2>&1; then return 0; fi
    local venv=target/python-checks
    if [ ! -x "$venv/bin/python" ]; then
        if ! python3 -m venv "$venv" >/dev/null 2>&1; then
            rm -rf "$venv"
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
                { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; } >/dev/null 2>&1
            fi
            python3 -m venv "$venv" >/dev/null 2>&1 || {
                rm -rf "$venv"
                PY_WHY="python3 -m venv does not work (Debian: apt-get install python3-venv)"
                return 1
            }
        fi
    fi
    PY=$venv/bin/python
    if ! "$PY" -c "$imports" >/dev/null 2>&1; then
        "$PY" -m pip install -q --disable-pip-version-check "$@" >"$venv/pip.log" 2>&1 || {
            PY_WHY="pip could not install $*: $(tail -n 2 "$venv/pip.log" | tr '\n' ' ')"
            return 1
        }
    fi
}
