# Sektorbro: `sektorbro serve` on 0.0.0.0:8000 as a non-root user.
# Point SEKTORBRO_DATABASE_URL at PostgreSQL in production and run `sektorbro migrate` once
# per release (e.g. `docker run --rm IMAGE sektorbro migrate`); the default is a SQLite file
# in the /data volume, which `serve` migrates itself.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SEKTORBRO_DATABASE_URL=sqlite:////data/sektorbro.db

RUN useradd --create-home --uid 10001 sektorbro \
    && mkdir /data && chown sektorbro /data

WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
COPY schemas ./schemas
COPY xml_templates ./xml_templates
RUN pip install . && rm -rf /src

USER sektorbro
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]

CMD ["sektorbro", "serve", "--host", "0.0.0.0", "--port", "8000"]
