#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/s3/radosgw.sh: a one-node Ceph (mon + memstore OSD + radosgw) on loopback.
#
#   tests/s3/radosgw.sh start DIR PORT   radosgw's S3 on 127.0.0.1:PORT, all state in DIR
#   tests/s3/radosgw.sh stop DIR         stop every ceph process started from DIR
#
# Everything (ceph.conf, keyring, monmap, mon and osd data, run dir, admin
# sockets, logs, pids) lives in DIR; nothing reads /etc/ceph. The monitor
# listens on 127.0.0.1:MONPORT (R2MPU_RGW_MON_PORT, default PORT+1), the OSD on
# 127.0.0.1 ports in 6800-7300. start creates user r2mpu with a fixed key, the
# bucket r2mpu-test, and writes DIR/env (R2MPU_S3_* settings to source). If any
# step fails, start stops all it started. The OSD keeps objects in memory
# (memstore, R2MPU_RGW_MEMSTORE_BYTES, default 4 GiB); a new start wipes DIR's
# old cluster. Debian packages: radosgw ceph-mon ceph-osd ceph-common (tests/s3/deps.txt).
set -euo pipefail

BUCKET=r2mpu-test
# radosgw's default zonegroup is "default", but it does not check the region of
# the SigV4 credential scope; us-east-1 is what clients send by default.
REGION=us-east-1
ACCESS_KEY=R2MPUTESTACCESSKEY01
SECRET_KEY=r2mpu-test-secret-key-0000000000000000000
UID_NAME=r2mpu
START_TIMEOUT=${R2MPU_RGW_START_TIMEOUT:-120}   # seconds, for each daemon to come up
me=radosgw.sh
# Daemons in the order they stop.
DAEMONS="rgw osd mon"

