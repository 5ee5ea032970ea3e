# Two set-up commands do everything on a fresh machine:
#   make demo   run the gateway on embedded defaults (SQLite, a local mail world)
#   make test   run the test suite against real Dovecot, SMTP, gpg, SQLite (and PostgreSQL)
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install system-deps gpg test demo lint bench clean

$(BIN)/.installed: pyproject.toml devtools/pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]' -e ./devtools
	touch $@

install: $(BIN)/.installed

# Debian packages the tests and the local mail world start: Dovecot and gpg; the steering
# group's report is opened in headless Chromium and its PDF rendered with pdftoppm.
SYSTEM_TOOLS := dovecot gpg chromium pdftoppm
system-deps:
	@missing=0; for tool in $(SYSTEM_TOOLS); do \
	  command -v $$tool >/dev/null 2>&1 || [ -x /usr/sbin/$$tool ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q \
	    dovecot-imapd gnupg chromium poppler-utils; \
	fi

test: install system-deps
	$(BIN)/pytest $(PYTEST_ARGS)

# The demo's only system need: gpg for its throw-away OpenPGP keys.
gpg:
	@command -v gpg >/dev/null 2>&1 || { $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q gnupg; }

demo: install gpg
	$(BIN)/mash-gateway demo

lint: install
	$(BIN)/ruff check gateway devtools tests bench
	$(BIN)/mypy gateway devtools/gateway_dev

bench: install system-deps
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/parse.py
	$(BIN)/python bench/referral_labels.py
	$(BIN)/python bench/quotes.py
	$(BIN)/python bench/bounces.py
	$(BIN)/python bench/autoreplies.py
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/crypto.py
	$(BIN)/python bench/scale.py --scales 1
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
