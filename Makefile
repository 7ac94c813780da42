# The two commands: `make run` and `make test`. Both install into .venv from the committed uv.lock first
# (exact versions, hash-checked; fast when already current): `run` the runtime set, `test` runtime + dev tools.
PYTHON ?= python3
VENV := .venv
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
BIN := $(VENV)/bin

# uv installs into .venv with the Python found as $(PYTHON), and never downloads an interpreter of its own.
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never

.PHONY: install install-dev lock lock-check run test lint bench browser vendor clean

$(UV): requirements/uv.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --require-hashes --only-binary :all: -r requirements/uv.txt
	touch $@

# `make test` refuses to run on a lock that pyproject.toml has moved away from, instead of resolving anew.
lock-check: $(UV)
	@$(UV) lock --check --quiet 2>/dev/null || { \
		echo "pyproject.toml and uv.lock disagree: run 'make lock' and commit uv.lock" >&2; exit 1; }

lock: $(UV)
	$(UV) lock

install: $(UV)
	$(UV) sync --locked --no-dev --quiet

install-dev: lock-check
	$(UV) sync --locked --quiet

run: install
	$(BIN)/tradeassist run

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

# Browser tests drive Debian's chromium (never a downloaded browser); as root we install it, otherwise they skip.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is missing: browser tests will be skipped (enable them: sudo apt-get install chromium)"; fi

test: install-dev browser lint
	$(BIN)/python -m pytest

# The HTTP benches drive the server with Debian's wrk (a Python client would eat the CPU the server needs);
# as root we install it, otherwise they fall back to an in-process httpx client and say so.
bench: install-dev
	@if command -v wrk >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's wrk for the HTTP benches"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	else echo "wrk is missing: HTTP benches use a slower httpx client (enable: sudo apt-get install wrk)"; fi
	$(BIN)/python -m bench $(BENCH)

# The browser libraries (lightweight-charts for the dashboard, axe-core for the accessibility test) come from the
# npm registry at the versions and sha512 pinned in requirements/vendor-js.txt; the files are committed, so only
# a version bump needs this (edit the pin, run it, commit api/static/vendor and tests/vendor). Needs npm + openssl.
vendor:
	tools/vendor_js.sh requirements/vendor-js.txt

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
