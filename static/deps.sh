#!/bin/sh
# SPDX-License-Identifier: MIT
# static/deps.sh: libcurl and libxml2 for the static binary, built from Debian's own source packages.
#
# Usage: static/deps.sh DIR   (make static calls it with build/static)
#
# Debian ships static archives of OpenSSL, json-c and libfcgi, which `make static` links
# as they are. Its libcurl.a needs nghttp2, ssh2, psl, gssapi and ldap, of which Debian
# ships no static archives, and its libxml2.a needs ICU (about 30 MB of tables). So these
# two are built here, from the source packages of the very versions installed, with only
# what r2mpu uses: libcurl with HTTP and HTTPS over OpenSSL and SigV4; libxml2's parser,
# tree and writer, without ICU, iconv (a static glibc's iconv loads modules at run time),
# zlib, lzma, HTTP or FTP.
#
# The sources come through apt from the mirror this machine already uses: a private apt
# configuration under DIR/apt adds a deb-src line for each Debian suite the system lists,
# and the system's own sources and lists are never touched. Nothing is downloaded from
# anywhere else. DIR/versions records what was built, for the release notes.
set -eu

dir=$(realpath -m "${1:?usage: static/deps.sh DIR}")
prefix=$dir/prefix
apt_dir=$dir/apt
src_dir=$dir/src
jobs=$(nproc 2>/dev/null || echo 2)

# The installed -dev packages name the versions: the static build matches the headers
# the dynamic build compiles against.
source_version() {
	dpkg-query -W -f='${source:Version}' "$1"
}
curl_version=$(source_version libcurl4-openssl-dev)
xml_version=$(source_version libxml2-dev)

if [ -f "$prefix/.done" ] && [ "$(cat "$prefix/.done")" = "curl=$curl_version xml=$xml_version" ]; then
	exit 0
fi

# One deb-src line per Debian suite the system lists, from deb822 .sources files and
# one-line .list files alike (suites of other vendors, like nodesource's, are skipped).
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/parts"
{
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v codename="$codename" '
			function flush(   n, i, s) {
				n = split(suites, s, " ")
				for (i = 1; i <= n; i++)
					if (types ~ /(^| )deb( |$)/ && s[i] ~ "^" codename "(-[a-z]+)?$")
						printf "deb-src %s%s %s %s\n", signed, uris, s[i], comps
				types = uris = suites = comps = signed = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^#/ { next }
			{ key = $1; sub(/:$/, "", key); $1 = ""; sub(/^ +/, "") }
			key == "Types" { types = $0 }
			key == "URIs" { uris = $0 }
			key == "Suites" { suites = $0 }
			key == "Components" { comps = $0 }
			key == "Signed-By" && $0 ~ /^\// { signed = "[signed-by=" $0 "] " }
			END { flush() }
		' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v codename="$codename" '
			$1 == "deb" && $0 ~ " " codename "(-[a-z]+)? " { $1 = "deb-src"; print }
		' "$f"
	done
} | sort -u >"$apt_dir/sources.list"
if ! [ -s "$apt_dir/sources.list" ]; then
	echo "static/deps.sh: no Debian '$codename' suite in /etc/apt/sources*: no mirror to fetch sources from" >&2
	exit 1
fi

apt_private() {
	apt-get -q -o Dir::Etc::SourceList="$apt_dir/sources.list" \
		-o Dir::Etc::SourceParts="$apt_dir/parts" \
		-o Dir::State::Lists="$apt_dir/lists" \
		-o Dir::Cache="$apt_dir/cache" \
		-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
		-o APT::Sandbox::User=root "$@"
}
apt_private update >"$dir/apt-update.log" 2>&1 || { cat "$dir/apt-update.log" >&2; exit 1; }

rm -rf "$src_dir" "$prefix"
mkdir -p "$src_dir" "$prefix"
(cd "$src_dir" && apt_private source "curl=$curl_version" "libxml2=$xml_version") \
	>"$dir/apt-source.log" 2>&1 || { cat "$dir/apt-source.log" >&2; exit 1; }

# Debian's patches may touch configure.ac or Makefile.am; the generated files stay
# newer than them, so make never asks for the autotools.
settle() {
	find "$1" \( -name configure -o -name Makefile.in -o -name aclocal.m4 -o -name config.h.in \) \
		-exec touch {} +
}

curl_src=$(find "$src_dir" -maxdepth 1 -type d -name 'curl-*' | head -n1)
settle "$curl_src"
(
	cd "$curl_src"
	./configure --prefix="$prefix" --disable-shared --enable-static --with-pic \
		--with-openssl --without-ca-bundle --without-ca-path --without-ca-fallback \
		--without-zlib --without-brotli --without-zstd --without-libpsl --without-libidn2 \
		--without-nghttp2 --without-ngtcp2 --without-nghttp3 --without-quiche \
		--without-libssh2 --without-libssh --without-librtmp --without-gssapi \
		--without-libgsasl --disable-ldap --disable-ldaps --disable-rtsp --disable-dict \
		--disable-telnet --disable-tftp --disable-pop3 --disable-imap --disable-smtp \
		--disable-gopher --disable-mqtt --disable-ftp --disable-file --disable-smb \
		--disable-ntlm --disable-ntlm-wb \
		--disable-manual --disable-netrc --disable-alt-svc --disable-hsts \
		--disable-cookies --disable-doh --disable-mime \
		--disable-dateparse --disable-progress-meter --disable-websockets \
		--enable-threaded-resolver --enable-ipv6
	make -j"$jobs" -C lib
	make -C lib install
	make -C include install
	make install-pkgconfigDATA
) >"$dir/curl-build.log" 2>&1 || { tail -n 40 "$dir/curl-build.log" >&2; exit 1; }

xml_src=$(find "$src_dir" -maxdepth 1 -type d -name 'libxml2-*' | head -n1)
settle "$xml_src"
(
	cd "$xml_src"
	./configure --prefix="$prefix" --disable-shared --enable-static --with-pic \
		--without-icu --without-iconv --without-zlib --without-lzma --without-python \
		--without-http --without-ftp --without-modules --without-catalog --without-docbook \
		--without-legacy --without-debug --without-threads --without-xinclude \
		--without-xptr --without-xpath --without-schemas --without-schematron \
		--without-regexps --without-c14n --without-html --without-valid --without-reader \
		--without-pattern --without-push --without-iso8859x
	make -j"$jobs" libxml2.la
	make install-libLTLIBRARIES install-pkgconfigDATA
	make -C include install
) >"$dir/libxml2-build.log" 2>&1 || { tail -n 40 "$dir/libxml2-build.log" >&2; exit 1; }

printf 'curl %s\nlibxml2 %s\nopenssl %s\njson-c %s\nlibfcgi %s\nglibc %s\n' \
	"$curl_version" "$xml_version" "$(source_version libssl-dev)" \
	"$(source_version libjson-c-dev)" "$(source_version libfcgi-dev)" \
	"$(source_version libc6-dev)" >"$dir/versions"
echo "curl=$curl_version xml=$xml_version" >"$prefix/.done"
