# Sourced by the checks in tests/browser and tests/workbook: messages, skipping and installing.
#   CHECK=name REQUIRE=VAR . tests/support/check.sh
# say MSG; fail MSG (exit 1); skip MSG (exit 0, or 1 when the variable named by REQUIRE is 1);
# apt_install COMMAND PACKAGE...: install Debian packages when COMMAND is missing and this user
# may (root and apt-get), else skip saying why.
say() { echo "$CHECK: $*"; }
fail() {
    say "FAILED: $*"
    exit 1
}
skip() {
    say "SKIPPED: $*"
    if [ "${!REQUIRE:-0}" = 1 ]; then exit 1; fi
    exit 0
}
apt_install() {
    local command=$1
    shift
    command -v "$command" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        skip "$command is not installed and this user cannot install it (root and apt-get are needed)"
    fi
    say "installing Debian's $*"
    local log
    log=$(mktemp)
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >"$log" 2>&1; then
        skip "apt-get could not install $*: $(tail -n 3 "$log" | tr '\n' ' ')"
    fi
    rm -f "$log"
}
