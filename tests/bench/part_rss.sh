#!/bin/sh
# tests/bench/part_rss.sh: peak RSS of the r2mpu process while one large part
# (default 1 GiB) streams through real lighttpd into the file store.
#   tests/bench/part_rss.sh [SIZE_MiB]
# Prints the part's throughput and the process's VmHWM (peak resident set).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
mib=${1:-1024}
work=$(mktemp -d "${TMPDIR:-/tmp}/r2mpu-rss.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT

head -c $((mib * 1024 * 1024)) /dev/urandom > "$work/part"
PORT=$port R2MPU_PROCS=1 R2MPU_FS_ROOT="$work/store" R2MPU_ERRORLOG="$work/log" \
	"$top/tests/lighttpd/serve.sh" 2>/dev/null &
server=$!
i=0; until curl -s -o /dev/null "http://127.0.0.1:$port/" || [ $i -gt 100 ]; do sleep 0.1; i=$((i+1)); done

base="http://127.0.0.1:$port/bench/rss"
uid=$(curl -sf -X POST -d '' "$base?action=mpu-create" | python3 -c 'import json,sys; print(json.load(sys.stdin)["uploadId"])')
pid=$(pgrep -f -x "$top/cgi-bin/r2mpu.fcgi")
out=$(curl -sf -T "$work/part" -w ' %{time_total}' "$base?action=mpu-uploadpart&uploadId=$uid&partNumber=1")
want=$(md5sum < "$work/part" | cut -d' ' -f1)
case "$out" in *"$want"*) ;; *) echo "part_rss: wrong answer: $out" >&2; exit 1;; esac
secs=${out##* }
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "part of $mib MiB: $(python3 -c "print(round($mib/$secs))") MiB/s; r2mpu peak RSS (VmHWM): $hwm KiB"
