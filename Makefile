# SPDX-License-Identifier: MIT
# r2mpu: a FastCGI/CGI gateway for multipart uploads to R2, S3 or a local directory.
# `make` builds cgi-bin/r2mpu.fcgi; `make run` serves it with lighttpd; `make test` proves it.

VERSION  := $(shell cat VERSION)
CC       ?= cc
PKGS      = json-c libcrypto libcurl libxml-2.0
CFLAGS   ?= -O2 -g
# Warnings are errors for developers; a packager whose compiler warns anew passes WERROR=.
WERROR   ?= -Werror
WARNINGS  = -Wall -Wextra $(WERROR) -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-missing-field-initializers
# The caller's CPPFLAGS, CFLAGS and LDFLAGS (dpkg-buildflags' hardening) reach every
# object and link, after ours.
ALL_CPPFLAGS = -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CPPFLAGS)
ALL_CFLAGS = -std=c11 $(WARNINGS) $(CFLAGS)
LDLIBS   += -lfcgi $(shell pkg-config --libs $(PKGS) 2>/dev/null)

BIN       = cgi-bin/r2mpu.fcgi
MAN_PAGES = $(BUILD)/man/r2mpu.8 $(BUILD)/man/r2mpu.conf.5 $(BUILD)/man/r2mpu-client.1
BUILD     = build
# Everything but main(): the unit tests link it and call the pure functions.
CORE      = errors log action metrics hooks mem digest multipart uri http etag complete_body config access cors sign sigv4 s3_xml s3_client store store_fs store_s3 store_open store_metered handlers conn request response route standalone
APP       = $(CORE) main
OBJS      = $(APP:%=$(BUILD)/%.o)
CORE_OBJS = $(CORE:%=$(BUILD)/%.o)

# r2mpu-client (client/): the other side of the API. It shares with the gateway only the
# digests and R2's ETag rule; everything but its main() is linked into its unit test.
CLIENT        = report transfer outcome plan target upload download doctor manage
CLIENT_BIN    = $(BUILD)/r2mpu-client
CLIENT_OBJS   = $(CLIENT:%=$(BUILD)/client/%.o) $(BUILD)/digest.o $(BUILD)/etag.o
CLIENT_LDLIBS = -pthread $(shell pkg-config --libs json-c libcrypto libcurl 2>/dev/null)

UNIT      = test_client test_mem test_log test_metrics test_hooks test_store test_store_s3 test_standalone test_multipart test_uri test_http test_etag test_complete_body test_config test_handlers test_sigv4 test_s3_client test_s3_xml test_access test_cors test_conn
UNIT_BINS = $(UNIT:%=$(BUILD)/tests/%)

PORT     ?= 8080
comma    := ,
empty    :=
space    := $(empty) $(empty)
PYTHON   ?= /usr/bin/python3
# The Python suites import their shared library (tests/lib) as `lib`, and the case list as
# `blackbox.cases`: tests/ on the module path, ahead of any the caller had.
export PYTHONPATH := $(CURDIR)/tests$(if $(PYTHONPATH),:$(PYTHONPATH))

# Debian packages: what the build and `make run` need (a compiler, the libraries' -dev
# packages, lighttpd), and what the suites add (`make deps-test`: web and S3 servers,
# Chromium, valgrind, the linters, Debian's packaging tools).
DEB_RUN_PKGS  = build-essential pkg-config libfcgi-dev libcurl4-openssl-dev libjson-c-dev \
                libxml2-dev libssl-dev lighttpd
# `make static`: the same, Debian's source packages unpacked (dpkg-dev), c-ares.
DEB_STATIC_PKGS = $(DEB_RUN_PKGS) dpkg-dev libc-ares-dev
DEB_TEST_PKGS = $(DEB_STATIC_PKGS) $(shell cat tests/s3/deps.txt) check clang cppcheck pyflakes3 \
                valgrind apache2 libapache2-mod-fcgid nginx curl python3 python3-requests \
                chromium chromium-driver python3-selenium gnuplot-nox debhelper lintian \
                fakeroot groff-base systemd time

.PHONY: all deps deps-static lint run static static-root shared-host dist test unit unit-bins blackbox hostile access pace browser faults soak lifecycle operations seed client s3 s3-radosgw valgrind valgrind-fs valgrind-moto valgrind-access asan bench fuzz man install uninstall deb deps-test package clean

