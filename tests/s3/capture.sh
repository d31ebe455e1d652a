#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/s3/capture.sh ENVFILE OUTDIR: talk S3 by hand (curl 7.88 --aws-sigv4) to
# the server that ENVFILE (a DIR/env from moto.sh or radosgw.sh) describes, and
# save its raw answers in OUTDIR: *.xml bodies byte for byte, head-object.txt
# and get-range.txt (status line and headers), and README (one line a file: the
# request and the HTTP status). It prints what it does; it exits non-zero if a
# request that must succeed does not, or a wrong secret is not refused.
# libcurl 7.88 rules followed here: x-amz-content-sha256 set by hand (it signs
# it but sends none), queries written already sorted with "=" on bare names.
set -euo pipefail
[ $# = 2 ] || { echo "usage: capture.sh ENVFILE OUTDIR" >&2; exit 2; }
# shellcheck disable=SC1090
. "$1"
out=$2
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

EP=$R2MPU_S3_ENDPOINT B=$R2MPU_S3_BUCKET R=$R2MPU_S3_REGION
AK=$R2MPU_S3_ACCESS_KEY_ID SK=$R2MPU_S3_SECRET_ACCESS_KEY
EMPTY=$(printf '' | sha256sum | cut -d' ' -f1)
: > "$out/README.new"
fail=0

sha() { sha256sum "$1" | cut -d' ' -f1; }
note() { printf '%s: %s -> HTTP %s\n' "$1" "$2" "$3" >> "$out/README.new"; }
must() { # must WHAT GOT WANT
    if [ "$2" = "$3" ]; then echo "ok   $1: HTTP $2"; else echo "FAIL $1: HTTP $2, wanted $3"; fail=1; fi
}
# s3 AK SK METHOD PATH?QUERY BODYFILE|- HEADERS-OUT BODY-OUT [curl args]: prints the status.
s3() {
    local ak=$1 sk=$2 m=$3 pq=$4 body=$5 ho=$6 bo=$7; shift 7
    local hash=$EMPTY data=()
    if [ "$body" != - ]; then
        hash=$(sha "$body")
        if [ "$m" = PUT ]; then data=(-T "$body"); else data=(--data-binary "@$body"); fi
    elif [ "$m" = POST ]; then
        data=(-H 'Content-Length: 0')
    fi
    curl -sS -X "$m" --aws-sigv4 "aws:amz:$R:s3" --user "$ak:$sk" \
        -H "x-amz-content-sha256: $hash" "${data[@]}" "$@" \
        -D "$ho" -o "$bo" -w '%{http_code}' "$EP/$B/$pq"
}
S() { s3 "$AK" "$SK" "$@"; }
hdr() { tr -d '\r' < "$1" | awk -v h="$2" 'tolower($1)==tolower(h)":" {sub(/^[^:]*: */,""); print}'; }
xml_tag() { sed -n "s:.*<$2>\([^<]*\)</$2>.*:\1:p" "$1" | head -n 1; }
# keep TMPFILE NAME: move a body to OUTDIR/NAME.xml, or NAME.html if it is not XML; print that name.
keep() {
    local ext=html
    rm -f "$out/$2.xml" "$out/$2.html"
    head -c 6 "$1" | grep -q '^<?xml\|^<Error' && ext=xml
    mv "$1" "$out/$2.$ext"
    echo "$2.$ext"
}
what() { grep -o '<Code>[^<]*</Code>' "$out/$1" || sed -n 's:.*<title>\(.*\)</title>.*:\1:p' "$out/$1"; }
complete_body() { # complete_body FILE PART:ETAG...
    local f=$1; shift
    { printf '<CompleteMultipartUpload>'
      for pe in "$@"; do printf '<Part><PartNumber>%s</PartNumber><ETag>%s</ETag></Part>' "${pe%%:*}" "${pe#*:}"; done
      printf '</CompleteMultipartUpload>'; } > "$f"
}

echo "== $EP bucket $B region $R"
printf 'hello r2mpu 0123456789 abcdefghijklmnopqrstuvwxyz\n' > "$tmp/small"
head -c $((5 * 1024 * 1024)) /dev/urandom > "$tmp/p5m"
head -c 1024 /dev/urandom > "$tmp/p1k"

# --- plain objects ---
code=$(S PUT hello.txt "$tmp/small" "$tmp/h" "$tmp/b"); must "PUT hello.txt" "$code" 200
echo "     ETag $(hdr "$tmp/h" ETag)"
code=$(S GET hello.txt - "$tmp/h" "$tmp/b"); must "GET hello.txt" "$code" 200
cmp -s "$tmp/b" "$tmp/small" && echo "     body matches" || { echo "FAIL body differs"; fail=1; }
code=$(S HEAD hello.txt - "$out/head-object.txt" /dev/null -I); must "HEAD hello.txt" "$code" 200
note head-object.txt "HEAD /$B/hello.txt ($(wc -c < "$tmp/small")-byte object)" "$code"
code=$(S GET hello.txt - "$out/get-range.txt" "$tmp/b" -H 'Range: bytes=0-9'); must "GET hello.txt Range: bytes=0-9" "$code" 206
echo "     body: $(cat "$tmp/b")"
note get-range.txt "GET /$B/hello.txt with Range: bytes=0-9 ($(wc -c < "$tmp/small")-byte object; body was '$(cat "$tmp/b")')" "$code"

code=$(S GET no-such-key.txt - "$tmp/h" "$out/error-nosuchkey.xml"); must "GET missing key" "$code" 404
note error-nosuchkey.xml "GET /$B/no-such-key.txt" "$code"

code=$(s3 "$AK" "wrong-$SK" GET hello.txt - "$tmp/h" "$out/error-signature.xml"); must "GET with a wrong secret" "$code" 403
echo "     $(grep -o '<Code>[^<]*</Code>' "$out/error-signature.xml")"
grep -q '<Code>SignatureDoesNotMatch</Code>' "$out/error-signature.xml" || { echo "FAIL not SignatureDoesNotMatch"; fail=1; }
note error-signature.xml "GET /$B/hello.txt signed with the right key id and a wrong secret" "$code"

code=$(s3 AKIAUNKNOWNKEY000000 "$SK" GET hello.txt - "$tmp/h" "$out/error-invalidaccesskeyid.xml"); must "GET with an unknown key id" "$code" 403
echo "     $(grep -o '<Code>[^<]*</Code>' "$out/error-invalidaccesskeyid.xml")"
note error-invalidaccesskeyid.xml "GET /$B/hello.txt signed with unknown access key id AKIAUNKNOWNKEY000000" "$code"

# --- a multipart upload: 5 MiB + 1 KiB ---
code=$(S POST 'mp.bin?uploads=' - "$tmp/h" "$out/initiate.xml"); must "CreateMultipartUpload" "$code" 200
note initiate.xml "POST /$B/mp.bin?uploads= (empty body)" "$code"
up=$(xml_tag "$out/initiate.xml" UploadId); echo "     UploadId $up"
code=$(S PUT "mp.bin?partNumber=1&uploadId=$up" "$tmp/p5m" "$tmp/h" "$tmp/b"); must "UploadPart 1 (5 MiB)" "$code" 200
e1=$(hdr "$tmp/h" ETag); echo "     ETag $e1"
code=$(S PUT "mp.bin?partNumber=2&uploadId=$up" "$tmp/p1k" "$tmp/h" "$tmp/b"); must "UploadPart 2 (1 KiB)" "$code" 200
e2=$(hdr "$tmp/h" ETag); echo "     ETag $e2"
code=$(S GET "mp.bin?uploadId=$up" - "$tmp/h" "$out/listparts.xml"); must "ListParts" "$code" 200
note listparts.xml "GET /$B/mp.bin?uploadId=ID after parts 1 (5 MiB) and 2 (1 KiB)" "$code"
code=$(S GET '?uploads=' - "$tmp/h" "$out/list-uploads.xml"); must "ListMultipartUploads" "$code" 200
note list-uploads.xml "GET /$B/?uploads= with one upload (mp.bin) in progress" "$code"
complete_body "$tmp/cb" "1:$e1" "2:$e2"
code=$(S POST "mp.bin?uploadId=$up" "$tmp/cb" "$tmp/h" "$out/complete.xml" -H 'Content-Type: application/xml'); must "CompleteMultipartUpload" "$code" 200
note complete.xml "POST /$B/mp.bin?uploadId=ID listing parts 1 (5 MiB) and 2 (1 KiB) with their ETags" "$code"
echo "     Complete ETag element: '$(xml_tag "$out/complete.xml" ETag)'"
code=$(S HEAD mp.bin - "$tmp/h" /dev/null -I); must "HEAD mp.bin" "$code" 200
echo "     HEAD: ETag $(hdr "$tmp/h" ETag), Content-Length $(hdr "$tmp/h" Content-Length)"
code=$(S GET mp.bin - "$tmp/h" "$tmp/b"); must "GET mp.bin" "$code" 200
cat "$tmp/p5m" "$tmp/p1k" | cmp -s - "$tmp/b" && echo "     body = part1+part2" || { echo "FAIL mp.bin differs"; fail=1; }

# --- abort ---
code=$(S POST 'ab.bin?uploads=' - "$tmp/h" "$tmp/b"); must "CreateMultipartUpload ab.bin" "$code" 200
up=$(xml_tag "$tmp/b" UploadId)
code=$(S PUT "ab.bin?partNumber=1&uploadId=$up" "$tmp/p1k" "$tmp/h" "$tmp/b"); must "UploadPart ab.bin 1" "$code" 200
code=$(S DELETE "ab.bin?uploadId=$up" - "$tmp/h" "$tmp/b"); must "AbortMultipartUpload" "$code" 204
code=$(S GET "ab.bin?uploadId=$up" - "$tmp/h" "$tmp/b"); must "ListParts after abort" "$code" 404

# --- EntityTooSmall: 1 KiB part, then another part ---
code=$(S POST 'small.bin?uploads=' - "$tmp/h" "$tmp/b"); must "CreateMultipartUpload small.bin" "$code" 200
up=$(xml_tag "$tmp/b" UploadId)
code=$(S PUT "small.bin?partNumber=1&uploadId=$up" "$tmp/p1k" "$tmp/h" "$tmp/b"); must "UploadPart small.bin 1 (1 KiB)" "$code" 200; e1=$(hdr "$tmp/h" ETag)
code=$(S PUT "small.bin?partNumber=2&uploadId=$up" "$tmp/p1k" "$tmp/h" "$tmp/b"); must "UploadPart small.bin 2 (1 KiB)" "$code" 200; e2=$(hdr "$tmp/h" ETag)
complete_body "$tmp/cb" "1:$e1" "2:$e2"
code=$(S POST "small.bin?uploadId=$up" "$tmp/cb" "$tmp/h" "$out/error-entitytoosmall.xml" -H 'Content-Type: application/xml'); must "Complete with a 1 KiB first part" "$code" 400
note error-entitytoosmall.xml "POST /$B/small.bin?uploadId=ID listing parts 1 (1 KiB) and 2 (1 KiB)" "$code"
code=$(S DELETE "small.bin?uploadId=$up" - "$tmp/h" "$tmp/b"); must "Abort small.bin" "$code" 204

# --- InvalidPart: a wrong ETag ---
code=$(S POST 'bad.bin?uploads=' - "$tmp/h" "$tmp/b"); must "CreateMultipartUpload bad.bin" "$code" 200
up=$(xml_tag "$tmp/b" UploadId)
code=$(S PUT "bad.bin?partNumber=1&uploadId=$up" "$tmp/p1k" "$tmp/h" "$tmp/b"); must "UploadPart bad.bin 1" "$code" 200
complete_body "$tmp/cb" '1:"00000000000000000000000000000000"'
code=$(S POST "bad.bin?uploadId=$up" "$tmp/cb" "$tmp/h" "$out/error-invalidpart.xml" -H 'Content-Type: application/xml'); must "Complete with a wrong ETag" "$code" 400
note error-invalidpart.xml "POST /$B/bad.bin?uploadId=ID listing part 1 with ETag \"00000000000000000000000000000000\" (the real one differs)" "$code"
code=$(S DELETE "bad.bin?uploadId=$up" - "$tmp/h" "$tmp/b"); must "Abort bad.bin" "$code" 204

# --- an unknown uploadId: Abort (kept as error-nosuchupload.xml), UploadPart, Complete ---
nu=2~NoSuchUploadIdForR2mpuTests
code=$(S DELETE "mp.bin?uploadId=$nu" - "$tmp/h" "$out/error-nosuchupload.xml"); must "Abort of an unknown uploadId" "$code" 404
note error-nosuchupload.xml "DELETE /$B/mp.bin?uploadId=$nu (AbortMultipartUpload, unknown uploadId)" "$code"
code=$(S PUT "mp.bin?partNumber=1&uploadId=$nu" "$tmp/p1k" "$tmp/h" "$tmp/nb")
f=$(keep "$tmp/nb" error-nosuchupload-uploadpart)
echo "info UploadPart with an unknown uploadId: HTTP $code, $f: $(what "$f")"
note "$f" "PUT /$B/mp.bin?partNumber=1&uploadId=$nu (UploadPart, unknown uploadId)" "$code"
complete_body "$tmp/cb" '1:"00000000000000000000000000000000"'
code=$(S POST "mp.bin?uploadId=$nu" "$tmp/cb" "$tmp/h" "$tmp/nb" -H 'Content-Type: application/xml')
f=$(keep "$tmp/nb" error-nosuchupload-complete)
echo "info Complete with an unknown uploadId: HTTP $code, $f: $(what "$f")"
note "$f" "POST /$B/mp.bin?uploadId=$nu (CompleteMultipartUpload, unknown uploadId)" "$code"

mv "$out/README.new" "$out/README"
[ $fail = 0 ] && echo "== all checks passed" || { echo "== some checks FAILED"; exit 1; }
