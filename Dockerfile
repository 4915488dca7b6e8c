# The cachewatch image: the API (`cachewatch serve`, gunicorn workers) and, with another
# command, the Dash app. docker-compose.yaml runs both from it.
#
#     docker build -t cachewatch:0.1.0 .
#     docker run --rm -p 127.0.0.1:8000:8000 -e REDIS_URL=redis://... cachewatch:0.1.0
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # gunicorn's workers share their metrics through files here: docker-compose mounts a
    # tmpfs on it so every start begins empty (stale files would resurrect old counters).
    PROMETHEUS_MULTIPROC_DIR=/run/cachewatch/metrics \
    CACHEWATCH_STATE_DIR=/var/lib/cachewatch

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY pyproject.toml README.md ./
COPY cachewatch ./cachewatch
COPY service ./service
COPY dashboard ./dashboard
COPY loadgen ./loadgen
COPY ttlreview ./ttlreview
# Editable, so the packages run from /app with their data files (the Dash app's assets).
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --home-dir /var/lib/cachewatch --create-home cachewatch \
    && mkdir -p "$PROMETHEUS_MULTIPROC_DIR" \
    && chown cachewatch "$PROMETHEUS_MULTIPROC_DIR"

USER cachewatch
EXPOSE 8000 8050

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]

CMD ["cachewatch", "serve", "--host", "0.0.0.0", "--port", "8000"]
