# One image for every role: `tradeassist api|engine|discord|slack|run|db upgrade|doctor`.
# Built from the same uv.lock as `make run`: exact versions, every file hash-checked; the base image pinned.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    PATH=/opt/venv/bin:$PATH \
    API_HOST=0.0.0.0 \
    API_PORT=8000 \
    VAR_DIR=/app/var

WORKDIR /app

# An unprivileged user owns the writable state (var/: generated secrets, default SQLite file).
RUN groupadd --system --gid 10001 tradeassist \
 && useradd --system --uid 10001 --gid tradeassist --home-dir /app --shell /usr/sbin/nologin tradeassist

# uv itself, pinned by hash, in a venv of its own.
COPY requirements/uv.txt requirements/uv.txt
RUN python -m venv /opt/uv \
 && /opt/uv/bin/pip install --require-hashes --only-binary :all: -r requirements/uv.txt

# The runtime set from the lock first (cached while only the code changes), then the package itself.
COPY pyproject.toml uv.lock README.md ./
RUN /opt/uv/bin/uv sync --locked --no-dev --no-install-project

COPY core ./core
COPY bots ./bots
COPY api ./api
COPY tradeassist ./tradeassist
RUN /opt/uv/bin/uv sync --locked --no-dev --no-editable \
 && mkdir -p /app/var \
 && chown tradeassist:tradeassist /app/var

USER tradeassist:tradeassist
VOLUME ["/app/var"]
EXPOSE 8000

# Liveness of the API role; compose gives the other roles their own check.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('API_PORT', '8000')}/api/v1/diag/health\", timeout=4)"]

ENTRYPOINT ["tradeassist"]
CMD ["run"]