all: $(BIN) $(CLIENT_BIN) $(MAN_PAGES)

$(BIN): $(OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: src/%.c $(wildcard src/*.h) | $(BUILD)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The one version (VERSION): --version, the man pages and the Debian package's.
$(BUILD)/main.o: ALL_CPPFLAGS += -DR2MPU_VERSION='"$(VERSION)"'
$(BUILD)/main.o: VERSION

$(BUILD)/tests/%: tests/unit/%.c tests/unit/check_main.h $(CORE_OBJS) $(wildcard src/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -Isrc $(shell pkg-config --cflags check) \
		-o $@ $< $(CORE_OBJS) $(LDLIBS) $(shell pkg-config --libs check)

$(CLIENT_BIN): $(BUILD)/client/main.o $(CLIENT_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(CLIENT_LDLIBS)

$(BUILD)/client/%.o: client/%.c $(wildcard client/*.h) src/digest.h src/etag.h | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) -Isrc $(ALL_CFLAGS) -pthread -c -o $@ $<

$(BUILD)/client/main.o: ALL_CPPFLAGS += -DR2MPU_VERSION='"$(VERSION)"'
$(BUILD)/client/main.o: VERSION

$(BUILD)/tests/test_client: tests/unit/test_client.c tests/unit/check_main.h $(CLIENT_OBJS) \
		$(wildcard client/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -Isrc -Iclient $(shell pkg-config --cflags check) \
		-o $@ $< $(CLIENT_OBJS) $(CLIENT_LDLIBS) $(shell pkg-config --libs check)

# The man pages, their settings filled in from config.c's table (what --help prints)
# by man/mkman, a build tool. The date is the last commit's (SOURCE_DATE_EPOCH first:
# the same sources give the same pages).
MAN_DATE := $(shell date -u -d @$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || \
		date -r VERSION +%s)} +%Y-%m-%d)
man: $(MAN_PAGES)
$(BUILD)/mkman: man/mkman.c $(BUILD)/config.o src/config.h
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -Isrc -o $@ $< $(BUILD)/config.o
$(BUILD)/man/%: man/%.in $(BUILD)/mkman VERSION
	@mkdir -p $(@D)
	$(BUILD)/mkman "$(VERSION)" "$(MAN_DATE)" < $< > $@.tmp && mv $@.tmp $@

$(BUILD):
	@mkdir -p $@

# Install what is missing of the packages $(1), with apt-get (as root, or through sudo).
define apt_install
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "make $@: installing" $$missing; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef
deps:
	$(call apt_install,$(DEB_RUN_PKGS))
deps-test:
	$(call apt_install,$(DEB_TEST_PKGS))
deps-static:
	$(call apt_install,$(DEB_STATIC_PKGS))

# The gateway on 127.0.0.1:$(PORT) behind real lighttpd, store in ./data, until Ctrl-C.
# OPEN ACCESS: anyone who can reach 127.0.0.1:$(PORT) may read, write and delete
# every key. Set R2MPU_OPEN_ACCESS=no and R2MPU_TOKENS_FILE / R2MPU_SIGNING_SECRET
# to try the access rules.
run: deps
	@$(MAKE) --no-print-directory all
	PORT=$(PORT) R2MPU_FS_ROOT=$${R2MPU_FS_ROOT:-$(CURDIR)/data} \
		R2MPU_OPEN_ACCESS=$${R2MPU_OPEN_ACCESS:-yes} tests/lighttpd/serve.sh

# The portable binary: the same program linked statically, for any x86-64 Linux with
# nothing from the host but the kernel (doc/shared-hosting.md). OpenSSL, json-c and
# libfcgi are Debian's static archives; libcurl and libxml2 are built by static/deps.sh
# from Debian's source packages, with only what r2mpu uses. Stripped: it is what ships.
STATIC_DIR = $(BUILD)/static
STATIC_BIN = cgi-bin/r2mpu-static.fcgi
STATIC_PKG_CONFIG = $(CURDIR)/$(STATIC_DIR)/prefix/lib/pkgconfig:$(shell pkg-config --variable pc_path pkg-config 2>/dev/null)
static: deps-static
	@$(MAKE) --no-print-directory $(STATIC_DIR)/prefix/.done
	@PKG_CONFIG_LIBDIR=$(STATIC_PKG_CONFIG) $(MAKE) --no-print-directory \
		BUILD=$(STATIC_DIR)/obj BIN=$(STATIC_BIN) LDFLAGS="-static -s $(LDFLAGS)" \
		LDLIBS="-lfcgi $$(PKG_CONFIG_LIBDIR=$(STATIC_PKG_CONFIG) pkg-config --static --libs $(PKGS)) -ldl -pthread" \
		$(STATIC_BIN)
# Again when the script or an installed package changed (deps.sh keeps what still
# matches the installed versions); the binary is linked anew with what it built.
$(STATIC_DIR)/prefix/.done: static/deps.sh $(wildcard /var/lib/dpkg/status)
	static/deps.sh $(STATIC_DIR)
	rm -f $(STATIC_BIN)

# The static binary in an empty root, entered by chroot for each request: the case
# list on the file store, and on moto and radosgw reached by a name only the root's
# /etc/hosts knows; HTTPS to moto behind nginx, the CA found wherever a distribution
# keeps it. A radosgw of its own: make s3's shared one holds its memstore's 4 GiB
# for the suites already there (deleted objects are freed only at garbage collection).
static-root: static
	$(PYTHON) tests/blackbox/static_root.py --store fs,moto,radosgw --tls

# The release for a host that has nothing: the static binary as upload/r2mpu.fcgi with
# apache-conf/shared-hosting/'s files beside it (copy the folder, edit two files),
# the docs and man pages, and the Debian source versions it was built from.
DIST_NAME = r2mpu-$(VERSION)-x86_64-linux
DIST      = $(BUILD)/$(DIST_NAME).tar.gz
dist: static $(MAN_PAGES)
	rm -rf $(BUILD)/dist && mkdir -p $(BUILD)/dist/$(DIST_NAME)/upload \
		$(BUILD)/dist/$(DIST_NAME)/doc $(BUILD)/dist/$(DIST_NAME)/man
	$(INSTALL) -m 755 $(STATIC_BIN) $(BUILD)/dist/$(DIST_NAME)/upload/r2mpu.fcgi
	$(INSTALL) -m 644 apache-conf/shared-hosting/.htaccess \
		apache-conf/shared-hosting/htaccess-fcgid $(BUILD)/dist/$(DIST_NAME)/upload/
	$(INSTALL) -m 600 apache-conf/shared-hosting/r2mpu.conf \
		apache-conf/shared-hosting/tokens $(BUILD)/dist/$(DIST_NAME)/upload/
	$(INSTALL) -m 644 README.md LICENSE VERSION $(BUILD)/dist/$(DIST_NAME)/
	$(INSTALL) -m 644 doc/*.md $(BUILD)/dist/$(DIST_NAME)/doc/
	$(INSTALL) -m 644 $(MAN_PAGES) $(BUILD)/dist/$(DIST_NAME)/man/
	$(INSTALL) -m 644 $(STATIC_DIR)/versions $(BUILD)/dist/$(DIST_NAME)/BUILT-FROM
	find $(BUILD)/dist -type d -exec chmod 755 {} +
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(DIST_EPOCH) \
		--mode=go-w -czf $(DIST) -C $(BUILD)/dist $(DIST_NAME)
	@echo "dist: $(DIST)"
# The tarball's dates: the last commit's, so the same sources give the same tarball.
DIST_EPOCH = $(shell echo $${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || date -r VERSION +%s)})

# apache-conf/shared-hosting/ and the static binary dropped, as doc/shared-hosting.md
# says, on an Apache configured like a typical shared host (mod_cgid and mod_fcgid at
# their defaults, AllowOverride All, nothing of r2mpu's): CGI, and mod_fcgid both
# where it refuses every part and where the host raised FcgidMaxRequestLen.
shared-host: dist
	$(PYTHON) tests/blackbox/shared_host.py --dist $(DIST)

# Each suite a stage: a line with its time and result, the failures summed up at the end.
TEST_STAGES = unit package blackbox hostile access pace browser faults soak lifecycle operations seed client static-root shared-host s3 docs
test: deps-test
	@$(MAKE) --no-print-directory all unit-bins
	@MAKE="$(MAKE)" tests/ci/stages.sh $(TEST_STAGES)

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	@rc=0; for t in $(UNIT_BINS); do echo "== $$t"; CK_FORK=no $$t || rc=1; done; exit $$rc

# Every setting r2mpu ships a config for, started from that config.
SERVERS   = lighttpd apache-cgi apache-fcgid apache-proxy-fcgi nginx

blackbox: $(BIN)
	$(PYTHON) tests/blackbox/run.py --mode cgi,$(subst $(space),$(comma),$(SERVERS))

# Hundreds of malformed and malicious requests, in CGI mode and through lighttpd:
# each a 4xx with a message, no crash, nothing outside the store.
hostile: $(BIN)
	$(PYTHON) tests/blackbox/hostile.py

# Tokens, signed URLs and CORS, attacked through every server (no open access there).
access: $(BIN)
	$(PYTHON) tests/blackbox/access.py --mode cgi,$(subst $(space),$(comma),$(SERVERS))
	$(PYTHON) tests/blackbox/access.py --mode cgi,lighttpd --store moto

# As many slow, hostile clients as r2mpu has processes (trickled bodies, refused
# bodies, slow readers, idle FastCGI connections), through lighttpd, nginx and
# Apache mod_proxy_fcgi: a normal request is still served; proxy parameters ignored.
pace: $(BIN)
	$(PYTHON) tests/blackbox/pace.py

# examples/upload.html in headless Chromium, from another origin than the gateway's;
# stored HTML and SVG opened from the gateway's origin run no script.
browser: $(BIN)
	$(PYTHON) tests/browser/upload_page.py
	$(PYTHON) tests/browser/stored_html.py

# As a packager and an administrator get r2mpu: the man pages against --help, the
# version everywhere, the build flags, make install/uninstall, and `make deb` (lintian,
# systemd-analyze verify, the installed binary and conffile serving uploads through
# lighttpd and under systemd's socket activation).
package: $(BIN)
	$(PYTHON) tests/package/package.py --deb

# The S3 server failing every way (tests/s3/faulty_proxy.py), killed mid-part;
# clients gone mid-part; a full disk.
faults: $(BIN)
	$(PYTHON) tests/blackbox/faults.py

# Load and scale-out: 20 uploads x 8 parallel parts through lighttpd with 8
# r2mpu processes, aborts and re-sent parts, no fd/RSS growth; one upload
# through three web servers in front of one store. The S3 store's soak runs against
# radosgw in `make s3`: moto, a single Python process, moves the same 2.4 GiB at a
# third of radosgw's pace (4 minutes of CI) and tests nothing radosgw does not.
soak: $(BIN)
	$(PYTHON) tests/blackbox/soak.py --store fs

lifecycle: $(BIN)
	$(PYTHON) tests/blackbox/lifecycle.py

# What an operator watches and plugs in: metrics through lighttpd's pool, and hooks.
operations: $(BIN)
	$(PYTHON) tests/blackbox/operations.py

# r2mpu-client against a real gateway through a fault injector (resume after SIGKILL,
# retries, no retry on 4xx, signed URLs, downloads), and its check against Apache and
# nginx set up wrongly on purpose.
client: $(BIN) $(CLIENT_BIN)
	$(PYTHON) tests/client/client.py

seed: $(BIN)
	@set -e; for s in $(SERVERS); do $(PYTHON) tests/blackbox/seed_client.py --server $$s; done

# The README's quick start, run as written against `make run` in a copy of this checkout;
# every shell block in README.md and doc/ is run there or marked an excerpt (doc/testing.md).
.PHONY: docs
docs:
	$(PYTHON) tests/docs/quickstart.py

# The same cases and the seed client against real S3 servers that check
# signatures (tests/s3/): moto (skipped where it is not installed) and radosgw.
s3: $(BIN)
	$(PYTHON) tests/blackbox/run.py --mode cgi,lighttpd --store moto
	$(PYTHON) tests/blackbox/seed_client.py --store moto
	tests/s3/with.sh radosgw $(MAKE) --no-print-directory s3-radosgw

# One radosgw for all four (tests/s3/with.sh): it takes half a minute to start.
s3-radosgw: $(BIN)
	$(PYTHON) tests/blackbox/run.py --mode cgi,lighttpd --store radosgw
	$(PYTHON) tests/blackbox/seed_client.py --store radosgw
	$(PYTHON) tests/blackbox/soak.py --store radosgw
	$(PYTHON) tests/blackbox/access.py --mode cgi --store radosgw

# The case list (file store and moto) under valgrind memcheck behind lighttpd,
# each r2mpu process a FastCGI one that serves many requests (tests/ci/valgrind-fcgi.sh:
# valgrind starts once a process, not once a request, which took a second each);
# any error or definite leak a process reports when it exits fails the run. The
# access cases the same way (tests/lib/memcheck.py). CGI mode, one valgrind per
# request, took 6 minutes for access alone; `make asan` runs it with LeakSanitizer.
# Each run keeps a core busy: two at a time (each one's output shown whole when it ends).
VALGRIND_RUNS = valgrind-fs valgrind-moto valgrind-access
valgrind: deps-test $(BIN)
	@$(MAKE) --no-print-directory -j2 --output-sync=target $(VALGRIND_RUNS)
valgrind-fs:
	$(PYTHON) tests/blackbox/run.py --mode lighttpd --valgrind
valgrind-moto:
	$(PYTHON) tests/blackbox/run.py --mode lighttpd --valgrind --store moto
valgrind-access:
	$(PYTHON) tests/blackbox/access.py --mode lighttpd --valgrind

# The unit tests and every black-box run with AddressSanitizer and UBSan.
ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
asan: deps-test
	@$(MAKE) --no-print-directory BUILD=build-asan BIN=build-asan/r2mpu.fcgi \
		CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" \
		build-asan/r2mpu.fcgi build-asan/r2mpu-client $(UNIT:%=build-asan/tests/%)
	@rc=0; for t in $(UNIT:%=build-asan/tests/%); do echo "== $$t"; CK_FORK=no $$t || rc=1; done; exit $$rc
	R2MPU_TEST_BIN=$(CURDIR)/build-asan/r2mpu.fcgi R2MPU_CLIENT=$(CURDIR)/build-asan/r2mpu-client \
		$(PYTHON) tests/client/client.py
	R2MPU_TEST_BIN=$(CURDIR)/build-asan/r2mpu.fcgi $(PYTHON) tests/blackbox/run.py --mode cgi,lighttpd
	R2MPU_TEST_BIN=$(CURDIR)/build-asan/r2mpu.fcgi $(PYTHON) tests/blackbox/run.py --mode cgi,lighttpd --store moto
	R2MPU_TEST_BIN=$(CURDIR)/build-asan/r2mpu.fcgi $(PYTHON) tests/blackbox/lifecycle.py
	R2MPU_TEST_BIN=$(CURDIR)/build-asan/r2mpu.fcgi $(PYTHON) tests/blackbox/operations.py
	R2MPU_TEST_BIN=$(CURDIR)/build-asan/r2mpu.fcgi $(PYTHON) tests/blackbox/faults.py
	R2MPU_TEST_BIN=$(CURDIR)/build-asan/r2mpu.fcgi $(PYTHON) tests/blackbox/hostile.py
	R2MPU_TEST_BIN=$(CURDIR)/build-asan/r2mpu.fcgi $(PYTHON) tests/blackbox/soak.py --store fs
	R2MPU_TEST_BIN=$(CURDIR)/build-asan/r2mpu.fcgi $(PYTHON) tests/blackbox/access.py --mode cgi,lighttpd
	R2MPU_TEST_BIN=$(CURDIR)/build-asan/r2mpu.fcgi $(PYTHON) tests/blackbox/pace.py --mode lighttpd,nginx

# libFuzzer (clang) on the parsers of untrusted input, FUZZ_SECONDS each, from
# the seed corpus in tests/fuzz/corpus/ (new inputs go to build-fuzz/corpus/).
FUZZ_SECONDS ?= 60
FUZZERS   = query key range complete_body s3_xml access
FUZZ_FLAGS = -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
fuzz: deps-test
	@$(MAKE) --no-print-directory CC=clang BUILD=build-fuzz BIN=build-fuzz/r2mpu.fcgi \
		CFLAGS="$(FUZZ_FLAGS)" $(CORE_OBJS:$(BUILD)/%=build-fuzz/%)
	@$(MAKE) --no-print-directory -j2 --output-sync=target $(FUZZERS:%=fuzz-run-%)
# One fuzzer: built, then run; two at a time, as each keeps one core busy.
fuzz-run-%:
	@clang $(FUZZ_FLAGS) -fsanitize=fuzzer -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Isrc \
		$$(pkg-config --cflags $(PKGS)) -o build-fuzz/fuzz_$* tests/fuzz/fuzz_$*.c \
		$(CORE_OBJS:$(BUILD)/%=build-fuzz/%) $(LDLIBS)
	@mkdir -p build-fuzz/corpus/$* build-fuzz/found/$*
	@echo "== fuzz_$* for $(FUZZ_SECONDS) s"
	@build-fuzz/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		-artifact_prefix=build-fuzz/found/$*/ \
		-print_final_stats=1 build-fuzz/corpus/$* tests/fuzz/corpus/$* \
		>build-fuzz/fuzz_$*.log 2>&1 || true
	@grep -E "^(stat::number_of_executed_units|==|SUMMARY|Done)" build-fuzz/fuzz_$*.log || true
	@grep -q "^Done [0-9]* runs" build-fuzz/fuzz_$*.log || test -n "$$(ls build-fuzz/found/$*/)" || \
		{ tail -n 20 build-fuzz/fuzz_$*.log; echo "FAIL fuzz_$* did not run"; exit 1; }
	@test -z "$$(ls build-fuzz/found/$*/)" || \
		{ grep -A40 -m1 -E "ERROR: (libFuzzer|AddressSanitizer)|runtime error" \
			build-fuzz/fuzz_$*.log; \
		  echo "FAIL fuzz_$* found a crash: build-fuzz/found/$*/ (log: build-fuzz/fuzz_$*.log)"; \
		  exit 1; }

# Static checks, quick enough for every change: cppcheck's warning, portability and
# performance classes (its style class mostly guesses wrong on this code), and no
# include cycle among src/'s modules (tests/ci/include_cycles.py); pyflakes on the
# Python suites (a name used but never defined fails there, not mid-run); an SPDX
# licence line in every source file (tests/ci/spdx.sh).
lint: deps-test
	cppcheck --enable=warning,portability,performance --std=c11 -D_GNU_SOURCE \
		-DR2MPU_VERSION='"$(VERSION)"' \
		--inline-suppr --suppress=missingIncludeSystem --error-exitcode=1 --quiet -I src \
		src/ client/ man/ tests/unit/ tests/fuzz/
	$(PYTHON) tests/ci/include_cycles.py src
	pyflakes3 tests/
	tests/ci/spdx.sh

# r2mpu behind lighttpd vs straight to the same store (fs, moto, radosgw):
# throughput, latency p50/p99, r2mpu's peak RSS; CSV and a PNG chart in build/bench.
# The ceiling make bench measures r2mpu against: a FastCGI app that answers the API
# minimally and discards every body, served by the same lighttpd config.
NOOP_BIN = $(BUILD)/bench/noop.fcgi
$(NOOP_BIN): tests/bench/noop_fcgi.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< -lfcgi -lcrypto
# The peer users would pick instead: @tus/server and @tus/file-store from npm (the
# versions the issue measured), into build/tus; without npm bench.py says it skips them.
TUS_DIR = build/tus
$(TUS_DIR)/.done:
	@mkdir -p $(TUS_DIR)
	@if ! command -v npm >/dev/null; then \
		echo "bench: npm is missing: the tus peer will be skipped"; \
	else \
		cd $(TUS_DIR) && { [ -f package.json ] || echo '{"private": true}' > package.json; } && \
		{ npm install --no-audit --no-fund --silent \
			@tus/server@2.4.5 @tus/file-store@2.1.1 && touch .done || \
		  echo "bench: npm install failed: the tus peer will be skipped"; }; \
	fi
bench: deps-test $(BIN) $(CLIENT_BIN) static $(NOOP_BIN) $(TUS_DIR)/.done
	$(PYTHON) tests/bench/bench.py --stores fs,moto,radosgw --runs 3 --out build/bench
	$(PYTHON) tests/bench/metrics_cost.py
	$(PYTHON) tests/bench/static_memory.py --runs 3 --size-mib 1024
	$(PYTHON) tests/bench/client_bench.py --runs 3 --size-mib 256

# Installed where Debian puts a CGI/FastCGI program (lib/cgi-bin) and an admin command
# (sbin: the same program), with the man pages and the example configs. DESTDIR and
# the GNU directory variables as usual; `make uninstall` with the same ones removes
# exactly what `make install` put there.
PREFIX      ?= $(or $(prefix),/usr/local)
exec_prefix ?= $(PREFIX)
sbindir     ?= $(exec_prefix)/sbin
bindir      ?= $(exec_prefix)/bin
cgibindir   ?= $(exec_prefix)/lib/cgi-bin
datarootdir ?= $(PREFIX)/share
mandir      ?= $(datarootdir)/man
docdir      ?= $(datarootdir)/doc/r2mpu
INSTALL     ?= install
# Each example, installed under $(docdir)/examples/ by the path it has here (less examples/).
EXAMPLES     = examples/r2mpu.conf examples/upload.html lighttpd-conf/lighttpd.conf \
               lighttpd-conf/r2mpu.conf nginx-conf/r2mpu.conf apache-conf/r2mpu-cgi.conf \
               apache-conf/r2mpu-fcgid.conf apache-conf/r2mpu-proxy-fcgi.conf
EXAMPLE_DIRS = $(sort $(filter-out ./,$(dir $(EXAMPLES:examples/%=%))))
INSTALLED    = $(cgibindir)/r2mpu.fcgi $(sbindir)/r2mpu $(mandir)/man8/r2mpu.8 \
               $(mandir)/man5/r2mpu.conf.5 $(bindir)/r2mpu-client $(mandir)/man1/r2mpu-client.1 $(addprefix $(docdir)/examples/,$(EXAMPLES:examples/%=%))

install: all
	$(INSTALL) -d $(DESTDIR)$(cgibindir) $(DESTDIR)$(sbindir) $(DESTDIR)$(bindir) \
		$(DESTDIR)$(mandir)/man8 $(DESTDIR)$(mandir)/man5 $(DESTDIR)$(mandir)/man1 \
		$(EXAMPLE_DIRS:%=$(DESTDIR)$(docdir)/examples/%)
	$(INSTALL) -m 755 $(BIN) $(DESTDIR)$(cgibindir)/r2mpu.fcgi
	ln -sfr $(DESTDIR)$(cgibindir)/r2mpu.fcgi $(DESTDIR)$(sbindir)/r2mpu
	$(INSTALL) -m 644 $(BUILD)/man/r2mpu.8 $(DESTDIR)$(mandir)/man8/r2mpu.8
	$(INSTALL) -m 644 $(BUILD)/man/r2mpu.conf.5 $(DESTDIR)$(mandir)/man5/r2mpu.conf.5
	$(INSTALL) -m 755 $(CLIENT_BIN) $(DESTDIR)$(bindir)/r2mpu-client
	$(INSTALL) -m 644 $(BUILD)/man/r2mpu-client.1 $(DESTDIR)$(mandir)/man1/r2mpu-client.1
	@set -e; for f in $(EXAMPLES); do \
		echo "$(INSTALL) -m 644 $$f $(DESTDIR)$(docdir)/examples/$${f#examples/}"; \
		$(INSTALL) -m 644 $$f $(DESTDIR)$(docdir)/examples/$${f#examples/}; \
	done

uninstall:
	rm -f $(INSTALLED:%=$(DESTDIR)%)
	-rmdir $(EXAMPLE_DIRS:%=$(DESTDIR)$(docdir)/examples/%) $(DESTDIR)$(docdir)/examples \
		$(DESTDIR)$(docdir) 2>/dev/null

# The Debian package, built by dpkg-buildpackage from debian/ in a copy of the tree
# (what git tracks, and files not yet added): build/deb/r2mpu_VERSION_amd64.deb.
# Without git (an exported tree), the whole tree but the build directories.
deb: SHELL := /bin/bash
deb:
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/r2mpu-$(VERSION)
	set -e -o pipefail; if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard | \
			tar --null --ignore-failed-read -T - -cf -; \
	else \
		tar --exclude=./build --exclude=./build-asan --exclude=./build-fuzz -cf - .; \
	fi | tar -xf - -C $(BUILD)/deb/r2mpu-$(VERSION)
	test -f $(BUILD)/deb/r2mpu-$(VERSION)/debian/changelog
	cd $(BUILD)/deb/r2mpu-$(VERSION) && dpkg-buildpackage -b -us -uc
	@ls -l $(BUILD)/deb/*.deb

clean:
	rm -rf $(BUILD) build-asan build-fuzz $(BIN) $(STATIC_BIN)
