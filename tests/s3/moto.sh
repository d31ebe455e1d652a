#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/s3/moto.sh: a moto S3 server on loopback that VERIFIES SigV4 signatures.
#
#   tests/s3/moto.sh start DIR PORT   start moto on 127.0.0.1:PORT, state in DIR
#   tests/s3/moto.sh stop DIR         stop the moto started with that DIR
#
# start leaves in DIR: moto.pid, moto.log, and env (R2MPU_S3_* settings, one
# KEY=value a line, to source). By default moto accepts any signature; start
# creates an IAM user with full access and an access key, then turns on
# authentication (/moto-api/reset-auth), creates bucket r2mpu-test with the
# new key, and checks that a wrong secret is refused with 403.
# moto is looked for in: $R2MPU_MOTO_PYTHON, python3 on PATH, pyenv's pythons.
set -euo pipefail

BUCKET=r2mpu-test
REGION=us-east-1
me=moto.sh

die() { echo "$me: $*" >&2; exit 1; }
usage() { echo "usage: $me start DIR PORT | $me stop DIR" >&2; exit 2; }

# The pid in DIR/moto.pid, if that process is alive and is a moto server.
running_pid() {
    local pidfile=$1/moto.pid pid
    [ -f "$pidfile" ] || return 1
    pid=$(cat "$pidfile" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q 'moto.server' || return 1
    echo "$pid"
}

# SIGTERM, wait up to 10 s, then SIGKILL and wait again.
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    echo "$me: moto (pid $pid) ignored SIGTERM for 10 s; SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    die "moto (pid $pid) is still alive"
}

find_python() {
    local c
    for c in "${R2MPU_MOTO_PYTHON:-}" python3 "$(pyenv which python3 2>/dev/null || true)" \
             "$HOME"/.pyenv/versions/*/bin/python3 /root/.pyenv/versions/*/bin/python3; do
        [ -n "$c" ] || continue
        command -v "$c" >/dev/null 2>&1 || continue
        # Print the real interpreter (not a pyenv shim) so that the pid is python's.
        "$c" -c 'import moto.server, boto3, sys; print(sys.executable)' 2>/dev/null && return 0
    done
    return 1
}

port_in_use() {
    # bash's /dev/tcp: a connection that succeeds means someone listens there.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cmd_start() {
    local dir=$1 port=$2 py pid i t0 keys ak sk code
    [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -gt 0 ] && [ "$port" -lt 65536 ] || die "bad PORT: $port"
    command -v curl >/dev/null || die "curl is not installed (make deps)"
    mkdir -p "$dir" || die "cannot create $dir"
    dir=$(cd "$dir" && pwd)
    if pid=$(running_pid "$dir"); then die "moto already running from $dir (pid $pid)"; fi
    port_in_use "$port" && die "port 127.0.0.1:$port is already in use"
    # Exit 3: moto is not installed here (it is not in Debian); callers skip.
    py=$(find_python) || { echo "$me: no python with moto and boto3 found (set R2MPU_MOTO_PYTHON)" >&2; exit 3; }
    rm -f "$dir/env" "$dir/moto.pid"
    t0=$(date +%s%N)

    nohup "$py" -m moto.server -H 127.0.0.1 -p "$port" </dev/null >"$dir/moto.log" 2>&1 &
    pid=$!
    echo "$pid" > "$dir/moto.pid"
    # From here on, any failure stops what we started.
    # shellcheck disable=SC2154 # rc is set inside the trap
    trap 'rc=$?; if [ $rc != 0 ]; then stop_pid '"$pid"'; rm -f "'"$dir"'/moto.pid" "'"$dir"'/env"; echo "$me: start failed; moto stopped (log: '"$dir"'/moto.log)" >&2; fi' EXIT

    for i in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$dir/moto.log" >&2; die "moto exited during start-up"; }
        curl -fsS -o /dev/null "http://127.0.0.1:$port/moto-api/data.json" 2>/dev/null && break
        [ "$i" = 300 ] && die "moto did not answer on 127.0.0.1:$port within 30 s"
        sleep 0.1
    done

    # IAM user with a full-access inline policy and an access key (moto accepts
    # any signature until reset-auth).
    keys=$(MOTO_URL="http://127.0.0.1:$port" "$py" - <<'EOF'
import json, os, boto3
iam = boto3.client("iam", endpoint_url=os.environ["MOTO_URL"], region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="r2mpu-test")
iam.put_user_policy(UserName="r2mpu-test", PolicyName="full-access",
                    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
k = iam.create_access_key(UserName="r2mpu-test")["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])
EOF
    ) || die "creating the IAM user and access key failed"
    read -r ak sk <<<"$keys"
    [ -n "$ak" ] && [ -n "$sk" ] || die "no access key from moto's IAM"

    code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: text/plain' \
        --data-binary 0 "http://127.0.0.1:$port/moto-api/reset-auth") || die "reset-auth failed"
    [ "$code" = 200 ] || die "reset-auth answered HTTP $code"

    code=$(curl -sS -o "$dir/create-bucket.out" -w '%{http_code}' -X PUT \
        --aws-sigv4 "aws:amz:$REGION:s3" --user "$ak:$sk" \
        -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
        "http://127.0.0.1:$port/$BUCKET") || die "CreateBucket request failed"
    [ "$code" = 200 ] || { cat "$dir/create-bucket.out" >&2; die "CreateBucket answered HTTP $code"; }
    rm -f "$dir/create-bucket.out"

    # Authentication must be on: a wrong secret is refused.
    code=$(curl -sS -o /dev/null -w '%{http_code}' \
        --aws-sigv4 "aws:amz:$REGION:s3" --user "$ak:wrong-$sk" \
        -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
        "http://127.0.0.1:$port/$BUCKET?list-type=2") || die "signature check request failed"
    [ "$code" = 403 ] || die "moto accepted a wrong secret (HTTP $code): authentication is off"

    # moto ignores Content-MD5: r2mpu is told so, as its users are told to.
    cat > "$dir/env.tmp" <<EOF
R2MPU_STORE=s3
R2MPU_S3_ENDPOINT=http://127.0.0.1:$port
R2MPU_S3_BUCKET=$BUCKET
R2MPU_S3_REGION=$REGION
R2MPU_S3_ACCESS_KEY_ID=$ak
R2MPU_S3_SECRET_ACCESS_KEY=$sk
R2MPU_S3_CHECKS_MD5=0
EOF
    mv "$dir/env.tmp" "$dir/env"
    trap - EXIT
    echo "$me: moto up on http://127.0.0.1:$port (pid $pid) in $(( ($(date +%s%N) - t0) / 1000000 )) ms; settings in $dir/env" >&2
}

cmd_stop() {
    local dir=$1 pid
    [ -d "$dir" ] || die "no such directory: $dir"
    if pid=$(running_pid "$dir"); then
        stop_pid "$pid"
        echo "$me: moto (pid $pid) stopped" >&2
    else
        echo "$me: no moto running from $dir" >&2
    fi
    rm -f "$dir/moto.pid"
}

case "${1:-}" in
    start) [ $# = 3 ] || usage; cmd_start "$2" "$3" ;;
    stop)  [ $# = 2 ] || usage; cmd_stop "$2" ;;
    *) usage ;;
esac
