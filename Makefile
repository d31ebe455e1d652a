# r2mpu: a FastCGI/CGI gateway for multipart uploads to R2, S3 or a local directory.
# `make` builds cgi-bin/r2mpu.fcgi; `make run` serves it with lighttpd; `make test` proves it.

CC       ?= cc
PKGS      = json-c libcrypto
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wformat=2 \
            -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += -lfcgi $(shell pkg-config --libs $(PKGS) 2>/dev/null)

BIN       = cgi-bin/r2mpu.fcgi
BUILD     = build
# Pure modules: no FastCGI, unit-tested directly.
CORE      = errors uri http etag complete_body config store store_fs handlers
APP       = $(CORE) request response route main
OBJS      = $(APP:%=$(BUILD)/%.o)
CORE_OBJS = $(CORE:%=$(BUILD)/%.o)

UNIT      = test_uri test_http test_etag test_complete_body test_config test_handlers
UNIT_BINS = $(UNIT:%=$(BUILD)/tests/%)

PORT     ?= 8080
PYTHON   ?= /usr/bin/python3

# Debian packages the build, `make run` and `make test` need.
DEB_PKGS  = build-essential pkg-config libfcgi-dev libcurl4-openssl-dev libjson-c-dev \
            libxml2-dev libssl-dev check lighttpd curl python3 python3-requests

.PHONY: all deps run test unit blackbox seed clean

all: $(BIN)

$(BIN): $(OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: src/%.c $(wildcard src/*.h) | $(BUILD)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(CORE_OBJS) $(wildcard src/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isrc $(shell pkg-config --cflags check) -o $@ $< $(CORE_OBJS) \
		$(LDLIBS) $(shell pkg-config --libs check)

$(BUILD):
	@mkdir -p $@

# Install what is missing, with apt-get (as root, or through sudo).
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing" $$missing; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

run: deps
	@$(MAKE) --no-print-directory all
	PORT=$(PORT) tests/lighttpd/serve.sh

test: deps
	@$(MAKE) --no-print-directory all unit-bins
	@$(MAKE) --no-print-directory unit blackbox seed

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; CK_FORK=no $$t; done

blackbox: $(BIN)
	$(PYTHON) tests/blackbox/run.py --mode cgi
	$(PYTHON) tests/blackbox/run.py --mode lighttpd

seed: $(BIN)
	$(PYTHON) tests/blackbox/seed_client.py

clean:
	rm -rf $(BUILD) $(BIN)
