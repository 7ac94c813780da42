# One image for every role: `tradeassist api|engine|discord|slack|run|db upgrade|doctor`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    API_HOST=0.0.0.0 \
    API_PORT=8000 \
    VAR_DIR=/app/var

WORKDIR /app

# An unprivileged user owns the writable state (var/: generated API key, default SQLite file).
RUN groupadd --system --gid 10001 tradeassist \
 && useradd --system --uid 10001 --gid tradeassist --home-dir /app --shell /usr/sbin/nologin tradeassist

# Dependencies first (cached while only the code changes), then the package itself.
COPY pyproject.toml README.md ./
RUN mkdir -p core bots api tradeassist \
 && touch core/__init__.py bots/__init__.py api/__init__.py tradeassist/__init__.py \
 && pip install . \
 && pip uninstall --yes trading-assistant \
 && rm -rf core bots api tradeassist build *.egg-info

COPY core ./core
COPY bots ./bots
COPY api ./api
COPY tradeassist ./tradeassist
RUN pip install --no-deps . \
 && rm -rf build *.egg-info \
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
