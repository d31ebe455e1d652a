#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/ci/stages.sh: run make targets as named stages, one after another, and say
# where the time went and what failed.
#
#   tests/ci/stages.sh TARGET...
#
# Each target runs as `make TARGET` (MAKE and MAKEFLAGS from the caller), its output
# shown as it comes and kept in build/stages/TARGET.log. Every stage runs even after
# one fails. Each ends with a line "stage TARGET: ok|FAIL in N s"; at the end comes a
# table of all stages and, for each failed one, its FAIL lines. Exit 1 if any failed.
set -u
make=${MAKE:-make}
logdir=build/stages
mkdir -p "$logdir"
summary=()
failed=()
total_start=$(date +%s)
for stage in "$@"; do
    start=$(date +%s)
    echo "==== stage $stage: started $(date -u +%H:%M:%S)"
    set -o pipefail
    "$make" --no-print-directory "$stage" 2>&1 | tee "$logdir/$stage.log"
    rc=$?
    set +o pipefail
    secs=$(( $(date +%s) - start ))
    if [ "$rc" -eq 0 ]; then result=ok; else result=FAIL; failed+=("$stage"); fi
    line=$(printf 'stage %-12s %-4s in %5d s' "$stage" "$result" "$secs")
    echo "==== $line"
    summary+=("$line")
done
echo "==== stages: $# in $(( $(date +%s) - total_start )) s"
printf '  %s\n' "${summary[@]}"
for stage in "${failed[@]+"${failed[@]}"}"; do
    echo "==== what failed in stage $stage (whole output: $logdir/$stage.log):"
    grep -E '^(FAIL|==[0-9]+==ERROR|SUMMARY|make(\[[0-9]+\])?: \*\*\*)' "$logdir/$stage.log" | head -40 | sed 's/^/  /'
done
[ "${#failed[@]}" -eq 0 ]
