# The two commands: `make run` and `make test`. Both install into .venv first (idempotent, fast when current).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp

.PHONY: install run test lint bench browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

run: install
	$(BIN)/tradeassist run

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# Browser tests drive Debian's chromium (never a downloaded browser); as root we install it, otherwise they skip.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is missing: browser tests will be skipped (enable them: sudo apt-get install chromium)"; fi

test: install browser lint
	$(BIN)/python -m pytest

# The HTTP benches drive the server with Debian's wrk (a Python client would eat the CPU the server needs);
# as root we install it, otherwise they fall back to an in-process httpx client and say so.
bench: install
	@if command -v wrk >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's wrk for the HTTP benches"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	else echo "wrk is missing: HTTP benches use a slower httpx client (enable: sudo apt-get install wrk)"; fi
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
