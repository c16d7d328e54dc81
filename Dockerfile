# Registry, served by gunicorn. Configured by environment variables alone (see .env.example); the entrypoint waits for
# the database and applies migrations before the server starts. Build: docker build -t registry .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# A fixed uid, so that a volume mounted at /app/var can be given to the same user on every host.
RUN groupadd --system --gid 10001 registry \
    && useradd --system --uid 10001 --gid registry --home-dir /app --no-create-home --shell /usr/sbin/nologin registry

# Dependencies before the code: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN pip install --requirement requirements.txt

COPY . .

# collectstatic imports the settings, which need a key: a throwaway one, for this command only, so that the image holds
# neither a secret nor a generated key file. The code stays owned by root; the service writes only to /app/var.
RUN SECRET_KEY=build-only-not-secret DATA_DIR=/tmp/build python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/build \
    && chmod 0755 bin/docker-entrypoint.sh \
    && mkdir -p /app/var \
    && chown registry:registry /app/var

ENV DATA_DIR=/app/var \
    HOST=0.0.0.0 \
    PORT=8000

USER registry

EXPOSE 8000

# The slim image has no curl. /health answers 503 while the database is down, which urlopen raises as an error.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]

ENTRYPOINT ["/app/bin/docker-entrypoint.sh"]
CMD ["gunicorn", "--config", "gunicorn.conf.py"]
