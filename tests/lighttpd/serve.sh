#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/lighttpd/serve.sh: run real lighttpd in the foreground with r2mpu at "/".
# Settings come from the environment: PORT (8080), R2MPU_BIND (127.0.0.1),
# R2MPU_PROCS (4), R2MPU_FS_ROOT (./data), and any other R2MPU_* key, which
# lighttpd passes on to the r2mpu processes it spawns.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)

command -v lighttpd >/dev/null || { echo "serve.sh: lighttpd is not installed (make deps)" >&2; exit 1; }
# R2MPU_TEST_BIN: another build of r2mpu to serve (make asan uses it).
bin="${R2MPU_TEST_BIN:-$top/cgi-bin/r2mpu.fcgi}"
[ -x "$bin" ] || { echo "serve.sh: build first (make)" >&2; exit 1; }

state=$(mktemp -d "${TMPDIR:-/tmp}/r2mpu-lighttpd.XXXXXX")
spool="$state/spool"
trap 'rm -rf "$state" "$spool"' EXIT
mkdir -p "$state/htdocs" "$state/spool"
# lighttpd's temp files of bodies r2mpu has not read yet: in memory, in a directory of
# our own on tmpfs, where there is one (lighttpd-conf/lighttpd.conf says why).
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    spool=$(mktemp -d /dev/shm/r2mpu-spool.XXXXXX) || spool="$state/spool"
fi

export PORT="${PORT:-8080}"
export R2MPU_BIND="${R2MPU_BIND:-127.0.0.1}"
export R2MPU_PROCS="${R2MPU_PROCS:-4}"
export R2MPU_FS_ROOT="${R2MPU_FS_ROOT:-$PWD/data}"
export R2MPU_BIN="$bin"
export R2MPU_STATE="$state"
export R2MPU_SPOOL="$spool"
export R2MPU_EXAMPLES="$top/examples"
# lighttpd's error log (and r2mpu's stderr): the terminal unless told otherwise.
export R2MPU_ERRORLOG="${R2MPU_ERRORLOG:-/dev/stderr}"

# The store it really serves: the environment's R2MPU_STORE (a settings file may say
# otherwise: `r2mpu.fcgi check` tells).
case "${R2MPU_STORE:-fs}" in
s3) store="s3, bucket ${R2MPU_S3_BUCKET:-?} at ${R2MPU_S3_ENDPOINT:-${R2MPU_R2_ACCOUNT_ID:+R2 account $R2MPU_R2_ACCOUNT_ID}}";;
*)  store="$R2MPU_FS_ROOT";;
esac
echo "r2mpu: http://$R2MPU_BIND:$PORT/  store: $store  (Ctrl-C stops)" >&2
echo "r2mpu: a browser uploader: http://$R2MPU_BIND:$PORT/_r2mpu/upload.html" >&2
case "${R2MPU_OPEN_ACCESS:-}" in 1|[Tt]rue|[Yy]es|[Oo]n)
    echo "r2mpu: OPEN ACCESS: anyone who can reach $R2MPU_BIND:$PORT may read, write and delete every key" >&2;;
esac
# Not exec: the trap must run after lighttpd exits. lighttpd -D stops on
# SIGINT/SIGTERM and stops its r2mpu processes, which finish their request.
# R2MPU_LIGHTTPD_CONF: another lighttpd.conf (a benchmark's variant of the shipped one).
lighttpd -D -f "${R2MPU_LIGHTTPD_CONF:-$top/lighttpd-conf/lighttpd.conf}" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid; rm -rf "$state" "$spool"; exit 0' INT TERM
wait $pid