die() { echo "$me: $*" >&2; exit 1; }
usage() { echo "usage: $me start DIR PORT | $me stop DIR" >&2; exit 2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Is pid alive, and was it started with DIR's ceph.conf?
ours() {
    local pid=$1 dir=$2
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$dir/ceph.conf"
}

# Every live process whose command line names DIR/ceph.conf.
all_ours() {
    local dir=$1 p
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" != $$ ] && ours "$p" "$dir" && echo "$p"
    done
    return 0
}

# SIGTERM the pids, wait up to 20 s, then SIGKILL and wait.
stop_pids() {
    local p left
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null || true
    for _ in $(seq 200); do
        left=; for p in "$@"; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
        [ -z "$left" ] && return 0
        sleep 0.1
    done
    echo "$me: still alive after SIGTERM and 20 s:$left; SIGKILL" >&2
    # shellcheck disable=SC2086 # a list of pids
    kill -KILL $left 2>/dev/null || true
    for _ in $(seq 100); do
        left=; for p in "$@"; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
        [ -z "$left" ] && return 0
        sleep 0.1
    done
    echo "$me: could not kill:$left" >&2
    return 1
}

stop_all() {
    local dir=$1 d pid rc=0
    for d in $DAEMONS; do
        pid=$(cat "$dir/pids/$d.pid" 2>/dev/null || true)
        if [ -n "$pid" ] && ours "$pid" "$dir"; then stop_pids "$pid" || rc=1; fi
        rm -f "$dir/pids/$d.pid"
    done
    # Anything else started with DIR's ceph.conf (a hung ceph or radosgw-admin).
    # shellcheck disable=SC2046
    stop_pids $(all_ours "$dir") || rc=1
    return $rc
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Run a ceph client command against DIR's cluster, bounded in time.
c() { timeout 60 "$@" -c "$DIR/ceph.conf"; }

# Start daemon NAME (rgw, osd, mon) in the foreground in the background.
launch() {
    local name=$1; shift
    nohup "$@" -c "$DIR/ceph.conf" -f </dev/null >>"$DIR/log/$name.out" 2>&1 &
    echo $! > "$DIR/pids/$name.pid"
}

alive() {
    local pid; pid=$(cat "$DIR/pids/$1.pid")
    kill -0 "$pid" 2>/dev/null && return 0
    tail -n 20 "$DIR/log/$1.out" "$DIR/log/"*"$1"*.log >&2 2>/dev/null || true
    die "$1 exited during start-up (logs in $DIR/log)"
}

# wait_for WHAT DAEMON CMD...: retry CMD every 0.2 s until it succeeds.
wait_for() {
    local what=$1 daemon=$2 deadline; shift 2
    deadline=$(( $(date +%s) + START_TIMEOUT ))
    until "$@" >/dev/null 2>&1; do
        alive "$daemon"
        [ "$(date +%s)" -lt "$deadline" ] || die "timed out after ${START_TIMEOUT}s waiting for $what"
        sleep 0.2
    done
}

osd_up() { c ceph osd stat -f json | grep -q '"num_up_osds":1'; }
rgw_up() { curl -sf -o /dev/null "http://127.0.0.1:$PORT/"; }

cmd_start() {
    DIR=$1 PORT=$2
    local monport=${R2MPU_RGW_MON_PORT:-$((PORT + 1))} t0 p fsid osd_uuid osd_id code pid
    [[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -gt 0 ] && [ "$PORT" -lt 65536 ] || die "bad PORT: $PORT"
    [[ "$monport" =~ ^[0-9]+$ ]] && [ "$monport" -gt 0 ] && [ "$monport" -lt 65536 ] || die "bad monitor port: $monport"
    for p in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool uuidgen curl timeout; do
        command -v "$p" >/dev/null || die "$p is not installed (make deps; see tests/s3/deps.txt)"
    done
    mkdir -p "$DIR" || die "cannot create $DIR"
    DIR=$(cd "$DIR" && pwd)
    pid=$(all_ours "$DIR" | tr '\n' ' ')
    [ -z "$pid" ] || die "a cluster from $DIR is already running (pids $pid); run: $me stop $DIR"
    port_in_use "$PORT" && die "port 127.0.0.1:$PORT is already in use"
    port_in_use "$monport" && die "monitor port 127.0.0.1:$monport is already in use (set R2MPU_RGW_MON_PORT)"

    t0=$(now_ms)
    # A new cluster each time: remove only what an earlier start made.
    rm -rf "$DIR/mon" "$DIR/osd" "$DIR/run" "$DIR/log" "$DIR/pids" "$DIR/rgw" "$DIR/crash" \
           "$DIR/ceph.conf" "$DIR/keyring" "$DIR/monmap" "$DIR/env"
    mkdir -p "$DIR/mon" "$DIR/osd" "$DIR/run" "$DIR/log" "$DIR/pids" "$DIR/rgw" "$DIR/crash"
    # From here on, a failure stops everything started from DIR.
    trap 'rc=$?; if [ $rc != 0 ]; then echo "$me: start failed; stopping what it started (logs in $DIR/log)" >&2; stop_all "$DIR" || true; rm -f "$DIR/env"; fi' EXIT

    fsid=$(uuidgen)
    cat > "$DIR/ceph.conf" <<EOF
[global]
fsid = $fsid
mon_initial_members = a
mon_host = v2:127.0.0.1:$monport
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_ipv6 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_mon_client_mode = crc
ms_client_mode = crc
ms_cluster_mode = crc
ms_service_mode = crc
ms_mon_cluster_mode = crc
ms_mon_service_mode = crc
keyring = $DIR/keyring
run_dir = $DIR/run
admin_socket = $DIR/run/\$cluster-\$name.asok
pid_file = $DIR/run/\$name.pid
log_file = $DIR/log/\$name.log
crash_dir = $DIR/crash
log_to_stderr = false
err_to_stderr = true
mon_cluster_log_file = $DIR/log/cluster.log
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
client_mount_timeout = 60
rados_mon_op_timeout = 60
rados_osd_op_timeout = 60

[mon]
mon_data = $DIR/mon
mon_data_avail_warn = 1
mon_data_avail_crit = 0

[osd]
osd_data = $DIR/osd
osd_objectstore = memstore
memstore_device_bytes = ${R2MPU_RGW_MEMSTORE_BYTES:-4294967296}
osd_crush_update_on_start = false

[client.rgw]
rgw_frontends = beast endpoint=127.0.0.1:$PORT
rgw_data = $DIR/rgw
rgw_enable_usage_log = false
EOF

    # Monitor.
    ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null \
        || die "ceph-authtool failed"
    monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$monport]" "$DIR/monmap" >/dev/null \
        || die "monmaptool failed"
    ceph-mon -c "$DIR/ceph.conf" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring" \
        >"$DIR/log/mon-mkfs.out" 2>&1 || { cat "$DIR/log/mon-mkfs.out" >&2; die "ceph-mon --mkfs failed"; }
    launch mon ceph-mon -i a
    wait_for "the monitor" mon c ceph mon stat

    # One memstore OSD under a host bucket.
    osd_uuid=$(uuidgen)
    osd_id=$(c ceph osd new "$osd_uuid") || die "ceph osd new failed"
    [ "$osd_id" = 0 ] || die "unexpected OSD id: $osd_id"
    ceph-osd -c "$DIR/ceph.conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$DIR/log/osd-mkfs.out" 2>&1 \
        || { cat "$DIR/log/osd-mkfs.out" >&2; die "ceph-osd --mkfs failed"; }
    c ceph osd crush add-bucket r2mpu-host host >/dev/null 2>&1 || die "crush add-bucket failed"
    c ceph osd crush move r2mpu-host root=default >/dev/null 2>&1 || die "crush move failed"
    c ceph osd crush add osd.0 1.0 host=r2mpu-host >/dev/null 2>&1 || die "crush add failed"
    launch osd ceph-osd -i 0
    wait_for "the OSD to be up" osd osd_up

    # radosgw.
    launch rgw radosgw -n client.rgw
    wait_for "radosgw on 127.0.0.1:$PORT" rgw rgw_up

    c radosgw-admin user create --uid="$UID_NAME" --display-name="r2mpu tests" \
        --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >"$DIR/log/user-create.out" 2>&1 \
        || { cat "$DIR/log/user-create.out" >&2; die "radosgw-admin user create failed"; }

    code=$(curl -sS -o "$DIR/log/create-bucket.out" -w '%{http_code}' -X PUT \
        --aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
        -H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d' ' -f1)" \
        "http://127.0.0.1:$PORT/$BUCKET") || die "CreateBucket request failed"
    [ "$code" = 200 ] || { cat "$DIR/log/create-bucket.out" >&2; die "CreateBucket answered HTTP $code"; }

    cat > "$DIR/env.tmp" <<EOF
R2MPU_STORE=s3
R2MPU_S3_ENDPOINT=http://127.0.0.1:$PORT
R2MPU_S3_BUCKET=$BUCKET
R2MPU_S3_REGION=$REGION
R2MPU_S3_ACCESS_KEY_ID=$ACCESS_KEY
R2MPU_S3_SECRET_ACCESS_KEY=$SECRET_KEY
EOF
    mv "$DIR/env.tmp" "$DIR/env"
    trap - EXIT
    echo "$me: radosgw up on http://127.0.0.1:$PORT (monitor 127.0.0.1:$monport) in $(( $(now_ms) - t0 )) ms; settings in $DIR/env" >&2
}

cmd_stop() {
    DIR=$1
    [ -d "$DIR" ] || die "no such directory: $DIR"
    DIR=$(cd "$DIR" && pwd)
    if [ -z "$(all_ours "$DIR")" ]; then
        echo "$me: no ceph process running from $DIR" >&2
        rm -f "$DIR"/pids/*.pid
        return 0
    fi
    stop_all "$DIR" || die "some processes from $DIR would not stop"
    echo "$me: stopped the cluster in $DIR" >&2
}

case "${1:-}" in
    start) [ $# = 3 ] || usage; cmd_start "$2" "$3" ;;
    stop)  [ $# = 2 ] || usage; cmd_stop "$2" ;;
    *) usage ;;
esac
