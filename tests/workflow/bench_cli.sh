#!/usr/bin/env bash
# e2e-speed's command line: --help prints the usage; a mistyped option, an
# option without its value or a bad value is refused with rc 2 and a message
# naming it -- never taken for a scenario file's name, never run.
# Usage: bench_cli.sh E2E_SPEED
set -u
e=$1
fail() { echo "FAIL: $*"; exit 1; }

out=$("$e" --help) || fail "--help exited $?"
grep -q '^usage: e2e-speed' <<<"$out" || fail "--help printed no usage: $out"

refused() { # expected-message-part args...
  local want=$1; shift
  local err rc
  err=$("$e" "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" -eq 2 ] || fail "'$*' exited $rc, not 2"
  grep -qF -- "$want" <<<"$err" || fail "'$*' said '$err', not '$want'"
}
refused "unknown option '--hedline'" --hedline
refused "unknown option '-q'" -q
refused "--only needs a value" --headline --only
refused "--csv needs a value" --csv
refused "--devices needs a value" --devices
refused "--only takes forwarded or irqfd, not 'posted'" --only posted
refused "--devices takes a positive count, not '0'" --devices 0
echo "ok: e2e-speed's command line"
