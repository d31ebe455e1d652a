#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/s3/with.sh: run a command with one S3 server that every suite in it shares.
#
#   tests/s3/with.sh NAME COMMAND [ARG...]      NAME: moto or radosgw (tests/s3/NAME.sh)
#
# Starts tests/s3/NAME.sh once (a second try if a one-node Ceph fails to come up),
# runs COMMAND with R2MPU_TEST_<NAME>_DIR set to its directory, so that the
# suites' S3Server uses it instead of starting their own (radosgw takes half a
# minute to start), then stops it. Exits with COMMAND's status; when the server
# cannot start, the suites start their own, as without this script.
set -u
[ $# -ge 2 ] || { echo "usage: $0 NAME COMMAND [ARG...]" >&2; exit 2; }
name=$1
shift
script=$(dirname "$0")/$name.sh
dir=$(mktemp -d "/tmp/r2mpu-$name-XXXXXX")
port=$(PYTHONPATH="$(dirname "$0")/.." /usr/bin/python3 -c 'from lib.servers import free_port; print(free_port())')
started=
for attempt in 1 2; do
    if "$script" start "$dir/server" "$port" >/dev/null; then
        started=yes
        break
    fi
    "$script" stop "$dir/server" >/dev/null 2>&1
done
if [ -n "$started" ]; then
    export "R2MPU_TEST_$(echo "$name" | tr a-z A-Z)_DIR=$dir/server"
else
    echo "with.sh: $name did not start; each suite starts its own" >&2
fi
"$@"
rc=$?
[ -z "$started" ] || "$script" stop "$dir/server" >/dev/null
rm -rf "$dir"
exit $rc
