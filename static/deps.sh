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
# what r2mpu uses: libcurl with HTTP and HTTPS over OpenSSL and SigV4, resolving names
# with c-ares (Debian's libcares.a), which reads /etc/hosts and resolv.conf itself: a
# static glibc's getaddrinfo would load the host's NSS modules, and with them another
# glibc; libxml2's parser, tree and writer, without ICU, iconv (a static glibc's iconv
# loads modules at run time too), zlib, lzma, HTTP or FTP.
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

# What was built is kept while it matches: the versions, and this script (its options).
built="curl=$curl_version xml=$xml_version script=$(sha256sum <"$0" | cut -c1-16)"
if [ -f "$prefix/.done" ] && [ "$(cat "$prefix/.done")" = "$built" ]; then
	touch "$prefix/.done"   # checked: as new as what make compared it with
	exit 0
fi

# One deb-src line per Debian suite the system lists, from deb822 .sources files and
# one-line .list files alike: Debian's own archives only, enabled, of this release. An
# entry is Debian's when it is signed with Debian's archive keyring, or, naming no key,
# is served from *.debian.org; other vendors' repositories that name the same codename
# (Docker's, PostgreSQL's) are left out. A mirror elsewhere needs its Signed-By.
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/parts"
debian_uri='^[a-z+]+://([^/ ]+\.)?debian\.org/'
debian_key='debian-archive-keyring'
{
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v codename="$codename" -v debian_uri="$debian_uri" -v debian_key="$debian_key" '
			function flush(   nu, ns, u, i, j, s, ours) {
				nu = split(uris, u, " ")
				ns = split(suites, s, " ")
				if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no")
					for (i = 1; i <= nu; i++)
						for (j = 1; j <= ns; j++) {
							ours = signed == "" ? u[i] ~ debian_uri : index(signed, debian_key) > 0
							if (ours && s[j] ~ "^" codename "(-[a-z]+)?$")
								printf "deb-src %s%s %s %s\n", signed, u[i], s[j], comps
						}
				types = uris = suites = comps = signed = enabled = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^#/ { next }
			{ key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "") }
			key == "types" { types = $0 }
			key == "uris" { uris = $0 }
			key == "suites" { suites = $0 }
			key == "components" { comps = $0 }
			key == "enabled" { enabled = $0 }
			key == "signed-by" && $0 ~ /^\// { signed = "[signed-by=" $0 "] " }
			END { flush() }
		' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v codename="$codename" -v debian_uri="$debian_uri" -v debian_key="$debian_key" '
			$1 == "deb" {
				rest = $0
				opts = ""
				if (match(rest, /\[[^]]*\]/))
					opts = substr(rest, RSTART, RLENGTH)
				sub(/^deb[ \t]+(\[[^]]*\][ \t]+)?/, "", rest)   # the [options], if any
				split(rest, w, /[ \t]+/)
				ours = opts ~ /signed-by=/ ? index(opts, debian_key) > 0 : w[1] ~ debian_uri
				if (ours && w[2] ~ "^" codename "(-[a-z]+)?$") {
					sub(/^deb/, "deb-src")
					print
				}
			}
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
if ! (cd "$src_dir" && apt_private source "curl=$curl_version" "libxml2=$xml_version") \
	>"$dir/apt-source.log" 2>&1; then
	cat "$dir/apt-source.log" >&2
	echo "static/deps.sh: the sources of the installed curl $curl_version and libxml2" \
		"$xml_version are not on the mirror (it keeps the newest): upgrade them" \
		"(apt-get install --only-upgrade libcurl4-openssl-dev libxml2-dev) and run it again" >&2
	exit 1
fi

# Debian's patches may touch configure.ac or Makefile.am: the generated files get one
# time, newer than any of them, so make never asks for the autotools (not installed).
settle() {
	touch "$1/.settled"
	find "$1" \( -name configure -o -name Makefile.in -o -name aclocal.m4 -o -name config.h.in \
		-o -name '*.m4' \) -exec touch -r "$1/.settled" {} +
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
		--enable-ares --disable-threaded-resolver --enable-ipv6
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

printf 'curl %s\nlibxml2 %s\nopenssl %s\njson-c %s\nlibfcgi %s\nc-ares %s\nglibc %s\n' \
	"$curl_version" "$xml_version" "$(source_version libssl-dev)" \
	"$(source_version libjson-c-dev)" "$(source_version libfcgi-dev)" \
	"$(source_version libc-ares-dev)" "$(source_version libc6-dev)" >"$dir/versions"
echo "$built" >"$prefix/.done"
