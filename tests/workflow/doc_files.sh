#!/usr/bin/env bash
# Every file or folder of the source tree that a user-facing document names
# (a path under apps/, bench/, cmake/, docs/, examples/, include/, profiles/,
# scripts/, src/ or tests/) exists: a guide must not send a reader to a file
# that is not there.  Usage: doc_files.sh ROOT DOC...
set -uo pipefail
root=$1; shift
missing=0
for doc in "$@"; do
  [[ -f $root/$doc ]] || { echo "FAIL: $doc itself is missing"; missing=1; continue; }
  # Paths as written in prose or code: top-level folder, then name characters.
  while read -r path; do
    path=${path%.}   # a sentence's full stop
    [[ -e $root/$path ]] && continue
    echo "FAIL: $doc names $path, which does not exist"
    missing=1
  done < <(grep -oE '(^|[^A-Za-z0-9_./-])(apps|bench|cmake|docs|examples|include|profiles|scripts|src|tests)/[A-Za-z0-9_./-]*' "$root/$doc" |
           sed -E 's/^[^a-z]//' | sort -u)
  # Public headers named by include path.
  while read -r header; do
    [[ -e $root/include/$header ]] && continue
    echo "FAIL: $doc names $header, which is not under include/"
    missing=1
  done < <(grep -oE 'fwdsim/[a-z_]+/[a-z_]+\.h' "$root/$doc" | sort -u)
done
[[ $missing == 0 ]] && echo "ok: every file named exists"
exit $missing
