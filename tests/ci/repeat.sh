#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/ci/repeat.sh: run one test command N times in a row and count its failures,
# to find tests that fail by chance (a flake hunt). Each failing run's output is kept.
#
#   tests/ci/repeat.sh N LOGDIR -- COMMAND [ARG...]
#
# Prints one line per run (ok/FAIL and its duration) and a tally; exits 1 if any run failed.
set -u
[ $# -ge 4 ] && [ "$3" = "--" ] || { echo "usage: $0 N LOGDIR -- COMMAND [ARG...]" >&2; exit 2; }
n=$1 logdir=$2
shift 3
mkdir -p "$logdir"
failed=0
for i in $(seq "$n"); do
    start=$(date +%s)
    log="$logdir/run-$i.log"
    if "$@" >"$log" 2>&1; then
        echo "run $i/$n: ok   in $(( $(date +%s) - start )) s"
        rm -f "$log"
    else
        failed=$((failed + 1))
        echo "run $i/$n: FAIL in $(( $(date +%s) - start )) s: $log"
        grep -m5 '^FAIL' "$log" | sed 's/^/    /'
    fi
done
echo "$*: $failed of $n runs failed"
[ "$failed" -eq 0 ]
